//! Time on std: the clock, the `embassy-time-driver` implementation, and the alarm that ends the
//! reactor's wait at the next timer deadline.
//!
//! Ticks are microseconds of the OS's monotonic clock (`CLOCK_MONOTONIC`), so that a deadline can
//! be handed to the kernel as it is. Timers live in ebbtide-core's timer queue
//! ([`ebbtide_core::time::queue`]); this module only supplies `now()`, and makes sure a runtime
//! that waits in the OS wakes up for the earliest deadline. There is no timer thread.
//!
//! Because the driver is registered with `embassy_time_driver::time_driver_impl!`, embassy-time's
//! `Timer` and `Ticker` run on ebbtide-std as well as ebbtide's own [`sleep`].

// mio's poll(2) backend (`--cfg mio_unsupported_force_poll_poll`) drops an fd's interest after
// each event until a mio IO type re-arms it, which a raw timerfd never does: the alarm would
// fire once and never again. That backend waits with a timeout instead, and so does the driver
// under Miri, which emulates epoll and eventfd but not timerfd.
#[cfg_attr(
    all(target_os = "linux", not(mio_unsupported_force_poll_poll), not(miri)),
    path = "alarm_timerfd.rs"
)]
#[cfg_attr(
    not(all(target_os = "linux", not(mio_unsupported_force_poll_poll), not(miri))),
    path = "alarm_timeout.rs"
)]
mod alarm;

use std::task::Waker;

pub(crate) use alarm::Alarm;
pub use ebbtide_core::time::{
    interval, interval_at, sleep, sleep_until, timeout, timeout_at, Duration, Elapsed, Instant,
    Interval, MissedTickBehavior, Sleep, Timeout,
};

/// The monotonic clock, in microseconds.
pub(crate) fn now_ticks() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC exists on every supported OS.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    debug_assert_eq!(rc, 0);
    (ts.tv_sec as u64) * 1_000_000 + (ts.tv_nsec as u64) / 1_000
}

struct StdTimeDriver;

impl embassy_time_driver::Driver for StdTimeDriver {
    fn now(&self) -> u64 {
        now_ticks()
    }

    fn schedule_wake(&self, at: u64, waker: &Waker) {
        if ebbtide_core::time::queue::schedule_wake(at, waker) {
            // The earliest deadline moved earlier. A runtime thread recomputes its wait before it
            // blocks, so only a timer set from elsewhere must interrupt the runtimes' waits.
            ebbtide_host::deadline_moved_earlier();
        }
    }
}

embassy_time_driver::time_driver_impl!(static DRIVER: StdTimeDriver = StdTimeDriver);
