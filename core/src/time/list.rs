//! The timer queue of the `small-timer-queue` feature: one sorted, intrusive list of task headers.
//!
//! The same interface as the timing wheel (the `wheel` source file), for small targets with a handful of
//! tasks: the queue itself is a list head and a time (16 bytes), against the wheel's 6 × 64 list
//! heads, and its code is a fraction of the wheel's. Inserting (and moving a timer earlier) walks
//! the list, so it is O(n) in the number of queued timers; expiring is O(1) per timer.
//!
//! # Design
//!
//! The entries are task headers, linked through the `next` field of their timer link (with this
//! feature the link has no `prev` field: the headers are 8 bytes smaller), in ascending order of deadline; entries with equal deadlines
//! keep the order they were queued in. The list also keeps `elapsed`, the time it has been
//! advanced to: the entries due then are the ones at the front with `expires_at <= elapsed`.
//!
//! When the list is the whole timer queue (`task-timers-only` too: no foreign-waker table), it
//! keeps no `elapsed` (8 bytes less, as embassy's queue): a deadline that has passed is queued
//! like any other, and [`SortedList::pop_due`] takes the entries due at the `now` it is given. The
//! queue's `schedule_wake` then says `true` for it if it comes first, and the driver's alarm,
//! lowered into the past, fires at once.
//!
//! ## Invariants
//!
//! 1. An entry is linked iff its `expires_at != u64::MAX` (as in the wheel).
//! 2. The list is sorted by `expires_at`, ascending, and ends in `null`.
//!
//! [`SortedList::check_invariants`] checks both (tests only). The pointers follow the entry's
//! ground rules: every header comes from a `'static` task slot, and its link is only used under
//! the queue's lock, which `&mut SortedList` stands for. Every pointer access goes through the
//! accessors of the `entry` source file.

use core::ptr::NonNull;

use super::entry::{expires_at, next, set_expires_at, set_next, Scheduled};
use crate::raw::header::Header;
#[cfg(not(feature = "task-timers-only"))]
use crate::raw::header::{deadline_bits, deadline_value, DeadlineBits};

/// A sorted intrusive list of task headers. See the [module docs](self).
pub(crate) struct SortedList {
    /// The time the list has been advanced to (in two 32-bit halves on 32-bit targets, so that
    /// the list is 4-byte aligned and the timer queue around it packs without padding). Not kept
    /// when the list is the whole queue (see the [module docs](self)).
    #[cfg(not(feature = "task-timers-only"))]
    elapsed: DeadlineBits,
    /// The entry with the earliest deadline.
    head: Option<NonNull<Header>>,
}

// SAFETY: the list only holds pointers to headers in `'static` task slots, which are `Sync`;
// moving the list to another thread moves nothing they point to.
unsafe impl Send for SortedList {}

impl SortedList {
    /// An empty list at time 0.
    pub(crate) const fn new() -> SortedList {
        SortedList {
            #[cfg(not(feature = "task-timers-only"))]
            elapsed: deadline_bits(0),
            head: None,
        }
    }

    /// The time the list has been advanced to.
    #[cfg(not(feature = "task-timers-only"))]
    pub(crate) fn elapsed(&self) -> u64 {
        deadline_value(self.elapsed)
    }

    /// Queues `task` to expire at `at`, or keeps its current deadline if that is earlier.
    ///
    /// # Safety
    ///
    /// `task` comes from a `'static` task slot, and its timer link belongs to this list's queue
    /// (the ground rules of the `entry` source file), whose lock the caller holds (`&mut self` comes from it).
    pub(crate) unsafe fn schedule(&mut self, task: NonNull<Header>, at: u64) -> Scheduled {
        // SAFETY: by the caller (every link access below); invariant 1 tells whether the task is
        // in the list.
        unsafe {
            let current = expires_at(task);
            // `u64::MAX` means "never", and also "not queued": both end up here.
            if at >= current {
                return Scheduled::Unchanged;
            }
            if current != u64::MAX {
                self.remove(task);
            }
            // Without `elapsed` a deadline that has passed is queued too (see the module docs).
            #[cfg(not(feature = "task-timers-only"))]
            if at <= self.elapsed() {
                set_expires_at(task, u64::MAX);
                return Scheduled::Expired;
            }
            self.insert(task, at);
        }
        Scheduled::Queued
    }

