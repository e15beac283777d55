//! The reactor: which tasks wait for which file descriptor, and the one `poll_oneoff` call that
//! waits for all of them and for the next timer.
//!
//! # How a wait is built
//!
//! Every IO object (stdin, a listener, a stream) holds a [`Registration`]: a slot in a table
//! whose size is fixed when the runtime is built ([`Builder::io_capacity`]). A slot keeps, per
//! direction (read, write), the waker of the task that found the fd not ready, and a *ready*
//! flag. Before the runtime sleeps, [`Reactor::turn`] writes one fd subscription per waiting
//! direction, plus one relative `CLOCKID_MONOTONIC` subscription for the next timer, into a
//! buffer reserved at build time (nothing is allocated per wait), and calls `poll_oneoff` once.
//!
//! Every event that comes back is matched to its slot by its `userdata`, which encodes the slot
//! index, the slot's generation (so an event for a slot that was freed and reused meanwhile is
//! ignored) and the direction. The slot's direction is marked ready and its waker woken. An event
//! whose `error` is non-zero is treated the same way: the IO call that follows reports the error.
//!
//! `poll_oneoff` is level-triggered: each call looks at the fds' current state, so a waker
//! registered after a `WouldBlock` is never lost.
//!
//! A reactor outlives its runtime: a dropped runtime's reactor waits in the runtime's bin for
//! the next runtime (see `runtime`). Its *epoch* tells the runtimes apart: a [`Registration`]
//! made under an earlier epoch fails (its slot stays its own until it drops, so it never touches
//! another IO object's).
//!
//! [`Builder::io_capacity`]: crate::Builder::io_capacity

use std::fmt;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use crate::error::Error;
use crate::sys;

/// `userdata` of the clock subscription (no slot encodes to it: slot indices are below 2^31).
const CLOCK_USERDATA: u64 = u64::MAX;

/// A direction of readiness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    Read = 0,
    Write = 1,
}

#[derive(Default)]
struct Waiter {
    waker: Option<Waker>,
    ready: bool,
}

struct Slot {
    fd: sys::Fd,
    generation: u32,
    in_use: bool,
    /// A socket: the reason for a BADF from a host that cannot poll sockets.
    socket: bool,
    /// Always ready, never subscribed: a regular file, or an fd the host refused to poll (see
    /// [`Reactor::turn`]). Its IO calls return at once, with data, end of input or an error.
    always_ready: bool,
    waiters: [Waiter; 2],
}

struct Inner {
    slots: Vec<Slot>,
    /// Indices of free slots (capacity reserved at build).
    free: Vec<u32>,
    /// The subscriptions of the next wait (capacity reserved at build: 2 per slot + 1 clock).
    subscriptions: Vec<sys::Subscription>,
    /// How many `poll_oneoff` calls were made.
    waits: u64,
    /// Where the host writes events (as long as `subscriptions` can be).
    events: Vec<sys::Event>,
}

/// The fd table and wait buffers of one runtime.
///
/// WASI preview 1 has one thread, so the lock is never contended; it makes the reactor `Sync`
/// (as the host shell asks of a driver's shared part) for the host-stub builds, where tests run
/// on many threads. No user code runs under it: wakers are cloned before it is taken, and woken
/// or dropped after it is released.
pub(crate) struct Reactor {
    inner: Mutex<Inner>,
    /// Which runtime owns the reactor: moves on when a runtime drops (see [`close`]).
    ///
    /// [`close`]: Reactor::close
    epoch: AtomicU64,
}

fn encode(index: u32, generation: u32, direction: Direction) -> u64 {
    (u64::from(generation) << 32) | (u64::from(index) << 1) | direction as u64
}

fn decode(userdata: u64) -> (u32, u32, Direction) {
    let direction = if userdata & 1 == 0 {
        Direction::Read
    } else {
        Direction::Write
    };
    ((userdata as u32) >> 1, (userdata >> 32) as u32, direction)
}

