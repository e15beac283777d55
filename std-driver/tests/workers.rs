//! A runtime of several workers (`Builder::worker_threads`): placement, cross-worker wakes and
//! joins, `spawn_pinned`, shutdown on every worker, panics, and TCP connections handed between
//! workers.

use std::collections::HashSet;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, ThreadId};

use ebbtide_std::io::{AsyncReadExt, AsyncWriteExt};
use ebbtide_std::net::{TcpListener, TcpStream};
use ebbtide_std::runtime::worker_index;
use ebbtide_std::sync::mpsc;
use ebbtide_std::time::{sleep, timeout, Duration};
use ebbtide_std::{Handle, JoinError, Runtime, SpawnError};

/// Two workers without work stealing (which is on by default):
/// these tests check where tasks run.
fn two_workers() -> Runtime {
    Runtime::builder()
        .worker_threads(2)
        .work_stealing(false)
        .build()
        .unwrap()
}

/// A worker and a thread.
type Place = (Option<usize>, ThreadId);

/// Where a task ran: its worker and its thread.
fn here() -> Place {
    (worker_index(), thread::current().id())
}

#[test]
fn handle_spawns_from_outside_land_on_every_worker_round_robin() {
    let runtime = two_workers();
    let handle = runtime.handle();
    assert_eq!(handle.worker_count(), 2);
    let tasks = thread::spawn(move || {
        (0..8)
            .map(|_| {
                handle
                    .spawn(async { (here(), thread::current().name().map(str::to_owned)) })
                    .unwrap()
            })
            .collect::<Vec<_>>()
    })
    .join()
    .unwrap();
    let main = thread::current().id();
    let placed = runtime.block_on(async {
        let mut placed = Vec::new();
        for task in tasks {
            placed.push(task.await.unwrap());
        }
        placed
    });
    let workers: Vec<_> = placed
        .iter()
        .map(|((worker, _), _)| worker.unwrap())
        .collect();
    assert_eq!(workers, [0, 1, 0, 1, 0, 1, 0, 1]);
    for ((worker, thread), name) in &placed {
        match worker.unwrap() {
            0 => assert_eq!(*thread, main),
            _ => {
                assert_ne!(*thread, main);
                assert_eq!(name.as_deref(), Some("ebbtide-worker-1"));
            }
        }
    }
    let threads: HashSet<_> = placed.iter().map(|((_, thread), _)| *thread).collect();
    assert_eq!(threads.len(), 2);
}

#[test]
fn spawn_inside_a_task_stays_on_its_worker() {
    let runtime = two_workers();
    runtime.block_on(async {
        let handle = Handle::current();
        assert_eq!(handle.worker_count(), 2);
        assert_eq!(worker_index(), Some(0));
        for worker in 0..2 {
            let (outer, inner) = handle
                .spawn_on(worker, async {
                    let outer = here();
                    let inner = ebbtide_std::spawn(async { here() }).unwrap().await.unwrap();
                    (outer, inner)
                })
                .unwrap()
                .await
                .unwrap();
            assert_eq!(outer.0, Some(worker));
            assert_eq!(outer, inner);
        }
        // spawn in block_on itself: worker 0, this thread.
        let local = ebbtide_std::spawn(async { here() }).unwrap().await.unwrap();
        assert_eq!(local, here());
    });
}

#[test]
fn handle_current_on_any_worker_knows_every_worker() {
    let runtime = two_workers();
    runtime.block_on(async {
        let from_one = Handle::current()
            .spawn_on(1, async {
                let handle = Handle::current();
                assert_eq!(handle.worker_count(), 2);
                // From worker 1 back onto worker 0, and onto itself.
                let zero = handle.spawn_on(0, async { worker_index() }).unwrap();
                let one = handle.spawn_on(1, async { worker_index() }).unwrap();
                (zero.await.unwrap(), one.await.unwrap())
            })
            .unwrap();
        assert_eq!(from_one.await.unwrap(), (Some(0), Some(1)));
    });
}

#[test]
fn spawn_on_an_index_out_of_range_panics() {
    let runtime = two_workers();
    let handle = runtime.handle();
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        handle.spawn_on(2, async {})
    }))
    .unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(message.contains("worker 2 does not exist"), "{message}");
    assert!(handle.spawn_on(1, async {}).is_ok());
}

