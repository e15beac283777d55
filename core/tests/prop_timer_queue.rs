//! Property test: a `TimerQueue` (the timing wheel for task timers, and the table of foreign
//! wakers) driven by random operation sequences against a `BTreeMap` model of deadlines.
//!
//! Eight long-lived ebbtide tasks schedule their timers from their own poll (so the queue sees
//! task wakers and uses the wheel), and the test thread schedules up to 40 foreign wakers (more
//! than the 32 the table holds, so the overflow rule is exercised). Operations: schedule a task's
//! or a foreign waker's timer at `now + delta` (deltas spread over every level of the wheel, and
//! zero), and move time forward by `delta` and call `wake_expired(now)`. The model follows the
//! module docs:
//!
//! - a timer fires once, when `wake_expired` is called with a `now` at or after its deadline, and
//!   never before; a deadline at or before the last `now` fires at once from `schedule_wake`;
//! - a waker (task, or foreign wakers that `will_wake` each other) is queued at most once:
//!   scheduling it again keeps the earlier deadline, and a timer that was moved earlier never
//!   fires at its old deadline;
//! - a foreign waker that finds the table full is woken at once (the documented spurious wake);
//! - `schedule_wake` returns `true` exactly when the deadline is earlier than the one the driver
//!   was last told (by a `true`, or by `wake_expired`'s return value);
//! - `wake_expired` and `next_deadline` give `None` when nothing is queued, else a time after
//!   `now` and no later than the earliest queued deadline; `may_have_timers` is `true` while a
//!   timer is queued.
//!
//! After every step, every task's and every foreign waker's number of wakes equals the model's.

// proptest is not a dev-dependency of loom builds (`--cfg loom`), and these are no loom models.
#![cfg(not(loom))]

use core::future::poll_fn;
use core::task::{Poll, RawWaker, RawWakerVTable, Waker};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Mutex, MutexGuard};

use ebbtide_core::time::queue::{TimerQueue, FOREIGN_WAKER_CAPACITY};
use ebbtide_core::{Executor, Runner, TaskPool};
// The program's clock (the queue here is given its times by the test).
use ebbtide_mock_time as _;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

const TASKS: usize = 8;
const FOREIGN: usize = 40;

static QUEUE: TimerQueue = TimerQueue::with_own_lock();

/// The queue under test: one of its own, or with `one-timer-queue` (where only the global queue
/// keeps task timers) the global one, which nothing else in this test binary uses.
fn queue() -> &'static TimerQueue {
    if cfg!(feature = "one-timer-queue") {
        ebbtide_core::time::queue::global()
    } else {
        &QUEUE
    }
}
static EXECUTOR: Executor = Executor::new();
static POOL: TaskPool<TASKS> = TaskPool::new();

/// What the test and task `i` share.
struct TaskState {
    polls: usize,
    waker: Option<Waker>,
    /// A deadline to schedule on the next poll.
    command: Option<u64>,
    /// What that `schedule_wake` returned.
    result: Option<bool>,
}

static STATES: [Mutex<TaskState>; TASKS] = [const {
    Mutex::new(TaskState {
        polls: 0,
        waker: None,
        command: None,
        result: None,
    })
}; TASKS];

fn state(i: usize) -> MutexGuard<'static, TaskState> {
    STATES[i]
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Wake counters for the foreign wakers: `FOREIGN` for the property test, one more for
/// `foreign_waker_rescheduled_into_the_past_is_woken_once`.
static FOREIGN_WAKES: [AtomicUsize; FOREIGN + 1] = [const { AtomicUsize::new(0) }; FOREIGN + 1];

/// A foreign waker over one of `FOREIGN_WAKES`, with a `static` vtable. Clones of one waker
/// `will_wake` each other on every compiler and under Miri (an `Arc` waker's vtable is a promoted
/// constant, which Miri may give a fresh address per use, so `will_wake` would not be reliable).
fn foreign_waker(k: usize) -> Waker {
    unsafe fn clone(data: *const ()) -> RawWaker {
        RawWaker::new(data, &FOREIGN_VTABLE)
    }
    unsafe fn wake(data: *const ()) {
        // SAFETY: `data` is always a pointer to one of the `static` `FOREIGN_WAKES`.
        unsafe { &*data.cast::<AtomicUsize>() }.fetch_add(1, SeqCst);
    }
    unsafe fn drop(_: *const ()) {}
    static FOREIGN_VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake, drop);
    let data: *const AtomicUsize = &FOREIGN_WAKES[k];
    // SAFETY: the vtable's functions uphold `RawWaker`'s contract: the data is a `'static`
    // counter, so clone and drop have nothing to manage, and waking is thread-safe.
    unsafe { Waker::from_raw(RawWaker::new(data.cast(), &FOREIGN_VTABLE)) }
}

fn foreign_wakes(k: usize) -> usize {
    FOREIGN_WAKES[k].load(SeqCst)
}

#[derive(Clone, Debug)]
enum Op {
    ScheduleTask(usize, u64),
    ScheduleForeign(usize, u64),
    Advance(u64),
}

