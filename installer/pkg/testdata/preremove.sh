#!/bin/sh
# postern-agent pre-remove: stop and disable the service when the package
# is removed; an upgrade keeps it (the new post-install restarts it). The
# state directory, and with it the device identity, is kept.
set -u
BIN='/usr/bin/postern-agent'
STATE='/var/lib/postern'
UNIT='postern-agent.service'

# deb: $1 is "remove" on removal, "upgrade" on upgrade; rpm: $1 is 0 on
# removal, 1 on upgrade.
case "${1:-}" in
remove | 0 | "") ;;
*) exit 0 ;;
esac

if [ -d '/run/systemd/system' ] && command -v systemctl >/dev/null 2>&1; then
	systemctl stop "$UNIT" || true
	systemctl disable "$UNIT" || true
fi
# The device certificate leaves the users' browser stores, and the
# browser policies leave /etc, with the agent.
if [ -x "$BIN" ]; then
	"$BIN" browser-cert remove --state "$STATE" || true
fi
exit 0
