//! Task memory: ebbtide-core's four size classes, with slots reserved when a runtime is built and
//! more added when a class runs out, and the [`Options`] that size them.
//!
//! A spawned future goes to the smallest class that fits it, chosen at compile time
//! ([`class_of`]); a future above 16 KiB does not compile (box its large state, or spawn
//! `Box::pin(future)`).
//!
//! # Growth
//!
//! Each class is a list of segments, each a [`SlicePool`] of leaked slots. A spawn tries the
//! segment where the class's last spawn succeeded, then the others (so free slots in old segments
//! are reused before anything new is made); only when every segment is full does it take the
//! class's lock and add a segment as large as the class so far (the class doubles), up to the
//! class's limit ([`Options::task_limit`]), beyond which the spawn fails with
//! [`SpawnError::PoolFull`]. Segments are never freed: wakers may point at their slots forever
//! (ground rule 1 of `ebbtide_core::raw`); a dropped runtime's memory, grown or not, serves the
//! next runtime (see `recycle`).
//!
//! So a spawn allocates only when it grows a class; once a program has reached its peak, it
//! spawns without allocating and without taking a lock.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use ebbtide_core::size_classes::class_of;
pub use ebbtide_core::size_classes::{slots_per_class, SLOT_SIZES};
use ebbtide_core::{Executor, JoinHandle, Pool, Runner, SlicePool, SpawnError, TaskSlot};

/// The most segments a class can have. Each new segment is as large as the class so far, so the
/// class doubles with each: 48 are more than any memory holds.
const MAX_SEGMENTS: usize = 48;

/// How to make room in a host runtime's full class, for [`SpawnError::PoolFull`]'s message.
const HINT: &str = "raise Builder::task_limit (or Builder::task_capacity, if the runtime was \
                    built with Builder::fixed_task_memory)";

/// The names of the classes, smallest first, as errors show them.
const NAMES: [&str; 4] = [
    "ebbtide tasks of up to 256 bytes",
    "ebbtide tasks of up to 1 KiB",
    "ebbtide tasks of up to 4 KiB",
    "ebbtide tasks of up to 16 KiB",
];

/// `n` fresh slots, leaked: slots must outlive every waker that points at them. (A dropped
/// runtime's slots are reused by the next runtime instead: see `recycle`.)
fn slots<const SIZE: usize>(n: usize) -> &'static [TaskSlot<SIZE>] {
    Vec::leak((0..n).map(|_| TaskSlot::new()).collect())
}

/// One size class: segments of slots, added when all are full.
struct Class<const SIZE: usize> {
    name: &'static str,
    /// The segments, oldest first; the first `count` are set.
    segments: [OnceLock<&'static SlicePool<SIZE>>; MAX_SEGMENTS],
    /// How many segments are set (published with `Release` after the segment is).
    count: AtomicUsize,
    /// The segment where the last spawn found a slot (below `count`).
    hint: AtomicUsize,
    /// Slots over every segment.
    slots: AtomicUsize,
    /// The most slots the class may have.
    limit: usize,
    /// Taken only to add a segment.
    grow: Mutex<()>,
}

impl<const SIZE: usize> Class<SIZE> {
    fn new(name: &'static str, reserve: usize, limit: usize) -> Class<SIZE> {
        let class = Class {
            name,
            segments: [const { OnceLock::new() }; MAX_SEGMENTS],
            count: AtomicUsize::new(0),
            hint: AtomicUsize::new(0),
            slots: AtomicUsize::new(0),
            limit,
            grow: Mutex::new(()),
        };
        let reserve = reserve.min(limit);
        if reserve > 0 {
            class.publish(0, class.new_segment(reserve));
        }
        class
    }

    /// A new segment of `n` fresh slots, not yet published.
    fn new_segment(&self, n: usize) -> &'static SlicePool<SIZE> {
        Box::leak(Box::new(SlicePool::new(self.name, slots(n))))
    }

