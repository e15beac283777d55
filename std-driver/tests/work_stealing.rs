//! Work stealing between the workers of a runtime (`Builder::work_stealing`): an imbalanced
//! workload spreads, local and `spawn_on` tasks stay put, shutdown drops every future once (also
//! the stolen ones), panics and aborts of stolen tasks.

use std::cell::Cell;
use std::collections::HashSet;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use ebbtide_std::runtime::worker_index;
use ebbtide_std::task::yield_now;
use ebbtide_std::{JoinError, Runtime};

fn runtime(stealing: bool) -> Runtime {
    runtime_of(2, stealing)
}

fn runtime_of(workers: usize, stealing: bool) -> Runtime {
    Runtime::builder()
        .worker_threads(workers)
        .work_stealing(stealing)
        .build()
        .unwrap()
}

/// Burns about `micros` microseconds of CPU.
fn busy(micros: u64) {
    let until = Instant::now() + Duration::from_micros(micros);
    while Instant::now() < until {
        std::hint::spin_loop();
    }
}

/// 200 tasks of about 2 ms of work each, in 10 chunks with a yield between, all spawned from
/// worker 0; returns the set of workers each chunk ran on.
fn imbalanced(runtime: &Runtime) -> HashSet<usize> {
    let seen = Arc::new(Mutex::new(HashSet::new()));
    runtime.block_on(async {
        let tasks: Vec<_> = (0..200)
            .map(|_| {
                let seen = seen.clone();
                ebbtide_std::spawn(async move {
                    for _ in 0..10 {
                        busy(200);
                        seen.lock().unwrap().insert(worker_index().unwrap());
                        yield_now().await;
                    }
                })
                .unwrap()
            })
            .collect();
        assert_eq!(worker_index(), Some(0));
        for task in tasks {
            task.await.unwrap();
        }
    });
    let seen = seen.lock().unwrap().clone();
    seen
}

#[test]
fn an_imbalanced_workload_spreads_over_both_workers_with_stealing() {
    let runtime = runtime(true);
    assert_eq!(imbalanced(&runtime), HashSet::from([0, 1]));
}

/// With 4 workers at most 2 look at the others' queues at once; the ones that skip the look are
/// handed work by the busy worker instead, so the work still reaches every worker.
#[test]
fn an_imbalanced_workload_spreads_over_four_workers_with_two_searching_at_once() {
    let runtime = runtime_of(4, true);
    assert_eq!(imbalanced(&runtime), HashSet::from([0, 1, 2, 3]));
}

#[test]
fn without_stealing_the_tasks_stay_on_worker_0() {
    let runtime = runtime(false);
    assert_eq!(imbalanced(&runtime), HashSet::from([0]));
}

#[test]
fn local_and_spawn_on_tasks_never_leave_their_worker() {
    let runtime = runtime(true);
    let handle = runtime.handle();
    let moved = Arc::new(AtomicUsize::new(0));
    let stolen = Arc::new(AtomicBool::new(false));
    runtime.block_on(async {
        // Send tasks that keep worker 0 busy, so that worker 1 steals.
        let workers: Vec<_> = (0..50)
            .map(|_| {
                let stolen = stolen.clone();
                ebbtide_std::spawn(async move {
                    for _ in 0..10 {
                        busy(100);
                        if worker_index() == Some(1) {
                            stolen.store(true, Ordering::Relaxed);
                        }
                        yield_now().await;
                    }
                })
                .unwrap()
            })
            .collect();
        let locals: Vec<_> = (0..20)
            .map(|_| {
                let moved = moved.clone();
                // Not Send: must stay on worker 0's thread.
                let here = Rc::new(Cell::new(0));
                ebbtide_std::spawn_local(async move {
                    for _ in 0..20 {
                        here.set(here.get() + 1);
                        busy(50);
                        if worker_index() != Some(0) {
                            moved.fetch_add(1, Ordering::Relaxed);
                        }
                        yield_now().await;
                    }
                })
                .unwrap()
            })
            .collect();
        let pinned: Vec<_> = (0..20)
            .map(|_| {
                let moved = moved.clone();
                handle
                    .spawn_on(0, async move {
                        for _ in 0..20 {
                            busy(50);
                            if worker_index() != Some(0) {
                                moved.fetch_add(1, Ordering::Relaxed);
                            }
                            yield_now().await;
                        }
                    })
                    .unwrap()
            })
            .collect();
        for task in workers {
            task.await.unwrap();
        }
        for task in locals {
            task.await.unwrap();
        }
        for task in pinned {
            task.await.unwrap();
        }
    });
    assert!(
        stolen.load(Ordering::Relaxed),
        "worker 1 stole no Send task"
    );
    assert_eq!(moved.load(Ordering::Relaxed), 0);
}

