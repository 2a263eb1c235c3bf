package ospatched

import (
	"strings"

	"github.com/postern-dev/postern/checks/internal/textlines"
)

// aptSources is what `apt-cache policy` (no arguments, LANG=C) says of the
// package lists apt has: the archive of each, e.g.
//
//	500 http://deb.debian.org/debian-security bookworm-security/main amd64 Packages
//	    release v=12,o=Debian,a=oldstable-security,n=bookworm-security,l=Debian-Security,c=main,b=amd64
//
// A source configured but never downloaded has no list and no line, so
// this is what the simulated upgrade actually looked at.
type aptSources struct {
	// archives lists each list's archive (a=) or, without one, codename (n=).
	archives []string
	// security is true when one of them is a -security suite.
	security bool
	// rolling is true when every list is of an archive that has no
	// separate security suite (Debian unstable, Kali's rolling release):
	// its security fixes arrive in the archive itself.
	rolling bool
}

// rollingArchives have no -security suite.
var rollingArchives = map[string]bool{"unstable": true, "sid": true, "experimental": true, "kali-rolling": true, "kali-dev": true}

func parseAptPolicy(b []byte) aptSources {
	var s aptSources
	rolling := 0
	for line := range textlines.Each(b) {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "release ")
		if !ok {
			continue
		}
		fields := map[string]string{}
		for _, kv := range strings.Split(rest, ",") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				fields[k] = v
			}
		}
		archive := fields["a"]
		if archive == "now" {
			continue // the installed packages (dpkg's status), not a source
		}
		if archive == "" {
			archive = fields["n"]
		}
		s.archives = append(s.archives, archive)
		if strings.HasSuffix(fields["a"], "-security") || strings.HasSuffix(fields["n"], "-security") || strings.Contains(fields["l"], "Security") {
			s.security = true
		}
		if rollingArchives[fields["a"]] || rollingArchives[fields["n"]] {
			rolling++
		}
	}
	s.rolling = rolling > 0 && rolling == len(s.archives)
	return s
}
