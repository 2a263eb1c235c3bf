package pb

import "testing"

func TestValidateGatewayURL(t *testing.T) {
	tests := []struct {
		name, url string
		ok        bool
	}{
		{"no gateway is allowed", "", true},
		{"an https origin is allowed", "https://ehr.dmh.example", true},
		{"an https origin with a port and a slash is allowed", "https://ehr.dmh.example:8443/", true},
		{"an IPv6 origin is allowed", "https://[2001:db8::1]:443", true},
		{"plain http is refused", "http://ehr.dmh.example", false},
		{"a path is refused", "https://ehr.dmh.example/ehr", false},
		{"a query is refused", "https://ehr.dmh.example?x=1", false},
		{"a user is refused", "https://me@ehr.dmh.example", false},
		{"a wildcard host is refused", "https://*.dmh.example", false},
		{"a quote that could end a JSON or shell string is refused", `https://ehr".dmh.example`, false},
		{"no host is refused", "https://", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := ValidateGatewayURL(tt.url); (err == nil) != tt.ok {
				t.Errorf("ValidateGatewayURL(%q) = %v, want ok %v", tt.url, err, tt.ok)
			}
		})
	}
}
