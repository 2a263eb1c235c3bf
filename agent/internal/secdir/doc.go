// Package secdir restricts who may read the agent's folders. On Unix the
// file modes (0700 for the state directory) do it and this package does
// nothing. On Windows a folder under %ProgramData% inherits an ACL that
// lets every local user read it, which would expose the device's private
// key; Restrict replaces it with a protected ACL: full control for
// SYSTEM, Administrators and the user running the agent, and optionally
// read access for local users (the notification folder, whose script the
// signed-in user's task runs). It also refuses a folder owned by someone
// else, which a local user could have planted before the agent made it.
package secdir
