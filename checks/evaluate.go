package checks

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/postern-dev/postern/checks/host"
)

// MaxFactsSize bounds one control's encoded facts, on the agent and on the
// server alike.
const MaxFactsSize = 64 << 10

// Evaluate judges every control of the report against the policy at time
// now and returns one verdict per control in display order. It is pure and
// never fails: a control without facts, or whose facts cannot be decoded,
// is unknown with the reason.
func Evaluate(r *Report, p *Policy, now time.Time) []Verdict {
	out := make([]Verdict, 0, len(AllControlIDs))
	for _, id := range AllControlIDs {
		out = append(out, EvaluateControl(r, p, id, now))
	}
	return out
}

// EvaluateControl judges one control of the report.
func EvaluateControl(r *Report, p *Policy, id ControlID, now time.Time) Verdict {
	v := Verdict{ID: id, Title: id.Title(), PolicyRef: id.PolicyRef(), Evidence: map[string]any{}}
	res := evaluateResult(r, p, id, now)
	v.Status, v.Summary, v.Remediation = res.Status, res.Summary, res.Remediation
	if res.Evidence != nil {
		v.Evidence = res.Evidence
	}
	return v
}

func evaluateResult(r *Report, p *Policy, id ControlID, now time.Time) (res Result) {
	obs, ok := r.Observation(id)
	if !ok {
		return Unknown("the agent did not report this control")
	}
	if obs.UnknownReason != "" {
		return Unknown(obs.UnknownReason)
	}
	c, ok := Lookup(id)
	if !ok || c.Evaluate == nil {
		return Unknown("this build has no evaluator for the control")
	}
	if len(obs.Facts) == 0 {
		return Unknown("the agent sent no facts for this control")
	}
	defer func() {
		if rec := recover(); rec != nil {
			res = Unknown(fmt.Sprintf("evaluating the facts failed: %v", rec))
		}
	}()
	return c.Evaluate(EvalInput{
		OS:          r.Device.OS,
		Facts:       obs.Facts,
		Thresholds:  p.Thresholds(id),
		CollectedAt: r.CollectedAt,
		Now:         now,
	})
}

// Unknown is the result for facts that could not be determined.
func Unknown(reason string) Result {
	return Result{Status: StatusUnknown, Summary: "could not be determined: " + reason, Evidence: map[string]any{}}
}

// Compliant reports whether every verdict passes or does not apply.
func Compliant(vs []Verdict) bool {
	for _, v := range vs {
		if v.Status != StatusPass && v.Status != StatusNotApplicable {
			return false
		}
	}
	return true
}

// Collect runs every registered collector concurrently under ctx (whose
// deadline bounds the whole cycle) and returns the report. A collector that
// errors, panics, or returns facts larger than MaxFactsSize yields an
// observation with the reason instead of facts; controls that are not
// registered in this build are reported as unknown.
func Collect(ctx context.Context, h host.Host, dev Device, now time.Time) *Report {
	r := &Report{Device: dev, CollectedAt: now.UTC(), Observations: make([]Observation, len(AllControlIDs))}
	var wg sync.WaitGroup
	for i, id := range AllControlIDs {
		c, ok := Lookup(id)
		if !ok || c.Collect == nil {
			r.Observations[i] = Observation{ID: id, UnknownReason: "this build has no collector for the control"}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.Observations[i] = collectOne(ctx, h, c)
		}()
	}
	wg.Wait()
	return r
}

func collectOne(ctx context.Context, h host.Host, c Control) (obs Observation) {
	obs.ID = c.ID
	defer func() {
		if rec := recover(); rec != nil {
			obs.Facts = nil
			obs.UnknownReason = fmt.Sprintf("the collector crashed: %v", rec)
		}
	}()
	facts, err := c.Collect(ctx, h)
	if err != nil {
		obs.UnknownReason = err.Error()
		return obs
	}
	b, err := json.Marshal(facts)
	if err != nil {
		obs.UnknownReason = fmt.Sprintf("encode facts: %v", err)
		return obs
	}
	if len(b) > MaxFactsSize {
		obs.UnknownReason = fmt.Sprintf("facts are %d bytes, over the %d byte limit", len(b), MaxFactsSize)
		return obs
	}
	obs.Facts = b
	return obs
}

func jsonValid(b []byte) bool { return json.Valid(b) }
