package consoleuser

import (
	"strings"

	"github.com/postern-dev/postern/checks/internal/textlines"
)

// parseKeyValue reads logind's state files and `loginctl show-session`
// output: KEY=value lines, '#' comments, CRLF tolerated. Later keys win.
func parseKeyValue(b []byte) map[string]string {
	out := map[string]string{}
	for line := range textlines.Each(b) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out
}

// passwdEntry is one line of /etc/passwd.
type passwdEntry struct {
	name, uid, home string
}

// lookupPasswd finds the entry for uid in passwd(5) text.
func lookupPasswd(b []byte, uid string) (passwdEntry, bool) {
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Split(strings.TrimSuffix(line, "\r"), ":")
		if len(f) < 7 || strings.HasPrefix(f[0], "#") || f[0] == "" {
			continue
		}
		if f[2] == uid {
			return passwdEntry{name: f[0], uid: f[2], home: f[5]}, true
		}
	}
	return passwdEntry{}, false
}
