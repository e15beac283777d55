//! [`Duration`]: a span of time counted in driver ticks.

use core::fmt;
use core::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Sub, SubAssign};

use super::TICK_HZ;

/// A span of time, counted in ticks of the time driver ([`TICK_HZ`] per second, 1 MHz unless
/// the program enables another `embassy-time-driver` `tick-hz-*` feature).
///
/// Conversions *into* ticks round **up** and saturate at [`Duration::MAX`], so that sleeping for
/// a `Duration` never sleeps less than asked; conversions *out of* ticks (`as_*`) round down.
/// Arithmetic operators saturate instead of overflowing: `Duration::MAX + x` is `Duration::MAX`.
/// Use the `checked_*` methods to detect overflow.
///
/// # Examples
///
/// ```
/// use ebbtide_core::time::Duration;
///
/// let d = Duration::from_millis(1500);
/// assert_eq!(d.as_secs(), 1);
/// assert_eq!(d.as_millis(), 1500);
/// assert_eq!(Duration::from_secs(2) - d, Duration::from_millis(500));
/// assert_eq!(Duration::MAX + d, Duration::MAX);
/// assert_eq!(core::time::Duration::from(d), core::time::Duration::from_millis(1500));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
// Aligned to 4 bytes, not 8: on 32-bit targets a future that holds one then needs no padding
// before it (the tick count is only ever read and written whole, by value).
#[repr(C, packed(4))]
pub struct Duration {
    ticks: u64,
}

/// `value` units of `1 / per_sec` seconds, in ticks: rounded up, saturating at `u64::MAX`.
pub(crate) const fn to_ticks(value: u64, per_sec: u64) -> u64 {
    if TICK_HZ.is_multiple_of(per_sec) {
        value.saturating_mul(TICK_HZ / per_sec)
    } else if per_sec.is_multiple_of(TICK_HZ) {
        value.div_ceil(per_sec / TICK_HZ)
    } else {
        let ticks = (value as u128 * TICK_HZ as u128).div_ceil(per_sec as u128);
        if ticks > u64::MAX as u128 {
            u64::MAX
        } else {
            ticks as u64
        }
    }
}

/// `ticks` in units of `1 / per_sec` seconds, rounded down, saturating at `u64::MAX`.
pub(crate) const fn from_ticks(ticks: u64, per_sec: u64) -> u64 {
    if TICK_HZ.is_multiple_of(per_sec) {
        ticks / (TICK_HZ / per_sec)
    } else if per_sec.is_multiple_of(TICK_HZ) {
        ticks.saturating_mul(per_sec / TICK_HZ)
    } else {
        let value = ticks as u128 * per_sec as u128 / TICK_HZ as u128;
        if value > u64::MAX as u128 {
            u64::MAX
        } else {
            value as u64
        }
    }
}

impl Duration {
    /// No time at all.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::time::Duration;
    /// assert_eq!(Duration::ZERO.as_ticks(), 0);
    /// ```
    pub const ZERO: Duration = Duration { ticks: 0 };

    /// The longest duration: `u64::MAX` ticks. Sleeping for it never ends.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::time::{Duration, Instant};
    /// assert_eq!(Instant::from_ticks(5) + Duration::MAX, Instant::MAX);
    /// ```
    pub const MAX: Duration = Duration { ticks: u64::MAX };

    /// A duration of `ticks` driver ticks.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::time::{Duration, TICK_HZ};
    /// assert_eq!(Duration::from_ticks(TICK_HZ), Duration::from_secs(1));
    /// ```
    pub const fn from_ticks(ticks: u64) -> Duration {
        Duration { ticks }
    }

    /// A duration of `secs` seconds, saturating at [`Duration::MAX`].
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::time::Duration;
    /// assert_eq!(Duration::from_secs(3).as_millis(), 3000);
    /// ```
    pub const fn from_secs(secs: u64) -> Duration {
        Duration {
            ticks: to_ticks(secs, 1),
        }
    }

    /// A duration of `millis` milliseconds, rounded up to a whole tick, saturating at
    /// [`Duration::MAX`].
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::time::Duration;
    /// assert_eq!(Duration::from_millis(2500).as_secs(), 2);
    /// ```
    pub const fn from_millis(millis: u64) -> Duration {
        Duration {
            ticks: to_ticks(millis, 1_000),
        }
    }

