//! A first look at ebbtide: a static executor, a static task pool, tasks that pass messages over
//! channels and hand their results back through join handles.
//!
//! ```text
//! cargo run -p ebbtide-examples --bin hello
//! ```
//!
//! A producer task deals jobs to two workers over bounded `mpsc` channels (capacity 2, so the
//! producer waits whenever a worker falls behind); each worker squares its jobs and returns the
//! sum; the main future awaits every handle. Every task runs on one thread, taking turns at each
//! `.await`, so the log shows them interleaving. Nothing here allocates: tasks live in a static
//! pool and channels in statics.

use ebbtide_core::sync::mpsc;
use ebbtide_core::{Executor, JoinHandle, SpawnError, Spawner, TaskPool};

/// The executor: a run queue in static memory, polled by `main`'s thread.
static EXECUTOR: Executor = Executor::new();
/// Room for three tasks of up to 256 bytes each; spawning never allocates.
static TASKS: TaskPool<3> = TaskPool::named("tasks");
/// One job queue per worker, two jobs deep.
static QUEUES: [mpsc::Channel<u32, 2>; 2] = [const { mpsc::Channel::new() }; 2];

fn main() {
    let runner = EXECUTOR.runner().expect("nobody else runs this executor");
    let spawner = runner.spawner();

    let (first_tx, first_rx) = QUEUES[0].split();
    let (second_tx, second_rx) = QUEUES[1].split();
    let workers: Vec<JoinHandle<(usize, u32)>> = [(1, first_rx), (2, second_rx)]
        .into_iter()
        .map(|(id, jobs)| {
            spawner
                .spawn(&TASKS, worker(id, jobs))
                .expect("the pool has room for the workers")
        })
        .collect();
    let producer = spawner
        .spawn(&TASKS, producer(spawner, [first_tx, second_tx]))
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

type JobSender = mpsc::Sender<'static, u32, 2>;
type JobReceiver = mpsc::Receiver<'static, u32, 2>;

/// Deals the jobs 1..=6 to the workers in turn, then closes both queues by dropping the senders.
///
/// Returns the error it got from spawning into a pool with no free slot.
async fn producer(spawner: Spawner, queues: [JobSender; 2]) -> SpawnError {
    for job in 1..=6 {
        let worker = (job as usize - 1) % 2;
        println!("producer: job {job} to worker {}", worker + 1);
        // Waits (parks the task) while that worker's queue is full.
        queues[worker].send(job).await.expect("the worker is alive");
    }
    drop(queues); // the workers' `recv` returns `None` once their queue is drained
    spawner
        .spawn(&TASKS, async {})
        .expect_err("the producer and the two workers fill the three slots")
}

/// Squares every job it receives until its queue closes; returns its id and the sum.
async fn worker(id: usize, mut jobs: JobReceiver) -> (usize, u32) {
    let mut sum = 0;
    while let Some(job) = jobs.recv().await {
        println!("  worker {id}: {job} squared is {}", job * job);
        sum += job * job;
    }
    (id, sum)
}
