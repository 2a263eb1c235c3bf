package browsercert

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks/consoleuser"
)

func TestKeychainCommands(t *testing.T) {
	u := consoleuser.User{Name: "jdoe", ID: "501", Home: "/Users/jdoe"}
	id := testIdentity(t, nil, 2)
	got, err := KeychainCommands(u, id, "/tmp/postern-cert-1/device.p12", "pw")
	if err != nil {
		t.Fatal(err)
	}
	kc := "/Users/jdoe/Library/Keychains/login.keychain-db"
	want := [][]string{
		{"asuser", "501", "/usr/bin/security", "import", "/tmp/postern-cert-1/device.p12", "-k", kc, "-f", "pkcs12", "-P", "pw", "-x",
			"-T", "/Applications/Safari.app", "-T", "/Applications/Google Chrome.app", "-T", "/Applications/Microsoft Edge.app"},
		{"asuser", "501", "/usr/bin/security", "set-identity-preference", "-c", "dev-7f3a", "-s", "https://ehr.dmh.example:8443/", kc},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	rm, err := KeychainRemoveCommands(u, "dev-7f3a", "https://ehr.dmh.example:8443")
	if err != nil {
		t.Fatal(err)
	}
	wantRm := [][]string{
		{"asuser", "501", "/usr/bin/security", "delete-identity", "-c", "dev-7f3a", kc},
		{"asuser", "501", "/usr/bin/security", "set-identity-preference", "-n", "-s", "https://ehr.dmh.example:8443/", kc},
	}
	if diff := cmp.Diff(wantRm, rm); diff != "" {
		t.Errorf("removal (-want +got):\n%s", diff)
	}
	for _, bad := range []consoleuser.User{{Name: "root", ID: "0", Home: "/var/root"}, {Name: "x", ID: "501; rm", Home: "/Users/x"}} {
		if _, err := KeychainCommands(bad, id, "/tmp/f", "pw"); err == nil {
			t.Errorf("user %+v accepted", bad)
		}
	}
}

func TestKeychainPlaceRunsTheCommandsAndRemovesTheFile(t *testing.T) {
	rec := &recorder{}
	tmp := t.TempDir()
	k := Keychain{Run: rec, TempDir: tmp}
	u := consoleuser.User{Name: "jdoe", ID: "501", Home: "/Users/jdoe"}
	if err := k.Place(context.Background(), u, testIdentity(t, nil, 2)); err != nil {
		t.Fatal(err)
	}
	if len(rec.lines) != 3 || !strings.Contains(rec.lines[0], "delete-identity") || !strings.Contains(rec.lines[1], " import ") || !strings.Contains(rec.lines[2], "set-identity-preference") {
		t.Errorf("commands %q", rec.lines)
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "*")); len(left) != 0 {
		t.Errorf("left behind %v", left)
	}
}

