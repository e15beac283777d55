//! Soundness regressions through ebbtide-std's safe API alone: a task whose destructor panics
//! while it is aborted, or while its runtime shuts down, is dropped exactly once; the runtime goes
//! on serving the other tasks.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use ebbtide_std::time::{sleep, Duration};
use ebbtide_std::Runtime;

/// Counts its drops and panics in the first one while `panic_once` is set. It owns a heap
/// allocation, so a second drop is a double free the allocator (and Miri, ASan) sees.
struct PanickyGuard {
    drops: Arc<AtomicUsize>,
    panic_once: Arc<AtomicBool>,
    _heap: Box<[u8; 64]>,
}

impl Drop for PanickyGuard {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
        if self.panic_once.swap(false, Ordering::SeqCst) {
            panic!("a destructor that panics once");
        }
    }
}

fn guard() -> (PanickyGuard, Arc<AtomicUsize>) {
    let drops = Arc::new(AtomicUsize::new(0));
    let guard = PanickyGuard {
        drops: drops.clone(),
        panic_once: Arc::new(AtomicBool::new(true)),
        _heap: Box::new([7; 64]),
    };
    (guard, drops)
}

#[test]
fn aborting_a_sleeping_task_whose_drop_panics_drops_it_once() {
    let runtime = Runtime::new().unwrap();
    let (guard, drops) = guard();
    runtime.block_on(async move {
        let task = ebbtide_std::spawn(async move {
            let _guard = guard;
            sleep(Duration::from_millis(20)).await;
        })
        .unwrap();
        // Let it start sleeping, then abort it: the executor drops it, its destructor panics.
        sleep(Duration::from_millis(2)).await;
        task.abort();
        let result = task.await;
        assert!(result.unwrap_err().is_cancelled());
        // Its timer still fires (it stays in the timer queue): that wake must find the task
        // complete, not drop the future again.
        sleep(Duration::from_millis(40)).await;
        // The runtime keeps serving other tasks.
        let other = ebbtide_std::spawn(async { 5 }).unwrap();
        assert_eq!(other.await.unwrap(), 5);
    });
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn shutdown_with_destructors_that_panic_drops_every_task_once() {
    let runtime = Runtime::new().unwrap();
    let mut counters = Vec::new();
    let mut guards = Vec::new();
    for _ in 0..3 {
        let (guard, drops) = guard();
        counters.push(drops);
        guards.push(guard);
    }
    runtime.block_on(async move {
        for guard in guards {
            drop(
                ebbtide_std::spawn(async move {
                    let _guard = guard;
                    sleep(Duration::from_secs(3600)).await;
                })
                .unwrap(),
            );
        }
        sleep(Duration::from_millis(2)).await;
    });
    // Dropping the runtime cancels the three idle tasks; each destructor panics. The runtime
    // must still drop every one of them, once, and not unwind out of `drop`.
    drop(runtime);
    for drops in &counters {
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    }
}
