package checks

import (
	"context"
	"errors"
	"testing"

	"github.com/postern-dev/postern/checks/host"
)

func TestPerOSPicksTheCollectorOfTheHostsOS(t *testing.T) {
	type facts struct{ OS string }
	from := func(os string) func(context.Context, host.Host) (*facts, error) {
		return func(context.Context, host.Host) (*facts, error) { return &facts{OS: os}, nil }
	}
	failing := func(context.Context, host.Host) (*facts, error) { return nil, errors.New("wmi: access denied") }
	p := PerOS[*facts]{What: "the thing", Linux: from("linux"), Windows: failing, Darwin: from("darwin")}
	for _, goos := range []string{"linux", "darwin"} {
		got, err := p.Collect(context.Background(), host.NewFake(goos, "amd64"))
		if err != nil || got.(*facts).OS != goos {
			t.Errorf("%s: got %v, %v", goos, got, err)
		}
	}
	t.Run("an error comes back with no facts, not a typed nil", func(t *testing.T) {
		got, err := p.Collect(context.Background(), host.NewFake("windows", "amd64"))
		if err == nil || got != nil {
			t.Errorf("got %#v, %v", got, err)
		}
	})
	t.Run("an OS without a collector says so", func(t *testing.T) {
		_, err := p.Collect(context.Background(), host.NewFake("freebsd", "amd64"))
		if err == nil || err.Error() != "the thing is not checked on freebsd" {
			t.Errorf("got %v", err)
		}
	})
}
