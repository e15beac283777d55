"""ebbtide's C API from Python through ctypes: a timer, then a TCP echo round trip on loopback.

    cargo build -p ebbtide-ffi
    python3 examples/python/ebbtide_demo.py target/debug/libebbtide_ffi.so

Callbacks run on the runtime's thread (the one in `ebbtide_rt_run`); ctypes takes the GIL for
them. Everything a pending operation uses (buffers, callback objects) is kept referenced until
its callback has run. Exits non-zero if anything goes wrong.
"""

import ctypes
import errno
import sys
import time

lib = ctypes.CDLL(sys.argv[1] if len(sys.argv) > 1 else "target/debug/libebbtide_ffi.so")

CB = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int64)
RT = ctypes.c_void_p
u64 = ctypes.c_uint64

lib.ebbtide_rt_new.argtypes = [ctypes.c_void_p, ctypes.POINTER(RT)]
lib.ebbtide_rt_run.argtypes = [RT]
lib.ebbtide_rt_stop.argtypes = [RT]
lib.ebbtide_rt_stop.restype = None
lib.ebbtide_rt_free.argtypes = [RT]
lib.ebbtide_rt_free.restype = None
lib.ebbtide_timer.argtypes = [RT, u64, CB, ctypes.c_void_p, ctypes.POINTER(u64)]
lib.ebbtide_tcp_listen.argtypes = [RT, ctypes.c_char_p, ctypes.POINTER(u64)]
lib.ebbtide_tcp_local_port.argtypes = [u64, ctypes.POINTER(ctypes.c_uint16)]
lib.ebbtide_tcp_accept.argtypes = [RT, u64, CB, ctypes.c_void_p]
lib.ebbtide_tcp_connect.argtypes = [RT, ctypes.c_char_p, CB, ctypes.c_void_p]
lib.ebbtide_tcp_read.argtypes = [u64, ctypes.c_void_p, ctypes.c_size_t, CB, ctypes.c_void_p]
lib.ebbtide_tcp_write_all.argtypes = [u64, ctypes.c_void_p, ctypes.c_size_t, CB, ctypes.c_void_p]
lib.ebbtide_tcp_close.argtypes = [u64]
lib.ebbtide_strerror.argtypes = [ctypes.c_int]
lib.ebbtide_strerror.restype = ctypes.c_char_p


def check(code, what):
    if code != 0:
        raise SystemExit(f"{what}: {lib.ebbtide_strerror(code).decode()} ({code})")


rt = RT()
check(lib.ebbtide_rt_new(None, ctypes.byref(rt)), "ebbtide_rt_new")
events = []
keep = []  # callbacks and buffers of pending operations


def callback(fn):
    cb = CB(fn)
    keep.append(cb)
    return cb


# A timer of 20 ms: never early.
started = time.monotonic()


@callback
def on_timer(_user, result):
    events.append(("timer", result, time.monotonic() - started))
    lib.ebbtide_rt_stop(rt)


check(lib.ebbtide_timer(rt, 20_000_000, on_timer, None, None), "ebbtide_timer")
check(lib.ebbtide_rt_run(rt), "ebbtide_rt_run")
assert events[0][0] == "timer" and events[0][1] == 0, events
assert events[0][2] >= 0.020, f"the timer fired early: {events[0][2]:.4f} s"
print(f"timer: fired after {events[0][2] * 1000:.1f} ms")

# An echo: the server reads once and writes back; the client writes, then reads the echo.
listener = u64()
check(lib.ebbtide_tcp_listen(rt, b"127.0.0.1:0", ctypes.byref(listener)), "ebbtide_tcp_listen")
port = ctypes.c_uint16()
check(lib.ebbtide_tcp_local_port(listener, ctypes.byref(port)), "ebbtide_tcp_local_port")
message = b"hello from Python through ebbtide"
server_buf = ctypes.create_string_buffer(256)
client_out = ctypes.create_string_buffer(message, len(message))
client_in = ctypes.create_string_buffer(len(message))
state = {"server": 0, "client": 0, "got": 0}


def fail(what, result):
    events.append(("error", what, result))
    lib.ebbtide_rt_stop(rt)


@callback
def on_server_written(_user, result):
    if result < 0:
        fail("server write", result)


@callback
def on_server_read(_user, result):
    if result <= 0:
        return fail("server read", result)
    check(lib.ebbtide_tcp_write_all(state["server"], server_buf, result, on_server_written, None), "write")


@callback
def on_accept(_user, result):
    if result <= 0:
        return fail("accept", result)
    state["server"] = result
    check(lib.ebbtide_tcp_read(result, server_buf, len(server_buf), on_server_read, None), "read")


@callback
def on_client_read(_user, result):
    if result <= 0:
        return fail("client read", result)
    state["got"] += result
    if state["got"] < len(message):
        rest = ctypes.byref(client_in, state["got"])
        check(lib.ebbtide_tcp_read(state["client"], rest, len(message) - state["got"], on_client_read, None), "read")
        return
    events.append(("echo", client_in.raw))
    lib.ebbtide_rt_stop(rt)


@callback
def on_client_written(_user, result):
    if result != len(message):
        fail("client write", result)


@callback
def on_connect(_user, result):
    if result <= 0:
        return fail("connect", result)
    state["client"] = result
    check(lib.ebbtide_tcp_write_all(result, client_out, len(message), on_client_written, None), "write")
    check(lib.ebbtide_tcp_read(result, client_in, len(message), on_client_read, None), "read")


check(lib.ebbtide_tcp_accept(rt, listener, on_accept, None), "ebbtide_tcp_accept")
addr = f"127.0.0.1:{port.value}".encode()
check(lib.ebbtide_tcp_connect(rt, addr, on_connect, None), "ebbtide_tcp_connect")
check(lib.ebbtide_rt_run(rt), "ebbtide_rt_run")
assert events[-1] == ("echo", message), events
print(f"echo: {events[-1][1].decode()!r} came back through 127.0.0.1:{port.value}")

# A stale handle is an error code, never a crash.
for handle in (state["client"], state["server"], listener.value):
    check(lib.ebbtide_tcp_close(handle), "ebbtide_tcp_close")
assert lib.ebbtide_tcp_close(listener.value) == -errno.EBADF
lib.ebbtide_rt_free(rt)
print("python ctypes demo: ok")
