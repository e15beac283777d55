//! The intrusive FIFO list of waiters that every multi-waiter primitive shares.
//!
//! *Here be raw pointers*: this file is the only place in `sync` that follows them.
//!
//! A primitive that can have any number of waiters ([`Notify`](crate::sync::Notify),
//! [`Semaphore`](crate::sync::Semaphore), a full [`mpsc`](crate::sync::mpsc) channel, `watch`,
//! `broadcast`) cannot allocate a queue for them. Instead each waiting future carries its own
//! [`Node`], and the primitive's state (behind its
//! [`BlockingMutex`]) holds a [`WaitList`] that links the
//! nodes of the futures currently waiting, oldest first. This is tokio's `util/linked_list.rs`
//! and `batch_semaphore` idea, minus the generality.
//!
//! # API
//!
//! - [`Node<P>`]: lives inside a pinned future (it is `!Unpin` through [`PhantomPinned`]). It holds
//!   a [`Waiter<P>`]: an `Option<Waker>` and a per-primitive payload `P` (permits still needed, a
//!   `notified` flag, the value a sender hands over, ...). Create it with [`Node::new`].
//! - [`WaitList<P>`]: the list head, kept in the primitive's locked state. [`WaitList::new`] is a
//!   plain `const fn`.
//! - [`WaitList::push_back`] (`unsafe`, see [ground rules](#ground-rules)) links a node at the tail.
//! - [`WaitList::remove`] unlinks a node if it is linked (the waiting future's `Drop` calls it).
//! - [`WaitList::with_front`] looks at the oldest waiter; [`WaitList::pop_front_with`] unlinks it
//!   and lets the caller take its waker and update its payload; [`WaitList::for_each`] visits all.
//! - [`Node::with`] gives the owning future its own [`Waiter`] (waker and payload), and
//!   [`Node::is_linked`] says whether it still waits in the list.
//! - Wakers are stored through [`lock_registering`](crate::sync::waker::lock_registering), which
//!   clones them outside the lock (a foreign waker's clone and drop are user code).
//! - [`WakeBatch`] and [`wake_in_batches`]: wakers must never be called under the lock, and a
//!   no-alloc primitive cannot collect an unbounded number of them, so a primitive that wakes many
//!   waiters (close, `notify_waiters`, a big `add_permits`) takes up to [`WakeBatch::CAPACITY`] of
//!   them, unlocks, wakes them, and locks again for the next batch.
//!
//! # Ground rules
//!
//! 1. Every method of [`WaitList`] and [`Node`] runs while the lock of the primitive that owns the
//!    list is held: the `&mut WaitList` a method takes is the proof, because the list lives in
//!    that lock's data. A node's contents (links, waker, payload) are only reached that way.
//! 2. A node is used with one list for its whole life: once it was passed to
//!    [`push_back`](WaitList::push_back) of a list, every later call that takes the node is given
//!    that same list.
//! 3. A linked node does not move and is not dropped: the future that owns it is pinned, and its
//!    `Drop` locks the primitive and calls [`remove`](WaitList::remove) before the node goes away.
//!
//! Rule 3 is what [`push_back`](WaitList::push_back)'s caller promises; rules 1 and 2 follow from
//! the types plus that promise, so every other method is safe.
//!
//! # Example (what a waiting future does)
//!
//! ```ignore
//! // poll, with `self.node: Node<Payload>` (the waker is cloned and dropped outside the lock,
//! // see `sync::waker`):
//! let ready = lock_registering(&self.primitive.state, cx.waker(), |state, waker| {
//!     if self.node.with(&mut state.waiters, |w| w.payload.done) {
//!         return Ok(true);
//!     }
//!     // Before any change: it may return `NeedsClone`, and the closure runs again.
//!     self.node.with(&mut state.waiters, |w| waker.store(&mut w.waker))?;
//!     if !self.node.is_linked(&state.waiters) {
//!         // SAFETY: `self` is pinned, and its `Drop` removes the node under this lock.
//!         unsafe { state.waiters.push_back(&self.node) };
//!     }
//!     Ok(false)
//! });
//! // Drop:
//! self.primitive.state.lock(|state| state.waiters.remove(&self.node));
//! ```

