package catalog_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
)

// uniformHost answers every question the same way, to hold every control
// to the rule that absence of evidence never passes (docs/controls.md).
type uniformHost struct {
	goos string
	// mode is "nothing" (everything missing), "empty" (every file and
	// output empty, every listing and WMI query with no rows, exit 0) or
	// "errors" (every question refused or failed).
	mode string
}

var errRefused = errors.New("refused")

func (u uniformHost) GOOS() string { return u.goos }

func (u uniformHost) fail(path string) error {
	switch u.mode {
	case "nothing":
		return host.ErrNotFound
	case "errors":
		// Alternate the kinds of failure by path, so that collectors
		// meet each.
		switch len(path) % 3 {
		case 0:
			return host.Wrap(host.ErrPermission, errRefused)
		case 1:
			return host.Wrap(host.ErrTimeout, errRefused)
		}
		return errRefused
	}
	return nil
}

func (u uniformHost) ReadFile(p string) ([]byte, error) {
	if err := u.fail(p); err != nil {
		return nil, err
	}
	return []byte{}, nil
}

func (u uniformHost) Stat(p string) (host.FileInfo, error) {
	if err := u.fail(p); err != nil {
		return host.FileInfo{}, err
	}
	return host.FileInfo{Name: "f", Mode: 0o644, ModTime: propertyNow}, nil
}

func (u uniformHost) Glob(p string) ([]string, error) {
	if err := u.fail(p); err != nil && u.mode == "errors" {
		return nil, err
	}
	return nil, nil
}

func (u uniformHost) ReadDir(p string) ([]string, error) {
	if err := u.fail(p); err != nil {
		return nil, err
	}
	return []string{}, nil
}

func (u uniformHost) Run(_ context.Context, name string, _ ...string) (host.Output, error) {
	switch u.mode {
	case "nothing":
		return host.Output{}, host.ErrNotFound
	case "errors":
		if err := u.fail(name); err != errRefused {
			return host.Output{}, err
		}
		return host.Output{Stderr: []byte("error: the operation failed\n"), ExitCode: 1}, nil
	}
	return host.Output{}, nil
}

func (u uniformHost) Registry(key, name string) (host.RegistryValue, error) {
	if u.goos != "windows" {
		return host.RegistryValue{}, host.ErrNotSupported
	}
	if err := u.fail(key + name); err != nil {
		return host.RegistryValue{}, err
	}
	return host.RegistryValue{}, host.ErrNotFound
}

func (u uniformHost) WMI(_ context.Context, ns, q string) ([]map[string]any, error) {
	if u.goos != "windows" {
		return nil, host.ErrNotSupported
	}
	if err := u.fail(ns + q); err != nil {
		return nil, err
	}
	return []map[string]any{}, nil
}

func (u uniformHost) Now() time.Time { return propertyNow }

var propertyNow = time.Date(2026, 11, 23, 16, 0, 0, 0, time.UTC)

// TestAbsenceOfEvidenceNeverPasses asks every control on every OS of a
// machine that answers nothing, only empty answers, or only errors: no
// control may pass, and a machine that answers only errors leaves every
// control unknown: an error is never a fact about the machine.
func TestAbsenceOfEvidenceNeverPasses(t *testing.T) {
	for _, goos := range []string{"linux", "windows", "darwin"} {
		for _, mode := range []string{"nothing", "empty", "errors"} {
			h := uniformHost{goos: goos, mode: mode}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			report := checks.Collect(ctx, h, checks.Device{OS: goos}, propertyNow)
			cancel()
			for _, v := range checks.Evaluate(report, checks.DefaultPolicy(), propertyNow) {
				t.Run(goos+" "+mode+" "+string(v.ID), func(t *testing.T) {
					if v.Status == checks.StatusPass {
						t.Errorf("passes on a host that answers %s: %s\nevidence %v", mode, v.Summary, v.Evidence)
					}
					if mode == "errors" && v.Status != checks.StatusUnknown {
						// An error is never a fact about the machine.
						t.Errorf("%s on a host that answers only errors, want unknown: %s", v.Status, v.Summary)
					}
					if v.Status == checks.StatusUnknown && v.Summary == "" {
						t.Error("unknown without a reason")
					}
				})
			}
		}
	}
}
