package decision

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/postern-dev/postern/checks"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// The test binary registers a trivial evaluator for every control: facts
// {"ok":true} pass, anything else fails.
func init() {
	for _, id := range checks.AllControlIDs {
		checks.Register(checks.Control{ID: id, Evaluate: func(in checks.EvalInput) checks.Result {
			var f struct{ OK bool }
			if err := json.Unmarshal(in.Facts, &f); err != nil || !f.OK {
				return checks.Result{Status: checks.StatusFail, Summary: "not ok", Remediation: "make it ok"}
			}
			return checks.Result{Status: checks.StatusPass, Summary: "ok"}
		}})
	}
}

func verdicts(over map[checks.ControlID]checks.Status) []checks.Verdict {
	var vs []checks.Verdict
	for _, id := range checks.AllControlIDs {
		st, ok := over[id]
		if !ok {
			st = checks.StatusPass
		}
		vs = append(vs, checks.Verdict{ID: id, Status: st, Summary: string(id) + " is " + string(st), Remediation: "fix " + string(id)})
	}
	return vs
}

func policyWith(f func(p *checks.Policy)) *checks.Policy {
	p := checks.DefaultPolicy()
	if f != nil {
		f(p)
	}
	return p
}

func TestDecide(t *testing.T) {
	now := t0.Add(5 * time.Minute)
	good := Input{DeviceID: "dev", Known: true, HasReport: true, PostureTime: t0, Verdicts: verdicts(nil)}
	with := func(f func(in *Input)) Input {
		in := good
		f(&in)
		return in
	}
	tests := []struct {
		name      string
		in        Input
		policy    *checks.Policy
		wantAllow bool
		wantCodes []string
	}{
		{"a fresh passing report is allowed", good, nil, true, nil},
		{"an unknown device is denied", with(func(in *Input) { in.Known = false }), nil, false, []string{CodeDeviceUnknown}},
		{"a revoked device is denied", with(func(in *Input) { in.Revoked = true }), nil, false, []string{CodeDeviceRevoked}},
		{"a device without a report is denied", with(func(in *Input) { in.HasReport = false }), nil, false, []string{CodeNoReport}},
		{"a report older than the maximum age is denied", with(func(in *Input) { in.PostureTime = now.Add(-16 * time.Minute) }), nil, false, []string{CodeReportStale}},
		{"a failing blocking control is denied", with(func(in *Input) {
			in.Verdicts = verdicts(map[checks.ControlID]checks.Status{checks.Firewall: checks.StatusFail})
		}), nil, false, []string{CodeControlFailed}},
		{"an unknown blocking control is denied by default", with(func(in *Input) {
			in.Verdicts = verdicts(map[checks.ControlID]checks.Status{checks.Antivirus: checks.StatusUnknown})
		}), nil, false, []string{CodeControlUnknown}},
		{"an unknown control is allowed when the policy allows unknowns", with(func(in *Input) {
			in.Verdicts = verdicts(map[checks.ControlID]checks.Status{checks.Antivirus: checks.StatusUnknown})
		}), policyWith(func(p *checks.Policy) { p.Unknown = checks.UnknownAllow }), true, nil},
		{"a not applicable control is allowed", with(func(in *Input) {
			in.Verdicts = verdicts(map[checks.ControlID]checks.Status{checks.WiFiEncryption: checks.StatusNotApplicable})
		}), nil, true, nil},
		{"a failing report-only control is allowed", with(func(in *Input) {
			in.Verdicts = verdicts(map[checks.ControlID]checks.Status{checks.Firewall: checks.StatusFail})
		}), policyWith(func(p *checks.Policy) { p.Control(checks.Firewall).Enforcement = checks.EnforceReport }), true, nil},
		{"a failing notify control is allowed", with(func(in *Input) {
			in.Verdicts = verdicts(map[checks.ControlID]checks.Status{checks.Firewall: checks.StatusFail})
		}), policyWith(func(p *checks.Policy) { p.Control(checks.Firewall).Enforcement = checks.EnforceNotify }), true, nil},
		{"a warn_then_block control within its grace is allowed", with(func(in *Input) {
			in.Verdicts = verdicts(map[checks.ControlID]checks.Status{checks.OSPatched: checks.StatusFail})
			in.FirstFailed = map[checks.ControlID]time.Time{checks.OSPatched: now.Add(-time.Hour)}
		}), policyWith(func(p *checks.Policy) {
			p.Controls[checks.OSPatched] = &checks.ControlPolicy{Enforcement: checks.EnforceWarnThenBlock, Grace: 48 * time.Hour}
		}), true, nil},
		{"a warn_then_block control past its grace is denied", with(func(in *Input) {
			in.Verdicts = verdicts(map[checks.ControlID]checks.Status{checks.OSPatched: checks.StatusFail})
			in.FirstFailed = map[checks.ControlID]time.Time{checks.OSPatched: now.Add(-49 * time.Hour)}
		}), policyWith(func(p *checks.Policy) {
			p.Controls[checks.OSPatched] = &checks.ControlPolicy{Enforcement: checks.EnforceWarnThenBlock, Grace: 48 * time.Hour}
		}), false, []string{CodeControlFailed}},
		{"every blocking failure is a reason", with(func(in *Input) {
			in.Verdicts = verdicts(map[checks.ControlID]checks.Status{checks.Firewall: checks.StatusFail, checks.DiskEncryption: checks.StatusFail})
		}), nil, false, []string{CodeControlFailed, CodeControlFailed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.policy
			if p == nil {
				p = checks.DefaultPolicy()
			}
			d := Decide(tt.in, p, now)
			if d.Allow != tt.wantAllow {
				t.Errorf("allow = %v, want %v (reasons %+v)", d.Allow, tt.wantAllow, d.Reasons)
			}
			var codes []string
			for _, r := range d.Reasons {
				codes = append(codes, r.Code)
			}
			if diff := cmp.Diff(tt.wantCodes, codes); diff != "" {
				t.Errorf("reason codes (-want +got):\n%s", diff)
			}
			if d.Reasons == nil {
				t.Error("reasons is nil; it must encode as []")
			}
			if !d.ValidUntil.After(d.EvaluatedAt) {
				t.Errorf("valid until %v is not after %v", d.ValidUntil, d.EvaluatedAt)
			}
		})
	}
}

