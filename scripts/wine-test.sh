#!/usr/bin/env bash
# `make wine-test`: the Windows agent, its MSI and its service under Wine 10.
#
# In a throwaway overlay of the cached Debian 13 + Wine root
# (scripts/wine-root.sh), against a real postern-server on loopback:
#   1. msiexec /i /qn with SERVER and a reusable SECRET: the install succeeds, the
#      service starts under Wine's service manager, enrolls and reports;
#   2. the transport the service used (QUIC or TCP) and why;
#   3. sc stop / sc start;
#   4. a major upgrade to a newer build keeps the device identity and state;
#   5. msiexec /x removes the service and the program and keeps the state;
#   6. an install with an unreachable server still installs and starts the
#      service, which retries and says so in `status`; a refused secret is
#      reported by the service; secrets are in none of the agent's files
#      and in no msiexec /l*v log;
#   7. `check` with a recorded real Windows registry snapshot loaded into
#      Wine's registry.
# Needs root (chroot, mounts). Prints "wine-test: N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

if [ "$(id -u)" != 0 ]; then
	echo "wine-test: needs root (chroot and mounts)" >&2
	exit 1
fi

t0=$(date +%s)
root=$(./scripts/wine-root.sh)
t1=$(date +%s)
work=$(mktemp -d /tmp/postern-wine-test.XXXXXX)
m=$work/root
mkdir -p "$work/up" "$work/ovl" "$m" "$work/bin" "$work/dist" "$work/srv"
server_pid=
cleanup() {
	set +e
	if mountpoint -q "$m/proc"; then
		chroot "$m" env HOME=/root WINEPREFIX=/root/.wine wineserver -k >/dev/null 2>&1
	fi
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
	# wineserver -k returns before every Windows process has gone: retry.
	for p in "$m/dev" "$m/proc" "$m"; do
		for _ in $(seq 1 20); do
			mountpoint -q "$p" || break
			umount "$p" 2>/dev/null && break
			sleep 0.5
		done
	done
	if [ -n "${KEEP:-}" ]; then echo "wine-test: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }
expect() { # expect "what" command...
	local what=$1
	shift
	if "$@"; then ok "$what"; else bad "$what"; fi
}

# ---- builds: the server for this machine, two agent versions for Windows
V1=1.0.0
V2=1.1.0
echo "wine-test: building (server linux/amd64, agent windows/amd64 $V1 and $V2)"
ld="-s -w -X github.com/postern-dev/postern/internal/version.Version"
CGO_ENABLED=0 go build -trimpath -ldflags "$ld=$V1" -o "$work/bin/postern-server" ./server/cmd/postern-server
for v in $V1 $V2; do
	mkdir -p "$work/cross-$v/windows-amd64"
	CGO_ENABLED=0 GOOS=windows GOARCH=amd64 go build -trimpath -ldflags "$ld=$v" \
		-o "$work/cross-$v/windows-amd64/postern-agent.exe" ./agent/cmd/postern-agent
	go run ./installer/cmd/mkpkg -windows-only -cross "$work/cross-$v" -out "$work/dist" -version "$v" >/dev/null
done

# ---- a fresh writable Windows for this run: an overlay over the cache
mount -t overlay overlay -o "lowerdir=$root,upperdir=$work/up,workdir=$work/ovl" "$m"
mount -t proc proc "$m/proc"
mount --bind /dev "$m/dev"
mkdir -p "$m/tmp/p" "$m/run/xdg"
chmod 700 "$m/run/xdg"
cp "$work"/dist/*.msi "$m/tmp/p/"
cp "$work/cross-$V1/windows-amd64/postern-agent.exe" "$m/tmp/p/agent.exe"

w() { chroot "$m" env HOME=/root WINEPREFIX=/root/.wine WINEDEBUG=-all XDG_RUNTIME_DIR=/run/xdg wine "$@" 2>/dev/null; }
C=$m/root/.wine/drive_c
STATE=$C/ProgramData/Postern
PROG="$C/Program Files/Postern/postern-agent.exe"
w wineboot >/dev/null || true
chroot "$m" env HOME=/root WINEPREFIX=/root/.wine wineserver -p 2>/dev/null || true

# sc_state prints RUNNING, STOPPED, ... or NONE when not installed.
sc_state() {
	local out
	out=$(w sc query postern-agent | tr -d '\r' || true)
	if ! grep -q 'STATE' <<<"$out"; then echo NONE; return; fi
	awk '/STATE/ {print $4}' <<<"$out"
}
# wait_for SECONDS command...: retries until the command succeeds.
wait_for() {
	local n=$1
	shift
	for _ in $(seq 1 "$n"); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 1
	done
	return 1
}
is_running() { [ "$(sc_state)" = RUNNING ]; }
# Predicates for wait_for: evaluated again on every try.
state_is() { [ "$(sc_state)" = "$1" ]; }
acks_above() { [ "$(acks)" -gt "$1" ]; }
acks() {
	local n
	n=$(grep -c '"report acknowledged"' "$STATE/agent.log" 2>/dev/null) || true
	echo "${n:-0}"
}
device_id() { sed -n 's/.*"device_id": *"\([^"]*\)".*/\1/p' "$STATE/identity.json" 2>/dev/null; }
msi() { # msi /i|/x FILE LOG [PROPS...]: msiexec's exit code
	local op=$1 file=$2 log=$3
	shift 3
	local rc=0
	w msiexec "$op" "Z:\\tmp\\p\\$file" /qn /l*v "Z:\\tmp\\p\\$log" "$@" >/dev/null || rc=$?
	echo "$rc"
}

# ---- the server, on loopback, ports chosen by the kernel
"$work/bin/postern-server" serve --init --data "$work/srv/data" --quic 127.0.0.1:0 --https 127.0.0.1:0 >"$work/srv/server.log" 2>&1 &
server_pid=$!
wait_for 30 grep -q '"listening"' "$work/srv/server.log" || { cat "$work/srv/server.log"; exit 1; }
QUIC=$(sed -n 's/.*"msg":"listening","quic":"\([^"]*\)".*/\1/p' "$work/srv/server.log" | head -n1)
# A reusable fleet secret, as an MDM would push it to every laptop.
SECRET=$("$work/bin/postern-server" secret create --data "$work/srv/data" --org clinic-a --max-uses 10 --expires 1d 2>"$work/secret.txt")
SECRET_ID=$(sed -n 's/^enrollment secret \([0-9a-f]*\) .*/\1/p' "$work/secret.txt")
echo "wine-test: server on $QUIC (udp; the TCP fallback on the same port)"

# ---- 1. install, service, enrollment, report
rc=$(msi /i "postern-agent_${V1}_x64.msi" install1.log SERVER="$QUIC" SECRET="$SECRET")
expect "msiexec /i $V1 /qn SERVER SECRET (a reusable fleet secret) exits 0 (got $rc)" test "$rc" = 0
expect "the program is installed in Program Files\\Postern" test -f "$PROG"
expect "the service runs under Wine's service manager" wait_for 60 is_running
expect "the service enrolled the device" wait_for 60 test -s "$STATE/identity.json"
expect "a report was acknowledged by the server" wait_for 90 acks_above 0
DEV=$(device_id)
expect "the server lists the device" grep -q "$DEV" <("$work/bin/postern-server" device list --data "$work/srv/data" 2>/dev/null)
expect "the secret counts one use" grep -q "1/10" <("$work/bin/postern-server" secret list --data "$work/srv/data")

# ---- 2. the transport
transport=$(sed -n 's/.*"connected to server","transport":"\([a-z]*\)".*/\1/p' "$STATE/agent.log" | head -n1)
echo "info the service connected over ${transport:-?}"
grep -h '"quic' "$STATE/agent.log" | head -n3 | sed 's/^/info   /' || true

# ---- 3. stop and start
w sc stop postern-agent >/dev/null || true
expect "sc stop leaves it STOPPED" wait_for 30 state_is STOPPED
before=$(acks)
w sc start postern-agent >/dev/null || true
expect "sc start runs it again" wait_for 30 is_running
expect "it reports again after the restart" wait_for 90 acks_above "$before"

# ---- 4. major upgrade
before=$(acks)
rc=$(msi /i "postern-agent_${V2}_x64.msi" upgrade.log)
expect "msiexec /i $V2 (major upgrade) exits 0 (got $rc)" test "$rc" = 0
# The custom actions' outcomes, which msiexec does not log (the agent's
# install, stop, uninstall record them in its log).
grep -a '"msg":"service ' "$STATE/agent.log" 2>/dev/null | tail -n 6 | sed 's/^/info   /' || true
expect "the upgraded program is $V2" grep -q "postern-agent $V2 " <(w "C:\\Program Files\\Postern\\postern-agent.exe" version | tr -d '\r')
expect "the upgrade keeps the device identity" test "$(device_id)" = "$DEV"
expect "the upgraded service runs" wait_for 60 is_running
is_running || w sc query postern-agent | tr -d '\r' | sed 's/^/info   sc query: /' || true
expect "the upgraded service reports with the same identity" wait_for 90 acks_above "$before"
expect "one product is installed after the upgrade" test "$(w reg query 'HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall' /s /f 'Postern Agent' /d | grep -c 'DisplayName')" -le 1

# ---- 5. uninstall
rc=$(msi /x "postern-agent_${V2}_x64.msi" uninstall.log)
expect "msiexec /x exits 0 (got $rc)" test "$rc" = 0
expect "the service is gone" wait_for 30 state_is NONE
expect "the program is gone" test ! -e "$PROG"
expect "the state (identity) is kept" test -s "$STATE/identity.json"

# ---- 6. offline install, refused secret, no secret in any agent file
cp "$STATE/agent.log" "$work/agent-1-5.log" 2>/dev/null || true # kept with KEEP=1
rm -rf "$STATE"
rc=$(msi /i "postern-agent_${V1}_x64.msi" offline.log SERVER=127.0.0.1:1 SECRET="$SECRET")
expect "an install with an unreachable server exits 0 (got $rc)" test "$rc" = 0
expect "and its service runs" wait_for 60 is_running
status_has() { # not a pipe into grep -q: pipefail would see SIGPIPE
	local out
	out=$(w "C:\\Program Files\\Postern\\postern-agent.exe" status | tr -d '\r' || true)
	grep -Eq "$1" <<<"$out"
}
expect "status shows the service retrying the enrollment" wait_for 60 status_has "pending with 127.0.0.1:1, [0-9]+ attempt\\(s\\), last failed"
w "C:\\Program Files\\Postern\\postern-agent.exe" status | tr -d '\r' | grep enrollment | sed 's/^/info   /' || true
rc=$(msi /x "postern-agent_${V1}_x64.msi" offline-remove.log)
expect "msiexec /x of the offline install (exit $rc) removes its service" wait_for 30 state_is NONE
rm -rf "$STATE"
"$work/bin/postern-server" secret revoke --data "$work/srv/data" "$SECRET_ID" >/dev/null
rc=$(msi /i "postern-agent_${V1}_x64.msi" refused.log SERVER="$QUIC" SECRET="$SECRET")
expect "an install with a revoked secret exits 0 (got $rc)" test "$rc" = 0
expect "status shows the refusal" wait_for 60 status_has "REFUSED"
SECRET_PART=$(cut -d. -f2 <<<"$SECRET")
expect "the secret is in no agent log or status file" \
	sh -c "! grep -rqF '$SECRET_PART' '$STATE' --exclude=enroll_pending.json"
expect "the secret is not in the server's log" sh -c "! grep -qF '$SECRET_PART' '$work/srv/server.log'"
rc=$(msi /x "postern-agent_${V1}_x64.msi" refused-remove.log)
# Every install above ran with /l*v; Wine's msiexec ignores
# MsiHiddenProperties and dumps the session's properties at its end, so
# this holds only because the MSI deletes SECRET and TOKEN once used.
expect "no msiexec /l*v log shows the secret ($(ls "$m"/tmp/p/*.log | wc -l) logs)" \
	sh -c "! grep -aqF '$SECRET_PART' '$m'/tmp/p/*.log"
expect "and the logs show the installs passed one (the dump names SERVER)" grep -aq 'Property(S): SERVER = ' "$m/tmp/p/install1.log"

# ---- 7. check with a recorded Windows 11 25H2 registry loaded into Wine
reg=$m/tmp/p/win11.reg
{
	printf 'Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion]\r\n'
	# `reg query` lines: four spaces, name, type, value.
	while IFS= read -r line; do
		line=${line%$'\r'}
		[[ $line == "    "* ]] || continue
		IFS=$'\t' read -r name type value <<<"$(sed 's/^    //; s/    /\t/g' <<<"$line")"
		case $type in
		REG_SZ) printf '"%s"="%s"\r\n' "$name" "${value//\\/\\\\}" ;;
		REG_DWORD) printf '"%s"=dword:%08x\r\n' "$name" "$((value))" ;;
		esac
	done <checks/ossupported/testdata/windows/reg-query-currentversion__win11_25h2_pro.txt
} >"$reg"
w regedit /S 'Z:\tmp\p\win11.reg' >/dev/null || true
out=$(w 'Z:\tmp\p\agent.exe' check --json --state 'C:\ProgramData\PosternCheck' | tr -d '\r' || true)
echo "$out" >"$work/check.json"
expect "check reads the recorded build (26200, Windows 11 25H2 Pro) from Wine's registry" grep -q '26200' <<<"$out"
# Judged (pass or fail, by the day it runs), never unknown.
expect "check judges Windows 11 25H2 by the end-of-life table, not unknown" \
	grep -Eq '(PASS|FAIL) os_supported .*Windows 11 25H2' <(w 'Z:\tmp\p\agent.exe' check --state 'C:\ProgramData\PosternCheck' | tr -d '\r' | tr -s ' ')
w 'Z:\tmp\p\agent.exe' check --state 'C:\ProgramData\PosternCheck' | tr -d '\r' | sed 's/^/info   /' | head -n 20 || true

t2=$(date +%s)
echo "wine-test: root ready in $((t1 - t0)) s, test ran $((t2 - t1)) s"
echo "wine-test: $passed passed, $failed failed"
[ "$failed" = 0 ]
