//! What depends on the operating system, one file per OS facility (as mio lays its own out), and
//! the choice between them, made once here.
//!
//! - `clock.rs`: the monotonic clock the timers count in.
//! - `fd.rs`: file descriptor flags (`O_NONBLOCK` for [`AsyncFd`](crate::io::AsyncFd)), and
//!   `recv(2)` into uninitialised memory (the sockets' `poll_read_uninit`).
//! - `alarm_timerfd.rs` (Linux on epoll) or `alarm_timeout.rs` (everywhere else): what ends the
//!   reactor's wait at the next timer deadline.
//! - `rearm_edge.rs` (epoll, kqueue) or `rearm_poll.rs` (mio's `poll(2)` backend): what a raw fd
//!   needs after an operation said `WouldBlock`, and whether a short read proves a socket drained.
//! - `socket.rs`: what `socket2` leaves to the platform for [`TcpSocket`](crate::net::TcpSocket):
//!   `SO_REUSEPORT` where it exists, and a non-blocking `connect` that is under way.
//! - `sendfile.rs`: a file's bytes to a socket ([`TcpStream::send_file`](crate::net::TcpStream::send_file)):
//!   `sendfile(2)` on Linux, `pread` and `write` elsewhere.
//! - `read_nowait.rs`: reading from the page cache only (`preadv2(RWF_NOWAIT)` on Linux), for
//!   [`fs::read_range`](crate::fs::read_range).
//! - `signal.rs`: signal numbers and the process-wide handlers that write to a self-pipe.
//!
//! The rest of the crate names no OS: every `libc` call is in these files, and so is every `cfg`
//! that picks a platform (or Miri, or mio's `poll(2)` backend). Sockets and the poller itself
//! come from mio, which does the same for them.

pub(crate) mod clock;
pub(crate) mod fd;
pub(crate) mod read_nowait;
pub(crate) mod sendfile;
pub(crate) mod signal;
pub(crate) mod socket;

// The alarm. A timerfd fires to the microsecond, where `epoll_wait`'s timeout is rounded up to
// the millisecond. It is Linux's alone, and needs an edge-triggered poller: mio's `poll(2)`
// backend (`--cfg mio_unsupported_force_poll_poll`) drops an fd's interest after each event until
// a mio IO type re-arms it, which a raw timerfd never does, so the alarm would fire once and never
// again. That backend waits with a timeout instead, and so do the other OSes and Miri (which
// emulates epoll and eventfd, but not timerfd).
#[cfg(all(target_os = "linux", not(mio_unsupported_force_poll_poll), not(miri)))]
#[path = "alarm_timerfd.rs"]
mod alarm;
#[cfg(not(all(target_os = "linux", not(mio_unsupported_force_poll_poll), not(miri))))]
#[path = "alarm_timeout.rs"]
mod alarm;

pub(crate) use alarm::Alarm;

// The poller. mio waits in epoll (Linux, Android, illumos) or kqueue (Apple's OSes and the BSDs),
// both edge-triggered, unless built with `--cfg mio_unsupported_force_poll_poll` or for an OS with
// neither: then in `poll(2)`, where it emulates edge triggering.
#[cfg(all(
    not(mio_unsupported_force_poll_poll),
    any(
        target_os = "linux",
        target_os = "android",
        target_os = "illumos",
        target_os = "macos",
        target_os = "ios",
        target_os = "tvos",
        target_os = "watchos",
        target_os = "visionos",
        target_os = "freebsd",
        target_os = "netbsd",
        target_os = "openbsd",
        target_os = "dragonfly",
    )
))]
#[path = "rearm_edge.rs"]
mod rearm;
#[cfg(not(all(
    not(mio_unsupported_force_poll_poll),
    any(
        target_os = "linux",
        target_os = "android",
        target_os = "illumos",
        target_os = "macos",
        target_os = "ios",
        target_os = "tvos",
        target_os = "watchos",
        target_os = "visionos",
        target_os = "freebsd",
        target_os = "netbsd",
        target_os = "openbsd",
        target_os = "dragonfly",
    )
)))]
#[path = "rearm_poll.rs"]
mod rearm;

pub(crate) use rearm::{rearm, SHORT_TRANSFER_DRAINS};
