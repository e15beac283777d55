//! Task pools: where tasks live.
//!
//! A [`TaskPool`] is an array of slots sized at compile time, usually a `static`. A [`SlicePool`]
//! is the same over a slice of slots made at run time (once: a std runtime reserves its task
//! memory when it is built). A [`TaskCell`] is room for one task, with none of a pool's
//! bookkeeping. All three implement [`Pool`], which is what spawners take.

use core::fmt;
use core::future::Future;

use crate::executor::{Executor, SpawnError, SpawnRefused};
use crate::join::JoinHandle;
use crate::loom::{AtomicUsize, Ordering};
use crate::raw::header::AssertFits;
use crate::raw::pool_head::{NoHint, PoolHead};
use crate::raw::state::CLAIMED;
use crate::raw::task::{self, SearchHint, TaskKind};
use crate::raw::TaskSlot;

/// The name of a pool made without one.
const UNNAMED: &str = "unnamed";

/// How to make room in a full [`TaskPool`], for [`SpawnError::PoolFull`]'s message.
const TASK_POOL_HINT: &str = "raise N in TaskPool<N, SIZE>";

/// How to make room in a full [`SlicePool`], for [`SpawnError::PoolFull`]'s message.
const SLICE_POOL_HINT: &str = "give the SlicePool more slots";

/// The slot size of a [`TaskPool`] when none is given: room for a future (or output) of 256 bytes.
pub const DEFAULT_TASK_SIZE: usize = 256;

/// The spawning side of a pool: its `'static` slots, their search hint, and its name and advice
/// for errors. A [`TaskPool`], a [`TaskCell`] and a [`SlicePool`] differ in these parts only.
struct StaticParts<const SIZE: usize, H: SearchHint + 'static> {
    /// The pool's name, in errors.
    name: &'static str,
    /// How to make room, in errors.
    grow: &'static str,
    slots: &'static [TaskSlot<SIZE>],
    hint: &'static H,
}

/// Implements [`sealed::Sealed`] for a pool type with a `parts(&'static self) -> StaticParts`
/// method, by handing each spawn its parts.
macro_rules! sealed_by_parts {
    (impl<$(const $param:ident: usize),*> for $pool:ty) => {
        impl<$(const $param: usize),*> sealed::Sealed for $pool {
            fn spawn_on<F: Future + 'static, M: FnOnce() -> F>(
                &'static self,
                executor: &'static Executor,
                make: M,
                movable: bool,
            ) -> Result<JoinHandle<F::Output>, SpawnRefused<M>> {
                let parts = self.parts();
                spawn_in(parts.name, parts.grow, parts.slots, parts.hint, executor, make, movable)
            }

            fn spawn_fitting_on<F: Future + 'static>(
                &'static self,
                executor: &'static Executor,
                future: F,
            ) -> Result<JoinHandle<F::Output>, SpawnError> {
                let parts = self.parts();
                spawn_fitting_in(
                    parts.name,
                    parts.grow,
                    parts.slots,
                    parts.hint,
                    executor,
                    move || future,
                    false,
                )
            }

            fn spawn_detached_on<F: Future + 'static, M: FnOnce() -> F>(
                &'static self,
                executor: &'static Executor,
                make: M,
                movable: bool,
                cancellable: bool,
            ) -> Result<(), SpawnRefused<M>> {
                let parts = self.parts();
                spawn_detached_in(
                    parts.name,
                    parts.grow,
                    parts.slots,
                    parts.hint,
                    executor,
                    make,
                    TaskKind::detached(movable, cancellable),
                )
            }

            unsafe fn cancel_all(&'static self) -> usize {
                // SAFETY: by our caller.
                unsafe { cancel_all_in(self.parts().slots) }
            }
        }
    };
}

