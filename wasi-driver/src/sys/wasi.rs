//! WASI preview 1: every raw call of the driver, through the `wasi` 0.11 crate.
//!
//! Each function is a thin, safe wrapper: the only `unsafe` in ebbtide-wasi is here. The
//! preview 1 calls are `unsafe` because they take raw pointers (to iovecs, subscriptions,
//! events) and file descriptors; the wrappers build those from Rust slices, whose pointers and
//! lengths are valid for the duration of the call. A file descriptor the program does not own is
//! not a memory-safety matter under WASI: the host checks it and answers `BADF`.

use std::io;

/// A WASI file descriptor.
pub(crate) type Fd = u32;
/// A subscription of `poll_oneoff` (48 bytes on wasm32).
pub(crate) type Subscription = wasi::Subscription;
/// An event of `poll_oneoff` (32 bytes on wasm32).
pub(crate) type Event = wasi::Event;

/// `BADF`, as `io::Error::raw_os_error` reports it.
pub(crate) const ERRNO_BADF: i32 = wasi::ERRNO_BADF.raw() as i32;
/// `NOTSOCK`, as `io::Error::raw_os_error` reports it.
pub(crate) const ERRNO_NOTSOCK: i32 = wasi::ERRNO_NOTSOCK.raw() as i32;

fn error(errno: wasi::Errno) -> io::Error {
    io::Error::from_raw_os_error(errno.raw() as i32)
}

/// A relative `CLOCKID_MONOTONIC` subscription that fires after `timeout_ns`.
pub(crate) fn clock_subscription(userdata: u64, timeout_ns: u64) -> Subscription {
    Subscription {
        userdata,
        u: wasi::SubscriptionU {
            tag: wasi::EVENTTYPE_CLOCK.raw(),
            u: wasi::SubscriptionUU {
                clock: wasi::SubscriptionClock {
                    id: wasi::CLOCKID_MONOTONIC,
                    timeout: timeout_ns,
                    precision: 0,
                    flags: 0, // relative: absolute time is broken on some hosts
                },
            },
        },
    }
}

/// A subscription to `fd` becoming readable (`write == false`) or writable.
pub(crate) fn fd_subscription(userdata: u64, fd: Fd, write: bool) -> Subscription {
    let readwrite = wasi::SubscriptionFdReadwrite {
        file_descriptor: fd,
    };
    let (tag, u) = if write {
        (
            wasi::EVENTTYPE_FD_WRITE,
            wasi::SubscriptionUU {
                fd_write: readwrite,
            },
        )
    } else {
        (
            wasi::EVENTTYPE_FD_READ,
            wasi::SubscriptionUU { fd_read: readwrite },
        )
    };
    Subscription {
        userdata,
        u: wasi::SubscriptionU { tag: tag.raw(), u },
    }
}

/// An event to fill the events buffer with before a wait.
pub(crate) fn empty_event() -> Event {
    Event {
        userdata: 0,
        error: wasi::ERRNO_SUCCESS,
        type_: wasi::EVENTTYPE_CLOCK,
        fd_readwrite: wasi::EventFdReadwrite {
            nbytes: 0,
            flags: 0,
        },
    }
}

/// The `userdata` of `subscription`.
pub(crate) fn subscription_userdata(subscription: &Subscription) -> u64 {
    subscription.userdata
}

/// An event that answers the subscription with `userdata` (made by the reactor for an fd the
/// host refused to poll).
pub(crate) fn event_for(userdata: u64) -> Event {
    Event {
        userdata,
        ..empty_event()
    }
}

/// Whether `fd` is a regular file (whose reads never block); `false` when the host cannot say.
pub(crate) fn is_regular_file(fd: Fd) -> bool {
    // SAFETY: no pointer is passed; the crate writes the stat into its own return value.
    unsafe { wasi::fd_fdstat_get(fd) }
        .is_ok_and(|stat| stat.fs_filetype == wasi::FILETYPE_REGULAR_FILE)
}

/// The `userdata` of the subscription `event` answers.
pub(crate) fn event_userdata(event: &Event) -> u64 {
    event.userdata
}

