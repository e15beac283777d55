// Copied from ebbtide-std (std-driver/src/runtime/pools.rs): the two drivers share no crate below
// ebbtide-core, and this file is too small to be worth one. Keep them in step.
//! Task memory: four size classes of slots, reserved when the runtime is built.
//!
//! A spawned future goes to the smallest class its size (and its output's) fits, chosen at
//! compile time; a future above the largest class does not compile (box its large state, or the
//! whole future: `Box::pin(fut)` is 16 bytes). Nothing is allocated per spawn.

use std::future::Future;

use ebbtide_core::{Executor, JoinHandle, Pool, SlicePool, SpawnError, TaskSlot};

/// The slot sizes of the classes, in bytes.
pub const SLOT_SIZES: [usize; 4] = [256, 1024, 4096, 16384];

/// The class `F` goes to: the smallest whose slots fit `F` and its output.
pub(crate) const fn class_of<F: Future>() -> usize {
    let size = if size_of::<F>() > size_of::<F::Output>() {
        size_of::<F>()
    } else {
        size_of::<F::Output>()
    };
    if align_of::<F>() > ebbtide_core::MAX_TASK_ALIGN
        || align_of::<F::Output>() > ebbtide_core::MAX_TASK_ALIGN
    {
        panic!("this future (or its output) needs more alignment than task slots offer: box it");
    }
    let mut class = 0;
    while class < SLOT_SIZES.len() {
        if size <= SLOT_SIZES[class] {
            return class;
        }
        class += 1;
    }
    panic!(
        "this future is larger than 16 KiB, the largest task slot of ebbtide-wasi: box its large \
         state, or spawn Box::pin(future)"
    )
}

/// How many slots each class gets for a task capacity of `tasks`.
pub(crate) fn slots_per_class(tasks: usize) -> [usize; 4] {
    let tasks = tasks.max(1);
    [
        tasks,
        (tasks / 4).max(4),
        (tasks / 16).max(2),
        (tasks / 64).max(1),
    ]
}

pub(crate) struct Pools {
    c256: SlicePool<256>,
    c1k: SlicePool<1024>,
    c4k: SlicePool<4096>,
    c16k: SlicePool<16384>,
}

fn slots<const SIZE: usize>(n: usize) -> &'static [TaskSlot<SIZE>] {
    Vec::leak((0..n).map(|_| TaskSlot::new()).collect())
}

impl Pools {
    /// Reserves the slots (leaked: slots must outlive every waker that points at them).
    pub(crate) fn new(counts: [usize; 4]) -> Pools {
        Pools {
            c256: SlicePool::new("ebbtide-wasi tasks of up to 256 bytes", slots(counts[0])),
            c1k: SlicePool::new("ebbtide-wasi tasks of up to 1 KiB", slots(counts[1])),
            c4k: SlicePool::new("ebbtide-wasi tasks of up to 4 KiB", slots(counts[2])),
            c16k: SlicePool::new("ebbtide-wasi tasks of up to 16 KiB", slots(counts[3])),
        }
    }

    /// Spawns `future` in the class that fits it.
    pub(crate) fn spawn<F: Future + 'static>(
        &'static self,
        executor: &'static Executor,
        future: F,
    ) -> Result<JoinHandle<F::Output>, SpawnError> {
        match const { class_of::<F>() } {
            0 => self.c256.spawn_fitting_on(executor, future),
            1 => self.c1k.spawn_fitting_on(executor, future),
            2 => self.c4k.spawn_fitting_on(executor, future),
            _ => self.c16k.spawn_fitting_on(executor, future),
        }
    }

    /// Cancels every task (shutdown).
    ///
    /// # Safety
    ///
    /// As for `Runner::cancel_all`: every task in these pools belongs to `runner`'s executor.
    pub(crate) unsafe fn cancel_all(&'static self, runner: &ebbtide_core::Runner) -> usize {
        // SAFETY: by our caller.
        unsafe {
            runner.cancel_all(&self.c256)
                + runner.cancel_all(&self.c1k)
                + runner.cancel_all(&self.c4k)
                + runner.cancel_all(&self.c16k)
        }
    }

    /// Tasks alive, all classes together.
    pub(crate) fn len(&self) -> usize {
        self.c256.len() + self.c1k.len() + self.c4k.len() + self.c16k.len()
    }

    /// Task slots, all classes together.
    pub(crate) fn capacity(&self) -> usize {
        self.c256.capacity() + self.c1k.capacity() + self.c4k.capacity() + self.c16k.capacity()
    }
}