/// `N` task slots of `SIZE` bytes each, in static memory.
///
/// A pool is usually a `static`. Any executor can spawn into any pool; a slot is taken at spawn
/// and given back once its task has finished and its [`JoinHandle`] is gone. Spawning a future
/// larger than `SIZE` bytes (or whose output is) is a compile-time error; spawning into a full pool
/// is [`SpawnError::PoolFull`].
///
/// Each slot costs `SIZE` bytes plus a header and a join waker of 48 bytes in all on 32-bit
/// targets (80 on 64-bit); the `small-timer-queue` feature takes 8 bytes off that, and with
/// `task-wakers-only` and `one-timer-queue` too the join waker is one word inside the header: 32
/// bytes in all, as much as embassy-executor's task header. The pool adds 8 bytes (16 on 64-bit)
/// for its name and where its next search for a free slot starts (a [`TaskCell`], one slot with no
/// name, does without). A name is at most 65,535 bytes long.
///
/// A `static` pool made by [`new`](TaskPool::new) is all zeros, so it goes to `.bss`. One made by
/// [`named`](TaskPool::named) holds a pointer to its name, so on a microcontroller the whole pool
/// goes to `.data`, whose initial image is also stored in flash: prefer `new` where flash is
/// scarce.
///
/// # Examples
///
/// ```
/// use ebbtide_core::{Executor, SpawnError, TaskPool};
///
/// static EXECUTOR: Executor = Executor::new();
/// static NET: TaskPool<1, 128> = TaskPool::named("net");
///
/// let spawner = EXECUTOR.runner().unwrap().spawner();
/// let first = spawner.spawn(&NET, async {}).unwrap();
/// let err = spawner.spawn(&NET, async {}).unwrap_err();
/// assert!(matches!(err, SpawnError::PoolFull { pool: "net", capacity: 1, .. }));
/// assert!(err.to_string().contains("raise N"));
/// # drop(first);
/// ```
///
/// A future that does not fit its pool's slots is refused at compile time:
///
/// ```compile_fail
/// use ebbtide_core::{Executor, TaskPool};
///
/// static EXECUTOR: Executor = Executor::new();
/// static SMALL: TaskPool<1, 64> = TaskPool::new();
///
/// let big = [0u8; 1024];
/// let runner = EXECUTOR.runner().unwrap();
/// // error: "this future does not fit the task pool's slots: raise SIZE in TaskPool<N, SIZE>"
/// let _ = runner.spawner().spawn(&SMALL, async move { big.len() });
/// ```
pub struct TaskPool<const N: usize, const SIZE: usize = DEFAULT_TASK_SIZE> {
    /// The name (none for "unnamed", so that a pool made by [`new`](TaskPool::new) is all zeros
    /// and a `static` one goes to `.bss`) and where the next search for a free slot starts, in
    /// two words.
    head: PoolHead,
    slots: [TaskSlot<SIZE>; N],
}

impl<const N: usize, const SIZE: usize> TaskPool<N, SIZE> {
    crate::loom_const_fn! {
        /// An empty pool, named "unnamed" in errors.
        pub fn new() -> TaskPool<N, SIZE> {
            TaskPool {
                head: PoolHead::new(None),
                #[cfg(not(loom))]
                slots: [const { TaskSlot::new() }; N],
                #[cfg(loom)]
                slots: core::array::from_fn(|_| TaskSlot::new()),
            }
        }
    }

    crate::loom_const_fn! {
        /// An empty pool whose name appears in [`SpawnError`] messages.
        pub fn named(name: &'static str) -> TaskPool<N, SIZE> {
            TaskPool {
                head: PoolHead::new(Some(name)),
                #[cfg(not(loom))]
                slots: [const { TaskSlot::new() }; N],
                #[cfg(loom)]
                slots: core::array::from_fn(|_| TaskSlot::new()),
            }
        }
    }

    /// The pool's name.
    pub fn name(&self) -> &'static str {
        self.head.name().unwrap_or(UNNAMED)
    }

    /// How many tasks the pool can hold at once.
    pub const fn capacity(&self) -> usize {
        N
    }

    /// How many slots hold a task right now (a snapshot; other threads may change it).
    pub fn len(&self) -> usize {
        count_claimed(&self.slots)
    }

    /// Whether no slot holds a task right now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<const N: usize, const SIZE: usize> Default for TaskPool<N, SIZE> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize, const SIZE: usize> fmt::Debug for TaskPool<N, SIZE> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskPool")
            .field("name", &self.name())
            .field("capacity", &N)
            .field("slot_size", &SIZE)
            .field("len", &self.len())
            .finish()
    }
}

