//! [`SendFuture`]: a send whose wait-list node is written only when the sender has to wait.
//!
//! *Here be `unsafe`*: the future's pin projection and its lazily initialised [`Node`] live in
//! this file and nowhere else in `mpsc`.
//!
//! A send that finds a free slot (the common case) touches three fields: the channel, the
//! message and the phase; the node stays uninitialised memory. Only a sender that must wait writes
//! its node ([`Phase::Waiting`]) and links it into the channel's list of waiting senders.
//!
//! # Pin invariants
//!
//! - `node` is structurally pinned: it is written in place (while uninitialised), used in place,
//!   and dropped in place; it is never moved out of and never overwritten while initialised.
//! - `node` is written only in phase `Idle` (uninitialised), and is initialised exactly while the
//!   phase is `Waiting`. While it may be linked, the future's `Drop` locks the channel and unlinks
//!   it before the memory goes (wait-list ground rule 3). It is dropped in place only once it is
//!   unlinked, right after the phase left `Waiting`: for `Done` in `unlink`, for `Idle` in a poll
//!   that finds it granted or closed (which then completes, `Idle` → `Done`, under the same lock).
//!   If that drop unwinds, the phase already says the node is gone, so nothing drops it again.
//! - `message` is initialised exactly while `phase != Phase::Done`: every path that completes
//!   the send writes `Done` before it reads the message out, and `Drop` drops it otherwise.
//! - `message`, `channel` and `phase` are not pinned: they are moved and overwritten freely.

use core::fmt;
use core::future::Future;
use core::mem::MaybeUninit;
use core::pin::Pin;
use core::task::{ready, Context, Poll, Waker};

use super::{Channel, Control, SendError, State, Turn};
use crate::blocking_mutex::{CriticalSectionRawMutex, RawMutex};
use crate::sync::wait_list::Node;
use crate::sync::waker::{clone_pure, clone_runs_no_user_code, drop_kept, Kept};

/// The future of [`Sender::send`](super::Sender::send).
///
/// See there for its semantics and cancel safety.
///
/// # Examples
///
/// ```
/// use ebbtide_core::sync::mpsc::{Channel, SendFuture};
///
/// let channel: Channel<u32, 1> = Channel::new();
/// let (tx, _rx) = channel.split();
/// let send: SendFuture<'_, u32, 1> = tx.send(1);
/// ebbtide_core::block_on(send).unwrap();
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct SendFuture<'a, T, const N: usize, M: RawMutex = CriticalSectionRawMutex> {
    channel: &'a Channel<T, N, M>,
    /// The message, until it goes into the queue (or back to the caller): initialised exactly
    /// while `phase != Phase::Done` (see the [module docs](self)).
    message: Message<T>,
    phase: Phase,
    /// Initialised while `phase == Phase::Waiting` (see the [module docs](self)).
    node: MaybeUninit<Node<Turn>>,
}

/// The sender's own view of its life: `Idle` → (`Waiting` →) `Done`. Only the owner reads and
/// writes it; what the receiver tells a waiting sender is the node's [`Turn`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Not polled yet, or (for a moment, under the channel's lock) done waiting and about to
    /// complete; the node is uninitialised.
    Idle,
    /// The node is initialised (and linked, until the receiver or `close` unlinks it).
    Waiting,
    /// Completed (or completing): the message is gone, and the node is (about to be) dropped.
    Done,
}

/// A `MaybeUninit<T>` that is `Sync` when `T` is `Send`: it is only reached through `&mut` (the
/// future's `poll` and `drop`), never through a shared reference, so sharing `&SendFuture` shares
/// no `T`. This keeps `SendFuture`'s auto traits what they were when the message lived in the node.
struct Message<T>(MaybeUninit<T>);

// SAFETY: no method reaches the contents through `&Message` (see the type's docs), so a shared
// reference to it gives no access to `T` from another thread.
unsafe impl<T: Send> Sync for Message<T> {}

