//! The `extern "C"` entry points. Each one checks its pointers (NULL is `-EINVAL`), turns them
//! into the types of [`raw`] (the only `unsafe` here), and runs the safe code of
//! the other modules inside `catch_unwind`: a panic is `EBBTIDE_EPANIC`, never an unwind into C.

use std::ffi::{c_char, c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::{message_ptr, EBBTIDE_EPANIC, EINVAL};
use crate::raw::{self, ebbtide_cb, BufMut, BufRef, Callback};
use crate::rt::{self, ebbtide_rt, ebbtide_rt_options};
use crate::{chan, tcp, timer};

/// Runs `body`; a panic becomes `EBBTIDE_EPANIC`, `Err(code)` becomes `code`.
fn guard(body: impl FnOnce() -> Result<i32, i32>) -> c_int {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(code) | Err(code)) => code,
        Err(_) => EBBTIDE_EPANIC,
    }
}

/// The runtime behind `rt`.
///
/// # Safety
///
/// `rt` is NULL or a live pointer from `ebbtide_rt_new`.
unsafe fn runtime<'a>(rt: *const ebbtide_rt) -> Result<&'a ebbtide_rt, i32> {
    // SAFETY: the caller's promise.
    unsafe { raw::as_ref(rt) }.ok_or(EINVAL)
}

/// Creates a runtime. `options` may be NULL for the defaults (see `ebbtide_rt_options`).
/// On success stores it in `*out` and returns 0; on failure returns a negative code and leaves
/// `*out` alone.
///
/// # Safety
///
/// `options` is NULL or points to a readable `ebbtide_rt_options`; `out` is NULL (`-EINVAL`) or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn ebbtide_rt_new(
    options: *const ebbtide_rt_options,
    out: *mut *mut ebbtide_rt,
) -> c_int {
    guard(|| {
        if out.is_null() {
            return Err(EINVAL);
        }
        // SAFETY: the caller's promise for `options`.
        let options = unsafe { raw::as_ref(options) };
        let rt = Box::into_raw(rt::new(options)?);
        // SAFETY: `out` is non-NULL and writable by the caller's promise.
        unsafe { raw::write_out(out, rt) };
        Ok(0)
    })
}

/// Runs the runtime on the calling thread (worker 0: tasks, IO, timers and callbacks) until
/// `ebbtide_rt_stop`; returns 0 then. A stop requested while no run is going makes the next
/// run return at once, after calling the completions already queued.
///
/// `-EBUSY` if another thread is running it, `-EDEADLK` from a callback or any runtime thread,
/// `-EINVAL` for NULL.
///
/// # Safety
///
/// `rt` is NULL or a live runtime, not freed during the call.
#[no_mangle]
pub unsafe extern "C" fn ebbtide_rt_run(rt: *mut ebbtide_rt) -> c_int {
    guard(|| {
        // SAFETY: the caller's promise.
        let rt = unsafe { runtime(rt) }?;
        Ok(rt::run(rt))
    })
}

/// Asks `ebbtide_rt_run` to return. Thread-safe, and allowed in callbacks. NULL is ignored.
///
/// # Safety
///
/// `rt` is NULL or a live runtime.
#[no_mangle]
pub unsafe extern "C" fn ebbtide_rt_stop(rt: *mut ebbtide_rt) {
    guard(|| {
        // SAFETY: the caller's promise.
        rt::stop(unsafe { runtime(rt) }?);
        Ok(0)
    });
}

