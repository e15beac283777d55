//! The reactor: one OS poller (epoll, kqueue or poll, through mio) per runtime, the table of
//! registered resources, and the wait.
//!
//! What a program sees of it: [`Direction`], which way a task waits for a resource, and
//! [`ReadyEvent`], what it found (as [`AsyncFd::async_io`](crate::io::AsyncFd::async_io) and the
//! readiness guards use them). The rest belongs to the runtime.
//!
//! The runtime's thread owns the `Poller` (mio's poll and its event buffer) and is the only one
//! that waits in it. Everything else (the `Reactor`: the registry, the waker, the resource table) is
//! reachable from any thread: IO types register and deregister through it, and a wake from
//! another thread interrupts the wait through mio's `Waker`.
//!
//! A reactor outlives its runtime: when the runtime drops, its reactor (the poller, the registry
//! and the waker with their file descriptors, and the resource table) waits in the runtime's bin
//! for the next runtime (see `ebbtide_host::runtime`). Its *generation* tells the runtimes apart: a
//! `Registration` remembers the generation it was made in, and fails every operation once the
//! runtime that made it is gone.

mod registration;
mod scheduled_io;
mod slab;

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

pub(crate) use registration::Registration;
pub use scheduled_io::{Direction, ReadyEvent};

use crate::sys::Alarm;
use slab::Slab;

/// The token of the runtime's `mio::Waker`.
const WAKER_TOKEN: mio::Token = mio::Token(usize::MAX);
/// The token of the timer alarm (a timerfd on Linux).
pub(crate) const ALARM_TOKEN: mio::Token = mio::Token(usize::MAX - 1);

/// The part of the reactor every thread may use.
pub(crate) struct Reactor {
    registry: mio::Registry,
    waker: mio::Waker,
    slab: Slab,
    /// How many times the driver returned from its wait (for the idle test and metrics).
    turns: AtomicU64,
    /// How many times another thread ended (or pre-empted) the driver's wait: `wake` calls.
    remote_wakes: AtomicU64,
    /// Which runtime owns the reactor: even while one runs, odd (closed) from the moment it
    /// starts to drop until the next runtime reuses the reactor. Only ever grows.
    generation: AtomicU64,
    /// Whether the runtime's thread is in (or about to enter) a blocking wait in the poller: a
    /// hint for the other workers (see [`Reactor::help`]), never needed for correctness.
    waiting: AtomicBool,
}

impl Reactor {
    /// Interrupts the driver's wait (from any thread).
    pub(crate) fn wake(&self) {
        self.remote_wakes.fetch_add(1, Ordering::Relaxed);
        // An error here means the waker's fd is gone: the runtime is shutting down.
        let _ = self.waker.wake();
    }

    /// Another worker's help while this reactor's thread is busy (running tasks, or descheduled
    /// by the OS in the middle of its work): takes the events that wait in this poller, without
    /// waiting, and dispatches them from the calling thread. A resource's event wakes its tasks,
    /// which go to this runtime's queue, for the helper to steal; an event of the waker or of
    /// the timer alarm is passed back with a [`wake`](Reactor::wake), so that this runtime's
    /// thread still sees that it has something to do. Returns how many resource events it
    /// dispatched: 0 when this thread is waiting in the poller (it gets its events itself), or
    /// on systems where only the owner can poll (kqueue, poll(2)).
    ///
    /// Both threads may take events from the poller at once: each edge-triggered event goes to
    /// one of them, and a resource's readiness is an atomic word that either may set.
    #[cfg(all(target_os = "linux", not(mio_unsupported_force_poll_poll), not(miri)))]
    pub(crate) fn help(&self) -> usize {
        use std::os::fd::AsRawFd;

        const EVENTS: usize = 64;
        if self.waiting.load(Ordering::Relaxed) {
            return 0;
        }
        let mut events = [libc::epoll_event { events: 0, u64: 0 }; EVENTS];
        // SAFETY: the registry's fd is this reactor's epoll instance (mio's `Registry` clone
        // holds a duplicate), open while the reactor lives (forever: it is leaked); `events` is
        // a live buffer of `EVENTS` entries; a zero timeout never blocks.
        let n = unsafe {
            libc::epoll_wait(
                self.registry.as_raw_fd(),
                events.as_mut_ptr(),
                EVENTS as libc::c_int,
                0,
            )
        };
        let Ok(n) = usize::try_from(n) else {
            return 0; // EINTR, or the fd is gone with a shutdown: the owner sees for itself
        };
        let mut dispatched = 0;
        let mut pass_back = false;
        for event in &events[..n] {
            // Copied out: the struct is packed on x86_64.
            let (flags, token) = (event.events, event.u64);
            match mio::Token(token as usize) {
                WAKER_TOKEN | ALARM_TOKEN => pass_back = true,
                token => {
                    if let Some(io) = self.slab.get(token) {
                        io.set_readiness_epoll(flags);
                        dispatched += 1;
                    }
                }
            }
        }
        if pass_back {
            self.wake();
        }
        dispatched
    }

