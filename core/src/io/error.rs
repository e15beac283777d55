//! The errors of the IO helpers: the stream's own error, or a condition the helper found.
//!
//! Each implements embedded-io's [`Error`] (so it has a [`kind`](Error::kind)); with the `std`
//! feature each converts into `std::io::Error` when the streams' errors are `std::io::Error`, so
//! `?` works in a function returning `std::io::Result`.

use core::fmt;

use super::{Error, ErrorKind};

/// The error of [`write_all`](super::AsyncWriteExt::write_all).
///
/// # Examples
///
/// ```
/// use ebbtide_core::io::{Error, ErrorKind, WriteAllError};
///
/// let error: WriteAllError<ErrorKind> = WriteAllError::WriteZero;
/// assert_eq!(error.kind(), ErrorKind::WriteZero);
/// assert_eq!(WriteAllError::Other(ErrorKind::BrokenPipe).kind(), ErrorKind::BrokenPipe);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteAllError<E> {
    /// The writer accepted no bytes of a non-empty buffer: it will never take more.
    WriteZero,
    /// The writer's own error.
    Other(E),
}

/// The error of [`read_until`](super::AsyncBufReadExt::read_until) and
/// [`read_line`](super::AsyncBufReadExt::read_line).
///
/// # Examples
///
/// ```
/// use ebbtide_core::io::{Error, ErrorKind, ReadUntilError};
///
/// let error: ReadUntilError<ErrorKind> = ReadUntilError::TooLong;
/// assert_eq!(error.kind(), ErrorKind::OutOfMemory);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadUntilError<E> {
    /// The output `Vec` filled up before the delimiter came. No data is lost: the `Vec` holds
    /// the start of the line, the reader the rest. Its [`kind`](Error::kind) is
    /// [`ErrorKind::OutOfMemory`].
    TooLong,
    /// The reader's own error.
    Other(E),
}

/// The error of [`copy`](super::copy): which side failed.
///
/// # Examples
///
/// ```
/// use ebbtide_core::io::{CopyError, Error, ErrorKind};
///
/// let error: CopyError<ErrorKind, ErrorKind> = CopyError::Write(ErrorKind::BrokenPipe);
/// assert_eq!(error.kind(), ErrorKind::BrokenPipe);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyError<R, W> {
    /// Reading failed.
    Read(R),
    /// Writing (or flushing) failed.
    Write(W),
    /// The writer accepted no bytes of a non-empty buffer.
    WriteZero,
}

/// The error of [`copy_bidirectional`](super::copy_bidirectional): which direction failed, and
/// on which side.
///
/// # Examples
///
/// ```
/// use ebbtide_core::io::{CopyBidirectionalError, CopyError, Error, ErrorKind};
///
/// // Writing to `a` (while copying from `b`) failed.
/// let error: CopyBidirectionalError<ErrorKind, ErrorKind> =
///     CopyBidirectionalError::BToA(CopyError::Write(ErrorKind::ConnectionReset));
/// assert_eq!(error.kind(), ErrorKind::ConnectionReset);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyBidirectionalError<A, B> {
    /// Copying from `a` to `b` failed: reading `a` or writing `b`.
    AToB(CopyError<A, B>),
    /// Copying from `b` to `a` failed: reading `b` or writing `a`.
    BToA(CopyError<B, A>),
}

impl<E> From<E> for WriteAllError<E> {
    fn from(error: E) -> Self {
        WriteAllError::Other(error)
    }
}

impl<E> From<E> for ReadUntilError<E> {
    fn from(error: E) -> Self {
        ReadUntilError::Other(error)
    }
}

impl<E: fmt::Display> fmt::Display for WriteAllError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteAllError::WriteZero => f.write_str("the writer accepted no more bytes"),
            WriteAllError::Other(error) => error.fmt(f),
        }
    }
}

impl<E: fmt::Display> fmt::Display for ReadUntilError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadUntilError::TooLong => f.write_str(
                "line longer than the buffer: it holds the start of the line, the reader the rest",
            ),
            ReadUntilError::Other(error) => error.fmt(f),
        }
    }
}

