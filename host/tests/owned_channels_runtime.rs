//! The owned channels on ebbtide-std's runtime: ends moved into spawned tasks, backpressure
//! between tasks, producers on plain std threads.

use ebbtide_std::time::Duration;

use ebbtide_std::sync::{broadcast, mpsc, oneshot, watch};

fn runtime() -> ebbtide_std::Runtime {
    ebbtide_std::Runtime::new().unwrap()
}

#[test]
fn ends_move_into_spawned_tasks() {
    runtime().block_on(async {
        let (tx, mut rx) = mpsc::channel(4);
        let (done_tx, done_rx) = oneshot::channel();
        let consumer = ebbtide_std::spawn(async move {
            let mut sum = 0;
            while let Some(i) = rx.recv().await {
                sum += i;
            }
            done_tx.send(sum).unwrap();
        })
        .unwrap();
        let producers: Vec<_> = (0..4)
            .map(|p| {
                let tx = tx.clone();
                ebbtide_std::spawn(async move {
                    for i in 0..100 {
                        tx.send(p * 100 + i).await.unwrap();
                    }
                })
                .unwrap()
            })
            .collect();
        drop(tx);
        for p in producers {
            p.await.unwrap();
        }
        assert_eq!(done_rx.await, Ok((0..400).sum::<i32>()));
        consumer.await.unwrap();
    });
}

#[test]
fn bounded_send_waits_for_the_consumer_task() {
    runtime().block_on(async {
        let (tx, mut rx) = mpsc::channel(1);
        let (progress_tx, progress_rx) = watch::channel(0);
        let producer = ebbtide_std::spawn(async move {
            for i in 1..=3 {
                tx.send(i).await.unwrap();
                progress_tx.send_replace(i);
            }
        })
        .unwrap();
        ebbtide_std::time::sleep(Duration::from_millis(20)).await;
        // The buffer holds one: the second send is waiting.
        assert_eq!(*progress_rx.borrow(), 1);
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.recv().await, Some(2));
        assert_eq!(rx.recv().await, Some(3));
        assert_eq!(rx.recv().await, None);
        producer.await.unwrap();
    });
}

#[test]
fn producers_on_std_threads_wake_the_runtime() {
    runtime().block_on(async {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let (btx, mut brx) = broadcast::channel(1024);
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let tx = tx.clone();
                let btx = btx.clone();
                std::thread::spawn(move || {
                    for i in 0..250 {
                        tx.send(t * 1000 + i).unwrap();
                    }
                    btx.send(t).unwrap();
                })
            })
            .collect();
        drop(tx);
        drop(btx);
        let mut n = 0;
        while rx.recv().await.is_some() {
            n += 1;
        }
        assert_eq!(n, 1000);
        let mut seen = Vec::new();
        while let Ok(t) = brx.recv().await {
            seen.push(t);
        }
        seen.sort();
        assert_eq!(seen, [0, 1, 2, 3]);
        for t in threads {
            t.join().unwrap();
        }
    });
}

#[test]
fn oneshot_sender_dropped_in_a_task() {
    runtime().block_on(async {
        let (tx, rx) = oneshot::channel::<u8>();
        ebbtide_std::spawn(async move { drop(tx) }).unwrap();
        assert!(rx.await.is_err());
    });
}

#[test]
fn cancelled_send_in_a_select_keeps_the_slot() {
    runtime().block_on(async {
        let (tx, mut rx) = mpsc::channel(1);
        tx.send(0).await.unwrap();
        // A send that times out while waiting is dropped.
        let timed_out = ebbtide_std::time::timeout(Duration::from_millis(10), tx.send(1)).await;
        assert!(timed_out.is_err());
        assert_eq!(rx.recv().await, Some(0));
        // The freed slot is there for the next send.
        tx.send(2).await.unwrap();
        assert_eq!(rx.recv().await, Some(2));
    });
}

#[test]
fn more_waiting_receivers_than_a_wake_batch() {
    // Wakes go out in batches of 16 taken under the lock: 40 waiting receivers need three.
    runtime().block_on(async {
        let (btx, _) = broadcast::channel(4);
        let (wtx, wrx) = watch::channel(0);
        let tasks: Vec<_> = (0..40)
            .map(|_| {
                let mut brx = btx.subscribe();
                let mut wrx = wrx.clone();
                ebbtide_std::spawn(async move {
                    let got = brx.recv().await.unwrap();
                    wrx.changed().await.unwrap();
                    got + *wrx.borrow()
                })
                .unwrap()
            })
            .collect();
        ebbtide_std::time::sleep(Duration::from_millis(5)).await;
        btx.send(1).unwrap();
        ebbtide_std::time::sleep(Duration::from_millis(5)).await;
        wtx.send(10).unwrap();
        for t in tasks {
            assert_eq!(t.await.unwrap(), 11);
        }
    });
}

