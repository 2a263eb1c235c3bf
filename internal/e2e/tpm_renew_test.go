package e2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	agentcli "github.com/postern-dev/postern/agent/cli"
	"github.com/postern-dev/postern/agent/client"
	"github.com/postern-dev/postern/agent/devkey"
	"github.com/postern-dev/postern/agent/runner"
	"github.com/postern-dev/postern/agent/state"
	wallclock "github.com/postern-dev/postern/internal/clock"
	"github.com/postern-dev/postern/internal/swtpmtest"
	"github.com/postern-dev/postern/internal/testserver"
	pb "github.com/postern-dev/postern/proto"
)

// replaying is a renewal prover that answers every challenge with the
// proof it recorded from an earlier renewal.
type replaying struct {
	inner *devkey.RenewProver
	proof *pb.EnrollProof
}

func (p *replaying) Begin() (*pb.TpmEnroll, error) { return p.inner.Begin() }
func (p *replaying) Prove(*pb.EnrollChallenge) (*pb.EnrollProof, error) {
	_ = p.inner.Close()
	return p.proof, nil
}

// recording keeps the proof it gave.
type recording struct {
	*devkey.RenewProver
	proof *pb.EnrollProof
}

func (p *recording) Prove(ch *pb.EnrollChallenge) (*pb.EnrollProof, error) {
	m, err := p.RenewProver.Prove(ch)
	p.proof = m
	return m, err
}

