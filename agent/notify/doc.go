// Package notify tells the person at the computer when it falls out of
// compliance, at most once per change of the set of failing controls, with
// the first fix in the text. Linux: notify-send in the console user's
// session (runuser, the user's D-Bus session bus); macOS: a notification
// through osascript in the console user's launchd session; Windows: a
// message box on the console session with msg.exe (a best effort: msg.exe
// exists on Pro, Enterprise and Education editions, not on Home, and a
// service cannot raise a toast without a helper in the user's session).
// Programs run through agent/allowcmd. Portable: the commands are built by
// pure functions tested on any OS.
package notify
