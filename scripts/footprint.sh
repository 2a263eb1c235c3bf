#!/usr/bin/env bash
# `make footprint`: the agent's footprint, measured on this machine.
#
#   - stripped binary size per OS/arch, from `make cross` (bin/cross);
#   - steady resident memory (VmRSS) of `postern-agent run`, enrolled to a
#     real postern-server on loopback and reporting a replayed snapshot, so
#     the figure does not depend on this machine's state;
#   - idle CPU over a 10-minute window (FOOTPRINT_WINDOW seconds): the
#     utime+stime (/proc/PID/stat), with that of the commands it ran, an agent spends with no check cycle in
#     the window (`run --interval 1h`, started after its first report),
#     as a share of one core. Two agents run side by side: one reporting
#     the replayed snapshot, one checking this machine live, whose settings
#     poll stats the files and runs the commands of the firewall and
#     screen-lock collectors. What an idle agent does: hold its QUIC
#     connection (keep-alives), wait on rtnetlink, poll settings every 15 s
#     and tick the resume detector every 5 s;
#   - CPU time (user+system, from rusage) of one live `postern-agent check`
#     of this machine, the second of two runs so that caches are warm; it
#     includes the system tools the check runs (package managers and the
#     like), which are most of it.
#
# Linux only (it reads /proc). Everything runs as an ordinary user in a
# scratch directory that is removed at exit.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-bin}
WINDOW=${FOOTPRINT_WINDOW:-600}  # idle window, seconds (no check cycle runs in it: --interval 1h)
WARMUP=${FOOTPRINT_WARMUP:-10}   # seconds after the first acknowledged report
SNAP=${FOOTPRINT_SNAPSHOT:-checks/testdata/snapshots/linux-compliant}

[ -r /proc/self/stat ] || { echo "footprint: needs Linux /proc" >&2; exit 1; }
for b in postern-server postern-agent; do
	[ -x "$BIN/$b" ] || { echo "footprint: $BIN/$b missing; run make build" >&2; exit 1; }
done

WORK=$(mktemp -d)
SERVER_PID= AGENT_PID= LIVE_PID=
cleanup() {
	for p in $AGENT_PID $LIVE_PID $SERVER_PID; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
	done
	rm -rf "$WORK"
}
trap cleanup EXIT

# A port free on both UDP (QUIC) and TCP (fallback) is likely in this
# range; a clash makes the server exit, which is reported below.
port() { echo $((20000 + RANDOM % 20000)); }
QUIC=127.0.0.1:$(port)
HTTPS=127.0.0.1:$(port)
DATA=$WORK/server STATE=$WORK/agent

"$BIN/postern-server" serve --init --data "$DATA" --quic "$QUIC" --https "$HTTPS" 2>"$WORK/server.log" &
SERVER_PID=$!
for _ in $(seq 1 200); do
	[ -f "$DATA/ca.pem" ] && (exec 3<>"/dev/tcp/${QUIC%:*}/${QUIC##*:}") 2>/dev/null && break
	kill -0 "$SERVER_PID" 2>/dev/null || { echo "footprint: postern-server exited:" >&2; cat "$WORK/server.log" >&2; exit 1; }
	sleep 0.1
done

"$BIN/postern-server" token create --data "$DATA" >"$WORK/token"
"$BIN/postern-agent" enroll --state "$STATE" --server "$QUIC" --token - <"$WORK/token" >/dev/null
"$BIN/postern-agent" run --state "$STATE" --interval 1h --replay "$SNAP" 2>"$WORK/agent.log" &
AGENT_PID=$!
LIVE=$WORK/live
"$BIN/postern-server" token create --data "$DATA" >"$WORK/token2"
"$BIN/postern-agent" enroll --state "$LIVE" --server "$QUIC" --token - <"$WORK/token2" >/dev/null
"$BIN/postern-agent" run --state "$LIVE" --interval 1h 2>"$WORK/live.log" &
LIVE_PID=$!

