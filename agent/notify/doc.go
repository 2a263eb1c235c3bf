// Package notify tells the person at the computer when it falls out of
// compliance, at most once per change of the set of failing controls, with
// the first fix in the text. Linux: notify-send in the console user's
// session (runuser, the user's D-Bus session bus); macOS: a notification
// through osascript in the console user's launchd session; Windows: a
// toast in the console user's session. A service running as SYSTEM cannot
// raise a toast itself, so the agent writes a constant PowerShell script
// and the toast's XML under %ProgramData%\Postern\notify and has the Task
// Scheduler run the script as the signed-in user (schtasks /IT). The text
// only ever travels as escaped XML, never as PowerShell code. When that
// fails, a message box with msg.exe is the fallback (Pro, Enterprise and
// Education editions; not Home).
// Programs run through agent/allowcmd. Portable: the commands are built by
// pure functions tested on any OS.
package notify