#[test]
fn the_default_worker_count_is_one_or_the_environments() {
    let expected =
        std::env::var(ebbtide_std::runtime::WORKER_THREADS_ENV).map_or(1, |n| n.parse().unwrap());
    assert_eq!(Runtime::new().unwrap().handle().worker_count(), expected);
}

#[test]
fn one_worker_is_the_runtime_of_before() {
    let runtime = Runtime::builder().worker_threads(1).build().unwrap();
    let handle = runtime.handle();
    assert_eq!(handle.worker_count(), 1);
    assert_eq!(worker_index(), None);
    let task = handle.spawn_on(0, async { here() }).unwrap();
    assert_eq!(
        runtime.block_on(task).unwrap(),
        (Some(0), thread::current().id())
    );
    runtime.block_on(async {
        assert_eq!(worker_index(), Some(0));
        // Inside Handle::block_on on another thread: no worker.
        let handle = Handle::current();
        let borrowed =
            ebbtide_std::spawn_blocking(move || handle.block_on(async { worker_index() }));
        assert_eq!(borrowed.await.unwrap(), None);
    });
    assert_eq!(worker_index(), None);
}

#[test]
fn spawn_pinned_builds_a_not_send_future_on_its_worker() {
    let runtime = two_workers();
    let handle = runtime.handle();
    runtime.block_on(async move {
        for worker in 0..2 {
            let task = handle
                .spawn_pinned(worker, move || {
                    let shared = Rc::new(worker * 10);
                    let built = here();
                    async move {
                        ebbtide_std::task::yield_now().await;
                        let copy = Rc::clone(&shared);
                        (built, here(), *copy + 1)
                    }
                })
                .unwrap();
            let (built, ran, value) = task.await.unwrap();
            assert_eq!(built.0, Some(worker));
            assert_eq!(built, ran);
            assert_eq!(value, worker * 10 + 1);
        }

        // A panic in the future comes back as the handle's panic.
        let panicky = handle
            .spawn_pinned(1, || {
                let rc = Rc::new(());
                async move {
                    let _rc = rc;
                    panic!("pinned boom")
                }
            })
            .unwrap();
        let error = panicky.await.unwrap_err();
        assert_eq!(error.panic_message(), Some("pinned boom"));

        // Aborting the handle drops the !Send future too, on its worker.
        struct Flag(Arc<Mutex<Option<Place>>>);
        impl Drop for Flag {
            fn drop(&mut self) {
                *self.0.lock().unwrap() = Some(here());
            }
        }
        let dropped = Arc::new(Mutex::new(None));
        let flag_dropped = dropped.clone();
        let forever = handle
            .spawn_pinned(1, move || {
                let flag = Rc::new(Flag(flag_dropped));
                async move {
                    let _flag = flag;
                    std::future::pending::<()>().await
                }
            })
            .unwrap();
        sleep(Duration::from_millis(10)).await;
        forever.abort();
        assert!(forever.await.unwrap_err().is_cancelled());
        timeout(Duration::from_secs(5), async {
            while dropped.lock().unwrap().is_none() {
                sleep(Duration::from_millis(1)).await;
            }
        })
        .await
        .expect("the !Send future is dropped after an abort");
        assert_eq!(dropped.lock().unwrap().unwrap().0, Some(1));
    });
}

#[test]
fn join_handles_are_awaited_from_another_worker() {
    let runtime = two_workers();
    runtime.block_on(async {
        let handle = Handle::current();
        // A task on worker 1 that sleeps, awaited here on worker 0.
        let there = handle
            .spawn_on(1, async {
                sleep(Duration::from_millis(20)).await;
                worker_index()
            })
            .unwrap();
        assert_eq!(there.await.unwrap(), Some(1));
        // A task on worker 0 awaited from a task on worker 1.
        let here_task = ebbtide_std::spawn(async {
            sleep(Duration::from_millis(20)).await;
            worker_index()
        })
        .unwrap();
        let waiter = handle
            .spawn_on(1, async move { (worker_index(), here_task.await.unwrap()) })
            .unwrap();
        assert_eq!(waiter.await.unwrap(), (Some(1), Some(0)));
    });
}

