package runner

import (
	"bytes"
	"context"
	"time"

	"github.com/postern-dev/postern/agent/client"
	"github.com/postern-dev/postern/agent/devkey"
	"github.com/postern-dev/postern/agent/state"
	pb "github.com/postern-dev/postern/proto"
)

const renewTimeout = time.Minute

// handle applies one command from the server. Failures are logged and
// recorded; none ends the session.
func (r *Runner) handle(ctx context.Context, conn Conn, cmd *pb.Command) {
	switch c := cmd.GetCmd().(type) {
	case *pb.Command_Recheck:
		r.log.Info("server command received", "command", "recheck")
		r.Trigger("server_recheck")
	case *pb.Command_Policy:
		// The server pushes its policy on every connection; only a
		// different one needs saving and a check under it.
		if old, err := r.dir.PolicyBytes(); err == nil && bytes.Equal(old, c.Policy.GetPolicyYaml()) {
			return
		}
		p, err := r.dir.SavePolicy(c.Policy.GetPolicyYaml())
		if err != nil {
			r.log.Error("policy from server refused", "error", err.Error())
			r.recordError(err)
			return
		}
		r.mu.Lock()
		r.policy = p
		r.mu.Unlock()
		r.log.Info("policy updated by the server")
		r.Trigger("policy_updated")
	case *pb.Command_Renew:
		if err := r.renew(ctx, conn); err != nil {
			r.log.Error("certificate renewal failed", "error", err.Error())
			r.recordError(err)
			return
		}
		r.log.Info("device certificate renewed")
	default:
		r.log.Warn("unknown server command ignored")
	}
}

// attestedRenewer is a connection that can renew with a TPM
// re-attestation (*client.Session).
type attestedRenewer interface {
	RenewAttested(ctx context.Context, p client.Prover) ([]byte, error)
}

// renew asks for a new certificate for the existing device key, which
// never leaves the device; the session in use keeps the old certificate
// and the next connection uses the new one.
func (r *Runner) renew(ctx context.Context, conn Conn) error {
	key, err := r.dir.LoadKey()
	if err != nil {
		return err
	}
	csr, err := state.CSR(key)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, renewTimeout)
	defer cancel()
	var der []byte
	hk, hardware := key.(*devkey.HardwareKey)
	ac, attests := conn.(attestedRenewer)
	if tpm, ok := r.cfg.KeyStore.(*devkey.TPM); ok && hardware && attests {
		// The TPM proves again that it holds the key, which stays where
		// it is.
		der, err = ac.RenewAttested(ctx, &devkey.RenewProver{T: tpm, Key: hk})
	} else {
		der, err = conn.Renew(ctx, csr)
	}
	if err != nil {
		return err
	}
	if err := r.dir.SaveRenewedCertificate(der, r.cfg.Clock()); err != nil {
		return err
	}
	if r.cfg.OnRenewed != nil {
		r.cfg.OnRenewed(ctx)
	}
	return nil
}
