//! A counting global allocator proves that the owned channels allocate when made and never per
//! message: bounded ones preallocate. The unbounded mpsc channel, which allocates blocks and
//! reuses them, is tested in `unbounded_blocks.rs`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use ebbtide_host::sync::{broadcast, mpsc, oneshot, watch};

struct Counting;

// Counted per thread, so tests running in parallel do not see each other's allocations.
thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count_one() {
    // `try_with`: the allocator can run while the thread's locals are being torn down.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

// SAFETY: forwards to `System`, only counting.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one();
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` and returns how many allocations it made.
fn allocations_in(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

/// Polls `future` to completion with a no-op waker (everything here is ready or made ready
/// by the same thread).
fn run<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

/// Repetitions (fewer under Miri, which is slow).
const ROUNDS: usize = if cfg!(miri) { 2 } else { 100 };

#[test]
fn bounded_send_recv_allocate_nothing_after_creation() {
    let mut made = None;
    assert!(allocations_in(|| made = Some(mpsc::channel::<u64>(64))) <= 2);
    let (tx, mut rx) = made.unwrap();
    let count = allocations_in(|| {
        for _ in 0..ROUNDS {
            for i in 0..64 {
                run(tx.send(i)).unwrap();
            }
            assert_eq!(tx.try_send(0), Err(mpsc::error::TrySendError::Full(0)));
            for i in 0..64 {
                assert_eq!(run(rx.recv()), Some(i));
            }
            run(tx.reserve()).unwrap().send(1);
            assert_eq!(rx.try_recv(), Ok(1));
        }
    });
    assert_eq!(count, 0);
}

#[test]
fn waiting_senders_reuse_their_slots() {
    let (tx, mut rx) = mpsc::channel::<u64>(1);
    let waker = Waker::noop();
    let mut cycle = || {
        tx.try_send(0).unwrap();
        let mut waiting: [_; 4] = std::array::from_fn(|i| Box::pin(tx.send(i as u64 + 1)));
        for send in &mut waiting {
            assert!(send
                .as_mut()
                .poll(&mut Context::from_waker(waker))
                .is_pending());
        }
        for (i, send) in waiting.iter_mut().enumerate() {
            assert_eq!(rx.try_recv(), Ok(i as u64));
            assert!(send
                .as_mut()
                .poll(&mut Context::from_waker(waker))
                .is_ready());
        }
        assert_eq!(rx.try_recv(), Ok(4));
    };
    cycle();
    // The boxes of the futures themselves are the test's; count the channel's share.
    let count = allocations_in(&mut cycle);
    assert_eq!(count, 4, "only the test's four boxes");
}

#[test]
fn broadcast_watch_oneshot_allocate_only_when_made() {
    let (tx, mut rx) = broadcast::channel::<u64>(16);
    let mut rx2 = tx.subscribe();
    let (wtx, mut wrx) = watch::channel(0u64);
    let count = allocations_in(|| {
        for i in 0..ROUNDS as u64 * 10 {
            tx.send(i).unwrap();
            assert_eq!(run(rx.recv()), Ok(i));
            assert_eq!(rx2.try_recv(), Ok(i));
            wtx.send(i).unwrap();
            run(wrx.changed()).unwrap();
            assert_eq!(*wrx.borrow_and_update(), i);
        }
    });
    assert_eq!(count, 0);
    // A oneshot is one allocation per channel.
    let count = allocations_in(|| {
        let (tx, rx) = oneshot::channel::<u64>();
        tx.send(1).unwrap();
        assert_eq!(run(rx), Ok(1));
    });
    assert_eq!(count, 1);
}
