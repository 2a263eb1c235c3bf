package checktest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// Testdata returns the exact bytes of testdata/<elem...> in the package
// under test (Testdata(t, "linux", "ufw__active.txt") or Testdata(t,
// "linux/ufw__active.txt")), failing the test if it cannot be read. It is
// the one way the control packages' tests read a recorded sample.
func Testdata(t testing.TB, elem ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{"testdata"}, elem...)...))
	if err != nil {
		t.Fatalf("read testdata: %v", err)
	}
	return b
}

// RoundTrip encodes facts as JSON, as the agent sends them, and decodes
// the JSON into an F. It returns both, failing the test on an error.
func RoundTrip[F any](t testing.TB, facts any) ([]byte, *F) {
	t.Helper()
	b, err := json.Marshal(facts)
	if err != nil {
		t.Fatalf("encode facts: %v", err)
	}
	var f F
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("decode facts %s: %v", b, err)
	}
	return b, &f
}
