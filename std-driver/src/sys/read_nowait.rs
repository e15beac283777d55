//! Reading a file's bytes only if they are in the page cache: `preadv2(2)` with `RWF_NOWAIT`
//! (Linux 4.14 and later, on glibc and musl). Where it is missing, every call says
//! `Unsupported` and the caller reads on the blocking pool instead.

use std::io;
use std::os::fd::BorrowedFd;

/// What [`read_nowait`] found.
#[derive(Debug)]
// Where `preadv2` is missing, only `Unsupported` is made.
#[cfg_attr(
    not(all(
        target_os = "linux",
        any(target_env = "gnu", target_env = "musl"),
        not(miri)
    )),
    allow(dead_code)
)]
pub(crate) enum NoWait {
    /// This many bytes were read (`0`: the file ends at the offset).
    Read(usize),
    /// The bytes are not all in the page cache (or the file's lock is taken): reading them would
    /// wait for the disk.
    WouldBlock,
    /// This OS, kernel or file system cannot say: read the blocking way.
    Unsupported,
}

/// Reads into `buf` from `offset` of `file` without waiting for the disk.
#[cfg(all(
    target_os = "linux",
    any(target_env = "gnu", target_env = "musl"),
    not(miri)
))]
pub(crate) fn read_nowait(file: BorrowedFd<'_>, buf: &mut [u8], offset: u64) -> io::Result<NoWait> {
    use std::os::fd::AsRawFd;

    if buf.is_empty() {
        return Ok(NoWait::Read(0));
    }
    let Ok(offset) = libc::off_t::try_from(offset) else {
        return Ok(NoWait::Read(0));
    };
    let iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    loop {
        // SAFETY: `file` is borrowed, so open for the call; `iov` describes `buf`, which is live
        // and writable for its whole length, and is the one iovec the count of 1 promises.
        let n = unsafe { libc::preadv2(file.as_raw_fd(), &iov, 1, offset, libc::RWF_NOWAIT) };
        if n >= 0 {
            return Ok(NoWait::Read(n as usize));
        }
        let error = io::Error::last_os_error();
        return match error.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EAGAIN) => Ok(NoWait::WouldBlock),
            // No preadv2 (ENOSYS), or no RWF_NOWAIT for this kernel or file system
            // (EOPNOTSUPP, EINVAL on kernels that do not know the flag).
            Some(libc::ENOSYS | libc::EOPNOTSUPP | libc::EINVAL) => Ok(NoWait::Unsupported),
            _ => Err(error),
        };
    }
}

#[cfg(not(all(
    target_os = "linux",
    any(target_env = "gnu", target_env = "musl"),
    not(miri)
)))]
pub(crate) fn read_nowait(
    _file: BorrowedFd<'_>,
    _buf: &mut [u8],
    _offset: u64,
) -> io::Result<NoWait> {
    Ok(NoWait::Unsupported)
}
