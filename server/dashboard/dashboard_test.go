package dashboard

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/server/dashboard/dashtest"
	"github.com/postern-dev/postern/server/store"
	"github.com/postern-dev/postern/server/users"
)

func hostile() []dashtest.Device {
	return []dashtest.Device{
		{ID: "dev_hostile", Hostname: "<script>alert(1)</script>", Org: "=HYPERLINK(\"http://x\")", Owner: "@evil", OS: "linux", OSName: "Ubuntu", OSVersion: "24.04", Compliant: false},
		{ID: "dev_good", Hostname: "WS-good-001", Org: "Eastside Clinic", Owner: "maria.garcia", OS: "windows", OSName: "Windows 11 Pro", OSVersion: "10.0.22631", Compliant: true},
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t, nil)
	r := e.client().get("/ui/login")
	want := map[string]string{
		"Content-Security-Policy":   CSP,
		"X-Content-Type-Options":    "nosniff",
		"Referrer-Policy":           "same-origin",
		"Strict-Transport-Security": "max-age=63072000; includeSubDomains",
		"X-Frame-Options":           "DENY",
	}
	got := map[string]string{}
	for k := range want {
		got[k] = r.header.Get(k)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("headers (-want +got):\n%s", diff)
	}
	if strings.Contains(r.body, "<script>") || strings.Contains(r.body, "style=") {
		t.Error("the page has inline script or style, which the CSP forbids")
	}
}

func TestSessionCookie(t *testing.T) {
	e := newEnv(t, nil)
	e.addUser("alice", users.RoleViewer)
	c := e.client()
	r := c.post("/ui/login", url.Values{"username": {"alice"}, "password": {ownPassword}})
	cookie := r.header.Get("Set-Cookie")
	for _, attr := range []string{SessionCookie + "=", "Path=/", "HttpOnly", "Secure", "SameSite=Strict"} {
		if !strings.Contains(cookie, attr) {
			t.Errorf("cookie %q lacks %s", cookie, attr)
		}
	}
	id := strings.TrimPrefix(strings.SplitN(cookie, ";", 2)[0], SessionCookie+"=")
	acc := e.st
	if _, err := acc.Session(context.Background(), id); err == nil {
		t.Error("the raw session ID is a stored key; it must be stored hashed")
	}
	if _, err := acc.Session(context.Background(), store.HashSecret([]byte(id))); err != nil {
		t.Errorf("the hashed session is not stored: %v", err)
	}
}

