//! [`Ring`]: the channel's messages, a fixed ring of `N` slots, and its [`Cursor`]: where the
//! oldest message is and how many there are.
//!
//! *Here be `unsafe`*: the ring reads its slots as initialised on the word of its cursor, and this
//! file is the only place that does.
//!
//! It does what `heapless::Deque` did for the channel, with the length kept as a field: a send and
//! a receive are a few instructions each (the channel asks for the length on every grant and
//! every `len`, which the deque computed with branches), and `len` inlines to one load, where the
//! deque's was a call on small targets.
//!
//! The cursor is kept apart from the slots, in the channel's `Control` (beside them, under the
//! same lock): there its offset does not depend on the message type or the capacity, so the
//! channel's non-generic code reads the count itself instead of being passed it, and the code
//! that only counts messages, or forgets them all (a receiver's drop, for messages without a
//! destructor), is the same for every channel. A ring is only ever used with the one cursor it
//! was made with; the methods take it as an argument.
//!
//! # Invariant
//!
//! Of a ring and its cursor: `head < N` (the channel asserts `N > 0`) and `len <= N`; the slots
//! `head, head + 1, ..., head + len - 1` (modulo `N`) hold initialised messages, oldest first, and
//! no other slot does. Every method keeps it, and a method that moves a message out updates the
//! cursor first, so that no path (not even an unwinding one) can read or drop that message twice.

use core::mem::MaybeUninit;

/// Where a [`Ring`]'s messages are: the oldest one's slot and how many there are.
#[derive(Debug)]
pub(in crate::sync) struct Cursor {
    /// The oldest message's slot (`< N`; any value below `N` when empty).
    head: usize,
    /// How many messages are queued (`<= N`).
    len: usize,
}

impl Cursor {
    /// An empty ring's cursor (all zeros: a `static` channel stays in `.bss`).
    pub(in crate::sync) const fn new() -> Cursor {
        Cursor { head: 0, len: 0 }
    }

    /// How many messages are queued.
    #[inline(always)]
    pub(in crate::sync) fn len(&self) -> usize {
        self.len
    }

    #[inline(always)]
    pub(in crate::sync) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Forgets every message at once: only for messages without a destructor (nothing is
    /// dropped). Not generic: the same code for every channel.
    #[inline(always)]
    pub(in crate::sync) fn forget_all(&mut self) {
        self.len = 0;
    }
}

/// Up to `N` messages, oldest first, where its [`Cursor`] says.
pub(in crate::sync) struct Ring<T, const N: usize> {
    slots: [MaybeUninit<T>; N],
}

impl<T, const N: usize> Ring<T, N> {
    /// An empty ring (with [`Cursor::new`]).
    pub(in crate::sync) const fn new() -> Ring<T, N> {
        Ring {
            slots: [const { MaybeUninit::uninit() }; N],
        }
    }

    /// `index` brought below `N`, for an `index` below `2 * N` (a slot below `N` plus at most
    /// `N`). A power-of-two `N` (the usual capacity) takes a mask, one instruction with no
    /// branch; any other `N` takes one conditional subtraction. `N` is a constant, so only one
    /// of the two is built.
    #[inline(always)]
    fn wrap(index: usize) -> usize {
        debug_assert!(index < N || index - N < N);
        if N.is_power_of_two() {
            index & (N - 1)
        } else if index >= N {
            index - N
        } else {
            index
        }
    }

    /// Appends `value`, or gives it back if the ring is full.
    #[inline]
    pub(in crate::sync) fn push_back(&mut self, at: &mut Cursor, value: T) -> Result<(), T> {
        if at.len >= N {
            return Err(value);
        }
        let index = Self::wrap(at.head + at.len);
        debug_assert!(index < N);
        // SAFETY: `index < N` (above), in bounds. The slot is the one after the newest message,
        // not one of the `len` initialised ones (`len < N`): writing it overwrites nothing that
        // needs dropping, and counting it in `len` keeps the invariant.
        unsafe { self.slots.get_unchecked_mut(index) }.write(value);
        at.len += 1;
        Ok(())
    }

    /// Takes the oldest message out.
    #[inline]
    pub(in crate::sync) fn pop_front(&mut self, at: &mut Cursor) -> Option<T> {
        if at.len == 0 {
            return None;
        }
        let index = at.head;
        // First the cursor, so that the slot is no longer counted once it is read.
        at.head = Self::wrap(index + 1);
        at.len -= 1;
        debug_assert!(index < N);
        // SAFETY: `index` was `head` (`< N`, in bounds) with `len > 0`: the oldest initialised
        // message. The cursor no longer covers it, so it is read out exactly once.
        Some(unsafe { self.slots.get_unchecked(index).assume_init_read() })
    }