func TestUserStoreCommands(t *testing.T) {
	u := consoleuser.User{Name: `DMH\jdoe`, ID: "S-1-5-21-1004336348-1177238915-682003330-1001"}
	dir := `C:\ProgramData\Postern\browsercert\` + u.ID
	icacls, create, run, err := UserStoreCommands(u, `C:\ProgramData\Postern\browsercert\browsercert.ps1`, dir, false)
	if err != nil {
		t.Fatal(err)
	}
	wantIcacls := []string{dir, "/inheritance:r", "/grant:r", "*S-1-5-18:(OI)(CI)F", "/grant:r", "*S-1-5-32-544:(OI)(CI)F", "/grant:r", "*" + u.ID + ":(OI)(CI)M"}
	if diff := cmp.Diff(wantIcacls, icacls); diff != "" {
		t.Errorf("icacls (-want +got):\n%s", diff)
	}
	tr := `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe -NoProfile -WindowStyle Hidden -ExecutionPolicy Bypass -File C:\ProgramData\Postern\browsercert\browsercert.ps1 -Dir ` + dir
	wantCreate := []string{"/Create", "/TN", `Postern\BrowserCert`, "/TR", tr, "/SC", "ONCE", "/ST", "00:00", "/RU", `DMH\jdoe`, "/IT", "/F"}
	if diff := cmp.Diff(wantCreate, create); diff != "" {
		t.Errorf("create (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"/Run", "/TN", `Postern\BrowserCert`}, run); diff != "" {
		t.Errorf("run (-want +got):\n%s", diff)
	}
	_, create, _, _ = UserStoreCommands(u, `C:\x\browsercert.ps1`, `C:\x\d`, true)
	if !strings.HasSuffix(create[4], " -Remove") {
		t.Errorf("removal task %q", create[4])
	}
	tests := []struct {
		name        string
		u           consoleuser.User
		script, dir string
	}{
		{"a user that reads as a flag", consoleuser.User{Name: "/DELETE", ID: u.ID}, `C:\a.ps1`, `C:\d`},
		{"a well-known SID instead of a user's", consoleuser.User{Name: "SYSTEM", ID: "S-1-5-18"}, `C:\a.ps1`, `C:\d`},
		{"a path with a space that would split /TR", u, `C:\Program Files\a.ps1`, `C:\d`},
		{"a path with a quote", u, `C:\a".ps1`, `C:\d`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, _, err := UserStoreCommands(tt.u, tt.script, tt.dir, false); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestUserStorePlaceHandsOverAndRunsTheTask(t *testing.T) {
	rec := &recorder{}
	root := shortTemp(t)
	s := UserStore{Run: rec, Dir: root}
	u := consoleuser.User{Name: `DMH\jdoe`, ID: "S-1-5-21-1-2-3-1001"}
	if err := s.Place(context.Background(), u, testIdentity(t, nil, 2)); err != nil {
		t.Fatal(err)
	}
	if len(rec.lines) != 3 || !strings.HasPrefix(rec.lines[0], "icacls ") || !strings.HasPrefix(rec.lines[1], "schtasks /Create") || !strings.HasPrefix(rec.lines[2], "schtasks /Run") {
		t.Fatalf("commands %q", rec.lines)
	}
	for _, f := range []string{"device.p12", "password", "device-id"} {
		if _, err := os.Stat(filepath.Join(root, u.ID, f)); err != nil {
			t.Errorf("%s not handed over: %v", f, err)
		}
	}
	script, _ := os.ReadFile(filepath.Join(root, ImportScriptName))
	if string(script) != ImportScript {
		t.Error("the import script differs from ImportScript")
	}
	t.Run("a failing icacls stops before any key material is written", func(t *testing.T) {
		rec := &recorder{fail: func(l string) bool { return strings.HasPrefix(l, "icacls") }}
		root := shortTemp(t)
		err := UserStore{Run: rec, Dir: root}.Place(context.Background(), u, testIdentity(t, nil, 2))
		if !errors.Is(err, errFake) {
			t.Fatalf("err = %v", err)
		}
		if _, err := os.Stat(filepath.Join(root, u.ID, "device.p12")); err == nil {
			t.Error("the key reached a folder that was not restricted")
		}
	})
}

func TestPlanRegistryList(t *testing.T) {
	ours, _ := AutoSelectEntry("https://ehr.dmh.example", "Postern device CA srv1")
	tests := []struct {
		name   string
		values map[string]string
		want   string
	}{
		{"an empty list gets 1", nil, "1"},
		{"the administrator's entries are kept", map[string]string{"1": `{"pattern":"https://other"}`, "2": "x"}, "3"},
		{"Postern's earlier entry is replaced", map[string]string{"1": "x", "4": ours}, "4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PlanRegistryList(tt.values); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	if got := PosternRegistryEntries(map[string]string{"1": "x", "2": ours}); len(got) != 1 || got[0] != "2" {
		t.Errorf("Postern's entries %v", got)
	}
}

// shortTemp is a temporary folder with a short path: the task's command
// line, which holds it, is limited to 261 characters as on Windows.
func shortTemp(t *testing.T) string {
	dir, err := os.MkdirTemp("/tmp", "pc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}