    /// Publishes `segment` as segment `index` (the next one: under the lock, or before the class
    /// is shared).
    fn publish(&self, index: usize, segment: &'static SlicePool<SIZE>) {
        let set = self.segments[index].set(segment);
        debug_assert!(set.is_ok(), "a segment was added twice");
        self.slots.fetch_add(segment.capacity(), Ordering::Relaxed);
        self.count.store(index + 1, Ordering::Release);
    }

    /// The segments published so far.
    fn segments(&self) -> impl Iterator<Item = &'static SlicePool<SIZE>> + '_ {
        let count = self.count.load(Ordering::Acquire);
        self.segments[..count]
            .iter()
            .filter_map(|segment| segment.get().copied())
    }

    /// Spawns with `try_spawn` (a segment's `try_spawn` or `try_spawn_local`), growing the class
    /// when every segment is full.
    #[inline]
    fn spawn<F, T>(
        &'static self,
        mut future: F,
        try_spawn: T,
    ) -> Result<JoinHandle<F::Output>, (SpawnError, F)>
    where
        F: Future,
        T: Fn(&'static SlicePool<SIZE>, F) -> Result<JoinHandle<F::Output>, F>,
    {
        let count = self.count.load(Ordering::Acquire);
        let start = self.hint.load(Ordering::Relaxed);
        for offset in 0..count {
            let index = if start + offset < count {
                start + offset
            } else {
                start + offset - count
            };
            let Some(&segment) = self.segments[index].get() else {
                continue;
            };
            match try_spawn(segment, future) {
                Ok(handle) => {
                    if offset != 0 {
                        self.hint.store(index, Ordering::Relaxed);
                    }
                    return Ok(handle);
                }
                Err(back) => future = back,
            }
        }
        self.grow_and_spawn(future, try_spawn)
    }

    /// Every segment was full: under the lock, tries the segments again (slots may have been
    /// freed, and other threads may have grown the class meanwhile), then adds a segment.
    #[cold]
    #[inline(never)]
    fn grow_and_spawn<F, T>(
        &'static self,
        mut future: F,
        try_spawn: T,
    ) -> Result<JoinHandle<F::Output>, (SpawnError, F)>
    where
        F: Future,
        T: Fn(&'static SlicePool<SIZE>, F) -> Result<JoinHandle<F::Output>, F>,
    {
        let _grow = self.grow.lock().unwrap_or_else(|e| e.into_inner());
        for (index, segment) in self.segments().enumerate() {
            match try_spawn(segment, future) {
                Ok(handle) => {
                    self.hint.store(index, Ordering::Relaxed);
                    return Ok(handle);
                }
                Err(back) => future = back,
            }
        }
        // Only this thread adds segments now.
        let count = self.count.load(Ordering::Acquire);
        let slots = self.slots.load(Ordering::Relaxed);
        if slots >= self.limit || count == MAX_SEGMENTS {
            let full = SpawnError::PoolFull {
                pool: self.name,
                capacity: slots,
                hint: HINT,
            };
            return Err((full, future));
        }
        let n = slots.max(1).min(self.limit - slots);
        let segment = self.new_segment(n);
        // Spawned before the segment is published, while no other thread can take its slots:
        // this cannot fail.
        let spawned = try_spawn(segment, future);
        self.publish(count, segment);
        self.hint.store(count, Ordering::Relaxed);
        match spawned {
            Ok(handle) => Ok(handle),
            Err(_future) => unreachable!("a fresh segment had no free slot"),
        }
    }

    /// # Safety
    ///
    /// As for [`Runner::cancel_all`]: every task in the class belongs to `runner`'s executor.
    unsafe fn cancel_all(&self, runner: &Runner) -> usize {
        self.segments()
            // SAFETY: by our caller.
            .map(|segment| unsafe { runner.cancel_all(segment) })
            .sum()
    }

    fn contains_addr(&self, address: usize) -> bool {
        self.segments()
            .any(|segment| segment.contains_addr(address))
    }

    /// # Safety
    ///
    /// As for [`TaskMemory::reclaim_idle`].
    unsafe fn reclaim_idle(&self, executor: &'static Executor) -> usize {
        self.segments()
            // SAFETY: by our caller.
            .map(|segment| unsafe { executor.reclaim_idle(segment) })
            .sum()
    }

    fn len(&self) -> usize {
        self.segments().map(|segment| segment.len()).sum()
    }

    fn capacity(&self) -> usize {
        self.slots.load(Ordering::Relaxed)
    }

    /// How many more tasks the class may hold: its limit less its live tasks (`usize::MAX`
    /// less them when it has no limit).
    fn room(&self) -> usize {
        self.limit.saturating_sub(self.len())
    }
}

/// A runtime's task memory: four size classes that grow by segments up to their limits (see the
/// [module docs](self)).
pub struct TaskMemory {
    c256: Class<256>,
    c1k: Class<1024>,
    c4k: Class<4096>,
    c16k: Class<16384>,
}

impl TaskMemory {
    /// Spawns a `Send` future on `executor` in the class that fits it, from any thread.
    ///
    /// # Errors
    ///
    /// [`SpawnError::PoolFull`] naming the class when it is full and may not grow, with the
    /// future given back.
    ///
    /// `movable`: a work-stealing driver may move the task to another worker (see
    /// [`Executor::steal_from`]); `false` keeps it on `executor`.
    pub(crate) fn spawn<F>(
        &'static self,
        executor: &'static Executor,
        future: F,
        movable: bool,
    ) -> Result<JoinHandle<F::Output>, (SpawnError, F)>
    where
        F: Future + Send + 'static,
        F::Output: Send,
    {
        if movable {
            match const { class_of::<F>() } {
                0 => self.c256.spawn(future, |s, f| s.try_spawn(executor, f)),
                1 => self.c1k.spawn(future, |s, f| s.try_spawn(executor, f)),
                2 => self.c4k.spawn(future, |s, f| s.try_spawn(executor, f)),
                _ => self.c16k.spawn(future, |s, f| s.try_spawn(executor, f)),
            }
        } else {
            match const { class_of::<F>() } {
                0 => self
                    .c256
                    .spawn(future, |s, f| s.try_spawn_unmovable(executor, f)),
                1 => self
                    .c1k
                    .spawn(future, |s, f| s.try_spawn_unmovable(executor, f)),
                2 => self
                    .c4k
                    .spawn(future, |s, f| s.try_spawn_unmovable(executor, f)),
                _ => self
                    .c16k
                    .spawn(future, |s, f| s.try_spawn_unmovable(executor, f)),
            }
        }
    }

    /// Whether the task slot at `address` lies in this memory.
    pub(crate) fn contains_addr(&self, address: usize) -> bool {
        self.c256.contains_addr(address)
            || self.c1k.contains_addr(address)
            || self.c4k.contains_addr(address)
            || self.c16k.contains_addr(address)
    }

    /// Points every idle task of this memory that another executor holds back at `executor`
    /// (see [`Executor::reclaim_idle`]); returns how many queued ones still point elsewhere.
    ///
    /// # Safety
    ///
    /// As for [`Executor::reclaim_idle`]: every task here was spawned on `executor`, and no
    /// executor that may hold one is polled or stolen from meanwhile.
    pub(crate) unsafe fn reclaim_idle(&self, executor: &'static Executor) -> usize {
        // SAFETY: by our caller.
        unsafe {
            self.c256.reclaim_idle(executor)
                + self.c1k.reclaim_idle(executor)
                + self.c4k.reclaim_idle(executor)
                + self.c16k.reclaim_idle(executor)
        }
    }

    /// Spawns a future that need not be `Send`.
    ///
    /// # Safety
    ///
    /// The calling thread polls `executor` (holds its [`Runner`]) for as long as the task lives.
    pub(crate) unsafe fn spawn_local<F: Future + 'static>(
        &'static self,
        executor: &'static Executor,
        future: F,
    ) -> Result<JoinHandle<F::Output>, SpawnError> {
        match const { class_of::<F>() } {
            0 => self.c256.spawn(future, |segment, future| {
                // SAFETY: by our caller, this thread polls `executor` for as long as the task
                // lives.
                unsafe { segment.try_spawn_local(executor, future) }
            }),
            1 => self.c1k.spawn(future, |segment, future| {
                // SAFETY: by our caller, this thread polls `executor` for as long as the task
                // lives.
                unsafe { segment.try_spawn_local(executor, future) }
            }),
            2 => self.c4k.spawn(future, |segment, future| {
                // SAFETY: by our caller, this thread polls `executor` for as long as the task
                // lives.
                unsafe { segment.try_spawn_local(executor, future) }
            }),
            _ => self.c16k.spawn(future, |segment, future| {
                // SAFETY: by our caller, this thread polls `executor` for as long as the task
                // lives.
                unsafe { segment.try_spawn_local(executor, future) }
            }),
        }
        .map_err(|(error, _refused)| error)
    }

    /// Cancels every task (a runtime's shutdown); see [`Runner::cancel_all`].
    ///
    /// # Safety
    ///
    /// As for [`Runner::cancel_all`]: every task in this memory belongs to `runner`'s executor.
    pub(crate) unsafe fn cancel_all(&self, runner: &Runner) -> usize {
        // SAFETY: by our caller.
        unsafe {
            self.c256.cancel_all(runner)
                + self.c1k.cancel_all(runner)
                + self.c4k.cancel_all(runner)
                + self.c16k.cancel_all(runner)
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

    /// Task slots now, all classes together (the reservation plus what the classes grew by).
    pub fn capacity(&self) -> usize {
        self.class_capacities().iter().sum()
    }

    /// How many more tasks each class may take before a spawn into it fails, smallest class
    /// first: its limit less its live tasks (about `usize::MAX` for a class without a limit).
    /// Racy by nature: other threads spawn and finish tasks meanwhile.
    pub fn class_rooms(&self) -> [usize; 4] {
        [
            self.c256.room(),
            self.c1k.room(),
            self.c4k.room(),
            self.c16k.room(),
        ]
    }

    /// Task slots now per class, smallest first.
    pub fn class_capacities(&self) -> [usize; 4] {
        [
            self.c256.capacity(),
            self.c1k.capacity(),
            self.c4k.capacity(),
            self.c16k.capacity(),
        ]
    }
}

impl std::fmt::Debug for TaskMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskMemory")
            .field("len", &self.len())
            .field("class_capacities", &self.class_capacities())
            .finish()
    }
}

/// Reserves the task memory `options` describe, leaked.
pub(crate) fn reserve(options: &Options) -> &'static TaskMemory {
    let counts = options.slots();
    let limits = options.class_limits();
    Box::leak(Box::new(TaskMemory {
        c256: Class::new(NAMES[0], counts[0], limits[0]),
        c1k: Class::new(NAMES[1], counts[1], limits[1]),
        c4k: Class::new(NAMES[2], counts[2], limits[2]),
        c16k: Class::new(NAMES[3], counts[3], limits[3]),
    }))
}

