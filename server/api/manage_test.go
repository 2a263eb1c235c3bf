package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"github.com/postern-dev/postern/gateway/manage"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/decision"
	"github.com/postern-dev/postern/server/exceptions"
	"github.com/postern-dev/postern/server/store"
)

// fakeRechecker stands for the ingest server: "dev" is connected.
type fakeRechecker struct {
	mu    sync.Mutex
	asked []string
}

func (f *fakeRechecker) Recheck(id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if id != "dev" {
		return errors.New("not connected")
	}
	f.asked = append(f.asked, id)
	return nil
}

type manageFixture struct {
	*fixture
	audit   *audit.Log
	recheck *fakeRechecker
}

// newManageFixture is the API fixture with the management API over real
// parts: the decision engine, the audit log and the exceptions service
// on the fixture's SQLite store.
func newManageFixture(t *testing.T) *manageFixture {
	t.Helper()
	m := &manageFixture{recheck: &fakeRechecker{}}
	m.fixture = newFixtureWith(t, "alice", func(cfg *Config) {
		eng := newEngine(cfg.Store, checks.DefaultPolicy(), cfg.Postures, cfg.Now)
		cfg.Decider = eng
		m.audit = audit.New(cfg.Store, cfg.Now, nil)
		cfg.Manage = &ManageConfig{Decisions: eng, Audit: m.audit, Exceptions: exceptions.NewService(cfg.Store, m.audit, cfg.Now),
			Revoker: cfg.Store, Rechecker: m.recheck, CAPin: [32]byte{1}}
	})
	return m
}

func (f *fixture) do(method, target, key, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec
}

// sampleRequest is a request each management endpoint accepts in the
// scope test, with the status it then answers.
type sampleRequest struct {
	path, body string
	status     int
}

// samples maps each endpoint (method and pattern) to its sample; a new
// endpoint without one fails TestManageScopes.
func (m *manageFixture) samples(t *testing.T) map[string]sampleRequest {
	t.Helper()
	ctx := context.Background()
	ex, err := exceptions.NewService(m.store, m.audit, m.clock.Now).Grant(ctx, exceptions.Grant{Scope: store.ScopeDevice, Subject: "dev",
		Control: checks.Firewall, Reason: "r", Approver: "os:root", ExpiresAt: m.clock.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	_, tok, _ := store.NewEnrollToken([32]byte{1}, time.Hour, "org", "", m.clock.Now())
	if err := m.store.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	_, sec, _ := store.NewEnrollSecret([32]byte{1}, time.Hour, 0, "org", "", m.clock.Now())
	if err := m.store.CreateEnrollSecret(ctx, sec); err != nil {
		t.Fatal(err)
	}
	return map[string]sampleRequest{
		"GET /v1/devices":                         {"/v1/devices", "", 200},
		"GET /v1/devices/{id}":                    {"/v1/devices/dev", "", 200},
		"POST /v1/devices/{id}/revoke":            {"/v1/devices/dev/revoke", `{"reason":"lost"}`, 200},
		"POST /v1/devices/{id}/recheck":           {"/v1/devices/dev/recheck", "", 202},
		"GET /v1/exceptions":                      {"/v1/exceptions?device_id=dev", "", 200},
		"POST /v1/exceptions":                     {"/v1/exceptions", `{"device_id":"dev","control":"disk_encryption","reason":"r","days":7}`, 201},
		"DELETE /v1/exceptions/{id}":              {"/v1/exceptions/" + ex.ID, "", 204},
		"GET /v1/enrollment-tokens":               {"/v1/enrollment-tokens", "", 200},
		"POST /v1/enrollment-tokens":              {"/v1/enrollment-tokens", `{"org":"org"}`, 201},
		"POST /v1/enrollment-tokens/{id}/revoke":  {"/v1/enrollment-tokens/" + tok.Hash[:12] + "/revoke", "", 200},
		"GET /v1/enrollment-secrets":              {"/v1/enrollment-secrets", "", 200},
		"POST /v1/enrollment-secrets":             {"/v1/enrollment-secrets", `{"org":"org"}`, 201},
		"POST /v1/enrollment-secrets/{id}/revoke": {"/v1/enrollment-secrets/" + sec.ID + "/revoke", "", 200},
		"GET /v1/audit":                           {"/v1/audit", "", 200},
	}
}

// TestManageScopes: every management endpoint refuses a key without its
// scope (403), and no key, an expired key or a revoked key (401), and
// serves a key holding exactly its scope.
func TestManageScopes(t *testing.T) {
	for _, rt := range manageRoutes {
		name := rt.method + " " + rt.path
		t.Run(name, func(t *testing.T) {
			m := newManageFixture(t)
			sample, ok := m.samples(t)[name]
			if !ok {
				t.Fatalf("no sample request for %s", name)
			}
			var others []store.Scope
			for _, sc := range store.AllScopes {
				if sc != rt.scope && sc != store.ScopeAdmin {
					others = append(others, sc)
				}
			}
			expired := m.addKey(t, "expired", []store.Scope{store.ScopeAdmin}, t0.Add(time.Minute))
			revoked := m.addKey(t, "revoked", []store.Scope{store.ScopeAdmin}, time.Time{})
			id, _, _ := store.ParseAPIKey(revoked)
			if err := m.store.RevokeAPIKey(context.Background(), id, t0); err != nil {
				t.Fatal(err)
			}
			m.clock.Set(t0.Add(time.Minute))
			tests := []struct {
				name, key string
				want      int
			}{
				{"a request without a key is unauthorized", "", http.StatusUnauthorized},
				{"an expired key is unauthorized", expired, http.StatusUnauthorized},
				{"a revoked key is unauthorized", revoked, http.StatusUnauthorized},
				{"a key with every other scope is forbidden", m.addKey(t, "others", others, time.Time{}), http.StatusForbidden},
				{"a gateway key is forbidden", m.key, http.StatusForbidden},
				{"a key with the scope " + string(rt.scope) + " is served", m.addKey(t, "ops", []store.Scope{rt.scope}, time.Time{}), sample.status},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					rec := m.do(rt.method, sample.path, tc.key, sample.body)
					if rec.Code != tc.want {
						t.Errorf("status %d, want %d: %s", rec.Code, tc.want, rec.Body)
					}
				})
			}
		})
	}
}

