//! A resource registered with the reactor, and the loop every IO operation goes through.

use std::io;
use std::task::{Context, Poll};

use mio::event::Source;

use super::scheduled_io::{Direction, ReadyEvent, ScheduledIo};
use super::slab::SlotId;
use super::Reactor;
use crate::io::Interest;

/// A file descriptor (any mio `Source`) registered with the current runtime's reactor.
///
/// This is the building block of every IO type in this crate and of [`AsyncFd`](crate::io::AsyncFd):
/// it tells a task when to try an operation and parks it when the operation would block.
/// Readiness is edge-triggered: after an operation says `WouldBlock`, the task waits until the OS
/// reports the resource ready again.
///
/// Dropping a `Registration` gives its slot back; the owner deregisters the source first (see
/// [`deregister`](Registration::deregister)) or closes it, which removes it from the OS's set.
///
/// A registration belongs to the runtime it was made in. Once that runtime is dropped, waiting
/// for readiness and [`reregister`](Registration::reregister) fail with `ErrorKind::Other`
/// (the reactor may serve a new runtime by then; the registration keeps its own slot of the
/// resource table until it drops, so it never touches another resource's).
pub(crate) struct Registration {
    shared: &'static Reactor,
    id: SlotId,
    /// The reactor's generation when the registration was made (see `Reactor`).
    generation: u64,
}

impl Registration {
    /// Registers `source` with the current thread's runtime, for `interest`.
    ///
    /// Fails with `ErrorKind::Other` outside a runtime, and when the runtime's table of IO
    /// resources is full (raise [`Builder::io_capacity`](crate::Builder::io_capacity)); with the
    /// OS's error when it refuses the registration.
    pub(crate) fn new<S: Source + ?Sized>(
        source: &mut S,
        interest: Interest,
    ) -> io::Result<Registration> {
        let shared = crate::context::reactor()?;
        Self::with_reactor(shared, source, interest)
    }

    pub(crate) fn with_reactor<S: Source + ?Sized>(
        shared: &'static Reactor,
        source: &mut S,
        interest: Interest,
    ) -> io::Result<Registration> {
        let generation = shared.generation();
        if generation & 1 != 0 {
            // The runtime is dropping (a task's destructor made an IO object).
            return Err(super::shut_down_error());
        }
        let Some(id) = shared.slab.allocate() else {
            return Err(io::Error::other(format!(
                "the runtime's table of IO resources is full ({} in use): close some, or raise \
                 Builder::io_capacity",
                shared.slab.capacity()
            )));
        };
        if let Err(e) = shared
            .registry
            .register(source, id.token(), interest.to_mio())
        {
            shared.slab.release(id);
            return Err(e);
        }
        Ok(Registration {
            shared,
            id,
            generation,
        })
    }

    /// Fails if the runtime this was registered with is gone.
    fn check_live(&self) -> io::Result<()> {
        if self.shared.is_live(self.generation) {
            Ok(())
        } else {
            Err(super::shut_down_error())
        }
    }

    fn scheduled(&self) -> &ScheduledIo {
        self.shared.slab.slot(self.id)
    }

    /// Ready to try an operation in `direction`, or `Pending` until the reactor says so.
    ///
    /// Takes one unit of the task's cooperative budget.
    ///
    /// # Errors
    ///
    /// `ErrorKind::Other` once the runtime the resource was registered with has been dropped.
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
    ) -> Poll<io::Result<ReadyEvent>> {
        if ebbtide_core::task::poll_budget(cx).is_pending() {
            return Poll::Pending;
        }
        if let Err(e) = self.check_live() {
            return Poll::Ready(Err(e));
        }
        // A runtime that drops right after the check cannot hurt: the slot stays ours until we
        // drop, whichever runtime the reactor serves; the next call fails.
        self.scheduled().poll_ready(cx, direction).map(Ok)
    }

    /// Forgets the readiness `event` reported, after an operation said `WouldBlock`.
    pub(crate) fn clear_readiness(&self, event: ReadyEvent) {
        self.scheduled().clear_readiness(event)
    }

    /// Runs `op` when the resource is ready in `direction`, until it does not say `WouldBlock`.
    ///
    /// This is the loop behind every read, write, accept and send in this crate.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        mut op: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            let event = match self.poll_ready(cx, direction) {
                Poll::Ready(Ok(event)) => event,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            };
            match op() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.clear_readiness(event),
                result => return Poll::Ready(result),
            }
        }
    }

    /// Changes the interest of the registered `source`.
    ///
    /// # Errors
    ///
    /// The OS's error; `ErrorKind::Other` once the runtime the resource was registered with has
    /// been dropped.
    #[allow(
        dead_code,
        reason = "only the re-arm of mio's poll(2) backend calls it (`sys::rearm`)"
    )]
    pub(crate) fn reregister<S: Source + ?Sized>(
        &self,
        source: &mut S,
        interest: Interest,
    ) -> io::Result<()> {
        self.check_live()?;
        self.shared
            .registry
            .reregister(source, self.id.token(), interest.to_mio())
    }

    /// Removes `source` from the reactor; call it before closing the source.
    ///
    /// Works after the runtime was dropped too: the source is still in the (reused) poller's
    /// set until it is removed or closed, and removing our own source touches nobody else's.
    pub(crate) fn deregister<S: Source + ?Sized>(&self, source: &mut S) -> io::Result<()> {
        let result = self.shared.registry.deregister(source);
        self.scheduled().wake_all();
        result
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.shared.slab.release(self.id);
    }
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("token", &self.id.token())
            .finish()
    }
}