#[test]
fn channels_wake_across_workers() {
    let runtime = two_workers();
    runtime.block_on(async {
        let handle = Handle::current();
        // Ping-pong: each message wakes a task on the other worker.
        let (to_one, mut on_one) = mpsc::channel::<u32>(1);
        let (to_zero, mut on_zero) = mpsc::channel::<u32>(1);
        let echo = handle
            .spawn_on(1, async move {
                let mut seen = 0;
                while let Some(n) = on_one.recv().await {
                    assert_eq!(worker_index(), Some(1));
                    seen += 1;
                    to_zero.send(n + 1).await.unwrap();
                }
                seen
            })
            .unwrap();
        for i in 0..1000 {
            to_one.send(i).await.unwrap();
            assert_eq!(on_zero.recv().await, Some(i + 1));
        }
        drop(to_one);
        assert_eq!(echo.await.unwrap(), 1000);

        // A receiver on worker 1 parked in its OS wait, woken by a send from worker 0.
        let (tx, mut rx) = mpsc::unbounded_channel::<&str>();
        let receiver = handle.spawn_on(1, async move { rx.recv().await }).unwrap();
        sleep(Duration::from_millis(30)).await;
        tx.send("late").unwrap();
        let got = timeout(Duration::from_secs(5), receiver)
            .await
            .expect("woken");
        assert_eq!(got.unwrap(), Some("late"));
    });
}

/// Records on which thread and worker it was dropped.
struct Recorder {
    worker: usize,
    log: Arc<Mutex<Vec<(usize, Place)>>>,
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.log.lock().unwrap().push((self.worker, here()));
    }
}

#[test]
fn shutdown_drops_every_task_on_its_own_worker_thread() {
    let runtime = Runtime::builder().worker_threads(3).build().unwrap();
    let handle = runtime.handle();
    let log = Arc::new(Mutex::new(Vec::new()));
    let threads = runtime.block_on(async {
        let mut threads = Vec::new();
        for worker in 0..3 {
            for _ in 0..4 {
                let recorder = Recorder {
                    worker,
                    log: log.clone(),
                };
                // Detached, never finishing.
                handle
                    .spawn_on(worker, async move {
                        let _recorder = recorder;
                        std::future::pending::<()>().await
                    })
                    .unwrap();
            }
            let thread = handle
                .spawn_on(worker, async { thread::current().id() })
                .unwrap();
            threads.push(thread.await.unwrap());
        }
        threads
    });
    // The finished tasks' slots are freed by their workers right after they complete.
    let start = std::time::Instant::now();
    while runtime.metrics().tasks() != 12 && start.elapsed() < std::time::Duration::from_secs(5) {
        thread::yield_now();
    }
    assert_eq!(runtime.metrics().tasks(), 12);
    assert_eq!(runtime.metrics().worker(2).tasks(), 4);
    assert!(log.lock().unwrap().is_empty());
    drop(runtime);
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 12);
    for &(worker, (index, thread)) in log.iter() {
        assert_eq!(index, Some(worker));
        assert_eq!(thread, threads[worker]);
    }
    assert_eq!(threads[0], thread::current().id());
    // After shutdown, every way of spawning says so.
    assert!(matches!(handle.spawn(async {}), Err(SpawnError::Shutdown)));
    for worker in 0..3 {
        assert!(matches!(
            handle.spawn_on(worker, async {}),
            Err(SpawnError::Shutdown)
        ));
    }
    assert!(matches!(
        handle.spawn_pinned(1, || async {}),
        Err(SpawnError::Shutdown)
    ));
}