/// How far task memory may grow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Limit {
    /// As far as memory allows.
    None,
    /// Not beyond the reservation.
    Fixed,
    /// At most these slots per class.
    Slots([usize; 4]),
}

/// The settings every host runtime shares: task memory. A driver's builder holds one and
/// forwards its methods.
///
/// Task memory has two settings: how many slots are reserved when the runtime is built
/// ([`task_capacity`](Options::task_capacity), [`task_slots`](Options::task_slots)), and how far
/// a class may grow when its slots run out ([`task_limit`](Options::task_limit),
/// [`task_slot_limits`](Options::task_slot_limits), [`fixed`](Options::fixed); by default, as
/// far as memory allows). A class at its limit refuses spawns with
/// [`SpawnError::PoolFull`]: backpressure for a server that would
/// rather turn a client away than run out of memory.
///
/// # Examples
///
/// ```
/// use ebbtide_host::Options;
///
/// let options = Options::new(1024).task_slots([8, 4, 2, 1]);
/// assert_eq!(options.slots(), [8, 4, 2, 1]);
/// assert_eq!(options.class_limits(), [usize::MAX; 4]);
/// assert_eq!(options.clone().fixed().class_limits(), [8, 4, 2, 1]);
/// assert_eq!(options.task_limit(64).class_limits(), [64, 32, 16, 4]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    task_slots: [usize; 4],
    limit: Limit,
}