/// Frees the runtime: closes its handles (TCP, timers, channels) and drops its tasks. Every
/// callback still owed is called before this returns, on this thread (operations that were
/// pending get `-ECANCELED`; completions queued but not yet delivered get their result);
/// calls from those callbacks that would start work return `-ESHUTDOWN`. NULL is ignored.
///
/// Must not be called while `ebbtide_rt_run` runs or from a callback: such a call is refused
/// (the runtime is not freed) with a message on stderr.
///
/// # Safety
///
/// `rt` is NULL or a live runtime; it is dangling after this call (unless refused), and no
/// other thread may use it during the call or after.
#[no_mangle]
pub unsafe extern "C" fn ebbtide_rt_free(rt: *mut ebbtide_rt) {
    guard(|| {
        if rt.is_null() {
            return Ok(0);
        }
        // SAFETY: the caller's promise: a live runtime. Only shared references to it are made
        // until the free is known to go ahead: a refused call may come from a callback of the
        // thread in `ebbtide_rt_run`, which holds one too.
        if !rt::free(unsafe { runtime(rt) }?) {
            // Still in use: the caller's runtime stays as it was.
            eprintln!(
                "ebbtide_rt_free: refused: called from a callback or while ebbtide_rt_run runs"
            );
            return Ok(0);
        }
        // SAFETY: a pointer from `ebbtide_rt_new` (`Box::into_raw`), which the caller gives back
        // here and never uses again; `free` returned, so no reference to it is left (callbacks
        // run by the free have returned, and no runtime thread is left).
        drop(unsafe { Box::from_raw(rt) });
        Ok(0)
    });
}

/// Runs `cb(user, 0)` on a runtime thread soon. Thread-safe. `-EAGAIN` when the task memory is
/// full (`task_capacity`), `-ESHUTDOWN` while the runtime is being freed.
///
/// # Safety
///
/// `rt` is NULL or a live runtime; `cb` is NULL or a callback (see `ebbtide_cb`).
#[no_mangle]
pub unsafe extern "C" fn ebbtide_spawn(
    rt: *mut ebbtide_rt,
    cb: ebbtide_cb,
    user: *mut c_void,
) -> c_int {
    guard(|| {
        // SAFETY: the caller's promise.
        let rt = unsafe { runtime(rt) }?;
        let cb = Callback::new(cb, user).ok_or(EINVAL)?;
        timer::spawn(&rt.shared, cb)?;
        Ok(0)
    })
}

/// Calls `cb(user, 0)` on a runtime thread once `delay_ns` nanoseconds have passed (never
/// earlier), or `cb(user, -ECANCELED)` once cancelled by `ebbtide_timer_cancel`. Stores the
/// timer's id in `*id` (which may be NULL). Thread-safe. `-EINVAL` for a delay over a year,
/// `-EAGAIN` when the task memory is full.
///
/// # Safety
///
/// `rt` is NULL or a live runtime; `cb` is NULL or a callback; `id` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ebbtide_timer(
    rt: *mut ebbtide_rt,
    delay_ns: u64,
    cb: ebbtide_cb,
    user: *mut c_void,
    id: *mut u64,
) -> c_int {
    guard(|| {
        // SAFETY: the caller's promise.
        let rt = unsafe { runtime(rt) }?;
        let cb = Callback::new(cb, user).ok_or(EINVAL)?;
        let timer = timer::start(&rt.shared, delay_ns, cb)?;
        // SAFETY: `id` is NULL (nothing stored) or writable by the caller's promise.
        unsafe { raw::write_out(id, timer) };
        Ok(0)
    })
}

/// Cancels a pending timer of `rt`: returns 0, and its callback gets `-ECANCELED` (on a runtime
/// thread, soon). `-ENOENT` when `id` names no pending timer of `rt` (it fired, was cancelled,
/// or never existed). Thread-safe.
///
/// # Safety
///
/// `rt` is NULL or a live runtime.
#[no_mangle]
pub unsafe extern "C" fn ebbtide_timer_cancel(rt: *mut ebbtide_rt, id: u64) -> c_int {
    guard(|| {
        // SAFETY: the caller's promise.
        let rt = unsafe { runtime(rt) }?;
        timer::cancel(&rt.shared, id)?;
        Ok(0)
    })
}