// TestRenewalReattestsTheTPMKey: when the server asks a TPM device to
// renew, the agent proves again that its key is in the TPM (a fresh AK,
// the server's credential activated, the existing key certified with the
// server's nonce), the key stays where it is (the same blob, the same
// public key), and a proof recorded from an earlier renewal is refused.
func TestRenewalReattestsTheTPMKey(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	clk := &clock{now: wallclock.Now()}
	srv := tpmServer(t, ctx, clk)
	sw := swtpmtest.Start(t, "a", "1")
	stateDir := t.TempDir()
	if _, err := agentcli.Enroll(ctx, agentcli.EnrollOptions{StateDir: stateDir, Server: srv.QUICAddr,
		Token: srv.Cmd(t, "token", "create"), TPM: sw.Socket, Host: snapshot(t, "linux-compliant"), Now: clk.Now}); err != nil {
		t.Fatalf("enroll: %v", err)
	}
	blobBefore, err := os.ReadFile(filepath.Join(stateDir, state.TPMKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	certFile := func() *x509.Certificate {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(stateDir, state.CertFile))
		if err != nil {
			t.Fatal(err)
		}
		block, _ := pem.Decode(b)
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	old := certFile()
	// swtpm has no resource manager: each step has its own connection,
	// whose Close flushes what it loaded.
	tpmFor := func(t *testing.T) *devkey.TPM {
		t.Helper()
		tpm, err := devkey.OpenTPM(sw.Socket)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = tpm.Close() })
		return tpm
	}

	t.Run("the server's renewal request is answered with a re-attested renewal for the same TPM key", func(t *testing.T) {
		tpm := tpmFor(t)
		renewed := make(chan struct{}, 1)
		r, err := runner.New(runner.Config{StateDir: stateDir, Host: snapshot(t, "linux-compliant"), Clock: clk.Now,
			AckTimeout: 20 * time.Second, KeyStore: tpm, OnRenewed: func(context.Context) { renewed <- struct{}{} }})
		if err != nil {
			t.Fatal(err)
		}
		// The device reports every 80 days (a device silent for 90 is
		// retired) until, ten days before expiry, the server asks it to
		// renew as it connects.
		for {
			left := old.NotAfter.Sub(clk.Now())
			if left <= 10*24*time.Hour {
				break
			}
			clk.Advance(min(80*24*time.Hour, left-10*24*time.Hour))
			if res, err := r.Once(ctx); err != nil || res.Ack == nil {
				t.Fatalf("run --once: %v", err)
			}
		}
		select {
		case <-renewed:
		default:
			t.Fatal("no renewal")
		}
		leaf := certFile()
		if bytes.Equal(leaf.Raw, old.Raw) || !leaf.NotAfter.After(old.NotAfter) {
			t.Fatalf("certificate not renewed: not after %v, was %v", leaf.NotAfter, old.NotAfter)
		}
		if !leaf.PublicKey.(*ecdsa.PublicKey).Equal(old.PublicKey) {
			t.Fatal("the renewed certificate is for another key")
		}
		blob, err := os.ReadFile(filepath.Join(stateDir, state.TPMKeyFile))
		if err != nil || !bytes.Equal(blob, blobBefore) {
			t.Fatalf("the key blob changed (%v)", err)
		}
		out := srv.Cmd(t, "audit", "export")
		if !strings.Contains(out, `"key_reattested":true`) {
			t.Errorf("audit has no re-attested renewal:\n%s", out)
		}
	})

	t.Run("a proof recorded from an earlier renewal is refused", func(t *testing.T) {
		tpm := tpmFor(t)
		d, err := state.Open(stateDir)
		if err != nil {
			t.Fatal(err)
		}
		d.UseKeyStore(tpm)
		creds, err := d.LoadCredentials()
		if err != nil {
			t.Fatal(err)
		}
		hk := creds.Key.(*devkey.HardwareKey)
		sess, err := client.Dial(ctx, client.SessionConfig{Addr: srv.QUICAddr, Certificate: creds.Certificate, CA: creds.CA, AgentSecret: creds.AgentSecret, Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		defer sess.Close()
		rec := &recording{RenewProver: &devkey.RenewProver{T: tpm, Key: hk}}
		der, err := sess.RenewAttested(ctx, rec)
		if err != nil {
			t.Fatalf("honest renewal: %v", err)
		}
		if _, err := x509.ParseCertificate(der); err != nil {
			t.Fatal(err)
		}
		_, err = sess.RenewAttested(ctx, &replaying{inner: &devkey.RenewProver{T: tpm, Key: hk}, proof: rec.proof})
		var se *client.ServerError
		if !errors.As(err, &se) || se.Code != "bad_key_attestation" {
			t.Fatalf("replayed proof: got %v, want bad_key_attestation", err)
		}
	})
}

// TestTheLaptopSaysWhatTheServerVerified: a key in the TPM that the
// server cannot verify (it trusts no TPM manufacturer CA) is "software"
// in the agent's status, as in the server's decisions, with the TPM named
// as where the key is: the laptop and the server agree.
func TestTheLaptopSaysWhatTheServerVerified(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	clk := &clock{now: wallclock.Now()}
	srv := testserver.Start(t, ctx, testserver.Options{Policy: policyYAML, Now: clk.Now})
	sw := swtpmtest.Start(t, "a", "1")
	stateDir := t.TempDir()
	id, err := agentcli.Enroll(ctx, agentcli.EnrollOptions{StateDir: stateDir, Server: srv.QUICAddr,
		Token: srv.Cmd(t, "token", "create"), TPM: sw.Socket, Host: snapshot(t, "linux-compliant"), Now: clk.Now})
	if err != nil {
		t.Fatalf("enroll: %v", err)
	}
	var out, errb bytes.Buffer
	agentcli.Main(ctx, agentcli.DefaultFactory(&out, &errb), []string{"status", "--json", "--state", stateDir})
	var st struct {
		Key      string `json:"key"`
		KeyStore string `json:"key_store"`
	}
	if err := json.Unmarshal(out.Bytes(), &st); err != nil {
		t.Fatalf("status --json: %v\n%s%s", err, out.String(), errb.String())
	}
	if st.Key != "software" || st.KeyStore != "tpm" {
		t.Errorf("status says key %q in %q, want software in tpm", st.Key, st.KeyStore)
	}
	tpm, err := devkey.OpenTPM(sw.Socket)
	if err != nil {
		t.Fatal(err)
	}
	defer tpm.Close()
	r, err := runner.New(runner.Config{StateDir: stateDir, Host: snapshot(t, "linux-compliant"), Clock: clk.Now, AckTimeout: 20 * time.Second, KeyStore: tpm})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := r.Once(ctx); err != nil || res.Ack == nil {
		t.Fatalf("report: %v", err)
	}
	d := srv.Decision(t, srv.Cmd(t, "apikey", "create", "--name", "gw"), "device_id="+id.DeviceID)
	if d.Key != st.Key {
		t.Errorf("the server's decision says key %q, the laptop %q", d.Key, st.Key)
	}
}
