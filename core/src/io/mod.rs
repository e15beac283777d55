//! Async byte streams: the traits every ebbtide driver implements, and helpers over them.
//!
//! A TCP socket of ebbtide-std, stdin of ebbtide-wasi and a UART of your own board all implement
//! the same three poll-based traits, so one protocol implementation runs on all of them:
//!
//! - [`AsyncRead`]: `poll_read` into a caller's `&mut [u8]`.
//! - [`AsyncWrite`]: `poll_write`, `poll_write_vectored`, `poll_flush`, `poll_shutdown`.
//! - [`AsyncBufRead`]: `poll_fill_buf` and `consume`, for readers with a buffer of their own.
//!
//! Their error type comes from [`ErrorType`] (embedded-io's), whose `Error` only has to say its
//! [`ErrorKind`]: drivers on an OS use `std::io::Error` (enable this crate's `std` feature, which
//! turns on `embedded-io/std`), a bare-metal driver something as small as [`ErrorKind`] itself.
//! Nothing here allocates: every buffer is the caller's or a fixed-size array.
//!
//! # A tour
//!
//! The extension traits [`AsyncReadExt`], [`AsyncWriteExt`] and [`AsyncBufReadExt`] give the
//! usual `async` helpers (`read`, `read_exact`, `write_all`, `read_line`, ...), each returning a
//! named future. [`Pipe`] is an in-memory stream with a `const` constructor, handy in tests:
//!
//! ```
//! use ebbtide_core::io::{AsyncReadExt, AsyncWriteExt, Pipe};
//!
//! let pipe: Pipe<16> = Pipe::new();
//! let (mut rx, mut tx) = pipe.split();
//! ebbtide_core::block_on(async {
//!     tx.write_all(b"hello").await.unwrap();
//!     let mut buf = [0u8; 5];
//!     rx.read_exact(&mut buf).await.unwrap();
//!     assert_eq!(&buf, b"hello");
//! });
//! ```
//!
//! Line-based protocols read through a [`BufReader`] into a `heapless::Vec`; a line longer than
//! the `Vec` is an error that loses no data:
//!
//! ```
//! use ebbtide_core::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Pipe};
//!
//! let pipe: Pipe<32> = Pipe::new();
//! let (rx, mut tx) = pipe.split();
//! let mut lines = BufReader::<_, 16>::new(rx);
//! ebbtide_core::block_on(async {
//!     tx.write_all(b"nick ada\r\nhi all\n").await.unwrap();
//!     drop(tx); // end of stream
//!     let mut line = heapless::Vec::<u8, 32>::new();
//!     while lines.read_line(&mut line).await.unwrap() > 0 {
//!         let text = line.trim_ascii_end(); // drops "\n" or "\r\n"
//!         assert!(text == b"nick ada" || text == b"hi all");
//!         line.clear();
//!     }
//! });
//! ```
//!
//! [`copy`] and [`copy_bidirectional`] move bytes between streams through buffers the caller
//! supplies (a proxy in two lines); [`Duplex`] gives two connected bidirectional ends to test
//! them with. [`EmbeddedIo`] makes any ebbtide stream an `embedded-io-async` one, and with the
//! `futures-io` feature `Compat` bridges to the `futures-io` traits.
//!
//! # Implementing the traits in a driver
//!
//! A driver implements [`ErrorType`] and the `poll_*` methods on its handle; the helpers come
//! for free. A poll method returns `Pending` only after arranging for `cx.waker()` to be woken
//! when the call may succeed (the reactor saw the fd readable, an interrupt filled a FIFO, ...):
//!
//! ```
//! use core::pin::Pin;
//! use core::task::{Context, Poll};
//! use ebbtide_core::io::{AsyncRead, ErrorKind, ErrorType};
//!
//! /// A reader that always has zeroes ready (a stand-in for a socket).
//! struct Zeroes;
//!
//! impl ErrorType for Zeroes {
//!     type Error = ErrorKind; // a driver on std: `std::io::Error`
//! }
//!
//! impl AsyncRead for Zeroes {
//!     fn poll_read(
//!         self: Pin<&mut Self>,
//!         _cx: &mut Context<'_>,
//!         buf: &mut [u8],
//!     ) -> Poll<Result<usize, ErrorKind>> {
//!         // A socket: try the non-blocking read; on `WouldBlock`, register `cx.waker()` with
//!         // the reactor and return `Poll::Pending`.
//!         buf.fill(0);
//!         Poll::Ready(Ok(buf.len()))
//!     }
//! }
//! ```
//!
//! # Limits
//!
//! - The blanket impls cover `&mut T` (for `T: Unpin`), not `Pin<&mut T>`: the traits' supertrait
//!   [`ErrorType`] belongs to embedded-io, and the orphan rule forbids implementing it for `Pin`.
//!   Helpers therefore ask for `Unpin` streams; every driver handle is `Unpin`.
//! - Vectored writes take `&[&[u8]]`, not `std::io::IoSlice` (which needs std); a driver that
//!   calls `writev` copies the slices into a small array of `IoSlice`s on its stack.

