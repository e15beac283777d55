//! Sleeps shorter than the host's clock granularity neither spin nor end early.
//!
//! Node's `node:wasi` truncates clock waits to whole milliseconds: an 800 µs wait returns at
//! once. A runtime that asked again for the remaining time would spin through it (500 such
//! sleeps once made 85,747 `poll_oneoff` calls). The driver rounds its waits up to the
//! granularity it has seen instead; this runs on every host of the `wasi` stage (wasmtime 46,
//! the newest wasmtime, Node).
#![cfg(target_os = "wasi")]

use std::time::Instant;

use ebbtide_wasi::time::{sleep, Duration};
use ebbtide_wasi::Runtime;

#[test]
fn short_sleeps_make_about_one_wait_each_and_never_end_early() {
    const SLEEPS: u64 = 500;
    let runtime = Runtime::new().unwrap();
    let before = runtime.host_waits();
    let mut late = runtime.block_on(async {
        let mut late = Vec::new();
        for _ in 0..SLEEPS {
            let start = Instant::now();
            sleep(Duration::from_micros(800)).await;
            let took = start.elapsed();
            assert!(
                took >= std::time::Duration::from_micros(800),
                "a sleep of 800 µs ended after {took:?}"
            );
            late.push(took - std::time::Duration::from_micros(800));
        }
        late
    });
    let waits = runtime.host_waits() - before;
    late.sort();
    eprintln!(
        "{SLEEPS} sleeps of 800 µs: {waits} waits, lateness p50 {:?} p99 {:?}",
        late[late.len() / 2],
        late[late.len() * 99 / 100]
    );
    // One wait per sleep, plus the few that taught the driver the host's granularity.
    assert!(
        waits <= SLEEPS * 3 / 2,
        "{waits} waits for {SLEEPS} sleeps: the runtime spins"
    );
}
