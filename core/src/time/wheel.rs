//! The hierarchical timing wheel behind the timer queue: intrusive, allocation-free, O(1).
//!
//! The wheel reaches its entries only through the link accessors of the `entry` source file,
//! where every dereference of a task header's pointer lives.
//!
//! # Design
//!
//! The entries are task headers, linked through their [`TimerLink`] (`expires_at`, `prev`,
//! `next`). The wheel has [`LEVELS`] levels of [`SLOTS`] slots; a slot at level `L` covers
//! `64^L` ticks, so level 0 holds deadlines to the tick and the wheel spans an *epoch* of
//! `64^6 = 2^36` ticks (about 19 hours at 1 MHz). A deadline goes to the level of the highest
//! 6-bit digit in which it differs from `elapsed` (the time the wheel has been advanced to), and
//! to the slot named by its own digit at that level. A deadline in a later epoch (differing from
//! `elapsed` above bit 36) goes to the unsorted `overflow` list, whose smallest deadline is
//! remembered; when time reaches the start of that deadline's epoch, the list is walked once and
//! the entries of the new epoch move into the wheel. Far timers are rare, so the walk is too.
//!
//! Each level has a `u64` bitmap of occupied slots, so the next slot to expire is found with a
//! rotate and a `trailing_zeros` per level, never by walking entries. When time reaches a slot's
//! start, its whole list is taken: entries whose deadline has come go to the `pending` list (in
//! order), the others *cascade* to a lower level, where they land in a finer slot. Each entry
//! cascades at most once per level, so insert, remove and expiry are all O(1) amortised.
//!
//! ## Invariants
//!
//! 1. An entry is linked iff its `expires_at != u64::MAX`.
//! 2. An entry with `expires_at <= elapsed` is in `pending`; every other linked entry is where
//!    [`position`]`(elapsed, expires_at)` says (a level and slot, or `overflow`), so removal finds
//!    its list from the deadline alone. Every slot's entries lie after the start of the slot and
//!    before the end of the current epoch; advancing `elapsed` never crosses an occupied slot's
//!    start (or the start of `overflow_min`'s epoch) without processing it, which keeps this
//!    true.
//! 3. Lists are doubly linked with a `null`-terminated `next`; the head's `prev` points to the
//!    tail (so a list is one pointer and still appends in O(1)); bit `s` of `occupied[L]` is set
//!    iff slot `s` of level `L` is non-empty.
//! 4. `overflow_min` is `u64::MAX` iff `overflow` is empty. Otherwise it is at most every
//!    deadline in `overflow` (it may be stale-early after a removal, which only costs an early
//!    walk) and lies in a later epoch than `elapsed`, so the start of its epoch, where the walk
//!    happens, is always in the future. An empty `overflow` must not keep an old value: time may
//!    then pass that value's epoch without a walk, and a later far timer would inherit a
//!    deadline in the past (the wheel would report it, and walk at it, moving `elapsed` back).
//!
//! [`Wheel::check_invariants`] checks all of this (tests only).
//!
//! With the `small-timer-queue` feature the driver uses the sorted list of the `list` source file
//! instead, and this file is not built; both reach the links through the accessors of the `entry`
//! source file.
//!
//! ## Ground rules for the pointers
//!
//! Every header put into a wheel comes from a `'static` task slot (ebbtide's ground rule 1), so
//! it stays valid forever. A header's [`TimerLink`] belongs to the timer queue that its `queue`
//! field names (see [`TimerLink`] for how that field changes hands), and is only read or written
//! while that queue's lock is held (which `&mut Wheel` stands for): a queue claims an entry
//! before it links it, and gives it up when it unlinks it. The `unsafe fn`s below ask their
//! caller for exactly this.

use core::ptr::NonNull;

use super::entry::{
    expires_at, next, prev, set_expires_at, set_next, set_prev, Deadline, Scheduled,
};
use crate::raw::header::Header;

