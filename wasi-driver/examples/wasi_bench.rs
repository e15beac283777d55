//! Performance figures of the runtime, from one source that builds on ebbtide-wasi (WASI) and on
//! ebbtide-std (natively), so that both can be compared in one run.
//!
//! ```text
//! cargo build --release -p ebbtide-wasi --example wasi_bench --target wasm32-wasip1
//! wasmtime run target/wasm32-wasip1/release/examples/wasi_bench.wasm
//! cargo run --release -p ebbtide-wasi --example wasi_bench
//! ```
//!
//! `cargo bench -p ebbtide-wasi --bench wasi_perf` builds both, runs them under each host and
//! prints a table (see `benches/wasi_perf.rs`).
//!
//! Output, one `key value` line per figure (machine-readable):
//!
//! - `timer_p50_us`, `timer_p99_us`, `timer_max_us`: how late 1,000 sleeps of 1 to 10 ms from
//!   100 concurrent tasks wake up (as `std-driver/benches/timer_lateness.rs`), measured with the
//!   runtime's monotonic clock (`time::Instant`).
//! - `spawn_join_ns`: spawn and join 1,000 tasks, per task.
//! - `yield_ns`: 200 tasks yielding 1,000 times each, per yield.
//! - `mpsc_ns`: 5,000 messages from a task to another through a bounded channel (capacity 64),
//!   per message.
//!
//! Each micro-workload is run once to warm up, then [`ROUNDS`] times; the median is printed.
//!
//! `--idle MS` instead prints `idle_start`, sleeps once for MS milliseconds with nothing else to
//! do and prints `idle_ms MS`: the harness measures the CPU time that costs (it should be next to
//! nothing).

use std::hint::black_box;

#[cfg(not(target_os = "wasi"))]
use ebbtide_std as rt;
#[cfg(target_os = "wasi")]
use ebbtide_wasi as rt;

use rt::sync::mpsc::Channel;
use rt::task::yield_now;
use rt::time::{sleep, Duration, Instant};

/// Timed rounds of each micro-workload (after one warm-up round).
const ROUNDS: usize = 5;
const SPAWNS: u32 = 1_000;
const YIELD_TASKS: usize = 200;
const YIELDS: usize = 1_000;
const MESSAGES: u32 = 5_000;

fn percentile(sorted: &[u64], p: f64) -> u64 {
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank]
}

/// Lateness, in µs, of 1,000 sleeps of 1 to 10 ms from 100 concurrent tasks.
async fn timer_lateness() -> Vec<u64> {
    let mut tasks = Vec::with_capacity(100);
    for task in 0..100u64 {
        tasks.push(
            rt::spawn(async move {
                let mut late = Vec::with_capacity(10);
                for i in 0..10u64 {
                    // A spread of durations from 1 to 10 ms (deterministic).
                    let micros = 1_000 + (task * 7_919 + i * 104_729) % 9_000;
                    let start = Instant::now();
                    sleep(Duration::from_micros(micros)).await;
                    let waited = start.elapsed().as_micros();
                    late.push(waited.saturating_sub(micros));
                }
                late
            })
            .expect("spawn a sleeper"),
        );
    }
    let mut all = Vec::with_capacity(1_000);
    for task in tasks {
        all.extend(task.await.expect("a sleeper"));
    }
    all
}

async fn spawn_join() {
    let mut handles = Vec::with_capacity(SPAWNS as usize);
    for i in 0..SPAWNS {
        handles.push(rt::spawn(async move { black_box(i) }).expect("spawn"));
    }
    let mut sum = 0u64;
    for handle in handles {
        sum += u64::from(handle.await.expect("join"));
    }
    black_box(sum);
}

async fn yields() {
    let mut handles = Vec::with_capacity(YIELD_TASKS);
    for _ in 0..YIELD_TASKS {
        handles.push(
            rt::spawn(async {
                for _ in 0..YIELDS {
                    yield_now().await;
                }
            })
            .expect("spawn a yielder"),
        );
    }
    for handle in handles {
        handle.await.expect("a yielder");
    }
}

async fn mpsc() {
    // Leaked (a few dozen bytes per round) so that the producer task can own its sender.
    let channel: &'static Channel<u32, 64> = Box::leak(Box::new(Channel::new()));
    let (tx, mut rx) = channel.split();
    let producer = rt::spawn(async move {
        for i in 0..MESSAGES {
            tx.send(i).await.expect("send");
        }
    })
    .expect("spawn the producer");
    let mut sum = 0u64;
    for _ in 0..MESSAGES {
        sum += u64::from(rx.recv().await.expect("receive"));
    }
    producer.await.expect("the producer");
    black_box(sum);
}

/// The median time per operation of `ROUNDS` runs of `workload` (after a warm-up), in ns.
async fn ns_per_op<F: std::future::Future<Output = ()>>(ops: u64, workload: fn() -> F) -> f64 {
    workload().await;
    let mut rounds = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        // std's clock: nanoseconds (the runtime's ticks are µs).
        let start = std::time::Instant::now();
        workload().await;
        rounds.push(start.elapsed().as_nanos() as f64 / ops as f64);
    }
    rounds.sort_by(f64::total_cmp);
    rounds[ROUNDS / 2]
}

fn main() {
    let mut idle_ms = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next().map(|value| value.parse::<u64>())) {
            ("--idle", Some(Ok(ms))) => idle_ms = Some(ms),
            _ => {
                eprintln!("usage: wasi_bench [--idle MS]");
                std::process::exit(2);
            }
        }
    }
    let runtime = rt::Runtime::builder()
        .task_capacity(2_048)
        .build()
        .expect("a runtime");

    if let Some(ms) = idle_ms {
        // Tells the harness that start-up is over (stdout is line-buffered).
        println!("idle_start");
        runtime.block_on(sleep(Duration::from_millis(ms)));
        println!("idle_ms {ms}");
        return;
    }

    let mut late = runtime.block_on(timer_lateness());
    late.sort_unstable();
    println!("timer_sleeps {}", late.len());
    println!("timer_p50_us {}", percentile(&late, 0.50));
    println!("timer_p99_us {}", percentile(&late, 0.99));
    println!("timer_max_us {}", late[late.len() - 1]);

    let spawn = runtime.block_on(ns_per_op(u64::from(SPAWNS), spawn_join));
    println!("spawn_join_ns {spawn:.1}");
    let yield_ns = runtime.block_on(ns_per_op((YIELD_TASKS * YIELDS) as u64, yields));
    println!("yield_ns {yield_ns:.1}");
    let mpsc_ns = runtime.block_on(ns_per_op(u64::from(MESSAGES), mpsc));
    println!("mpsc_ns {mpsc_ns:.1}");
}
