package dashboard

import (
	"regexp"
	"strings"
	"testing"

	"github.com/postern-dev/postern/server/dashboard/dashtest"
	"github.com/postern-dev/postern/server/users"
)

var tagRE = regexp.MustCompile(`<[^>]*>`)

// TestFixesShowNoBackticks opens the page of a failing device of every
// OS: each fix is text with its commands in <code>, and no backtick of
// the checks' texts reaches the reader.
func TestFixesShowNoBackticks(t *testing.T) {
	var devs []dashtest.Device
	for _, goos := range []string{"linux", "windows", "darwin"} {
		devs = append(devs, dashtest.Device{ID: "dev_" + goos, Hostname: "ws-" + goos, Org: "Eastside", Owner: "o", OS: goos})
	}
	e := newEnv(t, devs)
	e.addUser("ana", users.RoleAnalyst)
	c := e.signIn("ana")
	codes := 0
	for _, d := range devs {
		body := c.get("/ui/devices/" + d.ID).body
		main := body[strings.Index(body, "<main"):]
		if text := tagRE.ReplaceAllString(main, ""); strings.Contains(text, "`") {
			i := strings.Index(text, "`")
			t.Errorf("%s: a backtick shows: …%s…", d.ID, text[max(0, i-60):min(len(text), i+60)])
		}
		codes += strings.Count(main, "<code>")
	}
	if codes == 0 {
		t.Error("no fix showed a command in <code>: the fleet's fixes were expected to name commands")
	}
}
