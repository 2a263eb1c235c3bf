package manage_test

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/gateway"
	"github.com/postern-dev/postern/gateway/manage"
	"github.com/postern-dev/postern/internal/testserver"
	"github.com/postern-dev/postern/server/cli"
	"github.com/postern-dev/postern/server/dashboard/dashtest"
	"github.com/postern-dev/postern/server/store"
)

func TestStandardLibraryOnly(t *testing.T) {
	for _, goos := range []string{"linux", "windows", "darwin"} {
		t.Run("on "+goos+" the package links only the standard library and the gateway package", func(t *testing.T) {
			cmd := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".")
			cmd.Env = append(cmd.Environ(), "GOOS="+goos, "CGO_ENABLED=0")
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("go list: %v", err)
			}
			for _, p := range strings.Fields(string(out)) {
				if p != "github.com/postern-dev/postern/gateway/manage" && p != "github.com/postern-dev/postern/gateway" {
					t.Errorf("depends on %s", p)
				}
			}
		})
	}
}

func now() time.Time { return dashtest.Now }

// realServer starts a real postern-server holding two seeded devices
// (laptop-ok compliant, laptop-bad not), and returns it with a maker of
// API keys with scopes (by `postern-server apikey create`).
func realServer(t *testing.T) (*testserver.Server, func(scopes string) string) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := cli.RunAt(ctx, []string{"init", "--data", dir}, &out, &errb, "test", now); code != 0 {
		t.Fatalf("init: %s", errb.String())
	}
	st, err := store.OpenSQLite(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	devs := []dashtest.Device{
		{ID: "laptop-ok", Hostname: "deb-ok", Org: "clinic", Owner: "alex.kim", OS: "linux", Age: 5 * time.Minute, Compliant: true},
		{ID: "laptop-bad", Hostname: "deb-bad", Org: "clinic", Owner: "sam.lee", OS: "linux", Age: 5 * time.Minute},
	}
	if err := dashtest.Seed(ctx, st, devs, checks.DefaultPolicy(), now()); err != nil {
		t.Fatal(err)
	}
	st.Close()
	s := testserver.Start(t, ctx, testserver.Options{DataDir: dir, Now: now})
	return s, func(scopes string) string {
		t.Helper()
		return strings.TrimSpace(s.CmdAt(t, now, "apikey", "create", "--name", "test-"+strings.ReplaceAll(scopes, ",", "-"), "--scope", scopes))
	}
}

