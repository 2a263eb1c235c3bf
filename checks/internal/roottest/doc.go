// Package roottest runs the live Linux collectors inside real Debian root
// filesystems. The root is built once by scripts/debian-root.sh (debootstrap
// of Debian 12 with PAM, unattended-upgrades, ClamAV, dconf and GNOME's
// schemas, nftables and ufw) into ${POSTERN_CACHE:-/var/cache/postern}/roots
// and reused. Each variant lays a throwaway overlay on it, changes it with a
// shell script run inside it (the commands an administrator would type:
// edit PAM, add a source, load a ruleset, compile a dconf database), then
// runs the real postern-agent binary's `check --json` there: chrooted, in
// its own mount, network and PID namespaces with its own /proc. Nothing the
// variant does reaches the machine running the test.
//
// Outside CI a missing prerequisite (not root, no unshare, no root built)
// skips with the command that fixes it; in CI (CI set) it fails.
//
// It is test support only; nothing outside _test.go files imports it.
package roottest
