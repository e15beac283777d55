//! `async` helpers over the poll traits, each returning a named, `Unpin` future.

use core::future::Future;
use core::pin::Pin;
use core::task::{ready, Context, Poll};

use super::{AsyncBufRead, AsyncRead, AsyncWrite, ReadExactError, ReadUntilError, WriteAllError};
use crate::task::poll_budget;

/// `async` helpers for every [`AsyncRead`].
///
/// # Examples
///
/// ```
/// use ebbtide_core::io::{AsyncReadExt, AsyncWriteExt, Pipe};
///
/// let pipe: Pipe<8> = Pipe::new();
/// let (mut rx, mut tx) = pipe.split();
/// ebbtide_core::block_on(async {
///     tx.write_all(b"ping").await.unwrap();
///     let mut buf = [0u8; 8];
///     let n = rx.read(&mut buf).await.unwrap();
///     assert_eq!(&buf[..n], b"ping");
/// });
/// ```
pub trait AsyncReadExt: AsyncRead {
    /// Reads some bytes into `buf`; `Ok(0)` at the end of the stream (or if `buf` is empty).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped before it completes, no bytes were read.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::io::{AsyncReadExt, Pipe};
    ///
    /// let pipe: Pipe<8> = Pipe::new();
    /// let (mut rx, tx) = pipe.split();
    /// drop(tx);
    /// let mut buf = [0u8; 4];
    /// assert_eq!(ebbtide_core::block_on(rx.read(&mut buf)), Ok(0)); // end of stream
    /// ```
    fn read<'a>(&'a mut self, buf: &'a mut [u8]) -> Read<'a, Self>
    where
        Self: Unpin,
    {
        Read { reader: self, buf }
    }

    /// Reads exactly `buf.len()` bytes, or fails with [`ReadExactError::UnexpectedEof`] if the
    /// stream ends first.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: bytes read before the future is dropped are in `buf`, but how many is
    /// lost.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::io::{AsyncReadExt, AsyncWriteExt, Pipe, ReadExactError};
    ///
    /// let pipe: Pipe<8> = Pipe::new();
    /// let (mut rx, mut tx) = pipe.split();
    /// ebbtide_core::block_on(async {
    ///     tx.write_all(b"abc").await.unwrap();
    ///     drop(tx);
    ///     let mut two = [0u8; 2];
    ///     rx.read_exact(&mut two).await.unwrap();
    ///     assert_eq!(&two, b"ab");
    ///     assert_eq!(rx.read_exact(&mut two).await, Err(ReadExactError::UnexpectedEof));
    /// });
    /// ```
    fn read_exact<'a>(&'a mut self, buf: &'a mut [u8]) -> ReadExact<'a, Self>
    where
        Self: Unpin,
    {
        ReadExact {
            reader: self,
            buf,
            filled: 0,
        }
    }

    /// Reads until the end of the stream or until `buf` is full, whichever comes first, and
    /// returns how many bytes it read.
    ///
    /// This is `read_to_end` without allocation. A result equal to `buf.len()` means the buffer
    /// filled up: the stream may hold more.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: bytes read before the future is dropped are in `buf`, but how many is
    /// lost.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::io::{AsyncReadExt, AsyncWriteExt, Pipe};
    ///
    /// let pipe: Pipe<8> = Pipe::new();
    /// let (mut rx, mut tx) = pipe.split();
    /// ebbtide_core::block_on(async {
    ///     tx.write_all(b"whole").await.unwrap();
    ///     drop(tx);
    ///     let mut buf = [0u8; 16];
    ///     let n = rx.read_to_limit(&mut buf).await.unwrap();
    ///     assert_eq!(&buf[..n], b"whole");
    /// });
    /// ```
    fn read_to_limit<'a>(&'a mut self, buf: &'a mut [u8]) -> ReadToLimit<'a, Self>
    where
        Self: Unpin,
    {
        ReadToLimit {
            reader: self,
            buf,
            filled: 0,
        }
    }

