//! `Interval` and each `MissedTickBehavior`, on a mock clock that jumps over several periods.

use core::task::{Context, Poll, Waker};

use ebbtide_core::time::{interval, interval_at, Duration, Instant, Interval, MissedTickBehavior};
use ebbtide_core::{Executor, TaskPool};
use ebbtide_mock_time::MockDriver;

const P: Duration = Duration::from_millis(10);

fn ms(millis: u64) -> Instant {
    Instant::from_millis(millis)
}

/// Every tick that is due now, without waiting.
fn due_ticks(ticks: &mut Interval) -> Vec<Instant> {
    let mut cx = Context::from_waker(Waker::noop());
    let mut due = Vec::new();
    while let Poll::Ready(tick) = ticks.poll_tick(&mut cx) {
        due.push(tick);
        assert!(
            due.len() < 100,
            "an interval kept ticking without time passing"
        );
    }
    due
}

/// Ticks at 0, then the clock jumps to 35 ms (three ticks late), then to 40, 45 and 50.
fn run(behavior: MissedTickBehavior) -> Vec<(Instant, Vec<Instant>)> {
    let mut ticks = interval(P);
    ticks.set_missed_tick_behavior(behavior);
    let mut log = vec![(Instant::now(), due_ticks(&mut ticks))];
    for to in [35, 40, 45, 50, 60] {
        MockDriver::advance_to(ms(to));
        log.push((Instant::now(), due_ticks(&mut ticks)));
    }
    log
}

#[test]
fn burst_delivers_every_missed_tick_at_once() {
    let _clock = MockDriver::lock_for_test();
    assert_eq!(
        run(MissedTickBehavior::Burst),
        vec![
            (ms(0), vec![ms(0)]),
            (ms(35), vec![ms(10), ms(20), ms(30)]),
            (ms(40), vec![ms(40)]),
            (ms(45), vec![]),
            (ms(50), vec![ms(50)]),
            (ms(60), vec![ms(60)]),
        ]
    );
}

#[test]
fn delay_restarts_the_schedule_from_the_late_tick() {
    let _clock = MockDriver::lock_for_test();
    assert_eq!(
        run(MissedTickBehavior::Delay),
        vec![
            (ms(0), vec![ms(0)]),
            (ms(35), vec![ms(10)]),
            (ms(40), vec![]),
            (ms(45), vec![ms(45)]),
            (ms(50), vec![]),
            (ms(60), vec![ms(55)]),
        ]
    );
}

#[test]
fn skip_drops_missed_ticks_and_keeps_the_phase() {
    let _clock = MockDriver::lock_for_test();
    assert_eq!(
        run(MissedTickBehavior::Skip),
        vec![
            (ms(0), vec![ms(0)]),
            (ms(35), vec![ms(10)]),
            (ms(40), vec![ms(40)]),
            (ms(45), vec![]),
            (ms(50), vec![ms(50)]),
            (ms(60), vec![ms(60)]),
        ]
    );
}

#[test]
fn a_tick_late_by_less_than_a_period_keeps_the_schedule() {
    let _clock = MockDriver::lock_for_test();
    for behavior in [
        MissedTickBehavior::Burst,
        MissedTickBehavior::Delay,
        MissedTickBehavior::Skip,
    ] {
        MockDriver::reset();
        let mut ticks = interval(P);
        ticks.set_missed_tick_behavior(behavior);
        assert_eq!(due_ticks(&mut ticks), [ms(0)]);
        MockDriver::advance_to(ms(19));
        assert_eq!(due_ticks(&mut ticks), [ms(10)], "{behavior:?}");
        MockDriver::advance_to(ms(20));
        assert_eq!(due_ticks(&mut ticks), [ms(20)], "{behavior:?}");
    }
}

#[test]
fn interval_in_a_task_ticks_on_schedule() {
    let _clock = MockDriver::lock_for_test();
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1> = TaskPool::new();
    let runner = EXECUTOR.runner().unwrap();
    let handle = runner
        .spawner()
        .spawn(&POOL, async {
            let mut ticks = interval_at(ms(5), P);
            let mut seen = Vec::new();
            for _ in 0..4 {
                let tick = ticks.tick().await;
                seen.push((tick, Instant::now()));
            }
            ticks.reset();
            seen.push((ticks.tick().await, Instant::now()));
            seen
        })
        .unwrap();
    let seen = runner
        .run_until(handle, || assert!(MockDriver::advance_to_next_deadline()))
        .unwrap();
    assert_eq!(
        seen,
        vec![
            (ms(5), ms(5)),
            (ms(15), ms(15)),
            (ms(25), ms(25)),
            (ms(35), ms(35)),
            // `reset` counts a period from now, rounded up by a tick like `sleep`.
            (
                ms(45) + Duration::from_ticks(1),
                ms(45) + Duration::from_ticks(1)
            ),
        ]
    );
}

#[test]
#[should_panic(expected = "period must be longer than zero")]
fn zero_period_panics() {
    let _ = interval(Duration::ZERO);
}
