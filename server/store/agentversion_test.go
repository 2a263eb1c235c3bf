package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestAgentVersion(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := b.openNew(t)
		_, tok, _ := NewEnrollToken([32]byte{}, time.Hour, "org", "owner", t0)
		if err := s.CreateToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Enroll(ctx, tok.Hash, Device{ID: "dev-1", CertSHA256: "c-1", AgentVersion: "1.2.0"}, t0); err != nil {
			t.Fatal(err)
		}
		t.Run("enrollment stores the version the agent gave", func(t *testing.T) {
			d, err := s.Device(ctx, "dev-1")
			if err != nil || d.AgentVersion != "1.2.0" {
				t.Fatalf("device %+v, %v", d, err)
			}
		})
		t.Run("an upgraded agent's version replaces it, in every read", func(t *testing.T) {
			if err := s.SetAgentVersion(ctx, "dev-1", "1.3.1"); err != nil {
				t.Fatal(err)
			}
			d, _ := s.DeviceByCert(ctx, "c-1")
			p, _ := s.Posture(ctx, "dev-1")
			ps, _ := s.Postures(ctx)
			all, _ := s.Devices(ctx)
			got := []string{d.AgentVersion, p.Device.AgentVersion, all[0].AgentVersion}
			if len(ps) == 1 {
				got = append(got, ps[0].Device.AgentVersion)
			}
			for i, v := range got {
				if v != "1.3.1" {
					t.Errorf("read %d: %q", i, v)
				}
			}
		})
		t.Run("an unknown device is not found", func(t *testing.T) {
			if err := s.SetAgentVersion(ctx, "nope", "1.0.0"); !errors.Is(err, ErrNotFound) {
				t.Errorf("err = %v, want ErrNotFound", err)
			}
		})
	})
}
