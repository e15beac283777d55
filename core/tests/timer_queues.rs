//! Several timer queues in one program: a task's timer entry is in at most one of them, and one
//! scheduled through another queue moves there (taken out of the first) instead of being linked
//! into two lists at once. With `one-timer-queue`, only the global queue links a task's entry,
//! and another queue takes the task's waker as a foreign one. Also under Miri:
//! `cargo +nightly miri test -p ebbtide-core --test timer_queues`.

use core::future::poll_fn;
use core::task::Poll;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use ebbtide_core::time::queue::{self, TimerQueue};
use ebbtide_core::{Executor, TaskPool};
// The clock of the program (these tests pass their own times to the queues).
use ebbtide_mock_time as _;

#[test]
#[cfg(not(feature = "one-timer-queue"))]
fn a_task_timer_scheduled_through_another_queue_moves_there() {
    static A: TimerQueue = TimerQueue::with_own_lock();
    static B: TimerQueue = TimerQueue::new();
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1> = TaskPool::new();
    static POLLS: AtomicUsize = AtomicUsize::new(0);
    // Deadlines below 64 ticks stay in level 0 of the wheel, where `next_deadline` is exact.
    let runner = EXECUTOR.runner().unwrap();
    let handle = runner
        .spawner()
        .spawn(
            &POOL,
            poll_fn(|cx| {
                if POLLS.fetch_add(1, SeqCst) > 0 {
                    return Poll::Ready(());
                }
                let waker = cx.waker();
                assert!(A.schedule_wake(40, waker));
                assert_eq!((A.check_invariants(), B.check_invariants()), (1, 0));
                // Through B, later: taken out of A, queued in B with the earlier deadline.
                assert!(B.schedule_wake(50, waker));
                assert_eq!((A.check_invariants(), B.check_invariants()), (0, 1));
                assert_eq!((A.next_deadline(), B.next_deadline()), (None, Some(40)));
                // Through B again: it is B's, nothing moves.
                assert!(!B.schedule_wake(45, waker));
                assert_eq!(B.next_deadline(), Some(40));
                // Back through A, earlier.
                assert!(A.schedule_wake(30, waker));
                assert_eq!((A.check_invariants(), B.check_invariants()), (1, 0));
                assert_eq!((A.next_deadline(), B.next_deadline()), (Some(30), None));
                // The global queue never saw it.
                assert_eq!(queue::check_invariants(), 0);
                Poll::Pending
            }),
        )
        .unwrap();
    let mut idles = 0;
    runner
        .run_until(handle, || {
            idles += 1;
            // B has nothing for the task any more; A wakes it at 30.
            assert_eq!(B.wake_expired(35), None);
            assert_eq!(A.wake_expired(35), None);
        })
        .unwrap();
    assert_eq!(idles, 1, "one wake-up, from A");
    assert_eq!(POLLS.load(SeqCst), 2);
    assert_eq!((A.check_invariants(), B.check_invariants()), (0, 0));
}

#[test]
#[cfg(not(feature = "one-timer-queue"))]
fn a_task_timer_moved_by_two_threads_at_once_ends_in_one_queue() {
    use core::task::Waker;
    use std::sync::Mutex;

    const ROUNDS: usize = if cfg!(miri) { 20 } else { 20_000 };
    static A: TimerQueue = TimerQueue::with_own_lock();
    static B: TimerQueue = TimerQueue::with_own_lock();
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1> = TaskPool::new();
    static WAKER: Mutex<Option<Waker>> = Mutex::new(None);
    let runner = EXECUTOR.runner().unwrap();
    let handle = runner
        .spawner()
        .spawn(
            &POOL,
            poll_fn(|cx| {
                *WAKER.lock().unwrap() = Some(cx.waker().clone());
                Poll::<()>::Pending
            }),
        )
        .unwrap();
    runner.poll();
    let waker = WAKER.lock().unwrap().take().unwrap();
    std::thread::scope(|scope| {
        for (queue, other) in [(&A, &B), (&B, &A)] {
            let waker = waker.clone();
            scope.spawn(move || {
                for round in 0..ROUNDS as u64 {
                    queue.schedule_wake(1_000_000 - round, &waker);
                    if round % 7 == 0 {
                        // Fire nothing (every deadline is later), but walk the lists.
                        queue.wake_expired(round);
                        other.check_invariants();
                    }
                }
            });
        }
    });
    assert_eq!(A.check_invariants() + B.check_invariants(), 1);
    A.reset(0);
    B.reset(0);
    assert_eq!(A.check_invariants() + B.check_invariants(), 0);
    drop(waker);
    drop(handle);
}

