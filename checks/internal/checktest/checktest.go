package checktest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// Testdata returns the exact bytes of testdata/<goos>/<name> in the
// package under test, failing the test if it cannot be read.
func Testdata(t testing.TB, goos, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", goos, name))
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