func TestManageNotEnabled(t *testing.T) {
	f := newFixture(t)
	admin := f.addKey(t, "ops", []store.Scope{store.ScopeAdmin}, time.Time{})
	t.Run("a server without the management API answers 404 after checking the key", func(t *testing.T) {
		if rec := f.do("GET", "/v1/devices", admin, ""); rec.Code != http.StatusNotFound {
			t.Errorf("status %d: %s", rec.Code, rec.Body)
		}
		if rec := f.do("GET", "/v1/devices", f.key, ""); rec.Code != http.StatusForbidden {
			t.Errorf("gateway key: status %d: %s", rec.Code, rec.Body)
		}
	})
}

func decodeJSON[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %q: %v", rec.Body, err)
	}
	return v
}

func TestManageDevices(t *testing.T) {
	m := newManageFixture(t)
	m.report(t, t0, false)
	key := m.addKey(t, "inventory", []store.Scope{store.ScopeDevicesRead}, time.Time{})
	t.Run("a device shows the decision the decision API answers", func(t *testing.T) {
		got := decodeJSON[deviceJSON](t, m.do("GET", "/v1/devices/dev", key, ""))
		want := decode(t, m.get("/v1/decision?device_id=dev", bearer(m.key), ""))
		if got.Decision.Allow != want.Allow || !slices.EqualFunc(got.Decision.Reasons, want.Reasons, func(a, b decision.Reason) bool { return a.Code == b.Code && a.Control == b.Control }) {
			t.Errorf("device decision %+v, decision API %+v", got.Decision, want)
		}
		if got.Owner != "alice" || got.Status != store.StatusNoncompliant || got.Access != decision.AccessBlocked {
			t.Errorf("device %+v", got)
		}
	})
	list := []struct {
		query string
		want  []string
	}{
		{"", []string{"dev"}},
		{"?status=noncompliant", []string{"dev"}},
		{"?status=compliant", nil},
		{"?access=blocked&user=alice", []string{"dev"}},
		{"?user=bob", nil},
		{"?q=de", []string{"dev"}},
		{"?offset=1", nil},
	}
	for _, tc := range list {
		t.Run("GET /v1/devices"+tc.query+" lists "+strings.Join(tc.want, ","), func(t *testing.T) {
			rec := m.do("GET", "/v1/devices"+tc.query, key, "")
			got := decodeJSON[deviceList](t, rec)
			var ids []string
			for _, d := range got.Devices {
				ids = append(ids, d.ID)
			}
			if !slices.Equal(ids, tc.want) {
				t.Errorf("ids %v, want %v", ids, tc.want)
			}
		})
	}
	bad := []struct{ query, field string }{
		{"?status=fine", "status"},
		{"?access=maybe", "access"},
		{"?limit=0", "limit"},
		{"?limit=1001", "limit"},
		{"?offset=-1", "offset"},
		{"?os=a&os=b", "os"},
		{"?q=" + strings.Repeat("x", 300), "q"},
	}
	for _, tc := range bad {
		t.Run("a bad "+tc.field+" is a 400 naming it", func(t *testing.T) {
			rec := m.do("GET", "/v1/devices"+tc.query, key, "")
			if got := decodeJSON[fieldError](t, rec); rec.Code != http.StatusBadRequest || got.Field != tc.field {
				t.Errorf("status %d, body %s", rec.Code, rec.Body)
			}
		})
	}
	t.Run("an unknown device is 404", func(t *testing.T) {
		if rec := m.do("GET", "/v1/devices/nope", key, ""); rec.Code != http.StatusNotFound {
			t.Errorf("status %d", rec.Code)
		}
	})
}

