//! Loom models of a task's end of life: a `JoinHandle` polled or dropped on another thread while
//! the executor completes the task, and a stale waker of a finished task woken while its slot is
//! handed to a new task. Loom checks every interleaving, and (through the storage tracker cell in
//! each task header) that the task's storage never has two owners at once.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p ebbtide-core --release --test loom_task`.
#![cfg(loom)]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Wake, Waker};

use ebbtide_core::{Executor, TaskPool};
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::sync::{Arc, Mutex};
use std::sync::{Arc as StdArc, Mutex as StdMutex};

fn leak<T>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}

/// A task output that counts its drops: it must be dropped exactly once, by whoever ends up
/// owning it (the handle that takes it, or whoever frees the slot).
struct Output(Arc<AtomicUsize>);

impl Drop for Output {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A waker that raises a flag (a model's stand-in for "this thread would be unparked").
struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[test]
fn join_handle_poll_races_with_completion() {
    loom::model(|| {
        let executor: &'static Executor = leak(Executor::new());
        let pool: &'static TaskPool<1, 64> = leak(TaskPool::new());
        let runner = executor.runner().unwrap();
        let drops = Arc::new(AtomicUsize::new(0));
        let output = Output(drops.clone());
        let mut handle = runner.spawner().spawn(pool, async move { output }).unwrap();

        let joiner = loom::thread::spawn(move || {
            let flag = std::sync::Arc::new(Flag(AtomicBool::new(false)));
            let waker = Waker::from(flag.clone());
            let mut cx = Context::from_waker(&waker);
            loop {
                match Pin::new(&mut handle).poll(&mut cx) {
                    Poll::Ready(result) => return result.is_ok(),
                    // A lost join wake-up would leave us here forever: loom reports it.
                    Poll::Pending => {
                        while !flag.0.load(Ordering::SeqCst) {
                            loom::thread::yield_now();
                        }
                        flag.0.store(false, Ordering::SeqCst);
                    }
                }
            }
        });
        runner.poll();
        assert!(joiner.join().unwrap(), "the handle got the output");
        assert_eq!(
            drops.load(Ordering::SeqCst),
            1,
            "the output is dropped once"
        );
        assert!(pool.is_empty());
    });
}

#[test]
fn join_handle_drop_races_with_completion() {
    loom::model(|| {
        let executor: &'static Executor = leak(Executor::new());
        let pool: &'static TaskPool<1, 64> = leak(TaskPool::new());
        let runner = executor.runner().unwrap();
        let drops = Arc::new(AtomicUsize::new(0));
        let output = Output(drops.clone());
        let mut handle = runner.spawner().spawn(pool, async move { output }).unwrap();

        let dropper = loom::thread::spawn(move || {
            // Register a join waker first (so completion has a waker to take), then let go.
            let waker = Waker::from(std::sync::Arc::new(Flag(AtomicBool::new(false))));
            let polled = Pin::new(&mut handle).poll(&mut Context::from_waker(&waker));
            drop(handle);
            polled.is_ready()
        });
        runner.poll();
        let took_output = dropper.join().unwrap();
        // Whoever was last (the handle, or the executor) dropped the output, exactly once.
        assert_eq!(
            drops.load(Ordering::SeqCst),
            1,
            "took output: {took_output}"
        );
        assert!(pool.is_empty(), "the slot is free once both let go");
    });
}

/// Completes on its second poll (a spurious wake only costs an extra poll).
struct YieldOnce {
    polls: usize,
}

impl Future for YieldOnce {
    type Output = usize;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        self.polls += 1;
        if self.polls >= 2 {
            Poll::Ready(self.polls)
        } else {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

/// Keeps a clone of its task's waker, then finishes.
struct KeepWaker(Arc<Mutex<Option<Waker>>>);

impl Future for KeepWaker {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        *self.0.lock().unwrap() = Some(cx.waker().clone());
        Poll::Ready(())
    }
}

#[test]
fn stale_wake_races_with_slot_reuse() {
    loom::model(|| {
        let executor: &'static Executor = leak(Executor::new());
        // One slot: the second task reuses the first one's.
        let pool: &'static TaskPool<1, 64> = leak(TaskPool::new());
        let runner = executor.runner().unwrap();
        let kept = Arc::new(Mutex::new(None));
        let first = runner
            .spawner()
            .spawn(pool, KeepWaker(kept.clone()))
            .unwrap();
        runner.poll();
        assert_eq!(ebbtide_core::block_on(first), Ok(()));
        assert!(pool.is_empty());
        let stale = kept.lock().unwrap().take().unwrap();

        let waking = loom::thread::spawn(move || stale.wake());
        let second = runner
            .spawner()
            .spawn(pool, YieldOnce { polls: 0 })
            .unwrap();
        // Two batches race with the stale wake: the first polls the task (it wakes itself), the
        // second completes it, unless the stale wake took the task's SCHEDULED bit and has not
        // pushed it yet (then the self-wake did nothing, and the stale wake's push is the one
        // that brings the task back).
        runner.poll();
        runner.poll();
        waking.join().unwrap();
        runner.poll();
        assert!(second.is_finished());
        // The stale wake found the slot free, being spawned, or holding the new task: at worst
        // a spurious wake of the new task (which is never idle here: it wakes itself, so the
        // stale wake finds it queued), never a second queue entry, an extra poll or a lost task.
        runner.poll();
        assert_eq!(ebbtide_core::block_on(second), Ok(2));
        runner.poll();
        assert!(pool.is_empty());
    });
}

/// Keeps a clone of its task's waker and waits forever; counts its polls and (in `dropped`) its
/// drop. Its shared parts are std's, not loom's: a retired future is never dropped, which loom
/// would report as a leak of its `Arc`s, and only the runner's thread touches them.
struct WaitForever {
    waker: StdArc<StdMutex<Option<Waker>>>,
    polls: StdArc<std::sync::atomic::AtomicUsize>,
    dropped: StdArc<std::sync::atomic::AtomicBool>,
}

impl Future for WaitForever {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        *self.waker.lock().unwrap() = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for WaitForever {
    fn drop(&mut self) {
        self.dropped.store(true, Ordering::SeqCst);
    }
}

#[test]
fn an_uncancellable_task_retired_while_another_thread_wakes_it() {
    loom::model(|| {
        let executor: &'static Executor = leak(Executor::new());
        let pool: &'static TaskPool<1, 64> = leak(TaskPool::new());
        let runner = executor.runner().unwrap();
        let waker = StdArc::new(StdMutex::new(None));
        let polls = StdArc::new(std::sync::atomic::AtomicUsize::new(0));
        let dropped = StdArc::new(std::sync::atomic::AtomicBool::new(false));
        let future = WaitForever {
            waker: waker.clone(),
            polls: polls.clone(),
            dropped: dropped.clone(),
        };
        runner
            .spawner()
            .spawn_uncancellable(pool, move || future)
            .unwrap();
        runner.poll();
        let kept = waker.lock().unwrap().take().unwrap();

        // The wake may come before the shutdown (the task is queued: retired by the next poll),
        // during it, or after it (refused: the task is complete).
        let waking = loom::thread::spawn(move || kept.wake());
        // SAFETY: only this executor spawns into the pool.
        assert_eq!(unsafe { runner.cancel_all(pool) }, 1);
        waking.join().unwrap();
        runner.poll();
        runner.poll();
        assert_eq!(polls.load(Ordering::SeqCst), 1, "never polled again");
        assert!(!dropped.load(Ordering::SeqCst), "never dropped");
        assert_eq!(pool.len(), 1, "the slot is never freed");
        assert!(!executor.has_ready_tasks());
    });
}

/// Keeps a clone of its task's waker and wakes itself at its first poll; returns an `Output`
/// at its second.
struct KeepThenEnd {
    kept: Arc<Mutex<Option<Waker>>>,
    drops: Arc<AtomicUsize>,
    polls: usize,
}

impl Future for KeepThenEnd {
    type Output = Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Output> {
        self.polls += 1;
        if self.polls >= 2 {
            return Poll::Ready(Output(self.drops.clone()));
        }
        *self.kept.lock().unwrap() = Some(cx.waker().clone());
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// A detached task (whose end has no join protocol: `complete_detached`) completes while
/// another thread wakes it. The wake lands before the completing poll took the task out of the
/// queue (nothing to do), between that and the completion (the task is queued again, and the
/// completion passes `RUNNING` to that queue entry, whose dequeue frees the slot), or after the
/// completion (refused). In every case the output is dropped once, the slot is freed once, and
/// no queue entry is left behind; for both detached kinds.
#[test]
fn a_detached_task_completes_while_another_thread_wakes_it() {
    for uncancellable in [false, true] {
        loom::model(move || {
            let executor: &'static Executor = leak(Executor::new());
            let pool: &'static TaskPool<1, 64> = leak(TaskPool::new());
            let runner = executor.runner().unwrap();
            let kept = Arc::new(Mutex::new(None));
            let drops = Arc::new(AtomicUsize::new(0));
            let future = KeepThenEnd {
                kept: kept.clone(),
                drops: drops.clone(),
                polls: 0,
            };
            let spawner = runner.spawner();
            if uncancellable {
                spawner.spawn_uncancellable(pool, move || future).unwrap();
            } else {
                spawner.spawn_detached(pool, move || future).unwrap();
            }
            // First poll: the task keeps its waker and queues itself again.
            runner.poll();
            let waker = kept.lock().unwrap().take().unwrap();
            let waking = loom::thread::spawn(move || waker.wake());
            // Second poll: the task returns, racing the wake.
            runner.poll();
            assert_eq!(drops.load(Ordering::SeqCst), 1, "dropped as it returned");
            waking.join().unwrap();
            runner.poll();
            assert!(pool.is_empty(), "the slot is freed");
            assert!(!executor.has_ready_tasks(), "no entry left behind");
            assert_eq!(drops.load(Ordering::SeqCst), 1);
        });
    }
}

/// Waits for a flag: `Ready` once it is raised, else keeps its waker (the first poll) and waits.
struct WaitForFlag {
    flag: Arc<AtomicBool>,
    kept: Arc<Mutex<Option<Waker>>>,
}

impl Future for WaitForFlag {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.flag.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        let mut kept = self.kept.lock().unwrap();
        if kept.is_none() {
            *kept = Some(cx.waker().clone());
        }
        Poll::Pending
    }
}

/// A wake happens before the poll it causes, even when it finds its task already queued: a
/// thread raises a flag (Release) and wakes the task, which is queued (woken before) and which
/// the executor dequeues and polls meanwhile; the poll reads the flag (Acquire). Either the wake
/// queues the task again, or the poll that follows it sees the flag: the task finishes. A wake
/// that only looked at the state word (a load) when it found the task queued was ordered with
/// nothing, and the poll could read the flag from before the raise (store buffering: the wake's
/// load and the dequeue's read-modify-write each missing the other's side): a lost wake-up.
#[test]
fn a_wake_that_finds_its_task_queued_happens_before_the_poll() {
    loom::model(|| {
        let executor: &'static Executor = leak(Executor::new());
        let pool: &'static TaskPool<1, 64> = leak(TaskPool::new());
        let runner = executor.runner().unwrap();
        let flag = Arc::new(AtomicBool::new(false));
        let kept = Arc::new(Mutex::new(None));
        let handle = runner
            .spawner()
            .spawn(
                pool,
                WaitForFlag {
                    flag: flag.clone(),
                    kept: kept.clone(),
                },
            )
            .unwrap();
        // First poll: the flag is down; the task keeps its waker.
        runner.poll();
        let waker: Waker = kept.lock().unwrap().clone().unwrap();
        // Queued again, so that the other thread's wake finds it queued (or, if the dequeue
        // below comes first, queues it once more).
        waker.wake_by_ref();
        let raising = loom::thread::spawn(move || {
            flag.store(true, Ordering::Release);
            waker.wake();
        });
        runner.poll();
        raising.join().unwrap();
        while runner.poll() {}
        assert!(
            handle.is_finished(),
            "the task missed the raise and its wake"
        );
    });
}
