//! [`Instant`]: a point on the time driver's clock.

use core::fmt;
use core::ops::{Add, AddAssign, Sub, SubAssign};

use super::duration::{from_ticks, to_ticks};
use super::Duration;

/// A point in time: the number of ticks of the time driver's clock since it started.
///
/// The clock is `embassy_time_driver::now()`; it never goes backwards. [`Instant::MAX`] is a
/// point that is never reached: a timer set for it never fires. Adding a [`Duration`] saturates
/// at `Instant::MAX` (so `Instant::now() + Duration::MAX` means "never"), and subtracting
/// saturates at [`Instant::MIN`]; use the `checked_*` methods to detect overflow.
///
/// # Examples
///
/// ```
/// # use ebbtide_mock_time as _; // the clock these examples run on
/// use ebbtide_core::time::{Duration, Instant};
///
/// let start = Instant::now();
/// let deadline = start + Duration::from_millis(10);
/// assert_eq!(deadline - start, Duration::from_millis(10));
/// assert_eq!(start + Duration::MAX, Instant::MAX);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
// Aligned to 4 bytes, not 8: on 32-bit targets a future that holds one then needs no padding
// before it (the tick count is only ever read and written whole, by value).
#[repr(C, packed(4))]
pub struct Instant {
    ticks: u64,
}

impl Instant {
    /// The start of the clock (tick 0).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::time::Instant;
    /// assert_eq!(Instant::MIN.as_ticks(), 0);
    /// ```
    pub const MIN: Instant = Instant { ticks: 0 };

    /// The end of time (`u64::MAX` ticks): never reached, so a timer for it never fires.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::time::{Duration, Instant};
    /// assert_eq!(Instant::MAX.checked_add(Duration::from_ticks(1)), None);
    /// ```
    pub const MAX: Instant = Instant { ticks: u64::MAX };

    /// The current time, from `embassy_time_driver::now()`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use ebbtide_mock_time as _; // the clock these examples run on
    /// use ebbtide_core::time::Instant;
    /// let a = Instant::now();
    /// assert!(Instant::now() >= a);
    /// ```
    pub fn now() -> Instant {
        Instant {
            ticks: embassy_time_driver::now(),
        }
    }

    /// The instant `ticks` ticks after the clock started.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::time::Instant;
    /// assert_eq!(Instant::from_ticks(42).as_ticks(), 42);
    /// ```
    pub const fn from_ticks(ticks: u64) -> Instant {
        Instant { ticks }
    }

    /// The instant `secs` seconds after the clock started, saturating at [`Instant::MAX`].
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::time::Instant;
    /// assert_eq!(Instant::from_secs(2).as_millis(), 2000);
    /// ```
    pub const fn from_secs(secs: u64) -> Instant {
        Instant {
            ticks: to_ticks(secs, 1),
        }
    }

    /// The instant `millis` milliseconds after the clock started, rounded up to a whole tick.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::time::Instant;
    /// assert_eq!(Instant::from_millis(1500).as_secs(), 1);
    /// ```
    pub const fn from_millis(millis: u64) -> Instant {
        Instant {
            ticks: to_ticks(millis, 1_000),
        }
    }

    /// The instant `micros` microseconds after the clock started, rounded up to a whole tick.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::time::Instant;
    /// assert_eq!(Instant::from_micros(2000).as_millis(), 2);
    /// ```
    pub const fn from_micros(micros: u64) -> Instant {
        Instant {
            ticks: to_ticks(micros, 1_000_000),
        }
    }

    /// Ticks since the clock started.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::time::Instant;
    /// assert_eq!(Instant::from_ticks(9).as_ticks(), 9);
    /// ```
    pub const fn as_ticks(&self) -> u64 {
        self.ticks
    }

    /// Whole seconds since the clock started, rounded down.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::time::Instant;
    /// assert_eq!(Instant::from_millis(2999).as_secs(), 2);
    /// ```
    pub const fn as_secs(&self) -> u64 {
        from_ticks(self.ticks, 1)
    }

    /// Whole milliseconds since the clock started, rounded down.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::time::Instant;
    /// assert_eq!(Instant::from_secs(1).as_millis(), 1000);
    /// ```
    pub const fn as_millis(&self) -> u64 {
        from_ticks(self.ticks, 1_000)
    }

    /// Whole microseconds since the clock started, rounded down.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::time::Instant;
    /// assert_eq!(Instant::from_millis(1).as_micros(), 1000);
    /// ```
    pub const fn as_micros(&self) -> u64 {
        from_ticks(self.ticks, 1_000_000)
    }

    /// The time since `earlier`, or zero if `earlier` is later than `self`.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::time::{Duration, Instant};
    /// let a = Instant::from_ticks(10);
    /// assert_eq!(a.duration_since(Instant::from_ticks(4)), Duration::from_ticks(6));
    /// assert_eq!(Instant::MIN.duration_since(a), Duration::ZERO);
    /// ```
    pub const fn duration_since(&self, earlier: Instant) -> Duration {
        Duration::from_ticks(self.ticks.saturating_sub(earlier.ticks))
    }

    /// The time since `earlier`, or `None` if `earlier` is later than `self`.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::time::Instant;
    /// assert_eq!(Instant::MIN.checked_duration_since(Instant::from_ticks(1)), None);
    /// ```
    pub const fn checked_duration_since(&self, earlier: Instant) -> Option<Duration> {
        match self.ticks.checked_sub(earlier.ticks) {
            Some(ticks) => Some(Duration::from_ticks(ticks)),
            None => None,
        }
    }

