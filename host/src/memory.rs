//! Task memory: ebbtide-core's four size classes, with slots reserved when a runtime is built.
//!
//! See [`ebbtide_core::size_classes`]: a spawned future goes to the smallest class that fits it,
//! chosen at compile time; a future above 16 KiB does not compile (box its large state, or spawn
//! `Box::pin(future)`). Nothing is allocated per spawn.

pub use ebbtide_core::size_classes::{slots_per_class, SizeClassPools as TaskMemory, SLOT_SIZES};
use ebbtide_core::TaskSlot;

/// `n` fresh slots, leaked: slots must outlive every waker that points at them. (A dropped
/// runtime's slots are reused by the next runtime instead: see `recycle`.)
fn slots<const SIZE: usize>(n: usize) -> &'static [TaskSlot<SIZE>] {
    Vec::leak((0..n).map(|_| TaskSlot::new()).collect())
}

/// Reserves `counts` slots per class (smallest first), leaked.
pub(crate) fn reserve(counts: [usize; 4]) -> &'static TaskMemory {
    Box::leak(Box::new(TaskMemory::new(
        [
            "ebbtide tasks of up to 256 bytes",
            "ebbtide tasks of up to 1 KiB",
            "ebbtide tasks of up to 4 KiB",
            "ebbtide tasks of up to 16 KiB",
        ],
        (
            slots(counts[0]),
            slots(counts[1]),
            slots(counts[2]),
            slots(counts[3]),
        ),
    )))
}