/// Counts its drops.
struct Dropped(Arc<AtomicUsize>);

impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn shutdown_drops_every_future_once_also_stolen_ones() {
    for round in 0..5 {
        let dropped = Arc::new(AtomicUsize::new(0));
        let on_one = Arc::new(AtomicUsize::new(0));
        let runtime = runtime(true);
        const TASKS: usize = 100;
        runtime.block_on(async {
            for i in 0..TASKS {
                let guard = Dropped(dropped.clone());
                let on_one = on_one.clone();
                ebbtide_std::spawn(async move {
                    let _guard = guard;
                    let mut counted = false;
                    loop {
                        busy(50);
                        if worker_index() == Some(1) && !counted {
                            counted = true;
                            on_one.fetch_add(1, Ordering::SeqCst);
                        }
                        if i % 2 == 0 {
                            // Idle on whichever worker holds it (sent home at shutdown).
                            std::future::pending::<()>().await;
                        }
                        yield_now().await;
                    }
                })
                .unwrap();
            }
            // Until some ran on worker 1 (a worker kept busy by the tasks it took steals no
            // more, so this may stay at a handful).
            let start = Instant::now();
            while on_one.load(Ordering::SeqCst) < 3 && start.elapsed() < Duration::from_secs(2) {
                busy(100);
                yield_now().await;
            }
            assert!(
                on_one.load(Ordering::SeqCst) > 0,
                "round {round}: nothing was stolen"
            );
        });
        assert_eq!(dropped.load(Ordering::SeqCst), 0, "round {round}");
        drop(runtime);
        assert_eq!(dropped.load(Ordering::SeqCst), TASKS, "round {round}");
    }
    // The parts are reused, and work.
    let runtime = runtime(true);
    assert_eq!(imbalanced(&runtime), HashSet::from([0, 1]));
}

#[test]
fn a_panic_on_the_thief_disturbs_no_other_task() {
    let runtime = runtime(true);
    let results = runtime.block_on(async {
        let tasks: Vec<_> = (0..100)
            .map(|i| {
                ebbtide_std::spawn(async move {
                    for _ in 0..5 {
                        busy(100);
                        yield_now().await;
                    }
                    if i % 10 == 0 {
                        panic!("task {i} panics on worker {:?}", worker_index());
                    }
                    i
                })
                .unwrap()
            })
            .collect();
        let mut results = Vec::new();
        for task in tasks {
            results.push(task.await);
        }
        results
    });
    for (i, result) in results.into_iter().enumerate() {
        match result {
            Ok(value) => assert_eq!(value, i),
            Err(error) => {
                assert_eq!(i % 10, 0);
                assert!(matches!(error, JoinError::Panic(_)), "{error:?}");
            }
        }
    }
}

#[test]
fn a_stolen_task_is_joined_and_aborted_from_another_thread() {
    let runtime = runtime(true);
    let on_one = Arc::new(Mutex::new(Vec::new()));
    let dropped = Arc::new(AtomicUsize::new(0));
    runtime.block_on(async {
        let mut tasks: Vec<_> = (0..40)
            .map(|i| {
                let on_one = on_one.clone();
                let guard = Dropped(dropped.clone());
                Some(
                    ebbtide_std::spawn(async move {
                        let _guard = guard;
                        loop {
                            busy(100);
                            if worker_index() == Some(1) {
                                on_one.lock().unwrap().push(i);
                            }
                            yield_now().await;
                        }
                    })
                    .unwrap(),
                )
            })
            .collect();
        let victim = loop {
            if let Some(&i) = on_one.lock().unwrap().first() {
                break i;
            }
            busy(100);
            yield_now().await;
        };
        let task = tasks[victim].take().unwrap();
        // Abort it from a plain thread, then join it from another one.
        let task = thread::spawn(move || {
            task.abort();
            task
        })
        .join()
        .unwrap();
        let handle = ebbtide_std::Handle::current();
        let joiner = thread::spawn(move || handle.block_on(task));
        let joined = ebbtide_std::spawn_blocking(move || joiner.join().unwrap())
            .await
            .unwrap();
        assert!(joined.unwrap_err().is_cancelled());
        for task in tasks.into_iter().flatten() {
            task.abort();
            assert!(task.await.unwrap_err().is_cancelled());
        }
    });
    assert_eq!(dropped.load(Ordering::SeqCst), 40);
}

