//! Property test: `sleep_until` timers of ebbtide tasks on the mock clock, started, replaced and
//! cancelled (dropped) at random while time moves forward by random steps, against a model of
//! one optional deadline per task.
//!
//! Six long-lived tasks each hold at most one `Sleep` (made, replaced or dropped on command, and
//! polled whenever the task runs). The model: a sleep completes once, at the first moment the
//! clock is at or after its deadline (at once if that has passed when it is made), never before;
//! a replaced or dropped (cancelled) sleep never completes, though its task may be woken for
//! nothing at the old deadline (documented). After every step the completions each task recorded
//! (and the clock time of each) equal the model's.

// proptest is not a dev-dependency of loom builds (`--cfg loom`), and these are no loom models.
#![cfg(not(loom))]

use core::future::{poll_fn, Future};
use core::pin::Pin;
use core::task::{Poll, Waker};
use std::sync::{Mutex, MutexGuard};

use ebbtide_core::time::{sleep_until, Duration, Instant, Sleep};
use ebbtide_core::{Executor, Runner, TaskPool};
use ebbtide_mock_time::MockDriver;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

const TASKS: usize = 6;

static EXECUTOR: Executor = Executor::new();
static POOL: TaskPool<TASKS> = TaskPool::new();

#[derive(Clone, Copy, Debug)]
enum Command {
    Sleep(u64),
    Cancel,
}

/// What the test and task `i` share.
struct TaskState {
    waker: Option<Waker>,
    command: Option<Command>,
    /// The clock's time at each completed sleep.
    fired: Vec<u64>,
}

static STATES: [Mutex<TaskState>; TASKS] = [const {
    Mutex::new(TaskState {
        waker: None,
        command: None,
        fired: Vec::new(),
    })
}; TASKS];

fn state(i: usize) -> MutexGuard<'static, TaskState> {
    STATES[i]
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[derive(Clone, Debug)]
enum Op {
    Sleep(usize, u64),
    Cancel(usize),
    Advance(u64),
}

/// Steps over every level of the timer wheel, and zero.
fn delta() -> impl Strategy<Value = u64> {
    prop_oneof![
        2 => 0..4u64,
        3 => 0..64u64,
        3 => 0..4096u64,
        2 => 0..300_000u64,
        1 => 0..(1u64 << 30),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..TASKS, delta()).prop_map(|(i, d)| Op::Sleep(i, d)),
        1 => (0..TASKS).prop_map(Op::Cancel),
        3 => delta().prop_map(Op::Advance),
    ]
}

fn drain(runner: &Runner) {
    while runner.poll() {}
}

fn command(runner: &Runner, i: usize, command: Command) {
    let waker = {
        let mut state = state(i);
        state.command = Some(command);
        state.waker.clone().expect("every task was polled once")
    };
    waker.wake();
    drain(runner);
}

fn run(runner: &Runner, ops: Vec<Op>) {
    // A fresh clock and timer queue; no sleep left from the case before.
    for i in 0..TASKS {
        command(runner, i, Command::Cancel);
    }
    MockDriver::reset();
    drain(runner);
    for i in 0..TASKS {
        state(i).fired.clear();
    }
    let base = MockDriver::now().as_ticks();
    let mut now = base;
    let mut deadlines: [Option<u64>; TASKS] = [None; TASKS];
    let mut fired: [Vec<u64>; TASKS] = Default::default();
    for (step, op) in ops.into_iter().enumerate() {
        match op {
            Op::Sleep(i, delta) => {
                let at = now + delta;
                command(runner, i, Command::Sleep(at));
                // A new sleep replaces the task's old one (which is dropped).
                if at <= now {
                    fired[i].push(now);
                    deadlines[i] = None;
                } else {
                    deadlines[i] = Some(at);
                }
            }
            Op::Cancel(i) => {
                command(runner, i, Command::Cancel);
                deadlines[i] = None;
            }
            Op::Advance(delta) => {
                MockDriver::advance(Duration::from_ticks(delta));
                drain(runner);
                now += delta;
                for i in 0..TASKS {
                    if deadlines[i].is_some_and(|at| at <= now) {
                        fired[i].push(now);
                        deadlines[i] = None;
                    }
                }
            }
        }
        assert_eq!(MockDriver::now().as_ticks(), now, "step {step}: the clock");
        for i in 0..TASKS {
            assert_eq!(
                state(i).fired,
                fired[i],
                "step {step}: completions of task {i}'s sleeps (pending deadline {:?})",
                deadlines[i]
            );
        }
    }
}

#[test]
fn sleeps_complete_once_never_early_and_never_once_cancelled() {
    let _clock = MockDriver::lock_for_test();
    let runner = EXECUTOR.runner().unwrap();
    for i in 0..TASKS {
        let mut sleep: Option<Pin<Box<Sleep>>> = None;
        runner
            .spawner()
            .spawn(
                &POOL,
                poll_fn(move |cx| {
                    let command = {
                        let mut state = state(i);
                        state.waker = Some(cx.waker().clone());
                        state.command.take()
                    };
                    match command {
                        Some(Command::Sleep(at)) => {
                            sleep = Some(Box::pin(sleep_until(Instant::from_ticks(at))));
                        }
                        Some(Command::Cancel) => sleep = None,
                        None => {}
                    }
                    if let Some(nap) = &mut sleep {
                        if nap.as_mut().poll(cx).is_ready() {
                            sleep = None;
                            state(i).fired.push(Instant::now().as_ticks());
                        }
                    }
                    Poll::<()>::Pending
                }),
            )
            .unwrap();
    }
    drain(&runner);
    let config = Config {
        // A few under Miri (`cargo miri test -p ebbtide-core` runs every core test).
        cases: if cfg!(miri) { 2 } else { 512 },
        // Failures are not persisted: a case found is written out as a test of its own.
        failure_persistence: None,
        ..Config::default()
    };
    let mut tests = TestRunner::new(config);
    let result = tests.run(&prop::collection::vec(op(), 1..60), |ops| {
        run(&runner, ops);
        Ok(())
    });
    if let Err(error) = result {
        panic!("{error}");
    }
}