    /// Reads until the end of the stream, appending every byte to `buf`; returns how many it
    /// appended. (With the `std` feature: `buf` grows, which allocates; see
    /// [`read_to_limit`](AsyncReadExt::read_to_limit) for a fixed buffer.)
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: the bytes read before the future is dropped stay in `buf`, but how many
    /// is lost.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::io::{AsyncReadExt, AsyncWriteExt, Pipe};
    ///
    /// let pipe: Pipe<8> = Pipe::new();
    /// let (mut rx, mut tx) = pipe.split();
    /// ebbtide_core::block_on(async {
    ///     let (read, ()) = ebbtide_core::join!(
    ///         async {
    ///             let mut all = Vec::new();
    ///             rx.read_to_end(&mut all).await.map(|n| (n, all))
    ///         },
    ///         async {
    ///             tx.write_all(b"more than eight bytes").await.unwrap();
    ///             drop(tx);
    ///         },
    ///     );
    ///     assert_eq!(read.unwrap(), (21, b"more than eight bytes".to_vec()));
    /// });
    /// ```
    #[cfg(feature = "std")]
    fn read_to_end<'a>(&'a mut self, buf: &'a mut std::vec::Vec<u8>) -> ReadToEnd<'a, Self>
    where
        Self: Unpin,
    {
        let start = buf.len();
        ReadToEnd {
            reader: self,
            buf,
            start,
        }
    }

    /// Reads until the end of the stream and appends it to `buf` as text; returns how many bytes
    /// it appended. If the bytes are not valid UTF-8, fails with `ErrorKind::InvalidData` and
    /// leaves `buf` as it was. (With the `std` feature, for readers whose errors are
    /// `std::io::Error`, as every ebbtide-std IO type's are.)
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: what was read before the future is dropped is lost.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::io::{AsyncRead, AsyncReadExt, ErrorType};
    /// use std::pin::Pin;
    /// use std::task::{Context, Poll};
    ///
    /// /// A reader of a byte slice, with std's error type.
    /// struct Bytes(&'static [u8]);
    /// impl ErrorType for Bytes {
    ///     type Error = std::io::Error;
    /// }
    /// impl AsyncRead for Bytes {
    ///     fn poll_read(mut self: Pin<&mut Self>, _: &mut Context<'_>, buf: &mut [u8])
    ///         -> Poll<std::io::Result<usize>>
    ///     {
    ///         let n = buf.len().min(self.0.len());
    ///         buf[..n].copy_from_slice(&self.0[..n]);
    ///         self.0 = &self.0[n..];
    ///         Poll::Ready(Ok(n))
    ///     }
    /// }
    ///
    /// let mut text = String::from("> ");
    /// let n = ebbtide_core::block_on(Bytes(b"hello").read_to_string(&mut text)).unwrap();
    /// assert_eq!((n, text.as_str()), (5, "> hello"));
    ///
    /// let invalid = ebbtide_core::block_on(Bytes(&[0xff, 0xfe]).read_to_string(&mut text));
    /// assert_eq!(invalid.unwrap_err().kind(), std::io::ErrorKind::InvalidData);
    /// assert_eq!(text, "> hello");
    /// ```
    #[cfg(feature = "std")]
    fn read_to_string<'a>(&'a mut self, buf: &'a mut std::string::String) -> ReadToString<'a, Self>
    where
        Self: Unpin + AsyncRead<Error = std::io::Error>,
    {
        ReadToString {
            reader: self,
            buf,
            bytes: std::vec::Vec::new(),
        }
    }
}

impl<R: AsyncRead + ?Sized> AsyncReadExt for R {}

/// `async` helpers for every [`AsyncWrite`].
///
/// # Examples
///
/// ```
/// use ebbtide_core::io::{AsyncReadExt, AsyncWriteExt, Pipe};
///
/// let pipe: Pipe<8> = Pipe::new();
/// let (mut rx, mut tx) = pipe.split();
/// ebbtide_core::block_on(async {
///     tx.write_all(b"bye").await.unwrap();
///     tx.shutdown().await.unwrap();
///     let mut buf = [0u8; 8];
///     assert_eq!(rx.read_to_limit(&mut buf).await, Ok(3));
/// });
/// ```
pub trait AsyncWriteExt: AsyncWrite {
    /// Writes some bytes of `buf` and returns how many.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped before it completes, no bytes were written.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::io::{AsyncWriteExt, Pipe};
    ///
    /// let pipe: Pipe<4> = Pipe::new();
    /// let (_rx, mut tx) = pipe.split();
    /// // The pipe has room for 4 bytes: the write takes what fits.
    /// assert_eq!(ebbtide_core::block_on(tx.write(b"abcdef")), Ok(4));
    /// ```
    fn write<'a>(&'a mut self, buf: &'a [u8]) -> Write<'a, Self>
    where
        Self: Unpin,
    {
        Write { writer: self, buf }
    }