    /// Drops every message, oldest first (or, without destructors, forgets them at once). If a
    /// destructor panics, the messages after it stay counted, to be dropped by a later `clear`.
    pub(in crate::sync) fn clear(&mut self, at: &mut Cursor) {
        if core::mem::needs_drop::<T>() {
            while let Some(message) = self.pop_front(at) {
                drop(message);
            }
        } else {
            at.forget_all();
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    extern crate std;
    use std::collections::VecDeque;
    use std::rc::Rc;

    use super::{Cursor, Ring};

    /// A ring with its cursor, dropping what is left when dropped, as the channel's state does.
    struct Paired<T, const N: usize> {
        at: Cursor,
        ring: Ring<T, N>,
    }

    impl<T, const N: usize> Paired<T, N> {
        fn new() -> Self {
            Paired {
                at: Cursor::new(),
                ring: Ring::new(),
            }
        }
        fn push_back(&mut self, value: T) -> Result<(), T> {
            self.ring.push_back(&mut self.at, value)
        }
        fn pop_front(&mut self) -> Option<T> {
            self.ring.pop_front(&mut self.at)
        }
        fn clear(&mut self) {
            self.ring.clear(&mut self.at)
        }
        fn len(&self) -> usize {
            self.at.len()
        }
        fn is_empty(&self) -> bool {
            self.at.is_empty()
        }
    }

    impl<T, const N: usize> Drop for Paired<T, N> {
        fn drop(&mut self) {
            self.clear();
        }
    }

    /// Pushes and pops in patterns that walk `head` round the ring many times, against a
    /// `VecDeque`.
    fn walk_round<const N: usize>() {
        let mut ring: Paired<u32, N> = Paired::new();
        let mut model = VecDeque::new();
        for pattern in 2u32..6 {
            for step in 0u32..200 {
                if step % pattern != pattern - 1 {
                    let pushed = ring.push_back(step);
                    if model.len() < N {
                        assert_eq!(pushed, Ok(()));
                        model.push_back(step);
                    } else {
                        assert_eq!(pushed, Err(step));
                    }
                } else {
                    assert_eq!(ring.pop_front(), model.pop_front());
                }
                assert_eq!(ring.len(), model.len());
                assert_eq!(ring.is_empty(), model.is_empty());
            }
        }
    }

    #[test]
    fn fifo_wraps_around_and_refuses_when_full() {
        // Capacities that wrap by a mask (powers of two) and by a subtraction (the others).
        walk_round::<1>();
        walk_round::<2>();
        walk_round::<3>();
        walk_round::<4>();
        walk_round::<5>();
        walk_round::<8>();
    }

    #[test]
    fn every_message_is_dropped_once() {
        let counter = Rc::new(());
        {
            let mut ring: Paired<Rc<()>, 4> = Paired::new();
            for _ in 0..3 {
                ring.push_back(counter.clone()).unwrap();
            }
            drop(ring.pop_front());
            ring.push_back(counter.clone()).unwrap();
            ring.push_back(counter.clone()).unwrap();
            assert_eq!(Rc::strong_count(&counter), 5);
            ring.clear();
            assert_eq!(Rc::strong_count(&counter), 1);
            ring.push_back(counter.clone()).unwrap();
            ring.push_back(counter.clone()).unwrap();
            assert_eq!(Rc::strong_count(&counter), 3);
            // The ring's own drop takes the rest.
        }
        assert_eq!(Rc::strong_count(&counter), 1);
    }

    #[test]
    fn a_panicking_destructor_leaks_the_rest_and_drops_nothing_twice() {
        use std::cell::Cell;
        use std::panic::{catch_unwind, AssertUnwindSafe};

        std::thread_local!(static DROPS: Cell<u32> = const { Cell::new(0) });
        struct Loud(bool);
        impl Drop for Loud {
            fn drop(&mut self) {
                DROPS.with(|d| d.set(d.get() + 1));
                if self.0 {
                    panic!("a message's destructor panicked");
                }
            }
        }
        let mut ring: Paired<Loud, 4> = Paired::new();
        ring.push_back(Loud(false)).ok().unwrap();
        ring.push_back(Loud(true)).ok().unwrap();
        ring.push_back(Loud(false)).ok().unwrap();
        assert!(catch_unwind(AssertUnwindSafe(|| ring.clear())).is_err());
        // The first two were dropped (the second panicked); the third is still counted and is
        // dropped once, by the ring's own drop.
        assert_eq!(DROPS.with(Cell::get), 2);
        assert_eq!(ring.len(), 1);
        drop(ring);
        assert_eq!(DROPS.with(Cell::get), 3);
    }
}