#[test]
fn a_panic_on_worker_one_leaves_worker_zero_running() {
    let runtime = two_workers();
    runtime.block_on(async {
        let handle = Handle::current();
        let ticks = Arc::new(AtomicUsize::new(0));
        let ticker_ticks = ticks.clone();
        let ticker = ebbtide_std::spawn(async move {
            for _ in 0..20 {
                sleep(Duration::from_millis(1)).await;
                ticker_ticks.fetch_add(1, Ordering::SeqCst);
            }
        })
        .unwrap();
        let mut panics = Vec::new();
        for i in 0..5 {
            panics.push(
                handle
                    .spawn_on(1, async move {
                        sleep(Duration::from_millis(i)).await;
                        panic!("worker one fails {i}")
                    })
                    .unwrap(),
            );
        }
        for (i, task) in panics.into_iter().enumerate() {
            match task.await {
                Err(JoinError::Panic(payload)) => {
                    let message = payload.downcast_ref::<String>().unwrap();
                    assert_eq!(message, &format!("worker one fails {i}"));
                }
                other => panic!("expected a panic, got {other:?}"),
            }
        }
        ticker.await.unwrap();
        assert_eq!(ticks.load(Ordering::SeqCst), 20);
        // Worker 1 still serves.
        let after = handle.spawn_on(1, async { worker_index() }).unwrap();
        assert_eq!(after.await.unwrap(), Some(1));
    });
}

#[test]
fn tcp_connections_accepted_on_worker_zero_are_served_on_both_workers() {
    const CLIENTS: usize = 8;
    let runtime = two_workers();
    let served = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
    let server_served = served.clone();
    runtime.block_on(async move {
        let handle = Handle::current();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = ebbtide_std::spawn(async move {
            assert_eq!(worker_index(), Some(0));
            let handle = Handle::current();
            for i in 0..CLIENTS {
                let (stream, _) = listener.accept().await.unwrap();
                // A stream belongs to the reactor of the worker that made it: hand it over as a
                // std stream, and register it again on the worker that serves it.
                let stream = stream.into_std().unwrap();
                let worker = i % handle.worker_count();
                let served = server_served.clone();
                handle
                    .spawn_on(worker, async move {
                        let mut stream = TcpStream::from_std(stream).unwrap();
                        let me = worker_index().unwrap();
                        assert_eq!(me, worker);
                        served[me].fetch_add(1, Ordering::SeqCst);
                        let mut buf = [0u8; 64];
                        while let Ok(n @ 1..) = stream.read(&mut buf).await {
                            stream.write_all(&buf[..n]).await.unwrap();
                        }
                    })
                    .unwrap();
            }
        })
        .unwrap();

        // Clients on both workers too (round-robin through the handle).
        let clients: Vec<_> = (0..CLIENTS)
            .map(|i| {
                handle
                    .spawn(async move {
                        let mut client = TcpStream::connect(addr).await.unwrap();
                        for round in 0..10u8 {
                            let message = [i as u8, round, 0xEB];
                            client.write_all(&message).await.unwrap();
                            let mut reply = [0u8; 3];
                            client.read_exact(&mut reply).await.unwrap();
                            assert_eq!(reply, message);
                        }
                    })
                    .unwrap()
            })
            .collect();
        for client in clients {
            timeout(Duration::from_secs(10), client)
                .await
                .expect("echoed in time")
                .unwrap();
        }
        server.await.unwrap();
    });
    assert_eq!(served[0].load(Ordering::SeqCst), CLIENTS / 2);
    assert_eq!(served[1].load(Ordering::SeqCst), CLIENTS / 2);
}

#[test]
fn metrics_sum_over_workers() {
    let runtime = Runtime::builder()
        .worker_threads(2)
        .task_capacity(64)
        .io_capacity(32)
        .build()
        .unwrap();
    let metrics = runtime.metrics();
    assert_eq!(metrics.workers(), 2);
    assert_eq!(metrics.io_capacity(), 64);
    assert_eq!(metrics.worker(1).io_capacity(), 32);
    assert_eq!(
        metrics.task_capacity(),
        metrics.worker(0).task_capacity() + metrics.worker(1).task_capacity()
    );
    let parked = runtime
        .handle()
        .spawn_on(1, std::future::pending::<()>())
        .unwrap();
    assert_eq!(metrics.tasks(), 1);
    assert_eq!(metrics.worker(0).tasks(), 0);
    parked.abort();
}

