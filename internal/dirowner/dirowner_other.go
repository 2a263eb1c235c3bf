//go:build !unix

package dirowner

import "os"

// Match does nothing where files have no Unix owner (Windows): the data
// directory's ACL decides.
func Match(f *os.File, dir string) error { return nil }
