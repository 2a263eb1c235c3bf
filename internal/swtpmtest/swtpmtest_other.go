//go:build !linux

package swtpmtest

import (
	"crypto/x509"
	"testing"
)

// TPM is a running swtpm.
type TPM struct {
	Socket string
	CA     string
}

// CA is a throwaway manufacturer CA.
type CA struct {
	Root, Intermediate *x509.Certificate
	PEM                []byte
}

// LoadCA skips: swtpm fixtures run on Linux only.
func LoadCA(t testing.TB, ca string) *CA {
	t.Skip("swtpm fixtures run on Linux only")
	return nil
}

// Start skips: swtpm fixtures run on Linux only.
func Start(t testing.TB, ca, name string) *TPM {
	t.Skip("swtpm fixtures run on Linux only")
	return nil
}
