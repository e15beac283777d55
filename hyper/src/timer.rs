//! [`EbbtideTimer`]: hyper's timer on ebbtide's timer queue.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use ebbtide_core::time::Sleep;
use hyper::rt::Timer;

/// hyper's [`rt::Timer`](hyper::rt::Timer) on ebbtide's timer queue: the timer behind hyper's
/// header-read timeout, HTTP/2 keep-alive pings and the client pool's idle expiry.
///
/// hyper panics when one of those is set without a timer, so every builder this crate hands
/// out ([`server::http1`](crate::server::http1), [`server::http2`](crate::server::http2),
/// [`server::auto`](crate::server::auto), [`client::legacy`](crate::client::legacy)) already
/// has one.
///
/// Each hyper sleep is one boxed ebbtide [`Sleep`] (hyper's trait returns `Pin<Box<dyn Sleep>>`);
/// resetting it moves the deadline in place, without a new box.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// use ebbtide_hyper::EbbtideTimer;
/// use hyper::rt::Timer;
///
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let start = std::time::Instant::now();
///     EbbtideTimer::new().sleep(Duration::from_millis(5)).await;
///     assert!(start.elapsed() >= Duration::from_millis(5));
/// });
/// ```
#[derive(Debug, Default, Clone, Copy)]
#[non_exhaustive]
pub struct EbbtideTimer;

impl EbbtideTimer {
    /// The timer.
    pub fn new() -> Self {
        EbbtideTimer
    }
}

impl Timer for EbbtideTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(EbbtideSleep(ebbtide_core::time::sleep(duration)))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(EbbtideSleep(ebbtide_core::time::sleep_until(deadline)))
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<EbbtideSleep>() {
            Some(mut ours) => ours.0.reset(new_deadline),
            // Not one of ours (a sleep from another timer): replace it.
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

/// One of [`EbbtideTimer`]'s sleeps: an ebbtide [`Sleep`], which is only a deadline (`Unpin`,
/// `Send`, `Sync`); the timer queue holds the waker, not the sleep.
struct EbbtideSleep(Sleep);

impl Future for EbbtideSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl hyper::rt::Sleep for EbbtideSleep {}
