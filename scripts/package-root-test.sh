#!/usr/bin/env bash
# `make package-root-test`: dpkg -i of postern-server and postern-agent in a
# Debian 13 root (an overlay of the cached root of scripts/wine-root.sh, so
# the host is never touched), then upgrades and removal:
#   - the server package creates its user, installs the unit and a 0600
#     conffile; the server runs as that user from the config it is handed
#     (as systemd's LoadCredential would) and enrolls an agent;
#   - the agent package does not enroll; its service takes over the
#     provisioning files in /etc/postern, enrolls and deletes the secret;
#   - upgrading both keeps the edited conffile, the server's CA and the
#     agent's identity;
#   - dpkg -r removes the programs and keeps both data directories.
# No systemd runs in the root: the scripts must say so and not fail.
# Needs root. Prints "package-root-test: N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
if [ "$(id -u)" != 0 ]; then
	echo "package-root-test: needs root (chroot and mounts)" >&2
	exit 1
fi
root=$(./scripts/wine-root.sh)
work=$(mktemp -d /tmp/postern-package-root.XXXXXX)
m=$work/root
mkdir -p "$work/up" "$work/ovl" "$m" "$work/dist"
server_pid=
agent_pid=
cleanup() {
	set +e
	[ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
	for p in "$m/dev" "$m/proc" "$m"; do
		for _ in $(seq 1 20); do
			mountpoint -q "$p" || break
			umount "$p" 2>/dev/null && break
			sleep 0.5
		done
	done
	rm -rf "$work"
}
trap cleanup EXIT
passed=0
failed=0
expect() {
	local what=$1
	shift
	if "$@"; then passed=$((passed + 1)); echo "ok   $what"; else failed=$((failed + 1)); echo "FAIL $what"; fi
}
in_root() { chroot "$m" "$@"; }

echo "package-root-test: building 0.90.0 and 0.91.0 (linux/amd64 .deb)"
for v in 0.90.0 0.91.0; do
	mkdir -p "$work/cross-$v/linux-amd64"
	for b in server agent; do
		CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/postern-dev/postern/internal/version.Version=$v" \
			-o "$work/cross-$v/linux-amd64/postern-$b" "./$b/cmd/postern-$b"
	done
	go run ./installer/cmd/mkpkg -deb-only -cross "$work/cross-$v" -out "$work/dist" -version "$v" -source-date-epoch 1796040000 >/dev/null
done

mount -t overlay overlay -o "lowerdir=$root,upperdir=$work/up,workdir=$work/ovl" "$m"
mount -t proc proc "$m/proc"
mount --bind /dev "$m/dev"
mkdir -p "$m/tmp/p"
cp "$work"/dist/*.deb "$m/tmp/p/"

# ---- the server package
rc=0
out=$(in_root dpkg -i /tmp/p/postern-server_0.90.0_amd64.deb 2>&1) || rc=$?
echo "$out" | sed 's/^/info   /'
expect "dpkg -i postern-server exits 0 without systemd (got $rc)" test "$rc" = 0
expect "it says systemd is not running" grep -q 'systemd is not running' <<<"$out"
expect "the postern system user exists" in_root getent passwd postern
expect "the unit is installed" test -f "$m/usr/lib/systemd/system/postern-server.service"
expect "server.yaml is 0600 root" test "$(stat -c '%a %U' "$m/etc/postern/server.yaml")" = "600 root"
expect "server.yaml is a conffile" grep -q '/etc/postern/server.yaml' "$m/var/lib/dpkg/info/postern-server.conffiles"

# Run it as systemd would: as postern, the config handed over as a
# credential (a copy only postern can read), the state directory made.
echo "# edited by the administrator" >>"$m/etc/postern/server.yaml"
sed -i 's/^quic: .*/quic: "127.0.0.1:0"/; s/^https: .*/https: "127.0.0.1:0"/' "$m/etc/postern/server.yaml"
in_root install -d -m 0700 -o postern -g postern /var/lib/postern-server /run/credentials
in_root install -m 0400 -o postern -g postern /etc/postern/server.yaml /run/credentials/server.yaml
init=()
[[ $(in_root /usr/bin/postern-server serve --help 2>&1) == *--init* ]] && init=(--init)
chroot "$m" runuser -u postern -- /usr/bin/postern-server serve "${init[@]}" --config /run/credentials/server.yaml >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 60); do grep -q '"listening"' "$work/server.log" && break; sleep 0.5; done
expect "the server runs as postern from the handed-over config" grep -q '"listening"' "$work/server.log"
QUIC=$(sed -n 's/.*"msg":"listening","quic":"\([^"]*\)".*/\1/p' "$work/server.log" | head -n1)
pin1=$(in_root runuser -u postern -- sha256sum /var/lib/postern-server/ca.pem | cut -d' ' -f1)
SECRET=$(in_root runuser -u postern -- /usr/bin/postern-server secret create --data /var/lib/postern-server --org clinic-a 2>/dev/null)
expect "secret create works on the packaged server" grep -q '^pt1\.' <<<"$SECRET"