use core::fmt;
use core::marker::PhantomPinned;
use core::mem::ManuallyDrop;
use core::ptr::NonNull;

use crate::blocking_mutex::{BlockingMutex, RawMutex, Reentrancy};
use crate::loom::UnsafeCell;
use crate::sync::waker::Kept;

/// What a waiting future shares with the primitive: its waker and a per-primitive payload.
///
/// Reached only through [`Node::with`], [`WaitList::with_front`], [`WaitList::pop_front_with`] and
/// [`WaitList::for_each`], under the primitive's lock.
#[derive(Debug)]
pub(crate) struct Waiter<P> {
    /// The waker to call when the waiter's turn comes (taken out, then called after unlocking).
    pub(crate) waker: Option<Kept>,
    /// Whatever the primitive needs to know about this waiter.
    pub(crate) payload: P,
    /// Whether the node is in a list (its links are meaningful). The list's, not the primitive's
    /// (private to this module): it sits here, beside a small payload, so that it shares the
    /// waker's padding instead of taking a word of its own (a node is 20 bytes on 32-bit
    /// targets, not 24). A primitive's closure gets `&mut Waiter` but cannot change the flag:
    /// the field is private, a `Waiter` cannot be built outside this module (so no
    /// `mem::replace`), and two cannot be borrowed at once (each borrow takes the list by
    /// `&mut`), so no `mem::swap` either.
    linked: bool,
}

/// The links and the waiter, all behind one cell.
struct Inner<P> {
    prev: Option<NonNull<Node<P>>>,
    next: Option<NonNull<Node<P>>>,
    waiter: Waiter<P>,
}

/// One waiter's entry, embedded in the (pinned) future that waits.
///
/// See the [module docs](self) for how it is used.
pub(crate) struct Node<P> {
    /// Written through pointers that the list holds, so everything mutable is in the cell.
    inner: UnsafeCell<Inner<P>>,
    _pinned: PhantomPinned,
}

// SAFETY: a node's contents are only reached under the lock of the list it is used with (ground
// rule 1), which hands them from thread to thread like the data of a mutex; they are `Send` when
// `P` is (`Waker` is `Send`).
unsafe impl<P: Send> Send for Node<P> {}
// SAFETY: `&Node` gives no access to the contents without the list's lock (see `Send` above), so
// sharing it is as safe as sharing a `Mutex<P>`.
unsafe impl<P: Send> Sync for Node<P> {}

impl<P> Node<P> {
    crate::loom_const_fn! {
        /// A node that is not in any list, with no waker.
        pub(crate) fn new(payload: P) -> Node<P> {
            Node {
                inner: UnsafeCell::new(Inner {
                    prev: None,
                    next: None,
                    waiter: Waiter {
                        waker: None,
                        payload,
                        linked: false,
                    },
                }),
                _pinned: PhantomPinned,
            }
        }
    }

    /// Runs `f` on this node's waiter; `list` is the list the node is used with (ground rule 2).
    pub(crate) fn with<R>(&self, list: &mut WaitList<P>, f: impl FnOnce(&mut Waiter<P>) -> R) -> R {
        let _ = list;
        // SAFETY: `&mut list` shows the lock that guards this node is held (ground rules 1 and 2),
        // so nobody else reaches the contents while `f` runs.
        self.inner
            .with_mut(|inner| f(unsafe { &mut (*inner).waiter }))
    }

    /// Whether the node is linked into `list` (the list it is used with).
    #[allow(dead_code)] // for primitives that need it (watch, broadcast)
    pub(crate) fn is_linked(&self, list: &WaitList<P>) -> bool {
        let _ = list;
        // SAFETY: the list is borrowed, so its lock is held and nobody writes the node (rule 1).
        self.inner.with(|inner| unsafe { (*inner).waiter.linked })
    }
}

