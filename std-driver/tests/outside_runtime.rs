//! What is used outside any runtime fails at once with a message that says what to do, instead
//! of hanging; timers work there. (No test in this file builds a runtime: where a timer goes
//! depends on every runtime of the process.)

use std::panic::{catch_unwind, AssertUnwindSafe};

use ebbtide_std::time::{interval, sleep, timeout, Duration, Instant};

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
    // Measured on the runtime's clock (whole microseconds): an interval does not round its
    // ticks up as `sleep` does, so against `std::time::Instant`, read a fraction of a
    // microsecond before the interval's start, the last tick may come that fraction early.
    let (first, third, done) = ebbtide_core::block_on(async {
        let mut ticks = interval(Duration::from_millis(5));
        let first = ticks.tick().await; // the first tick is immediate
        let second = ticks.tick().await;
        assert_eq!(second, first + Duration::from_millis(5));
        let third = ticks.tick().await;
        (first, third, Instant::now())
    });
    assert_eq!(third, first + Duration::from_millis(10));
    assert!(done >= third, "a tick came before its instant");
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

/// The timer thread runs other executors' waker code: a waker whose `wake` panics stops neither
/// the thread nor the other timers.
#[test]
fn a_panicking_foreign_waker_does_not_stop_the_timer_thread() {
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::sync::Arc;
    use std::task::{Context, Wake, Waker};

    struct Panics;
    impl Wake for Panics {
        fn wake(self: Arc<Self>) {
            panic!("a foreign waker that panics");
        }
    }
    struct Counts(AtomicUsize);
    impl Wake for Counts {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, SeqCst);
        }
    }
    fn poll_sleep_with(waker: &Waker, ms: u64) {
        let mut sleep = Box::pin(sleep(Duration::from_millis(ms)));
        let polled = sleep.as_mut().poll(&mut Context::from_waker(waker));
        assert!(polled.is_pending());
    }
    use std::future::Future;

    let counts = Arc::new(Counts(AtomicUsize::new(0)));
    poll_sleep_with(&Waker::from(Arc::new(Panics)), 5);
    poll_sleep_with(&Waker::from(counts.clone()), 20);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while counts.0.load(SeqCst) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the later timer never fired"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    // And the thread still takes new timers after the panic.
    let more = Arc::new(Counts(AtomicUsize::new(0)));
    poll_sleep_with(&Waker::from(more.clone()), 1);
    while more.0.load(SeqCst) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "a timer set after the panic never fired"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}
