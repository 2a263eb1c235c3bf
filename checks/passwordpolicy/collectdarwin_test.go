package passwordpolicy

import (
	"errors"
	"strings"
	"testing"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

func macHost(t *testing.T, sample string) *host.Fake {
	return host.NewFake("darwin", "arm64").
		AddRun([]string{pwpolicyPath, "-getaccountpolicies"}, host.Output{Stdout: checktest.Testdata(t, "darwin", sample)}, nil)
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
			macHost(t, "pwpolicy__none_handwritten.txt").AddFile(managedPath, checktest.Testdata(t, "darwin", "managed-passwordpolicy__profile_handwritten.txt")),
			checks.StatusPass,
			map[string]any{"min_length": 12, "min_classes": 3, "max_age_days": 60, "history": 10, "lockout_threshold": 5},
			"length 12"},
	}
	runCollectCases(t, tests, "")
	t.Run("macOS's default accepts an empty password, so its minimum is 0, not 4", func(t *testing.T) {
		res, f, err := run(t, macHost(t, "pwpolicy__macos_default_blank_allowed_handwritten.txt"))
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != checks.StatusFail || f.MinLength.Value != 0 || !strings.Contains(f.MinLength.Detail, "empty password") {
			t.Errorf("got %s %q, min_length %+v", res.Status, res.Summary, f.MinLength)
		}
	})
	t.Run("a profile's minimum length replaces the blank-allowed default", func(t *testing.T) {
		h := macHost(t, "pwpolicy__macos_default_blank_allowed_handwritten.txt").
			AddFile(managedPath, checktest.Testdata(t, "darwin", "managed-passwordpolicy__profile_handwritten.txt"))
		_, f, err := run(t, h)
		if err != nil {
			t.Fatal(err)
		}
		if f.MinLength.Value != 12 || f.MinLength.Detail != "" {
			t.Errorf("min_length %+v", f.MinLength)
		}
	})
	t.Run("a missing pwpolicy says so", func(t *testing.T) {
		_, _, err := run(t, host.NewFake("darwin", "arm64"))
		if err == nil || !errors.Is(err, host.ErrNotFound) || !strings.Contains(err.Error(), "pwpolicy") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestAcceptsEmpty(t *testing.T) {
	tests := []struct {
		name, content string
		want          bool
	}{
		{"macOS's default allows a blank password", "policyAttributePassword matches '^$|.{4,}+'", true},
		{"a plain length rule does not", "policyAttributePassword matches '.{10,}+'", false},
		{"an anchored length rule does not", "policyAttributePassword matches '^.{12,}$'", false},
		{"a rule that is not a match does not", "none policyAttributePasswordHashes in policyAttributePasswordHistory", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := acceptsEmpty(tc.content); got != tc.want {
				t.Errorf("acceptsEmpty(%q) = %v", tc.content, got)
			}
		})
	}
}
