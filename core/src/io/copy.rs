//! Copying between streams through a buffer the caller supplies.

use core::future::Future;
use core::pin::Pin;
use core::task::{ready, Context, Poll};

use super::{AsyncRead, AsyncWrite, CopyBidirectionalError, CopyError};
use crate::task::poll_budget;

/// What a copy from `R` to `W` polls to: the bytes copied, or which side failed.
type CopyPoll<R, W> =
    Poll<Result<u64, CopyError<<R as super::ErrorType>::Error, <W as super::ErrorType>::Error>>>;

/// Copies everything `reader` yields to `writer` through `buf`, until `reader` ends, then
/// flushes `writer`; returns the number of bytes copied.
///
/// Partial writes are retried until each chunk is written. While `reader` has nothing, `writer`
/// is flushed, so bytes never sit in a buffered writer waiting for more input. `writer` is not
/// shut down (see [`copy_bidirectional`] for that). The copy takes from the task's cooperative
/// budget, so copying between two always-ready streams still lets other tasks run.
///
/// # Errors
///
/// [`CopyError::Read`] or [`CopyError::Write`] with the failing side's error;
/// [`CopyError::WriteZero`] if `writer` takes no bytes of a non-empty chunk.
///
/// # Panics
///
/// If `buf` is empty (a read into it could not tell data from end of stream).
///
/// # Cancel safety
///
/// Not cancel safe: bytes read but not yet written are lost when the future is dropped.
///
/// # Examples
///
/// ```
/// use ebbtide_core::io::{copy, AsyncReadExt, AsyncWriteExt, Pipe};
///
/// let input: Pipe<16> = Pipe::new();
/// let output: Pipe<16> = Pipe::new();
/// let (mut from, mut feed) = input.split();
/// let (mut check, mut to) = output.split();
/// ebbtide_core::block_on(async {
///     feed.write_all(b"through").await.unwrap();
///     drop(feed);
///     let mut buf = [0u8; 4];
///     assert_eq!(copy(&mut from, &mut to, &mut buf).await, Ok(7));
///     let mut out = [0u8; 7];
///     check.read_exact(&mut out).await.unwrap();
///     assert_eq!(&out, b"through");
/// });
/// ```
pub fn copy<'a, R, W>(reader: &'a mut R, writer: &'a mut W, buf: &'a mut [u8]) -> Copy<'a, R, W>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    assert!(!buf.is_empty(), "io::copy needs a non-empty buffer");
    Copy {
        reader,
        writer,
        buf,
        state: CopyState::new(),
    }
}

/// The future of [`copy`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Copy<'a, R: ?Sized, W: ?Sized> {
    reader: &'a mut R,
    writer: &'a mut W,
    buf: &'a mut [u8],
    state: CopyState,
}

impl<R, W> Future for Copy<'_, R, W>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    type Output = Result<u64, CopyError<R::Error, W::Error>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.state
            .poll_copy(cx, this.buf, &mut *this.reader, &mut *this.writer)
    }
}

/// Copies `a` to `b` and `b` to `a` at the same time, until both readers end; returns the byte
/// counts `(a_to_b, b_to_a)`.
///
/// Each direction works as [`copy`] through its own buffer (`buf_a` carries `a`'s bytes to `b`,
/// `buf_b` the other way). When a direction's reader ends, its writer is
/// [shut down](super::AsyncWriteExt::shutdown), so the peer sees end of stream there while the
/// other direction goes on: the half-close a proxy needs.
///
/// # Errors
///
/// The first error of either direction ([`CopyBidirectionalError::AToB`] or
/// [`CopyBidirectionalError::BToA`], each saying which side failed); the other direction stops.
///
/// # Panics
///
/// If `buf_a` or `buf_b` is empty.
///
/// # Cancel safety
///
/// Not cancel safe: bytes read but not yet written are lost when the future is dropped.
///
/// # Examples
///
/// ```
/// use ebbtide_core::io::{copy_bidirectional, AsyncReadExt, AsyncWriteExt, Duplex};
///
/// // client <-> (a  proxy  b) <-> server
/// let client_side: Duplex<16> = Duplex::new();
/// let server_side: Duplex<16> = Duplex::new();
/// let (mut client, mut a) = client_side.split();
/// let (mut b, mut server) = server_side.split();
/// ebbtide_core::block_on(async {
///     client.write_all(b"GET").await.unwrap();
///     client.shutdown().await.unwrap();
///     server.write_all(b"200 OK").await.unwrap();
///     server.shutdown().await.unwrap();
///     let (mut buf_a, mut buf_b) = ([0u8; 8], [0u8; 8]);
///     let counts = copy_bidirectional(&mut a, &mut b, &mut buf_a, &mut buf_b).await;
///     assert_eq!(counts, Ok((3, 6)));
///     let mut reply = [0u8; 16];
///     let n = client.read_to_limit(&mut reply).await.unwrap();
///     assert_eq!(&reply[..n], b"200 OK");
/// });
/// ```
pub fn copy_bidirectional<'a, A, B>(
    a: &'a mut A,
    b: &'a mut B,
    buf_a: &'a mut [u8],
    buf_b: &'a mut [u8],
) -> CopyBidirectional<'a, A, B>
where
    A: AsyncRead + AsyncWrite + Unpin + ?Sized,
    B: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    assert!(
        !buf_a.is_empty() && !buf_b.is_empty(),
        "io::copy_bidirectional needs non-empty buffers"
    );
    CopyBidirectional {
        a,
        b,
        buf_a,
        buf_b,
        a_to_b: Direction::Copying(CopyState::new()),
        b_to_a: Direction::Copying(CopyState::new()),
    }
}