/// A server whose connections each stay on the worker that accepted them makes no cross-thread
/// operation per request: while two clients on plain threads trade 300 messages each with an
/// echo task on each worker, no worker's wait is interrupted by another thread.
#[test]
fn connections_served_on_their_own_workers_cost_no_remote_wake_per_request() {
    const ROUNDS: usize = 300;
    let runtime = two_workers();
    let handle = runtime.handle();
    let both = Arc::new(std::sync::Barrier::new(2));
    let mut servers = Vec::new();
    let mut clients = Vec::new();
    for worker in 0..2 {
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        servers.push(
            handle
                .spawn_on(worker, async move {
                    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                    addr_tx.send(listener.local_addr().unwrap()).unwrap();
                    let (mut stream, _) = listener.accept().await.unwrap();
                    let mut buf = [0u8; 64];
                    let mut echoed = 0;
                    while let Ok(n @ 1..) = stream.read(&mut buf).await {
                        assert_eq!(worker_index(), Some(worker));
                        stream.write_all(&buf[..n]).await.unwrap();
                        echoed += n;
                    }
                    echoed
                })
                .unwrap(),
        );
        let both = both.clone();
        clients.push(thread::spawn(move || {
            use std::io::{Read, Write};
            let addr = addr_rx
                .recv_timeout(std::time::Duration::from_secs(10))
                .expect("the server bound its listener");
            let mut stream = std::net::TcpStream::connect(addr).unwrap();
            stream.set_nodelay(true).unwrap();
            let mut round_trip = |round: usize| {
                let message = [worker as u8, round as u8, 0xEB];
                stream.write_all(&message).unwrap();
                let mut reply = [0u8; 3];
                stream.read_exact(&mut reply).unwrap();
                assert_eq!(reply, message);
            };
            // Accepted, and the echo task waits in `read`: only the traffic is measured.
            round_trip(0);
            both.wait();
            let before = handle.metrics().remote_wakes();
            for round in 1..=ROUNDS {
                round_trip(round);
            }
            both.wait();
            handle.metrics().remote_wakes() - before
            // The stream closes here: the echo task reads its end and returns.
        }));
    }
    // Worker 0 runs its tasks inside `block_on`.
    let echoed = runtime.block_on(async move {
        let mut echoed = Vec::new();
        for server in servers {
            let bytes = timeout(Duration::from_secs(20), server).await;
            echoed.push(bytes.expect("the client finished").unwrap());
        }
        echoed
    });
    let remote_wakes: Vec<u64> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    assert_eq!(echoed, [3 * (ROUNDS + 1), 3 * (ROUNDS + 1)]);
    assert_eq!(remote_wakes, [0, 0], "remote wakes during the traffic");
}

#[ebbtide_std::test(worker_threads = 2)]
async fn the_test_attribute_takes_worker_threads() {
    let handle = Handle::current();
    assert_eq!(handle.worker_count(), 2);
    assert_eq!(worker_index(), Some(0));
    let there = handle
        .spawn_on(1, async {
            sleep(Duration::from_millis(2)).await;
            worker_index()
        })
        .unwrap();
    assert_eq!(there.await.unwrap(), Some(1));
}

/// Without the std hand-off, a stream moved to another worker stays registered with the reactor
/// of the worker that made it: it keeps working (that worker's thread reads its readiness and
/// wakes the task across threads) while that worker is driven.
#[test]
fn a_stream_moved_without_hand_off_is_still_served_by_its_first_worker() {
    let runtime = two_workers();
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = ebbtide_std::spawn(async move {
            let mut client = TcpStream::connect(addr).await.unwrap();
            client.write_all(b"ping").await.unwrap();
            let mut reply = [0u8; 4];
            client.read_exact(&mut reply).await.unwrap();
            reply
        })
        .unwrap();
        let (mut stream, _) = listener.accept().await.unwrap();
        let served = Handle::current()
            .spawn_on(1, async move {
                let mut buf = [0u8; 4];
                stream.read_exact(&mut buf).await.unwrap();
                stream.write_all(&buf).await.unwrap();
                worker_index()
            })
            .unwrap();
        assert_eq!(served.await.unwrap(), Some(1));
        assert_eq!(&client.await.unwrap(), b"ping");
    });
}

