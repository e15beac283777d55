//! `sleep` and `sleep_until` on the mock clock: exact deadlines, many sleepers, reset.

use core::future::{poll_fn, Future};
use core::task::Poll;
use std::sync::Mutex;

use ebbtide_core::time::{sleep, sleep_until, Duration, Instant};
use ebbtide_core::{Executor, TaskPool};
use ebbtide_mock_time::MockDriver;

fn idle() {
    assert!(
        MockDriver::advance_to_next_deadline(),
        "deadlock: no timer can wake the test"
    );
}

/// `sleep(d)` ends on the first tick that reads more than `d` after the call: a tick's reading
/// floors the true time, so the reading of `d` after the call can still be less than `d` later.
#[test]
fn sleep_fires_one_tick_after_its_duration_never_before() {
    let _clock = MockDriver::lock_for_test();
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1> = TaskPool::new();
    let runner = EXECUTOR.runner().unwrap();
    let handle = runner
        .spawner()
        .spawn(&POOL, async {
            sleep(Duration::from_millis(10)).await;
            Instant::now()
        })
        .unwrap();
    runner.poll();
    assert!(!handle.is_finished());
    MockDriver::advance(Duration::from_micros(10_000));
    while runner.poll() {}
    assert!(
        !handle.is_finished(),
        "woke when the clock read exactly its duration"
    );
    MockDriver::advance(Duration::from_ticks(1));
    while runner.poll() {}
    assert!(
        handle.is_finished(),
        "did not wake a tick after its duration"
    );
    assert_eq!(
        runner.run_until(handle, || {}),
        Ok(Instant::from_micros(10_001))
    );
}

#[test]
fn many_tasks_sleep_at_once() {
    const N: usize = if cfg!(miri) { 20 } else { 2000 };
    let _clock = MockDriver::lock_for_test();
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<N> = TaskPool::new();
    static WOKEN: Mutex<Vec<(usize, Instant, Instant)>> = Mutex::new(Vec::new());
    let runner = EXECUTOR.runner().unwrap();
    let handles: Vec<_> = (0..N)
        .map(|i| {
            runner
                .spawner()
                .spawn(&POOL, async move {
                    // Several tasks share each deadline, from 1 µs to about 8 minutes.
                    let deadline = Instant::from_ticks(1 + (i as u64 % 97).pow(5) / 16);
                    sleep_until(deadline).await;
                    WOKEN.lock().unwrap().push((i, deadline, Instant::now()));
                })
                .unwrap()
        })
        .collect();
    runner.run_until(
        async {
            for handle in handles {
                handle.await.unwrap();
            }
        },
        idle,
    );
    let woken = WOKEN.lock().unwrap();
    assert_eq!(woken.len(), N);
    for &(i, deadline, at) in woken.iter() {
        assert_eq!(at, deadline, "task {i} woke at the wrong time");
    }
    assert!(
        woken.windows(2).all(|w| w[0].2 <= w[1].2),
        "tasks woke out of deadline order"
    );
    assert_eq!(ebbtide_core::time::queue::next_deadline(), None);
    assert!(POOL.is_empty());
}

#[test]
fn reset_to_an_earlier_or_later_deadline() {
    let _clock = MockDriver::lock_for_test();
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<2> = TaskPool::new();
    let runner = EXECUTOR.runner().unwrap();
    let earlier = runner
        .spawner()
        .spawn(&POOL, async {
            let mut nap = sleep(Duration::from_millis(100));
            nap.reset(Instant::now() + Duration::from_millis(10));
            (&mut nap).await;
            Instant::now()
        })
        .unwrap();
    assert_eq!(
        runner.run_until(earlier, idle),
        Ok(Instant::from_millis(10))
    );

    let later = runner
        .spawner()
        .spawn(&POOL, async {
            let start = Instant::now();
            let mut nap = sleep(Duration::from_millis(10));
            // Register the first deadline, then move it later: the wake-up at 10 ms is spurious.
            poll_fn(|cx| {
                assert!(core::pin::Pin::new(&mut nap).poll(cx).is_pending());
                Poll::Ready(())
            })
            .await;
            nap.reset(start + Duration::from_millis(50));
            assert_eq!(nap.deadline(), start + Duration::from_millis(50));
            nap.await;
            Instant::now() - start
        })
        .unwrap();
    assert_eq!(runner.run_until(later, idle), Ok(Duration::from_millis(50)));
}

#[test]
fn past_and_zero_deadlines_complete_at_once() {
    let _clock = MockDriver::lock_for_test();
    MockDriver::advance(Duration::from_secs(1));
    let never_idle = || panic!("a due sleep waited");
    ebbtide_core::block_on_with_idle(sleep(Duration::ZERO), never_idle);
    ebbtide_core::block_on_with_idle(sleep_until(Instant::from_millis(5)), never_idle);
    assert!(sleep_until(Instant::now()).is_elapsed());
    assert_eq!(Instant::now(), Instant::from_secs(1));
}

#[test]
#[cfg_attr(
    feature = "task-timers-only",
    ignore = "block_on's and other foreign wakers' timers need the foreign-waker table"
)]
fn sleep_works_on_a_foreign_executor() {
    let _clock = MockDriver::lock_for_test();
    let start = Instant::now();
    ebbtide_core::block_on_with_idle(
        async {
            sleep(Duration::from_millis(3)).await;
            sleep(Duration::from_millis(4)).await;
        },
        idle,
    );
    // Each sleep ends a tick after its duration.
    assert_eq!(start.elapsed(), Duration::from_micros(7_002));
}

