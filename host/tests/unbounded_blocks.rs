//! The unbounded mpsc channel keeps its messages in blocks that it reuses: a counting
//! global allocator shows that a steady flow allocates nothing once warmed up and that a drained
//! burst leaves a few blocks; Drop-counting messages show each undelivered message dropped once.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use ebbtide_host::sync::mpsc;

struct Counting;

// Counted per thread, so tests running in parallel do not see each other's allocations. Each
// test frees on the thread that allocated, so the live bytes of a thread add up.
thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

fn count(allocations: usize, bytes: isize) {
    // `try_with`: the allocator can run while the thread's locals are being torn down.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + allocations));
    let _ = LIVE.try_with(|n| n.set(n.get() + bytes));
}

// SAFETY: forwards to `System`, only counting.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(1, layout.size() as isize);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(0, -(layout.size() as isize));
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(1, new_size as isize - layout.size() as isize);
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

fn live_bytes() -> isize {
    LIVE.with(Cell::get)
}

/// Polls `future` to completion with a no-op waker (everything here is ready).
fn run<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

/// The first block's size (ebbtide-host's `MIN_BLOCK`).
const BLOCK: usize = 32;

/// Both ends of an unbounded channel and the next numbers to send and to receive.
struct Flow {
    tx: mpsc::UnboundedSender<u64>,
    rx: mpsc::UnboundedReceiver<u64>,
    next_in: u64,
    next_out: u64,
}

impl Flow {
    fn send(&mut self, n: usize) {
        for _ in 0..n {
            self.tx.send(self.next_in).unwrap();
            self.next_in += 1;
        }
    }

    fn recv(&mut self, n: usize) {
        for _ in 0..n {
            assert_eq!(run(self.rx.recv()), Some(self.next_out));
            self.next_out += 1;
        }
    }
}

#[test]
fn steady_flow_allocates_nothing_once_warmed_up() {
    const IN_FLIGHT: usize = 100;
    let messages = if cfg!(miri) { 2_000 } else { 100_000 };
    let (tx, rx) = mpsc::unbounded_channel::<u64>();
    let mut flow = Flow {
        tx,
        rx,
        next_in: 0,
        next_out: 0,
    };
    flow.send(IN_FLIGHT);
    // Warm-up: a few blocks' worth of turnover, and a burst like the ones measured below.
    for _ in 0..BLOCK * 8 {
        flow.send(1);
        flow.recv(1);
    }
    // Bursts until the spare blocks settle: the smallest spares are freed first, so a few rounds
    // leave blocks large enough to hold every burst.
    for _ in 0..8 {
        flow.send(BLOCK * 3);
        flow.recv(BLOCK * 3);
    }
    let count = allocations_in(|| {
        for _ in 0..messages {
            flow.send(1);
            flow.recv(1);
            assert_eq!(flow.rx.len(), IN_FLIGHT);
        }
        // Bursts of up to 4 blocks above the steady level reuse the spare blocks.
        for _ in 0..if cfg!(miri) { 2 } else { 100 } {
            flow.send(BLOCK * 3);
            flow.recv(BLOCK * 3);
        }
    });
    assert_eq!(count, 0, "allocations in the steady state");
}

#[test]
fn a_drained_burst_leaves_a_few_blocks() {
    let burst: u64 = if cfg!(miri) { 5_000 } else { 1_000_000 };
    let before = live_bytes();
    let (tx, mut rx) = mpsc::unbounded_channel::<u64>();
    let made = live_bytes() - before;
    for i in 0..burst {
        tx.send(i).unwrap();
    }
    let peak = live_bytes() - before;
    assert!(peak >= (burst * 8) as isize, "{peak} bytes at the peak");
    for i in 0..burst {
        assert_eq!(rx.try_recv(), Ok(i));
    }
    assert_eq!(rx.len(), 0);
    let left = live_bytes() - before - made;
    // One block in use (at most 16 KiB of messages) and spares of at most 32 KiB (one more if
    // a single spare is larger), plus the list of blocks (shrunk back to room for 16) and of
    // spares. The peak was megabytes.
    const MAX_BLOCK_BYTES: isize = 16 * 1024;
    const SPARE_BYTES: isize = 32 * 1024;
    assert!(
        left <= MAX_BLOCK_BYTES + SPARE_BYTES + 4096,
        "{left} bytes left after the burst (peak {peak})"
    );
    if !cfg!(miri) {
        // (Miri's burst is too small for its peak to dwarf a few blocks.)
        assert!(
            left * 100 < peak,
            "{left} bytes left after the burst (peak {peak})"
        );
    }
    drop((tx, rx));
    assert_eq!(live_bytes(), before, "the channel frees everything");
}

#[test]
fn fifo_and_len_across_block_boundaries() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut next_out = 0;
    let mut next_in = 0;
    // Uneven batches, so the head and tail move through blocks at different points.
    for batch in [1, 31, 32, 33, 64, 65, 7, 100, 3] {
        for _ in 0..batch {
            tx.send(next_in).unwrap();
            next_in += 1;
        }
        assert_eq!(rx.len(), next_in - next_out);
        for _ in 0..batch / 2 + 1 {
            if next_out == next_in {
                break;
            }
            assert_eq!(rx.try_recv(), Ok(next_out));
            next_out += 1;
            assert_eq!(rx.len(), next_in - next_out);
        }
    }
    drop(tx);
    while let Some(i) = run(rx.recv()) {
        assert_eq!(i, next_out);
        next_out += 1;
        assert_eq!(rx.len(), next_in - next_out);
    }
    assert_eq!(next_out, next_in);
    assert!(rx.is_empty());
}

/// Counts its drops.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn undelivered_messages_drop_once_when_the_receiver_drops() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, mut rx) = mpsc::unbounded_channel();
    // Five blocks and a bit; a block and a half received.
    let sent = BLOCK * 5 + 3;
    for _ in 0..sent {
        tx.send(Counted(drops.clone())).unwrap();
    }
    for _ in 0..BLOCK + BLOCK / 2 {
        drop(rx.try_recv().unwrap());
    }
    assert_eq!(drops.load(Ordering::SeqCst), BLOCK + BLOCK / 2);
    drop(rx);
    assert_eq!(drops.load(Ordering::SeqCst), sent);
    // Sends fail from now on and hand the message back (dropped here, once).
    let err = tx.send(Counted(drops.clone())).unwrap_err();
    drop(err);
    drop(tx);
    assert_eq!(drops.load(Ordering::SeqCst), sent + 1);
}

#[test]
fn undelivered_messages_drop_once_when_the_channel_drops() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, mut rx) = mpsc::unbounded_channel();
    let sent = BLOCK * 3 + 1;
    for _ in 0..sent {
        tx.send(Counted(drops.clone())).unwrap();
    }
    // Senders first: the messages stay for the receiver until it drops.
    drop(tx);
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    rx.close();
    drop(rx.try_recv().unwrap());
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    drop(rx);
    assert_eq!(drops.load(Ordering::SeqCst), sent);
}