impl<P> Drop for Node<P> {
    fn drop(&mut self) {
        // SAFETY: `&mut self`: if the owner kept ground rule 3 the node is unlinked and nobody
        // else can reach it; the check below catches an owner that did not.
        let linked = self.inner.with(|inner| unsafe { (*inner).waiter.linked });
        debug_assert!(!linked, "a wait-list node was dropped while still linked");
    }
}

impl<P: fmt::Debug> fmt::Debug for Node<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The contents need the lock; show only the type.
        f.debug_struct("Node").finish_non_exhaustive()
    }
}

/// The head of an intrusive FIFO list of [`Node`]s, kept in a primitive's locked state.
///
/// See the [module docs](self).
pub(crate) struct WaitList<P> {
    head: Option<NonNull<Node<P>>>,
    tail: Option<NonNull<Node<P>>>,
}

// SAFETY: the list is only used inside the lock that guards it (ground rule 1); the nodes it
// points at are `Send` when `P` is.
unsafe impl<P: Send> Send for WaitList<P> {}

impl<P> WaitList<P> {
    /// An empty list.
    pub(crate) const fn new() -> WaitList<P> {
        WaitList {
            head: None,
            tail: None,
        }
    }

    /// Whether no node is linked.
    pub(crate) fn is_empty(&self) -> bool {
        self.head.is_none()
    }

    /// Links `node` at the tail (the newest waiter).
    ///
    /// # Safety
    ///
    /// - `node` is not linked (every caller knows it from its own phase, or asks
    ///   [`Node::is_linked`]; checked in debug builds). Linking a linked node again would make
    ///   the list a loop.
    /// - `node` is pinned: it does not move until it is unlinked (it lives in a pinned future).
    /// - `node` stays alive until it is unlinked: its owner's `Drop` locks the primitive and calls
    ///   [`remove`](WaitList::remove) (ground rule 3).
    /// - `node` is used with this list only, for its whole life (ground rule 2).
    pub(crate) unsafe fn push_back(&mut self, node: &Node<P>) {
        let ptr = NonNull::from(node);
        let old_tail = self.tail;
        node.inner.with_mut(|inner| {
            // SAFETY: we hold the lock (rule 1, `&mut self`), so the contents are ours.
            let inner = unsafe { &mut *inner };
            debug_assert!(
                !inner.waiter.linked,
                "a linked wait-list node was pushed again"
            );
            inner.waiter.linked = true;
            inner.prev = old_tail;
            inner.next = None;
        });
        match old_tail {
            // SAFETY: `tail` is a linked node of this list: alive and pinned (rule 3), and ours
            // under the lock (rule 1).
            Some(tail) => unsafe { Self::inner_mut(tail, |inner| inner.next = Some(ptr)) },
            None => self.head = Some(ptr),
        }
        self.tail = Some(ptr);
    }

    /// Unlinks `node` if it is linked; returns whether it was.
    pub(crate) fn remove(&mut self, node: &Node<P>) -> bool {
        let ptr = NonNull::from(node);
        // SAFETY: `node` is borrowed, hence alive; `&mut self` holds the lock (rule 1).
        let links = unsafe {
            Self::inner_mut(ptr, |inner| {
                if !inner.waiter.linked {
                    return None;
                }
                inner.waiter.linked = false;
                Some((inner.prev.take(), inner.next.take()))
            })
        };
        let Some((prev, next)) = links else {
            return false;
        };
        // SAFETY: rule 2 puts `node` in this list, so its neighbours are linked nodes of this
        // list (alive and pinned by rule 3) or it is at an end.
        unsafe { self.unlink_neighbours(prev, next) };
        true
    }

