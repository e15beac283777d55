//! Loom models of the wake and run-queue path: every interleaving of a wake (or spawn) from
//! another thread with the executor's poll must end with the task run, and with the wake hook
//! called whenever the executor might otherwise sleep through the wake.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p ebbtide-core --release --test loom_run_queue`.
#![cfg(loom)]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use ebbtide_core::{Executor, JoinHandle, Runner, TaskPool};
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::sync::{Arc, Mutex};

fn leak<T>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}

/// An executor whose hook raises a flag, as a driver's wait would see it.
fn executor_with_flag() -> (&'static Executor, &'static AtomicBool) {
    let flag: &'static AtomicBool = leak(AtomicBool::new(false));
    let hook: &'static (dyn Fn() + Send + Sync) = leak(move || flag.store(true, Ordering::SeqCst));
    (leak(Executor::with_wake_hook(hook)), flag)
}

/// The driver loop: poll; when nothing is ready, "sleep" until the hook fires.
fn drive_until_finished<T>(runner: &Runner, flag: &AtomicBool, handle: &JoinHandle<T>) {
    loop {
        flag.store(false, Ordering::SeqCst);
        let more = runner.poll();
        if handle.is_finished() {
            return;
        }
        if !more {
            // A lost wake-up would leave us here forever: loom reports the livelock.
            while !flag.load(Ordering::SeqCst) {
                loom::thread::yield_now();
            }
        }
    }
}

/// Parks once, publishing its waker; completes when polled after `ready` is set.
struct WaitForFlag {
    ready: Arc<AtomicBool>,
    waker: Arc<Mutex<Option<Waker>>>,
}

impl Future for WaitForFlag {
    type Output = usize;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        *self.waker.lock().unwrap() = Some(cx.waker().clone());
        if self.ready.load(Ordering::SeqCst) {
            Poll::Ready(7)
        } else {
            Poll::Pending
        }
    }
}

/// The other side of a [`WaitForFlag`]: sets its flag and wakes it, if it published a waker.
struct Release {
    ready: Arc<AtomicBool>,
    waker: Arc<Mutex<Option<Waker>>>,
}

impl Release {
    fn release(self) {
        self.ready.store(true, Ordering::SeqCst);
        let waker = self.waker.lock().unwrap().clone();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// Spawns a [`WaitForFlag`] task in `pool`; the [`Release`] lets it finish.
fn spawn_waiting(runner: &Runner, pool: &'static TaskPool<1, 128>) -> (JoinHandle<usize>, Release) {
    let ready = Arc::new(AtomicBool::new(false));
    let waker = Arc::new(Mutex::new(None::<Waker>));
    let handle = runner
        .spawner()
        .spawn(
            pool,
            WaitForFlag {
                ready: ready.clone(),
                waker: waker.clone(),
            },
        )
        .unwrap();
    (handle, Release { ready, waker })
}

#[test]
fn wake_from_another_thread_is_never_lost() {
    loom::model(|| {
        let (executor, flag) = executor_with_flag();
        let pool: &'static TaskPool<1, 128> = leak(TaskPool::new());
        let runner = executor.runner().unwrap();
        let (handle, release) = spawn_waiting(&runner, pool);

        let waking = loom::thread::spawn(move || release.release());
        drive_until_finished(&runner, flag, &handle);
        waking.join().unwrap();
        assert!(handle.is_finished());
    });
}

#[test]
fn spawn_from_another_thread_reaches_a_sleeping_executor() {
    loom::model(|| {
        let (executor, flag) = executor_with_flag();
        let pool: &'static TaskPool<2, 64> = leak(TaskPool::new());
        let runner = executor.runner().unwrap();
        let ran: &'static AtomicUsize = leak(AtomicUsize::new(0));
        let spawner = executor.send_spawner();
        let remote = loom::thread::spawn(move || {
            spawner
                .spawn(pool, async move {
                    ran.fetch_add(1, Ordering::SeqCst);
                })
                .unwrap()
        });
        // Sleep like a driver until the remote spawn's hook fires, then run it.
        loop {
            flag.store(false, Ordering::SeqCst);
            if !runner.poll() && ran.load(Ordering::SeqCst) == 0 {
                while !flag.load(Ordering::SeqCst) {
                    loom::thread::yield_now();
                }
            }
            if ran.load(Ordering::SeqCst) == 1 {
                break;
            }
        }
        let handle = remote.join().unwrap();
        assert!(handle.is_finished());
    });
}

#[test]
fn abort_races_with_completion_and_handle_drop() {
    loom::model(|| {
        let (executor, flag) = executor_with_flag();
        let pool: &'static TaskPool<1, 128> = leak(TaskPool::new());
        let runner = executor.runner().unwrap();
        let (handle, release) = spawn_waiting(&runner, pool);
        runner.poll(); // parks, waker published
        let handle = Arc::new(Mutex::new(Some(handle)));
        let h2 = handle.clone();
        let aborter = loom::thread::spawn(move || {
            if let Some(h) = h2.lock().unwrap().as_ref() {
                h.abort();
            }
        });
        release.release();
        // Either the task completed (output 7) or was cancelled; never both, never neither.
        loop {
            flag.store(false, Ordering::SeqCst);
            let more = runner.poll();
            let finished = handle.lock().unwrap().as_ref().unwrap().is_finished();
            if finished {
                break;
            }
            if !more {
                while !flag.load(Ordering::SeqCst) {
                    loom::thread::yield_now();
                }
            }
        }
        aborter.join().unwrap();
        let h = handle.lock().unwrap().take().unwrap();
        let result = ebbtide_core::block_on(h);
        assert!(
            matches!(result, Ok(7) | Err(ebbtide_core::JoinError::Cancelled)),
            "{result:?}"
        );
        // A wake that raced with completion may leave the finished task queued once more; the
        // executor lets the slot go when it reaches it.
        runner.poll();
        assert!(pool.is_empty(), "the slot is free once the handle is gone");
        drop(runner);
    });
}

/// `Runner::run_forever` goes to sleep as it takes a batch (one swap, no compare-and-swap): a
/// wake from another thread at any point of its loop still reaches the hook, or lands in a batch
/// it takes, so its `idle` (here: wait for the hook's flag) never sleeps through it.
#[test]
fn run_forever_never_sleeps_through_a_wake() {
    loom::model(|| {
        let (executor, flag) = executor_with_flag();
        let pool: &'static TaskPool<1, 128> = leak(TaskPool::new());
        let mut runner = executor.runner().unwrap();
        let (handle, release) = spawn_waiting(&runner, pool);

        let waking = loom::thread::spawn(move || release.release());
        runner.run_forever_until(|| {
            if handle.is_finished() {
                return true;
            }
            // A lost wake-up would leave us here forever: loom reports the livelock. The flag is
            // cleared after the wait, not before: a hook call before this `idle` still counts
            // (and one between the load and the clear belongs to a push that the next batch
            // takes).
            while !flag.load(Ordering::SeqCst) {
                loom::thread::yield_now();
            }
            flag.store(false, Ordering::SeqCst);
            false
        });
        waking.join().unwrap();
        assert!(handle.is_finished());
    });
}