/// The number of levels.
pub(crate) const LEVELS: usize = 6;
/// Slots per level.
pub(crate) const SLOTS: usize = 64;
/// Bits of a deadline per level.
const LEVEL_BITS: u32 = 6;
const SLOT_MASK: u64 = SLOTS as u64 - 1;
/// Ticks the whole wheel spans: `64^6`.
const HORIZON: u64 = 1 << (LEVEL_BITS * LEVELS as u32);

/// Where a deadline `when > elapsed` is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Position {
    /// In a slot of a level.
    Slot { level: usize, slot: usize },
    /// In the `overflow` list: a later epoch.
    Overflow,
}

/// Where deadline `when > elapsed` is kept; see invariant 2.
#[inline]
fn position(elapsed: u64, when: u64) -> Position {
    let masked = (elapsed ^ when) | SLOT_MASK;
    if masked >= HORIZON {
        return Position::Overflow;
    }
    let significant = u64::BITS - 1 - masked.leading_zeros();
    let level = (significant / LEVEL_BITS) as usize;
    let slot = ((when >> (level as u32 * LEVEL_BITS)) & SLOT_MASK) as usize;
    Position::Slot { level, slot }
}

/// An intrusive list: `next` runs from the head to the tail and ends in `null`; the head's
/// `prev` points to the tail, every other entry's `prev` to its predecessor.
#[derive(Clone, Copy)]
struct List {
    head: Option<NonNull<Header>>,
}

impl List {
    const EMPTY: List = List { head: None };

    #[inline]
    fn is_empty(&self) -> bool {
        self.head.is_none()
    }

    /// Appends `entry`.
    ///
    /// # Safety
    ///
    /// Module ground rules; `entry` is in no list.
    #[inline]
    unsafe fn push_back(&mut self, entry: NonNull<Header>) {
        // SAFETY: module ground rules, by the caller (every link access below).
        unsafe {
            set_next(entry, None);
            match self.head {
                None => {
                    set_prev(entry, Some(entry));
                    self.head = Some(entry);
                }
                Some(head) => {
                    let tail = prev(head).unwrap_or(head);
                    set_next(tail, Some(entry));
                    set_prev(entry, Some(tail));
                    set_prev(head, Some(entry));
                }
            }
        }
    }

    /// Unlinks `entry`, which is in this list.
    ///
    /// # Safety
    ///
    /// Module ground rules; `entry` is in this list.
    #[inline]
    unsafe fn remove(&mut self, entry: NonNull<Header>) {
        // SAFETY: module ground rules, by the caller (every link access below).
        unsafe {
            let next = next(entry);
            let prev = prev(entry);
            if self.head == Some(entry) {
                self.head = next;
                if let Some(next) = next {
                    // The new head's `prev` is the tail, which `entry`'s `prev` was.
                    set_prev(next, prev);
                }
            } else {
                let prev = prev.expect("a non-head list entry has a predecessor");
                set_next(prev, next);
                match next {
                    Some(next) => set_prev(next, Some(prev)),
                    // `entry` was the tail: the head now points to the new tail.
                    None => set_prev(self.head.expect("non-empty list"), Some(prev)),
                }
            }
            set_next(entry, None);
            set_prev(entry, None);
        }
    }

    /// Unlinks and returns the head.
    ///
    /// # Safety
    ///
    /// Module ground rules.
    #[inline]
    unsafe fn pop_front(&mut self) -> Option<NonNull<Header>> {
        let head = self.head?;
        // SAFETY: `head` is in this list; module ground rules by the caller.
        unsafe { self.remove(head) };
        Some(head)
    }
}

/// The next list to process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Expiration {
    /// What to process: a slot, or the overflow list.
    position: Position,
    /// When: the start of the slot (or of the epoch); no entry in it expires earlier.
    deadline: u64,
}

/// A hierarchical timing wheel of task headers. See the [module docs](self).
pub(crate) struct Wheel {
    /// The time the wheel has been advanced to.
    elapsed: u64,
    /// Bit `s` of `occupied[L]` is set iff `slots[L][s]` is non-empty.
    occupied: [u64; LEVELS],
    slots: [[List; SLOTS]; LEVELS],
    /// Entries in later epochs than `elapsed`, unsorted.
    overflow: List,
    /// At most the smallest deadline in `overflow`; `u64::MAX` when it is empty.
    overflow_min: Deadline,
    /// Entries whose deadline has passed, in deadline order, waiting to be woken.
    pending: List,
}