func TestSignInFlow(t *testing.T) {
	t.Run("the first sign-in must change the password before anything else", func(t *testing.T) {
		e := newEnv(t, nil)
		e.users.Add(context.Background(), users.NewUser{Username: "bob", FirstName: "Bob", LastName: "Stone", Role: users.RoleViewer, Password: firstPassword})
		c := e.client()
		r := c.post("/ui/login", url.Values{"username": {"bob"}, "password": {firstPassword}})
		if r.status != http.StatusSeeOther {
			t.Fatalf("sign in: %d", r.status)
		}
		if r := c.get("/ui/devices"); r.location != "/ui/password" {
			t.Fatalf("devices before the change: %d %q, want a redirect to /ui/password", r.status, r.location)
		}
		tok := c.csrf("/ui/password")
		r = c.post("/ui/password", url.Values{"csrf": {tok}, "current": {firstPassword}, "new": {"short"}, "confirm": {"short"}})
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "at least 8 characters") {
			t.Errorf("weak password: %d, body lacks the rule", r.status)
		}
		r = c.post("/ui/password", url.Values{"csrf": {tok}, "current": {firstPassword}, "new": {ownPassword}, "confirm": {ownPassword}})
		if r.status != http.StatusSeeOther || r.location != "/ui/" {
			t.Fatalf("change: %d %q", r.status, r.location)
		}
		if r := c.get("/ui/devices"); r.status != http.StatusOK {
			t.Errorf("devices after the change: %d", r.status)
		}
	})
	t.Run("five wrong passwords lock the account, answering as a wrong password does", func(t *testing.T) {
		e := newEnv(t, nil)
		e.addUser("carol", users.RoleViewer)
		c := e.client()
		var got []int
		var bodies []string
		for range 6 {
			r := c.post("/ui/login", url.Values{"username": {"carol"}, "password": {"nope"}})
			got, bodies = append(got, r.status), append(bodies, r.body)
		}
		r := c.post("/ui/login", url.Values{"username": {"carol"}, "password": {ownPassword}})
		got = append(got, r.status)
		want := []int{401, 401, 401, 401, 401, 401, 401}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("statuses (-want +got):\n%s", diff)
		}
		// Name enumeration: a locked name, an unknown one and a wrong
		// password must read alike (the name typed is echoed back).
		unknown := c.post("/ui/login", url.Values{"username": {"carox"}, "password": {ownPassword}})
		if unknown.status != r.status {
			t.Errorf("unknown name %d, locked name %d", unknown.status, r.status)
		}
		if diff := cmp.Diff(strings.ReplaceAll(bodies[0], "carol", "NAME"), strings.ReplaceAll(r.body, "carol", "NAME")); diff != "" {
			t.Errorf("a locked account's page differs from a wrong password's (-wrong +locked):\n%s", diff)
		}
		if diff := cmp.Diff(strings.ReplaceAll(unknown.body, "carox", "NAME"), strings.ReplaceAll(r.body, "carol", "NAME")); diff != "" {
			t.Errorf("a locked account's page differs from an unknown name's (-unknown +locked):\n%s", diff)
		}
		e.clock.Add(users.DefaultLockFor)
		if r := c.post("/ui/login", url.Values{"username": {"carol"}, "password": {ownPassword}}); r.status != http.StatusSeeOther {
			t.Errorf("30 minutes later: %d, want a sign-in", r.status)
		}
	})
	t.Run("a session ends after 20 idle minutes", func(t *testing.T) {
		e := newEnv(t, nil)
		e.addUser("dave", users.RoleViewer)
		c := e.signIn("dave")
		e.clock.Add(19 * time.Minute)
		if r := c.get("/ui/devices"); r.status != http.StatusOK {
			t.Fatalf("after 19 minutes: %d", r.status)
		}
		e.clock.Add(20 * time.Minute)
		if r := c.get("/ui/devices"); r.location != "/ui/login?m=expired" {
			t.Errorf("after 20 idle minutes: %d %q", r.status, r.location)
		}
	})
}