    /// See the Linux `help`: elsewhere only the owner takes its events.
    #[cfg(not(all(target_os = "linux", not(mio_unsupported_force_poll_poll), not(miri))))]
    pub(crate) fn help(&self) -> usize {
        0
    }

    /// Whether the runtime's thread waits in its poller (see [`help`](Reactor::help)).
    pub(crate) fn is_waiting(&self) -> bool {
        self.waiting.load(Ordering::Relaxed)
    }

    pub(crate) fn turns(&self) -> u64 {
        self.turns.load(Ordering::Relaxed)
    }

    pub(crate) fn remote_wakes(&self) -> u64 {
        self.remote_wakes.load(Ordering::Relaxed)
    }

    pub(crate) fn io_in_use(&self) -> usize {
        self.slab.len()
    }

    pub(crate) fn io_capacity(&self) -> usize {
        self.slab.capacity()
    }

    /// The current generation (see `generation`).
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Whether the runtime of `generation` is the one that owns the reactor now, and runs.
    pub(crate) fn is_live(&self, generation: u64) -> bool {
        generation & 1 == 0 && self.generation() == generation
    }

    /// The runtime is dropping: from now on its registrations fail, and no new one is made.
    pub(crate) fn close(&self) {
        let previous = self.generation.fetch_add(1, Ordering::AcqRel);
        debug_assert!(previous & 1 == 0, "a reactor was closed twice");
    }

    /// A new runtime takes the reactor over (after [`close`](Reactor::close)).
    pub(crate) fn reopen(&self) {
        self.turns.store(0, Ordering::Relaxed);
        self.remote_wakes.store(0, Ordering::Relaxed);
        let previous = self.generation.fetch_add(1, Ordering::AcqRel);
        debug_assert!(previous & 1 == 1, "a reactor was reopened while open");
    }
}

/// The error of an operation on an IO resource whose runtime was dropped.
pub(crate) fn shut_down_error() -> io::Error {
    io::Error::other(
        "the ebbtide runtime this IO resource was registered with has shut down: create IO \
         objects again in the new runtime",
    )
}

/// The part of the reactor only the runtime's thread uses: the poll and its events.
pub(crate) struct Poller {
    poll: mio::Poll,
    events: mio::Events,
    alarm: Alarm,
    shared: &'static Reactor,
}

impl Poller {
    /// A reactor with room for `events` events per wait and `io_capacity` resources. Leaks the
    /// shared part: IO types and wakers may outlive the runtime and must find it still there.
    pub(crate) fn new(events: usize, io_capacity: usize) -> io::Result<Poller> {
        let poll = mio::Poll::new()?;
        let registry = poll.registry().try_clone()?;
        let waker = mio::Waker::new(poll.registry(), WAKER_TOKEN)?;
        let alarm = Alarm::new(poll.registry())?;
        let shared = Box::leak(Box::new(Reactor {
            registry,
            waker,
            slab: Slab::new(io_capacity),
            turns: AtomicU64::new(0),
            remote_wakes: AtomicU64::new(0),
            generation: AtomicU64::new(0),
            waiting: AtomicBool::new(false),
        }));
        Ok(Poller {
            poll,
            events: mio::Events::with_capacity(events.max(1)),
            alarm,
            shared,
        })
    }

    pub(crate) fn shared(&self) -> &'static Reactor {
        self.shared
    }

    /// Room for `events` events per wait (for a reused driver; the buffer is not leaked).
    pub(crate) fn set_event_capacity(&mut self, events: usize) {
        let events = events.max(1);
        if self.events.capacity() != events {
            self.events = mio::Events::with_capacity(events);
        }
    }

    /// Waits for IO, a wake, or the timer deadline `deadline` (in clock ticks; `None` for no
    /// timer), then dispatches what happened. Returns after one wait.
    pub(crate) fn turn(&mut self, deadline: Option<u64>, block: bool) -> io::Result<()> {
        let timeout = if block {
            self.alarm.arm(deadline)
        } else {
            Some(Duration::ZERO)
        };
        if block {
            self.shared.waiting.store(true, Ordering::Relaxed);
        }
        let polled = self.poll.poll(&mut self.events, timeout);
        if block {
            self.shared.waiting.store(false, Ordering::Relaxed);
        }
        match polled {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
        self.shared.turns.fetch_add(1, Ordering::Relaxed);
        for event in self.events.iter() {
            match event.token() {
                WAKER_TOKEN => {}
                ALARM_TOKEN => self.alarm.fired(),
                token => {
                    if let Some(io) = self.shared.slab.get(token) {
                        io.set_readiness(event);
                    }
                }
            }
        }
        Ok(())
    }
}