#[test]
fn blocking_send_from_a_std_thread_to_a_task() {
    let (tx, mut rx) = mpsc::channel(2);
    let producer = std::thread::spawn(move || {
        for i in 0..200 {
            tx.blocking_send(i).unwrap();
        }
    });
    let sum = runtime().block_on(async move {
        // The receiver in a spawned task, the producer waiting for room on its thread.
        let consumer = ebbtide_std::spawn(async move {
            let mut sum = 0;
            while let Some(i) = rx.recv().await {
                sum += i;
            }
            sum
        })
        .unwrap();
        consumer.await.unwrap()
    });
    assert_eq!(sum, (0..200).sum::<i32>());
    producer.join().unwrap();
}

#[test]
fn blocking_recv_on_a_std_thread_from_tasks() {
    let (tx, mut rx) = mpsc::channel(1);
    let (utx, mut urx) = mpsc::unbounded_channel();
    let (otx, orx) = oneshot::channel();
    let consumer = std::thread::spawn(move || {
        let mut got = Vec::new();
        while let Some(i) = rx.blocking_recv() {
            got.push(i);
        }
        (got, urx.blocking_recv(), orx.blocking_recv())
    });
    runtime().block_on(async move {
        ebbtide_std::spawn(async move {
            for i in 0..50 {
                tx.send(i).await.unwrap();
            }
            utx.send("unbounded").unwrap();
            ebbtide_std::time::sleep(Duration::from_millis(5)).await;
            otx.send("oneshot").unwrap();
        })
        .unwrap()
        .await
        .unwrap();
    });
    let (got, u, o) = consumer.join().unwrap();
    assert_eq!(got, (0..50).collect::<Vec<_>>());
    assert_eq!((u, o), (Some("unbounded"), Ok("oneshot")));
}

#[test]
fn owned_permit_moved_into_a_task_sends() {
    runtime().block_on(async {
        let (tx, mut rx) = mpsc::channel(1);
        let permit = tx.reserve_owned().await.unwrap();
        let task = ebbtide_std::spawn(async move {
            ebbtide_std::time::sleep(Duration::from_millis(5)).await;
            let tx = permit.send(1);
            tx.send(2).await.unwrap();
        })
        .unwrap();
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.recv().await, Some(2));
        assert_eq!(rx.recv().await, None);
        task.await.unwrap();
    });
}

#[test]
#[should_panic(expected = "Cannot block the current thread from within a runtime")]
fn blocking_send_inside_a_runtime_panics() {
    let (tx, _rx) = mpsc::channel(1);
    runtime().block_on(async move {
        let _ = tx.blocking_send(1);
    });
}

#[test]
#[should_panic(expected = "Cannot block the current thread from within a runtime")]
fn blocking_recv_inside_a_runtime_panics() {
    let (_tx, mut rx) = mpsc::unbounded_channel::<u8>();
    runtime().block_on(async move {
        rx.blocking_recv();
    });
}

#[test]
fn blocking_recv_in_a_task_panics_that_task_only() {
    runtime().block_on(async {
        let (_tx, rx) = oneshot::channel::<u8>();
        let task = ebbtide_std::spawn(async move {
            let _ = rx.blocking_recv();
        })
        .unwrap();
        assert!(task.await.is_err(), "the task panicked");
    });
}

#[test]
fn blocking_methods_work_in_spawn_blocking_jobs() {
    // A blocking-pool thread runs no runtime: blocking there is what it is for, as in Tokio.
    runtime().block_on(async {
        let (tx, mut rx) = mpsc::channel(1);
        let (back_tx, mut back_rx) = mpsc::channel(1);
        let job = ebbtide_std::spawn_blocking(move || {
            for i in 0..20 {
                tx.blocking_send(i).unwrap();
                assert_eq!(back_rx.blocking_recv(), Some(i * 2));
            }
        });
        for _ in 0..20 {
            let i = rx.recv().await.unwrap();
            back_tx.send(i * 2).await.unwrap();
        }
        job.await.unwrap();
    });
}