    /// A duration of `micros` microseconds, rounded up to a whole tick, saturating at
    /// [`Duration::MAX`].
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::time::Duration;
    /// assert_eq!(Duration::from_micros(1500).as_millis(), 1);
    /// ```
    pub const fn from_micros(micros: u64) -> Duration {
        Duration {
            ticks: to_ticks(micros, 1_000_000),
        }
    }

    /// A duration of `nanos` nanoseconds, rounded up to a whole tick (so a non-zero duration
    /// never becomes zero).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::time::Duration;
    /// assert!(Duration::from_nanos(1) > Duration::ZERO);
    /// ```
    pub const fn from_nanos(nanos: u64) -> Duration {
        Duration {
            ticks: to_ticks(nanos, 1_000_000_000),
        }
    }

    /// The duration in driver ticks.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::time::Duration;
    /// assert_eq!(Duration::from_ticks(7).as_ticks(), 7);
    /// ```
    pub const fn as_ticks(&self) -> u64 {
        self.ticks
    }

    /// The duration in whole seconds, rounded down.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::time::Duration;
    /// assert_eq!(Duration::from_millis(1999).as_secs(), 1);
    /// ```
    pub const fn as_secs(&self) -> u64 {
        from_ticks(self.ticks, 1)
    }

    /// The duration in whole milliseconds, rounded down.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::time::Duration;
    /// assert_eq!(Duration::from_secs(2).as_millis(), 2000);
    /// ```
    pub const fn as_millis(&self) -> u64 {
        from_ticks(self.ticks, 1_000)
    }

    /// The duration in whole microseconds, rounded down, saturating at `u64::MAX`.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::time::Duration;
    /// assert_eq!(Duration::from_millis(3).as_micros(), 3000);
    /// ```
    pub const fn as_micros(&self) -> u64 {
        from_ticks(self.ticks, 1_000_000)
    }

    /// Whether the duration is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::time::Duration;
    /// assert!(Duration::ZERO.is_zero());
    /// ```
    pub const fn is_zero(&self) -> bool {
        self.ticks == 0
    }

    /// `self + rhs`, or `None` on overflow.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::time::Duration;
    /// assert_eq!(Duration::MAX.checked_add(Duration::from_ticks(1)), None);
    /// ```
    pub const fn checked_add(self, rhs: Duration) -> Option<Duration> {
        match self.ticks.checked_add(rhs.ticks) {
            Some(ticks) => Some(Duration { ticks }),
            None => None,
        }
    }

    /// `self - rhs`, or `None` if `rhs` is longer.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::time::Duration;
    /// assert_eq!(Duration::ZERO.checked_sub(Duration::from_ticks(1)), None);
    /// ```
    pub const fn checked_sub(self, rhs: Duration) -> Option<Duration> {
        match self.ticks.checked_sub(rhs.ticks) {
            Some(ticks) => Some(Duration { ticks }),
            None => None,
        }
    }

    /// `self * rhs`, or `None` on overflow.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::time::Duration;
    /// assert_eq!(Duration::from_millis(2).checked_mul(3), Some(Duration::from_millis(6)));
    /// ```
    pub const fn checked_mul(self, rhs: u32) -> Option<Duration> {
        match self.ticks.checked_mul(rhs as u64) {
            Some(ticks) => Some(Duration { ticks }),
            None => None,
        }
    }

    /// `self / rhs`, or `None` if `rhs` is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::time::Duration;
    /// assert_eq!(Duration::from_millis(6).checked_div(3), Some(Duration::from_millis(2)));
    /// assert_eq!(Duration::from_millis(6).checked_div(0), None);
    /// ```
    pub const fn checked_div(self, rhs: u32) -> Option<Duration> {
        match self.ticks.checked_div(rhs as u64) {
            Some(ticks) => Some(Duration { ticks }),
            None => None,
        }
    }

    /// `self + rhs`, saturating at [`Duration::MAX`].
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::time::Duration;
    /// assert_eq!(Duration::MAX.saturating_add(Duration::from_secs(1)), Duration::MAX);
    /// ```
    pub const fn saturating_add(self, rhs: Duration) -> Duration {
        Duration {
            ticks: self.ticks.saturating_add(rhs.ticks),
        }
    }

