//! `#[ebbtide_std::test]` and `#[ebbtide_std::main]` build a runtime and block on the body.

use ebbtide_std::time::{sleep, Duration};

#[ebbtide_std::test]
async fn a_test_runs_on_a_runtime() {
    let task = ebbtide_std::spawn(async {
        sleep(Duration::from_millis(1)).await;
        5
    })
    .unwrap();
    assert_eq!(task.await.unwrap(), 5);
}

// One worker: the capacities are per worker (and the suite may run with EBBTIDE_WORKER_THREADS).
#[ebbtide_std::test(task_capacity = 8, io_capacity = 16, worker_threads = 1)]
async fn settings_reach_the_builder() -> Result<(), String> {
    let metrics = ebbtide_std::Handle::current().metrics();
    assert_eq!(metrics.io_capacity(), 16);
    // 8 small slots, and the minimum of the larger classes.
    assert_eq!(metrics.task_capacity(), 8 + 4 + 2 + 1);
    Ok(())
}

#[ebbtide_std::main]
async fn returns_its_value() -> u32 {
    sleep(Duration::from_millis(1)).await;
    41 + 1
}

#[test]
fn main_attribute_returns_the_body_output() {
    assert_eq!(returns_its_value(), 42);
}