    /// Writes all of `buf`, as many writes as it takes.
    ///
    /// # Errors
    ///
    /// [`WriteAllError::WriteZero`] if the writer accepts no bytes of a non-empty buffer;
    /// [`WriteAllError::Other`] with the writer's error.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: part of `buf` may have been written when the future is dropped, and how
    /// much is lost.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::io::{AsyncReadExt, AsyncWriteExt, Pipe};
    ///
    /// let pipe: Pipe<16> = Pipe::new();
    /// let (mut rx, mut tx) = pipe.split();
    /// ebbtide_core::block_on(async {
    ///     tx.write_all(b"all of it").await.unwrap();
    ///     let mut buf = [0u8; 9];
    ///     rx.read_exact(&mut buf).await.unwrap();
    ///     assert_eq!(&buf, b"all of it");
    /// });
    /// ```
    fn write_all<'a>(&'a mut self, buf: &'a [u8]) -> WriteAll<'a, Self>
    where
        Self: Unpin,
    {
        WriteAll { writer: self, buf }
    }

    /// Writes bytes from several buffers in one write where the writer can, and returns how
    /// many it took from the front.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped before it completes, no bytes were written.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::io::{AsyncWriteExt, Pipe};
    ///
    /// let pipe: Pipe<8> = Pipe::new();
    /// let (_rx, mut tx) = pipe.split();
    /// let n = ebbtide_core::block_on(tx.write_vectored(&[b"", b"head", b"body"])).unwrap();
    /// assert!(n >= 4);
    /// ```
    fn write_vectored<'a>(&'a mut self, bufs: &'a [&'a [u8]]) -> WriteVectored<'a, Self>
    where
        Self: Unpin,
    {
        WriteVectored { writer: self, bufs }
    }

    /// Pushes every written byte out of the writer's own buffers.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future loses no data; flush again later.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::io::{AsyncWriteExt, Pipe};
    ///
    /// let pipe: Pipe<8> = Pipe::new();
    /// let (_rx, mut tx) = pipe.split();
    /// ebbtide_core::block_on(tx.flush()).unwrap();
    /// ```
    fn flush(&mut self) -> Flush<'_, Self>
    where
        Self: Unpin,
    {
        Flush { writer: self }
    }

    /// Flushes and closes the write half: the reader on the other end sees end of stream.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future loses no data; call `shutdown` again to finish.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::io::{AsyncReadExt, AsyncWriteExt, Pipe};
    ///
    /// let pipe: Pipe<8> = Pipe::new();
    /// let (mut rx, mut tx) = pipe.split();
    /// ebbtide_core::block_on(async {
    ///     tx.shutdown().await.unwrap();
    ///     assert_eq!(rx.read(&mut [0u8; 4]).await, Ok(0));
    /// });
    /// ```
    fn shutdown(&mut self) -> Shutdown<'_, Self>
    where
        Self: Unpin,
    {
        Shutdown { writer: self }
    }
}

impl<W: AsyncWrite + ?Sized> AsyncWriteExt for W {}

/// `async` helpers for every [`AsyncBufRead`]: delimited reads without allocation.
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
///     tx.write_all(b"a,b").await.unwrap();
///     drop(tx);
///     let mut field = heapless::Vec::<u8, 4>::new();
///     assert_eq!(reader.read_until(b',', &mut field).await, Ok(2));
///     assert_eq!(&field[..], b"a,");
/// });
/// ```
pub trait AsyncBufReadExt: AsyncBufRead {
    /// The buffered bytes, reading more first if none are buffered; empty at end of stream.
    ///
    /// Pair it with [`consume`](AsyncBufRead::consume) (through `Pin::new(&mut reader)`, or
    /// [`BufReader::consume`](super::BufReader::consume)).
    ///
    /// # Panics
    ///
    /// If the reader breaks the [`AsyncBufRead`] contract: it returned bytes, then `Pending` when
    /// asked again without a `consume`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: bytes read into the buffer stay there.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Pipe};
    ///
    /// let pipe: Pipe<8> = Pipe::new();
    /// let (rx, mut tx) = pipe.split();
    /// let mut reader = BufReader::<_, 8>::new(rx);
    /// ebbtide_core::block_on(async {
    ///     tx.write_all(b"peek").await.unwrap();
    ///     assert_eq!(reader.fill_buf().await.unwrap(), b"peek");
    /// });
    /// ```
    fn fill_buf(&mut self) -> FillBuf<'_, Self>
    where
        Self: Unpin,
    {
        FillBuf { reader: Some(self) }
    }