/// The first poll of `sleep(d)` (and `timeout(d, ..)`) with `d > 0` registers without reading
/// the clock, as embassy-time's `Timer` does: its deadline was computed from the clock a moment
/// before. When the future waited past its deadline before that first poll, the poll is still
/// `Pending`, the timer fires at once, and the next poll is `Ready`: one poll late, never early
/// and never lost. Every other way to make a timer reads the clock on its first poll.
#[test]
fn the_first_poll_of_a_sleep_skips_the_clock_and_a_late_one_still_ends() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::{Context, Wake, Waker};

    struct CountWakes(AtomicUsize);
    impl Wake for CountWakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    let _clock = MockDriver::lock_for_test();
    let wakes = Arc::new(CountWakes(AtomicUsize::new(0)));
    let waker = Waker::from(wakes.clone());
    let mut cx = Context::from_waker(&waker);

    // Created, then left unpolled until well past its deadline.
    let mut late = std::pin::pin!(sleep(Duration::from_millis(10)));
    MockDriver::advance(Duration::from_millis(20));
    assert!(
        late.as_mut().poll(&mut cx).is_pending(),
        "the first poll reads no clock"
    );
    assert_eq!(
        wakes.0.load(Ordering::SeqCst),
        1,
        "a deadline that has passed fires as soon as it is registered"
    );
    assert!(
        late.as_mut().poll(&mut cx).is_ready(),
        "the second poll reads the clock"
    );

    // The same for a timeout's timer.
    let mut timed = std::pin::pin!(ebbtide_core::time::timeout(
        Duration::from_millis(10),
        core::future::pending::<()>()
    ));
    MockDriver::advance(Duration::from_millis(20));
    assert!(timed.as_mut().poll(&mut cx).is_pending());
    assert_eq!(wakes.0.load(Ordering::SeqCst), 2);
    assert!(timed.as_mut().poll(&mut cx).is_ready());

    // A zero duration, a deadline given as an instant, and a reset all read the clock first.
    assert!(sleep(Duration::ZERO).poll_unpin(&mut cx).is_ready());
    let past = Instant::now();
    MockDriver::advance(Duration::from_millis(1));
    assert!(sleep_until(past).poll_unpin(&mut cx).is_ready());
    let mut moved = sleep(Duration::from_secs(1));
    moved.reset(past);
    assert!(moved.poll_unpin(&mut cx).is_ready());
}

/// `Future::poll` on an `Unpin` future without pinning by hand.
trait PollUnpin: Future + Unpin + Sized {
    fn poll_unpin(mut self, cx: &mut core::task::Context<'_>) -> Poll<Self::Output> {
        core::pin::Pin::new(&mut self).poll(cx)
    }
}

impl<F: Future + Unpin> PollUnpin for F {}

/// A clone of a sleep that was never polled reads the clock on its first poll: code that polls a
/// fresh clone each time (as `timer_queue.rs` does) must see the deadline pass, not register
/// forever.
#[test]
fn a_clone_polled_afresh_each_time_still_ends() {
    let _clock = MockDriver::lock_for_test();
    let nap = sleep(Duration::from_millis(5));
    let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
    MockDriver::advance(Duration::from_millis(6));
    assert!(nap.clone().poll_unpin(&mut cx).is_ready());
}

/// A task whose cooperative budget is spent yields at a sleep before it reads the clock (as
/// Tokio's `Sleep` checks its budget first): a sleep that is not due yet is not registered but
/// the task is woken, and the next poll, with a fresh budget, registers it. Without a budget
/// (`no-coop-budget`) the sleep registers at once.
#[test]
fn a_task_out_of_budget_yields_at_a_sleep_before_reading_the_clock() {
    let _clock = MockDriver::lock_for_test();
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1> = TaskPool::new();
    static POLLS: Mutex<Vec<bool>> = Mutex::new(Vec::new());
    let runner = EXECUTOR.runner().unwrap();
    let start = Instant::now();
    let handle = runner
        .spawner()
        .spawn(&POOL, async move {
            // A sleep from before the budget is spent, polled once so its first poll (which
            // skips the clock) is behind it.
            let mut nap = core::pin::pin!(sleep_until(start + Duration::from_millis(5)));
            poll_fn(|cx| {
                // Spend the whole budget (there is none to spend with `no-coop-budget`).
                while !cfg!(feature = "no-coop-budget")
                    && ebbtide_core::task::poll_budget(cx).is_ready()
                {}
                let pending = nap.as_mut().poll(cx).is_pending();
                POLLS.lock().unwrap().push(pending);
                Poll::Ready(())
            })
            .await;
            nap.await;
            Instant::now()
        })
        .unwrap();
    runner.poll();
    assert_eq!(*POLLS.lock().unwrap(), [true]);
    let budget = !cfg!(feature = "no-coop-budget");
    if budget {
        assert_eq!(
            ebbtide_core::time::queue::next_deadline(),
            None,
            "out of budget: nothing registered"
        );
        assert!(EXECUTOR.has_ready_tasks(), "the task woke itself instead");
        // Its next poll, with a fresh budget, registers the sleep.
        runner.poll();
    }
    // (The wheel may ask for an earlier look, when the timer moves to a finer level.)
    let next = ebbtide_core::time::queue::next_deadline();
    assert!(
        next.is_some_and(|at| at <= (start + Duration::from_millis(5)).as_ticks()),
        "registered: {next:?}"
    );
    assert_eq!(
        runner.run_until(handle, idle),
        Ok(start + Duration::from_millis(5))
    );
}