use core::pin::Pin;
use core::task::{Context, Poll};

mod buf_reader;
#[cfg(feature = "futures-io")]
mod compat;
mod copy;
mod embedded;
mod error;
mod ext;
mod pipe;
mod raw;

pub use buf_reader::BufReader;
#[cfg(feature = "futures-io")]
pub use compat::Compat;
pub use copy::{copy, copy_bidirectional, Copy, CopyBidirectional};
pub use embedded::EmbeddedIo;
pub use embedded_io::{Error, ErrorKind, ErrorType, ReadExactError};
pub use error::{CopyBidirectionalError, CopyError, ReadUntilError, WriteAllError};
pub use ext::{
    AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, FillBuf, Flush, Read, ReadExact, ReadToLimit,
    ReadUntil, Shutdown, Write, WriteAll, WriteVectored,
};
#[cfg(feature = "std")]
pub use ext::{ReadToEnd, ReadToString};
pub use pipe::{AlreadySplit, Duplex, DuplexStream, Pipe, PipeReader, PipeWriter};
pub use raw::zero_uninit;

/// A source of bytes that can be read without blocking.
///
/// # Contract
///
/// - `poll_read` **must** return `Ready(Ok(n))` with `0 < n <= buf.len()` once bytes are
///   available, having written them to `buf[..n]`.
/// - `Ready(Ok(0))` with a non-empty `buf` means end of stream (the peer shut its write half, the
///   file ended). A `buf` of length 0 may return `Ready(Ok(0))` at once.
/// - `Pending` **must** come with `cx.waker()` registered to be woken when a new call may make
///   progress; only the waker of the latest call needs to be woken.
///
/// # Examples
///
/// ```
/// use core::pin::Pin;
/// use core::task::{Context, Poll};
/// use ebbtide_core::io::{AsyncRead, AsyncReadExt, ErrorKind, ErrorType};
///
/// /// Yields its bytes once, then end of stream.
/// struct Bytes(&'static [u8]);
///
/// impl ErrorType for Bytes {
///     type Error = ErrorKind;
/// }
///
/// impl AsyncRead for Bytes {
///     fn poll_read(
///         mut self: Pin<&mut Self>,
///         _cx: &mut Context<'_>,
///         buf: &mut [u8],
///     ) -> Poll<Result<usize, ErrorKind>> {
///         let n = buf.len().min(self.0.len());
///         buf[..n].copy_from_slice(&self.0[..n]);
///         self.0 = &self.0[n..];
///         Poll::Ready(Ok(n))
///     }
/// }
///
/// let mut buf = [0u8; 8];
/// let n = ebbtide_core::block_on(Bytes(b"hey").read(&mut buf)).unwrap();
/// assert_eq!(&buf[..n], b"hey");
/// ```
pub trait AsyncRead: ErrorType {
    /// Reads bytes into `buf`: `Ready(Ok(n))` with `n > 0` bytes read, `Ready(Ok(0))` at the
    /// end of the stream, or `Pending` with the waker registered.
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<Result<usize, Self::Error>>;

    /// Reads into memory that may not be initialised yet: `Ready(Ok(n))` means the first `n`
    /// elements of `buf` now hold the bytes read (and are initialised); the rest are untouched.
    ///
    /// This is how a caller with a large spare buffer (hyper's read buffer, through
    /// ebbtide-hyper) avoids writing zeros over all of it before every read. The default zeroes
    /// `buf` ([`zero_uninit`]) and calls [`poll_read`](AsyncRead::poll_read); a source that the
    /// OS fills directly (ebbtide-std's sockets) overrides it and writes nothing itself.
    fn poll_read_uninit(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [core::mem::MaybeUninit<u8>],
    ) -> Poll<Result<usize, Self::Error>> {
        self.poll_read(cx, zero_uninit(buf))
    }
}

/// A sink of bytes that can be written without blocking.
///
/// # Contract
///
/// - `poll_write` **must** return `Ready(Ok(n))` with `0 < n <= buf.len()` once it accepted `n`
///   bytes. `Ready(Ok(0))` with a non-empty `buf` means the sink will never take more (the
///   helpers turn it into a `WriteZero` error); a closed peer is better told as an error
///   ([`ErrorKind::BrokenPipe`]).
/// - `poll_flush` completes once every accepted byte has left the implementation's own buffers.
/// - `poll_shutdown` flushes and then closes the write half: the peer reads end of stream. Reads
///   (if any) keep working.
/// - `Pending` **must** come with `cx.waker()` registered, as for [`AsyncRead`].
///
/// # Examples
///
/// ```
/// use core::pin::Pin;
/// use core::task::{Context, Poll};
/// use ebbtide_core::io::{AsyncWrite, AsyncWriteExt, ErrorKind, ErrorType};
///
/// /// Counts the bytes written to it.
/// struct Counter(usize);
///
/// impl ErrorType for Counter {
///     type Error = ErrorKind;
/// }
///
/// impl AsyncWrite for Counter {
///     fn poll_write(
///         mut self: Pin<&mut Self>,
///         _cx: &mut Context<'_>,
///         buf: &[u8],
///     ) -> Poll<Result<usize, ErrorKind>> {
///         self.0 += buf.len();
///         Poll::Ready(Ok(buf.len()))
///     }
///     fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), ErrorKind>> {
///         Poll::Ready(Ok(()))
///     }
///     fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), ErrorKind>> {
///         Poll::Ready(Ok(()))
///     }
/// }
///
/// let mut counter = Counter(0);
/// ebbtide_core::block_on(counter.write_all(b"four")).unwrap();
/// assert_eq!(counter.0, 4);
/// ```
pub trait AsyncWrite: ErrorType {
    /// Writes bytes from `buf`: `Ready(Ok(n))` with the `n` bytes accepted, or `Pending` with the
    /// waker registered.
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<Result<usize, Self::Error>>;