impl<const N: usize, const SIZE: usize> TaskPool<N, SIZE> {
    /// What the spawning side needs: the name for errors, how to grow the pool, the slots and
    /// the search hint.
    #[inline]
    fn parts(&'static self) -> StaticParts<SIZE, impl SearchHint> {
        StaticParts {
            name: self.name(),
            grow: TASK_POOL_HINT,
            slots: &self.slots,
            hint: &self.head,
        }
    }
}

sealed_by_parts!(impl<const N: usize, const SIZE: usize> for TaskPool<N, SIZE>);

impl<const N: usize, const SIZE: usize> Pool for TaskPool<N, SIZE> {
    const SLOT_SIZE: usize = SIZE;

    fn name(&self) -> &'static str {
        TaskPool::name(self)
    }

    fn capacity(&self) -> usize {
        N
    }

    fn len(&self) -> usize {
        TaskPool::len(self)
    }
}

/// Room for one task of `SIZE` bytes, in static memory: a [`TaskPool<1, SIZE>`](TaskPool) without
/// the pool's head.
///
/// A pool keeps a name and where its next search for a free slot starts, 8 bytes (16 on 64-bit)
/// before its slots. A cell has one slot, so it needs no search hint, and it has no name (it is
/// `"TaskCell"` in errors): it is exactly one task slot, header and storage (see [`TaskPool`] for
/// their sizes). This is the storage Embassy's `#[task]` gives a task function by default: one
/// static per kind of task, spawned once, or again once the last one has ended. Use it where RAM
/// is counted in bytes; use a `TaskPool` for several tasks of a kind, or for a name in errors.
///
/// Everything else is as for a `TaskPool`: any executor can spawn into any cell, a future larger
/// than `SIZE` bytes (or whose output is) does not compile, and spawning into a cell whose task
/// has not ended (or whose [`JoinHandle`] is still kept) is [`SpawnError::PoolFull`]. A `static`
/// cell is all zeros, so it goes to `.bss` and costs no flash.
///
/// # Examples
///
/// ```
/// use ebbtide_core::{Executor, SpawnError, TaskCell};
///
/// static EXECUTOR: Executor = Executor::new();
/// static BLINK: TaskCell<64> = TaskCell::new();
///
/// let runner = EXECUTOR.runner().unwrap();
/// let spawner = runner.spawner();
/// let first = spawner.spawn(&BLINK, async { 1 }).unwrap();
/// let err = spawner.spawn(&BLINK, async { 2 }).unwrap_err();
/// assert!(matches!(err, SpawnError::PoolFull { pool: "TaskCell", capacity: 1, .. }));
/// assert_eq!(runner.run_until(first, || {}), Ok(1));
/// // The task ended and its handle is gone: the cell is free for the next one.
/// let second = spawner.spawn(&BLINK, async { 2 }).unwrap();
/// assert_eq!(runner.run_until(second, || {}), Ok(2));
/// ```
pub struct TaskCell<const SIZE: usize = DEFAULT_TASK_SIZE> {
    slot: [TaskSlot<SIZE>; 1],
}

/// The name of every [`TaskCell`], in errors.
const TASK_CELL_NAME: &str = "TaskCell";

/// How to make room in a full [`TaskCell`], for [`SpawnError::PoolFull`]'s message.
const TASK_CELL_HINT: &str = "use a TaskPool<N, SIZE> for more than one at a time";

impl<const SIZE: usize> TaskCell<SIZE> {
    crate::loom_const_fn! {
        /// An empty cell.
        pub fn new() -> TaskCell<SIZE> {
            TaskCell { slot: [TaskSlot::new()] }
        }
    }

    /// Whether the cell holds a task right now (a snapshot; other threads may change it): one
    /// that has not ended, or has ended but whose [`JoinHandle`] is still kept.
    pub fn is_taken(&self) -> bool {
        count_claimed(&self.slot) != 0
    }
}

impl<const SIZE: usize> Default for TaskCell<SIZE> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const SIZE: usize> fmt::Debug for TaskCell<SIZE> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskCell")
            .field("slot_size", &SIZE)
            .field("taken", &self.is_taken())
            .finish()
    }
}

