//! Channels, `join!` and `select!` through the driver's re-exports, on a WASI host.
// Also on the host under Miri (the `miri` stage of `cargo xtask ci`), on the driver's host stub:
// it waits for timers with a thread sleep, so everything but the WASI calls runs there.
#![cfg(any(target_os = "wasi", miri))]

use ebbtide_wasi::sync::{mpsc, oneshot};
use ebbtide_wasi::time::{sleep, Duration};
use ebbtide_wasi::{join, select, Runtime};

static JOBS: mpsc::Channel<u32, 4> = mpsc::Channel::new();

#[test]
fn mpsc_between_tasks() {
    let runtime = Runtime::new().unwrap();
    let sum = runtime.block_on(async {
        let (tx, mut rx) = JOBS.split();
        let producer = ebbtide_wasi::spawn(async move {
            for job in 1..=10 {
                if job % 3 == 0 {
                    sleep(Duration::from_millis(1)).await;
                }
                tx.send(job).await.unwrap();
            }
        })
        .unwrap();
        let mut sum = 0;
        while let Some(job) = rx.recv().await {
            sum += job;
        }
        producer.await.unwrap();
        sum
    });
    assert_eq!(sum, 55);
}

#[test]
fn oneshot_from_a_sleeping_task() {
    let runtime = Runtime::new().unwrap();
    runtime.block_on(async {
        let channel = oneshot::Channel::<&str>::new();
        let (tx, rx) = channel.split();
        let (sent, received) = join!(
            async move {
                sleep(Duration::from_millis(3)).await;
                tx.send("done")
            },
            rx
        );
        assert!(sent.is_ok());
        assert_eq!(received.unwrap(), "done");
    });
}

#[test]
fn select_takes_the_first_ready() {
    let runtime = Runtime::new().unwrap();
    runtime.block_on(async {
        let winner = select! {
            _ = sleep(Duration::from_secs(10)) => "slow",
            _ = sleep(Duration::from_millis(2)) => "fast",
        };
        assert_eq!(winner, "fast");
    });
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri's clock advances with every instruction it interprets: 20 ms pass in the polls"
)]
fn join_runs_futures_concurrently() {
    let runtime = Runtime::new().unwrap();
    runtime.block_on(async {
        let start = ebbtide_wasi::time::Instant::now();
        let (a, b) = join!(
            async {
                sleep(Duration::from_millis(20)).await;
                1
            },
            async {
                sleep(Duration::from_millis(20)).await;
                2
            }
        );
        assert_eq!(a + b, 3);
        assert!(start.elapsed() < Duration::from_millis(40));
    });
}
