//! [`sleep`], [`sleep_until`] and their future, [`Sleep`].

use core::future::Future;
use core::pin::Pin;
use core::task::{ready, Context, Poll};

use super::{Duration, Instant};

/// Waits until `duration` has passed, counted from this call: never less, as any clock measures
/// it (`std::time::Instant` included).
///
/// The clock reads whole ticks, rounded down, so the call happened somewhere inside the tick it
/// reads: the deadline is rounded up by one tick to cover that, like Tokio rounds up to its
/// millisecond. A sleep ends at most a tick (1 µs at the default 1 MHz) later than asked; a zero
/// duration ends at once. `duration` is an ebbtide [`Duration`] or a `core::time::Duration`
/// (`std::time::Duration`).
///
/// `sleep(Duration::MAX)` never completes. To wait until a point in time, use [`sleep_until`].
///
/// With a non-zero duration, the first poll registers the timer without reading the clock again
/// (the deadline was just computed from it), as embassy-time's `Timer` does: a sleep first polled
/// after its deadline completes one poll later, never early.
///
/// # Cancel safety
///
/// Cancel safe: dropping the future cancels the wait, at the cost of at most one spurious wake-up
/// of the task later on.
///
/// # Examples
///
/// ```
/// use ebbtide_mock_time::MockDriver;
/// use ebbtide_core::time::{sleep, Duration, Instant};
///
/// let start = Instant::now();
/// ebbtide_core::block_on_with_idle(sleep(Duration::from_millis(10)), || {
///     MockDriver::advance_to_next_deadline();
/// });
/// assert_eq!(start.elapsed(), Duration::from_micros(10_001));
///
/// // A `std::time::Duration` works as well.
/// ebbtide_core::block_on_with_idle(sleep(core::time::Duration::from_millis(1)), || {
///     MockDriver::advance_to_next_deadline();
/// });
/// ```
pub fn sleep(duration: impl Into<Duration>) -> Sleep {
    let duration = duration.into();
    Sleep {
        timer: Timer::new(super::deadline_after(duration)),
        ahead: ahead_of_the_clock(duration),
    }
}

/// Waits until `deadline`; completes at once if it has passed.
///
/// `sleep_until(Instant::MAX)` never completes, and registers no timer. With the `std` feature
/// (which ebbtide-std and ebbtide-wasi turn on), `deadline` may also be a `std::time::Instant`,
/// as in Tokio code: see `Instant`'s `From<std::time::Instant>`, which rounds so that the sleep
/// never ends before it by std's clock.
///
/// # Cancel safety
///
/// Cancel safe, like [`sleep`].
///
/// # Examples
///
/// ```
/// use ebbtide_mock_time::MockDriver;
/// use ebbtide_core::time::{sleep_until, Instant};
///
/// let deadline = Instant::from_millis(250);
/// ebbtide_core::block_on_with_idle(sleep_until(deadline), || {
///     MockDriver::advance_to_next_deadline();
/// });
/// assert_eq!(Instant::now(), deadline);
/// ```
pub fn sleep_until(deadline: impl Into<Instant>) -> Sleep {
    Sleep {
        timer: Timer::new(deadline.into()),
        ahead: false,
    }
}

/// The future of [`sleep`] and [`sleep_until`]: completes once the clock reads its deadline.
///
/// It holds nothing but the deadline and whether its first poll may skip the clock (16 bytes, as
/// embassy-time's `Timer`; 24 with the `dropped-timer-count` feature of ebbtide-wasi): the timer
/// entry lives in the task (or, for a foreign executor, in the time driver's queue), so a `Sleep`
/// is small, `Unpin`, and may be moved, reset and polled again freely. Each poll before the
/// deadline asks the time driver to wake the polling task at the deadline.
///
/// # Cancel safety
///
/// Cancel safe, like [`sleep`].
///
/// # Examples
///
/// ```
/// use ebbtide_mock_time::MockDriver;
/// use ebbtide_core::time::{sleep, Duration, Instant};
///
/// let mut nap = sleep(Duration::from_secs(1));
/// nap.reset(Instant::now() + Duration::from_millis(5));
/// ebbtide_core::block_on_with_idle(&mut nap, || {
///     MockDriver::advance_to_next_deadline();
/// });
/// assert!(nap.is_elapsed());
/// ```
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    timer: Timer,
    /// Whether the next poll may skip the clock (see [`Timer::poll`]).
    ahead: bool,
}

impl Sleep {
    /// The instant this sleep completes at.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::time::{sleep_until, Instant};
    /// assert_eq!(sleep_until(Instant::from_ticks(9)).deadline(), Instant::from_ticks(9));
    /// ```
    pub fn deadline(&self) -> Instant {
        self.timer.deadline
    }

    /// Whether the deadline has passed.
    ///
    /// # Examples
    ///
    /// ```
    /// # use ebbtide_mock_time as _; // the clock these examples run on
    /// use ebbtide_core::time::{sleep_until, Instant};
    /// assert!(sleep_until(Instant::MIN).is_elapsed());
    /// assert!(!sleep_until(Instant::MAX).is_elapsed());
    /// ```
    pub fn is_elapsed(&self) -> bool {
        Instant::now() >= self.timer.deadline
    }

