#!/bin/sh
# CI only, as root: install the built .deb on this machine, run
# `postern-agent check` (exit 0 or 1 is fine, 2 is a failure), remove the
# package, and make sure nothing is left running. CI containers have no
# systemd: the post-install must skip enabling the service and say so.
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
	echo "package-test: needs root (it runs dpkg -i); skipped" >&2
	exit 0
fi
arch=$(dpkg --print-architecture)
deb=$(ls dist/postern-agent_*_"$arch".deb | head -n 1)
state=$(mktemp -d /tmp/postern-package-test.XXXXXX)
trap 'rm -rf "$state"' EXIT

dpkg -i "$deb"
test -x /usr/bin/postern-agent
test -f /usr/lib/systemd/system/postern-agent.service
code=0
/usr/bin/postern-agent check --state "$state" >/dev/null || code=$?
if [ "$code" -ge 2 ]; then
	echo "package-test: postern-agent check exited $code" >&2
	dpkg -r postern-agent
	exit 1
fi
echo "package-test: postern-agent check exited $code (0 compliant, 1 not compliant)"
dpkg -r postern-agent
if [ -e /usr/bin/postern-agent ]; then
	echo "package-test: /usr/bin/postern-agent is still there after dpkg -r" >&2
	exit 1
fi
if pgrep -x postern-agent >/dev/null 2>&1; then
	echo "package-test: an agent is still running after removal" >&2
	exit 1
fi
echo "package-test: ok"
