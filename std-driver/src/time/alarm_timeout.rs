//! The alarm where there is no timerfd: the wait's own timeout.
//!
//! kqueue takes a `timespec`, so the deadline is kept to the nanosecond; poll(2) rounds up to the
//! next millisecond.

use std::io;
use std::time::Duration;

pub(crate) struct Alarm;

impl Alarm {
    pub(crate) fn new(_registry: &mio::Registry) -> io::Result<Alarm> {
        Ok(Alarm)
    }

    /// The timeout to wait with for `deadline`.
    pub(crate) fn arm(&mut self, deadline: Option<u64>) -> Option<Duration> {
        deadline.map(|deadline| Duration::from_micros(deadline.saturating_sub(super::now_ticks())))
    }

    pub(crate) fn fired(&mut self) {}
}
