//go:build linux

package gatewaytest

import (
	"context"
	"crypto"
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/postern-dev/postern/agent/allowcmd"
	"github.com/postern-dev/postern/agent/browsercert"
	agentcli "github.com/postern-dev/postern/agent/cli"
	"github.com/postern-dev/postern/agent/devkey"
	"github.com/postern-dev/postern/agent/runner"
	"github.com/postern-dev/postern/agent/state"
	"github.com/postern-dev/postern/checks/consoleuser"
	"github.com/postern-dev/postern/internal/pkcs11test"
	"github.com/postern-dev/postern/internal/swtpmtest"
	"github.com/postern-dev/postern/internal/testserver"
)

// TestChromiumPresentsTheTPMKey is the gate with a hardware key: the
// agent enrolls with its key in a TPM (Debian's swtpm, attested), the
// placement registers Postern's PKCS#11 module in the user's fresh NSS
// database instead of copying a key, and Chromium opens the EHR behind
// nginx with the certificate from the module's token, every TLS
// signature made in the TPM through the agent's key socket. No PIN is
// asked (headless Chromium could not answer one).
func TestChromiumPresentsTheTPMKey(t *testing.T) {
	bin := findNginx(t)
	need(t, "apt-get install -y libnss3-tools (.ci/run does)", "modutil")
	module := pkcs11test.Build(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	port := freePort(t)
	gateway := fmt.Sprintf("https://localhost:%d", port)
	srv := testserver.Start(t, ctx, testserver.Options{Policy: policyYAML, TrustedProxies: []string{"127.0.0.1/32"}, GatewayURL: gateway,
		TPMEKCAs: swtpmtest.LoadCA(t, "a").PEM})
	sw := swtpmtest.Start(t, "a", "1")

	stateDir := t.TempDir()
	id, err := agentcli.Enroll(ctx, agentcli.EnrollOptions{StateDir: stateDir, Server: srv.QUICAddr, Token: srv.Cmd(t, "token", "create"),
		TPM: sw.Socket, Host: testserver.Snapshot(t, "linux-compliant")})
	if err != nil {
		t.Fatalf("enroll: %v", err)
	}
	if id.Key != devkey.Hardware {
		t.Fatalf("enrolled with a %s key, want hardware", id.Key)
	}
	// swtpm serves one connection: the agent's runner and its key socket
	// share the one TPM, as in the service.
	tpm, err := devkey.OpenTPM(sw.Socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tpm.Close() })
	r, err := runner.New(runner.Config{StateDir: stateDir, Host: testserver.Snapshot(t, "linux-compliant"), AckTimeout: 20 * time.Second, KeyStore: tpm})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := r.Once(ctx); err != nil || res.Ack == nil {
		t.Fatalf("report: %v", err)
	}

	dir, err := state.Open(stateDir)
	if err != nil {
		t.Fatal(err)
	}
	dir.UseKeyStore(tpm)
	ident, err := browsercert.FromState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ident.Key.Exportable(); ok {
		t.Fatal("the TPM key reads as exportable")
	}
	home, etc := t.TempDir(), t.TempDir()
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	uid := strconv.Itoa(os.Getuid())
	m := &browsercert.Manager{
		Store:    browsercert.NSS{Run: allowcmd.Exec{GOOS: "linux"}, SelfUID: uid, TempDir: t.TempDir(), Module: module},
		Policies: browsercert.FilePolicies{Root: etc},
		ConsoleUser: func(context.Context) (consoleuser.User, error) {
			return consoleuser.User{Name: me.Username, ID: uid, Home: home}, nil
		},
		StateDir: stateDir,
	}
	if err := m.Sync(ctx, ident); err != nil {
		t.Fatalf("place: %v", err)
	}
	sockDir, err := os.MkdirTemp("", "pk-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	signer := &counting{Signer: ident.Key}
	var refuseAll atomic.Bool
	ks := &browsercert.KeyServer{Path: filepath.Join(sockDir, "key.sock"), Key: signer,
		Cert: func() (*x509.Certificate, error) {
			id, err := browsercert.FromState(dir)
			return id.Cert, err
		},
		Allow: func(uid int) bool { return !refuseAll.Load() && m.Placed(uid) }}
	kctx, kcancel := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- ks.Serve(kctx) }()
	t.Cleanup(func() {
		kcancel()
		if err := <-served; err != nil {
			t.Errorf("key server: %v", err)
		}
	})

	db := filepath.Join(home, ".pki", "nssdb")
	t.Run("the user's database holds the module, and neither key nor certificate copy", func(t *testing.T) {
		out, err := exec.Command("modutil", "-dbdir", "sql:"+db, "-list").CombinedOutput()
		if err != nil || !strings.Contains(string(out), browsercert.ModuleName) {
			t.Errorf("modutil -list (%v):\n%s", err, out)
		}
		out, _ = exec.Command("certutil", "-K", "-d", "sql:"+db).CombinedOutput()
		if strings.Contains(string(out), "ec ") {
			t.Errorf("certutil -K lists a key in the internal token:\n%s", out)
		}
		out, _ = exec.Command("certutil", "-L", "-d", "sql:"+db).CombinedOutput()
		if strings.Contains(string(out), id.DeviceID) {
			t.Errorf("certutil -L lists a copy of the certificate:\n%s", out)
		}
	})

	certFile, keyFile, _ := gatewayCert(t, t.TempDir())
	conf := substitute(t, nginxBlock(t), map[string]string{
		"LISTEN": fmt.Sprintf("127.0.0.1:%d", port), "SERVER_CERT": certFile, "SERVER_KEY": keyFile,
		"DEVICE_CA": srv.CAFile(), "POSTERN": srv.HTTPSAddr, "POSTERN_NAME": "localhost", "POSTERN_CA": srv.CAFile(),
		"UPSTREAM": upstream(t), "PAGES": pagesDir(t),
	})
	startNginx(t, ctx, bin, conf, port)
	launcher, env := policyChromium(t, filepath.Join(etc, "etc", "chromium"))
	env = append(env, "POSTERN_KEY_SOCKET="+ks.Path)

	t.Run("Chromium opens the EHR with the certificate whose key is in the TPM", func(t *testing.T) {
		p := loadPage(t, chromiumAt(t, launcher, home, env), gateway+"/ehr/chart")
		if p.status != 200 || !strings.Contains(p.text, "upstream served device "+id.DeviceID) {
			t.Fatalf("status %d, page %q", p.status, p.text)
		}
		if signer.n.Load() == 0 {
			t.Fatal("the handshake made no signature with the TPM key")
		}
	})

	t.Run("a user the agent does not serve the key to gets no EHR page", func(t *testing.T) {
		refuseAll.Store(true)
		before := signer.n.Load()
		p := loadPage(t, chromiumAt(t, launcher, home, env), gateway+"/ehr/chart")
		if p.status == 200 || strings.Contains(p.text, "upstream served") || signer.n.Load() != before {
			t.Fatalf("status %d, %d signatures, page %q", p.status, signer.n.Load()-before, p.text)
		}
	})
}

// counting counts a key's signatures.
type counting struct {
	crypto.Signer
	n atomic.Int32
}

func (c *counting) Sign(r io.Reader, d []byte, o crypto.SignerOpts) ([]byte, error) {
	c.n.Add(1)
	return c.Signer.Sign(r, d, o)
}