impl<const SIZE: usize> TaskCell<SIZE> {
    /// What the spawning side needs: see `TaskPool::parts`.
    #[inline]
    fn parts(&'static self) -> StaticParts<SIZE, impl SearchHint> {
        StaticParts {
            name: TASK_CELL_NAME,
            grow: TASK_CELL_HINT,
            slots: &self.slot,
            hint: &NoHint,
        }
    }
}

sealed_by_parts!(impl<const SIZE: usize> for TaskCell<SIZE>);

impl<const SIZE: usize> Pool for TaskCell<SIZE> {
    const SLOT_SIZE: usize = SIZE;

    fn name(&self) -> &'static str {
        TASK_CELL_NAME
    }

    fn capacity(&self) -> usize {
        1
    }

    fn len(&self) -> usize {
        usize::from(self.is_taken())
    }
}

/// Spawns the future `make` returns into `slots` (built in its slot once one is claimed), naming
/// the pool `name` in errors; a future that does not fit the slots fails to compile.
fn spawn_in<F: Future + 'static, M: FnOnce() -> F, const SIZE: usize>(
    name: &'static str,
    hint: &'static str,
    slots: &'static [TaskSlot<SIZE>],
    next: &impl SearchHint,
    executor: &'static Executor,
    make: M,
    movable: bool,
) -> Result<JoinHandle<F::Output>, SpawnRefused<M>> {
    #[allow(clippy::let_unit_value)]
    let () = AssertFits::<F, SIZE>::OK;
    // A full pool gives `make` back uncalled.
    try_spawn_in(slots, next, executor, make, movable)
        .map_err(|make| SpawnRefused::new(pool_full(name, hint, slots), make))
}

/// [`spawn_in`] with a run-time size check (folded away by the compiler) instead of the
/// compile-time one, for callers that chose the pool from `F`'s size themselves.
fn spawn_fitting_in<F: Future + 'static, M: FnOnce() -> F, const SIZE: usize>(
    name: &'static str,
    hint: &'static str,
    slots: &'static [TaskSlot<SIZE>],
    next: &impl SearchHint,
    executor: &'static Executor,
    make: M,
    movable: bool,
) -> Result<JoinHandle<F::Output>, SpawnError> {
    // A full pool drops `make` (and what it captured) uncalled.
    try_spawn_in(slots, next, executor, make, movable).map_err(|_make| pool_full(name, hint, slots))
}

/// [`spawn_fitting_in`] that gives `make` back when every slot is taken.
///
/// `movable`: the caller required `F` and its output to be `Send`, and lets a steal move the task
/// to another executor (see [`Executor::steal_from`]).
#[inline]
fn try_spawn_in<F: Future + 'static, M: FnOnce() -> F, const SIZE: usize>(
    slots: &'static [TaskSlot<SIZE>],
    next: &impl SearchHint,
    executor: &'static Executor,
    make: M,
    movable: bool,
) -> Result<JoinHandle<F::Output>, M> {
    let header = task::spawn_with(
        slots,
        next,
        executor.scheduler(),
        make,
        TaskKind::joinable(movable),
    )?;
    // SAFETY: the task was just spawned with HANDLE set, from a future whose output is
    // `F::Output`.
    Ok(unsafe { JoinHandle::from_raw(header) })
}

/// [`spawn_in`] for a task without a [`JoinHandle`]: it is detached from the start (its output is
/// dropped when it finishes), so no handle is made, and a program that never keeps one has no
/// handle code at all.
#[inline]
fn spawn_detached_in<F: Future + 'static, M: FnOnce() -> F, const SIZE: usize>(
    name: &'static str,
    hint: &'static str,
    slots: &'static [TaskSlot<SIZE>],
    next: &impl SearchHint,
    executor: &'static Executor,
    make: M,
    kind: TaskKind,
) -> Result<(), SpawnRefused<M>> {
    #[allow(clippy::let_unit_value)]
    let () = AssertFits::<F, SIZE>::OK;
    match task::spawn_with(slots, next, executor.scheduler(), make, kind) {
        Ok(_) => Ok(()),
        // `make` goes back to the caller uncalled, with what it captured.
        Err(make) => Err(SpawnRefused::new(pool_full(name, hint, slots), make)),
    }
}