/// The future of [`copy_bidirectional`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct CopyBidirectional<'a, A: ?Sized, B: ?Sized> {
    a: &'a mut A,
    b: &'a mut B,
    buf_a: &'a mut [u8],
    buf_b: &'a mut [u8],
    a_to_b: Direction,
    b_to_a: Direction,
}

impl<A, B> Future for CopyBidirectional<'_, A, B>
where
    A: AsyncRead + AsyncWrite + Unpin + ?Sized,
    B: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    type Output = Result<(u64, u64), CopyBidirectionalError<A::Error, B::Error>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let a_to_b = this
            .a_to_b
            .poll(cx, this.buf_a, &mut *this.a, &mut *this.b)
            .map_err(CopyBidirectionalError::AToB)?;
        let b_to_a = this
            .b_to_a
            .poll(cx, this.buf_b, &mut *this.b, &mut *this.a)
            .map_err(CopyBidirectionalError::BToA)?;
        match (a_to_b, b_to_a) {
            (Poll::Ready(a_to_b), Poll::Ready(b_to_a)) => Poll::Ready(Ok((a_to_b, b_to_a))),
            _ => Poll::Pending,
        }
    }
}

/// One direction of [`copy_bidirectional`].
#[derive(Debug)]
enum Direction {
    /// Copying; the writer is shut down once the reader ends.
    Copying(CopyState),
    /// The reader ended after this many bytes; shutting the writer down.
    ShuttingDown(u64),
    /// Finished after this many bytes.
    Done(u64),
}

impl Direction {
    /// Drives the direction; `Ready(Ok(n))` once it is done.
    fn poll<R, W>(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
        reader: &mut R,
        writer: &mut W,
    ) -> CopyPoll<R, W>
    where
        R: AsyncRead + Unpin + ?Sized,
        W: AsyncWrite + Unpin + ?Sized,
    {
        loop {
            match self {
                Direction::Copying(state) => {
                    let copied = ready!(state.poll_copy(cx, buf, &mut *reader, &mut *writer))?;
                    *self = Direction::ShuttingDown(copied);
                }
                Direction::ShuttingDown(copied) => {
                    ready!(Pin::new(&mut *writer).poll_shutdown(cx)).map_err(CopyError::Write)?;
                    *self = Direction::Done(*copied);
                }
                Direction::Done(copied) => return Poll::Ready(Ok(*copied)),
            }
        }
    }
}

/// The progress of one copy: which part of the buffer still waits to be written.
#[derive(Debug)]
struct CopyState {
    /// `buf[pos..end]` is read and not yet written.
    pos: usize,
    end: usize,
    /// Bytes written so far.
    copied: u64,
    /// The reader has ended.
    read_done: bool,
    /// Bytes were written since the last flush.
    need_flush: bool,
}

impl CopyState {
    const fn new() -> CopyState {
        CopyState {
            pos: 0,
            end: 0,
            copied: 0,
            read_done: false,
            need_flush: false,
        }
    }

    /// Copies until the reader ends and the writer is flushed; `Ready(Ok(copied))` then.
    fn poll_copy<R, W>(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
        reader: &mut R,
        writer: &mut W,
    ) -> CopyPoll<R, W>
    where
        R: AsyncRead + Unpin + ?Sized,
        W: AsyncWrite + Unpin + ?Sized,
    {
        let mut first = true;
        loop {
            if !first {
                // Both sides may be always ready: give other tasks their turn now and then.
                ready!(poll_budget(cx));
            }
            first = false;
            if self.pos == self.end && !self.read_done {
                match Pin::new(&mut *reader).poll_read(cx, buf) {
                    Poll::Ready(Ok(0)) => self.read_done = true,
                    Poll::Ready(Ok(n)) => {
                        self.pos = 0;
                        self.end = n;
                    }
                    Poll::Ready(Err(error)) => return Poll::Ready(Err(CopyError::Read(error))),
                    Poll::Pending => {
                        // Nothing to read now: push what was written out of the writer's
                        // buffers rather than let it wait for more input.
                        if self.need_flush {
                            ready!(Pin::new(&mut *writer).poll_flush(cx))
                                .map_err(CopyError::Write)?;
                            self.need_flush = false;
                        }
                        return Poll::Pending;
                    }
                }
            }
            while self.pos < self.end {
                let written =
                    ready!(Pin::new(&mut *writer).poll_write(cx, &buf[self.pos..self.end]))
                        .map_err(CopyError::Write)?;
                if written == 0 {
                    return Poll::Ready(Err(CopyError::WriteZero));
                }
                self.pos += written;
                self.copied += written as u64;
                self.need_flush = true;
            }
            if self.read_done {
                ready!(Pin::new(&mut *writer).poll_flush(cx)).map_err(CopyError::Write)?;
                self.need_flush = false;
                return Poll::Ready(Ok(self.copied));
            }
        }
    }
}
