package browsercert

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/agent/allowcmd"
	"github.com/postern-dev/postern/checks/consoleuser"
)

// needNSSTools skips without Debian's libnss3-tools, except in CI.
func needNSSTools(t *testing.T) {
	t.Helper()
	for _, p := range []string{"/usr/bin/certutil", "/usr/bin/pk12util"} {
		if _, err := os.Stat(p); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s missing: apt-get install -y libnss3-tools (.ci/run does)", p)
			}
			t.Skipf("%s missing: apt-get install -y libnss3-tools", p)
		}
	}
}

func self(t *testing.T, home string) (consoleuser.User, string) {
	uid := strconv.Itoa(os.Getuid())
	return consoleuser.User{Name: "tester", ID: uid, Home: home}, uid
}

// listed returns certutil -L's lines for the device in db.
func listed(t *testing.T, db string) []string {
	t.Helper()
	out, err := exec.Command("/usr/bin/certutil", "-L", "-d", "sql:"+db).CombinedOutput()
	if err != nil {
		t.Fatalf("certutil -L: %v\n%s", err, out)
	}
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "dev-7f3a ") {
			lines = append(lines, strings.Join(strings.Fields(l), " "))
		}
	}
	return lines
}

func keys(t *testing.T, db string) int {
	t.Helper()
	out, _ := exec.Command("/usr/bin/certutil", "-K", "-d", "sql:"+db).CombinedOutput()
	return len(regexp.MustCompile(`(?m)^<\s*\d+>`).FindAll(out, -1))
}

