//! ebbtide-core's executor and channel workloads, on static task pools and one `Runner` on this
//! thread (no IO or time driver): the code of two binaries, which differ only in how
//! ebbtide-core is built.
//!
//! - `exec_ebbtide` (this crate): with the features ebbtide-std turns on (`wake-hook`,
//!   `steal-batch`), since the crate links ebbtide-std and cargo unifies features per build.
//! - `exec_ebbtide_bare` (`bench/bare`, outside the workspace): without the executor's extras
//!   that embassy-executor lacks (no wake hook, no work stealing, no cooperative budget, each
//!   round newest first as Embassy runs it): like for like with Embassy.
//!
//! Both include this file with `#[path]`, and `crate::harness` is `src/harness.rs` in both.
//! Channels come with the default lock (`CriticalSectionRawMutex`, thread-safe: the counterpart
//! of Tokio's and smol's) or with `LocalRawMutex` (single-executor: the counterpart of Embassy's
//! `NoopRawMutex`).

use std::hint::black_box;

use crate::harness::{sizes::*, time, Sample};
use ebbtide_core::blocking_mutex::{CriticalSectionRawMutex, LocalRawMutex, RawMutex};
use ebbtide_core::sync::{mpsc, oneshot, spsc};
use ebbtide_core::task::yield_now;
use ebbtide_core::{Executor, JoinHandle, Runner, SendSpawner, Spawner, TaskPool};

static EXECUTOR: Executor = Executor::new();
static SMALL: TaskPool<10_240, 64> = TaskPool::named("bench-small");
pub static ROOTS: TaskPool<8, 512> = TaskPool::named("bench-roots");
pub static MID: TaskPool<2_048, 256> = TaskPool::named("bench-mid");

/// The executor's runner, its pools touched, and the oneshot channels of both locks.
pub struct Workloads {
    runner: Runner,
    safe: &'static Oneshots<CriticalSectionRawMutex>,
    local: &'static Oneshots<LocalRawMutex>,
}

impl Workloads {
    /// Takes the executor's runner (once per process) and touches every pool slot.
    pub fn new() -> Workloads {
        let runner = EXECUTOR.runner().expect("the only runner");
        touch_pools(&runner);
        // Oneshot channels are split again for every exchange: allocate them once per process.
        Workloads {
            runner,
            safe: Oneshots::leak(),
            local: Oneshots::leak(),
        }
    }

    /// The runner, for workloads of the including binary.
    #[allow(dead_code)] // `exec_ebbtide_bare` has no workloads of its own
    pub fn runner(&self) -> &Runner {
        &self.runner
    }

    /// Runs `workload` (one of `EXECUTOR_WORKLOADS`) once, its channels with `LocalRawMutex` if
    /// `local` (only the channel workloads), else with the default lock.
    pub fn run(&self, workload: &str, local: bool) -> Sample {
        let runner = &self.runner;
        match (workload, local) {
            ("spawn_many_1000", false) => time(|| spawn_many(runner, SPAWN_SMALL)),
            ("spawn_many_10000", false) => time(|| spawn_many(runner, SPAWN_LARGE)),
            ("yield_many", false) => time(|| yield_many(runner)),
            ("chained_spawn", false) => time(|| chained_spawn(runner, self.safe)),
            (w, false) => channels(runner, self.safe, w),
            (w, true) => channels(runner, self.local, w),
        }
    }
}

fn channels<M: RawMutex + 'static>(
    runner: &Runner,
    oneshots: &'static Oneshots<M>,
    w: &str,
) -> Sample {
    match w {
        "ping_pong" => time(|| ping_pong(runner, oneshots)),
        "mpsc_uncontended" => time(|| mpsc_uncontended::<M>(runner)),
        "spsc_uncontended" => time(|| spsc_uncontended::<M>(runner)),
        "mpsc_contended" => {
            // A channel is split once: a fresh one per run, allocated before the clock starts.
            let channel: &'static mpsc::Channel<usize, CONTENDED_CAPACITY, M> =
                Box::leak(Box::new(mpsc::Channel::with_mutex()));
            time(|| mpsc_contended(runner, channel))
        }
        "request_reply" => {
            let channel: &'static Requests<M> = Box::leak(Box::new(mpsc::Channel::with_mutex()));
            time(|| request_reply(runner, channel, &oneshots.reply))
        }
        other => unreachable!("{other}"),
    }
}