/// Waits in `poll_oneoff` until at least one subscription fires; returns how many events it
/// wrote to the front of `events`.
///
/// # Panics
///
/// If `subscriptions` is empty (the host would answer INVAL; a caller that has nothing to wait
/// for has a deadlock to report) or `events` is shorter than `subscriptions`.
pub(crate) fn poll(subscriptions: &[Subscription], events: &mut [Event]) -> io::Result<usize> {
    assert!(!subscriptions.is_empty() && events.len() >= subscriptions.len());
    // SAFETY: both pointers come from live slices; the host reads `subscriptions.len()`
    // subscriptions and writes at most as many events, for which `events` has room.
    let n = unsafe {
        wasi::poll_oneoff(
            subscriptions.as_ptr(),
            events.as_mut_ptr(),
            subscriptions.len(),
        )
    }
    .map_err(error)?;
    Ok(n.min(events.len()))
}

/// The monotonic clock, in nanoseconds.
pub(crate) fn monotonic_ns() -> u64 {
    // SAFETY: no pointer is passed; every preview 1 host has the monotonic clock.
    unsafe { wasi::clock_time_get(wasi::CLOCKID_MONOTONIC, 1) }
        .expect("the WASI host has no monotonic clock")
}

/// `fd_read` into `buf` (blocks on stdin: wait for readiness first).
pub(crate) fn fd_read(fd: Fd, buf: &mut [u8]) -> io::Result<usize> {
    let iov = wasi::Iovec {
        buf: buf.as_mut_ptr(),
        buf_len: buf.len(),
    };
    // SAFETY: the iovec describes `buf`, which stays borrowed mutably for the call.
    unsafe { wasi::fd_read(fd, &[iov]) }.map_err(error)
}

/// `fd_write` from `buf`.
pub(crate) fn fd_write(fd: Fd, buf: &[u8]) -> io::Result<usize> {
    let iov = wasi::Ciovec {
        buf: buf.as_ptr(),
        buf_len: buf.len(),
    };
    // SAFETY: the iovec describes `buf`, which stays borrowed for the call.
    unsafe { wasi::fd_write(fd, &[iov]) }.map_err(error)
}

/// `fd_close`.
pub(crate) fn fd_close(fd: Fd) -> io::Result<()> {
    // SAFETY: no pointer is passed; closing an fd twice is answered with BADF by the host.
    unsafe { wasi::fd_close(fd) }.map_err(error)
}

/// Whether `fd` is a stream socket; `Err` (BADF) when no such fd is open.
pub(crate) fn is_stream_socket(fd: Fd) -> io::Result<bool> {
    // SAFETY: no pointer is passed; the crate writes the stat into its own return value.
    let stat = unsafe { wasi::fd_fdstat_get(fd) }.map_err(error)?;
    Ok(stat.fs_filetype == wasi::FILETYPE_SOCKET_STREAM)
}

/// A non-blocking `sock_accept`: the accepted fd, or `WouldBlock` when nobody waits.
pub(crate) fn sock_accept(fd: Fd) -> io::Result<Fd> {
    // SAFETY: no pointer is passed.
    unsafe { wasi::sock_accept(fd, wasi::FDFLAGS_NONBLOCK) }.map_err(error)
}

/// `sock_recv` into `buf`: `Ok(0)` at end of stream, `WouldBlock` before data.
pub(crate) fn sock_recv(fd: Fd, buf: &mut [u8]) -> io::Result<usize> {
    let iov = wasi::Iovec {
        buf: buf.as_mut_ptr(),
        buf_len: buf.len(),
    };
    // SAFETY: the iovec describes `buf`, which stays borrowed mutably for the call.
    unsafe { wasi::sock_recv(fd, &[iov], 0) }
        .map(|(n, _flags)| n)
        .map_err(error)
}

/// `sock_send` from `buf`.
pub(crate) fn sock_send(fd: Fd, buf: &[u8]) -> io::Result<usize> {
    let iov = wasi::Ciovec {
        buf: buf.as_ptr(),
        buf_len: buf.len(),
    };
    // SAFETY: the iovec describes `buf`, which stays borrowed for the call.
    unsafe { wasi::sock_send(fd, &[iov], 0) }.map_err(error)
}

/// `sock_shutdown`: of the read half, the write half (the peer reads end of stream), or both.
pub(crate) fn sock_shutdown(fd: Fd, read: bool, write: bool) -> io::Result<()> {
    let mut how = 0;
    if read {
        how |= wasi::SDFLAGS_RD;
    }
    if write {
        how |= wasi::SDFLAGS_WR;
    }
    // SAFETY: no pointer is passed.
    unsafe { wasi::sock_shutdown(fd, how) }.map_err(error)
}
