//! Readiness on an edge-triggered poller (epoll, kqueue): the OS reports every later change of an
//! fd's readiness by itself, so an fd needs nothing after `WouldBlock`, and a short transfer proves
//! the socket drained.

use std::os::fd::RawFd;

use crate::io::Interest;
use crate::reactor::Registration;

/// Whether a read or write that moved fewer bytes than asked proves the socket drained (or its
/// send buffer full), so that its readiness can be cleared without another call that would say
/// `WouldBlock`. True here: any later change raises a new event.
pub(crate) const SHORT_TRANSFER_DRAINS: bool = true;

/// Called after an operation on a raw fd said `WouldBlock` and its readiness was cleared: nothing
/// to do.
#[inline]
pub(crate) fn rearm(_registration: &Registration, _fd: RawFd, _interest: Interest) {}
