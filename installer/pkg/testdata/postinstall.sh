#!/bin/sh
# postern-agent post-install: make the state directory, then enable and
# (re)start the service. It never enrolls and never reads the secret: the
# running service takes over the provisioning files in $ETC (server,
# enroll.token) whenever they appear, before or after this package, and
# enrolls with retries shown by 'postern-agent status'. So installing never
# depends on the server answering, and an existing identity is kept.
set -u
BIN='/usr/bin/postern-agent'
ETC='/etc/postern'
STATE='/var/lib/postern'
UNIT='postern-agent.service'

# deb: $1 is "configure" (anything else is not an install); rpm: $1 is 1
# on install and 2 on upgrade.
case "${1:-}" in
configure | 1 | 2 | "") ;;
*) exit 0 ;;
esac

umask 077
mkdir -p "$STATE" && chmod 0700 "$STATE"

if [ -e "$STATE/identity.json" ]; then
	echo "postern-agent: already enrolled; keeping this device's identity"
elif [ -f "$ETC/enroll.token" ] && [ -f "$ETC/server" ]; then
	echo "postern-agent: the service will enroll this device from $ETC (see: $BIN status)"
else
	echo "postern-agent: not enrolled; put the server's address in $ETC/server and a secret in $ETC/enroll.token (mode 0600), or run: $BIN enroll --server HOST:PORT --token -"
fi

if [ -d '/run/systemd/system' ] && command -v systemctl >/dev/null 2>&1; then
	systemctl daemon-reload || true
	systemctl enable "$UNIT" || echo "postern-agent: could not enable $UNIT" >&2
	# restart also picks up a new binary on upgrade.
	systemctl restart "$UNIT" || echo "postern-agent: could not start $UNIT; see: journalctl -u $UNIT" >&2
else
	echo "postern-agent: systemd is not running; the service is not enabled (run the agent with: $BIN run --service)"
fi
exit 0
