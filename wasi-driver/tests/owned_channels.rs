//! The owned, Tokio-style channels (`ebbtide_wasi::sync::{mpsc, oneshot, watch, broadcast}`)
//! between tasks on a WASI host.
// Also on the host under Miri, on the driver's host stub (as `sync.rs`).
#![cfg(any(target_os = "wasi", miri))]

use ebbtide_wasi::sync::{broadcast, mpsc, oneshot, watch};
use ebbtide_wasi::time::{sleep, Duration};
use ebbtide_wasi::Runtime;

#[test]
fn owned_mpsc_ends_move_into_tasks() {
    let runtime = Runtime::new().unwrap();
    let sum = runtime.block_on(async {
        let (tx, mut rx) = mpsc::channel(2);
        let producers: Vec<_> = (0..3)
            .map(|p| {
                let tx = tx.clone();
                ebbtide_wasi::spawn(async move {
                    for job in 0..10 {
                        if job % 4 == 0 {
                            sleep(Duration::from_millis(1)).await;
                        }
                        tx.send(p * 10 + job).await.unwrap();
                    }
                })
                .unwrap()
            })
            .collect();
        drop(tx);
        let mut sum = 0;
        while let Some(job) = rx.recv().await {
            sum += job;
        }
        for p in producers {
            p.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, (0..30).sum::<i32>());
}

#[test]
fn owned_unbounded_and_oneshot() {
    let runtime = Runtime::new().unwrap();
    runtime.block_on(async {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let (reply_tx, reply_rx) = oneshot::channel();
        let server = ebbtide_wasi::spawn(async move {
            let mut n = 0;
            while let Some(()) = rx.recv().await {
                n += 1;
            }
            reply_tx.send(n).unwrap();
        })
        .unwrap();
        for _ in 0..100 {
            tx.send(()).unwrap();
        }
        drop(tx);
        assert_eq!(reply_rx.await, Ok(100));
        server.await.unwrap();

        let (tx, rx) = oneshot::channel::<u8>();
        ebbtide_wasi::spawn(async move {
            sleep(Duration::from_millis(1)).await;
            drop(tx);
        })
        .unwrap();
        assert!(rx.await.is_err());
    });
}

#[test]
fn owned_watch_and_broadcast() {
    let runtime = Runtime::new().unwrap();
    runtime.block_on(async {
        let (tx, mut rx) = watch::channel(0);
        let (btx, mut brx) = broadcast::channel(2);
        let sender = ebbtide_wasi::spawn(async move {
            for i in 1..=3 {
                sleep(Duration::from_millis(1)).await;
                tx.send(i).unwrap();
            }
            for i in 0..3 {
                btx.send(i).unwrap();
            }
        })
        .unwrap();
        while rx.changed().await.is_ok() {
            let _ = *rx.borrow_and_update();
        }
        assert_eq!(*rx.borrow(), 3);
        assert_eq!(
            brx.recv().await,
            Err(broadcast::error::RecvError::Lagged(1))
        );
        assert_eq!(brx.recv().await, Ok(1));
        assert_eq!(brx.recv().await, Ok(2));
        assert_eq!(brx.recv().await, Err(broadcast::error::RecvError::Closed));
        sender.await.unwrap();
    });
}
