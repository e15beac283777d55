//! `select!`: which futures are dropped when, disabled branches (patterns that fail to match,
//! `if` preconditions, `else`), and control flow out of handlers.

use core::cell::{Cell, RefCell};
use core::future::{pending, poll_fn, ready, Future};
use core::task::{Context, Poll, Waker};

use ebbtide_core::task::yield_now;
use ebbtide_core::{block_on, select, Executor, TaskPool};

/// Sets its flag when dropped.
struct DropFlag<'a>(&'a Cell<bool>);

impl Drop for DropFlag<'_> {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

/// `future`, setting `dropped` when dropped, whether it was polled or not.
fn tracked<'a, F: Future + 'a>(
    dropped: &'a Cell<bool>,
    future: F,
) -> impl Future<Output = F::Output> + 'a {
    let guard = DropFlag(dropped);
    async move {
        let _guard = guard;
        future.await
    }
}

/// A future that fails the test if it is ever polled.
fn never_polled<T>() -> impl Future<Output = T> {
    poll_fn(|_| panic!("a disabled branch was polled"))
}

#[test]
fn all_futures_are_dropped_before_the_handler_runs() {
    let winner = Cell::new(false);
    let loser = Cell::new(false);
    let disabled = Cell::new(false);
    let out = block_on(async {
        select! {
            x = tracked(&winner, async {
                yield_now().await;
                1
            }) => {
                assert!(winner.get(), "the winner's future was dropped");
                assert!(loser.get(), "the pending loser was dropped");
                assert!(disabled.get(), "the disabled branch's future was dropped");
                x
            }
            _ = tracked(&loser, pending::<u8>()) => unreachable!(),
            _ = tracked(&disabled, never_polled::<u8>()), if false => unreachable!(),
        }
    });
    assert_eq!(out, 1);
}

#[test]
fn handlers_may_use_what_the_futures_borrowed() {
    // Compiles only because the futures, which borrow `log` mutably, are gone when handlers run.
    let mut log = Vec::new();
    block_on(async {
        select! {
            biased;
            () = async {
                log.push("future");
                pending::<()>().await
            } => unreachable!(),
            () = yield_now() => log.push("handler"),
        }
    });
    assert_eq!(log, ["future", "handler"]);
}

#[test]
fn dropping_a_pending_select_drops_every_future() {
    let a = Cell::new(false);
    let b = Cell::new(false);
    let mut select = Box::pin(async {
        select! {
            () = tracked(&a, pending()) => {}
            () = tracked(&b, pending()) => {}
        }
    });
    let mut cx = Context::from_waker(Waker::noop());
    assert!(select.as_mut().poll(&mut cx).is_pending());
    assert!(!a.get() && !b.get());
    drop(select);
    assert!(a.get() && b.get());
}

#[test]
fn a_pattern_that_does_not_match_disables_only_its_branch() {
    // `ready` panics if polled again after completing: the mismatched branch is not.
    for _ in 0..if cfg!(miri) { 10 } else { 100 } {
        let out = block_on(async {
            select! {
                Some(x) = ready(None::<u8>) => x,
                y = async {
                    yield_now().await;
                    yield_now().await;
                    7
                } => y,
            }
        });
        assert_eq!(out, 7);
    }
}

/// Yields `output` once; a plain future (not an `async` block, which would drop its locals when
/// it completes), so `_dropped` tells when the future itself is dropped.
struct ReadyThenDrop<'a, T> {
    output: Option<T>,
    _dropped: DropFlag<'a>,
}

impl<T: Unpin> Future for ReadyThenDrop<'_, T> {
    type Output = T;

    fn poll(mut self: core::pin::Pin<&mut Self>, _: &mut Context<'_>) -> Poll<T> {
        Poll::Ready(self.output.take().expect("polled after it completed"))
    }
}