    /// Moves the deadline, whether or not the sleep has completed; the next poll waits for the
    /// new one.
    ///
    /// The new deadline takes effect at that next poll (which is how a task awaiting the sleep,
    /// e.g. in a `select!` loop, always uses it). A task already queued for an earlier deadline
    /// is woken then, once, and re-registers for the new one.
    ///
    /// # Examples
    ///
    /// ```
    /// # use ebbtide_mock_time as _; // the clock these examples run on
    /// use ebbtide_core::time::{sleep, Duration, Instant};
    ///
    /// let mut timer = sleep(Duration::from_millis(100));
    /// let later = Instant::now() + Duration::from_secs(1);
    /// timer.reset(later);
    /// assert_eq!(timer.deadline(), later);
    /// ```
    pub fn reset(&mut self, deadline: impl Into<Instant>) {
        self.timer.deadline = deadline.into();
        self.ahead = false;
    }
}

impl Clone for Sleep {
    /// The same deadline. The clone's first poll reads the clock: a clone polled afresh each
    /// time (a new future per poll) must still see the deadline pass.
    fn clone(&self) -> Sleep {
        Sleep {
            timer: self.timer.clone(),
            ahead: false,
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let ahead = core::mem::take(&mut self.ahead);
        self.timer.poll_budgeted(cx, ahead)
    }
}

/// A deadline to wait for, as [`Sleep`], [`Timeout`](super::Timeout) and
/// [`Interval`](super::Interval) hold it.
///
/// With the `dropped-timer-count` feature it also remembers whether a poll queued a timer for
/// it that has not fired yet, and when it is dropped with such a timer it adds one to
/// [`queue::dropped_timers`](super::queue::dropped_timers): the queue then may hold a deadline
/// that nothing waits for any more, which a driver that reports deadlocks must see through.
#[derive(Debug)]
pub(crate) struct Timer {
    pub(crate) deadline: Instant,
    /// Whether a poll queued a timer for `deadline` that has not been seen to fire.
    #[cfg(feature = "dropped-timer-count")]
    queued: bool,
}

/// Whether a deadline made by [`deadline_after`](super::deadline_after)`(duration)` is known to
/// lie ahead of the clock it was computed from, so that the first poll of its timer may skip
/// the clock (see [`Timer::poll`]): a non-zero duration is rounded up past the clock's reading,
/// or saturates at `Instant::MAX` (never).
#[inline]
pub(crate) fn ahead_of_the_clock(duration: Duration) -> bool {
    duration != Duration::ZERO
}

impl Timer {
    pub(crate) const fn new(deadline: Instant) -> Timer {
        Timer {
            deadline,
            #[cfg(feature = "dropped-timer-count")]
            queued: false,
        }
    }

    /// `Ready` once the deadline has passed; otherwise registers `cx`'s waker for it. Takes no
    /// budget.
    ///
    /// With `ahead` (the first poll of a timer whose deadline was computed from the clock a
    /// moment before: see [`ahead_of_the_clock`]) it registers at once without reading the
    /// clock again, as embassy-time's `Timer` does; a clock read is most of a registration's
    /// cost. The deadline may have passed by then, if the future waited long to be polled: the
    /// queue then wakes the task at once, or the driver fires the timer before its next wait (a
    /// deadline at or before the time it reads is due), so it completes one poll later, never
    /// early and never lost.
    #[inline]
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>, ahead: bool) -> Poll<()> {
        let poll = poll_deadline(self.deadline, cx, ahead);
        #[cfg(feature = "dropped-timer-count")]
        {
            self.queued = poll.is_pending() && self.deadline != Instant::MAX;
        }
        poll
    }

    /// [`poll`](Timer::poll), then once the deadline has passed, a unit of the task's budget:
    /// what a [`Sleep`] and an [`Interval`](super::Interval) do.
    ///
    /// A task whose budget is spent yields before the clock is read, as Tokio's `Sleep` checks
    /// its budget first: the read is most of a poll's cost, and a deadline it found passed would
    /// be refused all the same. (A task that polls many timers in one poll, such as a join of
    /// them, would otherwise read the clock for each timer after its budget ran out.)
    pub(crate) fn poll_budgeted(&mut self, cx: &mut Context<'_>, ahead: bool) -> Poll<()> {
        if !ahead {
            ready!(crate::task::poll_budget_left(cx));
        }
        ready!(self.poll(cx, ahead));
        crate::task::poll_budget(cx)
    }
}

impl Clone for Timer {
    /// The same deadline; the clone has queued nothing yet.
    fn clone(&self) -> Timer {
        Timer::new(self.deadline)
    }
}

#[cfg(feature = "dropped-timer-count")]
impl Drop for Timer {
    #[inline]
    fn drop(&mut self) {
        if self.queued {
            super::queue::note_dropped_timer();
        }
    }
}

/// `Ready` once `deadline` has passed (not looked at with `ahead`: see [`Timer::poll`]);
/// otherwise registers `cx`'s waker for it. Takes no budget.
fn poll_deadline(deadline: Instant, cx: &mut Context<'_>, ahead: bool) -> Poll<()> {
    if !ahead && Instant::now() >= deadline {
        return Poll::Ready(());
    }
    if deadline != Instant::MAX {
        embassy_time_driver::schedule_wake(deadline.as_ticks(), cx.waker());
    }
    Poll::Pending
}
