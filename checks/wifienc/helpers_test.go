package wifienc

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
)

func stdout(b []byte) host.Output { return host.Output{Stdout: b} }

// collectAndEvaluate runs the collector on h and evaluates its facts with
// th (nil: the defaults), returning the facts' JSON too.
func collectAndEvaluate(t testing.TB, h host.Host, th *Thresholds) (checks.Result, []byte) {
	t.Helper()
	facts, err := Collect(context.Background(), h)
	if err != nil {
		t.Fatalf("collect: %v", err)
	}
	b, err := json.Marshal(facts)
	if err != nil {
		t.Fatal(err)
	}
	var thr any
	if th != nil {
		thr = th
	}
	return Evaluate(checks.EvalInput{OS: h.GOOS(), Facts: b, Thresholds: thr, Now: time.Unix(0, 0)}), b
}

// collectAndEvaluateErr returns the collector's error text ("" if none).
func collectAndEvaluateErr(t testing.TB, h host.Host) (string, any) {
	t.Helper()
	facts, err := Collect(context.Background(), h)
	if err == nil {
		return "", facts
	}
	return err.Error(), nil
}