/// The error of a spawn into `slots` when every slot is taken.
#[inline]
fn pool_full<const SIZE: usize>(
    name: &'static str,
    hint: &'static str,
    slots: &[TaskSlot<SIZE>],
) -> SpawnError {
    SpawnError::PoolFull {
        pool: name,
        capacity: slots.len(),
        hint,
    }
}

/// Cancels every unfinished task in `slots`; see [`Runner::cancel_all`](crate::Runner::cancel_all).
///
/// # Safety
///
/// As for [`Runner::cancel_all`](crate::Runner::cancel_all).
unsafe fn cancel_all_in<const SIZE: usize>(slots: &'static [TaskSlot<SIZE>]) -> usize {
    slots
        .iter()
        // SAFETY: the slot is `'static`; by the caller, every task in it belongs to the executor
        // whose runner calls us, outside of its poll.
        .filter(|slot| unsafe { task::cancel_now(slot.header_ptr()) })
        .count()
}

fn count_claimed<const SIZE: usize>(slots: &[TaskSlot<SIZE>]) -> usize {
    slots
        .iter()
        .filter(|slot| slot.head.header.state.load(Ordering::Relaxed) & CLAIMED != 0)
        .count()
}

/// The spawning side of [`Pool`], private to this crate: it takes any future, `Send` or not, so
/// only the spawners (which carry the `Send` bound their executor needs) may call it.
pub(crate) mod sealed {
    use core::future::Future;

    use crate::executor::{Executor, SpawnError, SpawnRefused};
    use crate::join::JoinHandle;

    /// Implemented by ebbtide's pools only; not nameable outside the crate, so neither is any
    /// of its methods (safe code outside could otherwise spawn a `!Send` future onto an executor
    /// that another thread polls).
    pub trait Sealed {
        /// Spawns the future `make` returns on `executor`, in a free slot of this pool (built in
        /// the slot once it is claimed; `make` is given back uncalled when every slot is taken).
        ///
        /// The caller must make sure `F` may be polled (and dropped) on the thread that polls
        /// `executor`: either `F: Send`, or the caller is that thread (a [`Spawner`]).
        ///
        /// [`Spawner`]: crate::Spawner
        ///
        /// `movable` lets [`Executor::steal_from`](crate::Executor::steal_from) move the task to
        /// another executor's thread: only for `F: Send` with a `Send` output.
        fn spawn_on<F: Future + 'static, M: FnOnce() -> F>(
            &'static self,
            executor: &'static Executor,
            make: M,
            movable: bool,
        ) -> Result<JoinHandle<F::Output>, SpawnRefused<M>>;

        /// Like [`spawn_on`](Sealed::spawn_on) without the compile-time size check; panics if
        /// `F` does not fit. For size classes, which pick a pool by `F`'s size in a `const`.
        fn spawn_fitting_on<F: Future + 'static>(
            &'static self,
            executor: &'static Executor,
            future: F,
        ) -> Result<JoinHandle<F::Output>, SpawnError>;

        /// Like [`spawn_on`](Sealed::spawn_on), for a task without a `JoinHandle` (detached
        /// from the start: its output is dropped when it finishes) whose future `make` builds in
        /// its slot once one is claimed. Without `cancellable` the task is never dropped before
        /// it completes (see [`Spawner::spawn_uncancellable`](crate::Spawner::spawn_uncancellable)).
        fn spawn_detached_on<F: Future + 'static, M: FnOnce() -> F>(
            &'static self,
            executor: &'static Executor,
            make: M,
            movable: bool,
            cancellable: bool,
        ) -> Result<(), SpawnRefused<M>>;

        /// Cancels every unfinished task in this pool; see
        /// [`Runner::cancel_all`](crate::Runner::cancel_all).
        ///
        /// # Safety
        ///
        /// As for [`Runner::cancel_all`](crate::Runner::cancel_all).
        unsafe fn cancel_all(&'static self) -> usize;
    }
}