// auditRows returns the audit log's rows of kind.
func (m *manageFixture) auditRows(t *testing.T, kind string) []store.AuditRow {
	t.Helper()
	rows, err := m.store.SearchAudit(context.Background(), store.AuditFilter{Kind: kind})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestManageDeviceWrites(t *testing.T) {
	m := newManageFixture(t)
	m.report(t, t0, true)
	key := m.addKey(t, "soar", []store.Scope{store.ScopeDevicesWrite}, time.Time{})
	steps := []struct {
		name, method, path, body string
		want                     int
	}{
		{"a recheck of a disconnected device is a conflict", "POST", "/v1/devices/other/recheck", "", http.StatusNotFound},
		{"a recheck is accepted", "POST", "/v1/devices/dev/recheck", "", http.StatusAccepted},
		{"a revoke with an unknown field is refused", "POST", "/v1/devices/dev/revoke", `{"why":"x"}`, http.StatusBadRequest},
		{"a revoke with a reason of the wrong type is refused", "POST", "/v1/devices/dev/revoke", `{"reason":5}`, http.StatusBadRequest},
		{"a revoke with an overlong body is refused", "POST", "/v1/devices/dev/revoke", `{"reason":"` + strings.Repeat("x", maxManageBody) + `"}`, http.StatusRequestEntityTooLarge},
		{"the device is revoked", "POST", "/v1/devices/dev/revoke", `{"reason":"laptop stolen"}`, http.StatusOK},
		{"revoking it again is a conflict", "POST", "/v1/devices/dev/revoke", "", http.StatusConflict},
		{"an unknown device is 404", "POST", "/v1/devices/nope/revoke", "", http.StatusNotFound},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if rec := m.do(s.method, s.path, key, s.body); rec.Code != s.want {
				t.Errorf("status %d, want %d: %s", rec.Code, s.want, rec.Body)
			}
		})
	}
	t.Run("the revocation and the recheck are audited with the key's name", func(t *testing.T) {
		for _, kind := range []string{audit.KindRevocation, audit.KindRecheck} {
			rows := m.auditRows(t, kind)
			if len(rows) != 1 || rows[0].Actor != "apikey:soar" || rows[0].DeviceID != "dev" {
				t.Errorf("%s rows %+v", kind, rows)
			}
		}
		if rows := m.auditRows(t, audit.KindRevocation); len(rows) == 1 && !strings.Contains(string(rows[0].Details), "laptop stolen") {
			t.Errorf("details %s", rows[0].Details)
		}
	})
	t.Run("the revoked device is denied by the decision API", func(t *testing.T) {
		if d := decode(t, m.get("/v1/decision?device_id=dev", bearer(m.key), "")); d.Allow {
			t.Errorf("decision %+v", d)
		}
	})
}

