// Package consoleuser finds the user signed in at a machine's console —
// the person in front of the screen — and their session, so that controls
// which read per-user settings (screen lock, for instance) know whose
// settings apply while the agent itself runs as root or SYSTEM.
//
// It reads the machine only through checks/host, choosing the method by
// the host's GOOS at run time, so Windows and macOS logic is tested on
// Linux from replayed answers:
//
//   - Linux: systemd-logind's state files (/run/systemd/seats/seat0, then
//     /run/systemd/sessions/*), falling back to `loginctl --json=short`;
//     the uid's name and home from /etc/passwd, then `getent passwd`.
//   - Windows: WMI Win32_ComputerSystem.UserName for the console user, its
//     SID from the LogonUI registry key (confirmed against the user name)
//     or WMI Win32_UserAccount, and the profile folder from ProfileList, so
//     that the user's hive can be read under HKU\<SID>.
//   - macOS: the owner of /dev/console (`stat -f "%Su %u"`), the home
//     folder from `dscl -plist`.
//
// Find returns an error matching ErrNoConsoleUser when nobody is signed in
// at the console (a login window, a headless server, only remote sessions).
package consoleuser
