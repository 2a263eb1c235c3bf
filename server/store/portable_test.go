package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks"
)

// TestBackendsAgree runs one scenario through every method of the SQL
// store on each backend and compares what they return, so that SQL which
// SQLite accepts but PostgreSQL reads differently (types, NULLs, LIKE
// escapes, UNION typing, ordering) shows up here.
func TestBackendsAgree(t *testing.T) {
	got := map[string]map[string]any{}
	forEachBackend(t, func(t *testing.T, b backend) {
		got[b.name] = portableScenario(t, b.openNew(t).(*sqlStore))
	})
	lite, pg := got["sqlite"], got["postgres"]
	if lite == nil || pg == nil {
		t.Skip("a backend did not run")
	}
	for name, want := range lite {
		if diff := cmp.Diff(want, pg[name]); diff != "" {
			t.Errorf("%s: sqlite and postgres differ (-sqlite +postgres):\n%s", name, diff)
		}
	}
	if len(lite) < 60 || len(lite) != len(pg) {
		t.Errorf("compared %d results (sqlite) and %d (postgres)", len(lite), len(pg))
	}
}

// portableScenario fills s and returns every read's result by step name.
// Errors are kept as their text: both backends must agree on them too.
func portableScenario(t *testing.T, s *sqlStore) map[string]any {
	ctx := context.Background()
	out := map[string]any{}
	rec := func(name string, read func() (any, error)) {
		v, err := read()
		if err != nil {
			v = "error: " + err.Error()
		}
		out[name] = v
	}
	recErr := func(name string, err error) { rec(name, func() (any, error) { return nil, err }) }
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	now := t0.Add(200 * 24 * time.Hour)
	devs := []struct {
		id, host, os, org, owner string
		enrolled                 time.Time
	}{
		{"d1", "WS-Alpha", "windows", "Eastside Clinic", "maria", now.Add(-100 * 24 * time.Hour)},
		{"d2", "mac_beta", "darwin", "Eastside Clinic", "li", now.Add(-50 * 24 * time.Hour)},
		{"d3", "lin%gamma", "linux", "Westside", "maria", now.Add(-10 * 24 * time.Hour)},
		{"d4", "WS-Delta", "windows", "Westside", "sam", now.Add(-2 * time.Hour)},
		{"d5", "old-box", "windows", "", "", now.Add(-190 * 24 * time.Hour)},
		{"d6", "Ünïcode-ws", "linux", "Westside", "Zoë", now.Add(-5 * 24 * time.Hour)},
	}
	for i, d := range devs {
		_, tok, err := NewEnrollToken([32]byte{}, time.Hour, d.org, d.owner, d.enrolled.Add(-time.Minute))
		must(err)
		tok.Hash = fmt.Sprintf("tok%d", i) // stable across backends
		must(s.CreateToken(ctx, tok))
		_, err = s.Enroll(ctx, tok.Hash, Device{ID: d.id, CertSHA256: "cert-" + d.id, CertNotAfter: d.enrolled.Add(90 * 24 * time.Hour),
			Info: checks.Device{Hostname: d.host, OS: d.os, OSName: d.os + " name", OSVersion: "1", Arch: "amd64"}}, d.enrolled)
		must(err)
	}
	_, spare, err := NewEnrollToken([32]byte{}, time.Hour, "spare", "", now)
	must(err)
	spare.Hash = "spare"
	must(s.CreateToken(ctx, spare))

	report := func(id string, seq uint64, at time.Time, failing ...checks.ControlID) {
		t.Helper()
		d := devs[id[1]-'1']
		_, err := s.IngestReport(ctx, Ingest{Report: Report{DeviceID: id, Sequence: seq, Hash: fmt.Sprint(id, seq),
			CollectedAt: at.Add(-time.Minute), ReceivedAt: at, Body: []byte(fmt.Sprintf(`{"seq":%d,"text":"é\u00a0ü"}`, seq))},
			Info: checks.Device{Hostname: d.host, OS: d.os, OSName: d.os + " name", OSVersion: "1", Arch: "amd64"}, Failing: failing})
		must(err)
	}
	report("d1", 1, now.Add(-3*time.Hour), checks.Firewall)
	report("d1", 2, now.Add(-time.Hour), checks.Firewall, checks.Antivirus)
	report("d2", 1, now.Add(-30*time.Minute))
	report("d3", 7, now.Add(-30*24*time.Hour), checks.DiskEncryption) // stale, then inactive
	report("d4", 1, now.Add(-10*time.Minute), checks.ScreenLock)
	report("d6", 1, now.Add(-2*time.Hour))
	must(s.Revoke(ctx, "d4", now.Add(-5*time.Minute)))
	must(s.RenewCert(ctx, "d2", "cert-d2-new", now.Add(100*24*time.Hour)))

	rec("device", func() (any, error) { return s.Device(ctx, "d1") })
	rec("device by renewed cert", func() (any, error) { return s.DeviceByCert(ctx, "cert-d2-new") })
	rec("unknown device", func() (any, error) { return s.Device(ctx, "nope") })
	rec("devices", func() (any, error) { return s.Devices(ctx) })
	rec("posture", func() (any, error) { return s.Posture(ctx, "d1") })
	rec("posture by cert", func() (any, error) { return s.PostureByCert(ctx, "cert-d3") })
	rec("history", func() (any, error) { return s.History(ctx, "d1", 10) })
	rec("postures", func() (any, error) { return s.Postures(ctx) })
	rec("revoked since", func() (any, error) { return s.RevokedSince(ctx, time.Time{}) })

	th := Thresholds{Now: now, StaleAfter: 24 * time.Hour, InactiveAfter: 21 * 24 * time.Hour}
	queries := map[string]FleetQuery{"all": {}}
	for _, key := range []string{SortHostname, SortOwner, SortOrg, SortOS, SortLastSeen, SortStatus} {
		queries["sort "+key] = FleetQuery{Sort: key}
		queries["sort "+key+" desc"] = FleetQuery{Sort: key, Desc: true}
	}
	for _, st := range DeviceStatuses {
		queries["status "+string(st)] = FleetQuery{Status: st}
	}
	for _, search := range []string{"ws", "_", "%", "ÜNÏ", "maria", "D3", `\`} {
		queries["search "+search] = FleetQuery{Search: search}
	}
	queries["control"] = FleetQuery{Control: checks.Firewall}
	queries["os"] = FleetQuery{OS: "windows"}
	queries["org and owner"] = FleetQuery{Org: "Westside", Owner: "maria"}
	queries["page"] = FleetQuery{Sort: SortLastSeen, Offset: 2, Limit: 2}
	queries["every device at once"] = FleetQuery{Sort: SortLastSeen, Desc: true, All: true, Offset: 2, Limit: 2}
	for name, q := range queries {
		q.Thresholds = th
		rec("fleet "+name, func() (any, error) { return s.FleetDevices(ctx, q) })
	}
	rec("fleet counts", func() (any, error) { return s.FleetCounts(ctx, th) })
	rec("fleet facets", func() (any, error) {
		orgs, oses, err := s.FleetFacets(ctx)
		return [][]string{orgs, oses}, err
	})
	rec("recent changes", func() (any, error) { return s.RecentChanges(ctx, now.Add(-60*24*time.Hour), 50) })
	must(s.RecordTrend(ctx, now.Add(-24*time.Hour), map[DeviceStatus]int{StatusCompliant: 3}))
	must(s.RecordTrend(ctx, now, map[DeviceStatus]int{StatusCompliant: 1, StatusRevoked: 1}))
	must(s.RecordTrend(ctx, now.Add(time.Minute), map[DeviceStatus]int{StatusCompliant: 2, StatusStale: 1}))
	rec("trend", func() (any, error) { return s.Trend(ctx, now.Add(-7*24*time.Hour)) })
	recErr("revoke used token", s.RevokeToken(ctx, "tok0", now))
	recErr("revoke spare token", s.RevokeToken(ctx, "spare", now))
	rec("tokens", func() (any, error) { return s.Tokens(ctx, 100) })

	must(s.CreateAPIKey(ctx, APIKey{ID: "k1", Name: "gw-east", Hash: "h1", CreatedAt: now}))
	must(s.CreateAPIKey(ctx, APIKey{ID: "k2", Name: "gw-west", Hash: "h2", CreatedAt: now}))
	recErr("duplicate api key", s.CreateAPIKey(ctx, APIKey{ID: "k1", Name: "again", Hash: "h3", CreatedAt: now}))
	recErr("revoke api key", s.RevokeAPIKey(ctx, "k2", now))
	recErr("revoke api key again", s.RevokeAPIKey(ctx, "k2", now))
	rec("api keys", func() (any, error) { return s.APIKeys(ctx) })
	rec("api key", func() (any, error) { return s.APIKey(ctx, "k2") })

	portableAccounts(s, now, rec, recErr)
	portableLifecycle(s, now, rec, recErr)

	rec("notes", func() (any, error) {
		n, err := s.AddNote(ctx, Note{DeviceID: "d1", Author: "ana", Body: "called the user ✓", CreatedAt: now})
		if err != nil {
			return nil, err
		}
		notes, err := s.Notes(ctx, "d1", 0)
		for i := range notes {
			if notes[i].ID == n.ID {
				notes[i].ID = "(new)" // random
			}
		}
		return notes, err
	})
	rec("note on an unknown device", func() (any, error) { return s.AddNote(ctx, Note{DeviceID: "nope", Author: "ana", Body: "x"}) })
	rec("last decisions", func() (any, error) {
		err := s.PutLastDecisions(ctx, []LastDecision{{DeviceID: "d1", Reasons: "control_failed:firewall", DecidedAt: now},
			{DeviceID: "d2", Allow: true, DecidedAt: now}, {DeviceID: "gone", Allow: true, DecidedAt: now}})
		if err != nil {
			return nil, err
		}
		return s.LastDecisions(ctx)
	})
	rec("prune history", func() (any, error) { return s.Prune(ctx, now.Add(-2*time.Hour)) })
	rec("history after prune", func() (any, error) { return s.History(ctx, "d1", 0) })
	return out
}

func portableAccounts(s *sqlStore, now time.Time, rec func(string, func() (any, error)), recErr func(string, error)) {
	ctx := context.Background()
	for _, name := range []string{"zed", "ana"} {
		u := User{Username: name, FirstName: "F " + name, LastName: "L", Role: "viewer", PasswordHash: "p0-" + name,
			PasswordChangedAt: now, MustChange: true, CreatedAt: now}
		recErr("create user "+name, s.CreateUser(ctx, u))
	}
	recErr("create user twice", s.CreateUser(ctx, User{Username: "ana", Role: "viewer", PasswordHash: "x", CreatedAt: now}))
	for i := 1; i <= 4; i++ {
		recErr(fmt.Sprint("set password ", i), s.SetPassword(ctx, "ana", fmt.Sprint("p", i), now.Add(time.Duration(i)*time.Minute), false, 3))
	}
	recErr("set password of nobody", s.SetPassword(ctx, "nobody", "p", now, false, 3))
	rec("password history", func() (any, error) { return s.PasswordHistory(ctx, "ana", 10) })
	for i := 1; i <= 3; i++ {
		rec(fmt.Sprint("login failure ", i), func() (any, error) { return s.RecordLoginFailure(ctx, "zed", 2, now.Add(time.Duration(i)*time.Second)) })
	}
	rec("login failure of nobody", func() (any, error) { return s.RecordLoginFailure(ctx, "nobody", 2, now) })
	recErr("unlock", s.Unlock(ctx, "zed"))
	recErr("record login", s.RecordLogin(ctx, "zed", now.Add(time.Hour)))
	recErr("set role", s.SetRole(ctx, "zed", "admin"))
	recErr("set role of nobody", s.SetRole(ctx, "nobody", "admin"))
	rec("users", func() (any, error) { return s.Users(ctx) })
	rec("user", func() (any, error) { return s.User(ctx, "ana") })
	recErr("create OIDC user", s.CreateUser(ctx, User{Username: "oli", FirstName: "O", LastName: "L", Role: "analyst",
		CreatedAt: now, OIDCIssuer: "https://idp.example", OIDCSubject: "sub-1"}))
	recErr("create a second account for the same OIDC identity", s.CreateUser(ctx, User{Username: "oli2", Role: "viewer",
		CreatedAt: now, OIDCIssuer: "https://idp.example", OIDCSubject: "sub-1"}))
	rec("user by OIDC identity", func() (any, error) { return s.UserByOIDC(ctx, "https://idp.example", "sub-1") })
	rec("user by OIDC identity of another issuer", func() (any, error) { return s.UserByOIDC(ctx, "https://other.example", "sub-1") })
	rec("user by empty OIDC subject", func() (any, error) { return s.UserByOIDC(ctx, "", "") })
	rec("password history of an OIDC user", func() (any, error) { return s.PasswordHistory(ctx, "oli", 10) })
	for i, u := range []string{"ana", "ana", "zed"} {
		recErr(fmt.Sprint("create session ", i), s.CreateSession(ctx, Session{IDHash: fmt.Sprint("s", i), Username: u, CSRFToken: "c",
			CreatedAt: now, LastSeenAt: now.Add(time.Duration(i) * time.Hour)}))
	}
	recErr("touch session", s.TouchSession(ctx, "s0", now.Add(5*time.Hour)))
	rec("session", func() (any, error) { return s.Session(ctx, "s0") })
	rec("delete idle sessions", func() (any, error) { return s.DeleteIdleSessions(ctx, now.Add(90*time.Minute)) })
	rec("session deleted as idle", func() (any, error) { return s.Session(ctx, "s1") })
	recErr("delete user sessions", s.DeleteUserSessions(ctx, "zed"))
	recErr("delete session", s.DeleteSession(ctx, "s0"))
	rec("deleted session", func() (any, error) { return s.Session(ctx, "s0") })
	portableAccountState(s, now, rec, recErr)
}

func portableAccountState(s *sqlStore, now time.Time, rec func(string, func() (any, error)), recErr func(string, error)) {
	ctx := context.Background()
	rec("disable the last admin", func() (any, error) {
		return s.DisableUser(ctx, "zed", Disable{At: now, Reason: DisabledByAdmin, By: "os:root", KeepAdmin: true})
	})
	rec("disable an idle account active since", func() (any, error) {
		return s.DisableUser(ctx, "ana", Disable{At: now, Reason: DisabledInactive, By: "system", IdleSince: now.Add(-time.Hour)})
	})
	rec("disable", func() (any, error) {
		return s.DisableUser(ctx, "ana", Disable{At: now, Reason: DisabledByAdmin, By: "os:root"})
	})
	rec("disable again", func() (any, error) {
		return s.DisableUser(ctx, "ana", Disable{At: now, Reason: DisabledByAdmin, By: "os:root"})
	})
	rec("disable nobody", func() (any, error) { return s.DisableUser(ctx, "nobody", Disable{At: now}) })
	rec("disabled user", func() (any, error) { return s.User(ctx, "ana") })
	rec("enable", func() (any, error) { return s.EnableUser(ctx, "ana", now.Add(time.Minute)) })
	rec("enable again", func() (any, error) { return s.EnableUser(ctx, "ana", now.Add(time.Minute)) })
	rec("enable nobody", func() (any, error) { return s.EnableUser(ctx, "nobody", now) })
	recErr("review", s.RecordReview(ctx, "ana", "user:zed", now.Add(2*time.Minute)))
	recErr("review nobody", s.RecordReview(ctx, "nobody", "user:zed", now))
	rec("reviewed user", func() (any, error) { return s.User(ctx, "ana") })
	for i := 1; i <= 3; i++ {
		rec(fmt.Sprint("source failure ", i), func() (any, error) {
			return s.RecordSourceFailure(ctx, "ana", "192.0.2.1", 2, now.Add(time.Duration(i)*time.Second))
		})
	}
	rec("unknown source", func() (any, error) { return s.UserSource(ctx, "ana", "192.0.2.9") })
	rec("locked sources", func() (any, error) { return s.LockedSources(ctx) })
	recErr("source login", s.RecordSourceLogin(ctx, "ana", "192.0.2.1", now.Add(time.Hour)))
	rec("source after login", func() (any, error) { return s.UserSource(ctx, "ana", "192.0.2.1") })
	rec("source failure after login", func() (any, error) { return s.RecordSourceFailure(ctx, "ana", "192.0.2.1", 2, now.Add(2*time.Hour)) })
	recErr("unlock source", s.UnlockSource(ctx, "ana", "192.0.2.1"))
	rec("forget sources used since", func() (any, error) { return s.ForgetUserSources(ctx, now) })
	rec("forget old sources", func() (any, error) { return s.ForgetUserSources(ctx, now.Add(3*time.Hour)) })
	rec("forgotten source", func() (any, error) { return s.UserSource(ctx, "ana", "192.0.2.1") })
	recErr("demote the last admin", s.SetRole(ctx, "zed", "viewer"))
	recErr("delete the last admin", s.DeleteUser(ctx, "zed"))
	recErr("delete", s.DeleteUser(ctx, "ana"))
	rec("deleted user", func() (any, error) { return s.User(ctx, "ana") })
	rec("deleted user's source", func() (any, error) { return s.UserSource(ctx, "ana", "192.0.2.1") })
	recErr("delete nobody", s.DeleteUser(ctx, "nobody"))
}

func portableLifecycle(s *sqlStore, now time.Time, rec func(string, func() (any, error)), recErr func(string, error)) {
	ctx := context.Background()
	rec("empty audit tail", func() (any, error) { return s.AuditTail(ctx) })
	prev := ""
	for i := 1; i <= 6; i++ {
		r := AuditRow{Seq: uint64(i), At: now.Add(time.Duration(i) * time.Hour), Actor: []string{"ana", "zed"}[i%2],
			Kind: []string{"device_revoked", "token_created", "exception_granted"}[i%3], DeviceID: []string{"", "d1"}[i%2],
			Details: []byte(fmt.Sprintf(`{"n":%d,"s":"ü"}`, i)), PrevHash: prev, Hash: fmt.Sprint("h", i)}
		recErr(fmt.Sprint("append audit ", i), s.AppendAudit(ctx, r))
		prev = r.Hash
	}
	recErr("append a taken sequence", s.AppendAudit(ctx, AuditRow{Seq: 3, At: now, Details: []byte(`{}`)}))
	rec("audit tail", func() (any, error) { return s.AuditTail(ctx) })
	rec("audit rows", func() (any, error) { return s.AuditRows(ctx, 2, 3) })
	for name, f := range map[string]AuditFilter{
		"all": {}, "actor": {Actor: "ana"}, "kind": {Kind: "token_created"}, "device": {DeviceID: "d1"},
		"time": {From: now.Add(2 * time.Hour), To: now.Add(5 * time.Hour)}, "page": {Offset: 1, Limit: 2},
	} {
		rec("search audit "+name, func() (any, error) { return s.SearchAudit(ctx, f) })
	}
	rec("prune audit", func() (any, error) { return s.PruneAudit(ctx, now.Add(3*time.Hour+time.Minute), now.Add(24*time.Hour)) })
	rec("audit anchor", func() (any, error) { return s.AuditAnchor(ctx) })
	rec("prune all audit", func() (any, error) { return s.PruneAudit(ctx, now.Add(48*time.Hour), now.Add(48*time.Hour)) })
	rec("audit tail after pruning all", func() (any, error) { return s.AuditTail(ctx) })

	for i, e := range []Exception{
		{ID: "e1", Scope: ScopeDevice, Subject: "d1", Control: "firewall", Reason: "r", Approver: "ana", StartsAt: now, ExpiresAt: now.Add(24 * time.Hour), CreatedAt: now},
		{ID: "e2", Scope: ScopeOrg, Subject: "Westside", Control: "antivirus", Reason: "r", Approver: "ana", StartsAt: now.Add(-time.Hour), ExpiresAt: now.Add(time.Hour), CreatedAt: now},
		{ID: "e3", Scope: ScopeOrg, Subject: "Westside", Control: "antivirus", Reason: "r", Approver: "ana", StartsAt: now.Add(-48 * time.Hour), ExpiresAt: now.Add(-time.Hour), CreatedAt: now},
	} {
		recErr(fmt.Sprint("create exception ", i), s.CreateException(ctx, e))
	}
	recErr("end exception", s.EndException(ctx, "e1", now.Add(time.Minute), "zed"))
	recErr("end exception again", s.EndException(ctx, "e1", now.Add(time.Minute), "zed"))
	rec("exception", func() (any, error) { return s.Exception(ctx, "e1") })
	rec("unknown exception", func() (any, error) { return s.Exception(ctx, "nope") })
	rec("exceptions", func() (any, error) { return s.Exceptions(ctx, now) })
	for i, a := range []Attestation{
		{ID: "a1", DeviceID: "d1", User: "maria", StatementVersion: "1", AttestedAt: now.Add(-400 * 24 * time.Hour), RecordedBy: "agent"},
		{ID: "a2", DeviceID: "d1", User: "maria", StatementVersion: "2", AttestedAt: now.Add(-time.Hour), RecordedBy: "agent"},
		{ID: "a3", DeviceID: "d2", User: "li", StatementVersion: "2", AttestedAt: now, RecordedBy: "ana"},
	} {
		recErr(fmt.Sprint("record attestation ", i), s.RecordAttestation(ctx, a))
	}
	rec("latest attestations", func() (any, error) { return s.LatestAttestations(ctx, now.Add(-365*24*time.Hour)) })
	recErr("put state", s.PutState(ctx, "guard", []byte(`{"held":true}`), now))
	recErr("replace state", s.PutState(ctx, "guard", []byte(`{"held":false}`), now.Add(time.Second)))
	rec("state", func() (any, error) {
		v, at, err := s.State(ctx, "guard")
		return []any{string(v), at}, err
	})
	rec("unknown state", func() (any, error) {
		v, at, err := s.State(ctx, "nope")
		return []any{string(v), at}, err
	})
}
