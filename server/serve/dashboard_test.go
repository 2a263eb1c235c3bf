package serve

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/postern-dev/postern/server/store"
)

type fakeExceptions struct{ err error }

func (f fakeExceptions) Grant(_ context.Context, e store.Exception) (store.Exception, error) {
	return e, f.err
}
func (f fakeExceptions) End(context.Context, string, string) error { return f.err }
func (f fakeExceptions) List(context.Context, time.Time) ([]store.Exception, error) {
	return nil, nil
}

func TestDashboardExceptionChangesApplyAtOnce(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
		want int
	}{
		{"a grant and an end that succeed each re-apply the exceptions", nil, 2},
		{"refused changes re-apply nothing", errors.New("give a reason"), 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n := 0
			a := appliedExceptions{Exceptions: fakeExceptions{err: tt.err}, changed: func(context.Context) { n++ }}
			a.Grant(t.Context(), store.Exception{})
			a.End(t.Context(), "ex_1", "carol")
			if n != tt.want {
				t.Errorf("changed %d times, want %d", n, tt.want)
			}
		})
	}
}
