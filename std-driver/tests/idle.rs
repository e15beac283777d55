//! An idle runtime does not spin: alone in its process (the timer queue is global, so other
//! runtimes' timers would end its waits too), it comes back from the OS only for its own timer.

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
