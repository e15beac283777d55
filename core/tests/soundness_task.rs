//! Soundness regressions of the task lifecycle, each the adversarial case of a promise:
//!
//! - a future whose destructor panics while its task is aborted or cancelled is dropped once,
//!   never twice (the task completes even though its drop unwound);
//! - a future whose `poll` panics is dropped (its destructor runs) before its slot is handed to
//!   another task, so a pinned wait-list node inside it is unlinked, never written over.
//!
//! These run under Miri with several seeds in CI (`cargo xtask ci --only miri`): a double drop
//! or a write through a stale wait-list node is a use-after-free that Miri reports.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

use ebbtide_core::sync::Notify;
use ebbtide_core::{Executor, JoinError, TaskPool};

/// Owns a heap allocation (so a second drop is a double free that Miri and the allocator see)
/// and panics the first time it is dropped while `panic_once` is set.
struct PanickyGuard {
    drops: &'static AtomicUsize,
    panic_once: &'static AtomicBool,
    _heap: Box<u64>,
}

impl Drop for PanickyGuard {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
        if self.panic_once.swap(false, Ordering::SeqCst) {
            panic!("a destructor that panics");
        }
    }
}

/// Stays pending forever, keeping the last waker it was given in `kept`.
struct PendingKeepingWaker {
    _guard: PanickyGuard,
    kept: &'static Mutex<Option<Waker>>,
}

impl Future for PendingKeepingWaker {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        *self.kept.lock().unwrap() = Some(cx.waker().clone());
        Poll::Pending
    }
}

#[test]
fn a_destructor_that_panics_during_abort_runs_once() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1, 128> = TaskPool::new();
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    static PANIC_ONCE: AtomicBool = AtomicBool::new(true);
    static KEPT: Mutex<Option<Waker>> = Mutex::new(None);

    let runner = EXECUTOR.runner().unwrap();
    let handle = runner
        .spawner()
        .spawn(
            &POOL,
            PendingKeepingWaker {
                _guard: PanickyGuard {
                    drops: &DROPS,
                    panic_once: &PANIC_ONCE,
                    _heap: Box::new(1),
                },
                kept: &KEPT,
            },
        )
        .unwrap();
    assert!(!runner.poll(), "the task is idle, waiting");
    handle.abort();
    // The executor drops the aborted future; its destructor panics out of `poll`.
    assert!(catch_unwind(AssertUnwindSafe(|| runner.poll())).is_err());
    assert_eq!(DROPS.load(Ordering::SeqCst), 1);
    assert!(
        handle.is_finished(),
        "the task completed although its drop unwound"
    );

    // The task's own waker still exists (its timer, IO readiness, or a kept clone): waking it
    // must not bring the dropped future back.
    KEPT.lock().unwrap().take().unwrap().wake();
    while runner.poll() {}
    assert_eq!(
        DROPS.load(Ordering::SeqCst),
        1,
        "the future was dropped twice"
    );
    assert_eq!(runner.run_until(handle, || {}), Err(JoinError::Cancelled));
    assert!(POOL.is_empty());
}

#[test]
fn a_destructor_that_panics_during_cancel_all_runs_once() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<2, 128> = TaskPool::new();
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    static PANIC_ONCE: AtomicBool = AtomicBool::new(true);
    static KEPT: Mutex<Option<Waker>> = Mutex::new(None);
    static OTHER_KEPT: Mutex<Option<Waker>> = Mutex::new(None);
    static OTHER_DROPS: AtomicUsize = AtomicUsize::new(0);
    static NEVER: AtomicBool = AtomicBool::new(false);

    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    let panicky = spawner
        .spawn(
            &POOL,
            PendingKeepingWaker {
                _guard: PanickyGuard {
                    drops: &DROPS,
                    panic_once: &PANIC_ONCE,
                    _heap: Box::new(2),
                },
                kept: &KEPT,
            },
        )
        .unwrap();
    let other = spawner
        .spawn(
            &POOL,
            PendingKeepingWaker {
                _guard: PanickyGuard {
                    drops: &OTHER_DROPS,
                    panic_once: &NEVER,
                    _heap: Box::new(3),
                },
                kept: &OTHER_KEPT,
            },
        )
        .unwrap();
    assert!(!runner.poll());

    // Shutdown drops idle tasks right away, on this thread; the first destructor panics.
    // SAFETY: only EXECUTOR spawns into POOL.
    let first = catch_unwind(AssertUnwindSafe(|| unsafe { runner.cancel_all(&POOL) }));
    assert!(first.is_err());
    assert!(panicky.is_finished());
    // A second shutdown pass (what a driver does after a panic) finishes the rest and must not
    // touch the task whose drop already ran.
    // SAFETY: as above.
    let cancelled = unsafe { runner.cancel_all(&POOL) };
    assert_eq!(cancelled, 1, "only the other task was still unfinished");
    KEPT.lock().unwrap().take().unwrap().wake();
    while runner.poll() {}
    assert_eq!(
        DROPS.load(Ordering::SeqCst),
        1,
        "the future was dropped twice"
    );
    assert_eq!(OTHER_DROPS.load(Ordering::SeqCst), 1);
    assert_eq!(runner.run_until(panicky, || {}), Err(JoinError::Cancelled));
    assert_eq!(runner.run_until(other, || {}), Err(JoinError::Cancelled));
    assert!(POOL.is_empty());
}

/// A hand-written struct future (the shape of `futures::join`, `select`, ...) whose `Notified`
/// node is a field, so it lives in the task's slot: it registers the node in the `Notify`'s
/// wait list, then panics in the same poll.
struct InlineRegisterThenPanic {
    notified: ebbtide_core::sync::notify::Notified<'static>,
    drops: &'static AtomicUsize,
}

