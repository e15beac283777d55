//! The host shell's `Handle::block_on` and a `Runtime` that moves between threads, over a small
//! driver that waits on a condition variable (so any thread may run it). No OS resources: runs
//! under Miri, which checks the moves of the runner and the leak of `!Send` tasks for data races
//! and UB (`MIRIFLAGS=-Zmiri-ignore-leaks cargo +nightly miri test -p ebbtide-host --test
//! runtime_threads`: a runtime's parts are leaked on purpose, and these tests leak the tasks of a
//! runtime dropped away from its `spawn_local` thread).

use std::convert::Infallible;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::thread::{self, ThreadId};

use ebbtide_core::driver::{Park, Wait};
use ebbtide_host::{Handle, HostDriver, Options, Runtime, SpawnError};

/// A wake-up flag any thread may wait on.
#[derive(Default)]
struct Bell {
    rung: Mutex<bool>,
    ring: Condvar,
}

/// Waits on its bell; fires no timers (these tests use none).
struct BellDriver(&'static Bell);

impl Park for BellDriver {
    type Error = Infallible;
    const FIRES_TIMERS: bool = false;
    fn now(&self) -> u64 {
        0
    }
    fn park(&mut self, wait: Wait) -> Result<(), Infallible> {
        let mut rung = self.0.rung.lock().unwrap();
        if wait != Wait::Poll {
            while !*rung {
                rung = self.0.ring.wait(rung).unwrap();
            }
        }
        *rung = false;
        Ok(())
    }
}

impl HostDriver for BellDriver {
    type Shared = Bell;
    type Options = ();
    fn new(_: &()) -> std::io::Result<BellDriver> {
        Ok(BellDriver(Box::leak(Box::default())))
    }
    fn shared(&self) -> &'static Bell {
        self.0
    }
    fn real_now() -> u64 {
        unreachable!("this driver keeps no time")
    }
    fn unpark(bell: &Bell) {
        *bell.rung.lock().unwrap() = true;
        bell.ring.notify_one();
    }
}

/// A small runtime (Miri is slow with large reservations).
fn runtime() -> Runtime<BellDriver> {
    Runtime::new(&Options::new(8).task_slots([8, 1, 1, 1]).fixed(), &()).unwrap()
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
fn handle_block_on_spawns_onto_a_runtime_that_moved_to_another_thread() {
    let runtime = runtime();
    let handle = runtime.handle();
    // The runtime's thread runs until the task spawned from this thread tells it to stop.
    let (stop_tx, stop_rx) = ebbtide_host::sync::oneshot::channel::<()>();
    let runner = thread::spawn(move || {
        runtime.block_on(stop_rx).unwrap().unwrap();
        thread::current().id()
    });
    let ran_on = handle.block_on(async {
        let task = ebbtide_host::spawn(async move {
            let here = thread::current().id();
            stop_tx.send(()).unwrap();
            here
        })
        .unwrap();
        assert!(Handle::try_current().is_some());
        task.await.unwrap()
    });
    assert!(Handle::try_current().is_none());
    assert_eq!(ran_on, runner.join().unwrap());
    assert_ne!(ran_on, thread::current().id());
}

#[test]
fn spawn_local_inside_handle_block_on_panics() {
    let runtime = runtime();
    let message = panic_message(|| {
        runtime.handle().block_on(async {
            let _ = ebbtide_host::spawn_local(async {});
        })
    });
    assert!(
        message.contains("spawn_local was called inside Handle::block_on"),
        "{message}"
    );
    // The context was left on the way out.
    assert!(Handle::try_current().is_none());
    assert_eq!(runtime.block_on(async { 1 }).unwrap(), 1);
}

#[test]
fn block_ons_inside_a_runtime_panic() {
    let runtime = runtime();
    let handle = runtime.handle();
    let message = panic_message(|| {
        let _ = runtime.block_on(async { handle.block_on(async {}) });
    });
    assert!(message.contains("Cannot start an ebbtide runtime from within a runtime"));
    let message = panic_message(|| handle.block_on(async { handle.block_on(async {}) }));
    assert!(message.contains("Cannot start an ebbtide runtime from within a runtime"));
}

#[test]
fn handle_block_on_of_a_dropped_runtime_cannot_spawn() {
    let runtime = runtime();
    let handle = runtime.handle();
    drop(runtime);
    let spawned = handle.block_on(async { ebbtide_host::spawn(async {}).map(drop) });
    assert!(matches!(spawned, Err(SpawnError::Shutdown)));
}

/// Records the threads its values are dropped on.
struct RecordsDrop(Arc<Mutex<Vec<ThreadId>>>);

impl Drop for RecordsDrop {
    fn drop(&mut self) {
        self.0.lock().unwrap().push(thread::current().id());
    }
}

#[test]
fn local_tasks_stay_on_their_thread() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let log2 = Arc::clone(&log);
    let (runtime, home) = thread::spawn(move || {
        let runtime = runtime();
        runtime
            .block_on(async {
                let not_send = Rc::new(RecordsDrop(log2));
                let _detached = ebbtide_host::spawn_local(async move {
                    let _keep = not_send;
                    std::future::pending::<()>().await
                })
                .unwrap();
                ebbtide_host::task::yield_now().await;
            })
            .unwrap();
        (runtime, thread::current().id())
    })
    .join()
    .unwrap();
    // Elsewhere it refuses to run, and its drop leaks the local task.
    let (done_tx, done_rx) = mpsc::channel();
    let elsewhere = thread::spawn(move || {
        let message = panic_message(|| {
            let _ = runtime.block_on(async {});
        });
        drop(runtime);
        done_tx.send(message).unwrap();
        thread::current().id()
    })
    .join()
    .unwrap();
    let message = done_rx.recv().unwrap();
    assert!(
        message.contains("ran spawn_local tasks on another thread"),
        "{message}"
    );
    assert_ne!(home, elsewhere);
    assert!(log.lock().unwrap().is_empty(), "{:?}", log.lock().unwrap());
}

#[test]
fn a_runtime_without_local_tasks_runs_on_thread_after_thread() {
    let mut runtime = runtime();
    for round in 0..3 {
        let (back, ran_on) = thread::spawn(move || {
            let task_thread = runtime
                .block_on(async {
                    ebbtide_host::spawn(async { thread::current().id() })
                        .unwrap()
                        .await
                        .unwrap()
                })
                .unwrap();
            assert_eq!(task_thread, thread::current().id());
            (runtime, task_thread)
        })
        .join()
        .unwrap();
        assert_ne!(ran_on, thread::current().id(), "round {round}");
        runtime = back;
    }
    // A pending Send task is dropped wherever the runtime drops.
    let log = Arc::new(Mutex::new(Vec::new()));
    let guard = RecordsDrop(Arc::clone(&log));
    let _detached = runtime
        .handle()
        .spawn(async move {
            let _keep = guard;
            std::future::pending::<()>().await
        })
        .unwrap();
    let dropped_on = thread::spawn(move || {
        drop(runtime);
        thread::current().id()
    })
    .join()
    .unwrap();
    assert_eq!(*log.lock().unwrap(), vec![dropped_on]);
}