impl<R: fmt::Display, W: fmt::Display> fmt::Display for CopyError<R, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CopyError::Read(error) => write!(f, "copy: reading failed: {error}"),
            CopyError::Write(error) => write!(f, "copy: writing failed: {error}"),
            CopyError::WriteZero => f.write_str("copy: the writer accepted no more bytes"),
        }
    }
}

impl<A: fmt::Display, B: fmt::Display> fmt::Display for CopyBidirectionalError<A, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CopyBidirectionalError::AToB(error) => write!(f, "a to b: {error}"),
            CopyBidirectionalError::BToA(error) => write!(f, "b to a: {error}"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> core::error::Error for WriteAllError<E> {}
impl<E: fmt::Debug + fmt::Display> core::error::Error for ReadUntilError<E> {}
impl<R, W> core::error::Error for CopyError<R, W>
where
    R: fmt::Debug + fmt::Display,
    W: fmt::Debug + fmt::Display,
{
}
impl<A, B> core::error::Error for CopyBidirectionalError<A, B>
where
    A: fmt::Debug + fmt::Display,
    B: fmt::Debug + fmt::Display,
{
}

impl<E: Error> Error for WriteAllError<E> {
    fn kind(&self) -> ErrorKind {
        match self {
            WriteAllError::WriteZero => ErrorKind::WriteZero,
            WriteAllError::Other(error) => error.kind(),
        }
    }
}

impl<E: Error> Error for ReadUntilError<E> {
    fn kind(&self) -> ErrorKind {
        match self {
            ReadUntilError::TooLong => ErrorKind::OutOfMemory,
            ReadUntilError::Other(error) => error.kind(),
        }
    }
}

impl<R: Error, W: Error> Error for CopyError<R, W> {
    fn kind(&self) -> ErrorKind {
        match self {
            CopyError::Read(error) => error.kind(),
            CopyError::Write(error) => error.kind(),
            CopyError::WriteZero => ErrorKind::WriteZero,
        }
    }
}

impl<A: Error, B: Error> Error for CopyBidirectionalError<A, B> {
    fn kind(&self) -> ErrorKind {
        match self {
            CopyBidirectionalError::AToB(error) => error.kind(),
            CopyBidirectionalError::BToA(error) => error.kind(),
        }
    }
}

/// Conversions into `std::io::Error` for `?` in drivers and std programs. The helper's own
/// conditions become an error of the matching kind, made without allocating.
#[cfg(feature = "std")]
mod to_std {
    extern crate std;

    use std::io;

    use super::{CopyBidirectionalError, CopyError, ReadUntilError, WriteAllError};

    impl From<WriteAllError<io::Error>> for io::Error {
        fn from(error: WriteAllError<io::Error>) -> io::Error {
            match error {
                WriteAllError::WriteZero => io::ErrorKind::WriteZero.into(),
                WriteAllError::Other(error) => error,
            }
        }
    }

    impl From<ReadUntilError<io::Error>> for io::Error {
        fn from(error: ReadUntilError<io::Error>) -> io::Error {
            match error {
                ReadUntilError::TooLong => io::ErrorKind::OutOfMemory.into(),
                ReadUntilError::Other(error) => error,
            }
        }
    }

    impl From<CopyError<io::Error, io::Error>> for io::Error {
        fn from(error: CopyError<io::Error, io::Error>) -> io::Error {
            match error {
                CopyError::Read(error) | CopyError::Write(error) => error,
                CopyError::WriteZero => io::ErrorKind::WriteZero.into(),
            }
        }
    }

    impl From<CopyBidirectionalError<io::Error, io::Error>> for io::Error {
        fn from(error: CopyBidirectionalError<io::Error, io::Error>) -> io::Error {
            match error {
                CopyBidirectionalError::AToB(error) | CopyBidirectionalError::BToA(error) => {
                    error.into()
                }
            }
        }
    }
}
