package e2e

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/internal/testserver"
)

// policyYAML blocks on the firewall and disk encryption, which the
// fixture snapshots carry, and only reports the rest.
const policyYAML = `max_report_age: 15m
controls:
  password_protected: {enforcement: report}
  password_policy: {enforcement: report}
  os_supported: {enforcement: report}
  os_auto_update: {enforcement: report}
  os_patched: {enforcement: report}
  antivirus: {enforcement: report}
  screen_lock: {enforcement: report}
  wifi_encryption: {enforcement: report}
`

// startServer runs a real server on loopback until the test ends.
func startServer(t *testing.T) *testserver.Server {
	t.Helper()
	return testserver.Start(t, context.Background(), testserver.Options{Policy: policyYAML})
}

// allowed asks the decision API about a device.
func allowed(t *testing.T, s *testserver.Server, key, deviceID string) bool {
	t.Helper()
	return s.Decision(t, key, "device_id="+deviceID).Allow
}

// snapshot opens a recorded machine under checks/testdata/snapshots.
func snapshot(t *testing.T, name string) host.Host {
	t.Helper()
	return testserver.Snapshot(t, name)
}

// switchHost answers from its current host; Switch replaces it while the
// agent runs, as a user turning the firewall off would.
type switchHost struct {
	mu  sync.Mutex
	cur host.Host
}

func (s *switchHost) get() host.Host {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}
func (s *switchHost) Switch(h host.Host)                   { s.mu.Lock(); s.cur = h; s.mu.Unlock() }
func (s *switchHost) GOOS() string                         { return s.get().GOOS() }
func (s *switchHost) ReadFile(p string) ([]byte, error)    { return s.get().ReadFile(p) }
func (s *switchHost) Stat(p string) (host.FileInfo, error) { return s.get().Stat(p) }
func (s *switchHost) Glob(p string) ([]string, error)      { return s.get().Glob(p) }
func (s *switchHost) ReadDir(p string) ([]string, error)   { return s.get().ReadDir(p) }
func (s *switchHost) Run(ctx context.Context, n string, a ...string) (host.Output, error) {
	return s.get().Run(ctx, n, a...)
}
func (s *switchHost) Registry(k, n string) (host.RegistryValue, error) { return s.get().Registry(k, n) }
func (s *switchHost) WMI(ctx context.Context, ns, q string) ([]map[string]any, error) {
	return s.get().WMI(ctx, ns, q)
}

// eventually polls cond every 50 ms until it holds or limit passes, and
// returns how long it took.
func eventually(t *testing.T, limit time.Duration, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("condition not reached within %v", limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start)
}