impl Reactor {
    /// A reactor for up to `capacity` registered fds (at most 2^31 - 1).
    pub(crate) fn new(capacity: usize) -> Reactor {
        let capacity = capacity.clamp(1, (u32::MAX >> 1) as usize);
        let slots = (0..capacity)
            .map(|_| Slot {
                fd: 0,
                generation: 0,
                in_use: false,
                socket: false,
                always_ready: false,
                waiters: Default::default(),
            })
            .collect();
        let max_subscriptions = 2 * capacity + 1;
        Reactor {
            inner: Mutex::new(Inner {
                slots,
                free: (0..capacity as u32).rev().collect(),
                subscriptions: Vec::with_capacity(max_subscriptions),
                waits: 0,
                events: vec![sys::empty_event(); max_subscriptions],
            }),
            epoch: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The runtime is dropping (after it cancelled its tasks): registrations made so far fail
    /// from now on, and their waiters are forgotten, so that the next runtime does not wait for
    /// them (their slots stay taken until the IO objects drop).
    pub(crate) fn close(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        let mut wakers = Vec::new();
        {
            let mut inner = self.lock();
            for slot in inner.slots.iter_mut().filter(|slot| slot.in_use) {
                for waiter in &mut slot.waiters {
                    wakers.extend(waiter.waker.take());
                    waiter.ready = false;
                }
            }
        }
        // Dropped outside the lock: dropping a waker may run arbitrary code.
        drop(wakers);
    }

    /// Registers `fd`; `socket` says whether it is a socket (for the error of hosts that cannot
    /// poll them), `always_ready` that it is never waited for (a regular file: its reads never
    /// block, and some hosts refuse to poll it).
    pub(crate) fn register(
        &'static self,
        fd: sys::Fd,
        socket: bool,
        always_ready: bool,
    ) -> io::Result<Registration> {
        let mut inner = self.lock();
        let capacity = inner.slots.len();
        let Some(index) = inner.free.pop() else {
            return Err(io::Error::other(format!(
                "the runtime's IO table is full ({capacity} fds): raise Builder::io_capacity"
            )));
        };
        let slot = &mut inner.slots[index as usize];
        slot.fd = fd;
        slot.in_use = true;
        slot.socket = socket;
        slot.always_ready = always_ready;
        Ok(Registration {
            reactor: self,
            index,
            generation: slot.generation,
            epoch: self.epoch.load(Ordering::Acquire),
        })
    }

    /// How many fds are registered.
    pub(crate) fn len(&self) -> usize {
        let inner = self.lock();
        inner.slots.len() - inner.free.len()
    }

    /// How many `poll_oneoff` calls the reactor made.
    pub(crate) fn waits(&self) -> u64 {
        self.lock().waits
    }

    /// How many fds can be registered.
    pub(crate) fn capacity(&self) -> usize {
        self.lock().slots.len()
    }

    /// Waits in `poll_oneoff` for the registered fds that a task waits on, and for `timeout_ns`
    /// (`None`: no timer; `Some(0)`: only look), then wakes the tasks whose fds are ready.
    /// Returns whether any fd was ready (`false`: only the timer ended the wait).
    ///
    /// A host may refuse to poll an fd that is not a pipe, socket or terminal: Node's answers
    /// `PERM` for `/dev/null` or a file on stdin. When a wait fails and fds other than sockets
    /// were subscribed, those fds are made always ready (their IO calls do not block: they
    /// return data, end of input, or the host's error, to the task that reads) and their tasks
    /// woken, and the wait counts as done.
    ///
    /// # Errors
    ///
    /// [`Error::Deadlock`] when there is nothing to wait for (no timer and no task waiting on an
    /// fd); [`Error::HostCannotPollSockets`] when the host refuses a socket subscription;
    /// [`Error::Wait`] for any other failure of `poll_oneoff` with only sockets and the timer.
    pub(crate) fn turn(&self, timeout_ns: Option<u64>) -> Result<bool, Error> {
        let mut inner = self.lock();
        let Inner {
            slots,
            subscriptions,
            ..
        } = &mut *inner;
        subscriptions.clear();
        let mut sockets = false;
        for (index, slot) in slots
            .iter()
            .enumerate()
            .filter(|(_, slot)| slot.in_use && !slot.always_ready)
        {
            for direction in [Direction::Read, Direction::Write] {
                let waiter = &slot.waiters[direction as usize];
                if waiter.waker.is_some() && !waiter.ready {
                    let userdata = encode(index as u32, slot.generation, direction);
                    subscriptions.push(sys::fd_subscription(
                        userdata,
                        slot.fd,
                        direction == Direction::Write,
                    ));
                    sockets |= slot.socket;
                }
            }
        }
        if let Some(timeout_ns) = timeout_ns {
            subscriptions.push(sys::clock_subscription(CLOCK_USERDATA, timeout_ns));
        }
        if subscriptions.is_empty() {
            // poll_oneoff with no subscription is INVAL; nothing could ever wake us.
            return Err(Error::Deadlock);
        }
        inner.waits += 1;
        let Inner {
            slots,
            subscriptions,
            events,
            ..
        } = &mut *inner;
        let n = match sys::poll(subscriptions, events) {
            Ok(n) => n,
            Err(e) if sockets && e.raw_os_error() == Some(sys::ERRNO_BADF) => {
                return Err(Error::HostCannotPollSockets(e));
            }
            Err(e) => {
                // Events for the fds the host would not poll: each is always ready from now on.
                let mut refused = 0;
                for subscription in subscriptions.iter() {
                    let userdata = sys::subscription_userdata(subscription);
                    if userdata == CLOCK_USERDATA {
                        continue;
                    }
                    let (index, _, _) = decode(userdata);
                    let slot = &mut slots[index as usize];
                    if !slot.socket {
                        slot.always_ready = true;
                        events[refused] = sys::event_for(userdata);
                        refused += 1;
                    }
                }
                if refused == 0 {
                    return Err(Error::Wait(e));
                }
                refused
            }
        };
        // Mark first, wake after the lock is released (a waker may be foreign and do anything).
        let mut ready = 0;
        for i in 0..n {
            // An event with a non-zero `error` is "ready" too: the IO call reports the error.
            let userdata = sys::event_userdata(&events[i]);
            if userdata == CLOCK_USERDATA {
                continue;
            }
            let (index, generation, direction) = decode(userdata);
            if let Some(slot) = slots.get_mut(index as usize) {
                if slot.in_use && slot.generation == generation {
                    // (An always-ready slot's waiter is ready already; marking it is harmless.)
                    slot.waiters[direction as usize].ready = true;
                    // Keep the event (its userdata) for the wake pass below.
                    events[ready] = events[i];
                    ready += 1;
                }
            }
        }
        drop(inner);
        let fd_ready = ready > 0;
        for i in 0..ready {
            let waker = {
                let mut inner = self.lock();
                let (index, _, direction) = decode(sys::event_userdata(&inner.events[i]));
                inner.slots[index as usize].waiters[direction as usize]
                    .waker
                    .take()
            };
            if let Some(waker) = waker {
                waker.wake();
            }
        }
        Ok(fd_ready)
    }

    /// Whether a task waits for an fd (so a wait without a timer is not a deadlock).
    pub(crate) fn has_waiters(&self) -> bool {
        self.lock().slots.iter().any(|slot| {
            slot.in_use
                && !slot.always_ready
                && slot
                    .waiters
                    .iter()
                    .any(|waiter| waiter.waker.is_some() && !waiter.ready)
        })
    }
}

impl fmt::Debug for Reactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reactor")
            .field("registered", &self.len())
            .field("capacity", &self.capacity())
            .finish()
    }
}