/// Deltas over every level of the wheel (64 slots a level), and zero.
fn delta() -> impl Strategy<Value = u64> {
    prop_oneof![
        2 => 0..4u64,
        3 => 0..64u64,
        3 => 0..4096u64,
        2 => 0..300_000u64,
        1 => 0..(1u64 << 36),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..TASKS, delta()).prop_map(|(i, d)| Op::ScheduleTask(i, d)),
        3 => (0..FOREIGN, delta()).prop_map(|(i, d)| Op::ScheduleForeign(i, d)),
        3 => delta().prop_map(Op::Advance),
    ]
}

#[derive(Default)]
struct Model {
    now: u64,
    tasks: BTreeMap<usize, u64>,
    foreign: BTreeMap<usize, u64>,
    /// What the driver was last told: wake by then.
    armed: Option<u64>,
    task_fires: [usize; TASKS],
    foreign_fires: Vec<usize>,
}

impl Model {
    fn earliest(&self) -> Option<u64> {
        self.tasks
            .values()
            .chain(self.foreign.values())
            .min()
            .copied()
    }
    /// The earliest deadline queued, leaving out task `task` or foreign waker `foreign`.
    fn earliest_except(&self, task: Option<usize>, foreign: Option<usize>) -> Option<u64> {
        let tasks = self.tasks.iter().filter(|&(&i, _)| Some(i) != task);
        let foreign = self.foreign.iter().filter(|&(&k, _)| Some(k) != foreign);
        tasks.chain(foreign).map(|(_, &d)| d).min()
    }
    /// `schedule_wake` for a waker whose queued deadline is in `entry` (if any): the return value
    /// and whether it fires at once.
    ///
    /// A waker (task or foreign) whose new deadline has passed is woken at once and loses its
    /// entry (see `foreign_waker_rescheduled_into_the_past_is_woken_once` below), unless the
    /// queue keeps no time ([`KEEPS_ELAPSED`]): then it is queued as any deadline.
    ///
    /// `others` is the earliest deadline queued for any other waker: with the sorted list as the
    /// whole queue (`small-timer-queue` and `task-timers-only`), the queue keeps no armed
    /// deadline, and `true` means the waker's entry now comes first. That differs from the armed
    /// deadline only after an entry left early (rescheduled into the past): then a later
    /// insertion may report `true` where the armed deadline was still earlier, which is harmless
    /// (the driver's alarm moves to the new first deadline, and nothing is due before it).
    fn schedule(
        &mut self,
        current: Option<u64>,
        others: Option<u64>,
        at: u64,
        room: bool,
    ) -> (bool, Option<u64>, bool) {
        if at <= self.now && KEEPS_ELAPSED {
            return (false, None, true);
        }
        if current.is_some_and(|d| at >= d) {
            return (false, current, false);
        }
        if current.is_none() && !room {
            return (false, None, true);
        }
        let earlier = if cfg!(all(
            feature = "small-timer-queue",
            feature = "task-timers-only"
        )) {
            others.is_none_or(|first| at < first)
        } else {
            self.armed.is_none_or(|armed| at < armed)
        };
        if earlier {
            self.armed = Some(at);
        }
        (earlier, Some(at), false)
    }
    fn check_next(&self, next: Option<u64>, what: &str) {
        match (next, self.earliest()) {
            (None, None) => {}
            (Some(next), Some(earliest)) if !KEEPS_ELAPSED => {
                assert_eq!(next, earliest, "{what}: the first entry's deadline")
            }
            (Some(next), Some(earliest)) => assert!(
                self.now < next && next <= earliest,
                "{what}: {next} is not in ({}, {earliest}]",
                self.now
            ),
            (next, earliest) => {
                panic!("{what}: {next:?}, but the earliest deadline is {earliest:?}")
            }
        }
    }
}

/// Whether the queue keeps the time of the last `wake_expired` and wakes a deadline that has
/// passed at once. The sorted list as the whole queue (`small-timer-queue` and
/// `task-timers-only`) keeps no such time: it queues that deadline like any other (first, so
/// `true`: the driver's alarm fires at once), and the next `wake_expired` wakes it.
const KEEPS_ELAPSED: bool = !cfg!(all(
    feature = "small-timer-queue",
    feature = "task-timers-only"
));

/// Runs every ready task until none is.
fn drain(runner: &Runner) {
    while runner.poll() {}
}