func TestClientAgainstARealServer(t *testing.T) {
	ctx := context.Background()
	s, newKey := realServer(t)
	client := func(scopes string) *manage.Client {
		c, err := manage.New("https://"+s.HTTPSAddr, newKey(scopes), manage.WithHTTPClient(s.Client()))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	reader, ops := client("devices:read"), client("admin")

	t.Run("devices are listed and filtered with the engine's decisions", func(t *testing.T) {
		page, err := reader.Devices(ctx, manage.DeviceFilter{})
		if err != nil || page.Total != 2 || len(page.Devices) != 2 {
			t.Fatalf("page %+v, err %v", page, err)
		}
		one, err := reader.Devices(ctx, manage.DeviceFilter{User: "alex.kim", Limit: 1})
		if err != nil || one.Total != 1 || one.Devices[0].ID != "laptop-ok" || one.NextOffset != nil {
			t.Errorf("by user: %+v, err %v", one, err)
		}
	})
	t.Run("a device's decision is the decision API's", func(t *testing.T) {
		gc, err := gateway.New("https://"+s.HTTPSAddr, newKey("decision:read"), gateway.WithHTTPClient(s.Client()))
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"laptop-ok", "laptop-bad"} {
			d, err := reader.Device(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			want, err := gc.Decide(ctx, gateway.DeviceQuery{DeviceID: id})
			if err != nil {
				t.Fatal(err)
			}
			if d.Decision.Allow != want.Allow || !slices.Equal(codes(d.Decision), codes(want)) {
				t.Errorf("%s: device %+v, decision API %+v", id, d.Decision, want)
			}
		}
	})
	t.Run("a key without the scope is refused with ErrForbidden", func(t *testing.T) {
		err := reader.RevokeDevice(ctx, "laptop-bad", "")
		var e *manage.Error
		if !errors.Is(err, manage.ErrForbidden) || !errors.As(err, &e) || !strings.Contains(e.Message, "devices:write") {
			t.Errorf("err %v", err)
		}
	})
	t.Run("an unknown key is refused with ErrUnauthorized", func(t *testing.T) {
		forged, _, _ := store.NewAPIKey("forged", now())
		c, _ := manage.New("https://"+s.HTTPSAddr, forged, manage.WithHTTPClient(s.Client()))
		if _, err := c.Devices(ctx, manage.DeviceFilter{}); !errors.Is(err, manage.ErrUnauthorized) {
			t.Errorf("err %v", err)
		}
	})
	t.Run("an exception is granted and ended, the key its approver", func(t *testing.T) {
		_, err := ops.GrantException(ctx, manage.ExceptionRequest{DeviceID: "laptop-bad", Control: "firewall", Reason: "r"})
		var e *manage.Error
		if !errors.As(err, &e) || e.Status != 400 || e.Field != "expires_at" {
			t.Errorf("a grant without expiry: err %v", err)
		}
		ex, err := ops.GrantException(ctx, manage.ExceptionRequest{DeviceID: "laptop-bad", Control: "firewall", Reason: "vendor patch due", Days: 7})
		if err != nil || ex.Approver != "apikey:test-admin" || !ex.ExpiresAt.Equal(now().AddDate(0, 0, 7)) {
			t.Fatalf("exception %+v, err %v", ex, err)
		}
		listed, err := reader.Exceptions(ctx, manage.ExceptionFilter{DeviceID: "laptop-bad"})
		if err != nil || len(listed) != 1 || listed[0].ID != ex.ID {
			t.Errorf("listed %+v, err %v", listed, err)
		}
		if err := ops.EndException(ctx, ex.ID, "patched"); err != nil {
			t.Fatal(err)
		}
		if err := ops.EndException(ctx, ex.ID, ""); !errors.Is(err, manage.ErrConflict) {
			t.Errorf("ending twice: err %v", err)
		}
		if listed, err := reader.Exceptions(ctx, manage.ExceptionFilter{}); err != nil || len(listed) != 0 {
			t.Errorf("after the end: %+v, err %v", listed, err)
		}
		if listed, err := reader.Exceptions(ctx, manage.ExceptionFilter{All: true}); err != nil || len(listed) != 1 || listed[0].EndedBy != "apikey:test-admin" {
			t.Errorf("all: %+v, err %v", listed, err)
		}
	})
	t.Run("a recheck of a disconnected device is a conflict", func(t *testing.T) {
		if err := ops.RecheckDevice(ctx, "laptop-ok"); !errors.Is(err, manage.ErrConflict) {
			t.Errorf("err %v", err)
		}
	})
	t.Run("a revoked device is denied everywhere", func(t *testing.T) {
		if err := ops.RevokeDevice(ctx, "laptop-bad", "stolen"); err != nil {
			t.Fatal(err)
		}
		d, err := reader.Device(ctx, "laptop-bad")
		if err != nil || d.Status != "revoked" || d.Decision.Allow {
			t.Errorf("device %+v, err %v", d, err)
		}
		if err := ops.RevokeDevice(ctx, "nope", ""); !errors.Is(err, manage.ErrNotFound) {
			t.Errorf("unknown device: err %v", err)
		}
	})
	t.Run("enrollment tokens and secrets are created, listed and revoked", func(t *testing.T) {
		tok, err := ops.CreateEnrollmentToken(ctx, manage.TokenRequest{Org: "clinic", ExpiresIn: "1d"})
		if err != nil || tok.Token == "" || tok.State != "unused" {
			t.Fatalf("token %+v, err %v", tok, err)
		}
		ts, err := ops.EnrollmentTokens(ctx)
		if err != nil || !slices.ContainsFunc(ts, func(x manage.EnrollmentToken) bool { return x.ID == tok.ID }) {
			t.Errorf("tokens %+v, err %v", ts, err)
		}
		if r, err := ops.RevokeEnrollmentToken(ctx, tok.ID); err != nil || r.State != "expired" {
			t.Errorf("revoked token %+v, err %v", r, err)
		}
		sec, err := ops.CreateEnrollmentSecret(ctx, manage.SecretRequest{Org: "clinic", MaxUses: 10})
		if err != nil || sec.Secret == "" || sec.MaxUses != 10 {
			t.Fatalf("secret %+v, err %v", sec, err)
		}
		ss, err := ops.EnrollmentSecrets(ctx)
		if err != nil || len(ss) != 1 {
			t.Errorf("secrets %+v, err %v", ss, err)
		}
		if r, err := ops.RevokeEnrollmentSecret(ctx, sec.ID); err != nil || r.State != "revoked" {
			t.Errorf("revoked secret %+v, err %v", r, err)
		}
	})
	t.Run("the audit export holds every change under the key's name, and resumes", func(t *testing.T) {
		var rows []manage.AuditRow
		err := ops.Audit(ctx, manage.AuditFilter{Actor: "apikey:test-admin"}, func(r manage.AuditRow) error { rows = append(rows, r); return nil })
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, r := range rows {
			kinds = append(kinds, r.Kind)
		}
		for _, k := range []string{"exception_granted", "exception_ended", "device_revoked", "token_created", "token_revoked", "admin_action"} {
			if !slices.Contains(kinds, k) {
				t.Errorf("no %s in %v", k, kinds)
			}
		}
		var next []manage.AuditRow
		err = ops.Audit(ctx, manage.AuditFilter{After: rows[0].Seq, Limit: 1}, func(r manage.AuditRow) error { next = append(next, r); return nil })
		if err != nil || len(next) != 1 || next[0].Seq <= rows[0].Seq {
			t.Errorf("resumed %+v, err %v", next, err)
		}
	})
	t.Run("an audit export refused for its scope says so", func(t *testing.T) {
		err := reader.Audit(ctx, manage.AuditFilter{}, func(manage.AuditRow) error { return nil })
		if !errors.Is(err, manage.ErrForbidden) {
			t.Errorf("err %v", err)
		}
	})
}

func codes(d gateway.Decision) []string {
	var out []string
	for _, r := range d.Reasons {
		out = append(out, r.Code+":"+r.Control)
	}
	return out
}