func TestManageExceptions(t *testing.T) {
	m := newManageFixture(t)
	m.report(t, t0, false)
	key := m.addKey(t, "change-board", []store.Scope{store.ScopeExceptionsWrite}, time.Time{})
	bad := []struct{ name, body, field string }{
		{"neither device nor org", `{"control":"firewall","reason":"r","days":1}`, "device_id"},
		{"both device and org", `{"device_id":"dev","org":"o","control":"firewall","reason":"r","days":1}`, "device_id"},
		{"an unknown control", `{"device_id":"dev","control":"moon","reason":"r","days":1}`, "control"},
		{"no reason", `{"device_id":"dev","control":"firewall","days":1}`, "reason"},
		{"too many days", `{"device_id":"dev","control":"firewall","reason":"r","days":366}`, "days"},
		{"no expiry", `{"device_id":"dev","control":"firewall","reason":"r"}`, "expires_at"},
		{"an expiry that is not a time", `{"device_id":"dev","control":"firewall","reason":"r","expires_at":"soon"}`, ""},
		{"days as text", `{"device_id":"dev","control":"firewall","reason":"r","days":"7"}`, "days"},
		{"an unknown field", `{"device_id":"dev","control":"firewall","reason":"r","days":1,"approver":"ceo"}`, "approver"},
		{"an unknown device", `{"device_id":"ghost","control":"firewall","reason":"r","days":1}`, "device_id"},
	}
	for _, tc := range bad {
		t.Run("a grant with "+tc.name+" is a 400 naming "+tc.field, func(t *testing.T) {
			rec := m.do("POST", "/v1/exceptions", key, tc.body)
			if got := decodeJSON[fieldError](t, rec); rec.Code != http.StatusBadRequest || got.Field != tc.field {
				t.Errorf("status %d, body %s", rec.Code, rec.Body)
			}
		})
	}
	t.Run("nothing was granted by the refused requests", func(t *testing.T) {
		if rows := m.auditRows(t, audit.KindExceptionGranted); len(rows) != 0 {
			t.Errorf("granted: %+v", rows)
		}
	})
	rec := m.do("POST", "/v1/exceptions", key, `{"device_id":"dev","control":"firewall","reason":"vendor fix due","days":7}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("grant: status %d: %s", rec.Code, rec.Body)
	}
	ex := decodeJSON[manage.Exception](t, rec)
	t.Run("the grant names the key as approver and lasts the days asked", func(t *testing.T) {
		if ex.Approver != "apikey:change-board" || !ex.ExpiresAt.Equal(t0.AddDate(0, 0, 7)) || ex.Scope != store.ScopeDevice {
			t.Errorf("exception %+v", ex)
		}
		if rows := m.auditRows(t, audit.KindExceptionGranted); len(rows) != 1 || rows[0].Actor != "apikey:change-board" {
			t.Errorf("audit %+v", rows)
		}
	})
	t.Run("the exception is listed, and filtered", func(t *testing.T) {
		reader := m.addKey(t, "report", []store.Scope{store.ScopeDevicesRead}, time.Time{})
		for q, want := range map[string]int{"": 1, "?device_id=dev": 1, "?control=firewall": 1, "?org=o": 0, "?control=antivirus": 0} {
			rec := m.do("GET", "/v1/exceptions"+q, reader, "")
			got := decodeJSON[struct{ Exceptions []manage.Exception }](t, rec)
			if rec.Code != http.StatusOK || len(got.Exceptions) != want || want == 1 && got.Exceptions[0].ID != ex.ID {
				t.Errorf("%s: status %d, %s", q, rec.Code, rec.Body)
			}
		}
		if rec := m.do("GET", "/v1/exceptions?all=yes", reader, ""); rec.Code != http.StatusBadRequest || decodeJSON[fieldError](t, rec).Field != "all" {
			t.Errorf("all=yes: status %d, %s", rec.Code, rec.Body)
		}
	})
	steps := []struct {
		name, path string
		want       int
	}{
		{"an unknown exception is 404", "/v1/exceptions/ex_nope", http.StatusNotFound},
		{"the exception is ended", "/v1/exceptions/" + ex.ID, http.StatusNoContent},
		{"ending it again is a conflict", "/v1/exceptions/" + ex.ID, http.StatusConflict},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if rec := m.do("DELETE", s.path, key, ""); rec.Code != s.want {
				t.Errorf("status %d, want %d: %s", rec.Code, s.want, rec.Body)
			}
		})
	}
	t.Run("an ended exception is listed only with all=true", func(t *testing.T) {
		for q, want := range map[string]int{"": 0, "?all=true": 1} {
			rec := m.do("GET", "/v1/exceptions"+q, key, "")
			if rec.Code != http.StatusForbidden {
				t.Errorf("exceptions:write alone lists: status %d", rec.Code)
			}
			admin := m.addKey(t, "admin-"+q, []store.Scope{store.ScopeAdmin}, time.Time{})
			got := decodeJSON[struct{ Exceptions []manage.Exception }](t, m.do("GET", "/v1/exceptions"+q, admin, ""))
			if len(got.Exceptions) != want {
				t.Errorf("%q: %+v", q, got)
			}
		}
	})
	t.Run("the end is audited with the key's name", func(t *testing.T) {
		if rows := m.auditRows(t, audit.KindExceptionEnded); len(rows) != 1 || rows[0].Actor != "apikey:change-board" {
			t.Errorf("audit %+v", rows)
		}
	})
}

func TestManageEnrollment(t *testing.T) {
	m := newManageFixture(t)
	key := m.addKey(t, "provisioning", []store.Scope{store.ScopeAdmin}, time.Time{})
	rec := m.do("POST", "/v1/enrollment-tokens", key, `{"org":"clinic","owner":"bob","expires_in":"2d"}`)
	created := decodeJSON[struct {
		Token string `json:"token"`
		manage.EnrollmentToken
	}](t, rec)
	t.Run("a token is created once, with its secret only in that answer", func(t *testing.T) {
		if rec.Code != http.StatusCreated || created.Token == "" || !created.ExpiresAt.Equal(t0.Add(48*time.Hour)) || created.State != "unused" {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		list := m.do("GET", "/v1/enrollment-tokens", key, "")
		if !strings.Contains(list.Body.String(), created.ID) || strings.Contains(list.Body.String(), created.Token) {
			t.Errorf("list %s", list.Body)
		}
	})
	t.Run("a bad lifetime is a 400 naming it", func(t *testing.T) {
		if rec := m.do("POST", "/v1/enrollment-tokens", key, `{"expires_in":"forever"}`); rec.Code != 400 || decodeJSON[fieldError](t, rec).Field != "expires_in" {
			t.Errorf("status %d: %s", rec.Code, rec.Body)
		}
	})
	t.Run("the token is revoked, once", func(t *testing.T) {
		if rec := m.do("POST", "/v1/enrollment-tokens/"+created.ID+"/revoke", key, ""); rec.Code != http.StatusOK {
			t.Errorf("status %d: %s", rec.Code, rec.Body)
		}
		if rec := m.do("POST", "/v1/enrollment-tokens/"+created.ID+"/revoke", key, ""); rec.Code != http.StatusConflict {
			t.Errorf("again: status %d: %s", rec.Code, rec.Body)
		}
	})
	sec := m.do("POST", "/v1/enrollment-secrets", key, `{"org":"clinic","max_uses":50,"expires_in":"90d"}`)
	s := decodeJSON[struct {
		Secret string `json:"secret"`
		manage.EnrollmentSecret
	}](t, sec)
	t.Run("a secret is created with its limits", func(t *testing.T) {
		if sec.Code != http.StatusCreated || s.Secret == "" || s.MaxUses != 50 || !s.ExpiresAt.Equal(t0.Add(90*24*time.Hour)) {
			t.Fatalf("status %d: %s", sec.Code, sec.Body)
		}
	})
	t.Run("a secret without an org is a 400 naming it", func(t *testing.T) {
		if rec := m.do("POST", "/v1/enrollment-secrets", key, `{}`); rec.Code != 400 || decodeJSON[fieldError](t, rec).Field != "org" {
			t.Errorf("status %d: %s", rec.Code, rec.Body)
		}
	})
	t.Run("the secret is revoked, once", func(t *testing.T) {
		if rec := m.do("POST", "/v1/enrollment-secrets/"+s.ID+"/revoke", key, ""); rec.Code != http.StatusOK || decodeJSON[manage.EnrollmentSecret](t, rec).State != "revoked" {
			t.Errorf("status %d: %s", rec.Code, rec.Body)
		}
		if rec := m.do("POST", "/v1/enrollment-secrets/"+s.ID+"/revoke", key, ""); rec.Code != http.StatusConflict {
			t.Errorf("again: status %d: %s", rec.Code, rec.Body)
		}
	})
	t.Run("every change is audited with the key's name", func(t *testing.T) {
		for _, kind := range []string{audit.KindTokenCreated, audit.KindTokenRevoked} {
			if rows := m.auditRows(t, kind); len(rows) != 1 || rows[0].Actor != "apikey:provisioning" {
				t.Errorf("%s: %+v", kind, rows)
			}
		}
		if rows := m.auditRows(t, audit.KindAdmin); len(rows) != 2 || rows[0].Actor != "apikey:provisioning" {
			t.Errorf("secrets: %+v", rows)
		}
	})
}

func TestManageAuditExport(t *testing.T) {
	m := newManageFixture(t)
	ctx := context.Background()
	for i := range 5 {
		kind := audit.KindNoteAdded
		if i%2 == 1 {
			kind = audit.KindRecheck
		}
		if _, err := m.audit.Append(ctx, audit.Entry{Actor: "os:root", Kind: kind, DeviceID: "dev", Details: map[string]int{"i": i}}); err != nil {
			t.Fatal(err)
		}
	}
	key := m.addKey(t, "siem", []store.Scope{store.ScopeAuditRead}, time.Time{})
	export := func(t *testing.T, query string) []audit.ExportRow {
		t.Helper()
		rec := m.do("GET", "/v1/audit"+query, key, "")
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/x-ndjson" {
			t.Fatalf("status %d %s: %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
		}
		var rows []audit.ExportRow
		sc := bufio.NewScanner(bytes.NewReader(rec.Body.Bytes()))
		for sc.Scan() {
			var r audit.ExportRow
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("line %q: %v", sc.Text(), err)
			}
			rows = append(rows, r)
		}
		return rows
	}
	seqs := func(rows []audit.ExportRow) []uint64 {
		var out []uint64
		for _, r := range rows {
			out = append(out, r.Seq)
		}
		return out
	}
	t.Run("the export is the rows in order, in audit export's format, hash chain included", func(t *testing.T) {
		rows := export(t, "?kind="+audit.KindNoteAdded)
		if !slices.Equal(seqs(rows), []uint64{1, 3, 5}) || rows[1].PrevHash == "" || rows[1].Hash == "" {
			t.Errorf("rows %+v", rows)
		}
	})
	t.Run("after and limit page through", func(t *testing.T) {
		if got := seqs(export(t, "?after=2&limit=2")); !slices.Equal(got, []uint64{3, 4}) {
			t.Errorf("seqs %v", got)
		}
	})
	t.Run("the exports are audited with the key's name", func(t *testing.T) {
		if rows := m.auditRows(t, audit.KindAuditExported); len(rows) != 2 || rows[0].Actor != "apikey:siem" {
			t.Errorf("rows %+v", rows)
		}
	})
	bad := []struct{ query, field string }{{"?after=x", "after"}, {"?limit=0", "limit"}, {"?from=yesterday", "from"}}
	for _, tc := range bad {
		t.Run("a bad "+tc.field+" is a 400 naming it", func(t *testing.T) {
			if rec := m.do("GET", "/v1/audit"+tc.query, key, ""); rec.Code != 400 || decodeJSON[fieldError](t, rec).Field != tc.field {
				t.Errorf("status %d: %s", rec.Code, rec.Body)
			}
		})
	}
}
