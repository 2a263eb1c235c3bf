package duration

import (
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want time.Duration
	}{
		{"days alone are whole days", "30d", 30 * Day},
		{"days combine with hours and minutes", "1d12h30m", 36*time.Hour + 30*time.Minute},
		{"go units still work", "720h", 720 * time.Hour},
		{"minutes still work", "90m", 90 * time.Minute},
		{"a leading minus negates the whole", "-400d", -400 * Day},
		{"a leading plus is accepted", "+2d", 2 * Day},
		{"surrounding spaces are ignored", " 7d ", 7 * Day},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("Parse(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	for _, in := range []string{"", "d", "3.5d", "-d", "1d-2h", "30days", "1d1d", "xd", "1d+3h", "99999999d", "12"} {
		t.Run(in, func(t *testing.T) {
			if d, err := Parse(in); err == nil {
				t.Errorf("Parse(%q) = %v, want an error", in, d)
			}
		})
	}
}

func TestFormatRoundTrips(t *testing.T) {
	for _, d := range []time.Duration{0, time.Second, 90 * time.Minute, Day, 30 * Day, 36 * time.Hour, -400 * Day} {
		s := Format(d)
		got, err := Parse(s)
		if err != nil || got != d {
			t.Errorf("Parse(Format(%v)) = %v, %v (Format gave %q)", d, got, err, s)
		}
	}
	if got := Format(720 * time.Hour); got != "30d" {
		t.Errorf("Format(720h) = %q, want 30d", got)
	}
}

func TestValueIsAFlag(t *testing.T) {
	var d time.Duration
	v := NewValue(&d, 24*time.Hour)
	if v.String() != "1d" {
		t.Errorf("default String() = %q, want 1d", v.String())
	}
	if err := v.Set("30d"); err != nil || d != 30*Day {
		t.Errorf("Set(30d): d=%v err=%v", d, err)
	}
	if err := v.Set("soon"); err == nil {
		t.Error("Set(soon) accepted")
	}
}
