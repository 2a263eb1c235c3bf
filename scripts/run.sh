#!/usr/bin/env bash
# `make run`: a whole Postern loop on this machine, as an ordinary user.
# Starts postern-server on a scratch data dir, enrolls a local agent, checks
# this machine for real, reports over QUIC with mutual TLS, and prints the
# gateway's decision and the curl line that asks for it. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-bin}
RUN=${RUN_DIR:-.run}
QUIC=${POSTERN_QUIC:-127.0.0.1:4433}
HTTPS=${POSTERN_HTTPS:-127.0.0.1:8443}
HTTPS_PORT=${HTTPS##*:}

rm -rf "$RUN"
mkdir -p "$RUN"
DATA="$RUN/server"
STATE="$RUN/agent"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "starting postern-server (data: $DATA, QUIC udp/$QUIC, HTTPS tcp/$HTTPS)"
"$BIN/postern-server" serve --init --data "$DATA" --quic "$QUIC" --https "$HTTPS" 2>"$RUN/server.log" &
SERVER_PID=$!
stop_server() { kill $SERVER_PID 2>/dev/null; wait $SERVER_PID 2>/dev/null || true; }
trap stop_server EXIT
trap 'echo; echo "stopping postern-server"; exit 0' INT TERM

for _ in $(seq 1 100); do
	if [ -f "$DATA/ca.pem" ] && curl -fsS --cacert "$DATA/ca.pem" "https://localhost:$HTTPS_PORT/healthz" >/dev/null 2>&1; then
		break
	fi
	if ! kill -0 $SERVER_PID 2>/dev/null; then
		echo "postern-server exited; its log:" >&2; cat "$RUN/server.log" >&2; exit 1
	fi
	sleep 0.1
done

step "creating an enrollment token and a gateway API key"
TOKEN=$("$BIN/postern-server" token create --data "$DATA")
KEY=$("$BIN/postern-server" apikey create --name make-run --data "$DATA")
echo "token:   ${TOKEN:0:12}... (one-time, pins the server's CA)"
echo "api key: ${KEY:0:8}..."

step "enrolling this machine's agent (state: $STATE)"
"$BIN/postern-agent" enroll --state "$STATE" --server "$QUIC" --token "$TOKEN"

step "checking this machine (postern-agent check)"
"$BIN/postern-agent" check --state "$STATE" || true

step "reporting over QUIC and waiting for the server's ack (postern-agent run --once)"
"$BIN/postern-agent" run --once --state "$STATE" 2>"$RUN/agent.log" || { cat "$RUN/agent.log" >&2; exit 1; }
# status exits 1 when the device is blocked, as this machine usually is.
"$BIN/postern-agent" status --state "$STATE" || true

DEVICE_ID=$({ "$BIN/postern-agent" status --json --state "$STATE" || true; } | sed -n 's/.*"device_id": *"\([^"]*\)".*/\1/p' | head -n1)

step "the gateway's decision for device $DEVICE_ID"
CURL=(curl -sS --cacert "$DATA/ca.pem" -H "Authorization: Bearer $KEY" "https://localhost:$HTTPS_PORT/v1/decision?device_id=$DEVICE_ID")
"${CURL[@]}"
echo
printf '\nAsk again with:\n  curl -sS --cacert %q -H %q %q\n' "$DATA/ca.pem" "Authorization: Bearer $KEY" "https://localhost:$HTTPS_PORT/v1/decision?device_id=$DEVICE_ID"

printf '\nThe HTTPS port serves a certificate of this server'"'"'s own device CA (browsers warn).\nFor a certificate browsers trust: postern-server serve --tls-cert FILE --tls-key FILE\n(or tls_cert/tls_key in the config; kill -HUP %s reloads it; docs/deploy-linux.md).\n' "$SERVER_PID"

step "postern-server keeps serving; logs in $RUN/server.log. Ctrl-C to stop."
wait $SERVER_PID || true