    /// Runs `f` on the oldest waiter, if any, leaving it linked.
    pub(crate) fn with_front<R>(&mut self, f: impl FnOnce(&mut Waiter<P>) -> R) -> Option<R> {
        let head = self.head?;
        // SAFETY: `head` is a linked node (alive and pinned by rule 3); we hold the lock.
        Some(unsafe { Self::inner_mut(head, |inner| f(&mut inner.waiter)) })
    }

    /// Unlinks the oldest waiter, if any, and runs `f` on it (typically: take the waker and mark
    /// the payload, so that the future sees its turn came when it is next polled).
    pub(crate) fn pop_front_with<R>(&mut self, f: impl FnOnce(&mut Waiter<P>) -> R) -> Option<R> {
        let head = self.head?;
        // SAFETY: as in `with_front`; after this the node is unlinked and its owner may drop it,
        // but not before we return, since its owner must take the lock we hold to do so.
        let (next, out) = unsafe {
            Self::inner_mut(head, |inner| {
                inner.waiter.linked = false;
                inner.prev = None;
                (inner.next.take(), f(&mut inner.waiter))
            })
        };
        // SAFETY: `next` is a linked node of this list or none.
        unsafe { self.unlink_neighbours(None, next) };
        Some(out)
    }

    /// Runs `f` on every waiter, oldest first, leaving them linked.
    #[allow(dead_code)] // for primitives that need it (watch, broadcast)
    pub(crate) fn for_each(&mut self, mut f: impl FnMut(&mut Waiter<P>)) {
        let mut cursor = self.head;
        while let Some(node) = cursor {
            // SAFETY: every node reached from `head` is linked (alive and pinned, rule 3).
            cursor = unsafe {
                Self::inner_mut(node, |inner| {
                    f(&mut inner.waiter);
                    inner.next
                })
            };
        }
    }

    /// Makes `prev` and `next` (the former neighbours of an unlinked node) point at each other.
    ///
    /// # Safety
    ///
    /// Each of `prev`, `next` is `None` (the unlinked node was at that end) or a linked node of
    /// this list; the caller holds the lock.
    unsafe fn unlink_neighbours(
        &mut self,
        prev: Option<NonNull<Node<P>>>,
        next: Option<NonNull<Node<P>>>,
    ) {
        match prev {
            // SAFETY: by the caller, a linked node of this list.
            Some(prev) => unsafe { Self::inner_mut(prev, |inner| inner.next = next) },
            None => self.head = next,
        }
        match next {
            // SAFETY: by the caller, a linked node of this list.
            Some(next) => unsafe { Self::inner_mut(next, |inner| inner.prev = prev) },
            None => self.tail = prev,
        }
    }

    /// Runs `f` on the contents of the node at `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` points at a live node used with this list, and the caller holds the list's lock (so
    /// nobody else reaches the contents while `f` runs).
    unsafe fn inner_mut<R>(ptr: NonNull<Node<P>>, f: impl FnOnce(&mut Inner<P>) -> R) -> R {
        // SAFETY: `ptr` is live (by the caller); the cell is the only part we write, through a
        // pointer derived from a shared reference, which `UnsafeCell` permits.
        let node = unsafe { ptr.as_ref() };
        // SAFETY: the caller holds the lock, so this is the only access to the contents.
        node.inner.with_mut(|inner| f(unsafe { &mut *inner }))
    }
}

impl<P> fmt::Debug for WaitList<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitList")
            .field("is_empty", &self.is_empty())
            .finish()
    }
}

/// Up to [`CAPACITY`](WakeBatch::CAPACITY) wakers taken out under a lock, to call after it.
///
/// The wakers are `wakers[..len]`; every entry from `len` on is `None`. So a push replaces a
/// `None` (nothing to drop), and dropping the batch is waking it: the array itself needs no drop
/// of its own (`ManuallyDrop`), which keeps a loop over all sixteen entries out of every caller.
pub(crate) struct WakeBatch {
    wakers: ManuallyDrop<[Option<Kept>; WakeBatch::CAPACITY]>,
    len: usize,
}

impl WakeBatch {
    /// How many wakers one batch holds.
    pub(crate) const CAPACITY: usize = 16;