impl<'a, T, const N: usize, M: RawMutex> SendFuture<'a, T, N, M> {
    /// A send of `value` on `channel` that has not been polled yet.
    #[inline]
    pub(super) fn new(channel: &'a Channel<T, N, M>, value: T) -> Self {
        SendFuture {
            channel,
            message: Message(MaybeUninit::new(value)),
            phase: Phase::Idle,
            node: MaybeUninit::uninit(),
        }
    }

    /// Every poll, under one lock: a first poll (`Idle`) sends at once if a slot is free and the
    /// channel is open, else links the node and waits; a later one (`Waiting`) sees whether the
    /// receiver granted a slot or `close` sent us away.
    ///
    /// One locked path for both phases, so that the lock, the push and the receiver's wake are
    /// built once per channel type. A waker is cloned under the lock only when it runs no user
    /// code (an ebbtide task's); a foreign one goes round through
    /// [`poll_foreign`](Self::poll_foreign). Without foreign wakers (`task-wakers-only`), a foreign
    /// one waits with a stand-in instead and is woken to poll again (see `sync::waker`).
    #[inline]
    fn poll_locked(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), SendError<T>>> {
        let waker = cx.waker();
        #[cfg(not(feature = "task-wakers-only"))]
        let clone = With(|| clone_runs_no_user_code(waker).then(|| clone_pure(waker)));
        // A foreign waker is kept as the no-op kind and woken after unlocking (see `sync::waker`).
        #[cfg(feature = "task-wakers-only")]
        let (foreign, clone) = (!clone_runs_no_user_code(waker), Pure);
        let polled = self.channel.state.lock(|state| {
            Self::locked(
                state,
                &mut self.phase,
                &mut self.message,
                &mut self.node,
                waker,
                clone,
            )
        });
        #[cfg(not(feature = "task-wakers-only"))]
        let Some((result, other)) = polled
        else {
            return self.poll_foreign(waker);
        };
        // `locked` gives up only when `clone` does, and a stand-in's clone never fails.
        #[cfg(feature = "task-wakers-only")]
        let (result, other) = polled.unwrap_or((Poll::Pending, None));
        #[cfg(feature = "task-wakers-only")]
        if foreign && result.is_pending() {
            waker.wake_by_ref();
        }
        Self::finish(&mut self.phase, result, other)
    }

    /// [`poll_locked`](Self::poll_locked) for a foreign waker, whose clone may run user code: it is
    /// cloned unlocked, and dropped unlocked if the poll did not need it.
    #[cfg(not(feature = "task-wakers-only"))]
    #[cold]
    #[inline(never)]
    fn poll_foreign(&mut self, waker: &Waker) -> Poll<Result<(), SendError<T>>> {
        let mut spare = Some(waker.clone());
        let polled = self.channel.state.lock(|state| {
            Self::locked(
                state,
                &mut self.phase,
                &mut self.message,
                &mut self.node,
                waker,
                With(|| spare.take()),
            )
        });
        drop(spare);
        // `locked` asks for at most one clone, and the spare is there for it.
        let (result, other) = polled.unwrap_or((Poll::Pending, None));
        Self::finish(&mut self.phase, result, other)
    }

    /// The poll under the lock: the result, and another waker to deal with after unlocking (to
    /// wake if the result is ready: the receiver's; to drop if it is pending: the waker ours
    /// replaced). `None`, with nothing changed, when the sender must store its waker and `clone`
    /// cannot clone it here. `phase` is `Idle` or `Waiting`, and `waker` is what the node's waker
    /// is compared with.
    #[inline(always)]
    #[allow(clippy::type_complexity)]
    fn locked(
        state: &mut State<T, N>,
        phase: &mut Phase,
        message: &mut Message<T>,
        node: &mut MaybeUninit<Node<Turn>>,
        waker: &Waker,
        clone: impl CloneWaker,
    ) -> Option<(Poll<Result<(), SendError<T>>>, Option<Kept>)> {
        // SAFETY: `phase` and `node` are the future's, polled through `Pin` (see `poll`), in
        // phase `Idle` or `Waiting` (not `Done`, `poll` checked), on `state`'s channel, locked.
        let step = unsafe { decide(&mut state.ctl, phase, node, N, waker, clone) };
        let refused = match step? {
            Step::Pending(replaced) => return Some((Poll::Pending, replaced)),
            Step::Push => false,
            Step::Refuse => true,
        };
        // SAFETY: the phase is `Idle` or `Waiting` (`poll` checked it is not `Done`; `decide`
        // only moves it to `Idle`), now `Done`: the message is there, and read once.
        let value = unsafe { take(phase, &mut message.0) };
        Some(if refused {
            (Poll::Ready(Err(SendError(value))), None)
        } else {
            (Poll::Ready(Ok(())), push_locked(state, value))
        })
    }