# wait_ack LOG PID: until the agent's first report is acknowledged (the
# live agent's first check runs the package manager's simulation).
wait_ack() {
	for _ in $(seq 1 1200); do
		grep -q '"report acknowledged"' "$1" 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || { echo "footprint: postern-agent exited:" >&2; cat "$1" >&2; exit 1; }
		sleep 0.1
	done
	echo "footprint: no report acknowledged within 120 s ($1)" >&2
	exit 1
}
wait_ack "$WORK/agent.log" "$AGENT_PID"
wait_ack "$WORK/live.log" "$LIVE_PID"
sleep "$WARMUP"

# cpu_ticks PID: utime+stime plus the cutime+cstime of the commands it ran
# and waited for, in clock ticks (fields 14 to 17; the command name in
# field 2 may hold spaces, so count from its closing parenthesis).
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13 + $14 + $15}'; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

HZ=$(getconf CLK_TCK)
cycles() { cat "$WORK/agent.log" "$WORK/live.log" | grep -c '"check complete"' || true; }
CYCLES_BEFORE=$(cycles)
echo "footprint: idle window of $WINDOW s (utime+stime+cutime+cstime from /proc/PID/stat; no check cycle scheduled in it)" >&2
T0=$(cpu_ticks "$AGENT_PID") L0=$(cpu_ticks "$LIVE_PID")
sleep "$WINDOW"
T1=$(cpu_ticks "$AGENT_PID") L1=$(cpu_ticks "$LIVE_PID")
RSS=$(rss_kib "$AGENT_PID")
CYCLES_AFTER=$(cycles)
IDLE_NOTE=
[ "$CYCLES_BEFORE" = "$CYCLES_AFTER" ] || IDLE_NOTE=" (a check ran inside the window: a trigger fired)"

# One live check of this machine; the first run warms the caches, the
# second is measured. Bash's `time` reports the child's rusage.
"$BIN/postern-agent" check --state "$STATE" >/dev/null 2>&1 || true
TIMEFORMAT='%3U %3S %3R'
CHECK=$({ time "$BIN/postern-agent" check --state "$STATE" >/dev/null 2>&1 || true; } 2>&1)
read -r CU CS CR <<<"$CHECK"
# The same check of the replayed snapshot runs no tool: the agent's own
# share of a cycle.
REPLAY=$({ time "$BIN/postern-agent" check --replay "$SNAP" >/dev/null 2>&1 || true; } 2>&1)
read -r RU RS _ <<<"$REPLAY"

echo
echo "Binary size (stripped: -s -w, -trimpath, CGO_ENABLED=0)"
printf '  %-16s %-20s %10s\n' "os/arch" "binary" "MiB"
if compgen -G "$BIN/cross/*/postern-*" >/dev/null; then
	for f in "$BIN"/cross/*/postern-*; do
		printf '  %-16s %-20s %10.1f\n' "$(basename "$(dirname "$f")")" "$(basename "$f")" "$(awk -v b="$(stat -c %s "$f")" 'BEGIN {print b / 1048576}')"
	done
else
	echo "  (no $BIN/cross; run make cross)"
fi
echo
echo "Agent at run time ($(uname -sm), $(nproc) cores)"
awk -v rss="$RSS" -v t="$((T1 - T0))" -v l="$((L1 - L0))" -v hz="$HZ" -v w="$WINDOW" -v cu="$CU" -v cs="$CS" -v cr="$CR" -v ru="$RU" -v rs="$RS" -v note="$IDLE_NOTE" 'BEGIN {
	printf "  %-44s %10.1f MiB\n", "steady resident memory (VmRSS)", rss / 1024
	printf "  %-44s %10.3f %% of one core (%d ticks of 1/%d s)%s\n", "idle CPU, replayed host (" w " s window)", 100 * t / hz / w, t, hz, note
	printf "  %-44s %10.3f %% of one core (%d ticks of 1/%d s)%s\n", "idle CPU, live host (" w " s window)", 100 * l / hz / w, l, hz, note
	printf "  %-44s %10.3f s  (user %.3f + sys %.3f, wall %.3f)\n", "CPU of one live check (warm; with its tools)", cu + cs, cu, cs, cr
	printf "  %-44s %10.3f s\n", "CPU of one replayed check (agent alone)", ru + rs
}'
