//! Static task pools.

use core::fmt;
use core::future::Future;

use crate::executor::{Executor, SpawnError};
use crate::join::JoinHandle;
use crate::loom::{AtomicUsize, Ordering};
use crate::raw::state::CLAIMED;
use crate::raw::{task, TaskSlot};

/// The slot size of a [`TaskPool`] when none is given: room for a future (or output) of 256 bytes.
pub const DEFAULT_TASK_SIZE: usize = 256;

/// `N` task slots of `SIZE` bytes each, in static memory.
///
/// A pool is usually a `static`. Any executor can spawn into any pool; a slot is taken at spawn
/// and given back once its task has finished and its [`JoinHandle`] is gone. Spawning a future
/// larger than `SIZE` bytes (or whose output is) is a compile-time error; spawning into a full pool
/// is [`SpawnError::PoolFull`].
///
/// Each slot costs `SIZE` bytes plus a header of 32 bytes and a join waker of 8 bytes on 32-bit
/// targets (56 + 16 on 64-bit).
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
/// assert_eq!(err, SpawnError::PoolFull { pool: "net", capacity: 1 });
/// assert!(err.to_string().contains("raise N"));
/// # drop(first);
/// ```
pub struct TaskPool<const N: usize, const SIZE: usize = DEFAULT_TASK_SIZE> {
    name: &'static str,
    /// Where the next search for a free slot starts (one past the last slot taken).
    next: AtomicUsize,
    slots: [TaskSlot<SIZE>; N],
}

impl<const N: usize, const SIZE: usize> TaskPool<N, SIZE> {
    crate::loom_const_fn! {
        /// An empty pool, named "unnamed" in errors.
        pub fn new() -> TaskPool<N, SIZE> {
            Self::named("unnamed")
        }
    }

    crate::loom_const_fn! {
        /// An empty pool whose name appears in [`SpawnError`] messages.
        pub fn named(name: &'static str) -> TaskPool<N, SIZE> {
            TaskPool {
                name,
                next: AtomicUsize::new(0),
                #[cfg(not(loom))]
                slots: [const { TaskSlot::new() }; N],
                #[cfg(loom)]
                slots: core::array::from_fn(|_| TaskSlot::new()),
            }
        }
    }

    /// The pool's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// How many tasks the pool can hold at once.
    pub const fn capacity(&self) -> usize {
        N
    }

    /// How many slots hold a task right now (a snapshot; other threads may change it).
    pub fn len(&self) -> usize {
        self.slots
            .iter()
            .filter(|slot| slot.head.header.state.load(Ordering::Relaxed) & CLAIMED != 0)
            .count()
    }

    /// Whether no slot holds a task right now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn spawn_on<F: Future + 'static>(
        &'static self,
        executor: &'static Executor,
        future: F,
    ) -> Result<JoinHandle<F::Output>, SpawnError> {
        match task::spawn(&self.slots, &self.next, executor, future) {
            // SAFETY: the task was just spawned with HANDLE set, from a future whose output is
            // `F::Output`.
            Ok(header) => Ok(unsafe { JoinHandle::from_raw(header) }),
            Err(_future) => Err(SpawnError::PoolFull {
                pool: self.name,
                capacity: N,
            }),
        }
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
            .field("name", &self.name)
            .field("capacity", &N)
            .field("slot_size", &SIZE)
            .field("len", &self.len())
            .finish()
    }
}
