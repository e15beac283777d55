//! [`EbbtideIo`]: hyper's IO traits over ebbtide's, and ebbtide's over hyper's.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use ebbtide_core::io::{AsyncRead, AsyncWrite, ErrorType};
use pin_project_lite::pin_project;

/// The most buffers one vectored write passes on; hyper queues at most 16 per write.
const MAX_BUFS: usize = 64;

pin_project! {
    /// A stream seen through the other side's IO traits, as hyper-util's `TokioIo` is for Tokio.
    ///
    /// - Over an ebbtide [`AsyncRead`] / [`AsyncWrite`] (an ebbtide-std `TcpStream`, a TLS
    ///   stream, a `Pipe`), it is hyper's [`rt::Read`](hyper::rt::Read) /
    ///   [`rt::Write`](hyper::rt::Write), which hyper's connections take.
    /// - Over hyper's `rt::Read` / `rt::Write` (an upgraded connection,
    ///   [`hyper::upgrade::Upgraded`]), it is ebbtide's `AsyncRead` / `AsyncWrite`, which
    ///   ebbtide's helpers (`copy_bidirectional`, `read_exact`, ...) take.
    ///
    /// Reads go into hyper's buffer as it is, uninitialised: through
    /// [`AsyncRead::poll_read_uninit`], which an ebbtide-std socket answers with one `recv(2)`
    /// straight into that memory, so no read zeroes a buffer first. Vectored writes are carried
    /// through both ways ([`AsyncWrite::poll_write_vectored`], one `writev(2)` on a socket).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_hyper::EbbtideIo;
    /// use ebbtide_std::net::{TcpListener, TcpStream};
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     // What hyper's `serve_connection` and `handshake` take.
    ///     let io = EbbtideIo::new(stream);
    ///     let _stream: &TcpStream = io.inner();
    /// });
    /// ```
    #[derive(Debug)]
    pub struct EbbtideIo<T> {
        #[pin]
        inner: T,
    }
}

impl<T> EbbtideIo<T> {
    /// Wraps `inner`.
    pub fn new(inner: T) -> Self {
        EbbtideIo { inner }
    }

    /// The wrapped stream.
    pub fn inner(&self) -> &T {
        &self.inner
    }

    /// The wrapped stream, mutably.
    pub fn inner_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// The wrapped stream, pinned.
    pub fn inner_pin_mut(self: Pin<&mut Self>) -> Pin<&mut T> {
        self.project().inner
    }

    /// Unwraps the stream.
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T> hyper::rt::Read for EbbtideIo<T>
where
    T: AsyncRead,
    T::Error: Into<io::Error>,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        // SAFETY: `as_mut` hands out the cursor's unfilled part, which may be uninitialised;
        // `poll_read_uninit`'s contract is that it only writes into it (never de-initialises
        // what is there: it takes `&mut [MaybeUninit<u8>]`, so it could not if it tried), and
        // that `Ok(n)` means the first `n` elements were initialised, with `n <= len`.
        let unfilled = unsafe { buf.as_mut() };
        let len = unfilled.len();
        let n = match self.project().inner.poll_read_uninit(cx, unfilled) {
            Poll::Ready(Ok(n)) => n,
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e.into())),
            Poll::Pending => return Poll::Pending,
        };
        // A reader that claims more than it was given breaks the contract; refuse to believe
        // it rather than tell hyper that memory past the buffer is filled.
        assert!(
            n <= len,
            "poll_read_uninit said {n} bytes were read into a buffer of {len}"
        );
        // SAFETY: the first `n <= len` bytes of the unfilled part were initialised by the read
        // (checked just above).
        unsafe { buf.advance(n) };
        Poll::Ready(Ok(()))
    }
}

impl<T> hyper::rt::Write for EbbtideIo<T>
where
    T: AsyncWrite,
    T::Error: Into<io::Error>,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write(cx, buf).map_err(Into::into)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx).map_err(Into::into)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_shutdown(cx).map_err(Into::into)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        // ebbtide's vectored write takes plain slices: gather up to MAX_BUFS on the stack (a
        // write that accepts fewer bytes than offered is normal, so the rest waits its turn).
        let mut slices: [&[u8]; MAX_BUFS] = [&[]; MAX_BUFS];
        let mut count = 0;
        for buf in bufs.iter().filter(|buf| !buf.is_empty()).take(MAX_BUFS) {
            slices[count] = buf;
            count += 1;
        }
        self.project()
            .inner
            .poll_write_vectored(cx, &slices[..count])
            .map_err(Into::into)
    }
}

impl<T: hyper::rt::Read> ErrorType for EbbtideIo<T> {
    type Error = io::Error;
}

impl<T> AsyncRead for EbbtideIo<T>
where
    T: hyper::rt::Read,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut read_buf = hyper::rt::ReadBuf::new(buf);
        match self.project().inner.poll_read(cx, read_buf.unfilled()) {
            Poll::Ready(Ok(())) => Poll::Ready(Ok(read_buf.filled().len())),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }

    fn poll_read_uninit(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [std::mem::MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        let mut read_buf = hyper::rt::ReadBuf::uninit(buf);
        match self.project().inner.poll_read(cx, read_buf.unfilled()) {
            Poll::Ready(Ok(())) => Poll::Ready(Ok(read_buf.filled().len())),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// ebbtide's `AsyncWrite` over hyper's `rt::Write`. The error type comes from the `ErrorType`
/// impl above, which needs `T: rt::Read`: every hyper stream (an `Upgraded` connection) is both.
impl<T> AsyncWrite for EbbtideIo<T>
where
    T: hyper::rt::Read + hyper::rt::Write,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[&[u8]],
    ) -> Poll<io::Result<usize>> {
        let mut slices = [io::IoSlice::new(&[]); MAX_BUFS];
        let mut count = 0;
        for buf in bufs.iter().filter(|buf| !buf.is_empty()).take(MAX_BUFS) {
            slices[count] = io::IoSlice::new(buf);
            count += 1;
        }
        self.project()
            .inner
            .poll_write_vectored(cx, &slices[..count])
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_shutdown(cx)
    }
}
