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