struct Oneshots<M: RawMutex + 'static> {
    pings: Vec<oneshot::Channel<u32, M>>,
    pongs: Vec<oneshot::Channel<u32, M>>,
    reply: oneshot::Channel<usize, M>,
    done: oneshot::Channel<(), M>,
}

impl<M: RawMutex + 'static> Oneshots<M> {
    fn leak() -> &'static Oneshots<M> {
        Box::leak(Box::new(Oneshots {
            pings: (0..PING_PONG)
                .map(|_| oneshot::Channel::with_mutex())
                .collect(),
            pongs: (0..PING_PONG)
                .map(|_| oneshot::Channel::with_mutex())
                .collect(),
            reply: oneshot::Channel::with_mutex(),
            done: oneshot::Channel::with_mutex(),
        }))
    }
}

/// Runs a task in every slot of the static pools once, so that their pages are resident before
/// anything is timed. A static pool lives in `.bss`, which the OS maps on first touch, and a
/// spawn takes the slot after the last one taken, so without this the first runs of a process
/// would time page faults (about 36 per 1,000 small tasks) where the heap-based peers reuse
/// memory their allocator already holds: a long-running program is in the touched state.
fn touch_pools(runner: &Runner) {
    fn fill<const N: usize, const SIZE: usize>(runner: &Runner, pool: &'static TaskPool<N, SIZE>) {
        let handles: Vec<JoinHandle<()>> = (0..N)
            .map(|_| runner.spawner().spawn(pool, async {}).unwrap())
            .collect();
        for handle in handles {
            runner.run_until(handle, || {}).unwrap();
        }
    }
    fill(runner, &SMALL);
    fill(runner, &MID);
    fill(runner, &ROOTS);
}

/// Spawns `n` empty tasks from a task and awaits every handle.
fn spawn_many(runner: &Runner, n: usize) {
    let root = runner
        .spawner()
        .spawn(&ROOTS, async move {
            let spawner = SendSpawner::for_current_executor().await;
            let mut handles: Vec<JoinHandle<usize>> = Vec::with_capacity(n);
            for i in 0..n {
                handles.push(spawner.spawn(&SMALL, async move { black_box(i) }).unwrap());
            }
            let mut sum = 0;
            for h in handles {
                sum += h.await.unwrap();
            }
            sum
        })
        .unwrap();
    black_box(runner.run_until(root, || {}).unwrap());
}

fn yield_many(runner: &Runner) {
    let root = runner
        .spawner()
        .spawn(&ROOTS, async move {
            let spawner = SendSpawner::for_current_executor().await;
            let mut handles = Vec::with_capacity(YIELD_TASKS);
            for _ in 0..YIELD_TASKS {
                handles.push(
                    spawner
                        .spawn(&SMALL, async {
                            for _ in 0..YIELDS {
                                yield_now().await;
                            }
                        })
                        .unwrap(),
                );
            }
            for h in handles {
                h.await.unwrap();
            }
        })
        .unwrap();
    runner.run_until(root, || {}).unwrap();
}

fn ping_pong<M: RawMutex + 'static>(runner: &Runner, oneshots: &'static Oneshots<M>) {
    // The oneshots may use `LocalRawMutex` (not `Sync`), so these tasks are not `Send`: they
    // are spawned through the runner's own (thread-bound) `Spawner`.
    let spawner = runner.spawner();
    let root = spawner
        .spawn(&ROOTS, async move {
            let mut handles = Vec::with_capacity(PING_PONG);
            for i in 0..PING_PONG {
                handles.push(
                    spawner
                        .spawn(&MID, async move {
                            let (ping_tx, ping_rx) = oneshots.pings[i].split();
                            let (pong_tx, pong_rx) = oneshots.pongs[i].split();
                            let child = spawner
                                .spawn(&MID, async move {
                                    let value = ping_rx.await.unwrap();
                                    pong_tx.send(value + 1).unwrap();
                                })
                                .unwrap();
                            ping_tx.send(i as u32).unwrap();
                            let pong = pong_rx.await.unwrap();
                            child.await.unwrap();
                            pong
                        })
                        .unwrap(),
                );
            }
            for h in handles {
                black_box(h.await.unwrap());
            }
        })
        .unwrap();
    runner.run_until(root, || {}).unwrap();
}

