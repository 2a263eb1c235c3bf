// Package devkey holds the agent's device key: the private key behind the
// device certificate that the agent presents over mutual TLS.
//
// Where the platform has a key store the key is made inside it and never
// leaves it: a TPM 2.0 on Linux (/dev/tpmrm0, or a device or swtpm socket
// named by --tpm / POSTERN_TPM) through github.com/google/go-attestation,
// which also attests it; and on Windows the Microsoft Platform Crypto
// Provider through CNG (ncrypt.dll), non-exportable, not attested. The
// state directory then keeps only the TPM-wrapped blob (TPM2B public and
// private parts), useless without that TPM, or the CNG key's name. On
// macOS and where no TPM is present the key is a software ECDSA P-256 key
// in a 0600 file, and Kind says so: "software".
//
// Linux is tested against swtpm; the Windows calls are compiled only
// (their inputs are tested on every OS).
//
// Callers use a Key as a crypto.Signer (TLS handshakes, certificate
// requests); nothing outside this package sees private key material.
package devkey
