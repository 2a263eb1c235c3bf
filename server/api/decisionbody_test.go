package api

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/internal/jsonenc"
	"github.com/postern-dev/postern/server/decision"
)

func TestDecisionBodiesAreJSONMarshalsBytes(t *testing.T) {
	at := time.Date(2026, 12, 7, 8, 0, 0, 123456789, time.UTC)
	until := at.Add(72 * time.Hour)
	deny := []decision.Reason{{Code: "control_failed", Control: "firewall", Message: "The firewall is off <&>", Remediation: "Turn it on"}}
	warn := []decision.Reason{{Code: "exception_applied", Control: "disk_encryption", Message: "waived", Until: until}}
	cases := []struct {
		name string
		d    decision.Decision
	}{
		{"an allowed device", decision.Decision{Allow: true, DeviceID: "dev", Key: "hardware", Reasons: []decision.Reason{}, PostureAgeSeconds: 12,
			EvaluatedAt: at, ValidUntil: at.Add(time.Minute)}},
		{"a denied device with warnings and a user", decision.Decision{DeviceID: "dev", User: "alice", Key: "software", Reasons: deny, Warnings: warn,
			PostureAgeSeconds: 0, EvaluatedAt: at, ValidUntil: at.Add(10 * time.Second)}},
		{"the same device allowed again", decision.Decision{Allow: true, DeviceID: "dev", Key: "hardware", Reasons: []decision.Reason{}, PostureAgeSeconds: 99,
			EvaluatedAt: at.Add(time.Second), ValidUntil: at.Add(time.Minute)}},
		{"an unknown device (nil reasons, no report)", decision.Decision{Reasons: nil, PostureAgeSeconds: -1, EvaluatedAt: at, ValidUntil: at}},
		{"a time in another zone", decision.Decision{Allow: true, DeviceID: "dev", Reasons: []decision.Reason{},
			EvaluatedAt: at.In(time.FixedZone("x", 3600)), ValidUntil: at}},
	}
	var bc bodyCache
	for round := range 2 { // the second round reuses what the first cached
		for _, c := range cases {
			// What writeJSON would send: jsonenc keeps <, > and &.
			want, err := jsonenc.Marshal(c.d)
			if err != nil {
				t.Fatal(err)
			}
			got, err := bc.encode(&c.d)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want)+"\n", string(got)); diff != "" {
				t.Errorf("round %d, %s (-want +got):\n%s", round, c.name, diff)
			}
			if c.d.Reasons != nil && len(c.d.Reasons) > 0 && !strings.Contains(string(got), "The firewall is off <&>") {
				t.Errorf("round %d, %s: the reason is escaped: %s", round, c.name, got)
			}
		}
	}
}

func TestDecisionBodyFollowsAChangedDecision(t *testing.T) {
	at := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	var bc bodyCache
	allow := decision.Decision{Allow: true, DeviceID: "dev", Reasons: []decision.Reason{}, EvaluatedAt: at, ValidUntil: at}
	if _, err := bc.encode(&allow); err != nil {
		t.Fatal(err)
	}
	// The same device, now denied: the cached allow must not be served.
	deny := decision.Decision{DeviceID: "dev", Reasons: []decision.Reason{{Code: "report_stale", Message: "old"}}, EvaluatedAt: at, ValidUntil: at}
	got, err := bc.encode(&deny)
	if err != nil {
		t.Fatal(err)
	}
	var back decision.Decision
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	if back.Allow || len(back.Reasons) != 1 || back.Reasons[0].Code != "report_stale" {
		t.Errorf("answer after the change = %s", got)
	}
}
