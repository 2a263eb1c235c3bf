package checks

import (
	"encoding/json"
	"fmt"
)

// Evaluator is the preamble every control's evaluation shares, written
// once: decode the facts into an F (facts that do not decode are unknown,
// naming the control) and take the policy's thresholds as a *T (the
// control's defaults when the policy gives none, gives another type, or
// gives values that fail their Validate), then Judge them. Like PerOS for
// collectors, it lets a control package hold only what is its own.
type Evaluator[F, T any] struct {
	// What names the facts in the unknown reason, e.g. "anti-virus" in
	// "the anti-virus facts do not decode: ...".
	What string
	// Defaults is the control's DefaultThresholds; nil for a control
	// without thresholds, whose Judge gets a nil *T.
	Defaults func() any
	// Judge evaluates the decoded facts, which it may change.
	Judge func(in EvalInput, f *F, th *T) Result
}

// NoThresholds is T for a control without thresholds.
type NoThresholds struct{}

// Evaluate decodes, asserts and judges; it is the control's Evaluate.
func (e Evaluator[F, T]) Evaluate(in EvalInput) Result {
	var f F
	if err := json.Unmarshal(in.Facts, &f); err != nil {
		return Unknown(fmt.Sprintf("the %s facts do not decode: %v", e.What, err))
	}
	return e.Judge(in, &f, e.thresholds(in.Thresholds))
}

func (e Evaluator[F, T]) thresholds(given any) *T {
	if e.Defaults == nil {
		return nil
	}
	th, ok := given.(*T)
	if v, validates := given.(interface{ Validate() error }); ok && th != nil && (!validates || v.Validate() == nil) {
		return th
	}
	return e.Defaults().(*T)
}