func TestNSSWithDebianTools(t *testing.T) {
	needNSSTools(t)
	ctx := context.Background()
	home := t.TempDir()
	u, uid := self(t, home)
	// A Firefox profile with its own database, named by profiles.ini.
	ff := filepath.Join(home, ".mozilla", "firefox")
	profile := filepath.Join(ff, "ab12cd.default-esr")
	if err := os.MkdirAll(profile, 0o700); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(ff, "profiles.ini"), []byte("[Profile0]\nName=default-esr\nIsRelative=1\nPath=ab12cd.default-esr\nDefault=1\n"), 0o600)
	if out, err := exec.Command("/usr/bin/certutil", "-N", "-d", "sql:"+profile, "--empty-password").CombinedOutput(); err != nil {
		t.Fatalf("make firefox db: %v %s", err, out)
	}
	store := NSS{Run: allowcmd.Exec{GOOS: "linux"}, SelfUID: uid, TempDir: t.TempDir()}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	shared := filepath.Join(home, ".pki", "nssdb")

	t.Run("the certificate and its key land in a new shared database and the Firefox profile", func(t *testing.T) {
		if err := store.Place(ctx, u, testIdentity(t, key, 2)); err != nil {
			t.Fatal(err)
		}
		for _, db := range []string{shared, profile} {
			if diff := cmp.Diff([]string{"dev-7f3a - Postern u,u,u"}, listed(t, db)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", db, diff)
			}
			if n := keys(t, db); n != 1 {
				t.Errorf("%s holds %d keys, want 1", db, n)
			}
		}
		fi, err := os.Stat(shared)
		if err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("shared database folder: %v, mode %v; want 0700", err, fi.Mode().Perm())
		}
	})
	t.Run("a renewal replaces the certificate instead of adding one", func(t *testing.T) {
		if err := store.Place(ctx, u, testIdentity(t, key, 3)); err != nil {
			t.Fatal(err)
		}
		if got := listed(t, shared); len(got) != 1 {
			t.Errorf("after renewal: %v, want one certificate", got)
		}
	})
	t.Run("the hand-over folder is gone", func(t *testing.T) {
		left, _ := filepath.Glob(filepath.Join(store.TempDir, "postern-cert-*"))
		if len(left) != 0 {
			t.Errorf("left behind: %v", left)
		}
	})
	t.Run("remove takes certificate and key out of every database", func(t *testing.T) {
		if err := store.Remove(ctx, u, "dev-7f3a"); err != nil {
			t.Fatal(err)
		}
		for _, db := range []string{shared, profile} {
			if got := listed(t, db); len(got) != 0 {
				t.Errorf("%s still lists %v", db, got)
			}
			if n := keys(t, db); n != 0 {
				t.Errorf("%s still holds %d keys", db, n)
			}
		}
	})
	t.Run("removing again is not an error", func(t *testing.T) {
		if err := store.Remove(ctx, u, "dev-7f3a"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestNSSCommandsForAnotherUser(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("handing the PKCS#12 file to another user needs root")
	}
	home := t.TempDir()
	rec := &recorder{}
	u := consoleuser.User{Name: "jdoe", ID: "0", Home: home} // uid 0 exists everywhere; SelfUID differs
	store := NSS{Run: rec, SelfUID: "4242", TempDir: t.TempDir()}
	if err := store.Place(context.Background(), u, testIdentity(t, nil, 2)); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(home, ".pki", "nssdb")
	want := []string{
		"runuser -u jdoe -- /usr/bin/mkdir -p -m 0700 " + db,
		"runuser -u jdoe -- /usr/bin/certutil -N -d sql:" + db + " --empty-password",
	}
	if diff := cmp.Diff(want, rec.lines[:2]); diff != "" {
		t.Errorf("commands (-want +got):\n%s", diff)
	}
	last := rec.lines[len(rec.lines)-1]
	if !regexp.MustCompile(`^runuser -u jdoe -- /usr/bin/pk12util -i \S+/postern-cert-\d+/device\.p12 -d sql:` + regexp.QuoteMeta(db) + ` -w \S+/password$`).MatchString(last) {
		t.Errorf("import command %q", last)
	}
}

func TestNSSRefusesUnsafeInput(t *testing.T) {
	store := NSS{Run: &recorder{}, SelfUID: "1000"}
	id := testIdentity(t, nil, 2)
	tests := []struct {
		name string
		u    consoleuser.User
		id   Identity
	}{
		{"a user name that reads as a flag", consoleuser.User{Name: "-u", ID: "1000", Home: "/home/x"}, id},
		{"a relative home", consoleuser.User{Name: "x", ID: "1000", Home: "home/x"}, id},
		{"a home that climbs", consoleuser.User{Name: "x", ID: "1000", Home: "/home/x/../../etc"}, id},
		{"a certificate for another key", consoleuser.User{Name: "x", ID: "1000", Home: "/home/x"},
			Identity{DeviceID: id.DeviceID, Cert: id.Cert, Key: testIdentity(t, nil, 2).Key, GatewayURL: id.GatewayURL}},
		{"a gateway URL that is not an https origin", consoleuser.User{Name: "x", ID: "1000", Home: "/home/x"},
			Identity{DeviceID: id.DeviceID, Cert: id.Cert, Key: id.Key, GatewayURL: "https://x/\"evil"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := store.Place(context.Background(), tt.u, tt.id); err == nil {
				t.Fatal("accepted")
			}
			if n := len(store.Run.(*recorder).lines); n != 0 {
				t.Errorf("%d commands ran", n)
			}
		})
	}
}

func TestFirefoxProfiles(t *testing.T) {
	ini := "[Install4F96D1932A9F858E]\nDefault=abc.default-release\n\n[Profile1]\nName=work\nIsRelative=0\nPath=/srv/profiles/work\n\n[Profile0]\nName=default\nIsRelative=1\nPath=abc.default-release\n\n[Profile2]\nIsRelative=1\nPath=../../etc\n"
	got := FirefoxProfiles("/home/j/.mozilla/firefox", []byte(ini))
	want := []string{"/srv/profiles/work", "/home/j/.mozilla/firefox/abc.default-release"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestNicknames(t *testing.T) {
	listing := []byte(`
Certificate Nickname                                         Trust Attributes
                                                             SSL,S/MIME,JAR/XPI

5a5253fb-a16e-463b-9d61-37e34b543bfa - Postern               u,u,u
dev-7f3a                                                     u,u,u
dev-7f3a - Postern                                           u,u,u
dev-7f3ab - Other                                            u,u,u
Postern device CA host                                       ,,
`)
	tests := []struct {
		name, id string
		want     []string
	}{
		{"a nickname with the issuer's organization", "5a5253fb-a16e-463b-9d61-37e34b543bfa", []string{"5a5253fb-a16e-463b-9d61-37e34b543bfa - Postern"}},
		{"both forms, and not a longer ID that starts the same", "dev-7f3a", []string{"dev-7f3a", "dev-7f3a - Postern"}},
		{"nothing for an absent device", "dev-0000", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Nicknames(listing, tt.id)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
