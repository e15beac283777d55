//! A future that nothing can wake is reported as a deadlock, never waited on forever.
// Also on the host under Miri (the `miri` stage of `cargo xtask ci`), on the driver's host stub:
// it waits for timers with a thread sleep, so everything but the WASI calls runs there.
#![cfg(any(target_os = "wasi", miri))]

use ebbtide_wasi::sync::oneshot;
use ebbtide_wasi::time::{sleep, Duration};
use ebbtide_wasi::{Error, Runtime};

static NEVER: oneshot::Channel<u8> = oneshot::Channel::new();

#[test]
fn pending_forever_is_a_deadlock() {
    let runtime = Runtime::new().unwrap();
    let err = runtime
        .try_block_on(std::future::pending::<()>())
        .unwrap_err();
    assert!(matches!(err, Error::Deadlock));
    assert!(err.to_string().contains("deadlock"), "{err}");
    let io: std::io::Error = err.into();
    assert!(io.to_string().contains("deadlock"));
}

#[test]
fn waiting_on_a_task_that_waits_forever_is_a_deadlock() {
    let runtime = Runtime::new().unwrap();
    let result = runtime.try_block_on(async {
        let (tx, rx) = NEVER.split();
        let task = ebbtide_wasi::spawn_local(rx).unwrap();
        // Sleep first: a pending timer is not a deadlock.
        sleep(Duration::from_millis(5)).await;
        let _keep_sender = tx;
        task.await
    });
    assert!(matches!(result, Err(Error::Deadlock)));
}

#[test]
fn the_runtime_is_usable_after_a_deadlock() {
    let runtime = Runtime::new().unwrap();
    assert!(runtime.try_block_on(std::future::pending::<()>()).is_err());
    assert_eq!(runtime.block_on(async { 5 }), 5);
}

/// Runs `future` on a new runtime and checks that it ends in a deadlock within a second: long
/// before any timer the future dropped (3 s, 1 h) would have fired.
fn deadlocks_at_once<F: std::future::Future>(future: F)
where
    F::Output: std::fmt::Debug,
{
    let runtime = Runtime::new().unwrap();
    let start = std::time::Instant::now();
    let result = runtime.try_block_on(future);
    assert!(matches!(result, Err(Error::Deadlock)), "{result:?}");
    let waited = start.elapsed();
    assert!(
        waited < std::time::Duration::from_secs(1),
        "the deadlock was reported after {waited:?}"
    );
}

/// A timer dropped before it fired leaves no deadline behind: the deadlock is reported at once,
/// not when the dropped timer would have fired.
#[test]
fn a_dropped_timeout_does_not_delay_the_deadlock() {
    static NOBODY_SENDS: oneshot::Channel<u8> = oneshot::Channel::new();
    deadlocks_at_once(async {
        // A finished timeout drops its hour-long sleep unfired.
        let quick = ebbtide_wasi::time::timeout(Duration::from_secs(3600), async {
            // Pending once, so the timeout's sleep is polled (and queued) before it is dropped.
            ebbtide_wasi::task::yield_now().await;
            1
        })
        .await;
        assert_eq!(quick, Ok(1));
        let (_tx, rx) = NOBODY_SENDS.split();
        rx.await
    });
}

/// An aborted task that slept leaves no deadline behind either.
#[test]
fn an_aborted_sleeper_does_not_delay_the_deadlock() {
    deadlocks_at_once(async {
        let sleeper = ebbtide_wasi::spawn_local(sleep(Duration::from_secs(3))).unwrap();
        // Let it start sleeping, then abort it.
        ebbtide_wasi::task::yield_now().await;
        sleeper.abort();
        let _ = sleeper.await;
        std::future::pending::<()>().await
    });
}

/// The same inside a task: its finished timeout leaves no deadline behind.
#[test]
fn a_dropped_timeout_in_a_task_does_not_delay_the_deadlock() {
    static NOBODY_SENDS: oneshot::Channel<u8> = oneshot::Channel::new();
    deadlocks_at_once(async {
        let task = ebbtide_wasi::spawn_local(async {
            let quick = ebbtide_wasi::time::timeout(Duration::from_secs(3), async {
                ebbtide_wasi::task::yield_now().await;
                1
            })
            .await;
            assert_eq!(quick, Ok(1));
            let (_tx, rx) = NOBODY_SENDS.split();
            rx.await
        })
        .unwrap();
        task.await
    });
}
