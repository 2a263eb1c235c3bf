//go:build linux

package browsercert

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/postern-dev/postern/agent/allowcmd"
	"github.com/postern-dev/postern/internal/pkcs11test"
)

// hardware is a key the placement may not export, as a TPM key.
type hardware struct{ crypto.Signer }

func (hardware) Exportable() (crypto.PrivateKey, bool) { return nil, false }
func (hardware) Reference() string                     { return "" }

// signs counts the key's signatures.
type countingSigner struct {
	crypto.Signer
	n atomic.Int32
}

func (c *countingSigner) Sign(r io.Reader, d []byte, o crypto.SignerOpts) ([]byte, error) {
	c.n.Add(1)
	return c.Signer.Sign(r, d, o)
}

// startKeyServer serves id's key on a socket in a short temporary
// folder (socket paths are limited to 108 bytes) and returns its path.
func startKeyServer(t *testing.T, id Identity, allow func(int) bool) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pk-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s := &KeyServer{Path: filepath.Join(dir, "key.sock"), Key: id.Key, Cert: func() (*x509.Certificate, error) { return id.Cert, nil }, Allow: allow}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	for range 200 {
		if c, err := net.Dial("unix", s.Path); err == nil {
			c.Close()
			return s.Path
		}
		select {
		case err := <-done:
			t.Fatalf("serve: %v", err)
		default:
		}
		exec.Command("sleep", "0.01").Run()
	}
	t.Fatal("the key socket did not appear")
	return ""
}

// TestNSSUsesTheKeyThroughThePKCS11Module registers the module, as
// Place does for a TPM key, in a fresh NSS database and has Debian's
// certutil find the certificate on the module's token and sign a request
// with its key: every signature comes from the agent's key, and the
// database holds no key of its own.
func TestNSSUsesTheKeyThroughThePKCS11Module(t *testing.T) {
	needNSSTools(t)
	module := pkcs11test.Build(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer := &countingSigner{Signer: key}
	id := testIdentity(t, key, 7)
	id.Key = hardware{signer}
	sock := startKeyServer(t, id, func(uid int) bool { return uid == os.Getuid() })

	home := t.TempDir()
	u, uid := self(t, home)
	store := NSS{Run: allowcmd.Exec{GOOS: "linux"}, SelfUID: uid, TempDir: t.TempDir(), Module: module}
	ctx := context.Background()
	if err := store.Place(ctx, u, id); err != nil {
		t.Fatalf("place: %v", err)
	}
	db := filepath.Join(home, ".pki", "nssdb")
	certutil := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("/usr/bin/certutil", append(args, "-d", "sql:"+db)...)
		cmd.Env = append(os.Environ(), "POSTERN_KEY_SOCKET="+sock)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("certutil %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	t.Run("the certificate is on the module's token", func(t *testing.T) {
		out := certutil("-L", "-h", ModuleName)
		if !strings.Contains(out, ModuleName+":dev-7f3a") {
			t.Fatalf("certutil -L -h %q:\n%s", ModuleName, out)
		}
	})
	t.Run("a request signed by the token's key verifies with the device key", func(t *testing.T) {
		attrs, err := Attributes(id.Cert, key.Public())
		if err != nil {
			t.Fatal(err)
		}
		before := signer.n.Load()
		out := certutil("-R", "-s", "CN=probe", "-h", ModuleName, "-k", hex.EncodeToString(attrs[4]), "-a")
		block, _ := pem.Decode([]byte(out[strings.Index(out, "-----BEGIN"):]))
		if block == nil {
			t.Fatalf("no request in:\n%s", out)
		}
		csr, err := x509.ParseCertificateRequest(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if err := csr.CheckSignature(); err != nil {
			t.Fatalf("signature: %v", err)
		}
		if !key.PublicKey.Equal(csr.PublicKey) || signer.n.Load() != before+1 {
			t.Fatalf("request for %v signed %d times by the device key", csr.PublicKey, signer.n.Load()-before)
		}
	})
	t.Run("the database holds no key of its own", func(t *testing.T) {
		if n := keys(t, db); n != 0 {
			t.Fatalf("the internal token holds %d keys", n)
		}
	})
	t.Run("remove unregisters the module", func(t *testing.T) {
		if err := store.Remove(ctx, u, id.DeviceID); err != nil {
			t.Fatal(err)
		}
		out, _ := exec.Command("/usr/bin/modutil", "-dbdir", "sql:"+db, "-list").CombinedOutput()
		if strings.Contains(string(out), ModuleName) {
			t.Fatalf("modutil -list after remove:\n%s", out)
		}
	})
}

// ask sends one request to the key socket and returns the answer.
func ask(t *testing.T, sock string, op byte, payload []byte) (byte, []byte) {
	t.Helper()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := append([]byte{op, 0, 0, 0, 0}, payload...)
	binary.BigEndian.PutUint32(msg[1:], uint32(len(payload)))
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	hdr := make([]byte, 5)
	if _, err := io.ReadFull(c, hdr); err != nil {
		t.Fatal(err)
	}
	body := make([]byte, binary.BigEndian.Uint32(hdr[1:]))
	if _, err := io.ReadFull(c, body); err != nil {
		t.Fatal(err)
	}
	return hdr[0], body
}

func TestKeyServerRefusals(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer := &countingSigner{Signer: key}
	id := testIdentity(t, key, 7)
	id.Key = hardware{signer}
	digest := bytes.Repeat([]byte{1}, 32)
	t.Run("a user the certificate was not placed for gets neither certificate nor signature", func(t *testing.T) {
		sock := startKeyServer(t, id, func(uid int) bool { return uid != os.Getuid() })
		for _, op := range []byte{opCertificate, opSign} {
			if status, body := ask(t, sock, op, digest); status != answerRefused || bytes.Contains(body, id.Cert.Raw) {
				t.Errorf("op %c: status %d, %d bytes", op, status, len(body))
			}
		}
		if signer.n.Load() != 0 {
			t.Errorf("the key signed %d times", signer.n.Load())
		}
	})
	sock := startKeyServer(t, id, func(uid int) bool { return uid == os.Getuid() })
	tests := []struct {
		name    string
		op      byte
		payload []byte
	}{
		{"a digest of no known hash's length", opSign, bytes.Repeat([]byte{1}, 31)},
		{"a request longer than any digest", opSign, bytes.Repeat([]byte{1}, 65)},
		{"an unknown operation", 'X', nil},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is refused", func(t *testing.T) {
			if status, _ := ask(t, sock, tt.op, tt.payload); status != answerRefused {
				t.Fatalf("status %d", status)
			}
		})
	}
	t.Run("a signature is r||s and verifies", func(t *testing.T) {
		status, sig := ask(t, sock, opSign, digest)
		if status != answerOK || len(sig) != 64 {
			t.Fatalf("status %d, %d bytes", status, len(sig))
		}
		var r, s = new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		if !ecdsa.Verify(&key.PublicKey, digest, r, s) {
			t.Fatal("signature does not verify")
		}
	})
}
