//! A mio source together with its registration: the shared core of every IO type in this crate.

use std::io;
use std::task::{Context, Poll};

use mio::event::Source;
use mio::Interest;

use crate::reactor::{Direction, Registration};

/// A mio `Source` registered with the current runtime's reactor.
///
/// Dropping it deregisters the source *before* the source (and its fd) is dropped, then gives
/// the registration's slot back, so the reactor never holds a slot or an OS registration for a
/// closed fd.
pub(crate) struct PollEvented<E: Source> {
    /// `None` only after [`into_inner`](PollEvented::into_inner) or during `Drop`.
    io: Option<E>,
    registration: Registration,
}

impl<E: Source> PollEvented<E> {
    /// Registers `io` with the current runtime for `interest`. Fails outside a runtime, when
    /// the runtime's IO table is full, or when the OS refuses (then `io` is dropped).
    pub(crate) fn new(mut io: E, interest: Interest) -> io::Result<Self> {
        let registration = Registration::new(&mut io, interest)?;
        Ok(PollEvented {
            io: Some(io),
            registration,
        })
    }

    pub(crate) fn get_ref(&self) -> &E {
        self.io.as_ref().expect("the source is present until drop")
    }

    pub(crate) fn registration(&self) -> &Registration {
        &self.registration
    }

    /// Runs `op` on the source when it is ready in `direction`, until `op` does not say
    /// `WouldBlock` (see [`Registration::poll_io`]).
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        mut op: impl FnMut(&E) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let io = self.get_ref();
        self.registration.poll_io(cx, direction, || op(io))
    }

    /// Like [`poll_io`](PollEvented::poll_io), as a future.
    pub(crate) async fn async_io<R>(
        &self,
        direction: Direction,
        mut op: impl FnMut(&E) -> io::Result<R>,
    ) -> io::Result<R> {
        std::future::poll_fn(|cx| self.poll_io(cx, direction, &mut op)).await
    }

    /// Deregisters the source and hands it back.
    pub(crate) fn into_inner(mut self) -> io::Result<E> {
        let mut io = self.io.take().expect("the source is present until drop");
        self.registration.deregister(&mut io)?;
        Ok(io)
    }
}

impl<E: Source> Drop for PollEvented<E> {
    fn drop(&mut self) {
        if let Some(mut io) = self.io.take() {
            // An error means the OS already forgot the source (mio's poll(2) backend drops a
            // source after it reports it hung up); the fd closes right after either way.
            let _ = self.registration.deregister(&mut io);
            drop(io);
        }
    }
}

impl<E: Source + std::fmt::Debug> std::fmt::Debug for PollEvented<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PollEvented")
            .field("io", &self.io)
            .field("registration", &self.registration)
            .finish()
    }
}