    /// After unlocking: wakes the receiver (ready) or drops the replaced waker (pending).
    ///
    /// A ready send writes its phase, `Done` already, once more after the wake: as far as the
    /// compiler knows, the wake (a call into the executor) may have changed the future, and the
    /// future's `Drop`, which comes right after the `.await` that completed it, would read the
    /// phase afresh and keep the unlink of a waiting send there (over 100 bytes of a task's poll
    /// on a Cortex-M, for a phase that cannot be `Waiting`). Written after the call, it is known.
    #[inline(always)]
    fn finish(
        phase: &mut Phase,
        result: Poll<Result<(), SendError<T>>>,
        other: Option<Kept>,
    ) -> Poll<Result<(), SendError<T>>> {
        if result.is_ready() {
            if let Some(receiver) = other {
                receiver.wake();
            }
            debug_assert_eq!(*phase, Phase::Done);
            *phase = Phase::Done;
        } else {
            drop_kept(other);
        }
        result
    }

    /// The slow half of `drop`: takes the node out of the list of waiting senders.
    #[cold]
    fn unlink(&mut self) {
        // SAFETY: phase `Waiting`: the node is initialised.
        let node = unsafe { self.node.assume_init_ref() };
        // An unsent message stays in the future and is dropped with it, after the lock.
        let next = self
            .channel
            .state
            .lock(|state| unlink_locked(&mut state.ctl, node, N));
        self.phase = Phase::Done;
        // SAFETY: phase was `Waiting`, so the node is initialised; we unlinked it under the
        // channel's lock, so no list points at it. Dropping it in place is what the pin guarantee
        // asks for, and the phase (now `Done`) says it is gone. The message is still there
        // (phase was not `Done`): it is dropped here, once.
        unsafe {
            self.node.assume_init_drop();
            self.message.0.assume_init_drop();
        }
        if let Some(waker) = next {
            waker.wake();
        }
    }
}

/// What a send does under the lock, decided without its message: see [`decide`].
enum Step {
    /// Wait (on); the waker ours replaced, to drop after unlocking.
    Pending(Option<Kept>),
    /// Put the message into the ring (a slot is free, or was granted to us).
    Push,
    /// Give the message back: the channel is closed.
    Refuse,
}

/// How [`decide`] gets a clone of the waker it must store.
trait CloneWaker {
    /// A clone of `waker` (the one `decide` was given), or `None` if it cannot be made under the
    /// lock.
    fn clone_waker(self, waker: &Waker) -> Option<Kept>;
}

/// Without foreign wakers: the waker is always a pure one (a stand-in at worst), copied in place.
/// One type for every channel, so that `decide` has one copy.
#[cfg(feature = "task-wakers-only")]
struct Pure;

#[cfg(feature = "task-wakers-only")]
impl CloneWaker for Pure {
    #[inline(always)]
    fn clone_waker(self, waker: &Waker) -> Option<Kept> {
        Some(clone_pure(waker))
    }
}

/// A closure that clones the waker, or not ([`SendFuture::poll_locked`]'s and
/// [`SendFuture::poll_foreign`]'s).
#[cfg(not(feature = "task-wakers-only"))]
struct With<F>(F);

#[cfg(not(feature = "task-wakers-only"))]
impl<F: FnOnce() -> Option<Kept>> CloneWaker for With<F> {
    #[inline(always)]
    fn clone_waker(self, _: &Waker) -> Option<Kept> {
        (self.0)()
    }
}

