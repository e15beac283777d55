//! Async IO: the traits and helpers of [`ebbtide_core::io`], and [`AsyncFd`] for any file
//! descriptor.
//!
//! Everything of `ebbtide_core::io` is re-exported here ([`AsyncRead`], [`AsyncWrite`],
//! [`AsyncBufRead`], their extension traits, [`copy`], [`BufReader`], ...), so a program needs
//! only `ebbtide_std::io`. The sockets of [`crate::net`] implement the traits with
//! `std::io::Error` as their error type.
//!
//! # Examples
//!
//! ```
//! use ebbtide_std::io::{AsyncReadExt, AsyncWriteExt};
//! use ebbtide_std::net::UnixStream;
//!
//! ebbtide_std::Runtime::new().unwrap().block_on(async {
//!     let (mut a, mut b) = UnixStream::pair().unwrap();
//!     a.write_all(b"hello").await.unwrap();
//!     let mut buf = [0u8; 5];
//!     b.read_exact(&mut buf).await.unwrap();
//!     assert_eq!(&buf, b"hello");
//! });
//! ```

mod async_fd;
mod interest;
mod poll_evented;

pub use async_fd::{set_nonblocking, AsyncFd, AsyncFdReadyGuard, AsyncFdReadyMutGuard, TryIoError};
pub use ebbtide_core::io::*;
pub use interest::Interest;
pub(crate) use poll_evented::PollEvented;