func TestRolesAndCSRF(t *testing.T) {
	e := newEnv(t, hostile())
	for _, u := range []struct {
		name string
		role users.Role
	}{{"viewer", users.RoleViewer}, {"analyst", users.RoleAnalyst}, {"approver", users.RoleApprover}, {"admin", users.RoleAdmin}} {
		e.addUser(u.name, u.role)
	}
	grant := func(tok string) url.Values {
		return url.Values{"csrf": {tok}, "control": {"firewall"}, "days": {"14"}, "reason": {"vendor fix pending"}}
	}
	tests := []struct {
		name, user, path string
		form             func(tok string) url.Values
		want             int
	}{
		{"a viewer cannot grant an exception", "viewer", "/ui/devices/dev_good/exceptions", grant, http.StatusForbidden},
		{"an admin cannot grant an exception", "admin", "/ui/devices/dev_good/exceptions", grant, http.StatusForbidden},
		{"an approver grants an exception", "approver", "/ui/devices/dev_good/exceptions", grant, http.StatusSeeOther},
		{"an approver's form without the CSRF token is refused", "approver", "/ui/devices/dev_good/exceptions",
			func(string) url.Values { return grant("") }, http.StatusForbidden},
		{"a wrong CSRF token is refused", "approver", "/ui/devices/dev_good/exceptions",
			func(string) url.Values { return grant("AAAA") }, http.StatusForbidden},
		{"a viewer cannot recheck", "viewer", "/ui/devices/dev_good/recheck", func(tok string) url.Values { return url.Values{"csrf": {tok}} }, http.StatusForbidden},
		{"an analyst rechecks", "analyst", "/ui/devices/dev_good/recheck", func(tok string) url.Values { return url.Values{"csrf": {tok}} }, http.StatusSeeOther},
		{"an approver cannot revoke", "approver", "/ui/devices/dev_good/revoke", func(tok string) url.Values { return url.Values{"csrf": {tok}} }, http.StatusForbidden},
		{"an admin creates a token", "admin", "/ui/tokens", func(tok string) url.Values {
			return url.Values{"csrf": {tok}, "org": {"Eastside Clinic"}, "owner": {"maria.garcia"}, "ttl": {"24h"}}
		}, http.StatusOK},
		{"an analyst cannot create a token", "analyst", "/ui/tokens", func(tok string) url.Values {
			return url.Values{"csrf": {tok}, "org": {"x"}, "owner": {"y"}, "ttl": {"24h"}}
		}, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.signIn(tt.user)
			r := c.post(tt.path, tt.form(c.csrf("/ui/password")))
			if r.status != tt.want {
				t.Errorf("status %d, want %d", r.status, tt.want)
			}
		})
	}
	t.Run("the granted exception is listed with its approver", func(t *testing.T) {
		body := e.signIn("viewer").get("/ui/exceptions").body
		if !strings.Contains(body, "vendor fix pending") || !strings.Contains(body, "approver") {
			t.Error("the exception is not listed")
		}
	})
	t.Run("the recheck reached the agent", func(t *testing.T) {
		if diff := cmp.Diff([]string{"dev_good"}, e.rech.ids); diff != "" {
			t.Errorf("rechecks (-want +got):\n%s", diff)
		}
	})
	t.Run("the new token's page shows install commands", func(t *testing.T) {
		c := e.signIn("admin")
		r := c.post("/ui/tokens", url.Values{"csrf": {c.csrf("/ui/tokens")}, "org": {"Eastside Clinic"}, "owner": {"wei.kim"}, "ttl": {"1h"}})
		for _, want := range []string{"postern-agent enroll --server posture.example.org:4433 --token ", "PowerShell"} {
			if !strings.Contains(r.body, want) {
				t.Errorf("token page lacks %q", want)
			}
		}
	})
}

func TestHostileStringsAreEscaped(t *testing.T) {
	e := newEnv(t, hostile())
	e.addUser("viewer", users.RoleViewer)
	c := e.signIn("viewer")
	for _, path := range []string{"/ui/devices", "/ui/devices/dev_hostile", "/ui/"} {
		t.Run("the hostile hostname is text on "+path, func(t *testing.T) {
			body := c.get(path).body
			if strings.Contains(body, "<script>alert(1)</script>") {
				t.Error("the hostname reached the page unescaped")
			}
			if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
				t.Error("the escaped hostname is missing")
			}
		})
	}
}

