//! Micro-benchmarks of ebbtide-core's hot paths, on one thread, with the mock clock.
//!
//! `cargo bench -p ebbtide-core --bench core`. Per-operation figures: divide by the count in each
//! benchmark's name. The side-by-side comparison with Tokio, smol and Embassy lives in the
//! benchmark crate (`cargo xtask bench`).

use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};

static FIRED: AtomicUsize = AtomicUsize::new(0);

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use ebbtide_core::sync::{mpsc, oneshot};
use ebbtide_core::time::{sleep, Duration};
use ebbtide_core::{task::yield_now, Executor, Runner, SendSpawner, TaskPool};
use ebbtide_mock_time::MockDriver;

static EXECUTOR: Executor = Executor::new();
static SMALL: TaskPool<10_240, 64> = TaskPool::named("bench-small");
static ROOTS: TaskPool<4, 512> = TaskPool::named("bench-roots");
static PING_TASKS: TaskPool<2_048, 256> = TaskPool::named("bench-ping");
static TIMER_TASKS: TaskPool<100_000, 64> = TaskPool::named("bench-timers");
static PINGS: [oneshot::Channel<u32>; 1_000] = [const { oneshot::Channel::new() }; 1_000];
static PONGS: [oneshot::Channel<u32>; 1_000] = [const { oneshot::Channel::new() }; 1_000];

fn runner() -> &'static Runner {
    use std::sync::OnceLock;
    struct SendRunner(Runner);
    // SAFETY: criterion runs every benchmark on the thread that first calls this.
    unsafe impl Send for SendRunner {}
    // SAFETY: as above: only ever used from the benchmark thread.
    unsafe impl Sync for SendRunner {}
    static RUNNER: OnceLock<SendRunner> = OnceLock::new();
    &RUNNER
        .get_or_init(|| SendRunner(EXECUTOR.runner().unwrap()))
        .0
}

fn spawn_many(c: &mut Criterion) {
    let runner = runner();
    let mut group = c.benchmark_group("executor");
    group.throughput(Throughput::Elements(1_000));
    group.bench_function("spawn_join_1000", |b| {
        b.iter(|| {
            let root = runner
                .spawner()
                .spawn(&ROOTS, async {
                    let spawner = SendSpawner::for_current_executor().await;
                    let mut handles = heapless_vec();
                    for i in 0..1_000u32 {
                        handles.push(spawner.spawn(&SMALL, async move { black_box(i) }).unwrap());
                    }
                    let mut sum = 0u64;
                    for h in handles.drain(..) {
                        sum += u64::from(h.await.unwrap());
                    }
                    sum
                })
                .unwrap();
            black_box(runner.run_until(root, || {}))
        })
    });
    group.throughput(Throughput::Elements(200 * 1_000));
    group.bench_function("yield_200x1000", |b| {
        b.iter_batched(
            || (),
            |()| {
                let mut handles = Vec::with_capacity(200);
                for _ in 0..200 {
                    handles.push(
                        runner
                            .spawner()
                            .spawn(&SMALL, async {
                                for _ in 0..1_000 {
                                    yield_now().await;
                                }
                            })
                            .unwrap(),
                    );
                }
                runner.run_until(
                    async {
                        for h in handles {
                            h.await.unwrap();
                        }
                    },
                    || {},
                )
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

/// The handles of `spawn_join_1000`: one allocation per iteration, outside the runtime.
fn heapless_vec() -> Vec<ebbtide_core::JoinHandle<u32>> {
    Vec::with_capacity(1_000)
}

fn channels(c: &mut Criterion) {
    let runner = runner();
    let mut group = c.benchmark_group("sync");
    // Tokio's ping_pong: 1,000 tasks, each spawning a child and trading two oneshot messages.
    group.throughput(Throughput::Elements(1_000));
    group.bench_function("ping_pong_1000", |b| {
        b.iter(|| {
            let spawner = runner.spawner();
            let mut handles = Vec::with_capacity(1_000);
            for i in 0..1_000 {
                handles.push(
                    spawner
                        .spawn(&PING_TASKS, async move {
                            let (ping_tx, ping_rx) = PINGS[i].split();
                            let (pong_tx, pong_rx) = PONGS[i].split();
                            let spawner = SendSpawner::for_current_executor().await;
                            let child = spawner
                                .spawn(&PING_TASKS, async move {
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
            runner.run_until(
                async {
                    for h in handles {
                        black_box(h.await.unwrap());
                    }
                },
                || {},
            )
        })
    });
    // Tokio's sync_mpsc uncontended: send 5,000, then receive 5,000 (capacity 5,000).
    group.throughput(Throughput::Elements(5_000));
    group.bench_function("mpsc_uncontended_5000", |b| {
        b.iter(|| {
            runner.run_until(
                async {
                    let channel: mpsc::Channel<usize, 5_000> = mpsc::Channel::new();
                    let (tx, mut rx) = channel.split();
                    for i in 0..5_000 {
                        tx.send(i).await.unwrap();
                    }
                    for _ in 0..5_000 {
                        black_box(rx.recv().await.unwrap());
                    }
                },
                || {},
            )
        })
    });
    group.finish();
}

fn timers(c: &mut Criterion) {
    let runner = runner();
    let _clock = MockDriver::lock_for_test();
    let mut group = c.benchmark_group("time");
    group.sample_size(10);
    // 100,000 tasks sleep 1 to 10 ms (distinct deadlines), on the mock clock: what is measured is
    // registering each timer in the wheel and firing it, not waiting.
    group.throughput(Throughput::Elements(100_000));
    group.bench_function("sleep_register_and_fire_100000", |b| {
        b.iter_batched(
            MockDriver::reset,
            |()| {
                let spawner = runner.spawner();
                for i in 0..100_000u64 {
                    let micros = 1_000 + (i * 7_919) % 9_000;
                    drop(
                        spawner
                            .spawn(&TIMER_TASKS, async move {
                                sleep(Duration::from_micros(micros)).await;
                                FIRED.fetch_add(1, Ordering::Relaxed);
                            })
                            .unwrap(),
                    );
                }
                // Let every task register its timer, then jump from deadline to deadline.
                runner.run_until(
                    async {
                        loop {
                            yield_now().await;
                            if !MockDriver::advance_to_next_deadline() {
                                break;
                            }
                        }
                    },
                    || {},
                );
                assert_eq!(FIRED.swap(0, Ordering::Relaxed), 100_000);
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, spawn_many, channels, timers);
criterion_main!(benches);