/// Storage that tasks can be spawned into: a [`TaskPool`] or a [`SlicePool`].
///
/// This trait is sealed: ebbtide's pools are the only implementations.
///
/// # Examples
///
/// ```
/// use ebbtide_core::{Pool, TaskPool};
///
/// fn describe<P: Pool>(pool: &P) -> String {
///     format!("{}: {}/{} tasks of up to {} bytes", pool.name(), pool.len(), pool.capacity(), P::SLOT_SIZE)
/// }
/// static POOL: TaskPool<8, 64> = TaskPool::named("io");
/// assert_eq!(describe(&POOL), "io: 0/8 tasks of up to 64 bytes");
/// ```
///
/// Spawning goes through a [`Spawner`](crate::Spawner) (futures that need not be `Send`, on the
/// executor's own thread) or a [`SendSpawner`](crate::SendSpawner) (`Send` futures, from
/// anywhere); the pool's own spawning side is private, so no safe call can put a `!Send` future
/// on an executor that another thread polls:
///
/// ```compile_fail,E0599
/// use std::rc::Rc;
/// use ebbtide_core::{Executor, Pool, TaskPool};
///
/// static EXECUTOR: Executor = Executor::new();
/// static POOL: TaskPool<1> = TaskPool::new();
///
/// let not_send = Rc::new(1);
/// // error[E0599]: no method named `spawn_on` found
/// let _ = POOL.spawn_on(&EXECUTOR, async move { *not_send });
/// ```
pub trait Pool: sealed::Sealed + Sync + 'static {
    /// The bytes each slot offers a future (and its output).
    const SLOT_SIZE: usize;

    /// The pool's name, as errors show it.
    fn name(&self) -> &'static str;

    /// How many tasks the pool can hold at once.
    fn capacity(&self) -> usize;

    /// How many slots hold a task right now (a snapshot).
    fn len(&self) -> usize;

    /// Whether no slot holds a task right now.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A pool over slots made at run time: how a std runtime reserves task memory once, when it is
/// built, with a capacity chosen then.
///
/// # Examples
///
/// ```
/// use std::sync::OnceLock;
/// use ebbtide_core::{Executor, Pool, SlicePool, TaskSlot};
///
/// static EXECUTOR: Executor = Executor::new();
/// static POOL: OnceLock<SlicePool<128>> = OnceLock::new();
///
/// // Made once at start-up: a std program may allocate then. Slots live forever, so the memory
/// // is leaked on purpose (a runtime keeps it for the life of the process).
/// let pool = POOL.get_or_init(|| {
///     let slots = (0..16).map(|_| TaskSlot::new()).collect::<Vec<TaskSlot<128>>>();
///     SlicePool::new("runtime", Vec::leak(slots))
/// });
///
/// let runner = EXECUTOR.runner().unwrap();
/// let task = runner.spawner().spawn(pool, async { 3 }).unwrap();
/// assert_eq!(runner.run_until(task, || {}), Ok(3));
/// assert_eq!(pool.capacity(), 16);
/// ```
pub struct SlicePool<const SIZE: usize> {
    name: &'static str,
    next: AtomicUsize,
    slots: &'static [TaskSlot<SIZE>],
}

impl<const SIZE: usize> SlicePool<SIZE> {
    crate::loom_const_fn! {
        /// A pool over `slots`, named `name` in errors. The slots must be free: fresh from
        /// [`TaskSlot::new`], and given to no other pool.
        pub fn new(name: &'static str, slots: &'static [TaskSlot<SIZE>]) -> SlicePool<SIZE> {
            SlicePool { name, next: AtomicUsize::new(0), slots }
        }
    }

