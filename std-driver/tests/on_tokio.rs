//! ebbtide's timers, channels and `Notify` awaited inside Tokio, with no ebbtide runtime in the
//! process: the timers fire on time from ebbtide-std's timer thread, any number of them, and
//! nothing spins while they wait.

use std::time::Instant as StdInstant;

use ebbtide_std::sync::{mpsc, Notify};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use ebbtide_std::time::{sleep_until, timeout, Duration, Instant};

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

/// 10,000 ebbtide sleeps, each in its own Tokio task, all until one deadline 2 s away: every one
/// ends, none early, all wait in the timer thread at once, and while they wait the process
/// spends next to no CPU (a spin would spend all of it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_sleeps_fire_on_time_without_spinning() {
    const SLEEPS: usize = 10_000;
    static POLLED: AtomicUsize = AtomicUsize::new(0);
    let start = StdInstant::now();
    let cpu_before = process_cpu();
    // One deadline for all, far enough that even a slow build (the sanitizers' runs) has them
    // all waiting well before it.
    let deadline = Instant::now() + Duration::from_secs(2);
    let tasks: Vec<_> = (0..SLEEPS)
        .map(|_| {
            tokio::spawn(async move {
                POLLED.fetch_add(1, SeqCst);
                sleep_until(deadline).await;
                Instant::now()
            })
        })
        .collect();
    // Until every task has polled its sleep, and so queued its timer (bounded by the deadline).
    while (POLLED.load(SeqCst) < SLEEPS || ebbtide_std::time::foreign_timers_waiting() < SLEEPS)
        && Instant::now() < deadline
    {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let queued = ebbtide_std::time::foreign_timers_waiting();
    let polled = POLLED.load(SeqCst);
    // (At least: other tests of this binary may have a timer there too.)
    assert!(
        queued >= SLEEPS,
        "every sleep waits in the timer thread: {queued} timers there, {polled} of {SLEEPS} \
         tasks had polled"
    );
    assert!(
        Instant::now() + Duration::from_millis(300) < deadline,
        "10,000 tasks took {:?} to start: too slow to measure the wait",
        start.elapsed()
    );
    // 100 ms with every sleep waiting and nothing else to do.
    let cpu_mid = process_cpu();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let idle_cpu = process_cpu() - cpu_mid;
    let mut ended = Vec::with_capacity(SLEEPS);
    for task in tasks {
        ended.push(task.await.unwrap());
    }
    let total_cpu = process_cpu() - cpu_before;
    assert!(
        ended.iter().all(|&at| at >= deadline),
        "a sleep ended early, at {:?}",
        ended.iter().min()
    );
    // A spin of two workers would use about 200 ms of CPU in those 100 ms; a sleeping process
    // next to none. 50 ms leaves room for a loaded machine.
    assert!(
        idle_cpu < std::time::Duration::from_millis(50),
        "the process used {idle_cpu:?} of CPU in 100 ms while 10,000 timers waited"
    );
    println!(
        "10,000 sleeps until 2 s: all done after {:?}; CPU {total_cpu:?} in all, {idle_cpu:?} in \
         100 ms of waiting; latest end {:?} after the deadline",
        start.elapsed(),
        ended.iter().max().unwrap().duration_since(deadline)
    );
    // Each fired timer left the thread's map.
    assert!(ebbtide_std::time::foreign_timers_waiting() < SLEEPS);
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
