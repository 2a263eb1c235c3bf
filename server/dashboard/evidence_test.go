package dashboard

import "testing"

func TestFormatEvidence(t *testing.T) {
	for _, tt := range []struct {
		in   any
		want string
	}{
		{"nft -j list ruleset", "nft -j list ruleset"},
		{[]any{"/etc/pam.d/common-password", "/etc/login.defs"}, "/etc/pam.d/common-password, /etc/login.defs"},
		{[]string{"pwpolicy -getaccountpolicies"}, "pwpolicy -getaccountpolicies"},
		{[]any{"a", 1.0}, `["a",1]`},
		{map[string]any{"root": true}, `{"root":true}`},
		{nil, "—"},
		{true, "true"},
	} {
		if got := formatEvidence(tt.in); got != tt.want {
			t.Errorf("formatEvidence(%#v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
