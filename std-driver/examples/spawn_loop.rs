//! A timed spawn loop on a host runtime: spawns `N` small tasks from `block_on`, then awaits
//! them; prints one JSON line per round with the mean nanoseconds per spawn and per spawn+join.
//!
//! ```text
//! cargo build --profile bench-lto -p ebbtide-std --example spawn_loop
//! target/bench-lto/examples/spawn_loop 15          # reserved up front (task_capacity(16384))
//! target/bench-lto/examples/spawn_loop 15 grown    # default reservation, grown by segments
//! ```

use std::hint::black_box;
use std::time::Instant;

/// Tasks per round.
const N: usize = 10_000;

fn main() {
    let mut args = std::env::args().skip(1);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(15);
    let grown = args.next().as_deref() == Some("grown");
    let builder = ebbtide_std::Runtime::builder();
    let runtime = if grown {
        builder.build()
    } else {
        builder.task_capacity(16_384).build()
    }
    .unwrap();
    let mode = if grown { "grown" } else { "reserved" };
    runtime.block_on(async {
        let mut handles = Vec::with_capacity(N);
        // Two rounds of warm-up (the grown runtime grows in the first).
        for round in 0..rounds + 2 {
            let start = Instant::now();
            for i in 0..N {
                handles.push(ebbtide_std::spawn(async move { black_box(i) }).unwrap());
            }
            let spawned = start.elapsed();
            for handle in handles.drain(..) {
                black_box(handle.await.unwrap());
            }
            let total = start.elapsed();
            if round >= 2 {
                println!(
                    "{{\"workload\":\"host_spawn_{N}\",\"mode\":\"{mode}\",\"spawn_ns\":{:.2},\"spawn_join_ns\":{:.2}}}",
                    spawned.as_nanos() as f64 / N as f64,
                    total.as_nanos() as f64 / N as f64
                );
            }
        }
    });
}