#[test]
fn shutdown_while_another_thread_wakes_stolen_tasks() {
    for round in 0..10 {
        const TASKS: usize = 40;
        let dropped = Arc::new(AtomicUsize::new(0));
        let on_one = Arc::new(AtomicUsize::new(0));
        let runtime = runtime(true);
        let mut senders = Vec::new();
        runtime.block_on(async {
            for _ in 0..TASKS {
                let (send, recv) = ebbtide_std::sync::oneshot::channel::<u32>();
                senders.push(send);
                let guard = Dropped(dropped.clone());
                let on_one = on_one.clone();
                ebbtide_std::spawn(async move {
                    let _guard = guard;
                    let mut counted = false;
                    for _ in 0..20 {
                        busy(50);
                        if worker_index() == Some(1) && !counted {
                            counted = true;
                            on_one.fetch_add(1, Ordering::SeqCst);
                        }
                        yield_now().await;
                    }
                    // Parked on whichever worker holds it, until the other thread sends.
                    let _ = recv.await;
                })
                .unwrap();
            }
            let start = Instant::now();
            while on_one.load(Ordering::SeqCst) == 0 && start.elapsed() < Duration::from_secs(2) {
                busy(100);
                yield_now().await;
            }
        });
        assert!(
            on_one.load(Ordering::SeqCst) > 0,
            "round {round}: nothing was stolen"
        );
        // Wakes from a plain thread while the runtime stops, sends its tasks home and drops.
        let waking = thread::spawn(move || {
            for send in senders {
                let _ = send.send(1);
                thread::yield_now();
            }
        });
        drop(runtime);
        waking.join().unwrap();
        assert_eq!(dropped.load(Ordering::SeqCst), TASKS, "round {round}");
    }
}

/// Counts its drops, then panics in every other one.
struct PanicsOnDrop {
    dropped: Arc<AtomicUsize>,
    panic: bool,
}

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        self.dropped.fetch_add(1, Ordering::SeqCst);
        if self.panic {
            panic!("a stolen task's destructor panics");
        }
    }
}

#[test]
fn stolen_tasks_whose_destructors_panic_are_all_dropped_once_at_shutdown() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let on_one = Arc::new(AtomicUsize::new(0));
    let runtime = runtime(true);
    const TASKS: usize = 40;
    runtime.block_on(async {
        for i in 0..TASKS {
            let guard = PanicsOnDrop {
                dropped: dropped.clone(),
                panic: i % 2 == 0,
            };
            let on_one = on_one.clone();
            ebbtide_std::spawn(async move {
                let _guard = guard;
                loop {
                    busy(50);
                    if worker_index() == Some(1) {
                        on_one.fetch_add(1, Ordering::SeqCst);
                        // Parked on the thief: the shutdown sends it home, then drops it there.
                        std::future::pending::<()>().await;
                    }
                    yield_now().await;
                }
            })
            .unwrap();
        }
        let start = Instant::now();
        while on_one.load(Ordering::SeqCst) == 0 && start.elapsed() < Duration::from_secs(5) {
            busy(100);
            yield_now().await;
        }
        assert!(on_one.load(Ordering::SeqCst) > 0, "nothing was stolen");
    });
    // The panics are caught by the shutdown; every destructor runs exactly once and the drop
    // returns (no hang at the workers' barrier, no abort).
    drop(runtime);
    assert_eq!(dropped.load(Ordering::SeqCst), TASKS);
}

