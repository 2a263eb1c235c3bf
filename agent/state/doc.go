// Package state owns the agent's state directory: the device key (made on
// the device, PEM, mode 0600, never sent anywhere), the device and CA
// certificates from enrollment, identity.json, state.json (sequence
// numbers, last report and ack, last error) and the policy the server last
// pushed. Every file is written atomically and the directory is mode 0700.
//
// It is portable: the default location is chosen per OS at run time
// (Linux /var/lib/postern, macOS /Library/Application Support/Postern,
// Windows %ProgramData%\Postern). On Windows, POSIX modes are not enforced;
// the service's directory ACLs protect the key.
package state
