//! [`interval`], [`interval_at`], [`Interval`], its [`Tick`] future and [`MissedTickBehavior`].

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use super::sleep::Timer;
use super::{Duration, Instant};

/// A stream of ticks every `period`; the first tick completes at once.
///
/// # Panics
///
/// If `period` is zero.
///
/// # Examples
///
/// ```
/// use ebbtide_mock_time::MockDriver;
/// use ebbtide_core::time::{interval, Duration};
///
/// let mut ticks = interval(Duration::from_millis(10));
/// let start = ebbtide_core::time::Instant::now();
/// ebbtide_core::block_on_with_idle(
///     async {
///         assert_eq!(ticks.tick().await, start); // at once
///         assert_eq!(ticks.tick().await, start + Duration::from_millis(10));
///         assert_eq!(ticks.tick().await, start + Duration::from_millis(20));
///     },
///     || {
///         MockDriver::advance_to_next_deadline();
///     },
/// );
/// ```
pub fn interval(period: impl Into<Duration>) -> Interval {
    interval_at(Instant::now(), period)
}

/// A stream of ticks every `period`, the first at `start`.
///
/// # Panics
///
/// If `period` is zero.
///
/// # Examples
///
/// ```
/// use ebbtide_mock_time::MockDriver;
/// use ebbtide_core::time::{interval_at, Duration, Instant};
///
/// let start = Instant::now() + Duration::from_millis(5);
/// let mut ticks = interval_at(start, Duration::from_millis(10));
/// let first = ebbtide_core::block_on_with_idle(ticks.tick(), || {
///     MockDriver::advance_to_next_deadline();
/// });
/// assert_eq!(first, start);
/// assert_eq!(Instant::now(), start);
/// ```
pub fn interval_at(start: impl Into<Instant>, period: impl Into<Duration>) -> Interval {
    let start = start.into();
    let period = period.into();
    assert!(
        !period.is_zero(),
        "an interval's period must be longer than zero"
    );
    Interval {
        timer: Timer::new(start),
        period,
        behavior: MissedTickBehavior::Burst,
        next: MissedTickBehavior::Burst.next_fn(),
    }
}

/// What an [`Interval`] does when ticks were missed because [`Interval::tick`] was called late.
///
/// Say a tick scheduled for `t` is returned at time `now` (`now >= t`), and `period` is `p`. If
/// `now <= t + p`, the next tick was not missed: it is at `t + p`, whatever the behaviour, so a
/// tick that is late by less than a period never shifts the schedule. Otherwise (`now > t + p`)
/// one or more ticks were missed, and:
///
/// | behaviour | next tick | the ticks after |
/// |---|---|---|
/// | [`Burst`](Self::Burst) (default) | `t + p`, returned at once | `t + 2p`, `t + 3p`, ... each returned at once until caught up: every missed tick is delivered, late |
/// | [`Delay`](Self::Delay) | `now + p` | `now + 2p`, ...: the missed ticks are dropped and the schedule restarts from `now` |
/// | [`Skip`](Self::Skip) | the first `t + k·p` that is `>= now` | `t + (k+1)·p`, ...: the missed ticks are dropped, the schedule keeps its phase |
///
/// Every tick returns the instant it was scheduled for, not the time it was returned.
///
/// For example, with `p = 10`, ticks at 0, 10, 20, ... and a task that calls `tick()` at 0, then
/// not until 35, then again at once and again: `Burst` yields 0, 10 (at 35), 20 (at 35),
/// 30 (at 35), 40 (at 40); `Delay` yields 0, 10 (at 35), 45 (at 45), 55; `Skip` yields 0,
/// 10 (at 35), 40 (at 40), 50.
///
/// # Examples
///
/// ```
/// # use ebbtide_mock_time as _; // the clock these examples run on
/// use ebbtide_core::time::{interval, Duration, MissedTickBehavior};
///
/// let mut ticks = interval(Duration::from_millis(10));
/// ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
/// assert_eq!(ticks.missed_tick_behavior(), MissedTickBehavior::Skip);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MissedTickBehavior {
    /// Deliver every missed tick, one after the other at once, until the schedule is caught up.
    #[default]
    Burst,
    /// Drop the missed ticks and restart the schedule one period after the late tick.
    Delay,
    /// Drop the missed ticks and resume at the next tick of the original schedule.
    Skip,
}

/// How an [`Interval`] moves its deadline on from the tick it just returned (the deadline when
/// called), reading the clock itself. It takes the interval, not the instants: a call with one
/// pointer is a few bytes at the one place that makes it, where three 64-bit instants passed by
/// reference took about 30 on a Cortex-M.
type NextTick = fn(&mut Interval);