func TestDeviceListFilters(t *testing.T) {
	e := newEnv(t, dashtest.Fleet(120, 7))
	e.addUser("viewer", users.RoleViewer)
	c := e.signIn("viewer")
	q := store.FleetQuery{Thresholds: e.dash.thresholds(), Limit: store.MaxPageSize}
	all, err := e.dash.st.FleetDevices(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	// Statuses are the engine's decisions.
	decisions, err := e.eng.All(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range all.Devices {
		all.Devices[i].Status = statusOf(decisions[d.ID])
	}
	count := func(keep func(store.FleetDevice) bool) int {
		n := 0
		for _, d := range all.Devices {
			if keep(d) {
				n++
			}
		}
		return n
	}
	tests := []struct {
		name, query string
		want        int
	}{
		{"no filter lists every device", "", len(all.Devices)},
		{"status filters by status", "status=noncompliant", count(func(d store.FleetDevice) bool { return d.Status == store.StatusNoncompliant })},
		{"os filters by OS", "os=darwin", count(func(d store.FleetDevice) bool { return d.Info.OS == "darwin" })},
		{"org filters by organization", "org=Eastside+Clinic", count(func(d store.FleetDevice) bool { return d.Org == "Eastside Clinic" })},
		{"control filters by the control the decision names failing or unknown", "control=antivirus", count(func(d store.FleetDevice) bool {
			return newDeviceRow(d, decisions[d.ID]).names(checks.Antivirus)
		})},
		{"search matches the owner ignoring case", "q=MARIA", count(func(d store.FleetDevice) bool {
			return strings.Contains(d.Owner, "maria") || strings.Contains(strings.ToLower(d.Info.Hostname), "maria")
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := c.get("/ui/devices?" + tt.query).body
			got := strings.Count(body, `<a class="host"`)
			if want := min(tt.want, pageSize); got != want {
				t.Errorf("rows %d, want %d", got, want)
			}
		})
	}
	if n := count(func(d store.FleetDevice) bool { return d.Status == store.StatusNoncompliant }); n == 0 {
		t.Error("the seeded fleet has no non-compliant device; the filters test nothing")
	}
}

func TestCSVExport(t *testing.T) {
	e := newEnv(t, hostile())
	e.addUser("viewer", users.RoleViewer)
	r := e.signIn("viewer").get("/ui/devices.csv")
	recs, err := csv.NewReader(strings.NewReader(r.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 {
		t.Fatalf("%d records, want a header and 2 devices", len(recs))
	}
	var hostileRow []string
	for _, rec := range recs {
		if rec[0] == "dev_hostile" {
			hostileRow = rec
		}
	}
	if diff := cmp.Diff([]string{`'=HYPERLINK("http://x")`, "'@evil"}, hostileRow[2:4]); diff != "" {
		t.Errorf("formula cells are not defused (-want +got):\n%s", diff)
	}
}

func TestCSVSafe(t *testing.T) {
	got := csvSafe("=1+1", "+1", "-2", "@x", "\tx", "plain", "", "a=b")
	want := []string{"'=1+1", "'+1", "'-2", "'@x", "'\tx", "plain", "", "a=b"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestTheDevicePageSaysWhereTheDeviceKeyLives(t *testing.T) {
	devs := hostile()
	devs[1].HardwareKey = true
	e := newEnv(t, devs)
	e.addUser("alice", users.RoleViewer)
	c := e.client()
	c.post("/ui/login", url.Values{"username": {"alice"}, "password": {ownPassword}})
	for id, want := range map[string]string{"dev_good": "hardware (in a TPM, attested at enrollment)", "dev_hostile": "software (a key file; not hardware-bound)"} {
		if r := c.get("/ui/devices/" + id); !strings.Contains(r.body, want) {
			t.Errorf("%s: page (status %d) lacks %q", id, r.status, want)
		}
	}
}

// TestOverviewCountsUnknownAsUnknownAndSurvivesAnUnreadableReport: the
// bars per control are the decisions' (failing apart from unknown), and a
// stored report that no longer decodes makes its device unknown on every
// page instead of failing them.
func TestOverviewCountsUnknownAsUnknownAndSurvivesAnUnreadableReport(t *testing.T) {
	e := newEnv(t, []dashtest.Device{
		{ID: "dev_ok", Hostname: "WS-ok", OS: "windows", Compliant: true},
		{ID: "dev_unknown", Hostname: "WS-unknown", OS: "windows", Compliant: true, Unknown: []checks.ControlID{checks.Antivirus}},
		{ID: "dev_failing", Hostname: "WS-failing", OS: "windows", Compliant: true, Failing: []checks.ControlID{checks.Antivirus}},
		{ID: "dev_damaged", Hostname: "WS-damaged", OS: "windows", Compliant: true},
	})
	if _, err := e.st.IngestReport(context.Background(), store.Ingest{Report: store.Report{DeviceID: "dev_damaged", Sequence: 2, Hash: "x",
		CollectedAt: t0, ReceivedAt: t0, Body: []byte(`{"observations":[{"id":"antiv`)}}); err != nil {
		t.Fatal(err)
	}
	e.addUser("viewer", users.RoleViewer)
	c := e.signIn("viewer")
	overview := c.get("/ui/")
	if overview.status != http.StatusOK {
		t.Fatalf("overview: %d", overview.status)
	}
	bar := func(id checks.ControlID) string {
		t.Helper()
		i := strings.Index(overview.body, `href="/ui/devices?control=`+string(id)+`"`)
		if i < 0 {
			t.Fatalf("no bar for %s", id)
		}
		row := overview.body[i:]
		row = row[:strings.Index(row, "</tr>")]
		return row[strings.LastIndex(row, `<td class="num">`)+len(`<td class="num">`) : strings.LastIndex(row, "</td>")]
	}
	for id, want := range map[checks.ControlID]string{
		checks.Antivirus: "1 failing · 2 unknown", // dev_failing; dev_unknown and dev_damaged
		checks.Firewall:  "0 failing · 1 unknown", // dev_damaged
	} {
		if got := bar(id); got != want {
			t.Errorf("%s bar %q, want %q", id, got, want)
		}
	}
	for id, badge := range map[string]string{"dev_unknown": `<span class="badge s-unknown">Unknown</span>`, "dev_failing": `<span class="badge s-fail">Fail</span>`} {
		re := regexp.MustCompile(`href="/ui/devices/` + id + `">[^<]*</a></td>\s*<td>` + regexp.QuoteMeta(badge))
		if !re.MatchString(overview.body) {
			t.Errorf("the recent changes do not show %s's antivirus as %s", id, badge)
		}
	}
	for _, path := range []string{"/ui/devices", "/ui/devices?control=antivirus", "/ui/devices/dev_damaged", "/ui/devices.csv"} {
		r := c.get(path)
		if r.status != http.StatusOK || !strings.Contains(r.body, "dev_damaged") && !strings.Contains(r.body, "WS-damaged") {
			t.Errorf("%s: %d, the damaged device missing:\n%.400s", path, r.status, r.body)
		}
	}
	if r := c.get("/ui/devices/dev_damaged"); !strings.Contains(r.body, "cannot read its stored report") {
		t.Errorf("the device page does not say why its controls are unknown")
	}
}

// TestListInMemoryAgreesWithTheStore: the list filtered or sorted by the
// decisions is built from the engine's fleet in memory, the others are
// paged by the store; both must list the same devices in the same order.
func TestListInMemoryAgreesWithTheStore(t *testing.T) {
	e := newEnv(t, dashtest.Fleet(150, 3))
	ctx := context.Background()
	base := store.FleetQuery{Thresholds: e.dash.thresholds()}
	var queries []store.FleetQuery
	for _, sort := range []string{store.SortHostname, store.SortOwner, store.SortOrg, store.SortOS, store.SortLastSeen, ""} {
		for _, desc := range []bool{false, true} {
			q := base
			q.Sort, q.Desc = sort, desc
			queries = append(queries, q)
		}
	}
	for _, f := range []func(*store.FleetQuery){
		func(q *store.FleetQuery) { q.OS = "darwin" },
		func(q *store.FleetQuery) { q.Org = "Eastside Clinic" },
		func(q *store.FleetQuery) { q.Search = "MARIA" },
		func(q *store.FleetQuery) { q.Search = "ws-" },
	} {
		q := base
		f(&q)
		queries = append(queries, q)
	}
	for _, q := range queries {
		t.Run(fmt.Sprintf("sort %q desc %v os %q org %q search %q", q.Sort, q.Desc, q.OS, q.Org, q.Search), func(t *testing.T) {
			mem, err := e.dash.fleetRows(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			q.All = true
			page, err := e.dash.st.FleetDevices(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			var got, want []string
			for _, r := range mem {
				got = append(got, r.ID)
			}
			for _, d := range page.Devices {
				want = append(want, d.ID)
			}
			if len(want) == 0 {
				t.Fatal("the query matches nothing; it tests nothing")
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("in memory vs the store (-store +memory):\n%s", diff)
			}
		})
	}
}
