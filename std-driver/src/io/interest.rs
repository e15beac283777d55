//! [`Interest`]: which readiness a file descriptor is registered for.

use std::fmt;
use std::ops::{BitOr, BitOrAssign};

const READABLE: u8 = 1 << 0;
const WRITABLE: u8 = 1 << 1;

/// Which readiness an [`AsyncFd`](super::AsyncFd) waits for: reading, writing, or both
/// (`Interest::READABLE | Interest::WRITABLE`).
///
/// Never empty. The names are Tokio's (`tokio::io::Interest`), for the two interests every
/// poller has.
///
/// # Examples
///
/// ```
/// use ebbtide_std::io::Interest;
///
/// let both = Interest::READABLE | Interest::WRITABLE;
/// assert!(both.is_readable() && both.is_writable());
/// assert_eq!(both.remove(Interest::WRITABLE), Some(Interest::READABLE));
/// assert_eq!(Interest::READABLE.remove(Interest::READABLE), None);
/// assert_eq!(format!("{both:?}"), "READABLE | WRITABLE");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Interest(u8);

impl Interest {
    /// Readable: data to read, a connection to accept, or the peer hung up.
    pub const READABLE: Interest = Interest(READABLE);

    /// Writable: room in the send buffer, or a connect finished.
    pub const WRITABLE: Interest = Interest(WRITABLE);

    /// Both `self` and `other` (what `|` does, in a `const`).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::io::Interest;
    ///
    /// const BOTH: Interest = Interest::READABLE.add(Interest::WRITABLE);
    /// assert_eq!(BOTH, Interest::READABLE | Interest::WRITABLE);
    /// ```
    #[must_use]
    pub const fn add(self, other: Interest) -> Interest {
        Interest(self.0 | other.0)
    }

    /// `self` without `other`, or `None` if nothing is left (an interest is never empty).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::io::Interest;
    ///
    /// let both = Interest::READABLE | Interest::WRITABLE;
    /// assert_eq!(both.remove(Interest::READABLE), Some(Interest::WRITABLE));
    /// assert_eq!(Interest::WRITABLE.remove(Interest::WRITABLE), None);
    /// ```
    #[must_use]
    pub const fn remove(self, other: Interest) -> Option<Interest> {
        match self.0 & !other.0 {
            0 => None,
            bits => Some(Interest(bits)),
        }
    }

    /// Whether reading is of interest.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::io::Interest;
    ///
    /// assert!(Interest::READABLE.is_readable());
    /// assert!(!Interest::WRITABLE.is_readable());
    /// ```
    pub const fn is_readable(self) -> bool {
        self.0 & READABLE != 0
    }

    /// Whether writing is of interest.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::io::Interest;
    ///
    /// assert!(Interest::WRITABLE.is_writable());
    /// assert!(!Interest::READABLE.is_writable());
    /// ```
    pub const fn is_writable(self) -> bool {
        self.0 & WRITABLE != 0
    }

    /// The same interest in mio's terms, for the poller.
    pub(crate) fn to_mio(self) -> mio::Interest {
        match (self.is_readable(), self.is_writable()) {
            (true, true) => mio::Interest::READABLE | mio::Interest::WRITABLE,
            (true, false) => mio::Interest::READABLE,
            (false, true) => mio::Interest::WRITABLE,
            (false, false) => unreachable!("an Interest is never empty"),
        }
    }
}

impl BitOr for Interest {
    type Output = Interest;

    fn bitor(self, other: Interest) -> Interest {
        self.add(other)
    }
}

impl BitOrAssign for Interest {
    fn bitor_assign(&mut self, other: Interest) {
        *self = self.add(other);
    }
}

impl fmt::Debug for Interest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut separator = "";
        for (bit, name) in [(READABLE, "READABLE"), (WRITABLE, "WRITABLE")] {
            if self.0 & bit != 0 {
                write!(f, "{separator}{name}")?;
                separator = " | ";
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Interest;

    #[test]
    fn converts_to_mio() {
        assert_eq!(Interest::READABLE.to_mio(), mio::Interest::READABLE);
        assert_eq!(Interest::WRITABLE.to_mio(), mio::Interest::WRITABLE);
        assert_eq!(
            (Interest::READABLE | Interest::WRITABLE).to_mio(),
            mio::Interest::READABLE | mio::Interest::WRITABLE
        );
    }

    #[test]
    fn bitor_assign_adds() {
        let mut interest = Interest::READABLE;
        interest |= Interest::WRITABLE;
        assert_eq!(interest, Interest::READABLE.add(Interest::WRITABLE));
        assert_eq!(format!("{:?}", Interest::WRITABLE), "WRITABLE");
    }
}