/// An echo server for one connection whose listener is bound, and the connection accepted, on
/// worker 1, so the connection is registered with worker 1's epoll; the echo task is an ordinary
/// (stealable) task spawned there (a `spawn_on` task never moves). It pushes the worker it ran
/// on onto `seen` for each message. Returns the listener's address.
#[cfg(all(target_os = "linux", not(mio_unsupported_force_poll_poll)))]
async fn echo_server_on_worker_1(
    handle: &ebbtide_std::Handle,
    seen: Arc<Mutex<Vec<usize>>>,
) -> std::net::SocketAddr {
    use ebbtide_std::io::{AsyncReadExt, AsyncWriteExt};
    use ebbtide_std::net::TcpListener;

    let (bound, addr) = ebbtide_std::sync::oneshot::channel();
    handle
        .spawn_on(1, async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            bound.send(listener.local_addr().unwrap()).unwrap();
            let (mut socket, _) = listener.accept().await.unwrap();
            ebbtide_std::spawn(async move {
                let mut buf = [0u8; 16];
                loop {
                    let n = socket.read(&mut buf).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    seen.lock().unwrap().push(worker_index().unwrap());
                    socket.write_all(&buf[..n]).await.unwrap();
                }
            })
            .unwrap();
        })
        .unwrap();
    addr.await.unwrap()
}

/// A worker whose thread is stuck (a task in a CPU loop, or a thread the OS descheduled) still
/// has its connections served: an idle worker, before it waits, takes the stuck worker's IO
/// events from its epoll, which wakes the connection's task onto the stuck worker's queue, and
/// steals the task. Worker 1 serves an echo connection; then a task pinned to worker 1 spins
/// without yielding until the client has its next reply. Worker 0 parks once a millisecond (a
/// timer), as a busy server's other worker does. Without the help the reply would come only
/// when the spin gives up (after 20 s, which fails the test).
#[test]
#[cfg(all(target_os = "linux", not(mio_unsupported_force_poll_poll)))]
fn a_stuck_workers_connection_is_served_by_an_idle_worker() {
    use ebbtide_std::io::{AsyncReadExt, AsyncWriteExt};
    use ebbtide_std::net::TcpStream;
    use ebbtide_std::time::sleep;

    let runtime = runtime(true);
    let handle = runtime.handle();
    runtime.block_on(async {
        // The echo task, and the worker it served each message on, until it runs on worker 1
        // after its first message (a fresh task may be stolen before it first runs).
        let (mut client, echo_workers) = loop {
            let workers = Arc::new(Mutex::new(Vec::new()));
            let addr = echo_server_on_worker_1(&handle, workers.clone()).await;
            let mut client = TcpStream::connect(addr).await.unwrap();
            client.write_all(b"a").await.unwrap();
            let mut byte = [0u8; 1];
            client.read_exact(&mut byte).await.unwrap();
            if workers.lock().unwrap().as_slice() == [1] {
                break (client, workers);
            }
        };
        // Worker 1 gets stuck until the client has its reply (or 20 s pass).
        static REPLIED: AtomicBool = AtomicBool::new(false);
        let stuck = handle
            .spawn_pinned(1, || async {
                let until = Instant::now() + Duration::from_secs(20);
                while !REPLIED.load(Ordering::Acquire) && Instant::now() < until {
                    std::hint::spin_loop();
                }
                REPLIED.load(Ordering::Acquire)
            })
            .unwrap();
        // Give worker 1 time to enter the spin (the echo task waits for its read meanwhile).
        sleep(Duration::from_millis(20)).await;
        client.write_all(b"b").await.unwrap();
        let reply = async {
            let mut byte = [0u8; 1];
            client.read_exact(&mut byte).await.unwrap();
            REPLIED.store(true, Ordering::Release);
            byte[0]
        };
        // Worker 0 wakes every millisecond meanwhile.
        let ticks = async {
            loop {
                sleep(Duration::from_millis(1)).await;
            }
        };
        let byte = ebbtide_std::select! {
            byte = reply => byte,
            _ = ticks => unreachable!(),
        };
        assert_eq!(byte, b'b');
        assert!(
            stuck.await.unwrap(),
            "the reply came only after worker 1's spin gave up"
        );
        assert_eq!(echo_workers.lock().unwrap().as_slice(), [1, 0]);
    });
}

