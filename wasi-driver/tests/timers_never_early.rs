//! No sleep ends before its duration on WASI, as `std::time::Instant` measures it (the same test as
//! ebbtide-std's): 10,000 sleeps of
//! 0.1 to 5 ms, in batches of concurrent tasks on a busy runtime, counting the early ones. (The clock's reading
//! floors the true time to whole microseconds; `sleep` rounds its deadline up by one tick to
//! cover that.)

use std::cell::Cell;
use std::rc::Rc;

use ebbtide_wasi::time::sleep;
use ebbtide_wasi::Runtime;

/// A deterministic xorshift64: the same durations on every run.
fn durations(n: usize) -> Vec<std::time::Duration> {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    (0..n)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            std::time::Duration::from_micros(100 + seed % 4_901)
        })
        .collect()
}

#[test]
fn ten_thousand_sleeps_never_end_early() {
    const SLEEPS: usize = if cfg!(miri) { 40 } else { 10_000 };
    // The WASI runtime's default has 256 slots of the smallest class.
    const BATCH: usize = if cfg!(miri) { 20 } else { 200 };
    let runtime = Runtime::new().unwrap();
    let early = Rc::new(Cell::new(0usize));
    let mut shortest = std::time::Duration::MAX;
    for batch in durations(SLEEPS).chunks(BATCH) {
        let margins = runtime.block_on(async {
            // A busy runtime: a task that yields all the time, so the loop looks at the clock
            // every few microseconds and fires a timer on the first tick that reads its
            // deadline.
            let done = Rc::new(Cell::new(false));
            let spinner = {
                let done = done.clone();
                ebbtide_wasi::spawn_local(async move {
                    while !done.get() {
                        ebbtide_wasi::task::yield_now().await;
                    }
                })
                .unwrap()
            };
            let mut tasks = Vec::new();
            for &duration in batch {
                tasks.push(
                    ebbtide_wasi::spawn_local(async move {
                        let start = std::time::Instant::now();
                        // A `std::time::Duration`, as Tokio code passes it.
                        sleep(duration).await;
                        start.elapsed().checked_sub(duration)
                    })
                    .unwrap(),
                );
            }
            let mut margins = Vec::new();
            for task in tasks {
                margins.push(task.await.unwrap());
            }
            done.set(true);
            spinner.await.unwrap();
            margins
        });
        for margin in margins {
            match margin {
                Some(late) => shortest = shortest.min(late),
                None => early.set(early.get() + 1),
            }
        }
    }
    assert_eq!(
        early.get(),
        0,
        "{} of {SLEEPS} sleeps ended before their duration",
        early.get()
    );
    // Not a timing assertion: what the closest call was, for the record.
    println!("closest: {shortest:?} after the duration");
}
