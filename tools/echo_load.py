#!/usr/bin/env python3
"""Echo load for the echo demo (`echo serve --tcp ... [--workers N]`): CONNS connections in
ping-pong (64-byte messages, one in flight per connection) for SECS seconds (after 0.5 s of
warm-up) against HOST:PORT, then prints requests/s and the server's CPU per request (utime+stime
of PID from /proc/PID/stat, and per thread). Linux only. Run one client process: the server's CPU
is divided by this process's requests. See tools/echo_workers.sh.

With MODE `churn` (fifth argument) each request is a connection of its own instead: connect,
one 64-byte round trip, close (CONNS is unused): what accepting costs the server.

With RATE set in the environment (requests per second, over all connections), ping-pong is
paced: each connection sends its next message CONNS/RATE seconds after its previous one (or at
once, if the echo came back later than that), an open load below saturation. Comparing N workers
at N times the rate of 1 worker gives each worker the same load, which is how a server with a
core per worker scales; an unpaced load on shared cores measures the cores' oversubscription.

usage: echo_load.py HOST:PORT PID [CONNS] [SECS] [MODE]"""
import os, selectors, socket, sys, time

host, port = sys.argv[1].rsplit(":", 1)
pid = int(sys.argv[2])
conns = int(sys.argv[3]) if len(sys.argv) > 3 else 64
secs = float(sys.argv[4]) if len(sys.argv) > 4 else 5
mode = sys.argv[5] if len(sys.argv) > 5 else "pingpong"
msg = b"x" * 64
tick = os.sysconf("SC_CLK_TCK")

def threads():
    out = {}
    for t in os.listdir(f"/proc/{pid}/task"):
        raw = open(f"/proc/{pid}/task/{t}/stat").read()
        name = raw[raw.index("(") + 1:raw.rindex(")")]
        f = raw.rsplit(")", 1)[1].split()
        out[f"{name}/{t}"] = (int(f[11]) + int(f[12])) / tick
    return out

def cpu():
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / tick

def churn(duration):
    done = 0
    end = time.monotonic() + duration
    while time.monotonic() < end:
        with socket.create_connection((host, int(port))) as s:
            s.sendall(msg)
            s.shutdown(socket.SHUT_WR)
            got = 0
            while True:
                data = s.recv(65536)
                if not data:
                    break
                got += len(data)
            if got != len(msg):
                raise SystemExit(f"echoed {got} bytes of {len(msg)}")
        done += 1
    return done

def measure(load):
    """Warms up with `load` for 0.5 s, then runs it for `secs`; returns (done, seconds, server
    CPU seconds, per-thread CPU text)."""
    load(0.5)
    h0 = threads()
    c0, t0 = cpu(), time.monotonic()
    n = load(secs)
    c1, t1 = cpu(), time.monotonic()
    h1 = threads()
    per = " ".join(f"{k}={h1[k]-h0.get(k,0):.2f}s" for k in sorted(h1) if h1[k]-h0.get(k,0) > 0)
    return n, t1 - t0, c1 - c0, per

if mode == "churn":
    n, wall, server, per = measure(churn)
    print(f"churn connections={n} cps={n/wall:.0f} server_cpu_s={server:.2f} cpu_us_per_conn={server/n*1e6:.2f} threads: {per}")
    raise SystemExit(0)

sel = selectors.DefaultSelector()
socks = []
for _ in range(conns):
    s = socket.create_connection((host, int(port)))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.setblocking(False)
    # bytes received of the message in flight, when the last message was due, the index
    sel.register(s, selectors.EVENT_READ, [0, time.monotonic(), len(socks)])
    socks.append(s)
for s in socks:
    s.send(msg)
rate = float(os.environ.get("RATE", "0"))
period = conns / rate if rate > 0 else 0.0
due = []  # (time, index) of the paced sends still to make

def run(duration):
    import heapq
    done = 0
    now = time.monotonic()
    end = now + duration
    while now < end:
        timeout = 0.1
        if due:
            timeout = max(0.0, min(timeout, due[0][0] - now))
        for key, _ in sel.select(timeout):
            s, got = key.fileobj, key.data
            data = s.recv(65536)
            if not data:
                raise SystemExit("server closed")
            got[0] += len(data)
            while got[0] >= len(msg):
                got[0] -= len(msg)
                done += 1
                if period:
                    got[1] += period
                    heapq.heappush(due, (got[1], got[2]))
                else:
                    s.send(msg)
        now = time.monotonic()
        while due and due[0][0] <= now:
            _, i = heapq.heappop(due)
            socks[i].send(msg)
            key = sel.get_key(socks[i])
            key.data[1] = max(key.data[1], now - period)
    return done
n, wall, server, per = measure(run)
paced = f" rate={rate:.0f}" if rate else ""
print(f"conns={conns}{paced} requests={n} rps={n/wall:.0f} server_cpu_s={server:.2f} cpu_us_per_req={server/n*1e6:.2f} threads: {per}")
