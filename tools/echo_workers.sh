#!/bin/sh
# The echo demo on 1 vs N workers under tools/echo_load.py (Linux): requests/s and server CPU
# per request.
#
#   cargo build --release -p ebbtide-examples --bin echo
#   tools/echo_workers.sh [WORKERS...]        (default: 1 2 1 2)
#
# Environment: CONNS (64), SECS (5).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$ROOT/target/release/echo
ERR=$(mktemp)
trap 'rm -f "$ERR"' EXIT
[ $# -gt 0 ] || set -- 1 2 1 2
for W in "$@"; do
    "$BIN" serve --tcp 127.0.0.1:0 --workers "$W" 2>"$ERR" &
    PID=$!
    ADDR=
    while [ -z "$ADDR" ]; do
        sleep 0.1
        ADDR=$(sed -n 's/^echo: serving TCP on \([^ ]*\).*/\1/p' "$ERR")
    done
    printf 'workers=%s ' "$W"
    python3 "$ROOT/tools/echo_load.py" "$ADDR" "$PID" "${CONNS:-64}" "${SECS:-5}"
    kill "$PID"
    wait "$PID" 2>/dev/null || true
done