    /// The time since `earlier`, or zero if `earlier` is later (the same as
    /// [`duration_since`](Instant::duration_since)).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::time::{Duration, Instant};
    /// assert_eq!(Instant::MIN.saturating_duration_since(Instant::MAX), Duration::ZERO);
    /// ```
    pub const fn saturating_duration_since(&self, earlier: Instant) -> Duration {
        self.duration_since(earlier)
    }

    /// The time since this instant, according to [`Instant::now`] (zero if it is in the future).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_mock_time::MockDriver;
    /// use ebbtide_core::time::{Duration, Instant};
    /// let start = Instant::now();
    /// MockDriver::advance(Duration::from_millis(3));
    /// assert_eq!(start.elapsed(), Duration::from_millis(3));
    /// ```
    pub fn elapsed(&self) -> Duration {
        Instant::now().duration_since(*self)
    }

    /// `self + duration`, or `None` past [`Instant::MAX`].
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::time::{Duration, Instant};
    /// assert_eq!(Instant::MAX.checked_add(Duration::from_ticks(1)), None);
    /// ```
    pub const fn checked_add(&self, duration: Duration) -> Option<Instant> {
        match self.ticks.checked_add(duration.as_ticks()) {
            Some(ticks) => Some(Instant { ticks }),
            None => None,
        }
    }

    /// `self - duration`, or `None` before [`Instant::MIN`].
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::time::{Duration, Instant};
    /// assert_eq!(Instant::MIN.checked_sub(Duration::from_ticks(1)), None);
    /// ```
    pub const fn checked_sub(&self, duration: Duration) -> Option<Instant> {
        match self.ticks.checked_sub(duration.as_ticks()) {
            Some(ticks) => Some(Instant { ticks }),
            None => None,
        }
    }

    /// `self + duration`, saturating at [`Instant::MAX`] (never).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::time::{Duration, Instant};
    /// assert_eq!(Instant::from_ticks(1).saturating_add(Duration::MAX), Instant::MAX);
    /// ```
    pub const fn saturating_add(&self, duration: Duration) -> Instant {
        Instant {
            ticks: self.ticks.saturating_add(duration.as_ticks()),
        }
    }

    /// `self - duration`, saturating at [`Instant::MIN`].
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::time::{Duration, Instant};
    /// assert_eq!(Instant::from_ticks(1).saturating_sub(Duration::MAX), Instant::MIN);
    /// ```
    pub const fn saturating_sub(&self, duration: Duration) -> Instant {
        Instant {
            ticks: self.ticks.saturating_sub(duration.as_ticks()),
        }
    }
}

/// Saturates at [`Instant::MAX`]: `Instant::now() + Duration::MAX` is `Instant::MAX`.
impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, rhs: Duration) -> Instant {
        self.saturating_add(rhs)
    }
}

/// Saturates at [`Instant::MAX`].
impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, rhs: Duration) {
        *self = *self + rhs;
    }
}

/// Saturates at [`Instant::MIN`].
impl Sub<Duration> for Instant {
    type Output = Instant;
    fn sub(self, rhs: Duration) -> Instant {
        self.saturating_sub(rhs)
    }
}

/// Saturates at [`Instant::MIN`].
impl SubAssign<Duration> for Instant {
    fn sub_assign(&mut self, rhs: Duration) {
        *self = *self - rhs;
    }
}

/// The time from `rhs` to `self`, saturating at [`Duration::ZERO`].
impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, rhs: Instant) -> Duration {
        self.duration_since(rhs)
    }
}

/// `std::time::Duration` (or `core::time::Duration`) rounded up to a whole tick, so that Tokio's
/// `Instant::now() + Duration::from_millis(10)` reads the same with either `Duration`. Saturates
/// at [`Instant::MAX`].
///
/// # Examples
///
/// ```
/// use ebbtide_core::time::{Duration, Instant};
///
/// let start = Instant::from_ticks(0);
/// assert_eq!(start + core::time::Duration::from_millis(10), start + Duration::from_millis(10));
/// ```
impl Add<core::time::Duration> for Instant {
    type Output = Instant;
    fn add(self, rhs: core::time::Duration) -> Instant {
        self.saturating_add(Duration::from(rhs))
    }
}

/// See `Add<core::time::Duration>`.
impl AddAssign<core::time::Duration> for Instant {
    fn add_assign(&mut self, rhs: core::time::Duration) {
        *self = *self + rhs;
    }
}

/// The ebbtide instant at which a `std::time::Instant` falls, so that deadlines taken from std
/// (`sleep_until(std::time::Instant::now() + d)`, Tokio code's `Instant::from_std`) work
/// unchanged.
///
/// Both clocks are read now and the distance between `instant` and std's now is carried over.
/// A future instant is rounded up by one tick, as [`sleep`](super::sleep) rounds, so that a
/// deadline taken from std never comes early by std's clock. (On a runtime whose clock is
/// [paused](https://docs.rs/ebbtide-std/latest/ebbtide_std/time/fn.pause.html), the distance is
/// carried over to the paused clock.)
///
/// # Examples
///
/// ```
/// use ebbtide_core::time::Instant;
/// # use ebbtide_mock_time::MockDriver as _; // the program's time driver
///
/// let in_a_second = std::time::Instant::now() + std::time::Duration::from_secs(1);
/// let deadline = Instant::from(in_a_second);
/// # let _ = deadline;
/// ```
#[cfg(feature = "std")]
impl From<std::time::Instant> for Instant {
    fn from(instant: std::time::Instant) -> Instant {
        let std_now = std::time::Instant::now();
        match instant.checked_duration_since(std_now) {
            Some(ahead) => super::deadline_after(Duration::from(ahead)),
            None => Instant::now().saturating_sub(Duration::from(std_now - instant)),
        }
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Instant::MAX {
            f.write_str("Instant(MAX)")
        } else {
            write!(f, "Instant({} ticks)", { self.ticks })
        }
    }
}
