#!/bin/sh
# Install postern-agent as a launchd daemon. Run as root from the unpacked
# tarball:  sudo ./install.sh [--server HOST:PORT --token-file FILE]
# Remove it: sudo ./install.sh --uninstall [--purge]  (--purge also deletes
# the device identity and state)
set -eu
BIN='/usr/local/bin/postern-agent'
STATE='/Library/Application Support/Postern'
LABEL='dev.postern.agent'
PLIST="/Library/LaunchDaemons/$LABEL.plist"
here=$(cd "$(dirname "$0")" && pwd)

server=
token_file=
uninstall=
purge=
while [ $# -gt 0 ]; do
	case "$1" in
	--server) server=$2; shift 2 ;;
	--token-file) token_file=$2; shift 2 ;;
	--uninstall) uninstall=1; shift ;;
	--purge) purge=1; shift ;;
	*) echo "usage: $0 [--server HOST:PORT --token-file FILE] | --uninstall [--purge]" >&2; exit 2 ;;
	esac
done
if [ "$(id -u)" != 0 ]; then
	echo "install.sh: run as root (sudo)" >&2
	exit 2
fi

if [ -n "$uninstall" ]; then
	launchctl bootout system "$PLIST" 2>/dev/null || true
	# The device certificate leaves the users' login keychains first.
	if [ -x "$BIN" ]; then
		"$BIN" browser-cert remove --state "$STATE" || true
	fi
	rm -f "$PLIST" "$BIN"
	if [ -n "$purge" ]; then
		rm -rf "$STATE"
		echo "postern-agent removed, with its identity and state"
	else
		echo "postern-agent removed; its identity is kept in $STATE (--purge deletes it)"
	fi
	exit 0
fi

case "$(uname -m)" in
arm64) arch=arm64 ;;
x86_64) arch=amd64 ;;
*) echo "install.sh: unsupported architecture $(uname -m)" >&2; exit 2 ;;
esac

mkdir -p "$(dirname "$BIN")"
install -m 0755 "$here/$arch/postern-agent" "$BIN.new"
mv -f "$BIN.new" "$BIN"
mkdir -p "$STATE"
chmod 0700 "$STATE"

if [ -n "$server" ] && [ -n "$token_file" ]; then
	if [ -e "$STATE/identity.json" ]; then
		echo "install.sh: already enrolled; keeping this device's identity"
	elif "$BIN" enroll --state "$STATE" --server "$server" --token - <"$token_file"; then
		rm -f "$token_file"
	else
		echo "install.sh: enrollment failed; the daemon waits until the device is enrolled" >&2
	fi
fi

launchctl bootout system "$PLIST" 2>/dev/null || true
install -m 0644 -o root -g wheel "$here/$LABEL.plist" "$PLIST"
launchctl bootstrap system "$PLIST"
echo "postern-agent installed; status: $BIN status"
