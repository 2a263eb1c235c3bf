package serve

import "io/fs"

// permissionFindings finds nothing on Windows: the data directory under
// %ProgramData% inherits an ACL for SYSTEM and Administrators, which the
// installer sets (docs/install.md); mode bits say nothing there.
func permissionFindings(string, fs.FileInfo) []error { return nil }
