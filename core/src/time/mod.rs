//! Time: instants, durations, sleeping, timeouts, intervals, and the timer queue drivers use.
//!
//! Time comes from the program's `embassy-time-driver`: [`Instant::now`] is
//! `embassy_time_driver::now()`, counted in ticks of [`TICK_HZ`] per second (1 MHz by default, as
//! in ebbtide's drivers). Every future here registers its deadline with
//! `embassy_time_driver::schedule_wake`; ebbtide's drivers hand those to the timer queue in
//! [`queue`], which keeps a task's timer inside the task itself, so any number of tasks can
//! sleep at once without allocating. Because the contract is embassy's, embassy-time's own
//! `Timer` and `Ticker` work on ebbtide tasks too, and ebbtide's timers work on any embassy time
//! driver.
//!
//! - [`Instant`] and [`Duration`]: `u64` ticks, with arithmetic that saturates (a deadline of
//!   [`Instant::MAX`] means "never") and conversions to and from [`core::time::Duration`].
//! - [`sleep`], [`sleep_until`]: wait for a duration or an instant.
//! - [`timeout`], [`timeout_at`]: give up on a future after a while.
//! - [`interval`], [`interval_at`]: tick periodically, with a choice of [`MissedTickBehavior`].
//! - [`queue`]: the timer queue, for authors of drivers (see [`crate::driver`]).
//! - A clock that tests advance by hand: the `ebbtide-mock-time` crate.
//!
//! # Examples
//!
//! ```
//! use ebbtide_mock_time::MockDriver;
//! use ebbtide_core::time::{sleep, timeout, Duration, Instant};
//! use ebbtide_core::{Executor, TaskPool};
//!
//! static EXECUTOR: Executor = Executor::new();
//! static POOL: TaskPool<4> = TaskPool::new();
//!
//! let runner = EXECUTOR.runner().unwrap();
//! let task = runner
//!     .spawner()
//!     .spawn(&POOL, async {
//!         sleep(Duration::from_millis(50)).await;
//!         let slow = timeout(Duration::from_millis(10), sleep(Duration::from_secs(1))).await;
//!         (Instant::now(), slow.is_err())
//!     })
//!     .unwrap();
//! // On the mock clock, idle time jumps straight to the next deadline. A wait for a duration
//! // ends one tick (1 µs) after it, never before (see `sleep`).
//! let output = runner.run_until(task, || assert!(MockDriver::advance_to_next_deadline()));
//! assert_eq!(output, Ok((Instant::from_micros(60_002), true)));
//! ```

mod duration;

/// A deterministic xorshift64 generator for the randomised model tests of the timer queues and
/// intervals: the same sequence on every run, so a failure repeats.
#[cfg(test)]
fn test_rng() -> impl FnMut() -> u64 {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    }
}
mod entry;
mod instant;
mod interval;
mod sleep;
mod timeout;
// The driver's queue is the wheel, or the sorted list with the `small-timer-queue` feature. The
// list is always built (and unit-tested), dead code beside the wheel; the wheel is not built with
// the feature, whose task headers have no room for its back links.
#[cfg_attr(not(feature = "small-timer-queue"), allow(dead_code))]
mod list;
#[cfg(not(feature = "small-timer-queue"))]
mod wheel;

pub mod queue;

pub use duration::Duration;
pub use embassy_time_driver::TICK_HZ;
pub use instant::Instant;
pub use interval::{interval, interval_at, Interval, MissedTickBehavior, Tick};
pub use sleep::{sleep, sleep_until, Sleep};
pub use timeout::{timeout, timeout_at, Elapsed, Timeout};

/// The deadline of a wait of `duration` that starts now: one tick later than `now + duration`.
///
/// The clock's reading floors the true time to a whole tick, so a wait that started anywhere
/// inside the current tick and ended at `now + duration` could end up to one tick short of
/// `duration` by a finer clock (`std::time::Instant`). Rounding the deadline up by one tick
/// means a wait never ends before its duration has passed, whatever clock measures it; it ends
/// at most one tick later than asked. A zero duration stays zero: the wait is over at once.
pub(crate) fn deadline_after(duration: Duration) -> Instant {
    let now = Instant::now();
    if duration == Duration::ZERO {
        return now;
    }
    now.saturating_add(duration)
        .saturating_add(Duration::from_ticks(1))
}
