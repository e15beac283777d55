//! The timer queue behind `schedule_wake`: deadline order, rescheduling, foreign-waker overflow,
//! and stale entries of finished tasks.

use core::future::{poll_fn, Future};
use core::pin::Pin;
use core::task::{Poll, RawWaker, RawWakerVTable, Waker};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use ebbtide_core::time::{queue, sleep, sleep_until, Duration, Instant};
use ebbtide_core::{Executor, TaskPool};
use ebbtide_mock_time::MockDriver;

fn idle() {
    assert!(
        MockDriver::advance_to_next_deadline(),
        "deadlock: no timer can wake the test"
    );
}

#[test]
fn thousands_of_tasks_fire_in_deadline_order() {
    const N: usize = if cfg!(miri) { 20 } else { 5000 };
    let _clock = MockDriver::lock_for_test();
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<N> = TaskPool::new();
    static FIRED: Mutex<Vec<(Instant, Instant)>> = Mutex::new(Vec::new());
    let runner = EXECUTOR.runner().unwrap();
    let handles: Vec<_> = (0..N as u64)
        .map(|i| {
            // A permutation of distinct deadlines, spread over every level of the wheel.
            let k = (i * 7919) % N as u64 + 1;
            let deadline = Instant::from_ticks(k * k * k * 3 + k);
            runner
                .spawner()
                .spawn(&POOL, async move {
                    sleep_until(deadline).await;
                    FIRED.lock().unwrap().push((deadline, Instant::now()));
                })
                .unwrap()
        })
        .collect();
    runner.poll();
    assert_eq!(queue::check_invariants(), N);
    let mut idles = 0;
    runner.run_until(
        async {
            for handle in handles {
                handle.await.unwrap();
            }
        },
        || {
            idle();
            idles += 1;
            if idles % 64 == 0 {
                queue::check_invariants();
            }
        },
    );
    let fired = FIRED.lock().unwrap();
    assert_eq!(fired.len(), N);
    for (deadline, at) in fired.iter() {
        assert_eq!(deadline, at, "a timer fired at the wrong time");
    }
    assert!(
        fired.windows(2).all(|w| w[0].0 < w[1].0),
        "timers fired out of deadline order"
    );
    assert_eq!(queue::check_invariants(), 0);
}

#[test]
fn a_task_rescheduled_earlier_fires_at_the_earlier_time() {
    let _clock = MockDriver::lock_for_test();
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1> = TaskPool::new();
    let runner = EXECUTOR.runner().unwrap();
    let handle = runner
        .spawner()
        .spawn(&POOL, async {
            let mut long = sleep(Duration::from_millis(100));
            poll_fn(|cx| {
                assert!(Pin::new(&mut long).poll(cx).is_pending());
                Poll::Ready(())
            })
            .await;
            assert_eq!(queue::check_invariants(), 1);
            // `sleep` rounds its deadline up by a tick.
            assert!(queue::next_deadline().unwrap() <= Instant::from_micros(100_001).as_ticks());
            sleep(Duration::from_millis(10)).await;
            Instant::now()
        })
        .unwrap();
    // `sleep` rounds its deadline up by a tick (never early).
    assert_eq!(
        runner.run_until(handle, idle),
        Ok(Instant::from_micros(10_001))
    );
    // The task was queued once: moving it to 10 ms took it away from 100 ms.
    assert_eq!(queue::next_deadline(), None);
    assert_eq!(queue::check_invariants(), 0);
}

#[test]
fn a_task_keeps_its_earlier_deadline() {
    let _clock = MockDriver::lock_for_test();
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1> = TaskPool::new();
    static POLLS: AtomicUsize = AtomicUsize::new(0);
    let runner = EXECUTOR.runner().unwrap();
    let handle = runner
        .spawner()
        .spawn(&POOL, async {
            let mut short = sleep(Duration::from_millis(10));
            poll_fn(|cx| {
                assert!(Pin::new(&mut short).poll(cx).is_pending());
                Poll::Ready(())
            })
            .await;
            // The queue keeps 10 ms; the task wakes then and registers 30 ms again.
            let long = sleep(Duration::from_millis(30));
            poll_fn(|cx| {
                POLLS.fetch_add(1, Ordering::SeqCst);
                Pin::new(&mut { long.clone() }).poll(cx)
            })
            .await;
            Instant::now()
        })
        .unwrap();
    assert_eq!(
        runner.run_until(handle, idle),
        Ok(Instant::from_micros(30_001))
    );
    assert_eq!(
        POLLS.load(Ordering::SeqCst),
        3,
        "first poll, the wake at 10 ms, the one at 30 ms"
    );
}

/// Wake-up counters for foreign wakers, one per waker.
struct Counters([AtomicUsize; queue::FOREIGN_WAKER_CAPACITY + 1]);

/// A foreign waker whose data is a counter. The vtable is a `static`, so its address is unique
/// and `Waker::will_wake` recognises clones (also under Miri, where promoted constants may be
/// duplicated).
static COUNTER_VTABLE: RawWakerVTable = RawWakerVTable::new(
    |data| RawWaker::new(data, &COUNTER_VTABLE),
    count_wake,
    count_wake,
    |_| {},
);

