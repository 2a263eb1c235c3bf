package passwordpolicy

import (
	"errors"
	"strings"
	"testing"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
)

func macHost(t *testing.T, sample string) *host.Fake {
	return host.NewFake("darwin", "arm64").
		AddRun([]string{pwpolicyPath, "-getaccountpolicies"}, host.Output{Stdout: testdata(t, "darwin", sample)}, nil)
}

func TestCollectDarwin(t *testing.T) {
	tests := []collectCase{
		{"account policies meeting C.6 pass", macHost(t, "pwpolicy__compliant_handwritten.txt"), checks.StatusPass,
			map[string]any{"min_length": 10, "min_classes": 3, "max_age_days": 90, "history": 6, "lockout_threshold": 5},
			"length 10, 3 classes"},
		{"no policy at all fails every sub-rule", macHost(t, "pwpolicy__none_handwritten.txt"), checks.StatusFail,
			map[string]any{"min_length": 0, "min_classes": 0, "max_age_days": 0, "history": 0, "lockout_threshold": 0},
			"min_length 0 (needs >= 8), min_classes 0"},
		{"a symbol rule is one class, not three", macHost(t, "pwpolicy__length_only_handwritten.txt"), checks.StatusFail,
			map[string]any{"min_length": 8, "min_classes": 1, "max_age_days": 0, "history": 0, "lockout_threshold": 0},
			"min_classes 1"},
		{"a configuration profile wins over the local policies",
			macHost(t, "pwpolicy__none_handwritten.txt").AddFile(managedPath, testdata(t, "darwin", "managed-passwordpolicy__profile_handwritten.txt")),
			checks.StatusPass,
			map[string]any{"min_length": 12, "min_classes": 3, "max_age_days": 60, "history": 10, "lockout_threshold": 5},
			"length 12"},
	}
	runCollectCases(t, tests, "")
	t.Run("a missing pwpolicy says so", func(t *testing.T) {
		_, _, err := run(t, host.NewFake("darwin", "arm64"))
		if err == nil || !errors.Is(err, host.ErrNotFound) || !strings.Contains(err.Error(), "pwpolicy") {
			t.Fatalf("err = %v", err)
		}
	})
}
