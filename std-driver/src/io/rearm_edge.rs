//! Re-arming after `WouldBlock` on an edge-triggered poller (epoll, kqueue): nothing to do; the
//! OS reports the next change of readiness by itself.

use std::os::fd::RawFd;

use mio::Interest;

use crate::reactor::Registration;

/// Called after an operation on a raw fd said `WouldBlock` and its readiness was cleared.
#[inline]
pub(super) fn rearm(_registration: &Registration, _fd: RawFd, _interest: Interest) {}