# ---- the agent package, provisioned as docs/deploy-linux.md says
in_root install -d -m 0700 /etc/postern
echo "$QUIC" >"$m/etc/postern/server"
install -m 0600 /dev/stdin "$m/etc/postern/enroll.token" <<<"$SECRET"
rc=0
out=$(in_root dpkg -i /tmp/p/postern-agent_0.90.0_amd64.deb 2>&1) || rc=$?
echo "$out" | sed 's/^/info   /'
expect "dpkg -i postern-agent exits 0 (got $rc)" test "$rc" = 0
expect "the package does not enroll" test ! -e "$m/var/lib/postern/identity.json"
expect "and leaves the secret to the service" test -s "$m/etc/postern/enroll.token"
expect "and says the service will enroll" grep -q 'the service will enroll this device from /etc/postern' <<<"$out"
# What systemd would start (the unit's ExecStart), here by hand.
chroot "$m" /usr/bin/postern-agent run --service --state /var/lib/postern >"$work/agent.log" 2>&1 &
agent_pid=$!
for _ in $(seq 1 60); do test -s "$m/var/lib/postern/identity.json" && break; sleep 0.5; done
expect "the service enrolls the device from /etc/postern" test -s "$m/var/lib/postern/identity.json"
expect "and deletes the secret" test ! -e "$m/etc/postern/enroll.token"
expect "and none is left in its state directory" test ! -e "$m/var/lib/postern/enroll_pending.json"
kill "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null || true
agent_pid=
expect "the secret is not in the service's log" sh -c "! grep -qF '$(cut -d. -f2 <<<"$SECRET")' '$work/agent.log'"
dev1=$(sed -n 's/.*"device_id": *"\([^"]*\)".*/\1/p' "$m/var/lib/postern/identity.json")

# ---- upgrades
kill "$server_pid" && wait "$server_pid" 2>/dev/null || true
server_pid=
rc=0
in_root dpkg -i /tmp/p/postern-server_0.91.0_amd64.deb >/dev/null 2>&1 || rc=$?
expect "the server upgrade exits 0 (got $rc)" test "$rc" = 0
expect "the server upgrade installs 0.91.0" grep -q '0.91.0' <(in_root /usr/bin/postern-server version)
expect "the upgrade keeps the edited server.yaml" grep -q 'edited by the administrator' "$m/etc/postern/server.yaml"
pin2=$(in_root sha256sum /var/lib/postern-server/ca.pem | cut -d' ' -f1)
expect "the upgrade keeps the server's CA" test "$pin1" = "$pin2"
in_root dpkg -i /tmp/p/postern-agent_0.91.0_amd64.deb >/dev/null 2>&1
expect "the agent upgrade installs 0.91.0" grep -q '0.91.0' <(in_root /usr/bin/postern-agent version)
dev2=$(sed -n 's/.*"device_id": *"\([^"]*\)".*/\1/p' "$m/var/lib/postern/identity.json")
expect "the agent upgrade keeps the device identity" test -n "$dev1" -a "$dev1" = "$dev2"

# ---- removal
in_root dpkg -r postern-agent postern-server >/dev/null 2>&1
expect "dpkg -r removes both programs" test ! -e "$m/usr/bin/postern-server" -a ! -e "$m/usr/bin/postern-agent"
expect "and keeps the server's data" test -s "$m/var/lib/postern-server/ca.pem"
expect "and the agent's identity" test -s "$m/var/lib/postern/identity.json"

echo "package-root-test: $passed passed, $failed failed"
[ "$failed" = 0 ]
