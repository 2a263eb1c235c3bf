package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/postern-dev/postern/agent/client"
	"github.com/postern-dev/postern/agent/devkey"
	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/internal/swtpmtest"
	"github.com/postern-dev/postern/internal/testserver"
)

// BenchmarkEnrollTPM measures one whole enrollment over QUIC on loopback
// against a real server: with a key made and attested in swtpm (AK,
// credential activation, key creation and certification, CSR signed in
// the TPM, the server's checks), and, for comparison, with a software key.
// Token creation is outside the timer.
func BenchmarkEnrollTPM(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	srv := testserver.Start(b, ctx, testserver.Options{TPMEKCAs: swtpmtest.LoadCA(b, "a").PEM})
	tpm, err := devkey.OpenTPM(swtpmtest.Start(b, "a", "1").Socket)
	if err != nil {
		b.Fatal(err)
	}
	defer tpm.Close()
	dev := checks.Device{Hostname: "bench", OS: "linux", OSName: "Debian", OSVersion: "12", Arch: "amd64"}
	b.Run("tpm", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			token := srv.Cmd(b, "token", "create")
			b.StartTimer()
			p := &devkey.Prover{T: tpm}
			if _, err := client.EnrollTPM(ctx, srv.QUICAddr, token, dev, nil, p); err != nil {
				b.Fatal(err)
			}
			_ = p.Key().Close()
		}
	})
	b.Run("software", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			token := srv.Cmd(b, "token", "create")
			b.StartTimer()
			k, err := devkey.NewSoftwareKey()
			if err != nil {
				b.Fatal(err)
			}
			csr, err := devkey.CSR(k)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := client.Enroll(ctx, srv.QUICAddr, token, csr, dev); err != nil {
				b.Fatal(err)
			}
		}
	})
}