    /// Appends bytes to `out` up to and including `delimiter`, and returns how many it appended:
    /// `Ok(0)` at end of stream. The last piece of a stream may end without the delimiter.
    ///
    /// # Errors
    ///
    /// [`ReadUntilError::TooLong`] if `out` fills up before the delimiter comes. No data is lost:
    /// `out` holds what was read, the reader keeps the rest; empty `out` and call again to go on.
    /// [`ReadUntilError::Other`] with the reader's error.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: every byte taken from the reader is already in `out`, so a call dropped in a
    /// [`select!`](crate::select) loses nothing; call again with the same `out` to finish.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Pipe, ReadUntilError};
    ///
    /// let pipe: Pipe<16> = Pipe::new();
    /// let (rx, mut tx) = pipe.split();
    /// let mut reader = BufReader::<_, 8>::new(rx);
    /// ebbtide_core::block_on(async {
    ///     tx.write_all(b"0123456789;").await.unwrap();
    ///     let mut out = heapless::Vec::<u8, 8>::new();
    ///     assert_eq!(reader.read_until(b';', &mut out).await, Err(ReadUntilError::TooLong));
    ///     assert_eq!(&out[..], b"01234567");
    ///     out.clear();
    ///     assert_eq!(reader.read_until(b';', &mut out).await, Ok(3));
    ///     assert_eq!(&out[..], b"89;");
    /// });
    /// ```
    fn read_until<'a, const N: usize>(
        &'a mut self,
        delimiter: u8,
        out: &'a mut heapless::Vec<u8, N>,
    ) -> ReadUntil<'a, Self, N>
    where
        Self: Unpin,
    {
        ReadUntil {
            reader: self,
            delimiter,
            out,
            appended: 0,
        }
    }

    /// [`read_until`](AsyncBufReadExt::read_until) with `b'\n'`: appends one line, with its
    /// `"\n"` (or `"\r\n"`), to `out`. `line.trim_ascii_end()` gives the line without them.
    ///
    /// # Errors
    ///
    /// As [`read_until`](AsyncBufReadExt::read_until): [`ReadUntilError::TooLong`] for a line
    /// longer than `out` (nothing lost), or the reader's error.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as [`read_until`](AsyncBufReadExt::read_until).
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
    ///     tx.write_all(b"hi\r\nyo").await.unwrap();
    ///     drop(tx);
    ///     let mut line = heapless::Vec::<u8, 16>::new();
    ///     reader.read_line(&mut line).await.unwrap();
    ///     assert_eq!(line.trim_ascii_end(), b"hi");
    ///     line.clear();
    ///     reader.read_line(&mut line).await.unwrap();
    ///     assert_eq!(&line[..], b"yo"); // the last line, without "\n"
    ///     line.clear();
    ///     assert_eq!(reader.read_line(&mut line).await, Ok(0));
    /// });
    /// ```
    fn read_line<'a, const N: usize>(
        &'a mut self,
        out: &'a mut heapless::Vec<u8, N>,
    ) -> ReadUntil<'a, Self, N>
    where
        Self: Unpin,
    {
        self.read_until(b'\n', out)
    }
}

impl<R: AsyncBufRead + ?Sized> AsyncBufReadExt for R {}

/// The future of [`AsyncReadExt::read`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Read<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut [u8],
}

impl<R: AsyncRead + Unpin + ?Sized> Future for Read<'_, R> {
    type Output = Result<usize, R::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        Pin::new(&mut *this.reader).poll_read(cx, this.buf)
    }
}

