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

#[test]
fn owned_permits_and_blocking_outside_the_runtime() {
    let runtime = Runtime::new().unwrap();
    let (tx, mut rx) = mpsc::channel(1);
    let (otx, orx) = oneshot::channel();
    runtime.block_on(async {
        // An owned permit moves into a task, which sends through it and gets the sender back.
        let permit = tx.clone().reserve_owned().await.unwrap();
        assert!(tx.try_reserve().is_err());
        ebbtide_wasi::spawn(async move {
            sleep(Duration::from_millis(1)).await;
            let tx = permit.send(1);
            otx.send(tx.max_capacity()).unwrap();
        })
        .unwrap()
        .await
        .unwrap();
    });
    // Outside the runtime the blocking methods work (without threads, on messages already
    // there: parking returns at once on WASI preview 1).
    assert_eq!(rx.blocking_recv(), Some(1));
    assert_eq!(orx.blocking_recv(), Ok(1));
    tx.blocking_send(2).unwrap();
    drop(tx);
    assert_eq!(rx.blocking_recv(), Some(2));
    assert_eq!(rx.blocking_recv(), None);
}

#[test]
fn broadcast_drops_a_message_once_every_receiver_has_it() {
    use std::rc::Rc;

    #[derive(Clone)]
    struct Message(#[allow(dead_code)] Rc<()>);

    let runtime = Runtime::new().unwrap();
    let marker = Rc::new(());
    runtime.block_on(async {
        let (tx, mut rx1) = broadcast::channel(4);
        let mut rx2 = tx.subscribe();
        tx.send(Message(marker.clone())).unwrap();
        tx.send(Message(marker.clone())).unwrap();
        drop(rx1.recv().await.unwrap());
        drop(rx1.recv().await.unwrap());
        assert_eq!(Rc::strong_count(&marker), 3, "both kept for rx2");
        drop(rx2.recv().await.unwrap());
        assert_eq!(Rc::strong_count(&marker), 2, "the first was read by both");
        drop(rx2);
        assert_eq!(
            Rc::strong_count(&marker),
            1,
            "rx2 dropped: the second is released"
        );
    });
}
