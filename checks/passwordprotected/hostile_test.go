package passwordprotected

import (
	"fmt"
	"strings"
	"testing"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
)

// TestOpenDoorsAreNeverLost replays account databases shaped to lose an
// account without a password on its way to the verdict: an expiry that
// means "never", an expiry too large to turn into seconds, a list longer
// than the facts keep, and a line longer than a scanner's buffer. Each
// must fail. Found with the fuzz targets in fuzz_test.go.
func TestOpenDoorsAreNeverLost(t *testing.T) {
	kiosk := "kiosk:x:1001:1001::/home/kiosk:/bin/bash\n"
	var many, manyShadow strings.Builder
	for i := range maxAccounts + 50 {
		fmt.Fprintf(&many, "user%d:x:%d:%d::/home/user%d:/bin/bash\n", i, 2000+i, 2000+i, i)
		fmt.Fprintf(&manyShadow, "user%d:$y$j9T$salt$hash:19000:0:99999:7:::\n", i)
	}
	linux := func(passwd, shadow string) *host.Fake {
		return host.NewFake("linux", "amd64").AddFile(passwdPath, []byte(passwd)).AddFile(shadowPath, []byte(shadow))
	}
	tests := []struct {
		name string
		host *host.Fake
	}{
		{"an empty password whose expiry field is -1 (never) fails",
			linux(kiosk, "kiosk::19000:0:99999:7::-1:\n")},
		{"an empty password expiring on a day too large for seconds fails",
			linux(kiosk, "kiosk::19000:0:99999:7::106751991167301:\n")},
		{"an empty password after more accounts than the facts keep fails",
			linux(many.String()+kiosk, manyShadow.String()+"kiosk::19000:0:99999:7:::\n")},
		{"an empty password after a passwd line longer than 1 MB fails",
			linux("alice:x:1000:1000:"+strings.Repeat("A", 1<<20+10)+":/home/alice:/bin/bash\n"+kiosk, "kiosk::19000:0:99999:7:::\n")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, _, err := run(t, tc.host)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != checks.StatusFail || !strings.Contains(res.Summary, "with no password: kiosk") {
				t.Errorf("got %s %q, want a failure naming kiosk", res.Status, res.Summary)
			}
		})
	}
}

func TestAutologinAfterALongLineIsRead(t *testing.T) {
	conf := "[daemon]\n# " + strings.Repeat("x", 1<<20+10) + "\nAutomaticLoginEnable=true\nAutomaticLogin=alice\n"
	h := host.NewFake("linux", "amd64").
		AddFile(passwdPath, []byte("root:x:0:0::/root:/bin/bash\n")).
		AddFile(shadowPath, []byte("root:!:19000::::::\n")).
		AddFile("/etc/gdm3/daemon.conf", []byte(conf))
	res, _, err := run(t, h)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != checks.StatusFail || !strings.Contains(res.Summary, "gdm signs in alice") {
		t.Errorf("got %s %q, want GDM's automatic login", res.Status, res.Summary)
	}
}
