// Package browsercert puts the device certificate where the console
// user's browsers present it to the EHR gateway, and takes it away again:
// the user's NSS database (~/.pki/nssdb, used by Chromium and Chrome, and
// each Firefox profile's database) on Linux, the user's certificate store
// (CurrentUser\My, through a task run in the user's session) on Windows,
// and the login keychain with an identity preference for the gateway on
// macOS. It also writes the browsers' managed policies that select the
// certificate for the gateway's URL without asking the user:
// AutoSelectCertificateForUrls for Chromium, Chrome and Edge, and the
// matching Firefox enterprise policy.
//
// Every store is reached through a program run by absolute path
// (agent/allowcmd), so the command lines are tested on any OS. The Linux
// NSS placement is also tested against Debian's certutil and pk12util and
// end to end in Chromium (internal/gatewaytest); the Windows and macOS
// placements are compiled and their command lines unit-tested only.
//
// The private key reaches a store only through the Key interface: a
// software key (today's file key) is exported into the user's store as a
// PKCS#12 file that lives for one command; a hardware-bound key cannot be
// exported, and a store that cannot reference it in place refuses it with
// ErrKeyNotExportable rather than copy anything.
package browsercert