/// An fd's place in the reactor; frees it on drop (the fd itself is closed by its owner).
pub(crate) struct Registration {
    reactor: &'static Reactor,
    index: u32,
    generation: u32,
    /// The reactor's epoch when this was registered.
    epoch: u64,
}

impl Registration {
    /// The registered fd.
    pub(crate) fn fd(&self) -> sys::Fd {
        self.reactor.lock().slots[self.index as usize].fd
    }

    /// Runs `f` under the reactor's lock with the waiter of `direction`, or `None` for an fd that
    /// is never waited for (see `Slot::always_ready`).
    fn with_waiter<R>(&self, direction: Direction, f: impl FnOnce(Option<&mut Waiter>) -> R) -> R {
        let mut inner = self.reactor.lock();
        let slot = &mut inner.slots[self.index as usize];
        debug_assert_eq!(slot.generation, self.generation);
        if slot.always_ready {
            f(None)
        } else {
            f(Some(&mut slot.waiters[direction as usize]))
        }
    }

    /// Fails if the runtime this was registered with is gone.
    fn check_live(&self) -> io::Result<()> {
        if self.reactor.epoch.load(Ordering::Acquire) == self.epoch {
            Ok(())
        } else {
            Err(io::Error::other(
                "the ebbtide runtime this IO object was registered with has shut down: create IO \
                 objects again in the new runtime",
            ))
        }
    }

