//! `embedded-io-async` for ebbtide streams.

use core::future::poll_fn;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

use super::{AsyncBufRead, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ErrorType};

/// Gives an ebbtide stream the [`embedded_io_async`] traits, so drivers, codecs and protocol
/// crates written against `embedded-io-async` run on ebbtide's sockets, pipes and files.
///
/// `EmbeddedIo<T>` implements [`Read`](embedded_io_async::Read) for `T: AsyncRead`,
/// [`BufRead`](embedded_io_async::BufRead) for `T: AsyncBufRead` and
/// [`Write`](embedded_io_async::Write) for `T: AsyncWrite` (each with `T: Unpin`), with `T`'s
/// error type. (A wrapper, not a blanket impl: the orphan rule forbids implementing another
/// crate's trait for every `T`.)
///
/// The other direction, an `embedded-io-async` stream as an ebbtide [`AsyncRead`], is not
/// offered: its `async fn` futures cannot be named, so they cannot be stored without allocating.
///
/// embedded-io-async's default `write_all` panics if the writer accepts 0 bytes;
/// [`AsyncWriteExt::write_all`] reports an error instead.
///
/// # Examples
///
/// ```
/// use ebbtide_core::io::{AsyncWriteExt, EmbeddedIo, Pipe};
///
/// /// Code written for any embedded-io-async reader.
/// async fn sum_bytes<R: embedded_io_async::Read>(mut reader: R) -> Result<u32, R::Error> {
///     let mut buf = [0u8; 4];
///     let mut sum = 0;
///     loop {
///         match reader.read(&mut buf).await? {
///             0 => return Ok(sum),
///             n => sum += buf[..n].iter().map(|&b| u32::from(b)).sum::<u32>(),
///         }
///     }
/// }
///
/// let pipe: Pipe<8> = Pipe::new();
/// let (rx, mut tx) = pipe.split();
/// ebbtide_core::block_on(async {
///     tx.write_all(&[1, 2, 3]).await.unwrap();
///     drop(tx);
///     assert_eq!(sum_bytes(EmbeddedIo::new(rx)).await, Ok(6));
/// });
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EmbeddedIo<T> {
    inner: T,
}

impl<T> EmbeddedIo<T> {
    /// Wraps `inner`.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::io::{EmbeddedIo, Pipe};
    ///
    /// let pipe: Pipe<8> = Pipe::new();
    /// let (rx, _tx) = pipe.split();
    /// let _reader = EmbeddedIo::new(rx);
    /// ```
    pub const fn new(inner: T) -> Self {
        EmbeddedIo { inner }
    }

    /// The wrapped stream.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::io::EmbeddedIo;
    ///
    /// assert_eq!(*EmbeddedIo::new(3).get_ref(), 3);
    /// ```
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The wrapped stream, mutably.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::io::EmbeddedIo;
    ///
    /// let mut io = EmbeddedIo::new(3);
    /// *io.get_mut() = 4;
    /// assert_eq!(io.into_inner(), 4);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the stream.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::io::EmbeddedIo;
    ///
    /// assert_eq!(EmbeddedIo::new(3).into_inner(), 3);
    /// ```
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: ErrorType> ErrorType for EmbeddedIo<T> {
    type Error = T::Error;
}

impl<T: AsyncRead + Unpin> embedded_io_async::Read for EmbeddedIo<T> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, T::Error> {
        self.inner.read(buf).await
    }
}

impl<T: AsyncBufRead + Unpin> embedded_io_async::BufRead for EmbeddedIo<T> {
    async fn fill_buf(&mut self) -> Result<&[u8], T::Error> {
        // Wait until bytes are buffered (a short borrow per poll), then take them with the
        // borrow of `self`: the `AsyncBufRead` contract makes that second call immediate.
        let at_end = poll_fn(|cx| {
            Pin::new(&mut self.inner)
                .poll_fill_buf(cx)
                .map_ok(<[u8]>::is_empty)
        })
        .await?;
        if at_end {
            return Ok(&[]);
        }
        match Pin::new(&mut self.inner).poll_fill_buf(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(result) => result,
            Poll::Pending => {
                panic!("AsyncBufRead contract broken: poll_fill_buf returned bytes, then Pending")
            }
        }
    }

    fn consume(&mut self, amt: usize) {
        Pin::new(&mut self.inner).consume(amt);
    }
}

impl<T: AsyncWrite + Unpin> embedded_io_async::Write for EmbeddedIo<T> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, T::Error> {
        self.inner.write(buf).await
    }

    async fn flush(&mut self) -> Result<(), T::Error> {
        AsyncWriteExt::flush(&mut self.inner).await
    }
}