impl MissedTickBehavior {
    /// The instant of the tick after the one scheduled for `tick`, returned at `now`.
    #[cfg(test)]
    fn next(self, tick: Instant, now: Instant, period: Duration) -> Instant {
        match self {
            MissedTickBehavior::Burst => next_burst(tick, period),
            MissedTickBehavior::Delay => next_delay(tick, now, period),
            MissedTickBehavior::Skip => next_skip(tick, now, period),
        }
    }

    /// This behaviour's [`NextTick`], or `None` for `Burst`. An interval keeps it beside the
    /// behaviour, chosen when the behaviour is set: a program that never asks for `Skip` or
    /// `Delay` links neither (`Skip`'s takes a long division, `remainder`: 90 bytes on a
    /// Cortex-M). `Burst`, the default, is an addition that the interval does in place, without
    /// a call (and without reading the clock again: it does not look at `now`).
    fn next_fn(self) -> Option<NextTick> {
        match self {
            MissedTickBehavior::Burst => None,
            MissedTickBehavior::Delay => Some(|interval| interval.move_on(next_delay)),
            MissedTickBehavior::Skip => Some(|interval| interval.move_on(next_skip)),
        }
    }
}

/// [`MissedTickBehavior::Burst`]: the next tick of the schedule, missed or not (whatever the
/// time now).
#[inline]
fn next_burst(tick: Instant, period: Duration) -> Instant {
    tick + period
}

/// [`MissedTickBehavior::Delay`]: a period after `now`, if the next tick of the schedule was
/// missed.
fn next_delay(tick: Instant, now: Instant, period: Duration) -> Instant {
    let on_schedule = tick + period;
    if now <= on_schedule {
        return on_schedule;
    }
    now + period
}

/// [`MissedTickBehavior::Skip`]: the first tick of the schedule at or after `now`.
fn next_skip(tick: Instant, now: Instant, period: Duration) -> Instant {
    let on_schedule = tick + period;
    if now <= on_schedule {
        return on_schedule;
    }
    // The first `tick + k·period >= now` is `now` plus what is left of the period that `now`
    // falls in.
    let period = period.as_ticks();
    let into_period = remainder((now - tick).as_ticks(), period);
    let wait = if into_period == 0 {
        0
    } else {
        period - into_period
    };
    Instant::from_ticks(now.as_ticks().saturating_add(wait))
}

/// `n % d` for `d > 0`, by shifts and subtractions (at most 64 of each): `%` on `u64` would link
/// a 64-bit division routine of about 900 bytes on 32-bit targets, for a rarely used path.
#[inline(never)]
fn remainder(mut n: u64, d: u64) -> u64 {
    debug_assert!(d > 0);
    // The largest `d << s` that is `<= n` (no overflow: `divisor <= n / 2` before each doubling).
    let mut divisor = d;
    while divisor <= n >> 1 {
        divisor <<= 1;
    }
    // Long division, keeping only the remainder; the low bits of `divisor` are zeros, so the
    // shifts bring it back to exactly `d`.
    loop {
        if n >= divisor {
            n -= divisor;
        }
        if divisor == d {
            return n;
        }
        divisor >>= 1;
    }
}

/// Ticks every period; made by [`interval`] or [`interval_at`].
///
/// A tick is due at its scheduled instant; [`tick`](Interval::tick) waits for the next due tick
/// and returns its scheduled instant. See [`MissedTickBehavior`] for what happens when ticks are
/// due faster than they are taken. Like [`Sleep`](super::Sleep), an `Interval` holds no timer entry of its own
/// and can be moved freely.
///
/// # Examples
///
/// ```
/// use ebbtide_mock_time::MockDriver;
/// use ebbtide_core::time::{interval, Duration, Instant};
///
/// let mut ticks = interval(Duration::from_millis(100));
/// assert_eq!(ticks.period(), Duration::from_millis(100));
/// let count = ebbtide_core::block_on_with_idle(
///     async {
///         let mut count = 0;
///         while ticks.tick().await < Instant::from_millis(500) {
///             count += 1;
///         }
///         count
///     },
///     || {
///         MockDriver::advance_to_next_deadline();
///     },
/// );
/// assert_eq!(count, 5); // 0, 100, 200, 300 and 400 ms
/// ```
#[derive(Debug)]
pub struct Interval {
    /// The next tick's deadline. A `Timer` rather than a [`Sleep`](super::Sleep): its first
    /// poll always reads the clock, so it needs no flag for that, and the interval stays small.
    timer: Timer,
    period: Duration,
    behavior: MissedTickBehavior,
    /// `behavior`'s way to the next tick; `None` for `Burst` (see
    /// [`MissedTickBehavior::next_fn`]).
    next: Option<NextTick>,
}

