package browsercert

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"howett.net/plist"
)

func TestFirefoxRegistryPreferences(t *testing.T) {
	admin := `{"browser.startup.homepage":{"Value":"https://intranet.example","Status":"locked"}}`
	merged, err := MergeFirefoxPreferencesJSON(admin, "windows")
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]map[string]any
	if err := json.Unmarshal([]byte(merged), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]any{
		"browser.startup.homepage":        {"Value": "https://intranet.example", "Status": "locked"},
		"security.default_personal_cert":  {"Value": "Select Automatically", "Status": "locked"},
		"security.osclientcerts.autoload": {"Value": true, "Status": "locked"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("merged Preferences value (-want +got):\n%s", diff)
	}
	t.Run("removal keeps the administrator's preference", func(t *testing.T) {
		rest, err := RemoveFirefoxPreferencesJSON(merged, "windows")
		var a, b any
		json.Unmarshal([]byte(admin), &a)
		if err != nil || json.Unmarshal([]byte(rest), &b) != nil || !cmp.Equal(a, b) {
			t.Fatalf("got %q (%v), want %q", rest, err, admin)
		}
	})
	t.Run("removal of Postern's alone leaves no value", func(t *testing.T) {
		only, _ := MergeFirefoxPreferencesJSON("", "windows")
		if rest, err := RemoveFirefoxPreferencesJSON(only, "windows"); err != nil || rest != "" {
			t.Fatalf("got %q (%v), want nothing", rest, err)
		}
	})
	t.Run("a value that is not a JSON object is refused, not replaced", func(t *testing.T) {
		if _, err := MergeFirefoxPreferencesJSON("security.x=1", "windows"); err == nil {
			t.Fatal("merged into a malformed value")
		}
	})
	t.Run("the older form's values are typed as Group Policy writes them", func(t *testing.T) {
		want := map[string]any{"security.default_personal_cert": "Select Automatically", "security.osclientcerts.autoload": uint32(1)}
		if diff := cmp.Diff(want, FirefoxDeprecatedValues("windows")); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}

func TestFirefoxPlistPolicies(t *testing.T) {
	path := filepath.Join(t.TempDir(), "org.mozilla.firefox.plist")
	// The administrator's own policy, as a binary plist (defaults write
	// makes those).
	admin, err := plist.Marshal(map[string]any{"DisableAppUpdate": true}, plist.BinaryFormat)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, admin, 0o644); err != nil {
		t.Fatal(err)
	}
	p := PlistPolicies{Path: path}
	ctx := context.Background()
	if err := p.Write(ctx, "https://ehr.dmh.example", "Postern device CA x"); err != nil {
		t.Fatal(err)
	}
	read := func() map[string]any {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if _, err := plist.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		return doc
	}
	want := map[string]any{
		"DisableAppUpdate":          true,
		"EnterprisePoliciesEnabled": true,
		"Preferences": map[string]any{
			"security.default_personal_cert":  map[string]any{"Value": "Select Automatically", "Status": "locked"},
			"security.osclientcerts.autoload": map[string]any{"Value": true, "Status": "locked"},
		},
	}
	if diff := cmp.Diff(want, read()); diff != "" {
		t.Errorf("plist after write (-want +got):\n%s", diff)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", fi.Mode().Perm())
	}
	if err := p.Remove(ctx); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"DisableAppUpdate": true, "EnterprisePoliciesEnabled": true}, read()); diff != "" {
		t.Errorf("plist after remove (-want +got):\n%s", diff)
	}
	t.Run("a file holding only Postern's policy is removed", func(t *testing.T) {
		alone := PlistPolicies{Path: filepath.Join(t.TempDir(), "f.plist")}
		if err := alone.Write(ctx, "", ""); err != nil {
			t.Fatal(err)
		}
		if err := alone.Remove(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(alone.Path); !os.IsNotExist(err) {
			t.Fatalf("file left: %v", err)
		}
	})
	t.Run("a damaged file is refused, not overwritten", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "bad.plist")
		os.WriteFile(bad, []byte("<plist><dict><key>x"), 0o644)
		if err := (PlistPolicies{Path: bad}).Write(ctx, "", ""); err == nil {
			t.Fatal("wrote over a damaged plist")
		}
		if b, _ := os.ReadFile(bad); !strings.HasPrefix(string(b), "<plist><dict>") {
			t.Fatal("the damaged file changed")
		}
	})
}