fn count_wake(data: *const ()) {
    // SAFETY: the data of these wakers is always a `&'static AtomicUsize`.
    let counter = unsafe { &*(data as *const AtomicUsize) };
    counter.fetch_add(1, Ordering::SeqCst);
}

fn counting_waker(counter: &'static AtomicUsize) -> Waker {
    let data = counter as *const AtomicUsize as *const ();
    // SAFETY: the vtable's functions treat `data` as the `'static` counter it is, and are
    // thread-safe.
    unsafe { Waker::from_raw(RawWaker::new(data, &COUNTER_VTABLE)) }
}

fn counters(counters: &'static Counters) -> Vec<(&'static AtomicUsize, Waker)> {
    counters
        .0
        .iter()
        .map(|counter| (counter, counting_waker(counter)))
        .collect()
}

fn count(counter: &AtomicUsize) -> usize {
    counter.load(Ordering::SeqCst)
}

#[test]
#[cfg_attr(
    feature = "task-timers-only",
    ignore = "block_on's and other foreign wakers' timers need the foreign-waker table"
)]
fn foreign_wakers_beyond_capacity_are_woken_at_once() {
    let _clock = MockDriver::lock_for_test();
    static COUNTERS: Counters =
        Counters([const { AtomicUsize::new(0) }; queue::FOREIGN_WAKER_CAPACITY + 1]);
    let wakers = counters(&COUNTERS);
    let (overflow, rest) = wakers.split_last().unwrap();
    for (i, (_, waker)) in rest.iter().enumerate() {
        let earlier = queue::schedule_wake(100 + i as u64, waker);
        assert_eq!(earlier, i == 0, "only the first deadline is the earliest");
    }
    assert!(rest.iter().all(|(c, _)| count(c) == 0));
    assert!(
        !queue::schedule_wake(50, &overflow.1),
        "a full table cannot queue it"
    );
    assert_eq!(
        count(overflow.0),
        1,
        "the waker that did not fit must be woken at once"
    );
    assert_eq!(queue::next_deadline(), Some(100));
    MockDriver::advance_to(Instant::from_ticks(99 + rest.len() as u64));
    assert!(
        rest.iter().all(|(c, _)| count(c) == 1),
        "every queued foreign waker fires once"
    );
    assert_eq!(queue::next_deadline(), None);
    assert_eq!(count(overflow.0), 1);
}

#[test]
#[cfg_attr(
    feature = "task-timers-only",
    ignore = "block_on's and other foreign wakers' timers need the foreign-waker table"
)]
fn a_foreign_waker_is_queued_once_with_its_earliest_deadline() {
    let _clock = MockDriver::lock_for_test();
    static COUNTERS: Counters =
        Counters([const { AtomicUsize::new(0) }; queue::FOREIGN_WAKER_CAPACITY + 1]);
    let wakers = counters(&COUNTERS);
    let (counter, waker) = &wakers[0];
    assert!(queue::schedule_wake(80, waker));
    assert!(
        queue::schedule_wake(50, waker),
        "an earlier deadline must re-arm the driver"
    );
    assert!(
        !queue::schedule_wake(90, &waker.clone()),
        "a later one changes nothing"
    );
    assert_eq!(queue::next_deadline(), Some(50));
    assert_eq!(queue::wake_expired(49), Some(50));
    assert_eq!(count(counter), 0);
    assert_eq!(queue::wake_expired(50), None);
    assert_eq!(count(counter), 1);
    // A deadline that has already passed wakes at once and queues nothing.
    assert!(!queue::schedule_wake(10, waker));
    assert_eq!(count(counter), 2);
    assert_eq!(queue::next_deadline(), None);
}

#[test]
fn a_finished_tasks_stale_entry_is_harmless_after_its_slot_is_reused() {
    let _clock = MockDriver::lock_for_test();
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1> = TaskPool::new();
    static POLLS: AtomicUsize = AtomicUsize::new(0);
    let runner = EXECUTOR.runner().unwrap();
    let first = runner
        .spawner()
        .spawn(&POOL, async {
            // Register a timer for 100 ms, then finish without waiting for it.
            let mut nap = sleep(Duration::from_millis(100));
            poll_fn(|cx| {
                assert!(Pin::new(&mut nap).poll(cx).is_pending());
                Poll::Ready(())
            })
            .await;
        })
        .unwrap();
    runner
        .run_until(first, || panic!("the first task needs no time"))
        .unwrap();
    assert!(POOL.is_empty());
    assert_eq!(
        queue::check_invariants(),
        1,
        "the finished task's entry stays queued"
    );

    // The same slot (the pool has one), with a later timer: it inherits the entry.
    let second = runner
        .spawner()
        .spawn(&POOL, async {
            let nap = sleep(Duration::from_millis(300));
            poll_fn(|cx| {
                POLLS.fetch_add(1, Ordering::SeqCst);
                Pin::new(&mut nap.clone()).poll(cx)
            })
            .await;
            Instant::now()
        })
        .unwrap();
    assert_eq!(
        runner.run_until(second, idle),
        Ok(Instant::from_micros(300_001))
    );
    let polls = POLLS.load(Ordering::SeqCst);
    assert!(
        polls <= 3,
        "at most one spurious wake-up, got {} polls",
        polls
    );
    assert_eq!(queue::check_invariants(), 0);
    assert_eq!(queue::next_deadline(), None);
}