impl Interval {
    /// Waits for the next tick and returns the instant it was scheduled for.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the interval only moves on when a tick is returned, so a `tick()` dropped
    /// before it completes loses no tick.
    ///
    /// # Examples
    ///
    /// ```
    /// # use ebbtide_mock_time as _; // the clock these examples run on
    /// use ebbtide_core::time::{interval, Duration, Instant};
    ///
    /// let mut ticks = interval(Duration::from_secs(1));
    /// let first = ebbtide_core::block_on(ticks.tick());
    /// assert_eq!(first, Instant::now());
    /// ```
    ///
    /// Where Tokio's `tick` is an `async fn`, this returns a named future, [`Tick`]: the same
    /// to `await`, and without the state machine an `async fn` adds around the poll.
    pub fn tick(&mut self) -> Tick<'_> {
        Tick { interval: self }
    }

    /// Polls for the next tick: the poll-based form of [`tick`](Interval::tick).
    ///
    /// # Cancel safety
    ///
    /// Nothing changes unless it returns `Ready`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use ebbtide_mock_time as _; // the clock these examples run on
    /// use core::task::{Context, Poll, Waker};
    /// use ebbtide_core::time::{interval, Duration};
    ///
    /// let mut ticks = interval(Duration::from_secs(1));
    /// let mut cx = Context::from_waker(Waker::noop());
    /// assert!(ticks.poll_tick(&mut cx).is_ready()); // the first tick is immediate
    /// assert!(ticks.poll_tick(&mut cx).is_pending());
    /// ```
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        let tick = self.timer.deadline;
        if self.timer.poll_budgeted(cx, false).is_pending() {
            return Poll::Pending;
        }
        match self.next {
            None => self.timer.deadline = next_burst(tick, self.period),
            Some(next) => next(self),
        }
        Poll::Ready(tick)
    }

    /// Moves the deadline (the tick just returned) on to the tick after it, as `next` computes
    /// it from `(tick, now, period)`: the body of each [`NextTick`].
    #[inline(always)]
    fn move_on(&mut self, next: fn(Instant, Instant, Duration) -> Instant) {
        self.timer.deadline = next(self.timer.deadline, Instant::now(), self.period);
    }

    /// Restarts the schedule: the next tick is one period from now.
    ///
    /// # Examples
    ///
    /// ```
    /// # use ebbtide_mock_time as _; // the clock these examples run on
    /// use ebbtide_core::time::{interval, Duration, Instant};
    ///
    /// let mut ticks = interval(Duration::from_secs(1));
    /// ticks.reset();
    /// // A period from now, rounded up by a tick like `sleep`.
    /// assert_eq!(ticks.next_tick(), Instant::now() + Duration::from_secs(1) + Duration::from_ticks(1));
    /// ```
    pub fn reset(&mut self) {
        self.reset_at(super::deadline_after(self.period));
    }

    /// Restarts the schedule with a tick due at once.
    ///
    /// # Examples
    ///
    /// ```
    /// # use ebbtide_mock_time as _; // the clock these examples run on
    /// use ebbtide_core::time::{interval_at, Duration, Instant};
    ///
    /// let mut ticks = interval_at(Instant::MAX, Duration::from_secs(1));
    /// ticks.reset_immediately();
    /// assert_eq!(ebbtide_core::block_on(ticks.tick()), Instant::now());
    /// ```
    pub fn reset_immediately(&mut self) {
        self.reset_at(Instant::now());
    }

    /// Restarts the schedule with the next tick at `deadline`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use ebbtide_mock_time as _; // the clock these examples run on
    /// use ebbtide_core::time::{interval, Duration, Instant};
    ///
    /// let mut ticks = interval(Duration::from_secs(1));
    /// ticks.reset_at(Instant::from_secs(60));
    /// assert_eq!(ticks.next_tick(), Instant::from_secs(60));
    /// ```
    pub fn reset_at(&mut self, deadline: impl Into<Instant>) {
        self.timer.deadline = deadline.into();
    }

    /// When the next tick is scheduled.
    ///
    /// # Examples
    ///
    /// ```
    /// # use ebbtide_mock_time as _; // the clock these examples run on
    /// use ebbtide_core::time::{interval_at, Duration, Instant};
    /// let ticks = interval_at(Instant::from_secs(3), Duration::from_secs(1));
    /// assert_eq!(ticks.next_tick(), Instant::from_secs(3));
    /// ```
    pub fn next_tick(&self) -> Instant {
        self.timer.deadline
    }

    /// The time between ticks.
    ///
    /// # Examples
    ///
    /// ```
    /// # use ebbtide_mock_time as _; // the clock these examples run on
    /// use ebbtide_core::time::{interval, Duration};
    /// assert_eq!(interval(Duration::from_millis(5)).period(), Duration::from_millis(5));
    /// ```
    pub fn period(&self) -> Duration {
        self.period
    }

    /// What the interval does about missed ticks (by default [`MissedTickBehavior::Burst`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # use ebbtide_mock_time as _; // the clock these examples run on
    /// use ebbtide_core::time::{interval, Duration, MissedTickBehavior};
    /// let ticks = interval(Duration::from_millis(5));
    /// assert_eq!(ticks.missed_tick_behavior(), MissedTickBehavior::Burst);
    /// ```
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.behavior
    }

    /// Sets what the interval does about missed ticks from now on.
    ///
    /// # Examples
    ///
    /// ```
    /// # use ebbtide_mock_time as _; // the clock these examples run on
    /// use ebbtide_core::time::{interval, Duration, MissedTickBehavior};
    /// let mut ticks = interval(Duration::from_millis(5));
    /// ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    /// assert_eq!(ticks.missed_tick_behavior(), MissedTickBehavior::Delay);
    /// ```
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.behavior = behavior;
        self.next = behavior.next_fn();
    }
}