/// The case CI found: a worker that takes a busy worker's IO events may wake one of its *own*
/// tasks with them (a task it stole earlier, whose socket is still in the other worker's epoll).
/// That wake goes to its own queue and calls no wake hook (it is on its own thread), so the
/// worker must poll again rather than wait. Here worker 0 stole the echo task (as in
/// [`a_stuck_workers_connection_is_served_by_an_idle_worker`]); worker 1 is stuck again; the
/// client, on a plain thread, sends a message and then wakes worker 0 once (a task spawned on
/// it), and worker 0 has no timer and nothing else to wake it. Before the fix it took the event,
/// queued the echo task on itself and went to sleep: no reply (the client gives up after 10 s).
#[test]
#[cfg(all(target_os = "linux", not(mio_unsupported_force_poll_poll)))]
fn a_worker_that_wakes_its_own_task_with_anothers_event_runs_it() {
    use std::io::{Read, Write};

    static STUCK_UNTIL_REPLY: [AtomicBool; 2] = [AtomicBool::new(false), AtomicBool::new(false)];
    let runtime = runtime(true);
    let handle = runtime.handle();
    // A task pinned to worker 1 that spins, without yielding, until `STUCK_UNTIL_REPLY[phase]`.
    let stick = |phase: usize| {
        handle
            .spawn_pinned(1, move || async move {
                let until = Instant::now() + Duration::from_secs(20);
                while !STUCK_UNTIL_REPLY[phase].load(Ordering::Acquire) && Instant::now() < until {
                    std::hint::spin_loop();
                }
            })
            .unwrap()
    };
    let result = runtime.block_on(async {
        let echo_workers = Arc::new(Mutex::new(Vec::new()));
        // An echo connection whose task runs on worker 1, its socket in worker 1's epoll.
        let client = loop {
            echo_workers.lock().unwrap().clear();
            let addr = echo_server_on_worker_1(&handle, echo_workers.clone()).await;
            let mut client = std::net::TcpStream::connect(addr).unwrap();
            client
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let client = ebbtide_std::task::spawn_blocking(move || {
                client.write_all(b"a").unwrap();
                let mut byte = [0u8; 1];
                client.read_exact(&mut byte).unwrap();
                client
            })
            .await
            .unwrap();
            if echo_workers.lock().unwrap().as_slice() == [1] {
                break client;
            }
        };
        // Phase 0: worker 1 stuck; worker 0, woken by its timer, takes the event and steals
        // the echo task.
        let stuck = stick(0);
        ebbtide_std::time::sleep(Duration::from_millis(20)).await;
        let exchange =
            |mut client: std::net::TcpStream, message: u8, poke: Option<ebbtide_std::Handle>| {
                ebbtide_std::task::spawn_blocking(move || {
                    client.write_all(&[message]).unwrap();
                    if let Some(handle) = poke {
                        // Let the event reach worker 1's epoll, then wake worker 0 once.
                        std::thread::sleep(Duration::from_millis(50));
                        handle.spawn_on(0, async {}).unwrap();
                    }
                    let mut byte = [0u8; 1];
                    let got = client.read_exact(&mut byte).map(|()| byte[0]);
                    (client, got)
                })
            };
        let reply = exchange(client, b'b', None);
        let ticks = async {
            loop {
                ebbtide_std::time::sleep(Duration::from_millis(1)).await;
            }
        };
        let (returned, got) = ebbtide_std::select! {
            done = reply => done.unwrap(),
            _ = ticks => unreachable!(),
        };
        let client = returned;
        assert_eq!(got.unwrap(), b'b');
        STUCK_UNTIL_REPLY[0].store(true, Ordering::Release);
        stuck.await.unwrap();
        assert_eq!(
            echo_workers.lock().unwrap().as_slice(),
            [1, 0],
            "stolen by worker 0"
        );
        // Phase 1: worker 1 stuck again; worker 0 has no timer, and one wake.
        let stuck = stick(1);
        ebbtide_std::time::sleep(Duration::from_millis(20)).await;
        let (_client, got) = exchange(client, b'c', Some(handle)).await.unwrap();
        STUCK_UNTIL_REPLY[1].store(true, Ordering::Release);
        stuck.await.unwrap();
        got
    });
    assert_eq!(result.expect("the echo task answered"), b'c');
}
