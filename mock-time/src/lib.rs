//! A hand-advanced clock for testing ebbtide programs: the [`MockDriver`] time driver.
//!
//! Linking this crate makes it the program's time driver: it registers [`MockDriver`] with
//! `embassy_time_driver::time_driver_impl!`. **Only one time driver can exist in a binary** (the
//! linker rejects a second), so use it as a dev-dependency of tests that link no real driver
//! (ebbtide-std, ebbtide-wasi, an embassy HAL's). A test binary links it only if it names it
//! (`use ebbtide_mock_time::MockDriver;`).
//!
//! The clock starts at tick 0 and moves only when a test says so: [`MockDriver::advance`],
//! [`MockDriver::advance_to`], or [`MockDriver::advance_to_next_deadline`], which fits the idle
//! hook of [`Runner::run_until`](ebbtide_core::Runner::run_until) and
//! [`block_on_with_idle`](ebbtide_core::block_on_with_idle): when nothing is ready, jump to the next
//! timer. Each move wakes the timers that have come due, through the
//! [timer queue](ebbtide_core::time::queue).
//!
//! The clock and the timer queue are global. Tests in one test binary run on parallel threads,
//! so those that use the clock must take turns: each starts with
//! [`MockDriver::lock_for_test`], which waits for the others and resets the clock to 0.
//!
//! # Examples
//!
//! ```
//! use ebbtide_mock_time::MockDriver;
//! use ebbtide_core::time::{sleep, Duration, Instant};
//! use ebbtide_core::{Executor, TaskPool};
//!
//! let _clock = MockDriver::lock_for_test();
//! static EXECUTOR: Executor = Executor::new();
//! static POOL: TaskPool<2> = TaskPool::new();
//!
//! let runner = EXECUTOR.runner().unwrap();
//! let task = runner
//!     .spawner()
//!     .spawn(&POOL, async {
//!         sleep(Duration::from_secs(3600)).await;
//!         Instant::now()
//!     })
//!     .unwrap();
//! // An hour passes in no time (and a tick: `sleep` rounds its deadline up by one).
//! let woke_at = runner.run_until(task, || assert!(MockDriver::advance_to_next_deadline()));
//! assert_eq!(woke_at, Ok(Instant::from_secs(3600) + Duration::from_ticks(1)));
//! ```

#![no_std]
#![warn(missing_docs)]

use core::cell::Cell;
use core::task::Waker;

use critical_section::Mutex;

use ebbtide_core::time::{queue, Duration, Instant};

/// The mock clock's time in ticks.
static NOW: Mutex<Cell<u64>> = Mutex::new(Cell::new(0));

/// Whether a [`MockClockGuard`] exists. A flag behind the critical section rather than an atomic:
/// it needs no 64-bit or compare-and-swap support, and loom need not model it.
static TEST_LOCK: Mutex<Cell<bool>> = Mutex::new(Cell::new(false));

embassy_time_driver::time_driver_impl!(static DRIVER: MockDriver = MockDriver { _private: () });

/// The mock time driver: a clock that only moves when told to. See the [module docs](self).
///
/// # Examples
///
/// ```
/// use ebbtide_mock_time::MockDriver;
/// use ebbtide_core::time::{Duration, Instant};
///
/// let before = MockDriver::now();
/// MockDriver::advance(Duration::from_millis(20));
/// assert_eq!(Instant::now(), before + Duration::from_millis(20));
/// ```
#[derive(Debug)]
pub struct MockDriver {
    _private: (),
}

impl embassy_time_driver::Driver for MockDriver {
    fn now(&self) -> u64 {
        critical_section::with(|cs| NOW.borrow(cs).get())
    }

    fn schedule_wake(&self, at: u64, waker: &Waker) {
        queue::schedule_wake(at, waker);
        // The queue judges "already due" by the last advance; if the clock moved since (another
        // thread is advancing it right now), make sure nothing due is left waiting.
        let now = embassy_time_driver::Driver::now(self);
        if at <= now {
            queue::wake_expired(now);
        }
    }
}

impl MockDriver {
    /// The mock clock's current time (the same as [`Instant::now`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_mock_time::MockDriver;
    /// use ebbtide_core::time::Instant;
    /// assert_eq!(MockDriver::now(), Instant::now());
    /// ```
    pub fn now() -> Instant {
        Instant::now()
    }