    /// Spawns `future` on `executor` in a free slot, from any thread; gives the future back
    /// when every slot holds a task, so that a caller with more pools (a driver whose task
    /// memory grows by segments) can try the next one without losing it. Never allocates.
    ///
    /// # Panics
    ///
    /// When `F` (or its output) does not fit the slots, or needs more alignment than they offer
    /// (a caller picks the pool by `F`'s size, as [`size_classes::class_of`] does; the check is
    /// folded away when it holds).
    ///
    /// [`size_classes::class_of`]: crate::size_classes::class_of
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::{Executor, SlicePool, TaskSlot};
    ///
    /// static EXECUTOR: Executor = Executor::new();
    /// static SLOTS: [TaskSlot<64>; 1] = [TaskSlot::new()];
    /// static POOL: SlicePool<64> = SlicePool::new("one", &SLOTS);
    /// let pool = &POOL;
    /// let runner = EXECUTOR.runner().unwrap();
    /// let first = pool.try_spawn(&EXECUTOR, async { 1 }).ok().unwrap();
    /// let second = pool.try_spawn(&EXECUTOR, async { 2 }).err().unwrap();
    /// assert_eq!(runner.run_until(first, || {}), Ok(1));
    /// // The slot is free again: the future that was given back fits now.
    /// let second = pool.try_spawn(&EXECUTOR, second).ok().unwrap();
    /// assert_eq!(runner.run_until(second, || {}), Ok(2));
    /// ```
    #[inline]
    pub fn try_spawn<F>(
        &'static self,
        executor: &'static Executor,
        future: F,
    ) -> Result<JoinHandle<F::Output>, F>
    where
        F: Future + Send + 'static,
        F::Output: Send,
    {
        try_spawn_in(self.slots, &self.next, executor, move || future, true).map_err(|make| make())
    }

    /// [`try_spawn`](SlicePool::try_spawn) for a task that stays on `executor`: no
    /// `Executor::steal_from` (feature `steal`) moves it (a task that must run on one thread, as a driver's
    /// `spawn_on(worker, ..)` promises).
    ///
    /// # Panics
    ///
    /// As for [`try_spawn`](SlicePool::try_spawn).
    #[inline]
    pub fn try_spawn_unmovable<F>(
        &'static self,
        executor: &'static Executor,
        future: F,
    ) -> Result<JoinHandle<F::Output>, F>
    where
        F: Future + Send + 'static,
        F::Output: Send,
    {
        try_spawn_in(self.slots, &self.next, executor, move || future, false).map_err(|make| make())
    }

    /// [`try_spawn`](SlicePool::try_spawn) for a future that need not be `Send`.
    ///
    /// # Safety
    ///
    /// The calling thread is the one that polls `executor` (holds its
    /// [`Runner`](crate::Runner)), and stays so for as long as the task lives.
    ///
    /// # Panics
    ///
    /// As for [`try_spawn`](SlicePool::try_spawn).
    #[inline]
    pub unsafe fn try_spawn_local<F: Future + 'static>(
        &'static self,
        executor: &'static Executor,
        future: F,
    ) -> Result<JoinHandle<F::Output>, F> {
        try_spawn_in(self.slots, &self.next, executor, move || future, false).map_err(|make| make())
    }
}

impl<const SIZE: usize> SlicePool<SIZE> {
    /// Whether the task slot at `address` (a task's address, as `Executor::drain_home` (feature
    /// `steal`) passes it) is one of this pool's.
    pub fn contains_addr(&self, address: usize) -> bool {
        let start = self.slots.as_ptr().addr();
        address >= start && address < start + size_of_val(self.slots)
    }

    /// The slots.
    #[cfg(feature = "steal")]
    pub(crate) fn slots(&self) -> &'static [TaskSlot<SIZE>] {
        self.slots
    }
}

impl<const SIZE: usize> SlicePool<SIZE> {
    /// What the spawning side needs: see `TaskPool::parts`.
    #[inline]
    fn parts(&'static self) -> StaticParts<SIZE, impl SearchHint> {
        StaticParts {
            name: self.name,
            grow: SLICE_POOL_HINT,
            slots: self.slots,
            hint: &self.next,
        }
    }
}

sealed_by_parts!(impl<const SIZE: usize> for SlicePool<SIZE>);

impl<const SIZE: usize> Pool for SlicePool<SIZE> {
    const SLOT_SIZE: usize = SIZE;

    fn name(&self) -> &'static str {
        self.name
    }

    fn capacity(&self) -> usize {
        self.slots.len()
    }

    fn len(&self) -> usize {
        count_claimed(self.slots)
    }
}

impl<const SIZE: usize> fmt::Debug for SlicePool<SIZE> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SlicePool")
            .field("name", &self.name)
            .field("capacity", &self.slots.len())
            .field("slot_size", &SIZE)
            .field("len", &self.len())
            .finish()
    }
}
