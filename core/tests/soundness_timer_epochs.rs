//! Far timers across the epochs of the timer wheel (`64^6 = 2^36` ticks, about 19 hours at
//! 1 MHz): a far timer that is queued and then taken out again must leave nothing behind that
//! makes the queue report a deadline in the past (or move its time back) epochs later.
//!
//! The clock is jumped, never stepped, so these run quickly under Miri too.

use core::future::{poll_fn, Future};
use core::pin::Pin;
use core::task::Poll;

use ebbtide_core::time::{queue, sleep_until, Instant};
use ebbtide_core::{Executor, TaskPool};
use ebbtide_mock_time::MockDriver;

/// Ticks per epoch of the timer wheel.
const EPOCH: u64 = 1 << 36;

/// The idle hook: checks that the queue's next deadline is not in the past (nothing is due
/// once `wake_expired` has run for the current time), then jumps the clock to it.
fn idle_checked() {
    let now = Instant::now().as_ticks();
    let next = queue::next_deadline().expect("deadlock: no timer can wake the test");
    assert!(
        next > now,
        "the timer queue asks to be woken at {next}, but wake_expired({now}) already ran"
    );
    queue::check_invariants();
    MockDriver::advance_to(Instant::from_ticks(next));
}

/// Polls `sleep_until(at)` once (queuing the task's timer for `at`), then sleeps until the
/// earlier `then`: the task's single timer entry moves from `at` to `then`, so the far entry is
/// removed from the queue.
async fn queue_then_move_earlier(at: Instant, then: Instant) -> Instant {
    let mut far = sleep_until(at);
    poll_fn(|cx| {
        assert!(Pin::new(&mut far).poll(cx).is_pending());
        Poll::Ready(())
    })
    .await;
    drop(far);
    sleep_until(then).await;
    Instant::now()
}

/// The reported case: a far timer is queued and removed, the program idles for more than two
/// epochs with no far timer, then queues a new far timer. Its deadline must be reported as it
/// is (never as a time in the past) and fire exactly.
#[test]
fn a_removed_far_timer_leaves_no_deadline_in_the_past() {
    // (far timer queued then removed, idle until, new far timer): the first is the report's
    // ~38 hours of uptime, the others vary how far each lies.
    let cases = [
        (EPOCH + 1_000, 2 * EPOCH + 123, 3 * EPOCH + 77),
        (EPOCH + 1_000, EPOCH + 5_000, 2 * EPOCH + 9),
        (5 * EPOCH + 3, 7 * EPOCH + EPOCH / 2, 9 * EPOCH + 1),
        (u64::MAX - 1, (1 << 62) + 17, (1 << 62) + 3 * EPOCH),
    ];
    // An executor has one runner, ever: one executor per case (statics, not leaked boxes, which
    // Miri would report).
    static EXECUTORS: [Executor; 4] = [const { Executor::new() }; 4];
    static POOLS: [TaskPool<1>; 4] = [const { TaskPool::new() }; 4];
    for (i, (removed, idle_until, new)) in cases.into_iter().enumerate() {
        let _clock = MockDriver::lock_for_test();
        let pool = &POOLS[i];
        let runner = EXECUTORS[i].runner().unwrap();

        let first = runner
            .spawner()
            .spawn(
                pool,
                queue_then_move_earlier(Instant::from_ticks(removed), Instant::from_ticks(500)),
            )
            .unwrap();
        assert_eq!(
            runner.run_until(first, idle_checked),
            Ok(Instant::from_ticks(500))
        );
        assert_eq!(queue::next_deadline(), None, "nothing is queued any more");

        // Idle with nothing queued, past the epoch of the removed timer.
        MockDriver::advance_to(Instant::from_ticks(idle_until));
        assert_eq!(queue::next_deadline(), None);

        let new = Instant::from_ticks(new);
        let second = runner
            .spawner()
            .spawn(pool, async move {
                sleep_until(new).await;
                Instant::now()
            })
            .unwrap();
        assert_eq!(runner.run_until(second, idle_checked), Ok(new));
        assert_eq!(queue::next_deadline(), None);
        assert_eq!(queue::check_invariants(), 0);
    }
}

/// Two far timers, the earlier one removed: the queue may wake early at the start of the
/// removed one's epoch (harmless), but the other must still fire exactly, and no deadline it
/// reports is in the past.
#[test]
fn a_far_timer_outlives_the_removal_of_an_earlier_one() {
    let _clock = MockDriver::lock_for_test();
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<2> = TaskPool::new();
    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    let kept = Instant::from_ticks(3 * EPOCH + 5);
    let stays = spawner
        .spawn(&POOL, async move {
            sleep_until(kept).await;
            Instant::now()
        })
        .unwrap();
    let moved = spawner
        .spawn(
            &POOL,
            queue_then_move_earlier(Instant::from_ticks(EPOCH + 1_000), Instant::from_ticks(500)),
        )
        .unwrap();
    assert_eq!(
        runner.run_until(moved, idle_checked),
        Ok(Instant::from_ticks(500))
    );
    assert_eq!(queue::check_invariants(), 1);
    // Idle past the removed timer's epoch; the kept one is still queued.
    MockDriver::advance_to(Instant::from_ticks(2 * EPOCH + 1));
    assert!(!stays.is_finished());
    assert_eq!(runner.run_until(stays, idle_checked), Ok(kept));
    assert_eq!(queue::next_deadline(), None);
}

/// The whole lifetime of a `u64` clock in a few jumps: far timers queued, removed and fired
/// across many epochs, the queue's next deadline never in the past.
#[test]
fn far_timers_across_many_epochs() {
    let _clock = MockDriver::lock_for_test();
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1> = TaskPool::new();
    let runner = EXECUTOR.runner().unwrap();
    let rounds: u64 = if cfg!(miri) { 4 } else { 24 };
    for round in 1..=rounds {
        let base = round << 58;
        let now = Instant::now().as_ticks();
        assert!(now < base);
        let handle = runner
            .spawner()
            .spawn(
                &POOL,
                queue_then_move_earlier(
                    Instant::from_ticks(base + round * EPOCH + 7),
                    Instant::from_ticks(now + 100),
                ),
            )
            .unwrap();
        assert_eq!(
            runner.run_until(handle, idle_checked),
            Ok(Instant::from_ticks(now + 100))
        );
        MockDriver::advance_to(Instant::from_ticks(base + (round + 2) * EPOCH));
        let at = Instant::from_ticks(base + (round + 4) * EPOCH + round);
        let handle = runner
            .spawner()
            .spawn(&POOL, async move {
                sleep_until(at).await;
                Instant::now()
            })
            .unwrap();
        assert_eq!(runner.run_until(handle, idle_checked), Ok(at));
    }
    assert_eq!(queue::check_invariants(), 0);
}