/// Binds a TCP listener to `addr`, a numeric `"IP:PORT"` (`"127.0.0.1:0"`: a free port, see
/// `ebbtide_tcp_local_port`; `"[::1]:8080"`), and stores its handle in `*listener`. Errors:
/// `-EINVAL` (NULL, not an address), or the `bind` error (`-EADDRINUSE`, ...).
///
/// # Safety
///
/// `rt` is NULL or a live runtime; `addr` is NULL or a NUL-terminated string; `listener` is
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ebbtide_tcp_listen(
    rt: *mut ebbtide_rt,
    addr: *const c_char,
    listener: *mut u64,
) -> c_int {
    guard(|| {
        // SAFETY: the caller's promise.
        let rt = unsafe { runtime(rt) }?;
        // SAFETY: the caller's promise.
        let addr = unsafe { raw::c_str(addr) }.ok_or(EINVAL)?;
        if listener.is_null() {
            return Err(EINVAL);
        }
        let handle = tcp::listen(&rt.shared, addr)?;
        // SAFETY: non-NULL and writable by the caller's promise.
        unsafe { raw::write_out(listener, handle) };
        Ok(0)
    })
}

/// Stores the port `listener` is bound to in `*port`. `-EBADF` for a handle that is not a live
/// listener.
///
/// # Safety
///
/// `port` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ebbtide_tcp_local_port(listener: u64, port: *mut u16) -> c_int {
    guard(|| {
        if port.is_null() {
            return Err(EINVAL);
        }
        let local = tcp::local_port(listener)?;
        // SAFETY: non-NULL and writable by the caller's promise.
        unsafe { raw::write_out(port, local) };
        Ok(0)
    })
}

/// Accepts the next connection on `listener` (a listener of `rt`): `cb(user, handle)` with the
/// new stream's handle (positive), or `cb(user, -errno)`. One accept at a time per listener
/// (`-EBUSY`). Thread-safe.
///
/// # Safety
///
/// `rt` is NULL or a live runtime; `cb` is NULL or a callback.
#[no_mangle]
pub unsafe extern "C" fn ebbtide_tcp_accept(
    rt: *mut ebbtide_rt,
    listener: u64,
    cb: ebbtide_cb,
    user: *mut c_void,
) -> c_int {
    guard(|| {
        // SAFETY: the caller's promise.
        let rt = unsafe { runtime(rt) }?;
        let cb = Callback::new(cb, user).ok_or(EINVAL)?;
        tcp::accept(&rt.shared, listener, cb)?;
        Ok(0)
    })
}

/// Connects to `addr`, a numeric `"IP:PORT"`: `cb(user, handle)` with the new stream's handle
/// (positive), or `cb(user, -errno)` (`-ECONNREFUSED`, ...). Streams have `TCP_NODELAY` set.
/// Thread-safe.
///
/// # Safety
///
/// `rt` is NULL or a live runtime; `addr` is NULL or a NUL-terminated string (read during the
/// call only); `cb` is NULL or a callback.
#[no_mangle]
pub unsafe extern "C" fn ebbtide_tcp_connect(
    rt: *mut ebbtide_rt,
    addr: *const c_char,
    cb: ebbtide_cb,
    user: *mut c_void,
) -> c_int {
    guard(|| {
        // SAFETY: the caller's promise.
        let rt = unsafe { runtime(rt) }?;
        // SAFETY: the caller's promise.
        let addr = unsafe { raw::c_str(addr) }.ok_or(EINVAL)?;
        let cb = Callback::new(cb, user).ok_or(EINVAL)?;
        tcp::connect(&rt.shared, addr, cb)?;
        Ok(0)
    })
}

/// Reads up to `len` bytes into `buf`: `cb(user, n)` with the count, 0 at end of stream, or
/// `-errno` (`-ECONNRESET`, ...). One read at a time per stream (`-EBUSY`); a read and a write
/// may be in flight together. Thread-safe.
///
/// # Safety
///
/// `buf` is NULL or valid for writes of `len` bytes, and the caller leaves those bytes alone
/// until `cb` is called; `cb` is NULL or a callback.
#[no_mangle]
pub unsafe extern "C" fn ebbtide_tcp_read(
    stream: u64,
    buf: *mut c_void,
    len: usize,
    cb: ebbtide_cb,
    user: *mut c_void,
) -> c_int {
    guard(|| {
        // SAFETY: the caller's promise: ours until the callback.
        let buf = unsafe { BufMut::new(buf, len) }.ok_or(EINVAL)?;
        let cb = Callback::new(cb, user).ok_or(EINVAL)?;
        tcp::read(stream, buf, cb)?;
        Ok(0)
    })
}

