//go:build linux

package swtpmtest

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TPM is a running swtpm.
type TPM struct {
	// Socket is the TPM command socket, as --tpm / POSTERN_TPM take it.
	Socket string
	// CA names the CA that issued its EK certificate.
	CA string
}

// CA is a throwaway manufacturer CA made by swtpm_localca.
type CA struct {
	// Root is the self-signed root; Intermediate issued the EK
	// certificates.
	Root, Intermediate *x509.Certificate
	// PEM holds both, as a server's trusted EK CA file.
	PEM []byte
}

func cacheDir() string {
	base := os.Getenv("POSTERN_CACHE")
	if base == "" {
		base = "/var/cache/postern"
	}
	return filepath.Join(base, "swtpm")
}

func need(t testing.TB) {
	t.Helper()
	for _, tool := range []string{"swtpm", "swtpm_setup", "swtpm_localca"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not installed (apt-get install swtpm swtpm-tools); .ci/run installs it", tool)
			}
			t.Skipf("%s is not installed (apt-get install swtpm swtpm-tools)", tool)
		}
	}
}

// lock serialises manufacturing across test processes.
func lock(t testing.TB, dir string) func() {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	return func() { _ = f.Close() }
}

// manufacture returns the cached TPM state for (ca, name), making it
// (and the CA) when missing. About 3 s and 30 KB per TPM, once.
func manufacture(t testing.TB, ca, name string) (stateDir string, caDir string) {
	t.Helper()
	need(t)
	root := cacheDir()
	defer lock(t, root)()
	caDir = filepath.Join(root, "ca-"+ca)
	stateDir = filepath.Join(root, "tpm-"+ca+"-"+name)
	if _, err := os.Stat(filepath.Join(stateDir, "tpm2-00.permall")); err == nil {
		return stateDir, caDir
	}
	if err := os.MkdirAll(caDir, 0o700); err != nil {
		t.Fatal(err)
	}
	work, err := os.MkdirTemp(root, "make-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(work)
	files := map[string]string{
		"localca.conf":    fmt.Sprintf("statedir = %[1]s\nsigningkey = %[1]s/signkey.pem\nissuercert = %[1]s/issuercert.pem\ncertserial = %[1]s/certserial\n", caDir),
		"localca.options": "--platform-manufacturer Postern\n--platform-version 2.1\n--platform-model swtpmtest\n",
	}
	files["setup.conf"] = fmt.Sprintf("create_certs_tool = /usr/bin/swtpm_localca\ncreate_certs_tool_config = %[1]s/localca.conf\ncreate_certs_tool_options = %[1]s/localca.options\nactive_pcr_banks = sha256\n", work)
	for n, body := range files {
		if err := os.WriteFile(filepath.Join(work, n), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	state := filepath.Join(work, "state")
	if err := os.Mkdir(state, 0o700); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("swtpm_setup", "--tpm2", "--tpmstate", state, "--create-ek-cert",
		"--config", filepath.Join(work, "setup.conf"), "--overwrite").CombinedOutput()
	if err != nil {
		t.Fatalf("swtpm_setup: %v\n%s", err, out)
	}
	_ = os.RemoveAll(stateDir)
	if err := os.Rename(state, stateDir); err != nil {
		t.Fatal(err)
	}
	return stateDir, caDir
}

// LoadCA returns the CA named ca, making it (with one TPM) when missing.
func LoadCA(t testing.TB, ca string) *CA {
	t.Helper()
	_, dir := manufacture(t, ca, "1")
	rootPEM, err := os.ReadFile(filepath.Join(dir, "swtpm-localca-rootca-cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	interPEM, err := os.ReadFile(filepath.Join(dir, "issuercert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	c := &CA{Root: parse(t, rootPEM), Intermediate: parse(t, interPEM)}
	c.PEM = append(append([]byte{}, rootPEM...), interPEM...)
	return c
}

func parse(t testing.TB, b []byte) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatal("no PEM block in CA file")
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Start runs a fresh copy of TPM name, whose EK certificate the CA ca
// issued, until the test ends.
func Start(t testing.TB, ca, name string) *TPM {
	t.Helper()
	src, _ := manufacture(t, ca, name)
	// Unix socket paths are limited to 108 bytes: keep them short.
	dir, err := os.MkdirTemp("", "swtpm-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := copyDir(src, dir); err != nil {
		t.Fatal(err)
	}
	sock, ctrl := filepath.Join(dir, "tpm.sock"), filepath.Join(dir, "ctrl.sock")
	cmd := exec.Command("swtpm", "socket", "--tpm2",
		"--tpmstate", "dir="+dir,
		"--server", "type=unixio,path="+sock,
		"--ctrl", "type=unixio,path="+ctrl,
		"--flags", "not-need-init,startup-clear")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	// A test binary killed by its timeout runs no cleanup: the TPM dies
	// with it instead of lingering.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start swtpm: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	for i := 0; ; i++ {
		c, err := net.Dial("unix", sock)
		if err == nil {
			_ = c.Close()
			break
		}
		select {
		case err := <-done:
			t.Fatalf("swtpm exited: %v\n%s", err, stderr.String())
		default:
		}
		if i > 500 {
			t.Fatalf("swtpm socket %s did not appear: %v", sock, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return &TPM{Socket: sock, CA: ca}
}

func copyDir(src, dst string) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o600); err != nil {
			return err
		}
	}
	return nil
}