// SAFETY: the wheel only holds pointers to headers in `'static` task slots, which are `Sync`;
// moving the wheel to another thread moves nothing they point to.
unsafe impl Send for Wheel {}

impl Wheel {
    /// An empty wheel at time 0.
    pub(crate) const fn new() -> Wheel {
        Wheel {
            elapsed: 0,
            occupied: [0; LEVELS],
            slots: [[List::EMPTY; SLOTS]; LEVELS],
            overflow: List::EMPTY,
            overflow_min: Deadline::NONE,
            pending: List::EMPTY,
        }
    }

    /// The time the wheel has been advanced to.
    pub(crate) fn elapsed(&self) -> u64 {
        self.elapsed
    }

    /// Queues `task` to expire at `at`, or keeps its current deadline if that is earlier.
    ///
    /// # Safety
    ///
    /// `task` comes from a `'static` task slot, and its timer link belongs to this wheel's queue
    /// (the module's ground rules), whose lock the caller holds (`&mut self` comes from it).
    pub(crate) unsafe fn schedule(&mut self, task: NonNull<Header>, at: u64) -> Scheduled {
        // SAFETY: by the caller (every link access and list operation below); invariants 1, 2 tell
        // which list a linked task is in.
        unsafe {
            let current = expires_at(task);
            // `u64::MAX` means "never", and also "not queued": both end up here.
            if at >= current {
                return Scheduled::Unchanged;
            }
            if current != u64::MAX {
                self.remove(task);
            }
            if at <= self.elapsed {
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
    /// As for [`schedule`](Wheel::schedule).
    // Only a move between queues unlinks an entry; with `one-timer-queue` none moves.
    #[cfg(not(feature = "one-timer-queue"))]
    pub(crate) unsafe fn unlink(&mut self, task: NonNull<Header>) -> Option<u64> {
        // SAFETY: by the caller; invariant 1 tells whether the task is linked.
        unsafe {
            let when = expires_at(task);
            if when == u64::MAX {
                return None;
            }
            self.remove(task);
            Some(when)
        }
    }

    /// Links `task` for deadline `when > elapsed`.
    ///
    /// # Safety
    ///
    /// Module ground rules; `task` is in no list.
    unsafe fn insert(&mut self, task: NonNull<Header>, when: u64) {
        debug_assert!(when > self.elapsed && when != u64::MAX);
        // SAFETY: by the caller.
        unsafe {
            set_expires_at(task, when);
            match position(self.elapsed, when) {
                Position::Slot { level, slot } => {
                    self.slots[level][slot].push_back(task);
                    self.occupied[level] |= 1 << slot;
                }
                Position::Overflow => {
                    // Invariant 4: a minimum is only kept while the list is non-empty (and `when`
                    // is in a later epoch than `elapsed`, so the minimum stays in one).
                    let min = if self.overflow.is_empty() {
                        when
                    } else {
                        self.overflow_min.get().min(when)
                    };
                    self.overflow.push_back(task);
                    self.overflow_min = Deadline::new(min);
                }
            }
        }
    }

    /// Unlinks the queued `task` and marks it not queued.
    ///
    /// # Safety
    ///
    /// Module ground rules; `task` is linked in this wheel.
    unsafe fn remove(&mut self, task: NonNull<Header>) {
        // SAFETY: by the caller; invariant 2 names the list.
        unsafe {
            let when = expires_at(task);
            if when <= self.elapsed {
                self.pending.remove(task);
            } else {
                match position(self.elapsed, when) {
                    Position::Slot { level, slot } => {
                        self.slots[level][slot].remove(task);
                        if self.slots[level][slot].is_empty() {
                            self.occupied[level] &= !(1 << slot);
                        }
                    }
                    Position::Overflow => {
                        self.overflow.remove(task);
                        self.forget_overflow_min_if_empty();
                    }
                }
            }
            set_expires_at(task, u64::MAX);
        }
    }

    /// Keeps invariant 4 after an entry left `overflow`: if it is empty now, its minimum goes.
    /// (If not, the minimum may be early, which only costs an early walk.)
    #[inline]
    fn forget_overflow_min_if_empty(&mut self) {
        if self.overflow.is_empty() {
            self.overflow_min = Deadline::NONE;
        }
    }

    /// The next list to process: the first occupied slot after `elapsed` of the lowest occupied
    /// level, or else the overflow list at the start of its earliest epoch.
    ///
    /// A level's entries all lie before any occupied slot of the levels above, and every slot
    /// before the end of the current epoch (invariant 2), so this order is the time order.
    fn next_expiration(&self) -> Option<Expiration> {
        for level in 0..LEVELS {
            let occupied = self.occupied[level];
            if occupied == 0 {
                continue;
            }
            let shift = level as u32 * LEVEL_BITS;
            let slot_range = 1u64 << shift;
            let level_range = slot_range << LEVEL_BITS;
            // The current slot and those before it are empty: entries differ from `elapsed`
            // in this level's digit and are later.
            let now_slot = (self.elapsed >> shift) & SLOT_MASK;
            debug_assert_eq!(occupied & (u64::MAX >> (63 - now_slot)), 0);
            let slot = occupied.trailing_zeros() as usize;
            // No overflow: `level_start + level_range - 1` is at most `u64::MAX`.
            let deadline = (self.elapsed & !(level_range - 1)) + slot as u64 * slot_range;
            debug_assert!(deadline > self.elapsed);
            return Some(Expiration {
                position: Position::Slot { level, slot },
                deadline,
            });
        }
        if self.overflow.is_empty() {
            return None;
        }
        // Invariant 4: `overflow_min` is in a later epoch than `elapsed`, so this is after it.
        let deadline = self.overflow_min.get() & !(HORIZON - 1);
        debug_assert!(deadline > self.elapsed);
        Some(Expiration {
            position: Position::Overflow,
            deadline,
        })
    }

    /// When the driver must next call [`advance`](Wheel::advance): now if some entries are
    /// pending, otherwise the start of the next occupied slot (never later than the earliest
    /// deadline, possibly earlier, when that slot only cascades).
    pub(crate) fn next_deadline(&self) -> Option<u64> {
        if !self.pending.is_empty() {
            return Some(self.elapsed);
        }
        self.next_expiration().map(|e| e.deadline)
    }

    /// Advances the wheel to `now`: every entry whose deadline is `<= now` moves to the pending
    /// list (see [`pop_expired`](Wheel::pop_expired)), in deadline order. Does nothing to the
    /// entries if `now` is not after the time the wheel is at.
    pub(crate) fn advance(&mut self, now: u64) {
        while let Some(expiration) = self.next_expiration() {
            if expiration.deadline > now {
                break;
            }
            self.process(expiration);
        }
        self.elapsed = self.elapsed.max(now);
    }

    /// Empties one list whose start time has come: expired entries go to `pending`, the others
    /// cascade to lower levels (or, from `overflow`, into the wheel or back to `overflow`).
    fn process(&mut self, expiration: Expiration) {
        let list = match expiration.position {
            Position::Slot { level, slot } => {
                self.occupied[level] &= !(1 << slot);
                core::mem::replace(&mut self.slots[level][slot], List::EMPTY)
            }
            Position::Overflow => {
                self.overflow_min = Deadline::NONE;
                core::mem::replace(&mut self.overflow, List::EMPTY)
            }
        };
        debug_assert!(expiration.deadline >= self.elapsed);
        // Never back, even if an invariant were broken: the entries below are placed relative to
        // whatever `elapsed` is, so this stays correct, and time seen by callers stays monotonic.
        self.elapsed = self.elapsed.max(expiration.deadline);
        let mut cursor = list.head;
        while let Some(entry) = cursor {
            // SAFETY: the entry was linked in this wheel, so it obeys the module ground rules;
            // `next` is read before the entry is relinked.
            unsafe {
                cursor = next(entry);
                let when = expires_at(entry);
                if when <= self.elapsed {
                    self.pending.push_back(entry);
                } else {
                    self.insert(entry, when);
                }
            }
        }
    }

    /// Unlinks and returns the earliest expired entry, marking it not queued.
    pub(crate) fn pop_expired(&mut self) -> Option<NonNull<Header>> {
        // SAFETY: the pending list only holds entries of this wheel (module ground rules).
        unsafe {
            let task = self.pending.pop_front()?;
            set_expires_at(task, u64::MAX);
            Some(task)
        }
    }

    /// Unlinks and returns any queued entry, expired or not (to empty the wheel).
    pub(crate) fn pop_any(&mut self) -> Option<NonNull<Header>> {
        if let Some(task) = self.pop_expired() {
            return Some(task);
        }
        let task = match self.occupied.iter().position(|&bits| bits != 0) {
            Some(level) => {
                let slot = self.occupied[level].trailing_zeros() as usize;
                // SAFETY: the slot's entries belong to this wheel (module ground rules).
                let task = unsafe { self.slots[level][slot].pop_front() };
                if self.slots[level][slot].is_empty() {
                    self.occupied[level] &= !(1 << slot);
                }
                task
            }
            None => {
                // SAFETY: as above.
                let task = unsafe { self.overflow.pop_front() };
                self.forget_overflow_min_if_empty();
                task
            }
        }?;
        // SAFETY: as above; the task is unlinked now.
        unsafe { set_expires_at(task, u64::MAX) };
        Some(task)
    }

    /// Moves an empty wheel to time `elapsed` (which may be in the past).
    pub(crate) fn reset(&mut self, elapsed: u64) {
        debug_assert!(self.is_empty());
        self.elapsed = elapsed;
        self.overflow_min = Deadline::NONE;
    }

    /// Whether no entry is queued.
    pub(crate) fn is_empty(&self) -> bool {
        self.pending.is_empty()
            && self.overflow.is_empty()
            && self.occupied.iter().all(|&bits| bits == 0)
    }

    /// Checks every invariant of the [module docs](self), panicking on the first broken one;
    /// returns the number of queued entries.
    pub(crate) fn check_invariants(&self) -> usize {
        let walk = |list: &List, check: &mut dyn FnMut(u64)| -> usize {
            let Some(head) = list.head else { return 0 };
            let mut count = 0;
            let mut previous: Option<NonNull<Header>> = None;
            let mut cursor = Some(head);
            // SAFETY: only entries of this wheel are visited (module ground rules).
            unsafe {
                while let Some(entry) = cursor {
                    count += 1;
                    if let Some(previous) = previous {
                        assert_eq!(prev(entry), Some(previous), "broken prev link");
                    }
                    check(expires_at(entry));
                    previous = Some(entry);
                    cursor = next(entry);
                }
                assert_eq!(prev(head), previous, "the head's prev must be the tail");
            }
            count
        };
        let mut last = 0;
        let mut total = walk(&self.pending, &mut |when| {
            assert!(when <= self.elapsed, "a pending entry is not expired");
            assert!(when >= last, "pending entries out of order");
            last = when;
        });
        if self.overflow.is_empty() {
            assert_eq!(
                self.overflow_min,
                Deadline::NONE,
                "an empty overflow list keeps a minimum"
            );
        } else {
            let min = self.overflow_min.get();
            assert!(
                min > self.elapsed && position(self.elapsed, min) == Position::Overflow,
                "overflow_min is not in a later epoch than elapsed"
            );
        }
        total += walk(&self.overflow, &mut |when| {
            assert!(
                when > self.elapsed && when != u64::MAX,
                "an expired entry in overflow"
            );
            assert_eq!(
                position(self.elapsed, when),
                Position::Overflow,
                "overflow entry in reach"
            );
            assert!(self.overflow_min.get() <= when, "overflow_min is too late");
        });
        for level in 0..LEVELS {
            for slot in 0..SLOTS {
                let list = &self.slots[level][slot];
                let bit = self.occupied[level] & (1 << slot) != 0;
                assert_eq!(
                    bit,
                    !list.is_empty(),
                    "occupied bit of level {level} slot {slot}"
                );
                total += walk(list, &mut |when| {
                    assert!(
                        when > self.elapsed && when != u64::MAX,
                        "an expired entry in a slot"
                    );
                    assert_eq!(
                        position(self.elapsed, when),
                        Position::Slot { level, slot },
                        "entry in the wrong slot"
                    );
                });
            }
        }
        total
    }
}

// Loom's cells have no `const` constructor, which the `'static` test slots need.
#[cfg(all(test, not(loom)))]
mod tests {
    extern crate std;
    use std::vec::Vec;

    use super::*;
    use crate::raw::header::TaskSlot;

    /// Headers of `'static` slots; each test has its own slots, so no two wheels share one.
    fn headers(slots: &'static [TaskSlot<8>]) -> Vec<NonNull<Header>> {
        slots.iter().map(TaskSlot::header_ptr).collect()
    }

    fn drain(wheel: &mut Wheel) -> Vec<NonNull<Header>> {
        core::iter::from_fn(|| wheel.pop_expired()).collect()
    }

    #[test]
    fn fires_in_deadline_order_across_levels() {
        static SLOTS: [TaskSlot<8>; 8] = [const { TaskSlot::new() }; 8];
        let tasks = headers(&SLOTS);
        let deadlines = [
            5u64,
            70,
            4_100,
            300_000,
            20_000_000,
            1 << 30,
            (1 << 36) + 3,
            u64::MAX - 1,
        ];
        let mut wheel = Wheel::new();
        for (task, &at) in tasks.iter().zip(deadlines.iter()).rev() {
            // SAFETY: leaked slots, used by this wheel only.
            assert_eq!(unsafe { wheel.schedule(*task, at) }, Scheduled::Queued);
        }
        assert_eq!(wheel.check_invariants(), 8);
        for (i, &at) in deadlines.iter().enumerate() {
            // Step to each deadline through the wheel's own next deadlines, never past it.
            while let Some(next) = wheel.next_deadline() {
                assert!(
                    next <= at,
                    "next deadline {next} is after the earliest timer {at}"
                );
                wheel.advance(next);
                wheel.check_invariants();
                if !wheel.pending.is_empty() {
                    break;
                }
            }
            assert_eq!(wheel.elapsed(), at);
            assert_eq!(drain(&mut wheel), [tasks[i]]);
        }
        assert!(wheel.is_empty());
        assert_eq!(wheel.next_deadline(), None);
    }

    #[test]
    fn reschedule_keeps_the_earlier_deadline() {
        static SLOTS: [TaskSlot<8>; 1] = [const { TaskSlot::new() }; 1];
        let tasks = headers(&SLOTS);
        let mut wheel = Wheel::new();
        // SAFETY: leaked slots, used by this wheel only.
        unsafe {
            assert_eq!(wheel.schedule(tasks[0], 1000), Scheduled::Queued);
            assert_eq!(wheel.schedule(tasks[0], 2000), Scheduled::Unchanged);
            assert_eq!(wheel.schedule(tasks[0], 10), Scheduled::Queued);
        }
        assert_eq!(wheel.check_invariants(), 1);
        wheel.advance(10);
        assert_eq!(drain(&mut wheel), tasks);
        wheel.advance(5000);
        assert!(drain(&mut wheel).is_empty());
        // SAFETY: as above.
        let late = unsafe { wheel.schedule(tasks[0], 4000) };
        assert_eq!(late, Scheduled::Expired);
        assert!(wheel.is_empty());
    }

    #[test]
    fn a_removed_far_timer_leaves_no_stale_overflow_minimum() {
        static SLOTS: [TaskSlot<8>; 2] = [const { TaskSlot::new() }; 2];
        let tasks = headers(&SLOTS);
        let mut wheel = Wheel::new();
        // SAFETY: leaked slots, used by this wheel only.
        unsafe {
            // A far timer (epoch 1), then moved near: the overflow list is empty again.
            assert_eq!(wheel.schedule(tasks[0], HORIZON + 1_000), Scheduled::Queued);
            assert_eq!(wheel.schedule(tasks[0], 500), Scheduled::Queued);
        }
        wheel.check_invariants();
        wheel.advance(500);
        assert_eq!(drain(&mut wheel), [tasks[0]]);
        // Idle for two epochs, past the removed timer's, then a new far timer.
        wheel.advance(2 * HORIZON + 123);
        // SAFETY: as above.
        let queued = unsafe { wheel.schedule(tasks[1], 3 * HORIZON + 77) };
        assert_eq!(queued, Scheduled::Queued);
        wheel.check_invariants();
        let mut elapsed = wheel.elapsed();
        while wheel.pending.is_empty() {
            let next = wheel.next_deadline().unwrap();
            assert!(
                next > elapsed,
                "next deadline {next} is not after {elapsed}"
            );
            assert!(next <= 3 * HORIZON + 77);
            wheel.advance(next);
            assert!(wheel.elapsed() >= elapsed, "elapsed moved back");
            elapsed = wheel.elapsed();
            wheel.check_invariants();
        }
        assert_eq!(elapsed, 3 * HORIZON + 77);
        assert_eq!(drain(&mut wheel), [tasks[1]]);
        assert_eq!(wheel.next_deadline(), None);
    }

    #[test]
    fn random_model() {
        const N: usize = if cfg!(miri) { 16 } else { 400 };
        static SLOTS: [TaskSlot<8>; N] = [const { TaskSlot::new() }; N];
        let n = N;
        let tasks = headers(&SLOTS);
        let mut wheel = Wheel::new();
        let mut model: Vec<u64> = std::vec![u64::MAX; n];
        let mut rand = crate::time::test_rng();
        let rounds = if cfg!(miri) { 40 } else { 3000 };
        for _ in 0..rounds {
            if wheel.elapsed() > 1 << 62 {
                // Start over, from an arbitrary time (also exercises `pop_any` and `reset`).
                while wheel.pop_any().is_some() {}
                model.iter_mut().for_each(|at| *at = u64::MAX);
                wheel.reset(rand() % (1 << 40));
            }
            let r = rand();
            let task = (r % n as u64) as usize;
            let now = wheel.elapsed();
            let span = [64u64, 5_000, 1 << 20, 1 << 40, 1 << 60][(r >> 20) as usize % 5];
            match (r >> 8) % 3 {
                0 | 1 => {
                    let at = now.saturating_add(rand() % span).min(u64::MAX - 1);
                    // SAFETY: leaked slots, used by this wheel only.
                    let result = unsafe { wheel.schedule(tasks[task], at) };
                    if at >= model[task] {
                        assert_eq!(result, Scheduled::Unchanged);
                    } else if at <= now {
                        assert_eq!(result, Scheduled::Expired);
                        model[task] = u64::MAX;
                    } else {
                        assert_eq!(result, Scheduled::Queued);
                        model[task] = at;
                    }
                }
                _ => {
                    let to = now.saturating_add(rand() % span);
                    wheel.advance(to);
                    let fired = drain(&mut wheel);
                    let mut last = 0;
                    for task in &fired {
                        let i = tasks.iter().position(|t| t == task).unwrap();
                        assert!(
                            model[i] <= to && model[i] >= last,
                            "fired early or out of order"
                        );
                        last = model[i];
                        model[i] = u64::MAX;
                    }
                    assert!(
                        model.iter().all(|&at| at == u64::MAX || at > to),
                        "a due timer did not fire"
                    );
                }
            }
            let queued = model.iter().filter(|&&at| at != u64::MAX).count();
            assert_eq!(wheel.check_invariants(), queued);
        }
        while wheel.pop_any().is_some() {}
        assert!(wheel.is_empty());
    }
}