#[test]
fn a_full_worker_passes_handle_spawns_on_to_one_with_room() {
    // Two slots of the smallest class per worker, never more; no stealing (where tasks run is
    // checked).
    let runtime = Runtime::builder()
        .worker_threads(2)
        .work_stealing(false)
        .task_slots([2, 0, 0, 0])
        .fixed_task_memory()
        .build()
        .unwrap();
    let handle = runtime.handle();
    // Fill worker 1 with tasks that wait until their gate's sender is dropped.
    let (done, mut finished) = mpsc::unbounded_channel::<()>();
    let mut gates = Vec::new();
    for _ in 0..2 {
        let (gate, opened) = ebbtide_std::sync::oneshot::channel::<()>();
        gates.push(gate);
        parked_task(&handle, opened, done.clone());
    }
    drop(done);
    // Worker 1 is full: spawn_on says so, and Handle::spawn goes to worker 0 every time,
    // whichever worker its turn names.
    assert!(matches!(
        handle.spawn_on(1, async {}),
        Err(SpawnError::PoolFull { .. })
    ));
    let placed: Vec<_> = (0..2)
        .map(|_| handle.spawn(async { worker_index() }).unwrap())
        .collect();
    runtime.block_on(async move {
        for task in placed {
            assert_eq!(task.await.unwrap(), Some(0));
        }
    });
    // Both workers full: now the spawn is refused, and the runtime goes on.
    let on_zero: Vec<_> = (0..2)
        .map(|_| handle.spawn_on(0, std::future::pending::<()>()).unwrap())
        .collect();
    assert!(matches!(
        handle.spawn(async {}),
        Err(SpawnError::PoolFull { .. })
    ));
    for task in &on_zero {
        task.abort();
    }
    drop(gates);
    runtime.block_on(async move {
        for task in on_zero {
            assert!(task.await.unwrap_err().is_cancelled());
        }
        // The parked tasks on worker 1 end once their gates close.
        while finished.recv().await.is_some() {}
    });
}

/// Spawns on worker 1 a task that waits until `gate`'s sender is dropped, then reports on `done`.
fn parked_task(
    handle: &Handle,
    gate: ebbtide_std::sync::oneshot::Receiver<()>,
    done: mpsc::UnboundedSender<()>,
) {
    drop(
        handle
            .spawn_on(1, async move {
                let _ = gate.await;
                let _ = done.send(());
            })
            .unwrap(),
    );
}

#[test]
fn a_worker_stuck_in_a_blocking_loop_does_not_stall_the_others() {
    let runtime = two_workers();
    let handle = runtime.handle();
    let (unblock, blocked) = std::sync::mpsc::channel::<()>();
    let (entered_tx, entered_rx) = std::sync::mpsc::channel::<()>();
    // Worker 1 blocks its thread (no await) until the test says so.
    let stuck = handle
        .spawn_on(1, async move {
            entered_tx.send(()).unwrap();
            blocked.recv().unwrap();
        })
        .unwrap();
    entered_rx.recv().unwrap();
    // Meanwhile worker 0 serves a TCP echo to 50 round trips, its timers fire, and tasks
    // spawned onto it run.
    let served = runtime.block_on(async {
        timeout(Duration::from_secs(30), async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = ebbtide_std::spawn(async move {
                let (mut socket, _) = listener.accept().await.unwrap();
                let mut buf = [0u8; 64];
                loop {
                    let n = socket.read(&mut buf).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    socket.write_all(&buf[..n]).await.unwrap();
                }
            })
            .unwrap();
            let mut client = TcpStream::connect(addr).await.unwrap();
            for i in 0..50u8 {
                client.write_all(&[i]).await.unwrap();
                let mut byte = [0u8; 1];
                client.read_exact(&mut byte).await.unwrap();
                assert_eq!(byte[0], i);
                sleep(Duration::from_micros(100)).await;
            }
            drop(client);
            server.await.unwrap();
            50
        })
        .await
    });
    assert_eq!(served, Ok(50), "worker 0 stalled while worker 1 was stuck");
    assert!(!stuck.is_finished(), "worker 1 was still stuck throughout");
    unblock.send(()).unwrap();
    runtime.block_on(stuck).unwrap();
}