/// The future of [`AsyncReadExt::read_exact`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct ReadExact<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut [u8],
    filled: usize,
}

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadExact<'_, R> {
    type Output = Result<(), ReadExactError<R::Error>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mut first = true;
        while this.filled < this.buf.len() {
            if !first {
                ready!(poll_budget(cx));
            }
            first = false;
            let rest = &mut this.buf[this.filled..];
            match ready!(Pin::new(&mut *this.reader).poll_read(cx, rest)) {
                Ok(0) => return Poll::Ready(Err(ReadExactError::UnexpectedEof)),
                Ok(n) => this.filled += n,
                Err(error) => return Poll::Ready(Err(ReadExactError::Other(error))),
            }
        }
        Poll::Ready(Ok(()))
    }
}

/// The future of [`AsyncReadExt::read_to_limit`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct ReadToLimit<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut [u8],
    filled: usize,
}

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadToLimit<'_, R> {
    type Output = Result<usize, R::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mut first = true;
        while this.filled < this.buf.len() {
            if !first {
                ready!(poll_budget(cx));
            }
            first = false;
            let rest = &mut this.buf[this.filled..];
            match ready!(Pin::new(&mut *this.reader).poll_read(cx, rest))? {
                0 => break,
                n => this.filled += n,
            }
        }
        Poll::Ready(Ok(this.filled))
    }
}

/// The future of [`AsyncReadExt::read_to_end`].
#[cfg(feature = "std")]
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct ReadToEnd<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut std::vec::Vec<u8>,
    /// `buf`'s length when the read started.
    start: usize,
}

/// Reads the rest of `reader` into `buf`, growing it by at least 32 bytes (and at most doubling)
/// at a time; keeps only the bytes read.
#[cfg(feature = "std")]
fn poll_read_to_end<R: AsyncRead + Unpin + ?Sized>(
    reader: &mut R,
    buf: &mut std::vec::Vec<u8>,
    cx: &mut Context<'_>,
) -> Poll<Result<(), R::Error>> {
    let mut first = true;
    loop {
        if !first {
            ready!(poll_budget(cx));
        }
        first = false;
        let filled = buf.len();
        let room = buf.capacity() - filled;
        let grow = if room >= 32 {
            room
        } else {
            filled.clamp(32, 64 * 1024)
        };
        buf.resize(filled + grow, 0);
        let read = Pin::new(&mut *reader).poll_read(cx, &mut buf[filled..]);
        let n = match read {
            Poll::Ready(Ok(n)) => n,
            other => {
                buf.truncate(filled);
                return other.map(|result| result.map(|_| ()));
            }
        };
        buf.truncate(filled + n);
        if n == 0 {
            return Poll::Ready(Ok(()));
        }
    }
}

#[cfg(feature = "std")]
impl<R: AsyncRead + Unpin + ?Sized> Future for ReadToEnd<'_, R> {
    type Output = Result<usize, R::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        ready!(poll_read_to_end(this.reader, this.buf, cx))?;
        Poll::Ready(Ok(this.buf.len() - this.start))
    }
}

/// The future of [`AsyncReadExt::read_to_string`].
#[cfg(feature = "std")]
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct ReadToString<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut std::string::String,
    /// What was read so far, checked as UTF-8 at the end.
    bytes: std::vec::Vec<u8>,
}

#[cfg(feature = "std")]
impl<R: AsyncRead<Error = std::io::Error> + Unpin + ?Sized> Future for ReadToString<'_, R> {
    type Output = std::io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        ready!(poll_read_to_end(this.reader, &mut this.bytes, cx))?;
        let bytes = core::mem::take(&mut this.bytes);
        match std::string::String::from_utf8(bytes) {
            Ok(text) => {
                this.buf.push_str(&text);
                Poll::Ready(Ok(text.len()))
            }
            Err(_) => Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "the stream is not valid UTF-8",
            ))),
        }
    }
}

/// The future of [`AsyncWriteExt::write`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Write<'a, W: ?Sized> {
    writer: &'a mut W,
    buf: &'a [u8],
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for Write<'_, W> {
    type Output = Result<usize, W::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        Pin::new(&mut *this.writer).poll_write(cx, this.buf)
    }
}

