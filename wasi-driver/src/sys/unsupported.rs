//! The host stub: ebbtide-wasi compiled for a target that is not WASI.
//!
//! It exists so that `cargo build --workspace` and `cargo clippy --workspace` work on the
//! developer's machine. The clock and waits that only involve a timer work (through `std`), so
//! a program that only spawns and sleeps runs; every fd and socket call returns an
//! `Unsupported` error that says what to use instead.

use std::io;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A file descriptor (never valid here).
pub(crate) type Fd = u32;

/// What a subscription asks for.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Clock { timeout_ns: u64 },
    Fd,
}

/// A subscription, shaped like WASI's.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Subscription {
    userdata: u64,
    kind: Kind,
}

/// An event, shaped like WASI's.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Event {
    userdata: u64,
}

/// Never matches: the stub reports no errno.
pub(crate) const ERRNO_BADF: i32 = -1;
/// Never matches: the stub reports no errno.
pub(crate) const ERRNO_NOTSOCK: i32 = -1;

fn unsupported() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "ebbtide-wasi does IO on wasm32-wasip1 only; on this target, use ebbtide-std",
    )
}

pub(crate) fn clock_subscription(userdata: u64, timeout_ns: u64) -> Subscription {
    Subscription {
        userdata,
        kind: Kind::Clock { timeout_ns },
    }
}

pub(crate) fn fd_subscription(userdata: u64, _fd: Fd, _write: bool) -> Subscription {
    Subscription {
        userdata,
        kind: Kind::Fd,
    }
}

pub(crate) fn empty_event() -> Event {
    Event { userdata: 0 }
}

pub(crate) fn subscription_userdata(subscription: &Subscription) -> u64 {
    subscription.userdata
}

pub(crate) fn event_for(userdata: u64) -> Event {
    Event { userdata }
}

/// Never: there are no fds here.
pub(crate) fn is_regular_file(_fd: Fd) -> bool {
    false
}

pub(crate) fn event_userdata(event: &Event) -> u64 {
    event.userdata
}

/// Sleeps for the clock subscription; any fd subscription is `Unsupported`.
pub(crate) fn poll(subscriptions: &[Subscription], events: &mut [Event]) -> io::Result<usize> {
    assert!(!subscriptions.is_empty() && events.len() >= subscriptions.len());
    let mut clock = None;
    for subscription in subscriptions {
        match subscription.kind {
            Kind::Fd => return Err(unsupported()),
            Kind::Clock { timeout_ns } => clock = Some((subscription.userdata, timeout_ns)),
        }
    }
    let (userdata, timeout_ns) = clock.expect("a subscription");
    std::thread::sleep(Duration::from_nanos(timeout_ns));
    events[0] = Event { userdata };
    Ok(1)
}

pub(crate) fn monotonic_ns() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

pub(crate) fn fd_read(_fd: Fd, _buf: &mut [u8]) -> io::Result<usize> {
    Err(unsupported())
}

pub(crate) fn fd_write(_fd: Fd, _buf: &[u8]) -> io::Result<usize> {
    Err(unsupported())
}

pub(crate) fn fd_close(_fd: Fd) -> io::Result<()> {
    Err(unsupported())
}

pub(crate) fn is_stream_socket(_fd: Fd) -> io::Result<bool> {
    Err(unsupported())
}

pub(crate) fn sock_accept(_fd: Fd) -> io::Result<Fd> {
    Err(unsupported())
}

pub(crate) fn sock_recv(_fd: Fd, _buf: &mut [u8]) -> io::Result<usize> {
    Err(unsupported())
}

pub(crate) fn sock_send(_fd: Fd, _buf: &[u8]) -> io::Result<usize> {
    Err(unsupported())
}

pub(crate) fn sock_shutdown(_fd: Fd, _read: bool, _write: bool) -> io::Result<()> {
    Err(unsupported())
}