    /// Writes bytes from several buffers, in order, as one write where the implementation can
    /// (`writev`): `Ready(Ok(n))` with the `n` bytes accepted from the front.
    ///
    /// The default writes the first non-empty buffer with [`poll_write`](AsyncWrite::poll_write)
    /// (and returns `Ready(Ok(0))` if all are empty).
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[&[u8]],
    ) -> Poll<Result<usize, Self::Error>> {
        match bufs.iter().find(|buf| !buf.is_empty()) {
            Some(buf) => self.poll_write(cx, buf),
            None => Poll::Ready(Ok(0)),
        }
    }

    /// Whether [`poll_write_vectored`](AsyncWrite::poll_write_vectored) writes several buffers
    /// at once (`writev`) rather than the default's first one only.
    ///
    /// A caller with many small buffers (hyper's headers and body chunks) hands them over as they
    /// are when this says `true`, and copies them into one buffer first when it says `false`.
    /// The default says `false`.
    fn is_write_vectored(&self) -> bool {
        false
    }

    /// Pushes every accepted byte out of the implementation's own buffers.
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>>;

    /// Flushes, then closes the write half: the peer sees end of stream.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>>;
}

/// A reader with an internal buffer that it lends out, so a caller can look for a delimiter
/// before taking bytes.
///
/// # Contract
///
/// - `poll_fill_buf` returns the buffered bytes, reading more first only if none are buffered.
///   An empty slice means end of stream.
/// - After `poll_fill_buf` returned a **non-empty** slice, calling it again before
///   [`consume`](AsyncBufRead::consume) **must** return `Ready` with the same bytes at once
///   (without IO); [`AsyncBufReadExt::fill_buf`] and [`EmbeddedIo`] rely on it.
/// - `consume(amt)` marks the first `amt` of those bytes as read; `amt` is at most their number.
///
/// # Examples
///
/// ```
/// use ebbtide_core::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Pipe};
///
/// let pipe: Pipe<8> = Pipe::new();
/// let (rx, mut tx) = pipe.split();
/// let mut reader = BufReader::<_, 4>::new(rx);
/// ebbtide_core::block_on(async {
///     tx.write_all(b"abc").await.unwrap();
///     assert_eq!(reader.fill_buf().await.unwrap(), b"abc");
///     reader.consume(2);
///     assert_eq!(reader.fill_buf().await.unwrap(), b"c");
/// });
/// ```
pub trait AsyncBufRead: AsyncRead {
    /// The buffered bytes, reading into the buffer first if it is empty; empty at end of stream.
    fn poll_fill_buf(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<&[u8], Self::Error>>;

    /// Marks the first `amt` buffered bytes as read.
    fn consume(self: Pin<&mut Self>, amt: usize);
}

impl<T: ?Sized + AsyncRead + Unpin> AsyncRead for &mut T {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<Result<usize, Self::Error>> {
        Pin::new(&mut **self.get_mut()).poll_read(cx, buf)
    }

    fn poll_read_uninit(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [core::mem::MaybeUninit<u8>],
    ) -> Poll<Result<usize, Self::Error>> {
        Pin::new(&mut **self.get_mut()).poll_read_uninit(cx, buf)
    }
}

impl<T: ?Sized + AsyncWrite + Unpin> AsyncWrite for &mut T {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<Result<usize, Self::Error>> {
        Pin::new(&mut **self.get_mut()).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[&[u8]],
    ) -> Poll<Result<usize, Self::Error>> {
        Pin::new(&mut **self.get_mut()).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        (**self).is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Pin::new(&mut **self.get_mut()).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Pin::new(&mut **self.get_mut()).poll_shutdown(cx)
    }
}

impl<T: ?Sized + AsyncBufRead + Unpin> AsyncBufRead for &mut T {
    fn poll_fill_buf(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<&[u8], Self::Error>> {
        Pin::new(&mut **self.get_mut()).poll_fill_buf(cx)
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        Pin::new(&mut **self.get_mut()).consume(amt);
    }
}
