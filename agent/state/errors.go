package state

import "errors"

// Sentinel errors, compared with errors.Is.
var (
	// ErrNotEnrolled: identity.json does not exist; run `postern-agent enroll`.
	ErrNotEnrolled = errors.New("this device is not enrolled")
	// ErrAlreadyEnrolled: an identity exists and enroll was not forced.
	ErrAlreadyEnrolled = errors.New("this device is already enrolled (use enroll --force to replace its identity)")
	// ErrKeyPermissions: the device key is readable by group or others.
	ErrKeyPermissions = errors.New("device key is accessible by group or others")
	// ErrNoTPM: the device key is in a TPM, and none was opened.
	ErrNoTPM = errors.New("the device key is in a TPM, and no TPM is open (--tpm / POSTERN_TPM)")
	// ErrCorrupt: a state file exists but cannot be decoded.
	ErrCorrupt = errors.New("state file is corrupt")
)
