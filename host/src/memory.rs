//! Task memory: ebbtide-core's four size classes, with slots reserved when a runtime is built,
//! and the [`Options`] that size them.
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

/// The settings every host runtime shares: task memory. A driver's builder holds one and
/// forwards its methods.
///
/// # Examples
///
/// ```
/// use ebbtide_host::Options;
///
/// let options = Options::new(1024).task_slots([8, 4, 2, 1]);
/// assert_eq!(options.slots(), [8, 4, 2, 1]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    task_slots: [usize; 4],
}

impl Options {
    /// Room for about `tasks` tasks (see [`task_capacity`](Options::task_capacity)).
    pub fn new(tasks: usize) -> Options {
        Options {
            task_slots: slots_per_class(tasks),
        }
    }

    /// Room for `n` tasks of up to 256 bytes, `n / 2` of up to 1 KiB, `n / 4` of 4 KiB and
    /// `n / 16` of 16 KiB (at least a few of each): about 2.8 MiB for 1,024.
    pub fn task_capacity(mut self, n: usize) -> Options {
        self.task_slots = slots_per_class(n);
        self
    }

    /// Slots per size class, smallest first (256 B, 1 KiB, 4 KiB, 16 KiB).
    pub fn task_slots(mut self, slots: [usize; 4]) -> Options {
        self.task_slots = slots;
        self
    }

    /// The slots per size class.
    pub fn slots(&self) -> [usize; 4] {
        self.task_slots
    }
}

impl Default for Options {
    /// Room for 1,024 tasks.
    fn default() -> Options {
        Options::new(1024)
    }
}
