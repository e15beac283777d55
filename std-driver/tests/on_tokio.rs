//! ebbtide's timers, channels and `Notify` awaited inside Tokio, with no ebbtide runtime in the
//! process: the timers fire on time from ebbtide-std's timer thread, any number of them, and
//! nothing spins while they wait.

use std::time::Instant as StdInstant;

use ebbtide_std::sync::{mpsc, Notify};
use ebbtide_std::time::{sleep, timeout, Duration};

/// CPU time of the whole process (user + system), from `getrusage`.
fn process_cpu() -> std::time::Duration {
    // SAFETY: `getrusage` fills the zeroed struct it is given; `RUSAGE_SELF` is always valid.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_SELF, &mut usage), 0);
        usage
    };
    let micros = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    std::time::Duration::from_micros(micros(usage.ru_utime) + micros(usage.ru_stime))
}

/// 10,000 ebbtide sleeps of 300 ms, each in its own Tokio task: every one ends, none early, and
/// the process spends a small fraction of the wait on the CPU (a spin would spend all of it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_sleeps_fire_on_time_without_spinning() {
    const SLEEPS: usize = 10_000;
    let wait = Duration::from_millis(300);
    let start = StdInstant::now();
    let cpu_before = process_cpu();
    let tasks: Vec<_> = (0..SLEEPS)
        .map(|_| {
            tokio::spawn(async move {
                let began = StdInstant::now();
                sleep(wait).await;
                began.elapsed()
            })
        })
        .collect();
    // While they all wait (well before the deadline), count the CPU the process uses.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let queued = ebbtide_std::time::foreign_timers_waiting();
    let cpu_mid = process_cpu();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let idle_cpu = process_cpu() - cpu_mid;
    let mut slept = Vec::with_capacity(SLEEPS);
    for task in tasks {
        slept.push(task.await.unwrap());
    }
    let total_cpu = process_cpu() - cpu_before;
    assert_eq!(queued, SLEEPS, "every sleep waits in the timer thread");
    let wait_std = std::time::Duration::from_micros(wait.as_micros());
    assert!(
        slept.iter().all(|&d| d >= wait_std),
        "a sleep ended early: {:?}",
        slept.iter().min()
    );
    // The 100 ms in the middle, with every sleep waiting: a spin of two workers would use about
    // 200 ms of CPU; a sleeping process next to none. 50 ms leaves room for a loaded machine.
    assert!(
        idle_cpu < std::time::Duration::from_millis(50),
        "the process used {idle_cpu:?} of CPU in 100 ms while 10,000 timers waited"
    );
    println!(
        "10,000 sleeps of 300 ms: all done after {:?}; CPU {total_cpu:?} in all, {idle_cpu:?} in \
         100 ms of waiting; latest sleep {:?}",
        start.elapsed(),
        slept.iter().max().unwrap()
    );
    assert_eq!(ebbtide_std::time::foreign_timers_waiting(), 0);
}

/// A `timeout` around a Tokio future that never ends fires; one around a quick one does not.
#[tokio::test]
async fn a_timeout_inside_tokio_fires() {
    let started = StdInstant::now();
    let elapsed = timeout(
        std::time::Duration::from_millis(50),
        std::future::pending::<()>(),
    )
    .await;
    assert!(elapsed.is_err());
    assert!(started.elapsed() >= std::time::Duration::from_millis(50));
    let quick = timeout(std::time::Duration::from_secs(5), async { 7 }).await;
    assert_eq!(quick, Ok(7));
}

/// A channel and `Notify` between Tokio tasks: the waker is Tokio's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channels_and_notify_between_tokio_tasks() {
    static NOTIFY: Notify = Notify::new();
    let (tx, mut rx) = mpsc::channel::<u32>(4);
    let producer = tokio::spawn(async move {
        for n in 0..100 {
            tx.send(n).await.unwrap();
        }
        NOTIFY.notified().await;
    });
    let mut sum = 0;
    for _ in 0..100 {
        sum += rx.recv().await.unwrap();
    }
    NOTIFY.notify_one();
    producer.await.unwrap();
    assert_eq!(sum, (0..100).sum::<u32>());
}