impl Options {
    /// Room for about `tasks` tasks reserved up front (see
    /// [`task_capacity`](Options::task_capacity)), growing without limit.
    pub fn new(tasks: usize) -> Options {
        Options {
            task_slots: slots_per_class(tasks),
            limit: Limit::None,
        }
    }

    /// Reserves, when the runtime is built, room for `n` tasks of up to 256 bytes, `n / 2` of
    /// up to 1 KiB, `n / 4` of 4 KiB and `n / 16` of 16 KiB (at least a few of each): about
    /// 2.8 MiB for 1,024. A class grows beyond its reservation when it runs out, unless a limit
    /// says otherwise.
    pub fn task_capacity(mut self, n: usize) -> Options {
        self.task_slots = slots_per_class(n);
        self
    }

    /// Slots per size class reserved when the runtime is built, smallest first (256 B, 1 KiB,
    /// 4 KiB, 16 KiB).
    pub fn task_slots(mut self, slots: [usize; 4]) -> Options {
        self.task_slots = slots;
        self
    }

    /// Lets the classes grow to at most what [`task_capacity(n)`](Options::task_capacity)
    /// reserves: `n` tasks of up to 256 bytes, `n / 2` of 1 KiB, `n / 4` of 4 KiB, `n / 16` of
    /// 16 KiB (at least a few of each). A reservation above the limit is cut to it.
    pub fn task_limit(self, n: usize) -> Options {
        self.task_slot_limits(slots_per_class(n))
    }

