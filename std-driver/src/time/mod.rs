//! Time on std: the clock, and the `embassy-time-driver` implementation.
//!
//! Ticks are microseconds of the OS's monotonic clock (`CLOCK_MONOTONIC`), so that a deadline can
//! be handed to the kernel as it is. Timers live in ebbtide-core's timer queues
//! ([`ebbtide_core::time::queue`]): one per runtime, for the timers set on its thread, and the
//! program's global one for timers of ebbtide tasks set elsewhere, which every runtime's wait
//! also heeds (see [`ebbtide_host::schedule_wake`]).
//!
//! A timer set off every runtime's thread under another executor's waker (an ebbtide `sleep`
//! awaited inside Tokio, or in `futures::executor::block_on`) goes to a timer thread instead
//! (`ebbtide-timers`, started the first time one comes): it fires them whether or not an ebbtide
//! runtime is alive, holds any number of them, and sleeps while none is due. A program that
//! keeps its timers inside ebbtide runtimes never starts it.
//!
//! Because the driver is registered with `embassy_time_driver::time_driver_impl!`, embassy-time's
//! `Timer` and `Ticker` run on ebbtide-std as well as ebbtide's own [`sleep`].

use std::task::Waker;

mod foreign;
#[doc(hidden)]
pub use foreign::waiting as foreign_timers_waiting;

pub use ebbtide_host::time::{advance, pause, resume};

pub use ebbtide_core::time::{
    interval, interval_at, sleep, sleep_until, timeout, timeout_at, Duration, Elapsed, Instant,
    Interval, MissedTickBehavior, Sleep, Timeout,
};

/// The runtime's clock: microseconds of the OS's monotonic clock.
pub(crate) fn now_ticks() -> u64 {
    crate::sys::clock::monotonic_micros()
}

struct StdTimeDriver;

impl embassy_time_driver::Driver for StdTimeDriver {
    fn now(&self) -> u64 {
        ebbtide_host::now(now_ticks)
    }

    fn schedule_wake(&self, at: u64, waker: &Waker) {
        ebbtide_host::schedule_wake_or(at, waker, foreign::schedule_wake);
    }
}

// The clock counts microseconds, and every conversion here assumes it. embassy-time-driver's
// `tick-hz-*` features are unified across a build: one turned on by any crate would make a tick
// mean something else and every sleep wrong by that factor, so such a build must not compile.
const _: () = assert!(
    embassy_time_driver::TICK_HZ == 1_000_000,
    "ebbtide-std counts time in microseconds and needs embassy-time-driver's default tick rate \
     (1 MHz), but a crate in this build turns on one of its `tick-hz-*` features: find it with \
     `cargo tree -e features -i embassy-time-driver`, and turn it off"
);

embassy_time_driver::time_driver_impl!(static DRIVER: StdTimeDriver = StdTimeDriver);
