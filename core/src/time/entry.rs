//! A task's timer entry, as the timer queues see it: the accessors of its [`TimerLink`], which
//! the timing wheel (the `wheel` source file) and the sorted list of `small-timer-queue` (the
//! `list` source file) share.
//!
//! Every header given to these accessors comes from a `'static` task slot (ebbtide's ground rule
//! 1), so it stays valid forever. A header's [`TimerLink`] belongs to the timer queue that its
//! `queue` field names (see [`TimerLink`] for how that field changes hands), and is only read or
//! written while that queue's lock is held: a queue claims an entry before it links it, and
//! gives it up when it unlinks it. The `unsafe fn`s below ask their caller for exactly this.

use core::ptr::{self, NonNull};

#[cfg(not(all(feature = "small-timer-queue", feature = "task-timers-only")))]
use crate::raw::header::DeadlineBits;
use crate::raw::header::{deadline_bits, deadline_value, Header, TimerLink};

/// A deadline kept inverted (`!deadline`), so that "none" (`u64::MAX`) is stored as 0: a `static`
/// whose deadlines are all "none" is then all zeros, and goes to `.bss` instead of costing its
/// initial image in flash.
///
/// On 32-bit targets it is kept in two 32-bit halves ([`DeadlineBits`]), so that it is 4-byte
/// aligned and the timer queue that holds one packs without padding.
///
/// Only the queue's `armed` deadline is one, which the sorted list without a foreign-waker table
/// does without.
#[cfg(not(all(feature = "small-timer-queue", feature = "task-timers-only")))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Deadline(DeadlineBits);

#[cfg(not(all(feature = "small-timer-queue", feature = "task-timers-only")))]
impl Deadline {
    /// No deadline (`u64::MAX`).
    pub(super) const NONE: Deadline = Deadline(deadline_bits(0));

    #[inline]
    pub(super) const fn new(at: u64) -> Deadline {
        Deadline(deadline_bits(!at))
    }

    #[inline]
    pub(super) const fn get(self) -> u64 {
        !deadline_value(self.0)
    }
}

/// The timer link of `header`.
///
/// # Safety
///
/// `header` comes from a `'static` task slot (see the [module docs](self)).
#[inline]
unsafe fn link<'a>(header: NonNull<Header>) -> &'a TimerLink {
    // SAFETY: by the caller the header lives forever; every field of `Header` allows shared
    // access (atomics and cells), so a shared reference never conflicts with other users.
    unsafe { &(*header.as_ptr()).timer }
}

/// The queue `header`'s timer entry is linked in (the address of a `&'static TimerQueue`), or
/// null; see [`TimerLink`] for its rules.
///
/// # Safety
///
/// `header` comes from a `'static` task slot.
#[cfg(not(feature = "one-timer-queue"))]
#[inline]
pub(super) unsafe fn owner<'a>(header: NonNull<Header>) -> &'a crate::loom::AtomicPtr<()> {
    // SAFETY: by the caller; an atomic allows shared access.
    unsafe { &link(header).queue }
}

/// The deadline of `header`'s timer entry; `u64::MAX` if it is not queued. (The link stores it
/// inverted, so that a fresh slot is all zeros; see [`TimerLink`].)
///
/// # Safety
///
/// `header` comes from a `'static` slot and the caller holds the queue lock.
#[inline]
pub(super) unsafe fn expires_at(header: NonNull<Header>) -> u64 {
    // SAFETY: by the caller; the queue lock makes us the only user of the link.
    unsafe { !deadline_value(link(header).expires_at.with(|p| *p)) }
}

/// # Safety
///
/// As for [`expires_at`].
#[inline]
pub(super) unsafe fn set_expires_at(header: NonNull<Header>, when: u64) {
    // SAFETY: by the caller; the queue lock makes us the only user of the link.
    unsafe {
        link(header)
            .expires_at
            .with_mut(|p| *p = deadline_bits(!when))
    }
}

/// # Safety
///
/// As for [`expires_at`].
#[inline]
pub(super) unsafe fn next(header: NonNull<Header>) -> Option<NonNull<Header>> {
    // SAFETY: by the caller; the queue lock makes us the only user of the link.
    unsafe { link(header).next.with(|p| NonNull::new(*p as *mut Header)) }
}

/// # Safety
///
/// As for [`expires_at`].
#[inline]
pub(super) unsafe fn set_next(header: NonNull<Header>, next: Option<NonNull<Header>>) {
    let next = next.map_or(ptr::null(), |n| n.as_ptr() as *const Header);
    // SAFETY: by the caller; the queue lock makes us the only user of the link.
    unsafe { link(header).next.with_mut(|p| *p = next) }
}

/// # Safety
///
/// As for [`expires_at`].
#[cfg(not(feature = "small-timer-queue"))]
#[inline]
pub(super) unsafe fn prev(header: NonNull<Header>) -> Option<NonNull<Header>> {
    // SAFETY: by the caller; the queue lock makes us the only user of the link.
    unsafe { link(header).prev.with(|p| NonNull::new(*p as *mut Header)) }
}

/// # Safety
///
/// As for [`expires_at`].
#[cfg(not(feature = "small-timer-queue"))]
#[inline]
pub(super) unsafe fn set_prev(header: NonNull<Header>, prev: Option<NonNull<Header>>) {
    let prev = prev.map_or(ptr::null(), |n| n.as_ptr() as *const Header);
    // SAFETY: by the caller; the queue lock makes us the only user of the link.
    unsafe { link(header).prev.with_mut(|p| *p = prev) }
}

/// What a timer list's `schedule` did (the wheel's or the sorted list's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheduled {
    /// The entry was already queued for that deadline or an earlier one: nothing changed.
    Unchanged,
    /// The entry is now queued for the new, earlier deadline.
    Queued,
    /// The deadline has already passed (`at <= elapsed`): the entry is not queued and the caller
    /// must wake the task now. (Never from the sorted list as the whole queue, which keeps no
    /// `elapsed`: see the `list` source file.)
    #[cfg_attr(
        all(feature = "small-timer-queue", feature = "task-timers-only"),
        allow(dead_code)
    )]
    Expired,
}