    /// The most slots each class may grow to, smallest first.
    pub fn task_slot_limits(mut self, limits: [usize; 4]) -> Options {
        self.limit = Limit::Slots(limits);
        self
    }

    /// Never grows: the reservation is all the task memory there is.
    pub fn fixed(mut self) -> Options {
        self.limit = Limit::Fixed;
        self
    }

    /// Removes the limit: classes grow as far as memory allows (the default).
    pub fn unlimited(mut self) -> Options {
        self.limit = Limit::None;
        self
    }

    /// The slots per size class reserved when the runtime is built (before the limit cuts
    /// them).
    pub fn slots(&self) -> [usize; 4] {
        self.task_slots
    }

    /// The most slots each class may have (`usize::MAX`: no limit).
    pub fn class_limits(&self) -> [usize; 4] {
        match self.limit {
            Limit::None => [usize::MAX; 4],
            Limit::Fixed => self.task_slots,
            Limit::Slots(limits) => limits,
        }
    }

    /// The most task slots over every class, if the memory is limited.
    pub fn total_limit(&self) -> Option<usize> {
        match self.limit {
            Limit::None => None,
            _ => Some(
                self.class_limits()
                    .iter()
                    .fold(0usize, |a, b| a.saturating_add(*b)),
            ),
        }
    }
}

impl Default for Options {
    /// Room for 1,024 tasks reserved, growing without limit.
    fn default() -> Options {
        Options::new(1024)
    }
}
