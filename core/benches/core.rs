//! Micro-benchmarks of ebbtide-core's hot paths, on one thread, with the mock clock.
//!
//! `cargo bench -p ebbtide-core --bench core`. Per-operation figures: divide by the count in each
//! benchmark's name. The side-by-side comparison with Tokio, smol and Embassy lives in the
//! benchmark crate (`cargo xtask bench`).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use ebbtide_core::{task::yield_now, Executor, Runner, Spawner, TaskPool};

static EXECUTOR: Executor = Executor::new();
static SMALL: TaskPool<10_240, 64> = TaskPool::named("bench-small");
static ROOTS: TaskPool<4, 512> = TaskPool::named("bench-roots");

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
                    let spawner = Spawner::for_current_executor().await;
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

criterion_group!(benches, spawn_many);
criterion_main!(benches);