/// A task that spawns the next (detached) until `n` is 0, which reports through `done`.
fn chain<M: RawMutex + 'static>(spawner: Spawner, n: usize, done: oneshot::Sender<'static, (), M>) {
    drop(
        spawner
            .spawn(&SMALL, async move {
                if n == 0 {
                    let _ = done.send(());
                } else {
                    chain(spawner, n - 1, done);
                }
            })
            .unwrap(),
    );
}

fn chained_spawn<M: RawMutex + 'static>(runner: &Runner, oneshots: &'static Oneshots<M>) {
    let (tx, rx) = oneshots.done.split();
    chain(runner.spawner(), CHAIN, tx);
    runner.run_until(rx, || {}).unwrap();
}

fn mpsc_uncontended<M: RawMutex + 'static>(runner: &Runner) {
    runner.run_until(
        async {
            let channel: mpsc::Channel<usize, UNCONTENDED, M> = mpsc::Channel::with_mutex();
            let (tx, mut rx) = channel.split();
            for i in 0..UNCONTENDED {
                tx.send(i).await.unwrap();
            }
            for _ in 0..UNCONTENDED {
                black_box(rx.recv().await.unwrap());
            }
        },
        || {},
    );
}

/// [`mpsc_uncontended`] through an `spsc` channel (one producer, the only sender).
fn spsc_uncontended<M: RawMutex + 'static>(runner: &Runner) {
    runner.run_until(
        async {
            let channel: spsc::Channel<usize, UNCONTENDED, M> = spsc::Channel::with_mutex();
            let (mut tx, mut rx) = channel.split();
            for i in 0..UNCONTENDED {
                tx.send(i).await.unwrap();
            }
            for _ in 0..UNCONTENDED {
                black_box(rx.recv().await.unwrap());
            }
        },
        || {},
    );
}

fn mpsc_contended<M: RawMutex + 'static>(
    runner: &Runner,
    channel: &'static mpsc::Channel<usize, CONTENDED_CAPACITY, M>,
) {
    let (tx, mut rx) = channel.split();
    let spawner = runner.spawner();
    for _ in 0..PRODUCERS {
        let tx = tx.clone();
        drop(
            spawner
                .spawn(&MID, async move {
                    for i in 0..PER_PRODUCER {
                        tx.send(i).await.unwrap();
                    }
                })
                .unwrap(),
        );
    }
    drop(tx);
    runner.run_until(
        async {
            for _ in 0..PRODUCERS * PER_PRODUCER {
                black_box(rx.recv().await.unwrap());
            }
        },
        || {},
    );
}

type Requests<M> = mpsc::Channel<(usize, oneshot::Sender<'static, usize, M>), REQUEST_CAPACITY, M>;

fn request_reply<M: RawMutex + 'static>(
    runner: &Runner,
    channel: &'static Requests<M>,
    reply: &'static oneshot::Channel<usize, M>,
) {
    let (tx, mut rx) = channel.split();
    let server = runner
        .spawner()
        .spawn(&MID, async move {
            while let Some((value, reply)) = rx.recv().await {
                let _ = reply.send(value + 1);
            }
        })
        .unwrap();
    runner.run_until(
        async move {
            for i in 0..ROUND_TRIPS {
                let (reply_tx, reply_rx) = reply.split();
                tx.send((i, reply_tx)).await.unwrap();
                black_box(reply_rx.await.unwrap());
            }
            drop(tx);
            server.await.unwrap();
        },
        || {},
    );
}
