package browsercert

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestChromiumPolicyFile(t *testing.T) {
	b, err := ChromiumPolicyFile("https://ehr.dmh.example:8443/", `Postern device CA "x"`)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string][]string
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	entries := doc[AutoSelectPolicy]
	if len(doc) != 1 || len(entries) != 1 {
		t.Fatalf("policy file %s", b)
	}
	var entry struct {
		Pattern string
		Filter  struct {
			ISSUER struct{ CN string }
		}
	}
	if err := json.Unmarshal([]byte(entries[0]), &entry); err != nil {
		t.Fatalf("entry is not JSON: %v: %s", err, entries[0])
	}
	if entry.Pattern != "https://ehr.dmh.example:8443" || entry.Filter.ISSUER.CN != `Postern device CA "x"` {
		t.Errorf("entry %+v", entry)
	}
}

func TestPatternRefusesWhatIsNotAnOrigin(t *testing.T) {
	for _, u := range []string{"", "http://ehr", "https://ehr/x", "https://*.ehr"} {
		if p, err := Pattern(u); err == nil {
			t.Errorf("Pattern(%q) = %q, want an error", u, p)
		}
	}
}

func TestFirefoxPoliciesMergeAndRemove(t *testing.T) {
	admin := `{"policies": {"DisableTelemetry": true, "Preferences": {"browser.startup.homepage": {"Value": "https://intranet", "Status": "default"}}}}`
	tests := []struct {
		name     string
		existing string
		goos     string
		want     string
	}{
		{"a new file holds only Postern's preferences", "", "linux",
			`{"policies":{"Preferences":{"security.default_personal_cert":{"Status":"locked","Value":"Select Automatically"}}}}`},
		{"the administrator's policies and preferences are kept", admin, "linux",
			`{"policies":{"DisableTelemetry":true,"Preferences":{"browser.startup.homepage":{"Status":"default","Value":"https://intranet"},"security.default_personal_cert":{"Status":"locked","Value":"Select Automatically"}}}}`},
		{"on Windows Firefox also reads the OS store", "", "windows",
			`{"policies":{"Preferences":{"security.default_personal_cert":{"Status":"locked","Value":"Select Automatically"},"security.osclientcerts.autoload":{"Status":"locked","Value":true}}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := MergeFirefoxPolicies([]byte(tt.existing), tt.goos)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(compact(t, tt.want), compact(t, string(got))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			back, err := RemoveFirefoxPolicies(got, tt.goos)
			if err != nil {
				t.Fatal(err)
			}
			if tt.existing == "" {
				if back != nil {
					t.Errorf("after removal %s, want no file", back)
				}
				return
			}
			if diff := cmp.Diff(compact(t, tt.existing), compact(t, string(back))); diff != "" {
				t.Errorf("after removal (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("a broken file is an error, not overwritten", func(t *testing.T) {
		if _, err := MergeFirefoxPolicies([]byte(`{"policies": `), "linux"); err == nil {
			t.Fatal("accepted")
		}
	})
}

func compact(t *testing.T, s string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%v: %s", err, s)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func TestFilePolicies(t *testing.T) {
	root := t.TempDir()
	ff := filepath.Join(root, "etc", "firefox", "policies", "policies.json")
	os.MkdirAll(filepath.Dir(ff), 0o755)
	os.WriteFile(ff, []byte(`{"policies":{"DisableTelemetry":true}}`), 0o644)
	p := FilePolicies{Root: root}
	ctx := context.Background()
	if err := p.Write(ctx, "https://ehr.dmh.example", "Postern device CA x"); err != nil {
		t.Fatal(err)
	}
	for _, f := range LinuxPolicyFiles.Chromium {
		fi, err := os.Stat(filepath.Join(root, f))
		if err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: %v %v, want a 0644 file", f, err, fi)
		}
	}
	b, _ := os.ReadFile(ff)
	if want := `{"policies":{"DisableTelemetry":true,"Preferences":{"security.default_personal_cert":{"Status":"locked","Value":"Select Automatically"}}}}`; compact(t, string(b)) != want {
		t.Errorf("firefox policies %s", b)
	}
	if err := p.Remove(ctx); err != nil {
		t.Fatal(err)
	}
	for _, f := range LinuxPolicyFiles.Chromium {
		if _, err := os.Stat(filepath.Join(root, f)); !os.IsNotExist(err) {
			t.Errorf("%s left: %v", f, err)
		}
	}
	b, _ = os.ReadFile(ff)
	if compact(t, string(b)) != `{"policies":{"DisableTelemetry":true}}` {
		t.Errorf("firefox policies after removal %s", b)
	}
}
