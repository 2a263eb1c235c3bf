package store

import (
	"context"
	"testing"
	"time"
)

func TestAgentSecretHash(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := b.openNew(t)
		for _, d := range []Device{
			{ID: "dev-new", CertSHA256: "c-new", AgentSecretHash: "ab12"},
			{ID: "dev-old", CertSHA256: "c-old"},
		} {
			_, tok, _ := NewEnrollToken([32]byte{}, time.Hour, "org", "owner", t0)
			if err := s.CreateToken(ctx, tok); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Enroll(ctx, tok.Hash, d, t0); err != nil {
				t.Fatal(err)
			}
		}
		t.Run("the hash stored at enrollment is read back by certificate, and kept by a renewal", func(t *testing.T) {
			if err := s.RenewCert(ctx, "dev-new", "c-new-2", t0.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			d, err := s.DeviceByCert(ctx, "c-new-2")
			if err != nil || d.AgentSecretHash != "ab12" {
				t.Fatalf("device %+v, %v", d, err)
			}
		})
		t.Run("a device enrolled without a secret reads back with none", func(t *testing.T) {
			d, err := s.Device(ctx, "dev-old")
			if err != nil || d.AgentSecretHash != "" {
				t.Fatalf("device %+v, %v", d, err)
			}
		})
	})
}
