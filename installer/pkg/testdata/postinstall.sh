#!/bin/sh
# postern-agent post-install: enroll once when provisioned, then enable and
# start the service. An existing device identity is never replaced; the
# enrollment token is deleted once it has been used. A failed enrollment
# does not fail the package: the service waits until the device is enrolled.
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

if [ -f "$ETC/enroll.token" ] && [ -f "$ETC/server" ]; then
	if [ -e "$STATE/identity.json" ]; then
		echo "postern-agent: already enrolled; keeping this device's identity"
	else
		server=$(head -n 1 "$ETC/server" | tr -d ' \t\r')
		# The token goes through stdin, never the command line.
		if "$BIN" enroll --state "$STATE" --server "$server" --token - <"$ETC/enroll.token"; then
			rm -f "$ETC/enroll.token"
		else
			echo "postern-agent: enrollment failed; the token is kept in $ETC/enroll.token; retry with: $BIN enroll --server $server --token - <$ETC/enroll.token" >&2
		fi
	fi
fi

if [ -d '/run/systemd/system' ] && command -v systemctl >/dev/null 2>&1; then
	systemctl daemon-reload || true
	systemctl enable "$UNIT" || echo "postern-agent: could not enable $UNIT" >&2
	# restart also picks up a new binary on upgrade.
	systemctl restart "$UNIT" || echo "postern-agent: could not start $UNIT; see: journalctl -u $UNIT" >&2
else
	echo "postern-agent: systemd is not running; the service is not enabled (run the agent with: $BIN run)"
fi
exit 0
