//! What is used outside any runtime fails at once with a message that says what to do, instead
//! of hanging; timers work there. (No test in this file builds a runtime: where a timer goes
//! depends on every runtime of the process.)

use std::panic::{catch_unwind, AssertUnwindSafe};

use ebbtide_std::time::{interval, sleep, timeout, Duration};

/// Runs `f`, which must panic, and returns its message.
fn panic_message(f: impl FnOnce()) -> String {
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("it must panic, not return");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

// Timers are the exception: outside every runtime (another executor's `block_on`, here
// ebbtide-core's), they fire from ebbtide-std's timer thread (see `on_tokio.rs` for Tokio).

#[test]
fn a_sleep_fires_from_the_timer_thread() {
    let started = std::time::Instant::now();
    ebbtide_core::block_on(sleep(Duration::from_millis(10)));
    assert!(started.elapsed() >= std::time::Duration::from_millis(10));
}

#[test]
fn a_timeout_fires_from_the_timer_thread() {
    let result = ebbtide_core::block_on(timeout(
        std::time::Duration::from_millis(10),
        std::future::pending::<()>(),
    ));
    assert!(result.is_err());
}

#[test]
fn an_interval_ticks_from_the_timer_thread() {
    let started = std::time::Instant::now();
    ebbtide_core::block_on(async {
        let mut ticks = interval(Duration::from_millis(5));
        ticks.tick().await; // the first tick is immediate
        ticks.tick().await;
        ticks.tick().await;
    });
    assert!(started.elapsed() >= std::time::Duration::from_millis(10));
}

#[test]
fn a_due_sleep_still_completes() {
    // Nothing to wait for, nothing to fire: no panic.
    ebbtide_core::block_on(sleep(Duration::ZERO));
}

#[test]
fn spawn_panics() {
    let message = panic_message(|| drop(ebbtide_std::spawn(async {})));
    assert!(message.contains("outside an ebbtide runtime"), "{message}");
}

#[test]
fn io_objects_say_there_is_no_runtime() {
    let error = ebbtide_core::block_on(ebbtide_std::net::TcpListener::bind("127.0.0.1:0"))
        .expect_err("no runtime to register with");
    assert!(
        error.to_string().contains("no ebbtide runtime"),
        "unhelpful error: {error}"
    );
}
