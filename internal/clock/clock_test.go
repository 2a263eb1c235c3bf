package clock

import (
	"testing"
	"time"
)

func TestNowRunsAheadByTheShift(t *testing.T) {
	before := time.Now()
	got := Now()
	after := time.Now()
	if got.Before(before.Add(Shift())) || got.After(after.Add(Shift())) {
		t.Errorf("Now() = %v, want between %v and %v (shift %v)", got, before.Add(Shift()), after.Add(Shift()), Shift())
	}
	if d := Until(Now().Add(time.Hour)); d <= 0 || d > time.Hour {
		t.Errorf("Until(Now()+1h) = %v", d)
	}
	if d := Since(Now().Add(-time.Hour)); d < time.Hour {
		t.Errorf("Since(Now()-1h) = %v", d)
	}
}