impl Future for InlineRegisterThenPanic {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // SAFETY: `notified` is structurally pinned: it is never moved out of `self`, and
        // `InlineRegisterThenPanic` has no `Unpin` impl of its own (Notified is !Unpin).
        let notified = unsafe { self.map_unchecked_mut(|s| &mut s.notified) };
        assert!(notified.poll(cx).is_pending());
        panic!("a poll that panics after registering in a wait list");
    }
}

impl Drop for InlineRegisterThenPanic {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_task_that_panics_is_dropped_before_its_slot_is_reused() {
    static EXECUTOR: Executor = Executor::new();
    // One slot: the next spawn reuses it.
    static POOL: TaskPool<1, 256> = TaskPool::new();
    static NOTIFY: Notify = Notify::new();
    static DROPS: AtomicUsize = AtomicUsize::new(0);

    let runner = EXECUTOR.runner().unwrap();
    let handle = runner
        .spawner()
        .spawn(
            &POOL,
            InlineRegisterThenPanic {
                notified: NOTIFY.notified(),
                drops: &DROPS,
            },
        )
        .unwrap();
    assert!(catch_unwind(AssertUnwindSafe(|| runner.poll())).is_err());
    // The future's destructor runs before the slot can be handed out again (it may run in a
    // later poll of the executor, outside the unwinding).
    while runner.poll() {}
    assert_eq!(
        DROPS.load(Ordering::SeqCst),
        1,
        "the panicked future was never dropped"
    );
    assert_eq!(runner.run_until(handle, || {}), Err(JoinError::Panicked));

    // The slot is free again, and its old node left the wait list: a new task written over it
    // is not disturbed by the notify.
    let next = runner
        .spawner()
        .spawn(&POOL, async {
            let bytes = [0xA5u8; 200];
            ebbtide_core::task::yield_now().await;
            bytes.iter().map(|&b| u32::from(b)).sum::<u32>()
        })
        .unwrap();
    assert!(runner.poll());
    NOTIFY.notify_waiters();
    NOTIFY.notify_one();
    assert_eq!(runner.run_until(next, || {}), Ok(0xA5 * 200));
    assert!(POOL.is_empty());
}

/// Returns `Ready` at once while holding a guard whose destructor panics: the executor's drop of
/// the finished future (before it stores the output) unwinds.
struct ReadyWithPanickyGuard {
    _guard: PanickyGuard,
}

impl Future for ReadyWithPanickyGuard {
    type Output = u32;
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<u32> {
        Poll::Ready(9)
    }
}

#[test]
fn a_panic_in_the_destructor_after_ready_is_not_dropped_again() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1, 128> = TaskPool::new();
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    static PANIC_ONCE: AtomicBool = AtomicBool::new(true);

    let runner = EXECUTOR.runner().unwrap();
    let handle = runner
        .spawner()
        .spawn(
            &POOL,
            ReadyWithPanickyGuard {
                _guard: PanickyGuard {
                    drops: &DROPS,
                    panic_once: &PANIC_ONCE,
                    _heap: Box::new(4),
                },
            },
        )
        .unwrap();
    assert!(catch_unwind(AssertUnwindSafe(|| runner.poll())).is_err());
    while runner.poll() {}
    assert_eq!(
        DROPS.load(Ordering::SeqCst),
        1,
        "the future was dropped twice"
    );
    assert_eq!(runner.run_until(handle, || {}), Err(JoinError::Panicked));
    assert!(POOL.is_empty());
}

/// Polls pending once (publishing its waker), then panics on its next poll.
struct PanicOnSecondPoll {
    _guard: PanickyGuard,
    kept: &'static Mutex<Option<Waker>>,
    polled: bool,
}

impl Future for PanicOnSecondPoll {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.polled {
            panic!("a poll that panics while another thread wakes the task");
        }
        self.polled = true;
        *self.kept.lock().unwrap() = Some(cx.waker().clone());
        Poll::Pending
    }
}

#[test]
fn wakes_from_another_thread_race_a_panicking_poll_and_its_deferred_drop() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1, 128> = TaskPool::new();
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    static NEVER: AtomicBool = AtomicBool::new(false);
    static KEPT: Mutex<Option<Waker>> = Mutex::new(None);
    static STOP: AtomicBool = AtomicBool::new(false);

    let runner = EXECUTOR.runner().unwrap();
    let handle = runner
        .spawner()
        .spawn(
            &POOL,
            PanicOnSecondPoll {
                _guard: PanickyGuard {
                    drops: &DROPS,
                    panic_once: &NEVER,
                    _heap: Box::new(5),
                },
                kept: &KEPT,
                polled: false,
            },
        )
        .unwrap();
    assert!(!runner.poll());
    let waker = KEPT.lock().unwrap().take().unwrap();
    // Another thread wakes the task over and over: while it waits, while its poll panics, while
    // the panicked future waits in the queue to be dropped, and after it completed.
    let waking = std::thread::spawn(move || {
        let rounds = if cfg!(miri) { 20 } else { 10_000 };
        for _ in 0..rounds {
            if STOP.load(Ordering::SeqCst) {
                break;
            }
            waker.wake_by_ref();
            std::thread::yield_now();
        }
        waker.wake();
    });
    while !handle.is_finished() {
        // The poll that panics unwinds out of `poll`; the ones around it do not.
        let _ = catch_unwind(AssertUnwindSafe(|| runner.poll()));
        std::thread::yield_now();
    }
    STOP.store(true, Ordering::SeqCst);
    waking.join().unwrap();
    while runner.poll() {}
    assert_eq!(
        DROPS.load(Ordering::SeqCst),
        1,
        "dropped once, however the wakes fell"
    );
    assert_eq!(runner.run_until(handle, || {}), Err(JoinError::Panicked));
    assert!(POOL.is_empty());
}