/// The future of [`AsyncWriteExt::write_all`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct WriteAll<'a, W: ?Sized> {
    writer: &'a mut W,
    buf: &'a [u8],
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for WriteAll<'_, W> {
    type Output = Result<(), WriteAllError<W::Error>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mut first = true;
        while !this.buf.is_empty() {
            if !first {
                ready!(poll_budget(cx));
            }
            first = false;
            match ready!(Pin::new(&mut *this.writer).poll_write(cx, this.buf))? {
                0 => return Poll::Ready(Err(WriteAllError::WriteZero)),
                n => this.buf = &this.buf[n..],
            }
        }
        Poll::Ready(Ok(()))
    }
}

/// The future of [`AsyncWriteExt::write_vectored`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct WriteVectored<'a, W: ?Sized> {
    writer: &'a mut W,
    bufs: &'a [&'a [u8]],
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for WriteVectored<'_, W> {
    type Output = Result<usize, W::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        Pin::new(&mut *this.writer).poll_write_vectored(cx, this.bufs)
    }
}

/// The future of [`AsyncWriteExt::flush`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Flush<'a, W: ?Sized> {
    writer: &'a mut W,
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for Flush<'_, W> {
    type Output = Result<(), W::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut *self.get_mut().writer).poll_flush(cx)
    }
}

/// The future of [`AsyncWriteExt::shutdown`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Shutdown<'a, W: ?Sized> {
    writer: &'a mut W,
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for Shutdown<'_, W> {
    type Output = Result<(), W::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut *self.get_mut().writer).poll_shutdown(cx)
    }
}

/// The future of [`AsyncBufReadExt::fill_buf`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct FillBuf<'a, R: ?Sized> {
    /// `None` once the future has completed (it hands out the borrow).
    reader: Option<&'a mut R>,
}

impl<'a, R: AsyncBufRead + Unpin + ?Sized> Future for FillBuf<'a, R> {
    type Output = Result<&'a [u8], R::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let reader = this
            .reader
            .as_mut()
            .expect("FillBuf polled after it completed");
        // First look with a short borrow, so that `Pending` can keep the reader; then, data being
        // buffered, ask again with the whole borrow `'a` (the contract makes that immediate).
        match Pin::new(&mut **reader).poll_fill_buf(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Err(error)) => {
                this.reader = None;
                return Poll::Ready(Err(error));
            }
            Poll::Ready(Ok([])) => {
                this.reader = None;
                return Poll::Ready(Ok(&[]));
            }
            Poll::Ready(Ok(_)) => {}
        }
        let reader = this.reader.take().expect("checked above");
        match Pin::new(reader).poll_fill_buf(cx) {
            Poll::Ready(result) => Poll::Ready(result),
            Poll::Pending => {
                panic!("AsyncBufRead contract broken: poll_fill_buf returned bytes, then Pending")
            }
        }
    }
}

/// The future of [`AsyncBufReadExt::read_until`] and [`AsyncBufReadExt::read_line`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct ReadUntil<'a, R: ?Sized, const N: usize> {
    reader: &'a mut R,
    delimiter: u8,
    out: &'a mut heapless::Vec<u8, N>,
    /// Bytes appended to `out` by this call so far.
    appended: usize,
}

impl<R: AsyncBufRead + Unpin + ?Sized, const N: usize> Future for ReadUntil<'_, R, N> {
    type Output = Result<usize, ReadUntilError<R::Error>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mut first = true;
        loop {
            let room = N - this.out.len();
            if room == 0 {
                return Poll::Ready(Err(ReadUntilError::TooLong));
            }
            if !first {
                ready!(poll_budget(cx));
            }
            first = false;
            let (taken, found) = {
                let available = ready!(Pin::new(&mut *this.reader).poll_fill_buf(cx))?;
                if available.is_empty() {
                    return Poll::Ready(Ok(this.appended));
                }
                let window = &available[..available.len().min(room)];
                let (taken, found) = match window.iter().position(|&b| b == this.delimiter) {
                    Some(at) => (at + 1, true),
                    None => (window.len(), false),
                };
                this.out
                    .extend_from_slice(&window[..taken])
                    .expect("`taken` is at most the room left");
                (taken, found)
            };
            Pin::new(&mut *this.reader).consume(taken);
            this.appended += taken;
            if found {
                return Poll::Ready(Ok(this.appended));
            }
        }
    }
}
