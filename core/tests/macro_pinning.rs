//! `join!`, `try_join!` and `select!` keep their futures inside the `PollFn` they await and pin
//! them there: a future must stay at one address from its first poll until its destructor has
//! run (the `Pin` guarantee), and be dropped exactly once, also when the macro is dropped
//! half-way or a future panics. Each future here checks its own address on every poll and in its
//! `Drop`.

use core::future::Future;
use core::marker::PhantomPinned;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

use ebbtide_core::{join, select, try_join};

/// Pending `pending` times (waking itself), then ready with `value`. Remembers where it was first
/// polled, and panics if it is polled or dropped anywhere else.
struct Pinned {
    pending: usize,
    value: u32,
    address: Option<usize>,
    drops: Rc<Cell<usize>>,
    _pinned: PhantomPinned,
}

impl Pinned {
    fn new(pending: usize, value: u32, drops: &Rc<Cell<usize>>) -> Pinned {
        Pinned {
            pending,
            value,
            address: None,
            drops: drops.clone(),
            _pinned: PhantomPinned,
        }
    }
}

impl Future for Pinned {
    type Output = u32;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        // SAFETY: nothing is moved out; the fields are plain data.
        let this = unsafe { self.get_unchecked_mut() };
        let here = this as *const Pinned as usize;
        match this.address {
            None => this.address = Some(here),
            Some(first) => assert_eq!(first, here, "a pinned future moved between polls"),
        }
        if this.pending == 0 {
            Poll::Ready(this.value)
        } else {
            this.pending -= 1;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

impl Drop for Pinned {
    fn drop(&mut self) {
        if let Some(first) = self.address {
            assert_eq!(
                first, self as *const Pinned as usize,
                "a pinned future moved before its destructor ran"
            );
        }
        self.drops.set(self.drops.get() + 1);
    }
}

/// Panics on its first poll.
struct Panics;

impl Future for Panics {
    type Output = u32;

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<u32> {
        panic!("a future of the macro panicked")
    }
}

#[test]
fn join_keeps_each_future_in_place_until_it_is_dropped() {
    let drops = Rc::new(Cell::new(0));
    let (a, b, c) = ebbtide_core::block_on(async {
        join!(
            Pinned::new(3, 1, &drops),
            Pinned::new(0, 2, &drops),
            Pinned::new(5, 3, &drops)
        )
    });
    assert_eq!((a, b, c), (1, 2, 3));
    assert_eq!(drops.get(), 3);
}

#[test]
fn try_join_drops_the_rest_in_place_after_an_error() {
    let drops = Rc::new(Cell::new(0));
    let out: Result<(u32, u32), &str> = ebbtide_core::block_on(async {
        let fails = async {
            Pinned::new(2, 0, &drops).await;
            Err("no")
        };
        let never = async { Ok(Pinned::new(usize::MAX, 0, &drops).await) };
        try_join!(never, fails)
    });
    assert_eq!(out, Err("no"));
    assert_eq!(drops.get(), 2);
}

#[test]
fn select_keeps_its_futures_in_place_and_drops_the_losers_once() {
    let drops = Rc::new(Cell::new(0));
    let picked = ebbtide_core::block_on(async {
        select! {
            a = Pinned::new(4, 1, &drops) => a,
            b = Pinned::new(usize::MAX, 2, &drops) => b,
            c = Pinned::new(usize::MAX, 3, &drops) => c,
        }
    });
    assert_eq!(picked, 1);
    assert_eq!(drops.get(), 3);
}

#[test]
fn a_select_dropped_half_way_drops_its_futures_in_place() {
    let drops = Rc::new(Cell::new(0));
    {
        let mut task = Box::pin(async {
            select! {
                a = Pinned::new(usize::MAX, 1, &drops) => a,
                b = Pinned::new(usize::MAX, 2, &drops) => b,
            }
        });
        let mut cx = Context::from_waker(core::task::Waker::noop());
        for _ in 0..3 {
            assert!(task.as_mut().poll(&mut cx).is_pending());
        }
    }
    assert_eq!(drops.get(), 2);
}

#[test]
fn a_panicking_future_leaves_the_others_dropped_once_in_place() {
    let drops = Rc::new(Cell::new(0));
    let result = catch_unwind(AssertUnwindSafe(|| {
        ebbtide_core::block_on(async {
            let later = async {
                Pinned::new(1, 0, &drops).await;
                Panics.await
            };
            join!(Pinned::new(usize::MAX, 0, &drops), later)
        })
    }));
    assert!(result.is_err());
    assert_eq!(drops.get(), 2);

    let drops = Rc::new(Cell::new(0));
    let result = catch_unwind(AssertUnwindSafe(|| {
        ebbtide_core::block_on(async {
            select! {
                a = Pinned::new(usize::MAX, 0, &drops) => a,
                b = async { Pinned::new(2, 0, &drops).await; Panics.await } => b,
            }
        })
    }));
    assert!(result.is_err());
    assert_eq!(drops.get(), 2);
}

/// Panics in its `Drop` (after counting it).
struct PanicsOnDrop {
    drops: Rc<Cell<usize>>,
}

impl Future for PanicsOnDrop {
    type Output = u32;

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<u32> {
        Poll::Pending
    }
}

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        self.drops.set(self.drops.get() + 1);
        panic!("a future of the macro panicked in its Drop");
    }
}

#[test]
fn a_panicking_drop_still_drops_the_other_futures_once_in_place() {
    let drops = Rc::new(Cell::new(0));
    let result = catch_unwind(AssertUnwindSafe(|| {
        ebbtide_core::block_on(async {
            // The `select!` ends on the first branch; dropping the losers panics in the second,
            // and the third is still dropped, in place, once.
            select! {
                a = Pinned::new(1, 7, &drops) => a,
                b = PanicsOnDrop { drops: drops.clone() } => b,
                c = Pinned::new(usize::MAX, 0, &drops) => c,
            }
        })
    }));
    assert!(result.is_err());
    assert_eq!(drops.get(), 3);

    let drops = Rc::new(Cell::new(0));
    let result = catch_unwind(AssertUnwindSafe(|| {
        let mut task = Box::pin(async {
            join!(
                Pinned::new(usize::MAX, 0, &drops),
                PanicsOnDrop {
                    drops: drops.clone()
                },
                Pinned::new(usize::MAX, 0, &drops)
            )
        });
        let mut cx = Context::from_waker(core::task::Waker::noop());
        assert!(task.as_mut().poll(&mut cx).is_pending());
        drop(task);
    }));
    assert!(result.is_err());
    assert_eq!(drops.get(), 3);
}
