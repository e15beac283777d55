#!/bin/sh
# The echo demo on 1 vs N workers under tools/echo_load.py (Linux): requests/s and server CPU
# per request.
#
#   cargo build --release -p ebbtide-examples --bin echo
#   tools/echo_workers.sh [WORKERS...]        (default: 1 2 1 2)
#
# A WORKERS word may end in `h` (`2h`): that many workers behind one listener that hands
# connections off (`--hand-off`) instead of a listener per worker.
# Environment: CONNS (64), SECS (5), MODE (pingpong, or churn: a connection per request),
# PER_WORKER_RATE (unset: unpaced; else paced ping-pong at this many requests/s per worker, so
# that N workers get N times the load of 1: see echo_load.py's RATE).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$ROOT/target/release/echo
ERR=$(mktemp)
trap 'rm -f "$ERR"' EXIT
[ $# -gt 0 ] || set -- 1 2 1 2
for W in "$@"; do
    case $W in
        *h) HAND_OFF=--hand-off ;;
        *) HAND_OFF= ;;
    esac
    # shellcheck disable=SC2086 # HAND_OFF is one word or none
    "$BIN" serve --tcp 127.0.0.1:0 --workers "${W%h}" $HAND_OFF 2>"$ERR" &
    PID=$!
    ADDR=
    while [ -z "$ADDR" ]; do
        sleep 0.1
        ADDR=$(sed -n 's/^echo: serving TCP on \([^ ]*\).*/\1/p' "$ERR")
    done
    printf 'workers=%s ' "$W"
    if [ -n "${PER_WORKER_RATE:-}" ]; then
        RATE=$((${W%h} * PER_WORKER_RATE))
        export RATE
    fi
    python3 "$ROOT/tools/echo_load.py" "$ADDR" "$PID" "${CONNS:-64}" "${SECS:-5}" "${MODE:-pingpong}"
    kill "$PID"
    wait "$PID" 2>/dev/null || true
done
