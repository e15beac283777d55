//! `Handle::block_on` from threads that do not run the runtime, and runtimes that move between
//! threads (`Runtime: Send`), with the rule that binds a runtime to its thread once it ran
//! `spawn_local` tasks.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::{self, ThreadId};
use std::time::Instant;

use ebbtide_std::io::{AsyncReadExt, AsyncWriteExt};
use ebbtide_std::net::{TcpListener, TcpStream};
use ebbtide_std::time::{sleep, timeout, Duration};
use ebbtide_std::{Handle, Runtime, SpawnError};

/// Compile-time checks: a runtime moves between threads; a handle is shared by them. (The host
/// runtime over every driver: `host/tests/runtime_send.rs`.)
#[allow(dead_code)]
fn auto_traits() {
    fn assert_send<T: Send>() {}
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send::<Runtime>();
    assert_send_sync::<Handle>();
    assert_send_sync::<ebbtide_host::Handle>();
}

/// Runs `f` with a handle while another thread runs the runtime (built here, moved there) in
/// `block_on`; returns `f`'s output and the id of the runtime's thread. Without work stealing
/// (when the suite runs on several workers, `EBBTIDE_WORKER_THREADS`): the tests check which
/// thread runs a task.
fn while_running<R>(f: impl FnOnce(Handle) -> R) -> (R, ThreadId) {
    let runtime = Runtime::builder().work_stealing(false).build().unwrap();
    let handle = runtime.handle();
    let (stop, stopped) = mpsc::channel::<()>();
    let runner = thread::spawn(move || {
        runtime.block_on(async {
            // The runtime's thread waits in the OS meanwhile, serving tasks, IO and timers.
            ebbtide_std::spawn_blocking(move || stopped.recv())
                .await
                .unwrap()
                .unwrap();
        });
        thread::current().id()
    });
    let output = catch_unwind(AssertUnwindSafe(|| f(handle)));
    stop.send(()).unwrap();
    let runtime_thread = runner.join().unwrap();
    match output {
        Ok(output) => (output, runtime_thread),
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// Runs `f`, which must panic, and returns its message.
fn panic_message(f: impl FnOnce()) -> String {
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("it must panic, not return");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn a_spawn_inside_handle_block_on_runs_on_the_runtime_thread() {
    let here = thread::current().id();
    let ((task_thread, current_inside, current_after), runtime_thread) = while_running(|handle| {
        let inside = handle.block_on(async {
            let task = ebbtide_std::spawn(async { thread::current().id() }).unwrap();
            let through_current = Handle::current()
                .spawn(async { thread::current().id() })
                .unwrap();
            let task_thread = task.await.unwrap();
            assert_eq!(through_current.await.unwrap(), task_thread);
            (task_thread, Handle::try_current().is_some())
        });
        (inside.0, inside.1, Handle::try_current().is_some())
    });
    assert_eq!(task_thread, runtime_thread);
    assert_ne!(task_thread, here);
    assert!(
        current_inside,
        "Handle::current works inside Handle::block_on"
    );
    assert!(!current_after, "the context ends with Handle::block_on");
}

#[test]
fn spawn_blocking_inside_handle_block_on_uses_the_runtime_pool() {
    let (sum, _) = while_running(|handle| {
        handle.block_on(async {
            ebbtide_std::spawn_blocking(|| (1..=10u32).sum::<u32>())
                .await
                .unwrap()
        })
    });
    assert_eq!(sum, 55);
}

#[test]
fn a_tcp_echo_made_inside_handle_block_on_works() {
    let (echoed, _) = while_running(|handle| {
        handle.block_on(async {
            timeout(Duration::from_secs(10), async {
                // Both sockets register with the runtime's reactor; the runtime's thread waits
                // for their readiness and this thread is unparked by their wakers.
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let server = ebbtide_std::spawn(async move {
                    let (mut stream, _) = listener.accept().await.unwrap();
                    let mut buf = [0u8; 64];
                    let n = stream.read(&mut buf).await.unwrap();
                    stream.write_all(&buf[..n]).await.unwrap();
                })
                .unwrap();
                let mut client = TcpStream::connect(addr).await.unwrap();
                client
                    .write_all(b"hello from a borrowing thread")
                    .await
                    .unwrap();
                let mut buf = [0u8; 64];
                let mut got = 0;
                while got < 29 {
                    let n = client.read(&mut buf[got..]).await.unwrap();
                    assert_ne!(n, 0, "the echo ended early");
                    got += n;
                }
                server.await.unwrap();
                buf[..got].to_vec()
            })
            .await
            .expect("the echo took more than 10 s")
        })
    });
    assert_eq!(echoed, b"hello from a borrowing thread");
}

#[test]
fn a_sleep_inside_handle_block_on_completes() {
    let (elapsed, _) = while_running(|handle| {
        handle.block_on(async {
            let start = Instant::now();
            sleep(Duration::from_millis(30)).await;
            start.elapsed()
        })
    });
    assert!(
        elapsed >= std::time::Duration::from_millis(30),
        "{elapsed:?}"
    );
    assert!(elapsed < std::time::Duration::from_secs(10), "{elapsed:?}");
}

#[test]
#[should_panic(expected = "spawn_local was called inside Handle::block_on")]
fn spawn_local_inside_handle_block_on_panics() {
    let runtime = Runtime::new().unwrap();
    runtime.handle().block_on(async {
        let _ = ebbtide_std::spawn_local(async {});
    });
}

#[test]
#[should_panic(expected = "Cannot start an ebbtide runtime from within a runtime")]
fn handle_block_on_inside_runtime_block_on_panics() {
    let runtime = Runtime::new().unwrap();
    let handle = runtime.handle();
    runtime.block_on(async move { handle.block_on(async {}) });
}

#[test]
fn nested_block_ons_inside_handle_block_on_panic() {
    let runtime = Runtime::new().unwrap();
    let handle = runtime.handle();
    let message = panic_message(|| handle.block_on(async { handle.block_on(async {}) }));
    assert!(message.contains("Cannot start an ebbtide runtime from within a runtime"));
    let other = Runtime::new().unwrap();
    let message = panic_message(|| handle.block_on(async { other.block_on(async {}) }));
    assert!(message.contains("Cannot start an ebbtide runtime from within a runtime"));
    // The contexts were left on the way out: both run normally again.
    assert_eq!(handle.block_on(async { 1 }), 1);
    assert_eq!(other.block_on(async { 2 }), 2);
    assert_eq!(runtime.block_on(async { 3 }), 3);
}

#[test]
fn handle_block_on_of_a_dropped_runtime_runs_but_cannot_spawn() {
    let runtime = Runtime::new().unwrap();
    let handle = runtime.handle();
    drop(runtime);
    let (spawned, bound) = handle.block_on(async {
        (
            ebbtide_std::spawn(async {}).map(drop),
            TcpListener::bind("127.0.0.1:0").await.map(drop),
        )
    });
    assert!(matches!(spawned, Err(SpawnError::Shutdown)), "{spawned:?}");
    assert!(bound.is_err(), "an IO object of a dropped runtime fails");
}

#[test]
fn a_runtime_built_on_one_thread_runs_on_another() {
    let runtime = Runtime::new().unwrap();
    let built_on = thread::current().id();
    let (ran_on, task_ran_on, runtime) = thread::spawn(move || {
        let task_ran_on = runtime.block_on(async {
            ebbtide_std::spawn(async { thread::current().id() })
                .unwrap()
                .await
                .unwrap()
        });
        (thread::current().id(), task_ran_on, runtime)
    })
    .join()
    .unwrap();
    assert_ne!(ran_on, built_on);
    assert_eq!(task_ran_on, ran_on);
    // Without local tasks it may come back and run here too.
    assert_eq!(runtime.block_on(async { 5 }), 5);
}

/// Records the threads its values are dropped on.
#[derive(Clone, Default)]
struct DropLog(Arc<Mutex<Vec<ThreadId>>>);

struct RecordsDrop(DropLog);

impl Drop for RecordsDrop {
    fn drop(&mut self) {
        self.0 .0.lock().unwrap().push(thread::current().id());
    }
}

/// The task capacity of the runtimes this file leaks on purpose: no other test's runtime has
/// it, so a leaked runtime is always made of parts allocated here (never of parts that another
/// test's runtime left in the recycling bin), which `.ci/lsan-suppressions.txt` names.
const LEAKED_RUNTIME_TASK_CAPACITY: usize = 61;

/// A runtime that ran `spawn_local` tasks on a thread of its own, which stay pending; returns
/// it with that thread's id. (Dropped on another thread, it leaks its tasks on purpose.)
fn runtime_with_pending_local_tasks(log: &DropLog) -> (Runtime, ThreadId) {
    let runtime = Runtime::builder()
        .task_capacity(LEAKED_RUNTIME_TASK_CAPACITY)
        .build()
        .unwrap();
    let log = log.clone();
    thread::spawn(move || {
        runtime.block_on(async {
            for _ in 0..3 {
                let guard = RecordsDrop(log.clone());
                // Not Send: only this thread may poll or drop it.
                let not_send = std::rc::Rc::new(guard);
                let _detached = ebbtide_std::spawn_local(async move {
                    let _keep = not_send;
                    std::future::pending::<()>().await
                })
                .unwrap();
            }
            ebbtide_std::task::yield_now().await;
        });
        (runtime, thread::current().id())
    })
    .join()
    .unwrap()
}

#[test]
fn local_tasks_are_not_dropped_on_another_thread() {
    let log = DropLog::default();
    let (runtime, home) = runtime_with_pending_local_tasks(&log);
    let handle = runtime.handle();
    let elsewhere = thread::spawn(move || {
        drop(runtime);
        thread::current().id()
    })
    .join()
    .unwrap();
    assert_ne!(home, elsewhere);
    let dropped_on = log.0.lock().unwrap().clone();
    assert!(
        !dropped_on.contains(&elsewhere),
        "a local future was dropped on the wrong thread: {dropped_on:?}"
    );
    // They were leaked, not dropped anywhere; the runtime is shut down all the same.
    assert!(dropped_on.is_empty(), "{dropped_on:?}");
    assert!(matches!(handle.spawn(async {}), Err(SpawnError::Shutdown)));
}

#[test]
fn local_tasks_are_dropped_on_their_home_thread_after_a_trip() {
    let log = DropLog::default();
    let (out, back_out) = mpsc::channel::<Runtime>();
    let (back_in, comes_back) = mpsc::channel::<Runtime>();
    let log2 = log.clone();
    let home = thread::spawn(move || {
        let runtime = Runtime::new().unwrap();
        runtime.block_on(async {
            let not_send = std::rc::Rc::new(RecordsDrop(log2));
            let _detached = ebbtide_std::spawn_local(async move {
                let _keep = not_send;
                std::future::pending::<()>().await
            })
            .unwrap();
            ebbtide_std::task::yield_now().await;
        });
        out.send(runtime).unwrap();
        let runtime = comes_back.recv().unwrap();
        // Home again: the drop cancels the local task here.
        drop(runtime);
        thread::current().id()
    });
    let runtime = back_out.recv().unwrap();
    assert!(log.0.lock().unwrap().is_empty());
    back_in.send(runtime).unwrap();
    let home = home.join().unwrap();
    assert_eq!(*log.0.lock().unwrap(), vec![home]);
}

#[test]
fn block_on_elsewhere_after_local_tasks_panics() {
    let log = DropLog::default();
    let (runtime, home) = runtime_with_pending_local_tasks(&log);
    let (elsewhere, message) = thread::spawn(move || {
        let message = panic_message(|| {
            runtime.block_on(async {});
        });
        // The runtime stays usable as a value: dropping it here leaks its tasks.
        drop(runtime);
        (thread::current().id(), message)
    })
    .join()
    .unwrap();
    assert_ne!(home, elsewhere);
    assert!(
        message.contains("ran spawn_local tasks on another thread"),
        "unhelpful message: {message}"
    );
    assert!(log.0.lock().unwrap().is_empty());
}

#[test]
fn a_runtime_whose_local_tasks_all_finished_drops_elsewhere_and_its_parts_move_on() {
    // Capacities no other test uses, so that the next runtime built with them takes these parts.
    let builder = || Runtime::builder().task_slots([37, 3, 3, 3]);
    let runtime = builder().build().unwrap();
    let log = DropLog::default();
    let log2 = log.clone();
    let (runtime, home) = thread::spawn(move || {
        runtime.block_on(async {
            let guard = std::rc::Rc::new(RecordsDrop(log2));
            ebbtide_std::spawn_local(async move { drop(guard) })
                .unwrap()
                .await
                .unwrap();
        });
        (runtime, thread::current().id())
    })
    .join()
    .unwrap();
    assert_eq!(*log.0.lock().unwrap(), vec![home]);
    // No task is left: dropping it here is an ordinary shutdown, and its parts are reused.
    drop(runtime);
    let again = builder().build().unwrap();
    // The reused parts are not bound to `home`: they run on a third thread.
    thread::spawn(move || {
        again.block_on(async {
            let local = ebbtide_std::spawn_local(async { 9 }).unwrap();
            assert_eq!(local.await.unwrap(), 9);
        })
    })
    .join()
    .unwrap();
}

#[test]
fn a_moved_runtime_survives_a_panicking_destructor_when_it_drops() {
    struct PanicsOnDrop;
    impl Drop for PanicsOnDrop {
        fn drop(&mut self) {
            panic!("a task's destructor panics");
        }
    }
    let runtime = Runtime::new().unwrap();
    // Built here, run and dropped on another thread: the pending Send task's destructor panics
    // during the drop, which must neither unwind out of it nor skip the other task.
    let dropped = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = dropped.clone();
    thread::spawn(move || {
        runtime.block_on(async move {
            let guard = PanicsOnDrop;
            drop(ebbtide_std::spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await
            }));
            struct Sets(Arc<std::sync::atomic::AtomicBool>);
            impl Drop for Sets {
                fn drop(&mut self) {
                    self.0.store(true, std::sync::atomic::Ordering::SeqCst);
                }
            }
            let sets = Sets(flag);
            drop(ebbtide_std::spawn(async move {
                let _sets = sets;
                std::future::pending::<()>().await
            }));
            ebbtide_std::task::yield_now().await;
        });
        drop(runtime);
    })
    .join()
    .expect("dropping the runtime did not unwind");
    assert!(dropped.load(std::sync::atomic::Ordering::SeqCst));
}
