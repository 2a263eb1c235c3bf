//go:build !windows

package live

import "os/exec"

// minimalEnv gives programs a fixed PATH and the C locale, so that their
// output is in the format the parsers expect whatever the user's language.
func minimalEnv() []string {
	return []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C", "LC_ALL=C", "HOME=/"}
}

func configure(*exec.Cmd) {}
