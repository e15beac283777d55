#!/usr/bin/env bash
# The file server demo against nginx (1 worker, sendfile on and off, each without and with
# `open_file_cache max=1000 inactive=20s; open_file_cache_valid 1s;`), as issue 14 measures it:
# `wrk -t1 -c64` on a 1 KB and a 1 MB file, the server pinned to CPU 0 and wrk to CPU 1.
# Reports requests/s, MB/s of bodies and the server's CPU per request (utime+stime from
# /proc/PID/stat over the run, divided by the requests), each the median of RUNS runs that
# alternate between the servers (all of them stay up, idle, on ports of their own).
#
#   cargo build --release -p ebbtide-examples --bin fileserver
#   tools/fileserver_vs_nginx.sh [LABEL=FILESERVER_BINARY ...]
#
# Default: `fileserver=target/release/fileserver`. Give several (e.g. `before=/tmp/fs-old
# after=target/release/fileserver`) to compare builds side by side in one run.
# Environment: RUNS (5), SECS (5), CONNS (64), SIZES ("1k 1m"), NGINX (nginx).
# Needs nginx (Debian: `apt-get install nginx-light`), wrk, taskset, python3. Linux only.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-5}
SECS=${SECS:-5}
CONNS=${CONNS:-64}
SIZES=${SIZES:-1k 1m}
NGINX=${NGINX:-nginx}
[ $# -gt 0 ] || set -- "fileserver=$ROOT/target/release/fileserver"

WORK=$(mktemp -d /tmp/fileserver_vs_nginx.XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/root" "$WORK/logs"
head -c 1024 /dev/urandom >"$WORK/root/1k.bin"
head -c $((1024 * 1024)) /dev/urandom >"$WORK/root/1m.bin"

PORT=18480
NAMES=()
declare -A PORT_OF PID_OF

wait_port() {
    for _ in $(seq 100); do
        if curl -fsS -o /dev/null "http://127.0.0.1:$1/1k.bin" 2>/dev/null; then return 0; fi
        sleep 0.05
    done
    echo "nothing answers on port $1" >&2
    exit 1
}

for spec in "$@"; do
    name=${spec%%=*}
    bin=${spec#*=}
    PORT=$((PORT + 1))
    taskset -c 0 "$bin" "$WORK/root" --addr "127.0.0.1:$PORT" --workers 1 \
        >"$WORK/logs/$name.out" 2>&1 &
    PID_OF[$name]=$!
    PIDS+=($!)
    PORT_OF[$name]=$PORT
    NAMES+=("$name")
    wait_port "$PORT"
done

for variant in on off cache-on cache-off; do
    PORT=$((PORT + 1))
    mode=${variant#cache-}
    cache=""
    name="nginx-sendfile-$mode"
    if [ "$variant" != "$mode" ]; then
        cache="open_file_cache max=1000 inactive=20s; open_file_cache_valid 1s;"
        name="nginx-cache-sendfile-$mode"
    fi
    mkdir -p "$WORK/nginx-$variant"
    cat >"$WORK/nginx-$variant/nginx.conf" <<EOF
worker_processes 1;
master_process off;
daemon off;
error_log $WORK/logs/$name.err warn;
pid $WORK/nginx-$variant/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile $mode;
    $cache
    tcp_nopush on;
    keepalive_requests 1000000;
    default_type application/octet-stream;
    client_body_temp_path $WORK/nginx-$variant;
    proxy_temp_path $WORK/nginx-$variant;
    fastcgi_temp_path $WORK/nginx-$variant;
    uwsgi_temp_path $WORK/nginx-$variant;
    scgi_temp_path $WORK/nginx-$variant;
    server {
        listen 127.0.0.1:$PORT;
        root $WORK/root;
    }
}
EOF
    taskset -c 0 "$NGINX" -p "$WORK/nginx-$variant" -c "$WORK/nginx-$variant/nginx.conf" \
        >"$WORK/logs/$name.out" 2>&1 &
    PID_OF[$name]=$!
    PIDS+=($!)
    PORT_OF[$name]=$PORT
    NAMES+=("$name")
    wait_port "$PORT"
done

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

RESULTS=$WORK/results.tsv
: >"$RESULTS"
for size in $SIZES; do
    for run in $(seq "$RUNS"); do
        # Rotate the order each run, so no server always goes first (or right after another).
        count=${#NAMES[@]}
        for i in $(seq 0 $((count - 1))); do
            name=${NAMES[$(((i + run) % count))]}
            port=${PORT_OF[$name]}
            pid=${PID_OF[$name]}
            url="http://127.0.0.1:$port/$size.bin"
            taskset -c 1 wrk -t1 -c"$CONNS" -d1s "$url" >/dev/null # warm-up
            before=$(cpu_ticks "$pid")
            out=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"${SECS}s" "$url")
            after=$(cpu_ticks "$pid")
            requests=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' <<<"$out")
            rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' <<<"$out")
            errors=$(grep -c 'Non-2xx\|Socket errors' <<<"$out" || true)
            printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$size" "$name" "$rps" "$requests" \
                "$((after - before))" "$errors" >>"$RESULTS"
            printf '%s %-22s run %s: %8.0f req/s\n' "$size" "$name" "$run" "$rps" >&2
        done
    done
done

python3 - "$RESULTS" "$(getconf CLK_TCK)" "$RUNS" "$SECS" "$CONNS" <<'EOF'
import statistics, sys
path, tck, runs, secs, conns = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
size_bytes = {"1k": 1024, "1m": 1024 * 1024}
rows = {}
order = []
for line in open(path):
    size, name, rps, requests, ticks, errors = line.rstrip("\n").split("\t")
    key = (size, name)
    if key not in rows:
        rows[key] = []
        order.append(key)
    cpu_us = int(ticks) / tck * 1e6 / max(int(requests), 1)
    rows[key].append((float(rps), cpu_us, int(errors)))
print(f"wrk -t1 -c{conns} -d{secs}s, server on CPU 0, wrk on CPU 1; medians of {runs} alternating runs")
print()
print("| file | server | req/s | MB/s (bodies) | server CPU per request (µs) | runs with errors |")
print("|---|---|---:|---:|---:|---:|")
for size, name in order:
    samples = rows[(size, name)]
    rps = statistics.median(s[0] for s in samples)
    cpu = statistics.median(s[1] for s in samples)
    mbs = rps * size_bytes.get(size, 0) / 1e6
    errs = sum(1 for s in samples if s[2])
    print(f"| {size} | {name} | {rps:,.0f} | {mbs:,.1f} | {cpu:.1f} | {errs} |")
EOF