    /// `self - rhs`, saturating at [`Duration::ZERO`].
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::time::Duration;
    /// assert_eq!(Duration::from_secs(1).saturating_sub(Duration::from_secs(2)), Duration::ZERO);
    /// ```
    pub const fn saturating_sub(self, rhs: Duration) -> Duration {
        Duration {
            ticks: self.ticks.saturating_sub(rhs.ticks),
        }
    }

    /// `self * rhs`, saturating at [`Duration::MAX`].
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::time::Duration;
    /// assert_eq!(Duration::MAX.saturating_mul(2), Duration::MAX);
    /// ```
    pub const fn saturating_mul(self, rhs: u32) -> Duration {
        Duration {
            ticks: self.ticks.saturating_mul(rhs as u64),
        }
    }
}

/// Saturates at [`Duration::MAX`].
impl Add for Duration {
    type Output = Duration;
    fn add(self, rhs: Duration) -> Duration {
        self.saturating_add(rhs)
    }
}

/// Saturates at [`Duration::MAX`].
impl AddAssign for Duration {
    fn add_assign(&mut self, rhs: Duration) {
        *self = *self + rhs;
    }
}

/// Saturates at [`Duration::ZERO`].
impl Sub for Duration {
    type Output = Duration;
    fn sub(self, rhs: Duration) -> Duration {
        self.saturating_sub(rhs)
    }
}

/// Saturates at [`Duration::ZERO`].
impl SubAssign for Duration {
    fn sub_assign(&mut self, rhs: Duration) {
        *self = *self - rhs;
    }
}

/// Saturates at [`Duration::MAX`].
impl Mul<u32> for Duration {
    type Output = Duration;
    fn mul(self, rhs: u32) -> Duration {
        self.saturating_mul(rhs)
    }
}

/// Saturates at [`Duration::MAX`].
impl MulAssign<u32> for Duration {
    fn mul_assign(&mut self, rhs: u32) {
        *self = *self * rhs;
    }
}

/// Rounds down. Panics if `rhs` is zero, like integer division.
impl Div<u32> for Duration {
    type Output = Duration;
    fn div(self, rhs: u32) -> Duration {
        Duration {
            ticks: self.ticks / rhs as u64,
        }
    }
}

/// Rounds down. Panics if `rhs` is zero, like integer division.
impl DivAssign<u32> for Duration {
    fn div_assign(&mut self, rhs: u32) {
        *self = *self / rhs;
    }
}

/// Rounds up to a whole tick and saturates at [`Duration::MAX`].
impl From<core::time::Duration> for Duration {
    fn from(duration: core::time::Duration) -> Duration {
        let ticks = duration
            .as_nanos()
            .saturating_mul(TICK_HZ as u128)
            .div_ceil(1_000_000_000);
        Duration {
            ticks: u64::try_from(ticks).unwrap_or(u64::MAX),
        }
    }
}

/// Exact to the nanosecond (rounded down below that).
impl From<Duration> for core::time::Duration {
    fn from(duration: Duration) -> core::time::Duration {
        let secs = duration.ticks / TICK_HZ;
        let rest = duration.ticks % TICK_HZ;
        let nanos = (rest as u128 * 1_000_000_000 / TICK_HZ as u128) as u32;
        core::time::Duration::new(secs, nanos)
    }
}

/// Shown as seconds with a unit, like `core::time::Duration` (`1.5ms`).
impl fmt::Debug for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&core::time::Duration::from(*self), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_round_up_and_saturate() {
        assert_eq!(to_ticks(1, 3), TICK_HZ.div_ceil(3));
        assert_eq!(to_ticks(u64::MAX, 1), u64::MAX);
        assert_eq!(Duration::from_nanos(1).as_ticks(), 1);
        assert_eq!(Duration::from_secs(u64::MAX), Duration::MAX);
        assert_eq!(Duration::from(core::time::Duration::MAX), Duration::MAX);
        assert_eq!(
            Duration::from(core::time::Duration::from_nanos(1)).as_ticks(),
            1
        );
    }

    #[test]
    fn round_trip_through_core_duration() {
        let d = Duration::from_micros(1_234_567);
        assert_eq!(Duration::from(core::time::Duration::from(d)), d);
        assert_eq!(
            core::time::Duration::from(Duration::MAX).as_secs(),
            u64::MAX / TICK_HZ
        );
    }
}
