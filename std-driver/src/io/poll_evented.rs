//! A mio source together with its registration: the shared core of every IO type in this crate.

use std::io::{self, IoSlice, Read, Write};
use std::mem::MaybeUninit;
use std::os::fd::AsFd;
use std::task::{Context, Poll};

use mio::event::Source;

use crate::io::Interest;
use crate::reactor::{Direction, Registration};
use crate::sys::SHORT_TRANSFER_DRAINS;

/// The most buffers one vectored write hands to the OS; later ones wait for the next write.
pub(crate) const MAX_IOV: usize = 64;

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

    /// Like [`poll_io`](Self::poll_io) for a stream transfer of `len` bytes (`len > 0`): when
    /// fewer moved and the poller is edge-triggered ([`SHORT_TRANSFER_DRAINS`]), the readiness
    /// is cleared at once, which saves the next operation a system call that would only say
    /// `WouldBlock` (one `recv` per request in an echo server).
    pub(crate) fn poll_transfer(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        len: usize,
        mut op: impl FnMut(&E) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        let io = self.get_ref();
        loop {
            let event = match self.registration.poll_ready(cx, direction) {
                Poll::Ready(Ok(event)) => event,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            };
            match op(io) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.registration.clear_readiness(event)
                }
                Ok(n) if SHORT_TRANSFER_DRAINS && 0 < n && n < len => {
                    self.registration.clear_readiness(event);
                    return Poll::Ready(Ok(n));
                }
                result => return Poll::Ready(result),
            }
        }
    }

    /// Reads into `buf` when the source is readable (an empty `buf` reads nothing, at once).
    pub(crate) fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>>
    where
        for<'a> &'a E: Read,
    {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let len = buf.len();
        self.poll_transfer(cx, Direction::Read, len, |mut io| io.read(buf))
    }

    /// Reads into `buf`, which may be uninitialised, when the source (a socket) is readable: one
    /// `recv(2)` straight into the caller's memory, nothing zeroed first (an empty `buf` reads
    /// nothing).
    pub(crate) fn poll_read_uninit(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>>
    where
        E: AsFd,
    {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let len = buf.len();
        self.poll_transfer(cx, Direction::Read, len, |io| {
            crate::sys::fd::recv_uninit(io.as_fd(), buf)
        })
    }

    /// Writes from `buf` when the source is writable (an empty `buf` writes nothing, at once).
    pub(crate) fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>>
    where
        for<'a> &'a E: Write,
    {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        self.poll_transfer(cx, Direction::Write, buf.len(), |mut io| io.write(buf))
    }

    /// One `writev(2)` of up to [`MAX_IOV`] of the non-empty buffers in `bufs`, gathered on the
    /// stack.
    pub(crate) fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[&[u8]],
    ) -> Poll<io::Result<usize>>
    where
        for<'a> &'a E: Write,
    {
        let mut slices = [IoSlice::new(&[]); MAX_IOV];
        let mut count = 0;
        for buf in bufs.iter().filter(|buf| !buf.is_empty()).take(MAX_IOV) {
            slices[count] = IoSlice::new(buf);
            count += 1;
        }
        if count == 0 {
            return Poll::Ready(Ok(0));
        }
        let slices = &slices[..count];
        let len = slices.iter().map(|s| s.len()).sum();
        self.poll_transfer(cx, Direction::Write, len, |mut io| {
            io.write_vectored(slices)
        })
    }

    /// Waits for a non-blocking connect to finish: the socket turns writable, then `state`
    /// says `Ok(true)` (connected), `Ok(false)` (a spurious wake-up: wait again) or the error
    /// that ended the attempt (`ConnectionRefused`, ...).
    pub(crate) fn poll_connected(
        &self,
        cx: &mut Context<'_>,
        state: impl Fn(&E) -> io::Result<bool>,
    ) -> Poll<io::Result<()>> {
        loop {
            let event = match self.registration.poll_ready(cx, Direction::Write) {
                Poll::Ready(Ok(event)) => event,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            };
            match state(self.get_ref()) {
                Ok(true) => return Poll::Ready(Ok(())),
                Ok(false) => self.registration.clear_readiness(event),
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
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
