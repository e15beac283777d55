//! Tokio's [`AsyncRead`](tokio::io::AsyncRead) and [`AsyncWrite`](tokio::io::AsyncWrite) for
//! ebbtide-std's byte streams (feature `tokio-io`).
//!
//! Each impl forwards to the type's own [`io::AsyncRead`](crate::io::AsyncRead) and
//! [`io::AsyncWrite`](crate::io::AsyncWrite): the same system calls, wakers and readiness; only
//! the shape of the buffer differs. Reads go straight into the [`ReadBuf`]'s unfilled part
//! (`poll_read_uninit`: one `recv(2)` into memory that may not be initialised, nothing zeroed
//! first), vectored writes are one `writev(2)`, and `poll_shutdown` shuts the write half. The
//! user-facing documentation is the `tokio_interop` page (feature `tokio-compat`).

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::ReadBuf;

use crate::io::{AsyncRead, AsyncWrite};

/// How many buffers one vectored write passes on (the rest wait for the next call, as `writev`
/// takes a bounded count anyway); the driver's own limit is the same.
const MAX_BUFS: usize = 64;

/// Tokio's `poll_read` on an ebbtide reader: reads into `buf`'s unfilled part, which may be
/// uninitialised, and marks what was read as filled.
fn poll_read_buf<R>(
    reader: Pin<&mut R>,
    cx: &mut Context<'_>,
    buf: &mut ReadBuf<'_>,
) -> Poll<io::Result<()>>
where
    R: AsyncRead<Error = io::Error> + ?Sized,
{
    if buf.remaining() == 0 {
        return Poll::Ready(Ok(()));
    }
    // SAFETY: `unfilled_mut` may hand out uninitialised memory, and the caller must not
    // de-initialise any of it. `poll_read_uninit` takes `&mut [MaybeUninit<u8>]` and by its
    // contract only writes the bytes it read (ebbtide's sockets: one `recv(2)`; other readers:
    // zeroes, then their `poll_read`), never uninitialised values.
    let unfilled = unsafe { buf.unfilled_mut() };
    let len = unfilled.len();
    let n = match reader.poll_read_uninit(cx, unfilled) {
        Poll::Ready(Ok(n)) => n,
        Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
        Poll::Pending => return Poll::Pending,
    };
    // A reader that claims more than it was given breaks its contract; refuse to tell Tokio that
    // memory past the buffer is filled.
    assert!(
        n <= len,
        "poll_read_uninit said {n} bytes were read into a buffer of {len}"
    );
    // SAFETY: `poll_read_uninit` returned `Ok(n)`, which by its contract means the first `n`
    // (checked `<= len` above) elements of the unfilled part are now initialised.
    unsafe { buf.assume_init(n) };
    buf.advance(n);
    Poll::Ready(Ok(()))
}

/// Tokio's `poll_write_vectored` on an ebbtide writer: the first [`MAX_BUFS`] non-empty buffers,
/// gathered on the stack, in one vectored write.
fn poll_write_slices<W>(
    writer: Pin<&mut W>,
    cx: &mut Context<'_>,
    bufs: &[IoSlice<'_>],
) -> Poll<io::Result<usize>>
where
    W: AsyncWrite<Error = io::Error> + ?Sized,
{
    let mut slices: [&[u8]; MAX_BUFS] = [&[]; MAX_BUFS];
    let mut count = 0;
    for buf in bufs.iter().filter(|buf| !buf.is_empty()).take(MAX_BUFS) {
        slices[count] = buf;
        count += 1;
    }
    writer.poll_write_vectored(cx, &slices[..count])
}

/// Implements Tokio's `AsyncRead` for readers of ebbtide's `AsyncRead` (with `io::Error`).
macro_rules! tokio_read {
    ($($reader:ty),* $(,)?) => {$(
        impl tokio::io::AsyncRead for $reader {
            /// Reads into `buf`'s unfilled part without zeroing it first (one `recv(2)` for a
            /// socket), as Tokio's own streams do.
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                poll_read_buf(self, cx, buf)
            }
        }
    )*};
}

/// Implements Tokio's `AsyncWrite` for writers of ebbtide's `AsyncWrite` (with `io::Error`).
macro_rules! tokio_write {
    ($($writer:ty),* $(,)?) => {$(
        impl tokio::io::AsyncWrite for $writer {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                AsyncWrite::poll_write(self, cx, buf)
            }

            /// One `writev(2)` of up to 64 of the non-empty buffers, for the types whose
            /// [`is_write_vectored`](tokio::io::AsyncWrite::is_write_vectored) says so.
            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                poll_write_slices(self, cx, bufs)
            }

            fn is_write_vectored(&self) -> bool {
                AsyncWrite::is_write_vectored(self)
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                AsyncWrite::poll_flush(self, cx)
            }

            /// Shuts the write half down: the peer reads end of stream, reads keep working.
            fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                AsyncWrite::poll_shutdown(self, cx)
            }
        }
    )*};
}

use crate::net::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, TcpStream, UnixStream, WriteHalf};

tokio_read!(
    TcpStream,
    ReadHalf<'_>,
    OwnedReadHalf,
    UnixStream,
    crate::fs::File
);
tokio_write!(
    TcpStream,
    WriteHalf<'_>,
    OwnedWriteHalf,
    UnixStream,
    crate::fs::File
);