    /// Unlinks `task` if it is queued here; returns the deadline it had.
    ///
    /// # Safety
    ///
    /// As for [`schedule`](SortedList::schedule).
    // Only a move between queues unlinks an entry; with `one-timer-queue` none moves.
    #[cfg(not(feature = "one-timer-queue"))]
    pub(crate) unsafe fn unlink(&mut self, task: NonNull<Header>) -> Option<u64> {
        // SAFETY: by the caller; invariant 1 tells whether the task is in the list.
        unsafe {
            let when = expires_at(task);
            if when == u64::MAX {
                return None;
            }
            self.remove(task);
            set_expires_at(task, u64::MAX);
            Some(when)
        }
    }

    /// Links `task` for deadline `when`, after every entry due no later than `when`.
    ///
    /// # Safety
    ///
    /// As for [`schedule`](SortedList::schedule); `task` is not in the list.
    unsafe fn insert(&mut self, task: NonNull<Header>, when: u64) {
        debug_assert!(when != u64::MAX);
        // SAFETY: by the caller; every entry reached from `head` is in this list.
        unsafe {
            let mut before = None;
            let mut after = self.head;
            while let Some(entry) = after {
                if expires_at(entry) > when {
                    break;
                }
                before = Some(entry);
                after = next(entry);
            }
            set_expires_at(task, when);
            set_next(task, after);
            match before {
                None => self.head = Some(task),
                Some(before) => set_next(before, Some(task)),
            }
        }
    }

    /// Unlinks `task`, which is in the list; its `expires_at` is left as it was.
    ///
    /// # Safety
    ///
    /// As for [`schedule`](SortedList::schedule); `task` is in the list.
    unsafe fn remove(&mut self, task: NonNull<Header>) {
        // SAFETY: by the caller; every entry reached from `head` is in this list.
        unsafe {
            let rest = next(task);
            set_next(task, None);
            if self.head == Some(task) {
                self.head = rest;
                return;
            }
            let mut cursor = self.head;
            while let Some(entry) = cursor {
                let following = next(entry);
                if following == Some(task) {
                    set_next(entry, rest);
                    return;
                }
                cursor = following;
            }
        }
        debug_assert!(false, "a queued task is not in the timer list");
    }

    /// Whether `task` is the first entry (the one with the earliest deadline).
    #[cfg_attr(not(feature = "task-timers-only"), allow(dead_code))]
    pub(crate) fn is_first(&self, task: NonNull<Header>) -> bool {
        self.head == Some(task)
    }

    /// When the driver must next call [`advance`](SortedList::advance): the earliest deadline
    /// (`elapsed` if that has passed), or `None` if the list is empty.
    pub(crate) fn next_deadline(&self) -> Option<u64> {
        // SAFETY: the head is in this list; `&self` comes from the queue's lock.
        let first = unsafe { expires_at(self.head?) };
        #[cfg(not(feature = "task-timers-only"))]
        let first = first.max(self.elapsed());
        Some(first)
    }

    /// Advances the list to `now` (never back): the entries due then become
    /// [`pop_expired`](SortedList::pop_expired)'s.
    #[cfg(not(feature = "task-timers-only"))]
    pub(crate) fn advance(&mut self, now: u64) {
        self.elapsed = deadline_bits(self.elapsed().max(now));
    }

    /// Unlinks and returns the earliest entry if it is due, marking it not queued.
    #[cfg(not(feature = "task-timers-only"))]
    pub(crate) fn pop_expired(&mut self) -> Option<NonNull<Header>> {
        self.pop_due(self.elapsed())
    }

