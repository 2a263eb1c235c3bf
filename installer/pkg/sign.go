package pkg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// signTimeout bounds one osslsigncode run.
const signTimeout = 2 * time.Minute

// Signer Authenticode-signs Windows files with osslsigncode.
type Signer struct {
	// Cert is a PEM certificate (chain) with Key, or a PKCS#12 file
	// (.p12, .pfx) holding both.
	Cert string
	// Key is the PEM private key for a PEM Cert.
	Key string
	// PassFile holds the key's or the PKCS#12 file's password.
	PassFile string
	// Tool is the osslsigncode executable; "osslsigncode" on PATH when
	// empty.
	Tool string
	// TimestampURL, when set, countersigns with an RFC 3161 server so
	// that signatures outlive the certificate.
	TimestampURL string
}

// Configured reports whether a certificate is set.
func (s Signer) Configured() bool { return s.Cert != "" || s.Key != "" }

func (s Signer) tool() string {
	if s.Tool != "" {
		return s.Tool
	}
	return "osslsigncode"
}

func isPKCS12(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	return ext == ".p12" || ext == ".pfx"
}

// args returns the key options of osslsigncode sign.
func (s Signer) args() ([]string, error) {
	switch {
	case s.Cert == "":
		return nil, errors.New("sign: SIGN_KEY is set without SIGN_CERT")
	case isPKCS12(s.Cert) && s.Key == "":
		a := []string{"-pkcs12", s.Cert}
		if s.PassFile != "" {
			a = append(a, "-readpass", s.PassFile)
		}
		return a, nil
	case s.Key == "":
		return nil, errors.New("sign: a PEM SIGN_CERT needs SIGN_KEY (or use a .p12/.pfx file)")
	}
	a := []string{"-certs", s.Cert, "-key", s.Key}
	if s.PassFile != "" {
		a = append(a, "-readpass", s.PassFile)
	}
	return a, nil
}

// Sign signs path in place with an SHA-256 Authenticode signature whose
// description is name.
func (s Signer) Sign(ctx context.Context, path, name string) error {
	keyArgs, err := s.args()
	if err != nil {
		return err
	}
	out := path + ".signed"
	defer os.Remove(out)
	args := append([]string{"sign"}, keyArgs...)
	args = append(args, "-h", "sha256", "-n", name, "-i", Homepage)
	if s.TimestampURL != "" {
		args = append(args, "-ts", s.TimestampURL)
	}
	args = append(args, "-in", path, "-out", out)
	if err := s.run(ctx, args...); err != nil {
		return fmt.Errorf("sign %s: %w", filepath.Base(path), err)
	}
	if err := os.Rename(out, path); err != nil {
		return fmt.Errorf("sign %s: %w", filepath.Base(path), err)
	}
	return nil
}

// Verify runs osslsigncode verify on path and returns its report. A
// self-signed certificate is not trusted, so the command's exit status is
// not an error here: callers read the report (see SignatureReport).
func (s Signer) Verify(ctx context.Context, path string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, signTimeout)
	defer cancel()
	var b bytes.Buffer
	cmd := exec.CommandContext(ctx, s.tool(), "verify", "-in", path)
	cmd.Stdout, cmd.Stderr = &b, &b
	err := cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return b.String(), fmt.Errorf("verify %s: %w", filepath.Base(path), err)
	}
	return b.String(), nil
}

func (s Signer) run(ctx context.Context, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, signTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, s.tool(), args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", s.tool(), err, bytes.TrimSpace(out))
	}
	return nil
}
