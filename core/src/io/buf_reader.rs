//! A reader with a fixed-size buffer of its own.

use core::pin::Pin;
use core::task::{ready, Context, Poll};

use super::{AsyncBufRead, AsyncRead, AsyncWrite, ErrorType};

/// Adds a `CAP`-byte buffer (an array inside the value, no allocation) to a reader, so it
/// implements [`AsyncBufRead`] and the line helpers of
/// [`AsyncBufReadExt`](super::AsyncBufReadExt).
///
/// Small reads are served from the buffer, so a protocol parser that reads a few bytes at a
/// time makes few system calls. A read at least as large as the buffer, with the buffer empty,
/// goes straight to the inner reader. If the inner stream also writes, so does the `BufReader`
/// (unbuffered), so one value can carry a whole connection.
///
/// The inner reader must be `Unpin` (every driver's handle is).
///
/// # Examples
///
/// A line reader for a chat server:
///
/// ```
/// use ebbtide_core::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Pipe, ReadUntilError};
///
/// let pipe: Pipe<64> = Pipe::new();
/// let (rx, mut tx) = pipe.split();
/// let mut conn = BufReader::<_, 32>::new(rx);
/// ebbtide_core::block_on(async {
///     tx.write_all(b"hello\nthis line is far too long\nbye\n").await.unwrap();
///     drop(tx);
///     let mut line = heapless::Vec::<u8, 8>::new();
///     let mut seen = 0;
///     loop {
///         match conn.read_line(&mut line).await {
///             Ok(0) => break,
///             Ok(_) => seen += 1,
///             // Skip the rest of an over-long line: keep reading until its end.
///             Err(ReadUntilError::TooLong) => {}
///             Err(ReadUntilError::Other(error)) => panic!("{error}"),
///         }
///         line.clear();
///     }
///     assert_eq!(seen, 3); // "hello", the tail of the long line, "bye"
/// });
/// ```
#[derive(Debug)]
pub struct BufReader<R, const CAP: usize> {
    inner: R,
    buf: [u8; CAP],
    /// `buf[pos..filled]` is read from `inner` and not yet consumed.
    pos: usize,
    filled: usize,
}

impl<R, const CAP: usize> BufReader<R, CAP> {
    /// Wraps `inner` with an empty `CAP`-byte buffer.
    ///
    /// A capacity of 0 is a compile-time error.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::io::{BufReader, Pipe};
    ///
    /// let pipe: Pipe<8> = Pipe::new();
    /// let (rx, _tx) = pipe.split();
    /// let reader = BufReader::<_, 128>::new(rx);
    /// assert_eq!(reader.capacity(), 128);
    /// ```
    pub const fn new(inner: R) -> Self {
        const { assert!(CAP > 0, "a BufReader needs a capacity of at least one byte") };
        BufReader {
            inner,
            buf: [0; CAP],
            pos: 0,
            filled: 0,
        }
    }

    /// The inner reader.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::io::BufReader;
    ///
    /// let reader = BufReader::<_, 4>::new(7u8);
    /// assert_eq!(*reader.get_ref(), 7);
    /// ```
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The inner reader, mutably. Reading from it directly skips the buffered bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::io::BufReader;
    ///
    /// let mut reader = BufReader::<_, 4>::new(7u8);
    /// *reader.get_mut() += 1;
    /// assert_eq!(*reader.get_ref(), 8);
    /// ```
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// The inner reader; bytes still buffered are lost (look at [`buffer`](BufReader::buffer)
    /// first).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::io::BufReader;
    ///
    /// let reader = BufReader::<_, 4>::new(7u8);
    /// assert_eq!(reader.into_inner(), 7);
    /// ```
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// The bytes read from the inner reader and not yet consumed.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Pipe};
    ///
    /// let pipe: Pipe<8> = Pipe::new();
    /// let (rx, mut tx) = pipe.split();
    /// let mut reader = BufReader::<_, 8>::new(rx);
    /// assert!(reader.buffer().is_empty());
    /// ebbtide_core::block_on(async {
    ///     tx.write_all(b"xy").await.unwrap();
    ///     reader.fill_buf().await.unwrap();
    /// });
    /// assert_eq!(reader.buffer(), b"xy");
    /// ```
    pub fn buffer(&self) -> &[u8] {
        &self.buf[self.pos..self.filled]
    }

    /// The buffer's size, `CAP`.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::io::BufReader;
    ///
    /// assert_eq!(BufReader::<_, 16>::new(()).capacity(), 16);
    /// ```
    pub const fn capacity(&self) -> usize {
        CAP
    }

    /// Marks the first `amt` buffered bytes as read (at most all of them), as
    /// [`AsyncBufRead::consume`] does, without pinning.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Pipe};
    ///
    /// let pipe: Pipe<16> = Pipe::new();
    /// let (rx, mut tx) = pipe.split();
    /// let mut reader = BufReader::<_, 8>::new(rx);
    /// ebbtide_core::block_on(async {
    ///     tx.write_all(b"skip:data").await.unwrap();
    ///     let head = reader.fill_buf().await.unwrap();
    ///     assert!(head.starts_with(b"skip:"));
    ///     reader.consume(5);
    ///     assert!(reader.fill_buf().await.unwrap().starts_with(b"dat"));
    /// });
    /// ```
    pub fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.filled);
    }
}

impl<R: ErrorType, const CAP: usize> ErrorType for BufReader<R, CAP> {
    type Error = R::Error;
}

impl<R: AsyncRead + Unpin, const CAP: usize> AsyncRead for BufReader<R, CAP> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<Result<usize, R::Error>> {
        let this = self.get_mut();
        if this.pos == this.filled && buf.len() >= CAP {
            // Nothing buffered and a large read: skip the copy.
            return Pin::new(&mut this.inner).poll_read(cx, buf);
        }
        let available = ready!(Pin::new(&mut *this).poll_fill_buf(cx))?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        this.consume(n);
        Poll::Ready(Ok(n))
    }
}

impl<R: AsyncRead + Unpin, const CAP: usize> AsyncBufRead for BufReader<R, CAP> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<&[u8], R::Error>> {
        let this = self.get_mut();
        if this.pos == this.filled {
            let n = ready!(Pin::new(&mut this.inner).poll_read(cx, &mut this.buf))?;
            this.pos = 0;
            this.filled = n;
        }
        Poll::Ready(Ok(&this.buf[this.pos..this.filled]))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        self.get_mut().consume(amt);
    }
}

impl<R: AsyncWrite + Unpin, const CAP: usize> AsyncWrite for BufReader<R, CAP> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<Result<usize, R::Error>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[&[u8]],
    ) -> Poll<Result<usize, R::Error>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), R::Error>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), R::Error>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
