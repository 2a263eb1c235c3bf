// Package allowcmd is the one place the agent's own features (not the
// checks, which go through checks/host) start programs: only the programs
// named here, by absolute path per OS, with a deadline, an empty
// environment and bounded output. Portable: the path table covers linux,
// darwin and windows and is tested on any OS.
package allowcmd
