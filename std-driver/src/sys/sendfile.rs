//! Sending a file's bytes to a socket: `sendfile(2)` on Linux and Android (the kernel copies
//! from the page cache to the socket, nothing passes through user space), `pread(2)` and
//! `write(2)` through a buffer on the stack elsewhere (the BSDs' and macOS's `sendfile` differ
//! in signature and in how they report a partial send on a non-blocking socket).

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// Sends up to `count` bytes of `file` from `offset` to the non-blocking `socket`, in one
/// attempt: how many moved (`0` when the file ends at `offset`, or `count` is `0`), or
/// `WouldBlock` when the socket's send buffer is full. `file`'s own position is not used or
/// moved.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn send_file(
    socket: BorrowedFd<'_>,
    file: BorrowedFd<'_>,
    offset: u64,
    count: usize,
) -> io::Result<usize> {
    let Ok(mut offset) = libc::off_t::try_from(offset) else {
        // Past what the OS can address: nothing there.
        return Ok(0);
    };
    // Linux moves at most 0x7ffff000 bytes a call anyway.
    let count = count.min(0x7fff_f000);
    without_sigpipe(|| {
        // SAFETY: both fds are borrowed, so open for the call; `offset` is a live `off_t` the
        // call reads and updates (so the file's own position is left alone).
        let sent =
            unsafe { libc::sendfile(socket.as_raw_fd(), file.as_raw_fd(), &mut offset, count) };
        if sent < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(sent as usize)
    })
}

/// Runs `call`, a system call on a socket, so that a peer that is gone makes it fail with
/// `EPIPE` without raising `SIGPIPE`: what `MSG_NOSIGNAL` does for the runtime's `send`s, for
/// calls that take no flags (`sendfile`). Rust's `main` ignores `SIGPIPE`, and then this costs
/// one `sigaction` query; a program that left it at its default action (a C program embedding
/// the runtime), or handles it, would otherwise be killed or interrupted by a signal it did not
/// ask for. There the signal is blocked in this thread for the call, and one the call raised is
/// taken from the pending set before the old mask comes back (a `SIGPIPE` that was pending
/// before the call is left for its owner; one that another thread's write raises for the whole
/// process during the call may be taken with ours).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn without_sigpipe(call: impl FnOnce() -> io::Result<usize>) -> io::Result<usize> {
    use std::mem::MaybeUninit;
    use std::ptr;

    // SAFETY: a query (the new action is null) into a live, zeroed `sigaction`.
    let ignored = unsafe {
        let mut current = MaybeUninit::<libc::sigaction>::zeroed();
        libc::sigaction(libc::SIGPIPE, ptr::null(), current.as_mut_ptr()) == 0
            && current.assume_init().sa_sigaction == libc::SIG_IGN
    };
    if ignored {
        return call();
    }
    let mut pipe = MaybeUninit::<libc::sigset_t>::zeroed();
    let mut old = MaybeUninit::<libc::sigset_t>::zeroed();
    // SAFETY: `pipe` and `old` are live `sigset_t`s: `pipe` is initialised by `sigemptyset`
    // before it is read, `old` is written by `pthread_sigmask`.
    unsafe {
        libc::sigemptyset(pipe.as_mut_ptr());
        libc::sigaddset(pipe.as_mut_ptr(), libc::SIGPIPE);
        libc::pthread_sigmask(libc::SIG_BLOCK, pipe.as_ptr(), old.as_mut_ptr());
    }
    let pending_before = sigpipe_pending();
    let result = call();
    // Whether the call failed or not: a `sendfile` that moved some bytes before it met the gone
    // peer returns their count, and raised `SIGPIPE` all the same.
    if !pending_before && sigpipe_pending() {
        let now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // Blocked, so pending: take it.
        // SAFETY: `pipe` is an initialised set; the info pointer may be null; `now` is live.
        while unsafe { libc::sigtimedwait(pipe.as_ptr(), ptr::null_mut(), &now) } < 0
            && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted
        {}
    }
    // SAFETY: `old` was written by the `pthread_sigmask` above.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, old.as_ptr(), ptr::null_mut()) };
    result
}

/// Whether `SIGPIPE` is pending for this thread or the process.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn sigpipe_pending() -> bool {
    let mut pending = std::mem::MaybeUninit::<libc::sigset_t>::zeroed();
    // SAFETY: `pending` is a live `sigset_t`, written by `sigpending` before it is read (and
    // zeroed, an empty set, should the call fail).
    unsafe {
        libc::sigpending(pending.as_mut_ptr());
        libc::sigismember(pending.as_ptr(), libc::SIGPIPE) == 1
    }
}

/// The portable way: `pread` into a buffer on the stack, then one `write` to the socket. When
/// the socket takes fewer bytes than were read, the rest is read again at the next call (the
/// caller moves `offset` by what was sent), so nothing is lost.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) fn send_file(
    socket: BorrowedFd<'_>,
    file: BorrowedFd<'_>,
    offset: u64,
    count: usize,
) -> io::Result<usize> {
    send_file_copying(socket, file, offset, count)
}

/// [`send_file`] through user space, on every Unix (Linux uses it in tests, to check it).
#[cfg(any(test, not(any(target_os = "linux", target_os = "android"))))]
pub(crate) fn send_file_copying(
    socket: BorrowedFd<'_>,
    file: BorrowedFd<'_>,
    offset: u64,
    count: usize,
) -> io::Result<usize> {
    let mut buf = [0u8; 16 * 1024];
    let want = count.min(buf.len());
    if want == 0 {
        return Ok(0);
    }
    let Ok(offset) = libc::off_t::try_from(offset) else {
        return Ok(0);
    };
    // A full socket is only found by the write below, after the read: the next call reads
    // those bytes again.
    let read = loop {
        // SAFETY: `file` is borrowed, so open; `buf` is a live buffer of at least `want` bytes.
        let n = unsafe { libc::pread(file.as_raw_fd(), buf.as_mut_ptr().cast(), want, offset) };
        if n >= 0 {
            break n as usize;
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    };
    if read == 0 {
        return Ok(0);
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let flags = libc::MSG_NOSIGNAL;
    // mio sets `SO_NOSIGPIPE` on the sockets of the OSes without `MSG_NOSIGNAL`.
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let flags = 0;
    loop {
        // SAFETY: `socket` is borrowed, so open; `buf[..read]` was just filled.
        let n = unsafe { libc::send(socket.as_raw_fd(), buf.as_ptr().cast(), read, flags) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

/// Sends `buf` on the non-blocking `socket` as the start of more data that follows at once:
/// Linux's `MSG_MORE` holds it back until the next send fills a segment (as a response head
/// before its body, so the two go out together). Elsewhere a plain `send`.
pub(crate) fn send_more(socket: BorrowedFd<'_>, buf: &[u8]) -> io::Result<usize> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let flags = libc::MSG_MORE | libc::MSG_NOSIGNAL;
    // mio sets `SO_NOSIGPIPE` on the sockets of the OSes without `MSG_NOSIGNAL`.
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let flags = 0;
    loop {
        // SAFETY: `socket` is borrowed, so open for the call; `buf` is live for its length.
        let n = unsafe { libc::send(socket.as_raw_fd(), buf.as_ptr().cast(), buf.len(), flags) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}
