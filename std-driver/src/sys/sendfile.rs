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
    // SAFETY: both fds are borrowed, so open for the call; `offset` is a live `off_t` the call
    // reads and updates (so the file's own position is left alone).
    let sent = unsafe { libc::sendfile(socket.as_raw_fd(), file.as_raw_fd(), &mut offset, count) };
    if sent < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(sent as usize)
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
    loop {
        // SAFETY: `socket` is borrowed, so open; `buf[..read]` was just filled.
        let n = unsafe { libc::write(socket.as_raw_fd(), buf.as_ptr().cast(), read) };
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
