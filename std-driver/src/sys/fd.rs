//! File descriptor flags through `fcntl(2)`, and a socket's `recv(2)` into uninitialised memory.
//!
//! [`AsyncFd`](crate::io::AsyncFd) needs its fd in non-blocking mode (readiness is
//! edge-triggered, so the last read of a burst must say `WouldBlock` instead of blocking the
//! runtime's thread), and std only offers that per type (`UnixStream::set_nonblocking`, ...), not
//! for any fd.

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, BorrowedFd};

/// Puts `fd` in non-blocking mode (`O_NONBLOCK`); nothing to do if it already is.
pub(crate) fn set_nonblocking(fd: BorrowedFd<'_>) -> io::Result<()> {
    let fd = fd.as_raw_fd();
    // SAFETY: `fd` is borrowed, so it is open for the duration of the call; F_GETFL takes no
    // pointer argument.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags == -1 {
        return Err(io::Error::last_os_error());
    }
    if flags & libc::O_NONBLOCK != 0 {
        return Ok(());
    }
    // SAFETY: as above; F_SETFL takes an integer of flags, here the fd's own plus O_NONBLOCK.
    let rc = unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) };
    if rc == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `recv(2)` on a socket into memory that may be uninitialised: `Ok(n)` means the kernel filled
/// the first `n` bytes of `buf`. A non-blocking socket says `WouldBlock` as usual.
///
/// `recv` with no flags is `read` for a connected socket, minus the file layer `read` goes
/// through first (the file position lock, `rw_verify_area`, the `read_iter` indirection): what
/// std's and mio's socket reads use too. `fd` must be a socket (`ENOTSOCK` otherwise).
pub(crate) fn recv_uninit(fd: BorrowedFd<'_>, buf: &mut [MaybeUninit<u8>]) -> io::Result<usize> {
    // SAFETY: `fd` is open for the borrow's length; the kernel writes at most `buf.len()` bytes
    // into `buf`, which is valid and exclusively ours for writes of that length (`MaybeUninit<u8>`
    // has `u8`'s layout, and writing to uninitialised memory is what it is for). The kernel never
    // reads the buffer.
    let n = unsafe { libc::recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}
