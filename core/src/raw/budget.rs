//! Where the running task's cooperative budget counter lives.
//!
//! Every task header and every scheduler has a [`BudgetSlot`]; on a given target exactly one of
//! the two kinds holds the counter and the other is empty (zero-sized). On 64-bit targets the
//! counter is in the task's header, where it fills the padding after the state word, so finding
//! it from a waker costs no load of the scheduler; elsewhere a header has no padding to spare and
//! the counter is in the scheduler, shared by its tasks one poll at a time. This file is the only
//! place that choice is made.
//!
//! With the `no-coop-budget` feature neither holds it: there is no budget, and every
//! [`poll_budget`](crate::task::poll_budget) is `Ready`.
//!
//! Either way the counter is reset before each poll (by [`BudgetSlot::reset`], which does nothing
//! on an empty slot) and only touched by the thread that polls the task.

use core::task::Context;

use super::header::Header;
use super::scheduler::Scheduler;
use super::waker::header_of;
use crate::loom::{AtomicU32, Ordering};

/// How many times a task may find a resource ready in one poll before it is made to yield.
pub(crate) const BUDGET: u32 = 128;

/// Whether tasks have a budget at all: not with the `no-coop-budget` feature, where neither
/// slot holds a counter and [`current_budget`] is always `None`.
const ENABLED: bool = !cfg!(feature = "no-coop-budget");

/// Whether the counter lives in the task's header (rather than in its scheduler).
const IN_HEADER: bool = cfg!(target_pointer_width = "64");

/// A place for the budget counter: it holds one if `LEN` is 1 and nothing (and takes no space)
/// if `LEN` is 0. Use [`InHeader`] and [`InScheduler`], which pick `LEN` for the target.
pub(crate) struct BudgetSlot<const LEN: usize>([AtomicU32; LEN]);

/// The budget slot of a task header.
pub(crate) type InHeader = BudgetSlot<{ (ENABLED && IN_HEADER) as usize }>;

/// The budget slot of a scheduler.
pub(crate) type InScheduler = BudgetSlot<{ (ENABLED && !IN_HEADER) as usize }>;

impl<const LEN: usize> BudgetSlot<LEN> {
    crate::loom_const_fn! {
        /// A slot whose counter (if it holds one) is 0, so that a free task slot is all zeros
        /// (every poll resets the counter before the task can read it).
        pub(crate) fn new() -> BudgetSlot<LEN> {
            #[cfg(not(loom))]
            { BudgetSlot([const { AtomicU32::new(0) }; LEN]) }
            #[cfg(loom)]
            { BudgetSlot(core::array::from_fn(|_| AtomicU32::new(0))) }
        }
    }

    /// The counter, if this slot holds it.
    #[inline(always)]
    pub(crate) fn counter(&self) -> Option<&AtomicU32> {
        self.0.first()
    }

    /// Gives the task about to be polled a fresh budget, if this slot holds the counter.
    #[inline(always)]
    pub(crate) fn reset(&self) {
        if let Some(counter) = self.counter() {
            counter.store(BUDGET, Ordering::Relaxed);
        }
    }
}

/// The budget counter of the task polled with `cx`, if it is an ebbtide task.
///
/// On 64-bit targets it is in the task's header (no scheduler load); elsewhere in its scheduler.
/// The counter is an atomic, so sharing it is sound whoever touches it; only the thread that
/// polls the task does, with relaxed loads and stores (plain moves).
#[inline]
pub(crate) fn current_budget(cx: &Context<'_>) -> Option<&'static AtomicU32> {
    if !ENABLED {
        return None;
    }
    let header = header_of(cx.waker())?;
    // SAFETY: ground rule 1: the header is in a static slot.
    let header: &'static Header = unsafe { header.as_ref() };
    match header.budget.counter() {
        Some(counter) => Some(counter),
        None => Scheduler::of_task(header)?.budget().counter(),
    }
}