/// Writes all `len` bytes of `buf`: `cb(user, len)`, or `cb(user, -errno)` (`-EPIPE`,
/// `-ECONNRESET`, ...). One write at a time per stream (`-EBUSY`). Thread-safe.
///
/// # Safety
///
/// `buf` is NULL or valid for reads of `len` bytes, unchanged until `cb` is called; `cb` is
/// NULL or a callback.
#[no_mangle]
pub unsafe extern "C" fn ebbtide_tcp_write_all(
    stream: u64,
    buf: *const c_void,
    len: usize,
    cb: ebbtide_cb,
    user: *mut c_void,
) -> c_int {
    guard(|| {
        // SAFETY: the caller's promise: readable and unchanged until the callback.
        let buf = unsafe { BufRef::new(buf, len) }.ok_or(EINVAL)?;
        let cb = Callback::new(cb, user).ok_or(EINVAL)?;
        tcp::write_all(stream, buf, cb)?;
        Ok(0)
    })
}

/// Closes a stream or a listener: the handle is stale from now on (`-EBADF` everywhere), and
/// its pending operations complete with `-ECANCELED`. `-EBADF` for a handle that is not live.
/// Thread-safe, and allowed in callbacks.
#[no_mangle]
pub extern "C" fn ebbtide_tcp_close(handle: u64) -> c_int {
    guard(|| {
        tcp::close(handle)?;
        Ok(0)
    })
}

/// Creates a channel of `capacity` messages (0: each send waits for a receive) of `msg_size`
/// bytes each (not 0), whose callbacks `rt` runs, and stores its handle in `*chan`. `-ENOMEM`
/// above 1 GiB of messages.
///
/// # Safety
///
/// `rt` is NULL or a live runtime; `chan` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ebbtide_chan_new(
    rt: *mut ebbtide_rt,
    capacity: usize,
    msg_size: usize,
    chan: *mut u64,
) -> c_int {
    guard(|| {
        // SAFETY: the caller's promise.
        let rt = unsafe { runtime(rt) }?;
        if chan.is_null() {
            return Err(EINVAL);
        }
        let handle = chan::new(&rt.shared, capacity, msg_size)?;
        // SAFETY: non-NULL and writable by the caller's promise.
        unsafe { raw::write_out(chan, handle) };
        Ok(0)
    })
}

/// Sends the `msg_size` bytes at `msg`: `cb(user, 0)` once the message is in the channel (at
/// once when there is room, else when a receive makes some), or `cb(user, -EPIPE)` if the
/// channel is closed first, `-ECANCELED` if freed. Messages of one thread arrive in the order
/// it sent them. `-EPIPE` (no callback) on a closed channel. Thread-safe.
///
/// # Safety
///
/// `msg` is NULL or readable for the channel's `msg_size` bytes, unchanged until `cb` is
/// called; `cb` is NULL or a callback.
#[no_mangle]
pub unsafe extern "C" fn ebbtide_chan_send(
    chan: u64,
    msg: *const c_void,
    cb: ebbtide_cb,
    user: *mut c_void,
) -> c_int {
    guard(|| {
        let size = chan::msg_size(chan)?;
        // SAFETY: the caller's promise: `msg_size` readable bytes until the callback.
        let msg = unsafe { BufRef::new(msg, size) }.ok_or(EINVAL)?;
        let cb = Callback::new(cb, user).ok_or(EINVAL)?;
        chan::send(chan, msg, cb)?;
        Ok(0)
    })
}

