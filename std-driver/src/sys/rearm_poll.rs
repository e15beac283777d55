//! Readiness on mio's `poll(2)` backend, which is level-triggered underneath.
//!
//! mio emulates edge triggering there by dropping an fd's interest once it reports an event, and
//! restores it when a mio IO type's operation says `WouldBlock`. A raw fd
//! ([`AsyncFd`](crate::io::AsyncFd)) has no mio IO type around it, so it restores its interest
//! here, by registering it again. And a short transfer proves nothing: only a `WouldBlock` re-arms
//! the fd (Tokio makes the same distinction, tokio-rs/tokio#5866).

use std::os::fd::RawFd;

use mio::unix::SourceFd;

use crate::io::Interest;
use crate::reactor::Registration;

/// Whether a read or write that moved fewer bytes than asked proves the socket drained (or its
/// send buffer full). False here: clearing the readiness without the `WouldBlock` that re-arms
/// the fd would wait for an event that never comes.
pub(crate) const SHORT_TRANSFER_DRAINS: bool = false;

/// Called after an operation on a raw fd said `WouldBlock` and its readiness was cleared.
pub(crate) fn rearm(registration: &Registration, fd: RawFd, interest: Interest) {
    // An error means the fd is no longer registered (the backend drops fds that hung up); the
    // readiness bits the reactor already holds say so to the next operation.
    let _ = registration.reregister(&mut SourceFd(&fd), interest);
}