func TestDecisionJSON(t *testing.T) {
	in := Input{DeviceID: "dev-1", Known: true, HasReport: true, PostureTime: t0, Verdicts: verdicts(nil)}
	b, err := json.Marshal(Decide(in, checks.DefaultPolicy(), t0.Add(90*time.Second+300*time.Millisecond)))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"allow":true,"device_id":"dev-1","key":"software","reasons":[],"posture_age_seconds":90,"evaluated_at":"2025-03-01T12:01:30Z","valid_until":"2025-03-01T12:02:30Z"}`
	if diff := cmp.Diff(want, string(b)); diff != "" {
		t.Errorf("JSON (-want +got):\n%s", diff)
	}
}

func TestValidUntilStopsAtStaleness(t *testing.T) {
	in := Input{DeviceID: "dev", Known: true, HasReport: true, PostureTime: t0, Verdicts: verdicts(nil)}
	now := t0.Add(14*time.Minute + 30*time.Second)
	d := Decide(in, checks.DefaultPolicy(), now)
	if want := t0.Add(15 * time.Minute); !d.ValidUntil.Equal(want) {
		t.Errorf("valid until %v, want %v", d.ValidUntil, want)
	}
}

func TestPostureTime(t *testing.T) {
	tests := []struct {
		name                string
		collected, received time.Time
		want                time.Time
	}{
		{"an agent clock behind is believed", t0.Add(-time.Minute), t0, t0.Add(-time.Minute)},
		{"an agent clock ahead is capped at receipt", t0.Add(time.Hour), t0, t0},
		{"a missing collection time uses receipt", time.Time{}, t0, t0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PostureTime(tt.collected, tt.received); !got.Equal(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func report(ok bool) *checks.Report {
	r := &checks.Report{CollectedAt: t0}
	for _, id := range checks.AllControlIDs {
		r.Observations = append(r.Observations, checks.Observation{ID: id, Facts: json.RawMessage(map[bool]string{true: `{"ok":true}`, false: `{"ok":false}`}[ok])})
	}
	return r
}

func TestCache(t *testing.T) {
	c := NewCache(10, DefaultCacheTTL)
	p := checks.DefaultPolicy()
	loads := 0
	load := func(r *checks.Report) func() (*checks.Report, error) {
		return func() (*checks.Report, error) { loads++; return r, nil }
	}
	steps := []struct {
		name      string
		seq, pv   uint64
		now       time.Time
		r         *checks.Report
		wantLoads int
		wantPass  bool
		// expire asks Expire for entries half the TTL old first, as a
		// sweep does.
		expire bool
	}{
		{"the first request evaluates the report", 1, 1, t0, report(true), 1, true, false},
		{"the same report and policy are served from the cache", 1, 1, t0.Add(time.Second), report(false), 1, true, false},
		{"a new report is evaluated", 2, 1, t0.Add(2 * time.Second), report(false), 2, false, false},
		{"a new policy version re-evaluates", 2, 2, t0.Add(3 * time.Second), report(true), 3, true, false},
		{"an entry older than the TTL re-evaluates", 2, 2, t0.Add(3*time.Second + DefaultCacheTTL), report(false), 4, false, false},
		{"a sweep leaves an entry younger than half the TTL", 2, 2, t0.Add(4*time.Second + DefaultCacheTTL), report(true), 4, false, true},
		{"a sweep renews an entry half the TTL old", 2, 2, t0.Add(3*time.Second + DefaultCacheTTL*3/2), report(true), 5, true, true},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.expire {
				c.Expire("dev", st.now, DefaultCacheTTL/2)
			}
			vs, err := c.Verdicts("dev", st.seq, st.pv, p, st.now, load(st.r))
			if err != nil {
				t.Fatal(err)
			}
			if loads != st.wantLoads {
				t.Errorf("loads = %d, want %d", loads, st.wantLoads)
			}
			if got := checks.Compliant(vs); got != st.wantPass {
				t.Errorf("compliant = %v, want %v", got, st.wantPass)
			}
		})
	}
	t.Run("a load error is returned and not cached", func(t *testing.T) {
		boom := errors.New("boom")
		if _, err := c.Verdicts("other", 1, 1, p, t0, func() (*checks.Report, error) { return nil, boom }); !errors.Is(err, boom) {
			t.Errorf("err = %v", err)
		}
	})
}

func TestFailing(t *testing.T) {
	vs := verdicts(map[checks.ControlID]checks.Status{checks.Firewall: checks.StatusFail, checks.Antivirus: checks.StatusUnknown})
	if diff := cmp.Diff([]checks.ControlID{checks.Firewall, checks.Antivirus}, Failing(vs, checks.DefaultPolicy())); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	allow := policyWith(func(p *checks.Policy) { p.Unknown = checks.UnknownAllow })
	if diff := cmp.Diff([]checks.ControlID{checks.Firewall}, Failing(vs, allow)); diff != "" {
		t.Errorf("with unknown allowed (-want +got):\n%s", diff)
	}
}

func TestDeviceKeyPolicy(t *testing.T) {
	enrolled := t0.Add(-10 * 24 * time.Hour)
	now := t0.Add(time.Minute)
	tests := []struct {
		name         string
		key          DeviceKey
		wantAllow    bool
		wantKey      string
		wantReasons  []string
		wantWarnings []string
	}{
		{"a software key passes when hardware is not required", DeviceKey{Kind: "software"}, true, "software", nil, nil},
		{"a device stored before key kinds counts as software", DeviceKey{}, true, "software", nil, nil},
		{"a hardware key passes when required", DeviceKey{Kind: "hardware", RequireHardware: true, Enforcement: checks.EnforceBlock}, true, "hardware", nil, nil},
		{"a software key is denied when hardware is required and blocks",
			DeviceKey{Kind: "software", RequireHardware: true, Enforcement: checks.EnforceBlock}, false, "software", []string{CodeDeviceKeySoftware}, nil},
		{"a software key is warned within the grace after enrollment",
			DeviceKey{Kind: "software", RequireHardware: true, Enforcement: checks.EnforceWarnThenBlock, Grace: 30 * 24 * time.Hour, EnrolledAt: enrolled},
			true, "software", nil, []string{CodeDeviceKeySoftware}},
		{"a software key is denied once the grace has passed",
			DeviceKey{Kind: "software", RequireHardware: true, Enforcement: checks.EnforceWarnThenBlock, Grace: 5 * 24 * time.Hour, EnrolledAt: enrolled},
			false, "software", []string{CodeDeviceKeySoftware}, nil},
		{"a software key under notify is a warning", DeviceKey{Kind: "software", RequireHardware: true, Enforcement: checks.EnforceNotify},
			true, "software", nil, []string{CodeDeviceKeySoftware}},
		{"a software key under report is only shown", DeviceKey{Kind: "software", RequireHardware: true, Enforcement: checks.EnforceReport},
			true, "software", nil, nil},
	}
	codes := func(rs []Reason) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Code)
		}
		return out
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Input{DeviceID: "dev-1", Known: true, HasReport: true, PostureTime: t0, Verdicts: verdicts(nil), DeviceKey: tt.key}
			d := Decide(in, checks.DefaultPolicy(), now)
			if d.Allow != tt.wantAllow || d.Key != tt.wantKey {
				t.Errorf("allow %v key %q, want %v %q", d.Allow, d.Key, tt.wantAllow, tt.wantKey)
			}
			if diff := cmp.Diff(tt.wantReasons, codes(d.Reasons)); diff != "" {
				t.Errorf("reasons (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantWarnings, codes(d.Warnings)); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}
