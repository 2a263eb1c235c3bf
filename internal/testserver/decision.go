package testserver

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// maxBody bounds a decision response read by Decision.
const maxBody = 1 << 20

// Decision is a decision API answer as a gateway sees it on the wire.
// PostureAge is nil when the field is absent, so tests can tell a missing
// field from a zero one.
type Decision struct {
	Allow       bool     `json:"allow"`
	DeviceID    string   `json:"device_id"`
	Key         string   `json:"key"`
	Reasons     []Reason `json:"reasons"`
	PostureAge  *float64 `json:"posture_age_seconds"`
	EvaluatedAt string   `json:"evaluated_at"`
}

// Reason is one reason of a Decision.
type Reason struct {
	Code        string `json:"code"`
	Control     string `json:"control"`
	Message     string `json:"message"`
	Remediation string `json:"remediation"`
}

// Codes returns the reasons as "code:control", in order.
func (d Decision) Codes() []string {
	var out []string
	for _, r := range d.Reasons {
		out = append(out, r.Code+":"+r.Control)
	}
	return out
}

// Decision asks GET /v1/decision?query with the API key and returns the
// answer, failing the test on a transport error, a status other than 200
// or a body that is not a decision.
func (s *Server) Decision(t testing.TB, apiKey, query string) Decision {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "https://"+s.HTTPSAddr+"/v1/decision?"+query, nil)
	if err != nil {
		t.Fatalf("decision request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+apiKey)
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("decision: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		t.Fatalf("decision: read body: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("decision: HTTP %d: %s", resp.StatusCode, body)
	}
	var d Decision
	if err := json.Unmarshal(body, &d); err != nil {
		t.Fatalf("decision body %s: %v", body, err)
	}
	return d
}