    /// `Ready` once the reactor saw `direction` ready since the last call (consuming the
    /// readiness); otherwise registers `cx`'s waker for the next wait and returns `Pending`.
    /// An error once the runtime the fd was registered with has been dropped.
    ///
    /// For fds whose IO call must not be tried before readiness (stdin: `fd_read` blocks).
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
    ) -> Poll<io::Result<()>> {
        if let Err(e) = self.check_live() {
            return Poll::Ready(Err(e));
        }
        let waker = cx.waker().clone();
        let (poll, replaced) = self.with_waiter(direction, |waiter| match waiter {
            // Never waited for: always ready.
            None => (Poll::Ready(Ok(())), Some(waker)),
            Some(waiter) if waiter.ready => {
                waiter.ready = false;
                (Poll::Ready(Ok(())), Some(waker))
            }
            Some(waiter) => (Poll::Pending, waiter.waker.replace(waker)),
        });
        // Dropped outside the lock: dropping a waker may run arbitrary code.
        drop(replaced);
        poll
    }

    /// After an IO call answered `WouldBlock`: forgets any readiness and registers `cx`'s waker
    /// for the next wait. Returns `Pending` for the caller to return, or an error once the
    /// runtime the fd was registered with has been dropped.
    pub(crate) fn wait<T>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
    ) -> Poll<io::Result<T>> {
        if let Err(e) = self.check_live() {
            return Poll::Ready(Err(e));
        }
        let waker = cx.waker().clone();
        let (retry, replaced) = self.with_waiter(direction, |waiter| match waiter {
            // Never waited for: try again at once (no such fd should answer `WouldBlock`).
            None => (true, Some(waker)),
            Some(waiter) => {
                waiter.ready = false;
                (false, waiter.waker.replace(waker))
            }
        });
        // Woken and dropped outside the lock: a waker may run arbitrary code.
        if retry {
            cx.waker().wake_by_ref();
        }
        drop(replaced);
        Poll::Pending
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let wakers = {
            let mut inner = self.reactor.lock();
            let slot = &mut inner.slots[self.index as usize];
            slot.in_use = false;
            slot.generation = slot.generation.wrapping_add(1);
            let wakers = [slot.waiters[0].waker.take(), slot.waiters[1].waker.take()];
            slot.waiters = Default::default();
            inner.free.push(self.index);
            wakers
        };
        // Dropped outside the lock: dropping a waker may run arbitrary code.
        drop(wakers);
    }
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration")
            .field("index", &self.index)
            .field("generation", &self.generation)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userdata_round_trips() {
        for (index, generation, direction) in [
            (0, 0, Direction::Read),
            (5, 7, Direction::Write),
            ((u32::MAX >> 1) - 1, u32::MAX, Direction::Read),
        ] {
            let userdata = encode(index, generation, direction);
            assert_ne!(userdata, CLOCK_USERDATA);
            assert_eq!(decode(userdata), (index, generation, direction));
        }
    }
}
