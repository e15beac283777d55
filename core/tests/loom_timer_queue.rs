//! Loom models of the timer queue: a timer registered on one thread while another thread's
//! `wake_expired` passes its deadline is woken exactly once, whichever runs first, for a foreign
//! waker (the waker table) and for an ebbtide task (the timing wheel, through the task's header);
//! and a task's timer scheduled through two queues at once ends up in exactly one of them.
//!
//! Under loom the queue's lock is a `loom::sync::Mutex`, and the queue a `loom::lazy_static`,
//! fresh in every execution of a model.
//!
//! Run with:
//! `RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo test -p ebbtide-core --release --test loom_timer_queue`

#![cfg(loom)]

use std::future::poll_fn;
use std::sync::atomic::{AtomicUsize as StdAtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Poll, Wake, Waker};

use ebbtide_core::time::queue;
use ebbtide_core::{Executor, TaskPool};
use loom::sync::atomic::{AtomicBool, AtomicUsize};
use loom::thread;

/// The deadline every model registers; `wake_expired` runs at it.
const AT: u64 = 100;

fn leak<T>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}

/// A foreign waker that counts its wake-ups.
struct Counter(AtomicUsize);

impl Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[test]
fn a_foreign_timer_racing_with_wake_expired_is_woken_once() {
    static RUNS: StdAtomicUsize = StdAtomicUsize::new(0);
    loom::model(|| {
        RUNS.fetch_add(1, SeqCst);
        let counter = Arc::new(Counter(AtomicUsize::new(0)));
        let waker = Waker::from(counter.clone());
        let alarm = thread::spawn(|| queue::wake_expired(AT));
        // Queued (and woken by the alarm), or judged due (the alarm ran first) and woken at once.
        queue::schedule_wake(AT, &waker);
        let next = alarm.join().unwrap();
        assert_eq!(next, None, "nothing is left for later");
        assert_eq!(counter.0.load(SeqCst), 1, "woken exactly once");
        assert_eq!(queue::next_deadline(), None);
        drop(waker);
        assert_eq!(Arc::strong_count(&counter), 1, "the queue keeps no clone");
    });
    let runs = RUNS.load(SeqCst);
    println!("explored {runs} interleavings");
    assert!(runs > 1, "the model explored only one interleaving");
}

#[test]
fn a_task_timer_racing_with_wake_expired_is_never_lost() {
    static RUNS: StdAtomicUsize = StdAtomicUsize::new(0);
    loom::model(|| {
        RUNS.fetch_add(1, SeqCst);
        // An executor whose wake hook raises a flag, as a driver's wait would see it.
        let flag: &'static AtomicBool = leak(AtomicBool::new(false));
        let hook: &'static (dyn Fn() + Send + Sync) = leak(move || flag.store(true, SeqCst));
        let executor: &'static Executor = leak(Executor::with_wake_hook(hook));
        let pool: &'static TaskPool<1, 128> = leak(TaskPool::new());
        let runner = executor.runner().unwrap();
        let polls: &'static AtomicUsize = leak(AtomicUsize::new(0));
        // Registers the task's own timer on its first poll (into the wheel, through its
        // header), finishes when polled again: only the timer's wake-up can do that.
        let handle = runner
            .spawner()
            .spawn(
                pool,
                poll_fn(move |cx| {
                    if polls.fetch_add(1, SeqCst) == 0 {
                        queue::schedule_wake(AT, cx.waker());
                        Poll::Pending
                    } else {
                        Poll::Ready(())
                    }
                }),
            )
            .unwrap();

        let alarm = thread::spawn(|| queue::wake_expired(AT));
        // The driver loop: poll; when nothing is ready, "sleep" until the hook fires. A lost
        // wake-up would leave it here forever, which loom reports.
        loop {
            flag.store(false, SeqCst);
            let more = runner.poll();
            if handle.is_finished() {
                break;
            }
            if !more {
                while !flag.load(SeqCst) {
                    thread::yield_now();
                }
            }
        }
        assert_eq!(alarm.join().unwrap(), None);
        assert_eq!(polls.load(SeqCst), 2, "one wake-up, no spurious one");
        assert_eq!(queue::next_deadline(), None);
        assert_eq!(queue::check_invariants(), 0, "the wheel is empty");
    });
    let runs = RUNS.load(SeqCst);
    println!("explored {runs} interleavings");
    assert!(runs > 1, "the model explored only one interleaving");
}

#[test]
fn a_task_timer_scheduled_through_two_queues_at_once_is_in_one() {
    use ebbtide_core::time::queue::TimerQueue;
    use std::sync::Mutex;

    // Below 64 ticks the wheel's `next_deadline` is exact.
    const EARLY: u64 = 40;
    static RUNS: StdAtomicUsize = StdAtomicUsize::new(0);
    loom::model(|| {
        RUNS.fetch_add(1, SeqCst);
        let a: &'static TimerQueue = leak(TimerQueue::with_own_lock());
        let b: &'static TimerQueue = leak(TimerQueue::with_own_lock());
        let executor: &'static Executor = leak(Executor::new());
        let pool: &'static TaskPool<1, 128> = leak(TaskPool::new());
        let runner = executor.runner().unwrap();
        let slot: &'static Mutex<Option<Waker>> = leak(Mutex::new(None));
        let _handle = runner
            .spawner()
            .spawn(
                pool,
                poll_fn(move |cx| {
                    *slot.lock().unwrap() = Some(cx.waker().clone());
                    Poll::<()>::Pending
                }),
            )
            .unwrap();
        runner.poll();
        let waker = slot.lock().unwrap().take().unwrap();
        let other = waker.clone();
        let through_a = thread::spawn(move || {
            a.schedule_wake(EARLY, &other);
        });
        b.schedule_wake(EARLY + 1, &waker);
        through_a.join().unwrap();
        // In exactly one queue, with the earlier deadline, whichever went first.
        assert_eq!(a.check_invariants() + b.check_invariants(), 1);
        let deadlines = (a.next_deadline(), b.next_deadline());
        assert!(
            deadlines == (Some(EARLY), None) || deadlines == (None, Some(EARLY)),
            "{deadlines:?}"
        );
        a.reset(0);
        b.reset(0);
    });
    let runs = RUNS.load(SeqCst);
    println!("explored {runs} interleavings");
    assert!(runs > 1, "the model explored only one interleaving");
}
