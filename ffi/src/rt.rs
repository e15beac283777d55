//! The runtime behind `ebbtide_rt`: an ebbtide-std [`Runtime`], a stop signal, and the queue of
//! completions that other threads post for the runtime to call back.

use std::cell::Cell;
use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, TryLockError};

use ebbtide_std::runtime::SLOT_SIZES;
use ebbtide_std::sync::Notify;
use ebbtide_std::{Handle, JoinHandle, Runtime, SpawnError};

use crate::error::{io_code, EAGAIN, EBBTIDE_EPANIC, EBUSY, ECANCELED, EDEADLK, ESHUTDOWN};
use crate::raw::Callback;
use crate::table::table;

/// Settings for `ebbtide_rt_new`. Zero-initialise it and set what
/// you need: every field left 0 takes its default.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
#[allow(non_camel_case_types)]
pub struct ebbtide_rt_options {
    /// How many operations may be in flight at once: tasks of `ebbtide_spawn`, pending timers,
    /// and pending TCP accepts, connects, reads and writes each take one task slot. Reserved
    /// when the runtime is built (256 bytes a slot: a million take 256 MB), and a hard limit:
    /// past it, calls return `-EAGAIN`. Default 1024.
    pub task_capacity: u32,
    /// How many sockets may be registered with the runtime at once. Default 4096.
    pub io_capacity: u32,
    /// How many worker threads run tasks and callbacks: the thread in `ebbtide_rt_run` and
    /// `worker_threads - 1` threads of the runtime's own. Default 1 (or the
    /// `EBBTIDE_WORKER_THREADS` environment variable).
    pub worker_threads: u32,
}

/// A runtime, as C sees it: opaque, made by `ebbtide_rt_new`, freed by `ebbtide_rt_free`.
#[allow(non_camel_case_types)]
pub struct ebbtide_rt {
    /// `None` once freeing started. Locked by `ebbtide_rt_run` for as long as it runs.
    runtime: Mutex<Option<Runtime>>,
    pub(crate) shared: Arc<RtShared>,
}

/// The part of a runtime that tasks, handles and other threads share.
pub(crate) struct RtShared {
    handle: Handle,
    /// Set when `ebbtide_rt_free` starts: every call that would start work refuses then.
    closing: AtomicBool,
    /// Set by `ebbtide_rt_stop`; the run that sees it returns (and clears it).
    stop: AtomicBool,
    /// Wakes the run loop: a stop, or a posted completion.
    wake: Notify,
    /// Completions posted from any thread, called by the run loop in order.
    queue: Mutex<VecDeque<(Callback, i64)>>,
}

thread_local! {
    /// The runtime whose callback this thread is calling, if any.
    static IN_CALLBACK: Cell<*const RtShared> = const { Cell::new(std::ptr::null()) };
    /// Set while this thread is inside `spawn`: a future dropped then was refused.
    static SPAWNING: Cell<bool> = const { Cell::new(false) };
}

/// `IN_CALLBACK` in a callback called where the runtime is not known: no runtime's address.
const UNKNOWN_RT: *const RtShared = std::ptr::dangling();

/// Whether this thread is running a callback of some runtime.
pub(crate) fn in_callback() -> bool {
    !IN_CALLBACK.with(Cell::get).is_null()
}

impl RtShared {
    /// `-ESHUTDOWN` once the runtime is being freed.
    pub(crate) fn check_open(&self) -> Result<(), i32> {
        if self.closing.load(Ordering::Acquire) {
            Err(ESHUTDOWN)
        } else {
            Ok(())
        }
    }

    /// Calls `cb` with `result` on this thread, as a callback of this runtime.
    pub(crate) fn call(&self, cb: Callback, result: i64) {
        let outer = IN_CALLBACK.with(|current| current.replace(self));
        cb.call(result);
        IN_CALLBACK.with(|current| current.set(outer));
    }

    /// Queues `cb(result)` for the run loop (from any thread).
    pub(crate) fn post(&self, cb: Callback, result: i64) {
        self.queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_back((cb, result));
        self.wake.notify_one();
    }

    /// Spawns `future` on this runtime: on the current worker when called from one of its
    /// callbacks, else through its handle. `-EAGAIN` when the task memory is full,
    /// `-ESHUTDOWN` when the runtime is being freed. A refused future is dropped without
    /// calling the callback of the [`Completion`] inside it.
    pub(crate) fn spawn<F>(&self, future: F) -> Result<JoinHandle<()>, i32>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        // Every task of this crate fits ebbtide-std's smallest size class, the only one `new`
        // reserves (and allows): a larger future does not compile.
        const {
            assert!(
                size_of::<F>() <= SLOT_SIZES[0],
                "an ebbtide-ffi task must fit a 256-byte task slot: box its large state"
            )
        };
        self.check_open()?;
        let here = std::ptr::eq(IN_CALLBACK.with(Cell::get), self);
        let outer = SPAWNING.with(|spawning| spawning.replace(true));
        let spawned = if here {
            ebbtide_std::spawn(future)
        } else {
            self.handle.spawn(future)
        };
        SPAWNING.with(|spawning| spawning.set(outer));
        spawned.map_err(|error| match error {
            SpawnError::PoolFull { .. } => EAGAIN,
            _ => ESHUTDOWN,
        })
    }

    fn take_queue(&self, into: &mut VecDeque<(Callback, i64)>) {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        std::mem::swap(&mut *queue, into);
    }
}

