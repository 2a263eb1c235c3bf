//go:build linux

package browsercert

import (
	"bytes"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postern-dev/postern/internal/pkcs11test"
)

// frame is an answer on the key socket: status, big-endian length, body.
func frame(status byte, body []byte) []byte {
	out := []byte{status, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(out[1:], uint32(len(body)))
	return append(out, body...)
}

// lengthPrefixed is the certificate answer's body made of fields.
func lengthPrefixed(fields ...[]byte) []byte {
	var out []byte
	for _, f := range fields {
		out = binary.BigEndian.AppendUint32(out, uint32(len(f)))
		out = append(out, f...)
	}
	return out
}

// fakeAgent answers every certificate request with cert and every
// signature request with sig, raw bytes as given, then hangs up.
func fakeAgent(t *testing.T, cert, sig []byte) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pk-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "key.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			var hdr [5]byte
			if _, err := io.ReadFull(c, hdr[:]); err == nil {
				io.CopyN(io.Discard, c, int64(binary.BigEndian.Uint32(hdr[1:])))
				if hdr[0] == opCertificate {
					c.Write(cert)
				} else {
					c.Write(sig)
				}
			}
			c.Close()
		}
	}()
	return path
}

// buildDriver compiles testdata/pkcs11drive.c with AddressSanitizer.
func buildDriver(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "pkcs11drive")
	cmd := exec.Command("cc", "-g", "-Wall", "-fsanitize=address,undefined", "-I"+filepath.Dir(filepath.Dir(pkcs11test.Header)),
		"-o", out, filepath.Join("testdata", "pkcs11drive.c"), "-ldl")
	if b, err := cmd.CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("build the driver with AddressSanitizer: %v\n%s", err, b)
		}
		t.Skipf("cannot build with AddressSanitizer: %v\n%s", err, b)
	}
	return out
}

// The module reads answers from the agent into the browser's memory: a
// malformed answer (cut short, a field longer than the answer or than
// the module takes, a length past the module's cap, a wrong-sized
// signature, random bytes) must be refused without reading or writing
// out of bounds. Module and driver run under AddressSanitizer.
func TestPKCS11ModuleRefusesMalformedAnswers(t *testing.T) {
	driver := buildDriver(t)
	module := pkcs11test.BuildWith(t, "-g", "-fno-omit-frame-pointer", "-fsanitize=address,undefined")
	good := [][]byte{bytes.Repeat([]byte{'c'}, 300), []byte("subject"), []byte("issuer"), {2, 1, 7},
		bytes.Repeat([]byte{'i'}, 20), []byte("dev-1"), {6, 8, 1, 2, 3, 4, 5, 6, 7, 8}, append([]byte{4, 65}, bytes.Repeat([]byte{'q'}, 65)...)}
	goodCert, goodSig := frame(answerOK, lengthPrefixed(good...)), frame(answerOK, bytes.Repeat([]byte{'s'}, 64))
	tooLong := append([][]byte{bytes.Repeat([]byte{'c'}, 64<<10+1)}, good[1:]...)
	overAnswer := lengthPrefixed(good...)
	binary.BigEndian.PutUint32(overAnswer[len(overAnswer)-4-67:], 1000) // the last field claims more than is left, under the 64 KiB cap
	tests := []struct {
		name        string
		cert, sig   []byte
		wantObjects string
		wantSign    string
	}{
		{"well-formed answers", goodCert, goodSig, "objects 3", "sign ok"},
		{"a header cut short", []byte{answerOK, 0, 0}, []byte{answerOK}, "objects 0", "sign refused"},
		{"an answer shorter than its length", frame(answerOK, lengthPrefixed(good...))[:100], goodSig[:40], "objects 0", "sign refused"},
		{"a length past the module's cap", []byte{answerOK, 0xff, 0xff, 0xff, 0xff, 1, 2}, []byte{answerOK, 0xff, 0xff, 0xff, 0xff}, "objects 0", "sign refused"},
		{"a field longer than what is left", frame(answerOK, overAnswer), goodSig, "objects 0", "sign ok"},
		{"a field of more than 64 KiB", frame(answerOK, lengthPrefixed(tooLong...)), goodSig, "objects 0", "sign ok"},
		{"seven fields of eight", frame(answerOK, lengthPrefixed(good[:7]...)), goodSig, "objects 0", "sign ok"},
		{"an empty answer", frame(answerOK, nil), frame(answerOK, nil), "objects 0", "sign refused"},
		{"a refusal", frame(answerRefused, []byte("refused")), frame(answerRefused, []byte("refused")), "objects 0", "sign refused"},
		{"a signature a byte too long", goodCert, frame(answerOK, bytes.Repeat([]byte{'s'}, 65)), "objects 3", "sign refused"},
		{"a signature a byte short", goodCert, frame(answerOK, bytes.Repeat([]byte{'s'}, 63)), "objects 3", "sign refused"},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 8 {
		junk := make([]byte, rng.IntN(400))
		for j := range junk {
			junk[j] = byte(rng.Uint32())
		}
		if i%2 == 0 {
			junk = frame(answerOK, junk)
		}
		tests = append(tests, struct {
			name        string
			cert, sig   []byte
			wantObjects string
			wantSign    string
		}{"random bytes", junk, junk, "", ""})
	}
	for _, tt := range tests {
		t.Run(tt.name+" read no memory out of bounds", func(t *testing.T) {
			sock := fakeAgent(t, tt.cert, tt.sig)
			cmd := exec.Command(driver, module)
			cmd.Env = append(os.Environ(), "POSTERN_KEY_SOCKET="+sock, "ASAN_OPTIONS=detect_leaks=1:abort_on_error=0", "UBSAN_OPTIONS=halt_on_error=1")
			out, err := cmd.CombinedOutput()
			if err != nil || strings.Contains(string(out), "Sanitizer") || strings.Contains(string(out), "runtime error") {
				t.Fatalf("driver: %v\n%s", err, out)
			}
			for _, want := range []string{tt.wantObjects, tt.wantSign} {
				if want != "" && !strings.Contains(string(out), want+"\n") {
					t.Errorf("driver printed %q, want %q", out, want)
				}
			}
		})
	}
}