fn run(runner: &Runner, ops: Vec<Op>) {
    // A fresh queue at time 0, and quiet tasks.
    queue().reset(0);
    drain(runner);
    for i in 0..TASKS {
        let mut state = state(i);
        state.polls = 0;
        state.command = None;
        state.result = None;
    }
    for counter in &FOREIGN_WAKES[..FOREIGN] {
        counter.store(0, SeqCst);
    }
    let wakers: Vec<Waker> = (0..FOREIGN).map(foreign_waker).collect();
    let mut model = Model {
        foreign_fires: vec![0; FOREIGN],
        ..Model::default()
    };
    for (step, op) in ops.into_iter().enumerate() {
        match op {
            Op::ScheduleTask(i, delta) => {
                let at = model.now + delta;
                let waker = {
                    let mut state = state(i);
                    state.command = Some(at);
                    state.waker.clone().expect("every task was polled once")
                };
                waker.wake();
                drain(runner);
                let result = state(i).result.take();
                // The poll that scheduled is not a fire.
                state(i).polls -= 1;
                let current = model.tasks.get(&i).copied();
                let others = model.earliest_except(Some(i), None);
                let (want, queued, fires) = model.schedule(current, others, at, true);
                assert_eq!(
                    result,
                    Some(want),
                    "step {step}: task {i}'s schedule_wake({at})"
                );
                match queued {
                    Some(d) => model.tasks.insert(i, d),
                    None => model.tasks.remove(&i),
                };
                model.task_fires[i] += usize::from(fires);
            }
            Op::ScheduleForeign(k, delta) => {
                let at = model.now + delta;
                let got = queue().schedule_wake(at, &wakers[k]);
                let current = model.foreign.get(&k).copied();
                let others = model.earliest_except(None, Some(k));
                // Never with `task-timers-only` (a capacity of 0).
                #[allow(clippy::absurd_extreme_comparisons)]
                let room = model.foreign.len() < FOREIGN_WAKER_CAPACITY;
                let (want, queued, fires) = model.schedule(current, others, at, room);
                assert_eq!(
                    got, want,
                    "step {step}: foreign waker {k}'s schedule_wake({at})"
                );
                match queued {
                    Some(d) => model.foreign.insert(k, d),
                    None => model.foreign.remove(&k),
                };
                model.foreign_fires[k] += usize::from(fires);
            }
            Op::Advance(delta) => {
                model.now += delta;
                let now = model.now;
                let next = queue().wake_expired(now);
                drain(runner);
                model.tasks.retain(|&i, &mut d| {
                    let due = d <= now;
                    model.task_fires[i] += usize::from(due);
                    !due
                });
                model.foreign.retain(|&k, &mut d| {
                    let due = d <= now;
                    model.foreign_fires[k] += usize::from(due);
                    !due
                });
                model.check_next(next, &format!("step {step}: wake_expired({now})"));
                model.armed = next;
            }
        }
        model.check_next(
            queue().next_deadline(),
            &format!("step {step}: next_deadline"),
        );
        if model.earliest().is_some() {
            assert!(
                queue().may_have_timers(),
                "step {step}: may_have_timers with timers queued"
            );
        }
        assert_eq!(
            queue().check_invariants(),
            model.tasks.len(),
            "step {step}: task timers queued"
        );
        for (i, &fires) in model.task_fires.iter().enumerate() {
            assert_eq!(
                state(i).polls,
                fires,
                "step {step}: wakes of task {i} (deadline {:?})",
                model.tasks.get(&i)
            );
        }
        for (k, &fires) in model.foreign_fires.iter().enumerate() {
            assert_eq!(
                foreign_wakes(k),
                fires,
                "step {step}: wakes of foreign waker {k} (deadline {:?})",
                model.foreign.get(&k)
            );
        }
    }
}

#[test]
fn timer_queue_agrees_with_a_btreemap_model() {
    let runner = EXECUTOR.runner().unwrap();
    for i in 0..TASKS {
        runner
            .spawner()
            .spawn(
                &POOL,
                poll_fn(move |cx| {
                    let command = {
                        let mut state = state(i);
                        state.polls += 1;
                        state.waker = Some(cx.waker().clone());
                        state.command.take()
                    };
                    if let Some(at) = command {
                        let result = queue().schedule_wake(at, cx.waker());
                        state(i).result = Some(result);
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
    let result = tests.run(&prop::collection::vec(op(), 1..80), |ops| {
        run(&runner, ops);
        Ok(())
    });
    if let Err(error) = result {
        panic!("{error}");
    }
}

/// A disagreement the property test found (its minimal case, written out), fixed since. A foreign
/// waker queued for tick 1, then scheduled again for tick 0, which has passed (the queue is at 0):
/// it is woken at once, as documented, and its entry for tick 1 goes, as the module docs say
/// (wakers that `will_wake` each other "share an entry with the earlier deadline", here 0, so
/// nothing stays queued) and as a task's timer does. Before the fix the entry stayed: the waker
/// was woken a second time at 1, and held one of the table's 32 places until then.
#[test]
#[cfg_attr(
    feature = "task-timers-only",
    ignore = "task-timers-only keeps no foreign waker: each is woken at once"
)]
fn foreign_waker_rescheduled_into_the_past_is_woken_once() {
    static QUEUE: TimerQueue = TimerQueue::with_own_lock();
    let queue: &'static TimerQueue = &QUEUE;
    let waker = foreign_waker(FOREIGN);
    assert!(queue.schedule_wake(1, &waker));
    assert!(
        !queue.schedule_wake(0, &waker),
        "0 has passed: woken at once"
    );
    assert_eq!(foreign_wakes(FOREIGN), 1);
    assert_eq!(
        queue.next_deadline(),
        None,
        "the waker's entry should have the earlier deadline (passed, so gone)"
    );
    queue.wake_expired(1);
    assert_eq!(
        foreign_wakes(FOREIGN),
        1,
        "not woken again at the old deadline"
    );
}