/// The decision of a send's poll, under the lock, on everything but the message: not generic
/// over the message type or the capacity (of `capacity` slots, `ctl.cursor` counts the taken). `waker` is the
/// waker to store, which the node's is compared with. `None`, with nothing changed, when the
/// waker must be stored and `clone` cannot clone it here.
///
/// Without foreign wakers (`task-wakers-only`, small targets) it is one function shared by every
/// channel's send (the sensor app of `bench/size` is 232 B smaller); otherwise it is inlined into
/// each, where a foreign waker's slow path differs.
///
/// # Safety
///
/// `phase` and `node` are those of a [`SendFuture`] polled through `Pin` (so `node` is pinned
/// and initialised exactly while `phase` is `Waiting`), in phase `Idle` or `Waiting`, on the
/// channel that `ctl` belongs to, whose lock is held.
#[cfg_attr(feature = "task-wakers-only", inline(never))]
#[cfg_attr(not(feature = "task-wakers-only"), inline(always))]
unsafe fn decide(
    ctl: &mut Control,
    phase: &mut Phase,
    node: &mut MaybeUninit<Node<Turn>>,
    capacity: usize,
    waker: &Waker,
    clone: impl CloneWaker,
) -> Option<Step> {
    if *phase == Phase::Waiting {
        // SAFETY: phase `Waiting`: the node is initialised (by the caller).
        let linked = unsafe { node.assume_init_ref() };
        let (turn, old) = linked.with(&mut ctl.senders_waiting, |w| {
            let mut old = None;
            // Without foreign wakers the kept waker is one word, made once (a stand-in for a
            // foreign one): compared, then stored.
            #[cfg(feature = "task-wakers-only")]
            if w.payload == Turn::Queued {
                let new = clone_pure(waker);
                if w.waker.as_ref() != Some(&new) {
                    old = w.waker.replace(new);
                }
            }
            #[cfg(not(feature = "task-wakers-only"))]
            if w.payload == Turn::Queued
                && !w.waker.as_ref().is_some_and(|old| old.will_wake(waker))
            {
                old = w.waker.replace(clone.clone_waker(waker)?);
            }
            Some((w.payload, old))
        })?;
        let refused = match turn {
            Turn::Queued => return Some(Step::Pending(old)),
            // The slot reserved for us is ours now: the push fills it, unless the channel
            // closed meanwhile.
            Turn::Granted => {
                ctl.reserved -= 1;
                ctl.closed()
            }
            // Unlinked by `close`.
            Turn::Closed => true,
        };
        // The node's part is over: back to `Idle` (the message is still there, and the node is
        // about to be uninitialised), so that even an unwinding drop leaves the future's `Drop`
        // nothing but the message to drop.
        *phase = Phase::Idle;
        // SAFETY: the node was initialised in phase `Waiting` and not dropped since (only this
        // line and `unlink` drop it, each on leaving `Waiting`). `Granted` and `Closed` were set
        // by whoever unlinked it, under this lock, so no list reaches it; and they took its waker
        // to wake it, so the drop runs no waker code under the lock. It is dropped in place,
        // as the pin guarantee asks.
        unsafe { node.assume_init_drop() };
        Some(if refused { Step::Refuse } else { Step::Push })
    } else if ctl.has_free_slot(capacity) {
        // Tested before `closed`, which it covers (see `has_free_slot`): the common send
        // costs one test fewer (x86: 2 instructions per message, callgrind).
        Some(Step::Push)
    } else if ctl.closed() {
        Some(Step::Refuse)
    } else {
        // First the waker (without one we change nothing), then the node.
        let waker = clone.clone_waker(waker)?;
        // SAFETY: by the caller, `node` is the future's, pinned, in phase `Idle`; `ctl` is its
        // channel's, locked; the phase is set to `Waiting` next.
        unsafe { wait(ctl, node, waker) };
        *phase = Phase::Waiting;
        Some(Step::Pending(None))
    }
}

