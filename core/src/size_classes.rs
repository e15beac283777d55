//! Task memory in size classes, for drivers that reserve it at run time.
//!
//! A std or WASI runtime cannot know its programs' futures in advance, and giving every task a
//! slot big enough for the largest one wastes memory. [`SizeClassPools`] keeps four
//! [`SlicePool`]s with slots of [`SLOT_SIZES`] bytes; [`SizeClassPools::spawn`] puts a future in
//! the smallest class that fits it, chosen at compile time, so nothing is searched at run time and
//! a future larger than the largest class (or over-aligned) does not compile.
//!
//! The driver allocates the slots once, when its runtime is built (this crate never allocates),
//! and leaks them: slots must outlive every waker that points at them. (ebbtide-host's task
//! memory, which grows, keeps a list of [`SlicePool`] segments per class instead, and spawns with
//! [`SlicePool::try_spawn`].)
//!
//! # Examples
//!
//! ```
//! use std::sync::OnceLock;
//! use ebbtide_core::size_classes::{slots_per_class, SizeClassPools};
//! use ebbtide_core::{Executor, TaskSlot};
//!
//! fn slots<const SIZE: usize>(n: usize) -> &'static [TaskSlot<SIZE>] {
//!     Vec::leak((0..n).map(|_| TaskSlot::new()).collect())
//! }
//!
//! static EXECUTOR: Executor = Executor::new();
//! static POOLS: OnceLock<SizeClassPools> = OnceLock::new();
//! let counts = slots_per_class(8);
//! let pools = POOLS.get_or_init(|| {
//!     SizeClassPools::new(
//!         ["small", "medium", "large", "huge"],
//!         (slots(counts[0]), slots(counts[1]), slots(counts[2]), slots(counts[3])),
//!     )
//! });
//! let runner = EXECUTOR.runner().unwrap();
//! let big = [7u8; 2000]; // lands in the 4 KiB class
//! let task = pools.spawn(&EXECUTOR, async move { big[1999] }).unwrap();
//! assert_eq!(runner.run_until(task, || {}), Ok(7));
//! ```

use core::future::Future;

use crate::pool::sealed::Sealed as _;
use crate::{Executor, JoinHandle, Pool, Runner, SlicePool, SpawnError, TaskSlot, MAX_TASK_ALIGN};

/// The slot sizes of the classes, in bytes.
pub const SLOT_SIZES: [usize; 4] = [256, 1024, 4096, 16384];

/// The class `F` goes to: the smallest whose slots fit `F` and its output.
///
/// # Panics
///
/// (At compile time, where it is used in a `const`.) When `F` is larger than the largest class or
/// needs more alignment than slots offer.
pub const fn class_of<F: Future>() -> usize {
    if align_of::<F>() > MAX_TASK_ALIGN || align_of::<F::Output>() > MAX_TASK_ALIGN {
        panic!("this future (or its output) needs more alignment than task slots offer: box it");
    }
    let size = if size_of::<F>() > size_of::<F::Output>() {
        size_of::<F>()
    } else {
        size_of::<F::Output>()
    };
    let mut class = 0;
    while class < SLOT_SIZES.len() {
        if size <= SLOT_SIZES[class] {
            return class;
        }
        class += 1;
    }
    panic!(
        "this future is larger than 16 KiB, the largest task slot: box its large state, or spawn \
         Box::pin(future)"
    )
}

/// How many slots each class gets for a task capacity of `tasks`: `tasks` of 256 bytes,
/// `tasks / 2` of 1 KiB, `tasks / 4` of 4 KiB and `tasks / 16` of 16 KiB (at least a few of each).
pub fn slots_per_class(tasks: usize) -> [usize; 4] {
    let tasks = tasks.max(1);
    [
        tasks,
        (tasks / 2).max(4),
        (tasks / 4).max(2),
        (tasks / 16).max(1),
    ]
}

