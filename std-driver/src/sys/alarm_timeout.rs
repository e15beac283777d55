//! The alarm where there is no timerfd (macOS and the BSDs, mio's `poll(2)` backend, Miri): the
//! reactor's wait ends at the next timer deadline through the wait's own timeout.
//!
//! kqueue takes a `timespec`, so the deadline is kept to the nanosecond; `poll(2)` rounds it up to
//! the next millisecond. Nothing is registered with the poller, and no OS call is made here.

use std::io;
use std::time::Duration;

pub(crate) struct Alarm;

impl Alarm {
    pub(crate) fn new(_registry: &mio::Registry) -> io::Result<Alarm> {
        Ok(Alarm)
    }

    /// The timeout to wait with for `deadline` (in clock ticks; `None`: no timer).
    pub(crate) fn arm(&mut self, deadline: Option<u64>) -> Option<Duration> {
        deadline.map(|deadline| {
            Duration::from_micros(deadline.saturating_sub(crate::time::now_ticks()))
        })
    }

    pub(crate) fn fired(&mut self) {}
}