/// A callback owed to C, held by the task doing the operation: called exactly once, with the
/// result by [`complete`](Completion::complete), or with `-ECANCELED` (`EBBTIDE_EPANIC` while
/// panicking) when the task is dropped first (closed handle, cancelled timer, freed runtime).
/// A future refused by [`RtShared::spawn`] is dropped without a call: the API returned the
/// error instead.
pub(crate) struct Completion {
    cb: Option<Callback>,
}

impl Completion {
    pub(crate) fn new(cb: Callback) -> Completion {
        Completion { cb: Some(cb) }
    }

    /// Calls the callback with `result`, as a callback of `rt`.
    pub(crate) fn complete(mut self, rt: &RtShared, result: i64) {
        if let Some(cb) = self.cb.take() {
            rt.call(cb, result);
        }
    }
}

impl Drop for Completion {
    fn drop(&mut self) {
        let Some(cb) = self.cb.take() else { return };
        if SPAWNING.with(Cell::get) {
            return;
        }
        let code = if std::thread::panicking() {
            EBBTIDE_EPANIC
        } else {
            ECANCELED
        };
        // Which runtime is not known here: mark the thread as in a callback of none in
        // particular (so `ebbtide_rt_free` refuses, and spawns go through the handle).
        let outer = IN_CALLBACK.with(|current| current.replace(UNKNOWN_RT));
        cb.call(code.into());
        IN_CALLBACK.with(|current| current.set(outer));
    }
}

/// `ebbtide_rt_new`.
pub(crate) fn new(options: Option<&ebbtide_rt_options>) -> Result<Box<ebbtide_rt>, i32> {
    let options = options.copied().unwrap_or_default();
    let tasks = match options.task_capacity {
        0 => 1024,
        n => n as usize,
    };
    // Every task of this crate fits the smallest size class (see `RtShared::spawn`): `tasks`
    // slots of it, reserved and the limit, and none of the larger classes (whose default
    // reservation, `tasks / 2` of 1 KiB, `tasks / 4` of 4 KiB and `tasks / 16` of 16 KiB, took
    // 2.1 GB and 4 s to build for a million tasks, all unused).
    let slots = [tasks, 0, 0, 0];
    let mut builder = Runtime::builder().task_slots(slots).task_slot_limits(slots);
    if options.io_capacity != 0 {
        builder = builder.io_capacity(options.io_capacity as usize);
    }
    if options.worker_threads != 0 {
        builder = builder.worker_threads(options.worker_threads as usize);
    }
    let runtime = builder.build().map_err(|e| io_code(&e))?;
    let shared = Arc::new(RtShared {
        handle: runtime.handle(),
        closing: AtomicBool::new(false),
        stop: AtomicBool::new(false),
        wake: Notify::new(),
        queue: Mutex::new(VecDeque::new()),
    });
    Ok(Box::new(ebbtide_rt {
        runtime: Mutex::new(Some(runtime)),
        shared,
    }))
}

/// `ebbtide_rt_run`.
pub(crate) fn run(rt: &ebbtide_rt) -> i32 {
    if in_callback() || Handle::try_current().is_some() {
        return EDEADLK;
    }
    let runtime = match rt.runtime.try_lock() {
        Ok(runtime) => runtime,
        Err(TryLockError::WouldBlock) => return EBUSY,
        Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
    };
    let Some(runtime) = runtime.as_ref() else {
        return ESHUTDOWN;
    };
    runtime.block_on(run_loop(rt.shared.clone()));
    0
}

/// Calls posted completions until a stop is requested.
async fn run_loop(shared: Arc<RtShared>) {
    let mut batch = VecDeque::new();
    loop {
        shared.take_queue(&mut batch);
        let called = !batch.is_empty();
        for (cb, result) in batch.drain(..) {
            shared.call(cb, result);
        }
        if shared.stop.swap(false, Ordering::AcqRel) {
            return;
        }
        if called {
            // Let the worker's other tasks run between batches.
            ebbtide_std::task::yield_now().await;
        } else {
            shared.wake.notified().await;
        }
    }
}

/// `ebbtide_rt_stop`.
pub(crate) fn stop(rt: &ebbtide_rt) {
    rt.shared.stop.store(true, Ordering::Release);
    rt.shared.wake.notify_one();
}

/// `ebbtide_rt_free`, up to the release of `rt`'s memory, which the caller does when this
/// returns `true`. `false` (nothing done) when called from a callback or while running.
///
/// By shared reference: a refused call may come from a callback inside `ebbtide_rt_run`, which
/// holds its own reference to `rt` meanwhile, so taking ownership before knowing would alias it.
pub(crate) fn free(rt: &ebbtide_rt) -> bool {
    if in_callback() {
        return false;
    }
    let runtime = match rt.runtime.try_lock() {
        Ok(mut runtime) => Some(runtime.take()),
        Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner().take()),
        Err(TryLockError::WouldBlock) => None,
    };
    let Some(runtime) = runtime else {
        return false;
    };
    let shared = rt.shared.clone();
    shared.closing.store(true, Ordering::Release);
    // The callbacks called below run as this runtime's: `ebbtide_rt_free` refuses in them.
    let outer = IN_CALLBACK.with(|current| current.replace(Arc::as_ptr(&shared)));
    // Handles first (their channels post -ECANCELED for what waits on them), dropped outside
    // the table's lock; then the runtime, whose tasks call their callbacks with -ECANCELED as
    // they are dropped; then the completions still queued.
    let entries = table().remove_all_of(&shared);
    drop(entries);
    drop(runtime);
    let mut batch = VecDeque::new();
    loop {
        shared.take_queue(&mut batch);
        if batch.is_empty() {
            break;
        }
        for (cb, result) in batch.drain(..) {
            cb.call(result);
        }
    }
    IN_CALLBACK.with(|current| current.set(outer));
    true
}