/// Four [`SlicePool`]s, one per size class; see the [module docs](self).
#[derive(Debug)]
pub struct SizeClassPools {
    c256: SlicePool<256>,
    c1k: SlicePool<1024>,
    c4k: SlicePool<4096>,
    c16k: SlicePool<16384>,
}

/// The slots of the four classes, smallest first.
pub type ClassSlots = (
    &'static [TaskSlot<256>],
    &'static [TaskSlot<1024>],
    &'static [TaskSlot<4096>],
    &'static [TaskSlot<16384>],
);

impl SizeClassPools {
    /// Pools over `slots`, named `names` (smallest class first) in errors. The slots must be free
    /// and given to no other pool.
    pub fn new(names: [&'static str; 4], slots: ClassSlots) -> SizeClassPools {
        SizeClassPools {
            c256: SlicePool::new(names[0], slots.0),
            c1k: SlicePool::new(names[1], slots.1),
            c4k: SlicePool::new(names[2], slots.2),
            c16k: SlicePool::new(names[3], slots.3),
        }
    }

    /// Spawns `future` on `executor` in the class that fits it, from any thread.
    ///
    /// # Errors
    ///
    /// [`SpawnError::PoolFull`] naming that class when it is full.
    ///
    /// A future that is not `Send` is refused (another thread may poll `executor`; see
    /// [`spawn_local`](SizeClassPools::spawn_local)):
    ///
    /// ```compile_fail
    /// use std::rc::Rc;
    /// use ebbtide_core::size_classes::SizeClassPools;
    /// use ebbtide_core::Executor;
    ///
    /// fn spawn_rc(pools: &'static SizeClassPools, executor: &'static Executor) {
    ///     let not_send = Rc::new(1);
    ///     let _ = pools.spawn(executor, async move { *not_send });
    /// }
    /// ```
    pub fn spawn<F>(
        &'static self,
        executor: &'static Executor,
        future: F,
    ) -> Result<JoinHandle<F::Output>, SpawnError>
    where
        F: Future + Send + 'static,
        F::Output: Send,
    {
        // SAFETY: `F` and its output are `Send`, so any thread may poll and drop them.
        unsafe { self.spawn_unchecked(executor, future) }
    }

    /// Spawns a future that need not be `Send` on `executor`, in the class that fits it.
    ///
    /// # Safety
    ///
    /// The calling thread is the one that polls `executor` (holds its [`Runner`]), and stays so
    /// for as long as the task lives: a driver calls this from its runtime's thread only.
    ///
    /// # Errors
    ///
    /// As for [`spawn`](SizeClassPools::spawn).
    pub unsafe fn spawn_local<F: Future + 'static>(
        &'static self,
        executor: &'static Executor,
        future: F,
    ) -> Result<JoinHandle<F::Output>, SpawnError> {
        // SAFETY: by our caller, the task is polled and dropped on this thread.
        unsafe { self.spawn_unchecked(executor, future) }
    }

    /// # Safety
    ///
    /// `F` may be polled and dropped on the thread that polls `executor`.
    unsafe fn spawn_unchecked<F: Future + 'static>(
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

    /// Cancels every task in the four pools (a runtime's shutdown); see [`Runner::cancel_all`].
    ///
    /// # Safety
    ///
    /// As for [`Runner::cancel_all`]: every task in these pools belongs to `runner`'s executor.
    pub unsafe fn cancel_all(&'static self, runner: &Runner) -> usize {
        // SAFETY: by our caller.
        unsafe {
            runner.cancel_all(&self.c256)
                + runner.cancel_all(&self.c1k)
                + runner.cancel_all(&self.c4k)
                + runner.cancel_all(&self.c16k)
        }
    }

    /// Tasks alive, all classes together.
    pub fn len(&self) -> usize {
        self.c256.len() + self.c1k.len() + self.c4k.len() + self.c16k.len()
    }

    /// Whether no task is alive.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Task slots, all classes together.
    pub fn capacity(&self) -> usize {
        self.c256.capacity() + self.c1k.capacity() + self.c4k.capacity() + self.c16k.capacity()
    }
}
