//go:build !linux

package pgtest

import "os/exec"

// stopWithParent does nothing here: only Linux can tie a child's life to
// its parent's. A test binary killed before Main's cleanup leaves the
// server running in its temporary directory.
func stopWithParent(*exec.Cmd) {}
