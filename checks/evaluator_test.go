package checks

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type evalFacts struct {
	Enabled bool `json:"enabled"`
}

type evalThresholds struct{ Max int }

func (t *evalThresholds) Validate() error {
	if t.Max < 0 {
		return errors.New("max must not be negative")
	}
	return nil
}

func TestEvaluatorPreamble(t *testing.T) {
	var gotTh *evalThresholds
	var gotFacts evalFacts
	e := Evaluator[evalFacts, evalThresholds]{
		What:     "test",
		Defaults: func() any { return &evalThresholds{Max: 7} },
		Judge: func(_ EvalInput, f *evalFacts, th *evalThresholds) Result {
			gotFacts, gotTh = *f, th
			return Result{Status: StatusPass}
		},
	}
	tests := []struct {
		name       string
		thresholds any
		wantMax    int
	}{
		{"the policy's thresholds are used", &evalThresholds{Max: 3}, 3},
		{"no thresholds are the defaults", nil, 7},
		{"a nil pointer is the defaults", (*evalThresholds)(nil), 7},
		{"thresholds of another control are the defaults", &struct{ Max int }{Max: 1}, 7},
		{"thresholds that fail Validate are the defaults", &evalThresholds{Max: -1}, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.Evaluate(EvalInput{Facts: json.RawMessage(`{"enabled":true}`), Thresholds: tt.thresholds})
			if res.Status != StatusPass || gotTh == nil || gotTh.Max != tt.wantMax {
				t.Errorf("status %s, thresholds %+v; want pass with max %d", res.Status, gotTh, tt.wantMax)
			}
			if diff := cmp.Diff(evalFacts{Enabled: true}, gotFacts); diff != "" {
				t.Errorf("facts (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("facts that do not decode are unknown, naming the control, and are not judged", func(t *testing.T) {
		gotTh = nil
		res := e.Evaluate(EvalInput{Facts: json.RawMessage(`{"enabled":"yes"}`)})
		if res.Status != StatusUnknown || !strings.Contains(res.Summary, "the test facts do not decode: ") || gotTh != nil {
			t.Errorf("got %+v (judged with %v)", res, gotTh)
		}
	})
	t.Run("a control without thresholds gets none", func(t *testing.T) {
		called := false
		n := Evaluator[evalFacts, NoThresholds]{What: "test", Judge: func(_ EvalInput, _ *evalFacts, th *NoThresholds) Result {
			called = th == nil
			return Result{Status: StatusFail}
		}}
		if res := n.Evaluate(EvalInput{Facts: json.RawMessage(`{}`), Thresholds: &evalThresholds{}}); res.Status != StatusFail || !called {
			t.Errorf("got %+v, judged without thresholds: %v", res, called)
		}
	})
}
