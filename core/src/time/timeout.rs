//! [`timeout`], [`timeout_at`], their future [`Timeout`], and the [`Elapsed`] error.

use core::fmt;
use core::future::{Future, IntoFuture};
use core::pin::Pin;
use core::task::{Context, Poll};

use super::sleep::{ahead_of_the_clock, Timer};
use super::{Duration, Instant};

/// Runs `future`, giving up after `duration`: `Ok(output)` if it completes in time,
/// `Err(Elapsed)` otherwise.
///
/// Like [`sleep`](super::sleep), the deadline is rounded up by one tick, so a timeout never fires
/// before `duration` has passed. `duration` is an ebbtide [`Duration`] or a `core::time::Duration`
/// (`std::time::Duration`).
///
/// The inner future is polled first, so if it completes on the very poll that finds the deadline
/// passed, its output wins. When the time is up, the inner future is not polled again; it is
/// dropped with the `Timeout`.
///
/// # Cancel safety
///
/// As cancel safe as `future`: dropping a `Timeout` drops the inner future.
///
/// # Examples
///
/// ```
/// use ebbtide_mock_time::MockDriver;
/// use ebbtide_core::time::{sleep, timeout, Duration, Elapsed};
///
/// let idle = || {
///     MockDriver::advance_to_next_deadline();
/// };
/// let quick = timeout(Duration::from_secs(1), async { 7 });
/// assert_eq!(ebbtide_core::block_on_with_idle(quick, idle), Ok(7));
///
/// let slow = timeout(Duration::from_millis(10), sleep(Duration::from_secs(1)));
/// assert_eq!(ebbtide_core::block_on_with_idle(slow, idle), Err(Elapsed::new()));
/// ```
pub fn timeout<F: IntoFuture>(duration: impl Into<Duration>, future: F) -> Timeout<F::IntoFuture> {
    let duration = duration.into();
    Timeout {
        future: future.into_future(),
        timer: Timer::new(super::deadline_after(duration)),
        ahead: ahead_of_the_clock(duration),
    }
}

/// Runs `future`, giving up at `deadline`; see [`timeout`].
///
/// # Cancel safety
///
/// As cancel safe as `future`.
///
/// # Examples
///
/// ```
/// use ebbtide_mock_time::MockDriver;
/// use ebbtide_core::time::{timeout_at, Instant};
///
/// let never = timeout_at(Instant::from_millis(3), core::future::pending::<()>());
/// let result = ebbtide_core::block_on_with_idle(never, || {
///     MockDriver::advance_to_next_deadline();
/// });
/// assert!(result.is_err());
/// assert_eq!(Instant::now(), Instant::from_millis(3));
/// ```
pub fn timeout_at<F: IntoFuture>(
    deadline: impl Into<Instant>,
    future: F,
) -> Timeout<F::IntoFuture> {
    Timeout {
        future: future.into_future(),
        timer: Timer::new(deadline.into()),
        ahead: false,
    }
}

/// The future of [`timeout`] and [`timeout_at`].
///
/// # Cancel safety
///
/// As cancel safe as the inner future.
///
/// # Examples
///
/// ```
/// # use ebbtide_mock_time as _; // the clock these examples run on
/// use ebbtide_core::time::{timeout, Duration};
///
/// let mut t = timeout(Duration::from_secs(1), async { 1 });
/// assert!(t.deadline() > ebbtide_core::time::Instant::now());
/// let _inner: &mut _ = t.get_mut();
/// assert_eq!(ebbtide_core::block_on(t), Ok(1));
/// ```
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Timeout<F> {
    future: F,
    timer: Timer,
    /// Whether the timer's next poll may skip the clock (see `Timer::poll`).
    ahead: bool,
}

impl<F> Timeout<F> {
    /// When the timeout expires.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::time::{timeout_at, Instant};
    /// let t = timeout_at(Instant::from_ticks(5), async {});
    /// assert_eq!(t.deadline(), Instant::from_ticks(5));
    /// ```
    pub fn deadline(&self) -> Instant {
        self.timer.deadline
    }

    /// The inner future.
    ///
    /// # Examples
    ///
    /// ```
    /// # use ebbtide_mock_time as _; // the clock these examples run on
    /// use ebbtide_core::time::{timeout, Duration};
    /// let t = timeout(Duration::from_secs(1), core::future::ready(3));
    /// let _inner: &core::future::Ready<i32> = t.get_ref();
    /// ```
    pub fn get_ref(&self) -> &F {
        &self.future
    }

    /// The inner future, mutably (for an inner future that is `Unpin`, or before pinning).
    ///
    /// # Examples
    ///
    /// ```
    /// # use ebbtide_mock_time as _; // the clock these examples run on
    /// use ebbtide_core::time::{timeout, Duration};
    /// let mut t = timeout(Duration::from_secs(1), core::future::ready(3));
    /// let _inner: &mut core::future::Ready<i32> = t.get_mut();
    /// ```
    pub fn get_mut(&mut self) -> &mut F {
        &mut self.future
    }

    /// Gives the inner future back, cancelling the timeout.
    ///
    /// # Examples
    ///
    /// ```
    /// # use ebbtide_mock_time as _; // the clock these examples run on
    /// use ebbtide_core::time::{timeout, Duration};
    /// let t = timeout(Duration::from_secs(1), async { 5 });
    /// assert_eq!(ebbtide_core::block_on(t.into_inner()), 5);
    /// ```
    pub fn into_inner(self) -> F {
        self.future
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `future` is structurally pinned: it is never moved out of a pinned `Timeout`
        // (`into_inner` takes `self` by value, which a pinned `Timeout` only allows when it is
        // `Unpin`), `Timeout` has no `Drop` impl (its `timer`'s never touches `future`), and it is `Unpin` only if `F` is.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: as above.
        let future = unsafe { Pin::new_unchecked(&mut this.future) };
        if let Poll::Ready(output) = future.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        // No budget here: the inner future already took what it needed, and the timeout must
        // still be able to fire when it has spent the task's budget.
        let ahead = core::mem::take(&mut this.ahead);
        this.timer.poll(cx, ahead).map(|()| Err(Elapsed::new()))
    }
}

/// The error of [`timeout`]: the deadline passed before the future completed.
///
/// # Examples
///
/// ```
/// use ebbtide_core::time::Elapsed;
/// assert_eq!(Elapsed::new().to_string(), "deadline has elapsed");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Elapsed(());

impl Elapsed {
    /// The error value (for tests and for code that builds its own timeouts).
    ///
    /// # Examples
    ///
    /// ```
    /// let _ = ebbtide_core::time::Elapsed::new();
    /// ```
    pub const fn new() -> Elapsed {
        Elapsed(())
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl core::error::Error for Elapsed {}