#[test]
fn a_mismatched_output_is_dropped_and_its_future_kept_until_the_end() {
    let output_dropped = Cell::new(false);
    let future_dropped = Cell::new(false);
    block_on(async {
        select! {
            biased;
            Err(()) = ReadyThenDrop {
                output: Some(Ok::<_, ()>(DropFlag(&output_dropped))),
                _dropped: DropFlag(&future_dropped),
            } => {}
            () = async {
                yield_now().await;
                assert!(output_dropped.get(), "the output that failed to match was dropped");
                assert!(!future_dropped.get(), "its future lives as long as the select");
            } => assert!(future_dropped.get()),
        }
    });
}

#[test]
fn else_runs_when_every_output_fails_to_match() {
    let out = block_on(async {
        select! {
            Some(x) = ready(None::<u8>) => x,
            Ok(y) = async {
                yield_now().await;
                Err::<u8, ()>(())
            } => y,
            else => 42,
        }
    });
    assert_eq!(out, 42);
}

#[test]
#[should_panic(expected = "all branches of select! are disabled and there is no `else` branch")]
fn without_else_a_select_with_every_branch_disabled_panics() {
    block_on(async {
        select! {
            Some(x) = ready(None::<u8>) => x,
            y = never_polled::<u8>(), if false => y,
        }
    });
}

#[test]
fn preconditions_disable_branches_without_polling_them() {
    let evaluated = Cell::new(false);
    let out = block_on(async {
        let enabled = false;
        select! {
            x = {
                evaluated.set(true);
                never_polled::<u8>()
            }, if enabled => x,
            y = ready(5), if !enabled => y,
        }
    });
    assert_eq!(out, 5);
    assert!(
        evaluated.get(),
        "a disabled branch's future expression is still evaluated"
    );
}

#[test]
fn else_runs_when_every_precondition_is_false() {
    let out = block_on(async {
        select! {
            x = never_polled::<u8>(), if false => x,
            y = never_polled::<u8>(), if 1 > 2 => y,
            else => 9,
        }
    });
    assert_eq!(out, 9);
}

#[test]
fn preconditions_are_evaluated_before_any_future_expression() {
    let log = RefCell::new(Vec::new());
    let note = |what: &'static str| log.borrow_mut().push(what);
    block_on(async {
        select! {
            () = {
                note("future 1");
                ready(())
            }, if {
                note("condition 1");
                true
            } => {}
            () = {
                note("future 2");
                ready(())
            }, if {
                note("condition 2");
                true
            } => {}
        }
    });
    assert_eq!(
        *log.borrow(),
        ["condition 1", "condition 2", "future 1", "future 2"]
    );

    // So a precondition may read what an earlier branch's future borrows mutably.
    let mut items = vec![1];
    block_on(async {
        select! {
            biased;
            Some(x) = async { items.pop() } => assert_eq!(x, 1),
            () = ready(()), if items.is_empty() => unreachable!(),
        }
    });
}

#[test]
fn break_and_continue_act_on_the_enclosing_loop() {
    let seen = block_on(async {
        let mut seen = Vec::new();
        for i in 0..10 {
            select! {
                x = ready(i) => {
                    if x == 1 {
                        continue;
                    }
                    if x == 4 {
                        break;
                    }
                    seen.push(x);
                }
            }
        }
        seen
    });
    assert_eq!(seen, [0, 2, 3]);

    let rounds = block_on(async {
        let mut rounds = 0;
        'outer: for _ in 0..10 {
            for _ in 0..10 {
                rounds += 1;
                select! {
                    () = yield_now() => if rounds == 3 { break 'outer },
                    () = pending() => {}
                }
            }
        }
        rounds
    });
    assert_eq!(rounds, 3);
}

#[test]
fn return_and_question_mark_act_on_the_enclosing_function() {
    async fn first_even(xs: &[u8]) -> Option<u8> {
        for &x in xs {
            select! {
                v = ready(x) => if v % 2 == 0 {
                    return Some(v);
                },
            }
        }
        None
    }
    async fn parse(s: &str) -> Result<u8, core::num::ParseIntError> {
        let n = select! {
            r = ready(s.parse::<u8>()) => r?,
            () = pending() => 0,
        };
        Ok(n + 1)
    }
    block_on(async {
        assert_eq!(first_even(&[1, 3, 4, 5]).await, Some(4));
        assert_eq!(first_even(&[1, 3]).await, None);
        assert_eq!(parse("41").await, Ok(42));
        assert!(parse("x").await.is_err());
    });
}