    /// Unlinks and returns the earliest entry if it is due at `now`, marking it not queued.
    pub(crate) fn pop_due(&mut self, now: u64) -> Option<NonNull<Header>> {
        let head = self.head?;
        // SAFETY: the head is in this list (ground rules).
        if unsafe { expires_at(head) } > now {
            return None;
        }
        self.pop_any()
    }

    /// Unlinks and returns any queued entry, expired or not (to empty the list).
    pub(crate) fn pop_any(&mut self) -> Option<NonNull<Header>> {
        let head = self.head?;
        // SAFETY: the head is in this list (ground rules).
        unsafe {
            self.head = next(head);
            set_next(head, None);
            set_expires_at(head, u64::MAX);
        }
        Some(head)
    }

    /// Moves an empty list to time `elapsed` (which may be in the past; without `elapsed`, only
    /// checks that the list is empty).
    #[cfg_attr(feature = "task-timers-only", allow(unused_variables))]
    pub(crate) fn reset(&mut self, elapsed: u64) {
        debug_assert!(self.head.is_none());
        #[cfg(not(feature = "task-timers-only"))]
        {
            self.elapsed = deadline_bits(elapsed);
        }
    }

    /// Checks the [invariants](self), panicking on the first broken one; returns the number of
    /// queued entries.
    pub(crate) fn check_invariants(&self) -> usize {
        let mut count = 0;
        let mut last = 0;
        let mut cursor = self.head;
        while let Some(entry) = cursor {
            // SAFETY: only entries of this list are visited (ground rules).
            let when = unsafe { expires_at(entry) };
            assert!(when != u64::MAX, "a linked entry is marked not queued");
            assert!(when >= last, "timer list out of order");
            last = when;
            count += 1;
            // SAFETY: as above.
            cursor = unsafe { next(entry) };
        }
        count
    }
}

// Loom's cells have no `const` constructor, which the `'static` test slots need.
#[cfg(all(test, not(loom)))]
mod tests {
    extern crate std;
    use std::vec::Vec;

    use super::*;
    use crate::raw::header::TaskSlot;

    /// Whether the list keeps `elapsed` (and so wakes a passed deadline at once).
    const KEEPS_ELAPSED: bool = cfg!(not(feature = "task-timers-only"));

    /// Takes every entry due at `now`, as the queue's `wake_expired(now)` does.
    fn drain(list: &mut SortedList, now: u64) -> Vec<NonNull<Header>> {
        #[cfg(not(feature = "task-timers-only"))]
        {
            list.advance(now);
            core::iter::from_fn(|| list.pop_expired()).collect()
        }
        #[cfg(feature = "task-timers-only")]
        core::iter::from_fn(|| list.pop_due(now)).collect()
    }

