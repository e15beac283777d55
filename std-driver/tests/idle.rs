//! An idle runtime does not spin: it comes back from the OS only for its own timers, also while
//! another runtime of the process (each has its own timer queue) sleeps in a loop.

use ebbtide_std::time::{sleep, Duration};
use ebbtide_std::Runtime;

#[test]
fn an_idle_runtime_does_not_spin() {
    let runtime = Runtime::new().unwrap();
    let metrics = runtime.metrics();
    runtime.block_on(async {
        let before = metrics.reactor_turns();
        sleep(Duration::from_millis(300)).await;
        let turns = metrics.reactor_turns() - before;
        // One wait that the alarm ends (and perhaps one more for a spurious wake).
        assert!(
            turns <= 3,
            "the runtime came back from the OS {turns} times in 300 ms of idling"
        );
    });
}

#[test]
fn an_idle_runtime_does_not_wake_for_another_runtimes_timers() {
    use ebbtide_std::sync::oneshot;
    use ebbtide_std::time::timeout;

    let idle = Runtime::new().unwrap();
    let metrics = idle.metrics();
    let (stop, mut stopped) = oneshot::channel::<()>();
    let (parked_tx, parked_rx) = std::sync::mpsc::channel();
    let idle_thread = std::thread::spawn(move || {
        idle.block_on(async move {
            parked_tx.send(()).unwrap();
            // Its own deadlines, 100 ms apart: each wait of this runtime is computed afresh,
            // and must only be as short as its own next deadline (with one queue per process,
            // it was the other runtime's, 10 ms away, every time).
            while timeout(Duration::from_millis(100), &mut stopped)
                .await
                .is_err()
            {}
        });
    });
    parked_rx.recv().unwrap();

    let busy = Runtime::new().unwrap();
    let start = std::time::Instant::now();
    let before = metrics.reactor_turns();
    busy.block_on(async {
        // 30 deadlines of the busy runtime, 10 ms apart, with a task sleeping alongside.
        let task = ebbtide_std::spawn(async {
            for _ in 0..30 {
                sleep(Duration::from_millis(10)).await;
            }
        })
        .unwrap();
        for _ in 0..30 {
            sleep(Duration::from_millis(10)).await;
        }
        task.await.unwrap();
    });
    let turns = metrics.reactor_turns() - before;
    let own_deadlines = start.elapsed().as_millis() / 100 + 1;
    stop.send(()).unwrap();
    idle_thread.join().unwrap();
    // About 300 ms: three or four of its own deadlines (and perhaps a spurious wake-up or two),
    // against 10 to 30 when it woke for the other runtime's deadlines too.
    assert!(
        turns as u128 <= own_deadlines + 2,
        "the idle runtime came back from the OS {turns} times while another runtime's timers \
         fired, for {own_deadlines} deadlines of its own"
    );
}
