package textlines

import (
	"bufio"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEach(t *testing.T) {
	long := strings.Repeat("x", 2<<20)
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"an empty text has no lines", "", nil},
		{"a final newline ends the last line", "a\nb\n", []string{"a", "b"}},
		{"a last line without a newline is kept", "a\nb", []string{"a", "b"}},
		{"CRLF and a final CR are removed", "a\r\nb\r", []string{"a", "b"}},
		{"only one CR is removed", "a\r\r\n", []string{"a\r"}},
		{"a lone CR does not end a line", "a\rb\n", []string{"a\rb"}},
		{"empty lines are yielded", "\n\r\nx\n", []string{"", "", "x"}},
		{"a line over 1 MiB does not hide the next", long + "\nInst x\n", []string{long, "Inst x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := slices.Collect(Each(tt.in))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("lines (-want +got):\n%s", diff)
			}
			if gotB := slices.Collect(Each([]byte(tt.in))); !slices.Equal(got, gotB) {
				t.Errorf("bytes gave %q, string gave %q", gotB, got)
			}
		})
	}
}

func TestEachStopsWhenTheLoopBreaks(t *testing.T) {
	var got []string
	for line := range Each("a\nb\nc\n") {
		got = append(got, line)
		if line == "b" {
			break
		}
	}
	if diff := cmp.Diff([]string{"a", "b"}, got); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
}

// FuzzEachAgreesWithScanner checks that Each splits as bufio.ScanLines
// does for any input the scanner can read whole.
func FuzzEachAgreesWithScanner(f *testing.F) {
	for _, s := range []string{"", "a", "a\n", "a\r\n\r\nb\r", "\r", "\n\n", "a\r\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want []string
		sc := bufio.NewScanner(strings.NewReader(s))
		for sc.Scan() {
			want = append(want, sc.Text())
		}
		if sc.Err() != nil {
			return
		}
		if diff := cmp.Diff(want, slices.Collect(Each(s))); diff != "" {
			t.Fatalf("lines of %q (-scanner +Each):\n%s", s, diff)
		}
	})
}
