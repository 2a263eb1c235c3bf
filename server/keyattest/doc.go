// Package keyattest checks, at enrollment, that a device key lives in a
// TPM 2.0: the endorsement key (EK) certificate chains to a manufacturer
// CA the server's configuration trusts; credential activation proves the
// attestation key (AK) is on the TPM that holds that EK; and TPM2_Certify
// by the AK, carrying the server's fresh nonce, proves the device key was
// made in that TPM and can never leave it (fixedTPM, fixedParent,
// sensitiveDataOrigin). The TPM 2.0 structures are decoded and checked
// by github.com/google/go-attestation, not by hand.
//
// Server side; portable Go, no TPM needed.
package keyattest