/// Drops the runtime inside a task on its worker 1 and checks that it shuts down anyway: the
/// task finishes, and a parked task on worker 1 is dropped by the shutdown.
fn dropped_inside_its_own_worker(stealing: bool) {
    let runtime = Runtime::builder()
        .worker_threads(2)
        .work_stealing(stealing)
        .build()
        .unwrap();
    let handle = runtime.handle();
    // A task that never finishes on its own: the shutdown drops it, which it reports.
    let (dropped_tx, dropped_rx) = std::sync::mpsc::channel::<()>();
    struct Report(std::sync::mpsc::Sender<()>);
    impl Drop for Report {
        fn drop(&mut self) {
            let _ = self.0.send(());
        }
    }
    let report = Report(dropped_tx);
    drop(handle.spawn_on(1, async move {
        let _report = report;
        std::future::pending::<()>().await;
    }));
    let (done_tx, done_rx) = std::sync::mpsc::channel::<Option<usize>>();
    drop(handle.spawn_on(1, async move {
        drop(runtime);
        let _ = done_tx.send(worker_index());
    }));
    let limit = std::time::Duration::from_secs(20);
    assert_eq!(
        done_rx.recv_timeout(limit),
        Ok(Some(1)),
        "the drop inside worker 1 returned"
    );
    assert_eq!(
        dropped_rx.recv_timeout(limit),
        Ok(()),
        "the shutdown dropped worker 1's tasks"
    );
}

#[test]
fn a_runtime_dropped_inside_its_own_worker_shuts_down_from_another_thread() {
    dropped_inside_its_own_worker(false);
}

#[test]
fn a_stealing_runtime_dropped_inside_its_own_worker_shuts_down_from_another_thread() {
    dropped_inside_its_own_worker(true);
}

/// The workers share one blocking pool (worker 0's): `max_blocking_threads` bounds the blocking
/// threads of the whole runtime, as in Tokio, whatever the worker count. Blocking jobs spawned
/// from tasks on both workers (and through a handle taken on worker 1) never run more than 2 at
/// once, and all run.
#[test]
fn the_workers_share_one_blocking_pool() {
    static RUNNING: AtomicUsize = AtomicUsize::new(0);
    static MOST: AtomicUsize = AtomicUsize::new(0);
    static THREADS: Mutex<Option<HashSet<ThreadId>>> = Mutex::new(None);
    fn job(i: usize) -> usize {
        let now = RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
        MOST.fetch_max(now, Ordering::SeqCst);
        THREADS
            .lock()
            .unwrap()
            .get_or_insert_with(HashSet::new)
            .insert(thread::current().id());
        // Long enough for the jobs of both workers to overlap if the pools were separate.
        thread::sleep(std::time::Duration::from_millis(20));
        RUNNING.fetch_sub(1, Ordering::SeqCst);
        i
    }
    let runtime = Runtime::builder()
        .worker_threads(2)
        .max_blocking_threads(2)
        .build()
        .unwrap();
    let handle = runtime.handle();
    let results = runtime.block_on(async move {
        let mut tasks = Vec::new();
        for worker in 0..2 {
            tasks.push(
                handle
                    .spawn_on(worker, async move {
                        let jobs: Vec<_> = (0..4)
                            .map(|i| ebbtide_std::spawn_blocking(move || job(worker * 10 + i)))
                            .collect();
                        // A handle taken on this worker spawns on the same pool.
                        let more = Handle::current().spawn_blocking(move || job(worker * 10 + 4));
                        let mut done = Vec::new();
                        for job in jobs {
                            done.push(job.await.unwrap());
                        }
                        done.push(more.await.unwrap());
                        done
                    })
                    .unwrap(),
            );
        }
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await.unwrap());
        }
        all.sort_unstable();
        all
    });
    assert_eq!(results, [0, 1, 2, 3, 4, 10, 11, 12, 13, 14]);
    assert!(
        MOST.load(Ordering::SeqCst) <= 2,
        "never more than 2 at once"
    );
    assert!(THREADS.lock().unwrap().as_ref().unwrap().len() <= 2);
}