#[test]
#[cfg(feature = "one-timer-queue")]
fn with_one_timer_queue_another_queue_takes_a_task_waker_as_a_foreign_one() {
    use ebbtide_core::time::queue::FOREIGN_WAKER_CAPACITY;

    static A: TimerQueue = TimerQueue::with_own_lock();
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1> = TaskPool::new();
    static POLLS: AtomicUsize = AtomicUsize::new(0);
    let global = queue::global();
    global.reset(0);
    let runner = EXECUTOR.runner().unwrap();
    let handle = runner
        .spawner()
        .spawn(
            &POOL,
            poll_fn(|cx| {
                if POLLS.fetch_add(1, SeqCst) > 0 {
                    return Poll::Ready(());
                }
                let waker = cx.waker();
                assert!(global.schedule_wake(40, waker));
                assert_eq!(global.check_invariants(), 1);
                // Through A, earlier: A keeps the waker in its foreign table (or, without one,
                // wakes it at once); the task's entry stays linked in the global queue alone.
                let earlier = A.schedule_wake(30, waker);
                assert_eq!(earlier, FOREIGN_WAKER_CAPACITY != 0);
                assert_eq!((global.check_invariants(), A.check_invariants()), (1, 0));
                assert_eq!(global.next_deadline(), Some(40));
                let in_table = (FOREIGN_WAKER_CAPACITY != 0).then_some(30);
                assert_eq!(A.next_deadline(), in_table);
                Poll::Pending
            }),
        )
        .unwrap();
    let mut idles = 0;
    runner
        .run_until(handle, || {
            idles += 1;
            // A's foreign entry wakes the task at 30; the global queue has nothing due yet.
            assert_eq!(A.wake_expired(35), None);
            assert_eq!(global.wake_expired(35), Some(40));
        })
        .unwrap();
    let expected_idles = usize::from(FOREIGN_WAKER_CAPACITY != 0);
    assert_eq!(idles, expected_idles, "woken by A's table, or at once");
    assert_eq!(POLLS.load(SeqCst), 2);
    // The finished task's entry stays in the global queue until its deadline, as documented.
    assert_eq!(global.check_invariants(), 1);
    assert_eq!(global.wake_expired(40), None);
    assert_eq!(global.check_invariants(), 0);
}

/// The `_in` methods, for a driver inside a critical section already, give the same answers as
/// the plain ones, on a queue whose lock is a critical section and on one with a lock of its own.
#[test]
fn the_in_methods_answer_as_the_plain_ones() {
    use std::sync::Arc;
    use std::task::{Wake, Waker};

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, SeqCst);
        }
    }
    static SECTION: TimerQueue = TimerQueue::new();
    static OWN: TimerQueue = TimerQueue::with_own_lock();
    for timers in [&SECTION, &OWN] {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let kept = queue::FOREIGN_WAKER_CAPACITY != 0;
        let earlier = critical_section::with(|cs| timers.schedule_wake_in(cs, 40, &waker));
        assert_eq!(earlier, kept, "armed, or woken at once without a table");
        assert_eq!(count.0.load(SeqCst), usize::from(!kept));
        assert!(!critical_section::with(|cs| timers.schedule_wake_in(
            cs,
            u64::MAX,
            &waker
        )));
        let next = critical_section::with(|cs| timers.wake_expired_in(cs, 35));
        assert_eq!(next, kept.then_some(40));
        assert_eq!(count.0.load(SeqCst), usize::from(!kept), "not due yet");
        assert_eq!(
            critical_section::with(|cs| timers.wake_expired_in(cs, 40)),
            None
        );
        assert_eq!(
            count.0.load(SeqCst),
            1,
            "woken once, at its deadline or at once"
        );
        // The plain methods still take the lock afterwards: the `_in` ones left it free.
        assert_eq!(timers.next_deadline(), None);
    }
}

/// Inside the caller's critical section, `wake_expired_in` wakes with the queue's lock released:
/// a waker whose wake uses the queue again (the plain methods, which enter a nested section)
/// finds it free. And the `_in` and plain methods share a queue across threads.
#[test]
fn the_in_methods_leave_the_queue_free_for_wakers_and_other_threads() {
    use std::sync::Arc;
    use std::task::{Wake, Waker};

    static SECTION: TimerQueue = TimerQueue::new();
    /// Schedules itself again, through the plain method, from its wake.
    struct Again(AtomicUsize);
    impl Wake for Again {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            if self.0.fetch_add(1, SeqCst) == 0 {
                let waker = Waker::from(self.clone());
                SECTION.schedule_wake(1_000, &waker);
                let _ = SECTION.next_deadline();
            }
        }
    }
    let again = Arc::new(Again(AtomicUsize::new(0)));
    let waker = Waker::from(again.clone());
    critical_section::with(|cs| SECTION.schedule_wake_in(cs, 10, &waker));
    critical_section::with(|cs| SECTION.wake_expired_in(cs, 10));
    assert!(
        again.0.load(SeqCst) >= 1,
        "woken at its deadline (or at once)"
    );
    // The re-schedule from inside the wake went through (or, without a table, woke it again).
    let kept = queue::FOREIGN_WAKER_CAPACITY != 0;
    assert_eq!(SECTION.next_deadline(), kept.then_some(1_000));
    assert_eq!(
        critical_section::with(|cs| SECTION.wake_expired_in(cs, 1_000)),
        None
    );
    assert_eq!(again.0.load(SeqCst), 2);

    // Two threads, one through the `_in` methods and one through the plain ones.
    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, SeqCst);
        }
    }
    const ROUNDS: u64 = 20;
    let threads: Vec<_> = [true, false]
        .into_iter()
        .map(|inside| {
            std::thread::spawn(move || {
                let count = Arc::new(Count(AtomicUsize::new(0)));
                let waker = Waker::from(count.clone());
                for round in 0..ROUNDS {
                    let at = 2_000 + round;
                    if inside {
                        critical_section::with(|cs| SECTION.schedule_wake_in(cs, at, &waker));
                        critical_section::with(|cs| SECTION.wake_expired_in(cs, at));
                    } else {
                        SECTION.schedule_wake(at, &waker);
                        SECTION.wake_expired(at);
                    }
                }
                count.0.load(SeqCst)
            })
        })
        .collect();
    for thread in threads {
        // Each of its deadlines was due when it called `wake_expired`: woken once per round (the
        // other thread's calls may wake it earlier, never twice for one schedule).
        assert_eq!(thread.join().unwrap(), ROUNDS as usize);
    }
}
