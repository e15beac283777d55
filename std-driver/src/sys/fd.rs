//! File descriptor flags through `fcntl(2)`.
//!
//! [`AsyncFd`](crate::io::AsyncFd) needs its fd in non-blocking mode (readiness is
//! edge-triggered, so the last read of a burst must say `WouldBlock` instead of blocking the
//! runtime's thread), and std only offers that per type (`UnixStream::set_nonblocking`, ...), not
//! for any fd.

use std::io;
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