    #[test]
    fn fires_in_deadline_order_and_keeps_the_earlier_deadline() {
        static SLOTS: [TaskSlot<8>; 4] = [const { TaskSlot::new() }; 4];
        let tasks: Vec<_> = SLOTS.iter().map(TaskSlot::header_ptr).collect();
        let mut list = SortedList::new();
        // SAFETY: `'static` slots, used by this list only.
        unsafe {
            assert_eq!(list.schedule(tasks[0], 30), Scheduled::Queued);
            assert_eq!(list.schedule(tasks[1], 10), Scheduled::Queued);
            assert_eq!(list.schedule(tasks[2], 20), Scheduled::Queued);
            assert_eq!(list.schedule(tasks[3], 20), Scheduled::Queued);
            assert_eq!(list.schedule(tasks[0], 40), Scheduled::Unchanged);
            assert_eq!(list.schedule(tasks[0], 5), Scheduled::Queued);
        }
        assert_eq!(list.check_invariants(), 4);
        assert_eq!(list.next_deadline(), Some(5));
        assert_eq!(
            drain(&mut list, 20),
            [tasks[0], tasks[1], tasks[2], tasks[3]]
        );
        assert_eq!(list.next_deadline(), None);
        // A deadline that has passed (the list was drained at 20): woken at once where the list
        // keeps `elapsed`, else queued and due at the next drain.
        // SAFETY: as above.
        let passed = unsafe { list.schedule(tasks[1], 20) };
        if KEEPS_ELAPSED {
            assert_eq!(passed, Scheduled::Expired);
        } else {
            assert_eq!(passed, Scheduled::Queued);
            assert_eq!(list.next_deadline(), Some(20));
            assert_eq!(drain(&mut list, 20), [tasks[1]]);
        }
        // SAFETY: as above.
        unsafe {
            assert_eq!(list.schedule(tasks[1], 25), Scheduled::Queued);
            assert_eq!(list.schedule(tasks[2], 26), Scheduled::Queued);
        }
        // Moved earlier, to a time that has passed: unlinked and woken at once, or moved to the
        // front.
        // SAFETY: as above.
        let moved = unsafe { list.schedule(tasks[2], 15) };
        if KEEPS_ELAPSED {
            assert_eq!(moved, Scheduled::Expired);
            assert_eq!(list.check_invariants(), 1);
        } else {
            assert_eq!(moved, Scheduled::Queued);
            assert_eq!(list.check_invariants(), 2);
            assert!(list.is_first(tasks[2]));
            assert_eq!(list.pop_any(), Some(tasks[2]));
        }
        assert_eq!(list.pop_any(), Some(tasks[1]));
        assert_eq!(list.check_invariants(), 0);
        list.reset(0);
        #[cfg(not(feature = "task-timers-only"))]
        assert_eq!(list.elapsed(), 0);
    }

    #[test]
    fn random_model() {
        const N: usize = if cfg!(miri) { 8 } else { 64 };
        static SLOTS: [TaskSlot<8>; N] = [const { TaskSlot::new() }; N];
        let tasks: Vec<_> = SLOTS.iter().map(TaskSlot::header_ptr).collect();
        let mut list = SortedList::new();
        let mut model: Vec<u64> = std::vec![u64::MAX; N];
        let mut rand = crate::time::test_rng();
        let rounds = if cfg!(miri) { 60 } else { 5000 };
        // The time of the last drain.
        let mut now: u64 = 0;
        for _ in 0..rounds {
            let r = rand();
            let task = (r % N as u64) as usize;
            if (r >> 8) % 3 < 2 {
                // Deadlines from a little before the last drain on.
                let at = now
                    .saturating_sub(20)
                    .saturating_add(rand() % 200)
                    .min(u64::MAX - 1);
                // SAFETY: `'static` slots, used by this list only.
                let result = unsafe { list.schedule(tasks[task], at) };
                if at >= model[task] {
                    assert_eq!(result, Scheduled::Unchanged);
                } else if at <= now && KEEPS_ELAPSED {
                    assert_eq!(result, Scheduled::Expired);
                    model[task] = u64::MAX;
                } else {
                    assert_eq!(result, Scheduled::Queued);
                    model[task] = at;
                }
            } else {
                now += rand() % 100;
                let mut last = 0;
                for fired in drain(&mut list, now) {
                    let i = tasks.iter().position(|t| *t == fired).unwrap();
                    assert!(model[i] <= now && model[i] >= last, "early or out of order");
                    last = model[i];
                    model[i] = u64::MAX;
                }
                assert!(model.iter().all(|&at| at == u64::MAX || at > now));
            }
            let queued = model.iter().filter(|&&at| at != u64::MAX).count();
            assert_eq!(list.check_invariants(), queued);
            let earliest = model.iter().copied().filter(|&at| at != u64::MAX).min();
            let expected = if KEEPS_ELAPSED {
                earliest.map(|at| at.max(now))
            } else {
                earliest
            };
            assert_eq!(list.next_deadline(), expected);
        }
        while list.pop_any().is_some() {}
    }
}
