//! A first look at ebbtide: a static executor, a static task pool, tasks that pass messages and
//! hand their results back through join handles.
//!
//! ```text
//! cargo run -p ebbtide-examples --bin hello
//! ```
//!
//! A producer task posts jobs to a mailbox; two worker tasks take turns to square them and
//! return their sums; the main future awaits every handle. Every task runs on one thread, taking
//! turns at each `.await`, so the log below shows the workers interleaving.
//!
//! The mailbox is a `Mutex<VecDeque>` that workers poll with `yield_now`: a stand-in until
//! `ebbtide_core::sync::mpsc` arrives, which parks a waiting task instead of spinning.

use std::collections::VecDeque;
use std::sync::Mutex;

use ebbtide_core::task::yield_now;
use ebbtide_core::{Executor, JoinHandle, SpawnError, Spawner, TaskPool};

/// The executor: a run queue in static memory, polled by `main`'s thread.
static EXECUTOR: Executor = Executor::new();
/// Room for four tasks of up to 256 bytes each; spawning never allocates.
static TASKS: TaskPool<4> = TaskPool::named("tasks");

/// Jobs from the producer to the workers; `None` means "no more jobs".
static MAILBOX: Mutex<VecDeque<Option<u32>>> = Mutex::new(VecDeque::new());

const WORKERS: usize = 2;

fn main() {
    let runner = EXECUTOR.runner().expect("nobody else runs this executor");
    let spawner = runner.spawner();

    let workers: Vec<JoinHandle<(usize, u32)>> = (1..=WORKERS)
        .map(|id| {
            spawner
                .spawn(&TASKS, worker(id))
                .expect("the pool has room for the workers")
        })
        .collect();
    let producer = spawner
        .spawn(&TASKS, producer(spawner))
        .expect("the pool has room");

    // `run_until` polls the tasks and this future until the future completes. The closure is
    // what to do when nothing is ready: a real driver waits for IO or a timer; here we just spin.
    let (sums, refused) = runner.run_until(
        async move {
            let refused = producer.await.expect("the producer ran to completion");
            let mut sums = Vec::new();
            for handle in workers {
                sums.push(handle.await.expect("the worker ran to completion"));
            }
            (sums, refused)
        },
        || {},
    );

    for (id, sum) in &sums {
        println!("worker {id} returned {sum}");
    }
    let total: u32 = sums.iter().map(|(_, sum)| sum).sum();
    println!("total of the squares of 1..=6: {total}");
    assert_eq!(total, (1..=6).map(|n| n * n).sum());
    println!("a spawn into a full pool is an error, not a panic: {refused}");
}

/// Posts six jobs, two at a time, yielding after each pair so the workers run, then one stop
/// message per worker.
///
/// Returns the error it got from spawning into a pool with no free slot.
async fn producer(spawner: Spawner) -> SpawnError {
    for pair in [[1, 2], [3, 4], [5, 6]] {
        println!("producer: posting {pair:?}");
        MAILBOX.lock().unwrap().extend(pair.map(Some));
        yield_now().await;
    }
    MAILBOX.lock().unwrap().extend([None; WORKERS]);

    // The pool has four slots: two workers, this task, and one left; fill it, then overflow it.
    let filler = spawner
        .spawn(&TASKS, async {})
        .expect("one slot is still free");
    let refused = spawner
        .spawn(&TASKS, async {})
        .expect_err("every slot is taken");
    drop(filler);
    refused
}

/// Squares jobs until it receives a stop message, and returns the sum of the squares.
async fn worker(id: usize) -> (usize, u32) {
    let mut sum = 0;
    loop {
        // Take the lock only between awaits: a task never holds it while others run.
        let message = MAILBOX.lock().unwrap().pop_front();
        match message {
            Some(Some(job)) => {
                println!("  worker {id}: {job} squared is {}", job * job);
                sum += job * job;
            }
            Some(None) => return (id, sum),
            None => {}
        }
        yield_now().await;
    }
}
