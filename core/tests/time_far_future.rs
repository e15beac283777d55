//! `Duration::MAX` and `Instant::MAX`: no overflow, never fires, and other timers still fire.

use ebbtide_core::time::{interval, queue, sleep, sleep_until, timeout, Duration, Instant};
use ebbtide_core::{Executor, TaskPool};
use ebbtide_mock_time::MockDriver;

/// `sleep` rounds its deadline up by one tick (so that it never ends early).
const ONE_TICK: Duration = Duration::from_ticks(1);

#[test]
fn arithmetic_saturates_instead_of_overflowing() {
    let _clock = MockDriver::lock_for_test();
    MockDriver::advance(Duration::from_secs(5));
    assert_eq!(Instant::now() + Duration::MAX, Instant::MAX);
    let mut t = Instant::now();
    t += Duration::MAX;
    assert_eq!(t, Instant::MAX);
    assert_eq!(Instant::MAX.checked_add(Duration::from_ticks(1)), None);
    assert_eq!(Instant::MIN - Duration::MAX, Instant::MIN);
    assert_eq!(Duration::MAX + Duration::MAX, Duration::MAX);
    assert_eq!(Duration::MAX * 3, Duration::MAX);
    assert_eq!(Duration::from_secs(u64::MAX), Duration::MAX);
    assert_eq!(Duration::from(core::time::Duration::MAX), Duration::MAX);
    assert_eq!(Instant::MIN - Instant::MAX, Duration::ZERO);
    assert_eq!(sleep(Duration::MAX).deadline(), Instant::MAX);
}

#[test]
fn sleeping_forever_never_fires_and_others_still_do() {
    let _clock = MockDriver::lock_for_test();
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<3> = TaskPool::new();
    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    let forever = spawner.spawn(&POOL, sleep(Duration::MAX)).unwrap();
    let never = spawner.spawn(&POOL, sleep_until(Instant::MAX)).unwrap();
    let soon = spawner
        .spawn(&POOL, async {
            sleep(Duration::from_millis(10)).await;
            Instant::now()
        })
        .unwrap();
    assert_eq!(
        runner.run_until(soon, || assert!(MockDriver::advance_to_next_deadline())),
        Ok(Instant::from_millis(10) + ONE_TICK)
    );
    // Nothing else is queued: a deadline of `Instant::MAX` is never registered.
    assert_eq!(queue::next_deadline(), None);
    MockDriver::advance_to(Instant::from_ticks(u64::MAX - 1));
    while runner.poll() {}
    assert!(!forever.is_finished() && !never.is_finished());
    forever.abort();
    never.abort();
    drop((forever, never));
    while runner.poll() {}
    assert!(POOL.is_empty());
}

#[test]
fn the_farthest_finite_deadline_fires_exactly() {
    let _clock = MockDriver::lock_for_test();
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<3> = TaskPool::new();
    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    let last = Instant::from_ticks(u64::MAX - 1);
    let far = spawner
        .spawn(&POOL, async move {
            sleep_until(last).await;
            Instant::now()
        })
        .unwrap();
    let day = spawner
        .spawn(&POOL, async {
            sleep(Duration::from_secs(86_400)).await;
            Instant::now()
        })
        .unwrap();
    let mut jumps = 0;
    let mut idle = || {
        jumps += 1;
        assert!(MockDriver::advance_to_next_deadline());
    };
    assert_eq!(
        runner.run_until(day, &mut idle),
        Ok(Instant::from_secs(86_400) + ONE_TICK)
    );
    assert_eq!(runner.run_until(far, &mut idle), Ok(last));
    // A far timer moves through the wheel's levels, never tick by tick.
    assert!(jumps < 30, "took {jumps} jumps of the clock");
    assert_eq!(queue::next_deadline(), None);
}

#[test]
#[cfg_attr(
    feature = "task-timers-only",
    ignore = "block_on's and other foreign wakers' timers need the foreign-waker table"
)]
fn timeouts_and_intervals_of_max_length() {
    let _clock = MockDriver::lock_for_test();
    let idle = || assert!(MockDriver::advance_to_next_deadline());
    let result = ebbtide_core::block_on_with_idle(
        timeout(Duration::MAX, async {
            sleep(Duration::from_millis(1)).await;
            1
        }),
        idle,
    );
    assert_eq!(result, Ok(1));
    let mut ticks = interval(Duration::MAX);
    let first = ebbtide_core::block_on(ticks.tick());
    assert_eq!(first, Instant::now());
    assert_eq!(ticks.next_tick(), Instant::MAX);
    let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
    MockDriver::advance_to(Instant::from_ticks(u64::MAX - 1));
    assert!(ticks.poll_tick(&mut cx).is_pending());
}