    /// An empty batch. A constant rather than a function: an array built at run time is built
    /// on the side and then copied (a `memcpy` call); a constant is simply zeroed in place.
    pub(crate) const EMPTY: WakeBatch = WakeBatch {
        wakers: ManuallyDrop::new([const { None }; WakeBatch::CAPACITY]),
        len: 0,
    };

    /// Whether the batch can take no more wakers.
    pub(crate) fn is_full(&self) -> bool {
        // `>=`, not `==` (`len` never exceeds the capacity): then a caller's `!is_full()` tells
        // the compiler that `push` has room, and its overflow panic is not built.
        self.len >= Self::CAPACITY
    }

    /// Adds a waker (`None` is ignored).
    ///
    /// # Panics
    ///
    /// If the batch [is full](WakeBatch::is_full): check before taking a waker out of a waiter.
    pub(crate) fn push(&mut self, waker: Option<Kept>) {
        if let Some(waker) = waker {
            let Some(slot) = self.wakers.get_mut(self.len) else {
                panic!("WakeBatch overflow");
            };
            // The entry at `len` is `None` (see the type's docs): nothing to drop.
            #[cfg_attr(feature = "task-wakers-only", allow(clippy::forget_non_drop))]
            core::mem::forget(slot.replace(waker));
            self.len += 1;
        }
    }

    /// Wakes and empties the batch. Call it with no lock held.
    pub(crate) fn wake_all(&mut self) {
        for slot in &mut self.wakers[..self.len] {
            if let Some(waker) = slot.take() {
                waker.wake();
            }
        }
        self.len = 0;
    }
}

impl Drop for WakeBatch {
    fn drop(&mut self) {
        // A batch dropped by unwinding still wakes its waiters, so none is left hanging. That
        // takes every waker out, which is all the array's own drop would have done.
        self.wake_all();
    }
}

impl fmt::Debug for WakeBatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WakeBatch").field("len", &self.len).finish()
    }
}

