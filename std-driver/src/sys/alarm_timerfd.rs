//! The alarm on Linux: a timerfd (`timerfd_create(2)`) in the reactor's poll set, armed at the
//! exact deadline of the next timer.
//!
//! `epoll_wait` takes its timeout in whole milliseconds (mio rounds up), which would make every
//! timer up to a millisecond late. A timerfd set to the absolute `CLOCK_MONOTONIC` deadline fires
//! to the microsecond; it is re-armed only when the earliest deadline changes.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

use mio::unix::SourceFd;
use mio::Interest;

use crate::reactor::ALARM_TOKEN;

pub(crate) struct Alarm {
    fd: OwnedFd,
    /// The deadline the timerfd is set to (`u64::MAX`: disarmed).
    armed: u64,
}

impl Alarm {
    pub(crate) fn new(registry: &mio::Registry) -> io::Result<Alarm> {
        // SAFETY: a plain syscall; the result is checked before use.
        let raw = unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a new descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        registry.register(
            &mut SourceFd(&fd.as_raw_fd()),
            ALARM_TOKEN,
            Interest::READABLE,
        )?;
        Ok(Alarm {
            fd,
            armed: u64::MAX,
        })
    }

    /// Sets the alarm for `deadline` and returns the timeout to wait with: none, since the
    /// timerfd ends the wait itself (zero if the deadline has passed).
    pub(crate) fn arm(&mut self, deadline: Option<u64>) -> Option<Duration> {
        let deadline = deadline.unwrap_or(u64::MAX);
        if deadline <= crate::time::now_ticks() {
            return Some(Duration::ZERO);
        }
        if deadline != self.armed && self.set(deadline).is_err() {
            // Could not arm (should not happen): fall back to a rounded-up timeout.
            self.armed = u64::MAX;
            let wait = deadline.saturating_sub(crate::time::now_ticks());
            return Some(Duration::from_micros(wait));
        }
        None
    }

    fn set(&mut self, deadline: u64) -> io::Result<()> {
        let value = if deadline == u64::MAX {
            libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            } // disarm
        } else {
            libc::timespec {
                tv_sec: (deadline / 1_000_000) as libc::time_t,
                tv_nsec: ((deadline % 1_000_000) * 1_000) as libc::c_long,
            }
        };
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: value,
        };
        // SAFETY: the fd is our timerfd; `spec` is valid; the old value is not wanted.
        let rc = unsafe {
            libc::timerfd_settime(
                self.fd.as_raw_fd(),
                libc::TFD_TIMER_ABSTIME,
                &spec,
                std::ptr::null_mut(),
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        self.armed = deadline;
        Ok(())
    }

    /// The timerfd fired: read it so it stops being readable.
    pub(crate) fn fired(&mut self) {
        let mut expirations = 0u64;
        // SAFETY: reading 8 bytes into a u64 from our own non-blocking timerfd.
        unsafe {
            libc::read(
                self.fd.as_raw_fd(),
                (&mut expirations as *mut u64).cast(),
                std::mem::size_of::<u64>(),
            )
        };
        self.armed = u64::MAX;
    }
}
