//! Time on WASI: the clock, and the `embassy-time-driver` implementation.
//!
//! Ticks are microseconds of the host's `CLOCKID_MONOTONIC` (read with `clock_time_get`, which
//! gives nanoseconds, rounded down). Timers live in ebbtide-core's timer queues
//! ([`ebbtide_core::time::queue`]: the runtime's own, see [`ebbtide_host::schedule_wake`]); the
//! runtime ends each `poll_oneoff` wait at the queue's next
//! deadline with a relative monotonic clock subscription, and wakes what is due afterwards.
//!
//! Because the driver is registered with `embassy_time_driver::time_driver_impl!`, embassy-time's
//! `Timer` and `Ticker` run on ebbtide-wasi as well as ebbtide's own [`sleep`]. A program links
//! one time driver: do not link ebbtide-std (or another driver) into the same binary.
//!
//! # Examples
//!
//! (Not run by `cargo test`: doctests cannot run on wasm32-wasip1.)
//!
//! ```no_run
//! use ebbtide_wasi::time::{sleep, timeout, Duration, Instant};
//!
//! ebbtide_wasi::Runtime::new().unwrap().block_on(async {
//!     let start = Instant::now();
//!     sleep(Duration::from_millis(10)).await;
//!     assert!(start.elapsed() >= Duration::from_millis(10));
//!     let late = timeout(Duration::from_millis(1), sleep(Duration::from_secs(1))).await;
//!     assert!(late.is_err());
//! });
//! ```

use std::task::Waker;

pub use ebbtide_host::time::{advance, pause, resume};

pub use ebbtide_core::time::{
    interval, interval_at, sleep, sleep_until, timeout, timeout_at, Duration, Elapsed, Instant,
    Interval, MissedTickBehavior, Sleep, Timeout,
};

/// The monotonic clock, in microseconds (rounded down).
pub(crate) fn now_ticks() -> u64 {
    crate::sys::monotonic_ns() / 1_000
}

struct WasiTimeDriver;

impl embassy_time_driver::Driver for WasiTimeDriver {
    fn now(&self) -> u64 {
        ebbtide_host::now(now_ticks)
    }

    fn schedule_wake(&self, at: u64, waker: &Waker) {
        ebbtide_host::schedule_wake(at, waker);
    }
}

// The clock counts microseconds, and every conversion here assumes it. embassy-time-driver's
// `tick-hz-*` features are unified across a build: one turned on by any crate would make a tick
// mean something else and every sleep wrong by that factor, so such a build must not compile.
const _: () = assert!(
    embassy_time_driver::TICK_HZ == 1_000_000,
    "ebbtide-wasi counts time in microseconds and needs embassy-time-driver's default tick rate \
     (1 MHz), but a crate in this build turns on one of its `tick-hz-*` features: find it with \
     `cargo tree -e features -i embassy-time-driver`, and turn it off"
);

embassy_time_driver::time_driver_impl!(static DRIVER: WasiTimeDriver = WasiTimeDriver);