    /// Moves the clock forward by `duration` (saturating at [`Instant::MAX`]) and wakes every
    /// timer that came due.
    ///
    /// # Examples
    ///
    /// ```
    /// use core::future::Future;
    /// use ebbtide_mock_time::MockDriver;
    /// use ebbtide_core::time::{sleep, Duration};
    ///
    /// let mut nap = core::pin::pin!(sleep(Duration::from_millis(5)));
    /// let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
    /// assert!(nap.as_mut().poll(&mut cx).is_pending());
    /// MockDriver::advance(Duration::from_millis(5));
    /// // `sleep` ends a tick after its duration (it never ends early).
    /// assert!(nap.as_mut().poll(&mut cx).is_pending());
    /// MockDriver::advance(Duration::from_ticks(1));
    /// assert!(nap.as_mut().poll(&mut cx).is_ready());
    /// ```
    pub fn advance(duration: Duration) {
        Self::advance_to(Self::now() + duration);
    }

    /// Moves the clock forward to `instant` and wakes every timer that came due. The clock never
    /// goes back: an instant in the past leaves it where it is (and still wakes what is due).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_mock_time::MockDriver;
    /// use ebbtide_core::time::Instant;
    ///
    /// MockDriver::advance_to(Instant::from_secs(10));
    /// MockDriver::advance_to(Instant::from_secs(5));
    /// assert_eq!(Instant::now(), Instant::from_secs(10));
    /// ```
    pub fn advance_to(instant: Instant) {
        let now = critical_section::with(|cs| {
            let now = NOW.borrow(cs);
            now.set(now.get().max(instant.as_ticks()));
            now.get()
        });
        queue::wake_expired(now);
    }

    /// Jumps the clock to the next timer deadline (if it is in the future) and wakes what came
    /// due; returns `false`, leaving the clock alone, if no timer is queued.
    ///
    /// Made for the idle hook of [`Runner::run_until`](ebbtide_core::Runner::run_until): when no task
    /// is ready, time skips ahead to the next thing that can happen. The jump may stop short of
    /// a far deadline when the timer wheel moves that timer to a finer level; the next call goes
    /// on. Returning `false` while the awaited future is pending means nothing can ever wake it:
    /// `assert!` it in tests to turn a deadlock into a failure.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_mock_time::MockDriver;
    /// use ebbtide_core::time::{sleep_until, Instant};
    ///
    /// assert!(!MockDriver::advance_to_next_deadline()); // nothing queued
    /// let at = Instant::from_millis(40);
    /// ebbtide_core::block_on_with_idle(sleep_until(at), || {
    ///     assert!(MockDriver::advance_to_next_deadline());
    /// });
    /// assert_eq!(Instant::now(), at);
    /// ```
    pub fn advance_to_next_deadline() -> bool {
        match queue::next_deadline() {
            Some(deadline) => {
                Self::advance_to(Instant::from_ticks(deadline));
                true
            }
            None => false,
        }
    }

    /// Sets the clock back to 0 and empties the timer queue, waking every queued waker once
    /// (spuriously) so that its future registers again against the new clock.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_mock_time::MockDriver;
    /// use ebbtide_core::time::{Duration, Instant};
    ///
    /// MockDriver::advance(Duration::from_secs(1));
    /// MockDriver::reset();
    /// assert_eq!(Instant::now(), Instant::MIN);
    /// ```
    pub fn reset() {
        critical_section::with(|cs| NOW.borrow(cs).set(0));
        queue::reset(0);
    }

    /// Waits until no other holder of the guard is left, then [`reset`](MockDriver::reset)s the
    /// clock; the clock is the caller's until the guard is dropped.
    ///
    /// Tests of one binary run on parallel threads and share the clock: start each test that
    /// uses it with `let _clock = MockDriver::lock_for_test();`. The lock is a spin lock (this
    /// crate has no OS to block in); a test that panics releases it as it unwinds.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_mock_time::MockDriver;
    /// use ebbtide_core::time::{Duration, Instant};
    ///
    /// let _clock = MockDriver::lock_for_test();
    /// assert_eq!(Instant::now(), Instant::MIN);
    /// MockDriver::advance(Duration::from_secs(1));
    /// assert_eq!(Instant::now(), Instant::from_secs(1));
    /// ```
    pub fn lock_for_test() -> MockClockGuard {
        while critical_section::with(|cs| TEST_LOCK.borrow(cs).replace(true)) {
            core::hint::spin_loop();
        }
        let guard = MockClockGuard { _private: () };
        Self::reset();
        guard
    }
}

/// Exclusive use of the mock clock; from [`MockDriver::lock_for_test`]. Dropping it lets the
/// next test take the clock.
///
/// # Examples
///
/// ```
/// use ebbtide_mock_time::MockDriver;
///
/// let clock = MockDriver::lock_for_test();
/// drop(clock);
/// let _again = MockDriver::lock_for_test();
/// ```
#[derive(Debug)]
#[must_use = "the clock is released as soon as the guard is dropped"]
pub struct MockClockGuard {
    _private: (),
}

impl Drop for MockClockGuard {
    fn drop(&mut self) {
        critical_section::with(|cs| TEST_LOCK.borrow(cs).set(false));
    }
}