/// The future of [`Interval::tick`]: the next tick's scheduled instant.
///
/// # Examples
///
/// ```
/// # use ebbtide_mock_time as _; // the clock these examples run on
/// use ebbtide_core::time::{interval_at, Duration, Instant, Tick};
///
/// let mut ticks = interval_at(Instant::from_secs(0), Duration::from_secs(1));
/// let tick: Tick<'_> = ticks.tick();
/// assert_eq!(ebbtide_core::block_on(tick), Instant::from_secs(0));
/// ```
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Tick<'a> {
    interval: &'a mut Interval,
}

impl Future for Tick<'_> {
    type Output = Instant;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Instant> {
        self.interval.poll_tick(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_tick_for_each_behavior() {
        let at = Instant::from_ticks;
        let p = Duration::from_ticks(10);
        for b in [
            MissedTickBehavior::Burst,
            MissedTickBehavior::Delay,
            MissedTickBehavior::Skip,
        ] {
            assert_eq!(b.next(at(0), at(0), p), at(10));
            assert_eq!(b.next(at(0), at(10), p), at(10));
        }
        assert_eq!(MissedTickBehavior::Burst.next(at(10), at(35), p), at(20));
        assert_eq!(MissedTickBehavior::Delay.next(at(10), at(35), p), at(45));
        assert_eq!(MissedTickBehavior::Skip.next(at(10), at(35), p), at(40));
        assert_eq!(MissedTickBehavior::Skip.next(at(10), at(40), p), at(40));
        assert_eq!(
            MissedTickBehavior::Skip.next(at(10), Instant::MAX, p),
            Instant::MAX
        );
        assert_eq!(
            MissedTickBehavior::Delay.next(at(0), Instant::MAX, p),
            Instant::MAX
        );
    }

    #[test]
    fn skip_matches_division() {
        let mut rand = crate::time::test_rng();
        let rounds = if cfg!(miri) { 200 } else { 100_000 };
        for i in 0..rounds {
            let bits = [4, 16, 33, 63, 64][i % 5];
            let n = rand() >> (64 - bits);
            let d = (rand() >> (64 - [1, 8, 32, 64][i % 4])).max(1);
            assert_eq!(remainder(n, d), n % d, "{n} % {d}");
            let tick = rand() >> (64 - bits);
            let (tick, now) = (tick.min(n), tick.max(n));
            let period = Duration::from_ticks(d);
            let on_schedule = tick.saturating_add(d);
            let expected = if now <= on_schedule {
                on_schedule
            } else {
                tick.saturating_add((now - tick).div_ceil(d).saturating_mul(d))
            };
            assert_eq!(
                MissedTickBehavior::Skip.next(
                    Instant::from_ticks(tick),
                    Instant::from_ticks(now),
                    period
                ),
                Instant::from_ticks(expected),
            );
        }
        assert_eq!(remainder(u64::MAX, 1), 0);
        assert_eq!(remainder(u64::MAX, u64::MAX), 0);
        assert_eq!(remainder(u64::MAX - 1, u64::MAX), u64::MAX - 1);
        assert_eq!(remainder(u64::MAX, 1 << 63), (1 << 63) - 1);
        assert_eq!(remainder(0, 7), 0);
    }
}
