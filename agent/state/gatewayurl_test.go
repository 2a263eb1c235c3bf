package state

import (
	"testing"
)

func TestSaveGatewayURL(t *testing.T) {
	d, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := enroll(t, d, newTestCA(t), false); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name, url, want string
		changed, bad    bool
	}{
		{name: "a URL is saved", url: "https://ehr.dmh.example", want: "https://ehr.dmh.example", changed: true},
		{name: "the same URL changes nothing", url: "https://ehr.dmh.example", want: "https://ehr.dmh.example"},
		{name: "a URL with a path is refused and the saved one kept", url: "https://ehr.dmh.example/x\"", want: "https://ehr.dmh.example", bad: true},
		{name: "a plain-http URL is refused", url: "http://ehr.dmh.example", want: "https://ehr.dmh.example", bad: true},
		{name: "an empty URL clears it", url: "", want: "", changed: true},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			changed, err := d.SaveGatewayURL(s.url)
			if (err != nil) != s.bad || changed != s.changed {
				t.Fatalf("changed %v, error %v", changed, err)
			}
			id, err := d.LoadIdentity()
			if err != nil {
				t.Fatal(err)
			}
			if id.GatewayURL != s.want {
				t.Fatalf("gateway URL %q, want %q", id.GatewayURL, s.want)
			}
		})
	}
}