/// The slow half of a send's first poll: writes the node and links it at the tail. Not generic
/// over the message type: one copy for every channel.
///
/// # Safety
///
/// `node` is the uninitialised node of a pinned [`SendFuture`] in phase `Idle`, polled through
/// `Pin` on the channel that `ctl` belongs to (whose lock is held), and the caller sets the
/// future's phase to `Waiting` right after, so that its `Drop` unlinks the node.
#[cold]
unsafe fn wait(ctl: &mut Control, node: &mut MaybeUninit<Node<Turn>>, waker: Kept) {
    // The node is uninitialised (phase `Idle`): writing it in place overwrites nothing.
    let node: &Node<Turn> = node.write(Node::new(Turn::Queued));
    node.with(&mut ctl.senders_waiting, |w| w.waker = Some(waker));
    // SAFETY: by the caller, the node lives in a pinned future and stays where it is (pin
    // invariants in the module docs), and its phase becomes `Waiting`, so `Drop` removes the
    // node under this lock before it goes; it is used with this channel's list only, and it is
    // not linked (it was written just now).
    unsafe { ctl.senders_waiting.push_back(node) };
}

/// The slow half of a waiting send's drop, under the lock: takes the node out of the list of
/// waiting senders, and passes a slot granted to it on to the next waiting sender (whose waker
/// it returns), of `capacity` slots. Not generic over the message type.
#[cold]
fn unlink_locked(ctl: &mut Control, node: &Node<Turn>, capacity: usize) -> Option<Kept> {
    ctl.senders_waiting.remove(node);
    if node.with(&mut ctl.senders_waiting, |w| w.payload) == Turn::Granted {
        // The slot promised to us goes to the next waiting sender.
        ctl.reserved -= 1;
        ctl.grant_free_slot(capacity)
    } else {
        None
    }
}

/// Marks the send `Done` and moves the message out.
///
/// # Safety
///
/// `*phase` is not `Done` (so `message` is initialised, by the module's invariant).
#[inline]
unsafe fn take<T>(phase: &mut Phase, message: &mut MaybeUninit<T>) -> T {
    debug_assert_ne!(*phase, Phase::Done);
    // First the phase, so that no path (not even an unwinding one) can drop the message again.
    *phase = Phase::Done;
    // SAFETY: by the caller the message is initialised; the phase now says it is gone.
    unsafe { message.assume_init_read() }
}

/// Puts `value` into a free (or reserved) slot; returns the receiver's waker.
#[inline]
fn push_locked<T, const N: usize>(state: &mut State<T, N>, value: T) -> Option<Kept> {
    if state.push_back(value).is_err() {
        unreachable!("a slot is free or reserved for this sender");
    }
    // Only a waiting receiver's slot is written: a send to a receiver that is not waiting (the
    // common case in a busy channel) stores nothing.
    if state.ctl.receiver.is_some() {
        state.ctl.receiver.take()
    } else {
        None
    }
}

impl<T, const N: usize, M: RawMutex> Future for SendFuture<'_, T, N, M> {
    type Output = Result<(), SendError<T>>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: the pin projection of the module docs: `node` is only written, used and dropped
        // in place by the methods below; nothing moves out of it.
        let this = unsafe { self.get_unchecked_mut() };
        // The budget is checked after the phase is read: its store to the task's counter may (as
        // far as the compiler knows) alias the future, and would otherwise force a reload of the
        // phase that the caller has just written.
        if this.phase == Phase::Done {
            ready!(crate::task::poll_budget(cx));
            panic!("`SendFuture` polled after it completed")
        }
        ready!(crate::task::poll_budget(cx));
        this.poll_locked(cx)
    }
}

impl<T, const N: usize, M: RawMutex> Drop for SendFuture<'_, T, N, M> {
    #[inline]
    fn drop(&mut self) {
        match self.phase {
            // Completed (the common case): nothing left to drop, no lock to take.
            Phase::Done => {}
            // Never waited: the node was never written and no other party knows the future.
            // SAFETY: phase `Idle`: the message is initialised; it is dropped once, with us.
            Phase::Idle => unsafe { self.message.0.assume_init_drop() },
            // Linked (or unlinked but not yet seen by `poll`): unlink under the lock.
            Phase::Waiting => self.unlink(),
        }
    }
}

impl<T, const N: usize, M: RawMutex> fmt::Debug for SendFuture<'_, T, N, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendFuture").finish_non_exhaustive()
    }
}
