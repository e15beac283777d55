//! `futures-io` <-> ebbtide IO traits (feature `futures-io`, which needs std).

extern crate std;

use core::pin::Pin;
use core::task::{Context, Poll};
use std::io;

use super::{AsyncBufRead, AsyncRead, AsyncWrite, ErrorType};

/// Bridges ebbtide's IO traits and the `futures-io` traits, both ways (feature `futures-io`).
///
/// - `Compat<T>` with `T` an ebbtide stream (`T: AsyncRead`/`AsyncWrite`/`AsyncBufRead`,
///   `Unpin`, with an error that converts into `std::io::Error`) implements
///   [`futures_io::AsyncRead`], [`futures_io::AsyncWrite`] and [`futures_io::AsyncBufRead`]:
///   hand ebbtide sockets to crates written for futures-io.
/// - `Compat<T>` with `T` a futures-io stream implements ebbtide's [`AsyncRead`], [`AsyncWrite`]
///   and [`AsyncBufRead`] with `std::io::Error` errors.
///
/// # Limits
///
/// This feature needs std: futures-io has no traits without it. `poll_write_vectored` passes on
/// only the first non-empty buffer in either direction (converting between `IoSlice` arrays and
/// `&[&[u8]]` without allocating would need a fixed cap); `poll_close` of futures-io maps to
/// `poll_shutdown`.
///
/// # Examples
///
/// A futures-io reader (`&[u8]`) and writer (`Vec<u8>`) used through ebbtide's helpers:
///
/// ```
/// use ebbtide_core::io::{copy, AsyncBufReadExt, Compat};
///
/// ebbtide_core::block_on(async {
///     let mut lines = Compat::new(&b"one\ntwo\n"[..]);
///     let mut line = heapless::Vec::<u8, 8>::new();
///     lines.read_line(&mut line).await.unwrap();
///     assert_eq!(&line[..], b"one\n");
///
///     let mut out = Compat::new(Vec::new());
///     let copied = copy(&mut lines, &mut out, &mut [0u8; 4]).await;
///     assert_eq!(copied.unwrap(), 4);
///     assert_eq!(out.into_inner(), b"two\n");
/// });
/// ```
///
/// An ebbtide stream handed to code written for futures-io:
///
/// ```
/// use ebbtide_core::io::Compat;
///
/// fn wants_futures_io<S: futures_io::AsyncRead + futures_io::AsyncWrite>(_stream: S) {}
///
/// // Any ebbtide stream whose error converts into `std::io::Error`, e.g. a std driver's
/// // socket; here a futures-io stream made ebbtide and back again.
/// wants_futures_io(Compat::new(Compat::new(futures_io_duplex())));
/// # fn futures_io_duplex() -> impl futures_io::AsyncRead + futures_io::AsyncWrite + Unpin {
/// #     struct S;
/// #     impl futures_io::AsyncRead for S {
/// #         fn poll_read(self: core::pin::Pin<&mut Self>, _: &mut core::task::Context<'_>, _: &mut [u8])
/// #             -> core::task::Poll<std::io::Result<usize>> { core::task::Poll::Ready(Ok(0)) }
/// #     }
/// #     impl futures_io::AsyncWrite for S {
/// #         fn poll_write(self: core::pin::Pin<&mut Self>, _: &mut core::task::Context<'_>, b: &[u8])
/// #             -> core::task::Poll<std::io::Result<usize>> { core::task::Poll::Ready(Ok(b.len())) }
/// #         fn poll_flush(self: core::pin::Pin<&mut Self>, _: &mut core::task::Context<'_>)
/// #             -> core::task::Poll<std::io::Result<()>> { core::task::Poll::Ready(Ok(())) }
/// #         fn poll_close(self: core::pin::Pin<&mut Self>, _: &mut core::task::Context<'_>)
/// #             -> core::task::Poll<std::io::Result<()>> { core::task::Poll::Ready(Ok(())) }
/// #     }
/// #     S
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Compat<T> {
    inner: T,
}

impl<T> Compat<T> {
    /// Wraps `inner`.
    ///
    /// # Examples
    ///
    /// ```
    /// let compat = ebbtide_core::io::Compat::new(5);
    /// assert_eq!(*compat.get_ref(), 5);
    /// ```
    pub const fn new(inner: T) -> Self {
        Compat { inner }
    }

    /// The wrapped stream.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(*ebbtide_core::io::Compat::new(5).get_ref(), 5);
    /// ```
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The wrapped stream, mutably.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut compat = ebbtide_core::io::Compat::new(5);
    /// *compat.get_mut() += 1;
    /// assert_eq!(compat.into_inner(), 6);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the stream.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(ebbtide_core::io::Compat::new(5).into_inner(), 5);
    /// ```
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: AsyncRead + Unpin> futures_io::AsyncRead for Compat<T>
where
    T::Error: Into<io::Error>,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner)
            .poll_read(cx, buf)
            .map_err(Into::into)
    }
}

impl<T: AsyncBufRead + Unpin> futures_io::AsyncBufRead for Compat<T>
where
    T::Error: Into<io::Error>,
{
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        Pin::new(&mut self.get_mut().inner)
            .poll_fill_buf(cx)
            .map_err(Into::into)
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        Pin::new(&mut self.get_mut().inner).consume(amt);
    }
}

impl<T: AsyncWrite + Unpin> futures_io::AsyncWrite for Compat<T>
where
    T::Error: Into<io::Error>,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner)
            .poll_write(cx, buf)
            .map_err(Into::into)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner)
            .poll_flush(cx)
            .map_err(Into::into)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner)
            .poll_shutdown(cx)
            .map_err(Into::into)
    }
}

impl<T> ErrorType for Compat<T> {
    type Error = io::Error;
}

impl<T: futures_io::AsyncRead + Unpin> AsyncRead for Compat<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<T: futures_io::AsyncBufRead + Unpin> AsyncBufRead for Compat<T> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        Pin::new(&mut self.get_mut().inner).poll_fill_buf(cx)
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        Pin::new(&mut self.get_mut().inner).consume(amt);
    }
}

impl<T: futures_io::AsyncWrite + Unpin> AsyncWrite for Compat<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_close(cx)
    }
}
