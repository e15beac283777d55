//! `JoinSet`: outputs in the order tasks finish, panics and aborts as errors, abort on drop,
//! `!Send` tasks, and a set of many tasks.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use ebbtide_std::task::{spawn_blocking, JoinSet};
use ebbtide_std::Runtime;

#[test]
fn outputs_come_in_the_order_tasks_finish() {
    use ebbtide_std::sync::oneshot;
    Runtime::new().unwrap().block_on(async {
        let mut set = JoinSet::new();
        let mut go = Vec::new();
        for i in 0..5u64 {
            let (tx, rx) = oneshot::channel::<()>();
            go.push(Some(tx));
            set.spawn(async move {
                rx.await.unwrap();
                i
            })
            .unwrap();
        }
        assert_eq!(set.len(), 5);
        // Let the tasks finish in an order of our choosing: each one alone.
        for i in [3, 0, 4, 1, 2] {
            go[i].take().unwrap().send(()).unwrap();
            assert_eq!(set.join_next().await.unwrap().unwrap(), i as u64);
        }
        assert!(set.is_empty());
        assert!(set.join_next().await.is_none());
    });
}

#[test]
fn panics_and_aborts_come_back_as_errors() {
    Runtime::new().unwrap().block_on(async {
        let mut set = JoinSet::new();
        set.spawn(async { panic!("in the set") }).unwrap();
        let panicked = set.join_next().await.unwrap().unwrap_err();
        assert_eq!(panicked.panic_message(), Some("in the set"));

        set.spawn(std::future::pending::<()>()).unwrap();
        set.abort_all();
        assert!(set.join_next().await.unwrap().unwrap_err().is_cancelled());
        assert!(set.is_empty());
    });
}

#[test]
fn dropping_the_set_aborts_its_tasks() {
    struct Counted(Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let dropped = Arc::new(AtomicUsize::new(0));
    let runtime = Runtime::new().unwrap();
    runtime.block_on({
        let dropped = dropped.clone();
        async move {
            let mut set = JoinSet::new();
            for _ in 0..3 {
                let guard = Counted(dropped.clone());
                set.spawn(async move {
                    let _guard = guard;
                    std::future::pending::<()>().await
                })
                .unwrap();
            }
            ebbtide_std::task::yield_now().await;
            drop(set);
            // The aborted tasks are dropped at their next poll, which may come on another worker
            // thread, after this task's next poll: wait for it, bounded, while the runtime lives.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while dropped.load(Ordering::SeqCst) < 3 && std::time::Instant::now() < deadline {
                ebbtide_std::time::sleep(std::time::Duration::from_millis(1)).await;
            }
            assert_eq!(
                dropped.load(Ordering::SeqCst),
                3,
                "the aborted tasks were dropped"
            );
        }
    });
    assert_eq!(dropped.load(Ordering::SeqCst), 3);
}

#[test]
fn local_tasks_try_join_next_and_join_all() {
    Runtime::new().unwrap().block_on(async {
        let mut set = JoinSet::new();
        let shared = std::rc::Rc::new(7); // not Send
        for i in 0..4 {
            let shared = shared.clone();
            set.spawn_local(async move { *shared + i }).unwrap();
        }
        assert!(set.try_join_next().is_none(), "nothing ran yet");
        ebbtide_std::task::yield_now().await;
        assert!(set.try_join_next().is_some());
        let mut rest = set.join_all().await;
        rest.sort();
        assert_eq!(rest.len(), 3);
    });
}

#[test]
fn a_thousand_tasks_and_blocking_jobs() {
    Runtime::new().unwrap().block_on(async {
        let mut set = JoinSet::new();
        for i in 0..1000u64 {
            set.spawn(async move { i }).unwrap();
        }
        let mut sum = 0;
        while let Some(output) = set.join_next().await {
            sum += output.unwrap();
        }
        assert_eq!(sum, 999 * 1000 / 2);
        // spawn_blocking lives in `task` too, and its handle gives a `Result<T, JoinError>`.
        let job: Result<u64, ebbtide_std::task::JoinError> = spawn_blocking(|| 6 * 7).await;
        assert_eq!(job.unwrap(), 42);
    });
}
