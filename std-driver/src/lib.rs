//! The Linux and macOS driver of ebbtide: a runtime on mio (epoll, kqueue, or poll).
//!
//! `ebbtide-std` is what a service uses instead of Tokio. One thread runs every task and waits in
//! one OS call for IO and the next timer; memory for tasks and IO resources is reserved when the
//! [`Runtime`] is built, and nothing allocates per spawn, per timer or per IO operation after
//! that.
//!
//! ```
//! use ebbtide_std::time::{sleep, Duration};
//!
//! let runtime = ebbtide_std::Runtime::new().unwrap();
//! runtime.block_on(async {
//!     let greeter = ebbtide_std::spawn(async {
//!         sleep(Duration::from_millis(1)).await;
//!         "hello"
//!     })
//!     .unwrap();
//!     assert_eq!(greeter.await.unwrap(), "hello");
//! });
//! ```

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs, clippy::undocumented_unsafe_blocks)]

pub mod blocking;
mod context;
pub mod fs;
pub mod io;
pub mod net;
pub mod reactor;
pub mod runtime;
pub mod signal;
mod sys;
pub mod task;
pub mod time;

pub use blocking::spawn_blocking;
pub use ebbtide_core::{join, select, sync, try_join};
/// Runs an `async fn main` on a [`Runtime`], like `#[tokio::main]`.
///
/// Arguments (all optional): `task_capacity = N`, `event_capacity = N`, `io_capacity = N`, and
/// `crate = "path"` for a renamed dependency.
///
/// # Examples
///
/// ```
/// #[ebbtide_std::main(task_capacity = 64)]
/// async fn main() -> std::io::Result<()> {
///     ebbtide_std::time::sleep(ebbtide_std::time::Duration::from_millis(1)).await;
///     Ok(())
/// }
/// # fn _unused() {}
/// ```
pub use ebbtide_macros::main;
/// Runs an `async fn` test on a fresh [`Runtime`], like `#[tokio::test]`.
///
/// # Examples
///
/// ```
/// #[ebbtide_std::test]
/// async fn spawns() {
///     assert_eq!(ebbtide_std::spawn(async { 1 }).unwrap().await.unwrap(), 1);
/// }
/// ```
pub use ebbtide_macros::test;
pub use runtime::{Builder, Handle, Metrics, Runtime};
pub use task::{spawn, spawn_local, JoinError, JoinHandle, SpawnError};

/// The README's examples, compiled as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
mod readme_examples {}
