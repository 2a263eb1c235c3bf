// Package passwordprotected is the `password_protected` control (Policy
// 550.04 C.7.a.i): sign-in needs a password, there is no automatic login,
// and no enabled interactive account is without a password.
//
// Linux: /etc/passwd and /etc/shadow (root only; only whether each
// password field is empty, locked or a hash is kept, never the hash) for
// root and UID_MIN-UID_MAX accounts with a login shell, plus any other
// login-shell account with an empty password; automatic login in GDM
// ([daemon] AutomaticLoginEnable / TimedLoginEnable in daemon.conf or
// custom.conf), LightDM (autologin-user, autologin-guest), SDDM
// ([Autologin] User) and systemd getty drop-ins (agetty --autologin), with
// display-manager.service naming which display manager actually runs;
// pam_unix nullok is recorded as weak evidence only.
//
// Windows: Winlogon AutoAdminLogon and whether DefaultPassword exists (its
// value is never kept), and WMI Win32_UserAccount (local accounts):
// Disabled and PasswordRequired.
//
// macOS: loginwindow's autoLoginUser, /etc/kcpassword, and the local user
// records in /var/db/dslocal (root only): disabled accounts, and whether
// ShadowHashData is the PBKDF2 hash of an empty password (tested in
// memory; the hash is never kept).
//
// Collectors are portable and chosen by the host's GOOS, so that any OS's
// snapshot can be checked anywhere. An unreadable source makes the control
// unknown unless something else already fails it.
package passwordprotected
