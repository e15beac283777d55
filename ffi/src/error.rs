//! Error codes: negative errno values, plus [`EBBTIDE_EPANIC`].

use std::ffi::{c_char, CStr};
use std::io;

/// A Rust panic was caught inside the library (a bug in ebbtide, never the caller's): the
/// operation did not happen. Outside the errno range on every platform. Compare results with
/// it (`result == EBBTIDE_EPANIC`).
pub const EBBTIDE_EPANIC: i32 = -10_000;

pub(crate) const EINVAL: i32 = -libc::EINVAL;
pub(crate) const EBADF: i32 = -libc::EBADF;
pub(crate) const EAGAIN: i32 = -libc::EAGAIN;
pub(crate) const EBUSY: i32 = -libc::EBUSY;
pub(crate) const ECANCELED: i32 = -libc::ECANCELED;
pub(crate) const EDEADLK: i32 = -libc::EDEADLK;
pub(crate) const EIO: i32 = -libc::EIO;
pub(crate) const EMFILE: i32 = -libc::EMFILE;
pub(crate) const ENOENT: i32 = -libc::ENOENT;
pub(crate) const ENOMEM: i32 = -libc::ENOMEM;
pub(crate) const EPIPE: i32 = -libc::EPIPE;
pub(crate) const ESHUTDOWN: i32 = -libc::ESHUTDOWN;

/// The code of an IO error: its negative errno, or `-EIO` when it has none.
pub(crate) fn io_code(error: &io::Error) -> i32 {
    match error.raw_os_error() {
        Some(errno) if errno > 0 => -errno,
        _ => match error.kind() {
            io::ErrorKind::InvalidInput => EINVAL,
            io::ErrorKind::OutOfMemory => ENOMEM,
            _ => EIO,
        },
    }
}

/// The static message of `code` (0, a negative errno, or [`EBBTIDE_EPANIC`]).
pub(crate) fn message(code: i32) -> &'static CStr {
    if code == 0 {
        return c"success";
    }
    if code == EBBTIDE_EPANIC {
        return c"internal error: a panic was caught inside ebbtide (a bug)";
    }
    let Some(errno) = code.checked_neg().filter(|e| *e > 0) else {
        return c"not an error code (results >= 0 are successes)";
    };
    match errno {
        libc::EPERM => c"operation not permitted",
        libc::ENOENT => c"no such timer or entry (it fired, was cancelled, or never existed)",
        libc::EINTR => c"interrupted system call",
        libc::EIO => c"input/output error",
        libc::EBADF => c"bad handle (closed, stale, of another kind, or forged)",
        libc::EAGAIN => c"resource temporarily unavailable (task pool or channel full)",
        libc::ENOMEM => c"out of memory",
        libc::EACCES => c"permission denied",
        libc::EBUSY => c"an operation of this kind is already in flight on this handle",
        libc::EINVAL => c"invalid argument (a NULL pointer, a zero length, a bad address)",
        libc::EMFILE => c"too many open handles",
        libc::ENFILE => c"too many open files in the system",
        libc::EPIPE => c"broken pipe (peer or channel closed)",
        libc::EDEADLK => c"would deadlock (called on a runtime thread or from a callback)",
        libc::ENOTSOCK => c"not a socket",
        libc::EADDRINUSE => c"address already in use",
        libc::EADDRNOTAVAIL => c"address not available",
        libc::ENETDOWN => c"network is down",
        libc::ENETUNREACH => c"network is unreachable",
        libc::ECONNABORTED => c"connection aborted",
        libc::ECONNRESET => c"connection reset by peer",
        libc::ENOBUFS => c"no buffer space available",
        libc::ENOTCONN => c"socket is not connected",
        libc::ESHUTDOWN => c"the runtime is shutting down",
        libc::ETIMEDOUT => c"connection timed out",
        libc::ECONNREFUSED => c"connection refused",
        libc::EHOSTUNREACH => c"no route to host",
        libc::EALREADY => c"operation already in progress",
        libc::EINPROGRESS => c"operation now in progress",
        libc::ECANCELED => c"operation cancelled",
        _ => c"unknown error",
    }
}

/// `message` as a C pointer.
pub(crate) fn message_ptr(code: i32) -> *const c_char {
    message(code).as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_negative_errnos_with_messages() {
        assert_eq!(EBADF, -libc::EBADF);
        const { assert!(EBBTIDE_EPANIC < -4096) };
        assert_eq!(
            message(EBADF).to_str().unwrap().split(' ').next(),
            Some("bad")
        );
        assert_eq!(message(-libc::ECONNREFUSED), c"connection refused");
        assert_eq!(message(-99_999), c"unknown error");
        assert_eq!(
            message(i32::MIN),
            c"not an error code (results >= 0 are successes)"
        );
        assert_eq!(
            message(5),
            c"not an error code (results >= 0 are successes)"
        );
        assert_eq!(message(0), c"success");
    }

    #[test]
    fn io_errors_map_to_their_errno() {
        let refused = io::Error::from_raw_os_error(libc::ECONNREFUSED);
        assert_eq!(io_code(&refused), -libc::ECONNREFUSED);
        assert_eq!(io_code(&io::Error::other("x")), EIO);
        assert_eq!(io_code(&io::ErrorKind::InvalidInput.into()), EINVAL);
    }
}
