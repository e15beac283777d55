//! `join!` and `try_join!`: outputs in order, futures polled concurrently, errors short-circuit.

use core::cell::{Cell, RefCell};
use core::future::{pending, poll_fn, ready, Future};
use core::task::Poll;

use ebbtide_core::task::yield_now;
use ebbtide_core::{block_on_with_idle, join, try_join, Executor, TaskPool};

/// Drives `future` to completion, failing the test instead of spinning forever if it stalls.
fn run<F: Future>(future: F) -> F::Output {
    let mut idles = 0;
    block_on_with_idle(future, || {
        idles += 1;
        assert!(
            idles < 1_000,
            "the future stalled: its parts were not polled concurrently"
        );
    })
}

/// Sets its flag when dropped.
struct DropFlag<'a>(&'a Cell<bool>);

impl Drop for DropFlag<'_> {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

/// Waits (busy, waking itself) until `flag` is set.
async fn wait_for(flag: &Cell<bool>) {
    poll_fn(|cx| {
        if flag.get() {
            Poll::Ready(())
        } else {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await;
}

#[test]
fn outputs_come_back_in_the_order_written() {
    let out = run(async {
        join!(
            async {
                yield_now().await;
                yield_now().await;
                1
            },
            ready("two"),
            async {
                yield_now().await;
                3.0
            },
        )
    });
    assert_eq!(out, (1, "two", 3.0));
}

#[test]
fn zero_one_and_many_futures() {
    run(async {
        let () = join!();
        assert_eq!(join!(ready(1)), (1,));
        let many = join!(
            ready(0),
            ready(1),
            ready(2),
            ready(3),
            ready(4),
            ready(5),
            ready(6),
            ready(7),
            ready(8),
            ready(9),
            ready(10),
            ready(11),
            ready(12),
            async {
                yield_now().await;
                13
            },
        );
        // Tuples past 12 elements have no `PartialEq`: compare the ends.
        assert_eq!((many.0, many.1, many.12, many.13), (0, 1, 12, 13));
    });
}

#[test]
fn futures_are_polled_concurrently() {
    // Each future needs the other's progress: awaited one after the other, they would deadlock.
    let ping = Cell::new(false);
    let pong = Cell::new(false);
    let out = run(async {
        join!(
            async {
                ping.set(true);
                wait_for(&pong).await;
                "a"
            },
            async {
                wait_for(&ping).await;
                pong.set(true);
                "b"
            },
        )
    });
    assert_eq!(out, ("a", "b"));
}

#[test]
fn finished_futures_are_not_polled_again() {
    // `ready` panics if polled after it completed; the yields keep `join!` going for three polls.
    let out = run(async {
        join!(ready(1), async {
            yield_now().await;
            yield_now().await;
            2
        })
    });
    assert_eq!(out, (1, 2));
}

#[test]
fn each_poll_starts_with_the_next_future() {
    let log = RefCell::new(Vec::new());
    let tracked = |name: &'static str| {
        let log = &log;
        async move {
            for _ in 0..3 {
                log.borrow_mut().push(name);
                yield_now().await;
            }
        }
    };
    run(async { join!(tracked("a"), tracked("b"), tracked("c")) });
    assert_eq!(
        *log.borrow(),
        ["a", "b", "c", "b", "c", "a", "c", "a", "b"],
        "polls rotate their starting future"
    );
}

#[test]
fn inputs_can_be_into_future() {
    struct Later(u8);
    impl core::future::IntoFuture for Later {
        type Output = u8;
        type IntoFuture = core::future::Ready<u8>;
        fn into_future(self) -> Self::IntoFuture {
            ready(self.0)
        }
    }
    assert_eq!(run(async { join!(Later(4), Later(2)) }), (4, 2));
}

#[test]
fn try_join_returns_all_values() {
    let out: Result<(u8, &str), ()> = run(async {
        try_join!(ready(Ok(1)), async {
            yield_now().await;
            Ok("ok")
        })
    });
    assert_eq!(out, Ok((1, "ok")));
    let empty: Result<(), ()> = run(async { try_join!() });
    assert_eq!(empty, Ok(()));
}

#[test]
fn try_join_drops_the_other_futures_on_the_first_error() {
    let slow_dropped = Cell::new(false);
    let done_dropped = Cell::new(false);
    let slow_polls = Cell::new(0);
    let polls = &slow_polls;
    let out = run(async {
        let slow_guard = DropFlag(&slow_dropped);
        let done_guard = DropFlag(&done_dropped);
        let out: Result<(u8, u8, ()), &str> = try_join!(
            async move {
                let _guard = done_guard;
                Ok(1)
            },
            async {
                yield_now().await;
                Err("boom")
            },
            async move {
                let _guard = slow_guard;
                loop {
                    polls.set(polls.get() + 1);
                    yield_now().await;
                }
            },
        );
        // Already dropped when `try_join!` returns, not at the end of this block.
        assert!(slow_dropped.get(), "the pending future was dropped");
        assert!(done_dropped.get(), "the finished future was dropped");
        out
    });
    assert_eq!(out, Err("boom"));
    // Polled together with the failing future once before it failed, and never after.
    assert!(slow_polls.get() <= 2, "polled {} times", slow_polls.get());
}

#[test]
fn try_join_reports_the_first_error_and_polls_nothing_after_it() {
    let polled_after = Cell::new(false);
    let out: Result<((), ()), u8> = run(async {
        try_join!(ready(Err(1)), async {
            polled_after.set(true);
            Err(2)
        })
    });
    assert_eq!(out, Err(1));
    assert!(!polled_after.get());
}

#[test]
fn dropping_a_pending_join_drops_its_futures() {
    let dropped = Cell::new(false);
    let guard = DropFlag(&dropped);
    let mut join = Box::pin(async {
        join!(ready(1), async move {
            let _guard = guard;
            pending::<()>().await
        })
    });
    let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
    assert!(join.as_mut().poll(&mut cx).is_pending());
    assert!(!dropped.get());
    drop(join);
    assert!(dropped.get());
}

#[test]
fn join_inside_a_spawned_task() {
    static EXECUTOR: Executor = Executor::new();
    // Debug builds lay out nested async blocks generously: give the slots room.
    static POOL: TaskPool<2, 1024> = TaskPool::new();
    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    let child = spawner
        .spawn(&POOL, async {
            yield_now().await;
            20
        })
        .unwrap();
    let handle = spawner
        .spawn(&POOL, async move {
            let steps = if cfg!(miri) { 5 } else { 50 };
            let (a, b, c) = join!(
                async {
                    for _ in 0..steps {
                        yield_now().await;
                    }
                    1
                },
                child,
                async { try_join!(ready(Ok::<_, ()>(10)), ready(Ok(11))) },
            );
            a + b.unwrap() + c.map(|(x, y)| x + y).unwrap()
        })
        .unwrap();
    assert_eq!(runner.run_until(handle, || {}), Ok(42));
    assert!(POOL.is_empty());
}