/// Sends the `msg_size` bytes at `msg` if there is room now (or a receive waits): 0, else
/// `-EAGAIN`; `-EPIPE` on a closed channel. No callback. Thread-safe.
///
/// # Safety
///
/// `msg` is NULL or readable for the channel's `msg_size` bytes during the call.
#[no_mangle]
pub unsafe extern "C" fn ebbtide_chan_try_send(chan: u64, msg: *const c_void) -> c_int {
    guard(|| {
        let size = chan::msg_size(chan)?;
        // SAFETY: the caller's promise: `msg_size` readable bytes during the call.
        let msg = unsafe { BufRef::new(msg, size) }.ok_or(EINVAL)?;
        chan::try_send(chan, msg.as_slice())?;
        Ok(0)
    })
}

/// Receives the next message into `buf` (the channel's `msg_size` bytes): `cb(user, msg_size)`,
/// or `cb(user, 0)` once the channel is closed and empty, `-ECANCELED` if freed. Thread-safe.
///
/// # Safety
///
/// `buf` is NULL or writable for the channel's `msg_size` bytes, left alone until `cb` is
/// called; `cb` is NULL or a callback.
#[no_mangle]
pub unsafe extern "C" fn ebbtide_chan_recv(
    chan: u64,
    buf: *mut c_void,
    cb: ebbtide_cb,
    user: *mut c_void,
) -> c_int {
    guard(|| {
        let size = chan::msg_size(chan)?;
        // SAFETY: the caller's promise: `msg_size` writable bytes, ours until the callback.
        let buf = unsafe { BufMut::new(buf, size) }.ok_or(EINVAL)?;
        let cb = Callback::new(cb, user).ok_or(EINVAL)?;
        chan::recv(chan, buf, cb)?;
        Ok(0)
    })
}

/// Receives a message into `buf` if one is there: returns `msg_size`; 0 when the channel is
/// closed and empty; `-EAGAIN` when empty. No callback. Thread-safe.
///
/// # Safety
///
/// `buf` is NULL or writable for the channel's `msg_size` bytes during the call.
#[no_mangle]
pub unsafe extern "C" fn ebbtide_chan_try_recv(chan: u64, buf: *mut c_void) -> c_int {
    guard(|| {
        let size = chan::msg_size(chan)?;
        // SAFETY: the caller's promise: `msg_size` writable bytes during the call.
        let mut buf = unsafe { BufMut::new(buf, size) }.ok_or(EINVAL)?;
        let got = chan::try_recv(chan, buf.as_mut_slice())?;
        Ok(i32::try_from(got).unwrap_or(i32::MAX))
    })
}

/// Closes a channel for sending: later sends return `-EPIPE`, waiting sends complete with
/// `-EPIPE`; receives get the queued messages, then 0. The handle stays valid until
/// `ebbtide_chan_free`. Thread-safe.
#[no_mangle]
pub extern "C" fn ebbtide_chan_close(chan: u64) -> c_int {
    guard(|| {
        chan::close(chan)?;
        Ok(0)
    })
}

/// Frees a channel: the handle is stale from now on, and waiting operations complete with
/// `-ECANCELED`. (`ebbtide_rt_free` frees the runtime's channels too.) Thread-safe.
#[no_mangle]
pub extern "C" fn ebbtide_chan_free(chan: u64) -> c_int {
    guard(|| {
        chan::free(chan)?;
        Ok(0)
    })
}

/// A static, NUL-terminated English message for a code this API returned (never NULL; do not
/// free it). Thread-safe.
#[no_mangle]
pub extern "C" fn ebbtide_strerror(code: c_int) -> *const c_char {
    match catch_unwind(|| message_ptr(code)) {
        Ok(message) => message,
        Err(_) => c"unknown error".as_ptr(),
    }
}

/// Nanoseconds in a millisecond, for `ebbtide_timer`'s `delay_ns`.
pub const EBBTIDE_NS_PER_MS: u64 = 1_000_000_u64;
