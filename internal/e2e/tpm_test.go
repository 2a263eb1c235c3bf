package e2e

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
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
	"github.com/postern-dev/postern/checks"
	wallclock "github.com/postern-dev/postern/internal/clock"
	"github.com/postern-dev/postern/internal/swtpmtest"
	"github.com/postern-dev/postern/internal/testserver"
	pb "github.com/postern-dev/postern/proto"
)

// tpmServer is a server trusting the throwaway TPM manufacturer CA "a".
func tpmServer(t *testing.T, ctx context.Context, clk *clock) *testserver.Server {
	t.Helper()
	return testserver.Start(t, ctx, testserver.Options{Policy: policyYAML, Now: clk.Now,
		TPMEKCAs: swtpmtest.LoadCA(t, "a").PEM})
}

func openTPM(t *testing.T, sw *swtpmtest.TPM) *devkey.TPM {
	t.Helper()
	tpm, err := devkey.OpenTPM(sw.Socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tpm.Close() })
	return tpm
}

func TestAnAgentWithATPMEnrollsWithAnAttestedHardwareKey(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	clk := &clock{now: wallclock.Now()}
	srv := tpmServer(t, ctx, clk)
	sw := swtpmtest.Start(t, "a", "1")
	stateDir := t.TempDir()
	id, err := agentcli.Enroll(ctx, agentcli.EnrollOptions{StateDir: stateDir, Server: srv.QUICAddr,
		Token: srv.Cmd(t, "token", "create"), TPM: sw.Socket, Host: snapshot(t, "linux-compliant"), Now: clk.Now})
	if err != nil {
		t.Fatalf("enroll: %v", err)
	}
	if id.Key != devkey.Hardware {
		t.Errorf("identity says key %q, want hardware", id.Key)
	}

	t.Run("no PEM private key is left in the state directory", func(t *testing.T) {
		err := filepath.WalkDir(stateDir, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if bytes.Contains(b, []byte("PRIVATE KEY")) {
				t.Errorf("%s holds a PEM private key", path)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(stateDir, state.TPMKeyFile)); err != nil {
			t.Errorf("no TPM key blob: %v", err)
		}
	})

	t.Run("status --json says hardware", func(t *testing.T) {
		var out, errb bytes.Buffer
		agentcli.Main(ctx, agentcli.DefaultFactory(&out, &errb), []string{"status", "--json", "--state", stateDir})
		var st struct {
			Key string `json:"key"`
		}
		if err := json.Unmarshal(out.Bytes(), &st); err != nil {
			t.Fatalf("status --json: %v\n%s%s", err, out.String(), errb.String())
		}
		if st.Key != "hardware" {
			t.Fatalf("status key %q, want hardware", st.Key)
		}
	})

	t.Run("the agent reports over mutual TLS signed in the TPM", func(t *testing.T) {
		tpm := openTPM(t, sw)
		r, err := runner.New(runner.Config{StateDir: stateDir, Host: snapshot(t, "linux-compliant"), Clock: clk.Now,
			AckTimeout: 20 * time.Second, KeyStore: tpm})
		if err != nil {
			t.Fatal(err)
		}
		res, err := r.Once(ctx)
		if err != nil || res.Ack == nil {
			t.Fatalf("run --once: %v %+v", err, res)
		}
	})

	t.Run("renewal keeps the TPM key and refuses any other", func(t *testing.T) {
		tpm := openTPM(t, sw)
		dir, err := state.Open(stateDir)
		if err != nil {
			t.Fatal(err)
		}
		dir.UseKeyStore(tpm)
		creds, err := dir.LoadCredentials()
		if err != nil {
			t.Fatal(err)
		}
		sess, err := client.Dial(ctx, client.SessionConfig{Addr: srv.QUICAddr, Certificate: creds.Certificate, CA: creds.CA, AgentSecret: creds.AgentSecret, Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		defer sess.Close()
		_, err = sess.Renew(ctx, softwareCSR(t))
		var se *client.ServerError
		if !errors.As(err, &se) || se.Code != "bad_key_attestation" || !strings.Contains(se.Message, "must keep that key") {
			t.Fatalf("renewal for a software key: got %v, want bad_key_attestation", err)
		}
		csr, err := devkey.CSR(creds.Key)
		if err != nil {
			t.Fatal(err)
		}
		der, err := sess.Renew(ctx, csr)
		if err != nil {
			t.Fatalf("renewal for the TPM key: %v", err)
		}
		if err := dir.SaveRenewedCertificate(der, clk.Now()); err != nil {
			t.Fatalf("save renewed certificate: %v", err)
		}
	})

	t.Run("the gateway's decision says hardware", func(t *testing.T) {
		d := srv.Decision(t, srv.Cmd(t, "apikey", "create", "--name", "gw"), "device_id="+id.DeviceID)
		if d.Key != "hardware" || !d.Allow {
			t.Fatalf("got %+v, want an allow with key hardware", d)
		}
	})

	t.Run("the key blob copied to another TPM cannot report", func(t *testing.T) {
		other := openTPM(t, swtpmtest.Start(t, "a", "2"))
		dir, err := state.Open(stateDir)
		if err != nil {
			t.Fatal(err)
		}
		dir.UseKeyStore(other)
		if _, err = dir.LoadCredentials(); err == nil || !strings.Contains(err.Error(), "another TPM") {
			t.Fatalf("got %v, want the key refused by the other TPM", err)
		}
	})

	t.Run("without a TPM the hardware key is not silently replaced", func(t *testing.T) {
		_, err := agentcli.Enroll(ctx, agentcli.EnrollOptions{StateDir: stateDir, Server: srv.QUICAddr,
			Token: srv.Cmd(t, "token", "create"), TPM: filepath.Join(t.TempDir(), "missing.sock"), Host: snapshot(t, "linux-compliant"), Now: clk.Now, Force: true})
		if err == nil {
			t.Fatal("enrollment with a named TPM that is not there fell back to a software key")
		}
	})
}

// prover wraps the honest TPM prover to tamper with one step.
type prover struct {
	inner     *devkey.Prover
	begin     func(*pb.TpmEnroll)
	challenge func(*pb.EnrollChallenge)
	proof     func(*pb.EnrollProof, crypto.Signer)
}

func (p *prover) Begin() (*pb.TpmEnroll, error) {
	m, err := p.inner.Begin()
	if err == nil && p.begin != nil {
		p.begin(m)
	}
	return m, err
}

func (p *prover) Prove(ch *pb.EnrollChallenge) (*pb.EnrollProof, error) {
	if p.challenge != nil {
		p.challenge(ch)
	}
	m, err := p.inner.Prove(ch)
	if err == nil && p.proof != nil {
		p.proof(m, p.inner.Key())
	}
	if k := p.inner.Key(); k != nil {
		_ = k.Close()
	}
	return m, err
}

func softwareCSR(t *testing.T) []byte {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, k)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// bigCSR is a well-formed request, signed by the TPM key, past the
// server's size limit.
func bigCSR(t *testing.T, k crypto.Signer) []byte {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}, Value: make([]byte, 20<<10)}},
	}, k)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestBadTPMAttestationsAreRefusedWithoutSpendingTheToken(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	clk := &clock{now: wallclock.Now()}
	srv := tpmServer(t, ctx, clk)
	apiKey := srv.Cmd(t, "apikey", "create", "--name", "gateway")
	// Another device, enrolled and compliant before the attacks.
	bystander := t.TempDir()
	other, err := agentcli.Enroll(ctx, agentcli.EnrollOptions{StateDir: bystander, Server: srv.QUICAddr,
		Token: srv.Cmd(t, "token", "create"), TPM: agentcli.TPMOff, Host: snapshot(t, "linux-compliant"), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	report(t, ctx, bystander, snapshot(t, "linux-compliant"), clk)
	before := srv.Decision(t, apiKey, "device_id="+other.DeviceID)
	if before.Key != "software" {
		t.Fatalf("a software-key device's decision says key %q", before.Key)
	}
	var out, errb bytes.Buffer
	agentcli.Main(ctx, agentcli.DefaultFactory(&out, &errb), []string{"status", "--json", "--state", bystander})
	if !strings.Contains(out.String(), `"key": "software"`) {
		t.Fatalf("status --json of a software-key device lacks key software:\n%s", out.String())
	}

	tpmA := openTPM(t, swtpmtest.Start(t, "a", "1"))
	tpmB := openTPM(t, swtpmtest.Start(t, "b", "1"))
	dev := checks.Device{Hostname: "laptop-7", OS: "linux", OSName: "Debian", OSVersion: "12", Arch: "amd64"}
	tests := []struct {
		name     string
		tpm      *devkey.TPM
		tamper   func(*prover)
		code     string
		inReason string
	}{
		{"a malformed attestation", tpmA, func(p *prover) { p.begin = func(m *pb.TpmEnroll) { m.AkPublic = []byte("garbage") } },
			"bad_key_attestation", "attestation key"},
		{"a certification with the wrong nonce", tpmA, func(p *prover) {
			p.challenge = func(ch *pb.EnrollChallenge) { ch.Nonce = bytes.Repeat([]byte{7}, len(ch.Nonce)) }
		}, "bad_key_attestation", "nonce"},
		{"an oversized certificate request", tpmA, func(p *prover) { p.proof = func(m *pb.EnrollProof, k crypto.Signer) { m.CsrDer = bigCSR(t, k) } },
			"bad_request", "certificate request of"},
		{"a software key claiming to be the TPM key", tpmA, func(p *prover) { p.proof = func(m *pb.EnrollProof, _ crypto.Signer) { m.CsrDer = softwareCSR(t) } },
			"bad_key_attestation", "not the key of the certificate request"},
		{"an EK chain that does not verify", tpmB, func(*prover) {}, "bad_key_attestation", "does not chain to a trusted TPM manufacturer CA"},
	}
	token := srv.Cmd(t, "token", "create")
	for _, tt := range tests {
		t.Run(tt.name+" is refused, naming what failed", func(t *testing.T) {
			p := &prover{inner: &devkey.Prover{T: tt.tpm}}
			defer p.inner.Close()
			tt.tamper(p)
			_, err := client.EnrollTPM(ctx, srv.QUICAddr, token, dev, nil, p)
			var se *client.ServerError
			if !errors.As(err, &se) || se.Code != tt.code || !strings.Contains(se.Message, tt.inReason) {
				t.Fatalf("got %v, want %s naming %q", err, tt.code, tt.inReason)
			}
		})
	}

	t.Run("the token still enrolls an honest TPM", func(t *testing.T) {
		// Past the failed-enrollment rate limit the attempts above hit.
		clk.Advance(2 * time.Minute)
		p := &devkey.Prover{T: tpmA}
		defer p.Close()
		res, err := client.EnrollTPM(ctx, srv.QUICAddr, token, dev, nil, p)
		if err != nil {
			t.Fatalf("token spent by a refused attempt? %v", err)
		}
		_ = p.Key().Close()
		d := srv.Decision(t, apiKey, "device_id="+res.DeviceID)
		if d.DeviceID != res.DeviceID {
			t.Fatalf("new device unknown: %+v", d)
		}
	})

	t.Run("the other device is untouched", func(t *testing.T) {
		after := srv.Decision(t, apiKey, "device_id="+other.DeviceID)
		if after.Allow != before.Allow || strings.Join(after.Codes(), ",") != strings.Join(before.Codes(), ",") {
			t.Fatalf("bystander changed: before %+v, after %+v", before, after)
		}
	})
}
