//! Re-arming after `WouldBlock` on mio's `poll(2)` backend.
//!
//! That backend emulates edge triggering by dropping an fd's interest once it reports an event,
//! and restores it when a mio IO type's operation says `WouldBlock`. A raw fd
//! ([`AsyncFd`](super::AsyncFd)) has no mio IO type around it, so it restores its interest
//! here, by registering it again.

use std::os::fd::RawFd;

use mio::unix::SourceFd;
use mio::Interest;

use crate::reactor::Registration;

/// Called after an operation on a raw fd said `WouldBlock` and its readiness was cleared.
pub(super) fn rearm(registration: &Registration, fd: RawFd, interest: Interest) {
    // An error means the fd is no longer registered (the backend drops fds that hung up); the
    // readiness bits the reactor already holds say so to the next operation.
    let _ = registration.reregister(&mut SourceFd(&fd), interest);
}