#[test]
fn handlers_may_await() {
    let out = block_on(async {
        select! {
            x = ready(1) => {
                yield_now().await;
                x + 1
            }
        }
    });
    assert_eq!(out, 2);
}

#[test]
fn patterns_may_bind_by_value_mutably_by_reference_and_through_references() {
    #[derive(Debug)]
    struct Point {
        x: i32,
        y: i32,
    }
    block_on(async {
        let a = select! {
            (mut n, Some(ref s)) = ready((1, Some(String::from("s")))) => {
                n += 1;
                format!("{n}{s}")
            }
        };
        assert_eq!(a, "2s");
        let b = select! { Some(mut s) = ready(Some(String::from("hi"))) => { s.push('!'); s } };
        assert_eq!(b, "hi!");
        let c = select! { &x = ready(&5) => x };
        assert_eq!(c, 5);
        let d = select! { Point { x, y: 0 } = ready(Point { x: 3, y: 0 }) => x };
        assert_eq!(d, 3);
        let e = select! { Ok(v) | Err(v) = ready(Err::<u8, u8>(4)) => v };
        assert_eq!(e, 4);
        let f = select! { [first, .., last] = ready([1, 2, 3]) => first + last };
        assert_eq!(f, 4);
        let g = select! { x @ 1..=5 = ready(3) => x };
        assert_eq!(g, 3);
        let h = select! {
            Some(Point { x: ref mut px, .. }) = ready(Some(Point { x: 1, y: 2 })) => {
                *px += 1;
                *px
            }
        };
        assert_eq!(h, 2);
        // A refutable pattern with `mut` that fails to match, on an output that is not `Copy`.
        let i = select! {
            Some(mut s) = ready(None::<String>) => { s.clear(); s }
            else => String::from("else"),
        };
        assert_eq!(i, "else");
    });
}

#[test]
fn many_branches() {
    let out = block_on(async {
        select! {
            biased;
            x = pending::<u32>() => x,
            x = pending::<u32>() => x,
            x = pending::<u32>() => x,
            x = pending::<u32>() => x,
            x = pending::<u32>() => x,
            x = pending::<u32>() => x,
            x = pending::<u32>() => x,
            x = pending::<u32>() => x,
            x = pending::<u32>() => x,
            x = pending::<u32>() => x,
            x = pending::<u32>() => x,
            x = pending::<u32>() => x,
            Some(x) = ready(None) => x,
            Some(x) = ready(Some(14)) => x,
            x = ready(15) => x,
            else => 0,
        }
    });
    assert_eq!(out, 14);
}

#[test]
fn select_inside_a_spawned_task() {
    static EXECUTOR: Executor = Executor::new();
    // Debug builds lay out nested async blocks generously: give the slots room.
    static POOL: TaskPool<2, 1024> = TaskPool::new();
    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    let steps = if cfg!(miri) { 5 } else { 50 };
    let mut child = spawner
        .spawn(&POOL, async move {
            for _ in 0..steps {
                yield_now().await;
            }
            7
        })
        .unwrap();
    let handle = spawner
        .spawn(&POOL, async move {
            // The child's handle is kept across selects: each loop borrows it.
            let mut ticks = 0;
            loop {
                select! {
                    output = &mut child => break (output.unwrap(), ticks),
                    () = yield_now() => ticks += 1,
                }
            }
        })
        .unwrap();
    let (output, ticks) = runner.run_until(handle, || {}).unwrap();
    assert_eq!(output, 7);
    assert!(
        ticks >= steps / 2,
        "the ticker ran alongside the child: {ticks} ticks"
    );
    // If the task completed while queued (the losing `yield_now` branch had woken it; select!
    // picks its first branch at random), its queue entry still holds the slot until the
    // executor reaches it: one more batch lets it go.
    runner.poll();
    assert!(POOL.is_empty());
}
