//! The head of a [`TaskPool`](crate::TaskPool): its name and its search hint, in two words; and
//! the empty hint of a [`TaskCell`](crate::TaskCell), which has no head.

use core::ptr;
use core::{slice, str};

use super::task::SearchHint;
use crate::loom::{AtomicU16, Ordering};

/// A static pool's name and where its next search for a free slot starts, packed so that the
/// head is 8 bytes on 32-bit targets (16 on 64-bit). The slots after it are 8-byte aligned
/// (16-byte on 64-bit), so a head of a fat `&str` and a word-sized hint, 12 bytes, would take 16
/// (and 24 would take 32): the packing saves 8 bytes (16) of RAM per pool.
///
/// The name is a `&'static str` taken apart: its pointer (null for a pool without a name, so that
/// an unnamed pool is all zeros and a `static` one goes to `.bss`) and its length in 16 bits. The
/// hint is 16 bits: in a pool of more than 65,536 slots a search may start below the last claim,
/// which only makes that search longer.
#[derive(Debug)]
pub(crate) struct PoolHead {
    /// The name's first byte, or null for none.
    name: *const u8,
    /// The name's length in bytes.
    name_len: u16,
    /// Where the next search for a free slot starts (one past the last slot taken), truncated.
    next: AtomicU16,
}

// SAFETY: `name` and `name_len` are a `&'static str` taken apart (see `new`), never written after
// `new`: sending or sharing them is sending or sharing a `&'static str`. `next` is atomic.
unsafe impl Send for PoolHead {}
// SAFETY: as above.
unsafe impl Sync for PoolHead {}

impl PoolHead {
    crate::loom_const_fn! {
        /// A head for a pool named `name` (or unnamed), whose next search starts at the first slot.
        ///
        /// # Panics
        ///
        /// If `name` is longer than 65,535 bytes (at compile time for a `static` pool).
        pub(crate) fn new(name: Option<&'static str>) -> PoolHead {
            let (name, name_len) = match name {
                Some(name) => {
                    assert!(
                        name.len() <= u16::MAX as usize,
                        "a TaskPool's name is at most 65,535 bytes long"
                    );
                    (name.as_ptr(), name.len() as u16)
                }
                None => (ptr::null(), 0),
            };
            PoolHead { name, name_len, next: AtomicU16::new(0) }
        }
    }

    /// The name given to [`new`](PoolHead::new).
    pub(crate) fn name(&self) -> Option<&'static str> {
        if self.name.is_null() {
            return None;
        }
        // SAFETY: a non-null `name` and `name_len` are the pointer and the whole length of a
        // `&'static str` (`new` refuses longer names than `name_len` holds), unchanged since:
        // `name_len` bytes of valid UTF-8 from `name`, alive and immutable forever.
        Some(unsafe {
            str::from_utf8_unchecked(slice::from_raw_parts(self.name, usize::from(self.name_len)))
        })
    }
}

impl SearchHint for PoolHead {
    #[inline]
    fn start(&self) -> usize {
        usize::from(self.next.load(Ordering::Relaxed))
    }

    #[inline]
    fn set(&self, next: usize) {
        // Truncated in pools of more than 65,536 slots: see the type's docs.
        self.next.store(next as u16, Ordering::Relaxed);
    }
}

/// The search hint of a one-slot pool ([`TaskCell`](crate::TaskCell)): every search starts at its
/// only slot, so there is nothing to remember, and the cell needs no head at all.
#[derive(Debug)]
pub(crate) struct NoHint;

impl SearchHint for NoHint {
    const ONE_SLOT: bool = true;

    #[inline(always)]
    fn start(&self) -> usize {
        0
    }

    #[inline(always)]
    fn set(&self, _next: usize) {}
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn names_come_back_whole() {
        assert_eq!(PoolHead::new(None).name(), None);
        assert_eq!(PoolHead::new(Some("")).name(), Some(""));
        assert_eq!(PoolHead::new(Some("net")).name(), Some("net"));
        static LONGEST: [u8; 65_535] = [b'x'; 65_535];
        let longest = str::from_utf8(&LONGEST).unwrap();
        assert_eq!(PoolHead::new(Some(longest)).name(), Some(longest));
        assert_eq!(PoolHead::new(Some("ünïcödé")).name(), Some("ünïcödé"));
    }

    #[test]
    #[should_panic(expected = "at most 65,535 bytes")]
    fn a_longer_name_is_refused() {
        static TOO_LONG: [u8; 65_536] = [b'x'; 65_536];
        let _ = PoolHead::new(Some(str::from_utf8(&TOO_LONG).unwrap()));
    }

    #[test]
    fn the_hint_keeps_16_bits() {
        let head = PoolHead::new(None);
        assert_eq!(head.start(), 0);
        head.set(65_535);
        assert_eq!(head.start(), 65_535);
        head.set(65_537);
        assert_eq!(head.start(), 1);
    }

    #[test]
    fn the_head_is_two_words() {
        assert_eq!(size_of::<PoolHead>(), 2 * size_of::<usize>());
    }
}
