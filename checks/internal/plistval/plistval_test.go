package plistval

import "testing"

func TestBool(t *testing.T) {
	for _, tt := range []struct {
		in      any
		val, ok bool
	}{
		{true, true, true}, {false, false, true}, {uint64(1), true, true}, {int64(0), false, true}, {1.0, true, true},
		{"YES", true, true}, {" no ", false, true}, {"1", true, true}, {"maybe", false, false}, {nil, false, false}, {[]any{}, false, false},
	} {
		if v, ok := Bool(tt.in); v != tt.val || ok != tt.ok {
			t.Errorf("Bool(%#v) = %v, %v; want %v, %v", tt.in, v, ok, tt.val, tt.ok)
		}
	}
}

func TestInt(t *testing.T) {
	for _, tt := range []struct {
		in  any
		val int64
		ok  bool
	}{
		{uint64(2), 2, true}, {int64(-1), -1, true}, {600.0, 600, true}, {1.5, 0, false}, {true, 1, true},
		{uint64(1 << 63), 0, false}, {"600", 0, false}, {nil, 0, false},
	} {
		if v, ok := Int(tt.in); v != tt.val || ok != tt.ok {
			t.Errorf("Int(%#v) = %v, %v; want %v, %v", tt.in, v, ok, tt.val, tt.ok)
		}
	}
}