/// Wakes many waiters without calling a waker under the lock.
///
/// Calls `fill` with the state locked and an empty [`WakeBatch`]; `fill` moves wakers of waiters
/// whose turn came into the batch, stops when the batch [is full](WakeBatch::is_full), and returns
/// `true` once it has nothing more to do. After each call the lock is released and the batch woken;
/// `fill` is called again (the state may have changed in between) until it returns `true`.
pub(crate) fn wake_in_batches<M: RawMutex, S, U: Reentrancy>(
    mutex: &BlockingMutex<M, S, U>,
    mut fill: impl FnMut(&mut S, &mut WakeBatch) -> bool,
) {
    // Made once, and passed by reference: `wake_all` empties it.
    let mut batch = WakeBatch::EMPTY;
    loop {
        let done = mutex.lock(|state| fill(state, &mut batch));
        batch.wake_all();
        if done {
            // Empty now: its drop would only run `wake_all` again, on nothing. (A panicking
            // `fill` or waker still drops it, and so wakes what it holds.)
            core::mem::forget(batch);
            return;
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use core::pin::pin;

    fn order(list: &mut WaitList<u32>) -> std::vec::Vec<u32> {
        let mut out = std::vec::Vec::new();
        list.for_each(|w| out.push(w.payload));
        out
    }

    #[test]
    fn fifo_push_remove_pop() {
        let mut list = WaitList::new();
        let a = pin!(Node::new(1u32));
        let b = pin!(Node::new(2u32));
        let c = pin!(Node::new(3u32));
        // SAFETY: pinned on this stack frame; every node is unlinked before the frame ends.
        unsafe {
            list.push_back(&a);
            list.push_back(&b);
            list.push_back(&c);
        }
        assert_eq!(order(&mut list), [1, 2, 3]);
        assert!(list.remove(&b));
        assert!(!list.remove(&b));
        assert_eq!(order(&mut list), [1, 3]);
        assert_eq!(list.with_front(|w| w.payload), Some(1));
        assert_eq!(list.pop_front_with(|w| w.payload), Some(1));
        assert!(!a.is_linked(&list));
        assert!(c.is_linked(&list));
        // SAFETY: as above.
        unsafe { list.push_back(&a) };
        assert_eq!(order(&mut list), [3, 1]);
        assert!(list.remove(&a));
        assert_eq!(list.pop_front_with(|w| w.payload), Some(3));
        assert!(list.is_empty());
        assert_eq!(list.pop_front_with(|w| w.payload), None);
        c.with(&mut list, |w| w.payload = 9);
        assert_eq!(c.with(&mut list, |w| w.payload), 9);
    }

    /// A waker whose wake panics, third of five: the panic leaves the rest in the batch, and the
    /// batch's drop wakes them; every waker is consumed (woken or dropped) exactly once.
    // Its panicking waker is a foreign one, which a batch cannot hold with `task-wakers-only`
    // (a batch of pure wakers, whose wakes reach only a task's queue or a root's wake hook).
    #[cfg(not(feature = "task-wakers-only"))]
    #[test]
    fn a_panicking_wake_leaves_the_rest_to_the_drop_and_consumes_each_waker_once() {
        use core::sync::atomic::{AtomicUsize, Ordering::SeqCst};
        use core::task::{RawWaker, RawWakerVTable, Waker};
        use std::panic::{catch_unwind, AssertUnwindSafe};

        static CONSUMED: [AtomicUsize; 5] = [const { AtomicUsize::new(0) }; 5];
        /// A waker's data is its counter in `CONSUMED`.
        fn count(data: *const ()) {
            // SAFETY: every waker of `VTABLE` points at an element of the static `CONSUMED`.
            unsafe { &*data.cast::<AtomicUsize>() }.fetch_add(1, SeqCst);
        }
        static VTABLE: RawWakerVTable = RawWakerVTable::new(
            |data| RawWaker::new(data, &VTABLE),
            |data| {
                count(data);
                assert!(
                    !core::ptr::eq(data, (&raw const CONSUMED[2]).cast()),
                    "this wake panics"
                );
            },
            |_| unreachable!("batches wake by value"),
            count,
        );
        let mut batch = WakeBatch::EMPTY;
        for counter in &CONSUMED {
            let data = core::ptr::from_ref(counter).cast::<()>();
            // SAFETY: the vtable's functions keep the contract: they only count, through a
            // pointer to a static.
            let waker = unsafe { Waker::from_raw(RawWaker::new(data, &VTABLE)) };
            batch.push(Some(waker));
        }
        assert!(catch_unwind(AssertUnwindSafe(|| batch.wake_all())).is_err());
        let woken: std::vec::Vec<usize> = CONSUMED.iter().map(|c| c.load(SeqCst)).collect();
        assert_eq!(woken, [1, 1, 1, 0, 0], "woken up to the panicking one");
        drop(batch);
        let woken: std::vec::Vec<usize> = CONSUMED.iter().map(|c| c.load(SeqCst)).collect();
        assert_eq!(woken, [1, 1, 1, 1, 1], "the drop woke the rest, each once");
    }

    #[test]
    #[should_panic(expected = "WakeBatch overflow")]
    fn a_push_past_the_capacity_panics() {
        let mut batch = WakeBatch::EMPTY;
        for _ in 0..=WakeBatch::CAPACITY {
            batch.push(Some(crate::sync::waker::clone_pure(
                &crate::raw::waker::NOOP,
            )));
        }
    }

    #[test]
    fn wake_batch_caps() {
        let mut batch = WakeBatch::EMPTY;
        for _ in 0..WakeBatch::CAPACITY {
            batch.push(Some(crate::sync::waker::clone_pure(
                &crate::raw::waker::NOOP,
            )));
        }
        batch.push(None);
        assert!(batch.is_full());
        batch.wake_all();
        assert!(!batch.is_full());
    }
}
