//! The runtime shell that ebbtide's OS drivers share.
//!
//! `ebbtide-host` is what ebbtide-std (Linux, macOS) and ebbtide-wasi (wasm32-wasip1) have in
//! common above ebbtide-core: the [`Runtime`] shell (the current runtime of a thread, spawning,
//! the run loop with panic catching, shutdown, reuse of a dropped runtime's parts), task memory in
//! size classes, and one [`JoinHandle`], [`JoinError`] and [`SpawnError`]. A service uses it
//! through its driver's re-exports (`ebbtide_std::JoinError` is `ebbtide_host::JoinError`), so
//! the same source builds for both. A driver author implements [`HostDriver`], which is
//! [`ebbtide_core::driver::Park`] (how to wait) plus how to build, wake, close and reuse the
//! driver, and wraps [`Runtime<D>`] in a `Runtime` of its own.
//!
//! # Examples
//!
//! Through ebbtide-std:
//!
//! ```
//! let runtime = ebbtide_std::Runtime::new().unwrap();
//! let error = runtime.block_on(async {
//!     let task = ebbtide_std::spawn(std::future::pending::<()>()).unwrap();
//!     task.abort();
//!     task.await.unwrap_err()
//! });
//! // The same type on every host driver.
//! let error: ebbtide_host::JoinError = error;
//! assert!(error.is_cancelled());
//! ```
//!
//! See [`HostDriver`] for a whole driver.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs, clippy::undocumented_unsafe_blocks)]

mod clock;
mod context;
mod driver;
mod home;
mod join;
mod join_set;
pub mod memory;
mod recycle;
pub mod runtime;
mod shell;
pub mod sync;
pub mod task;
mod thread_park;
pub mod time;

pub use clock::now;
pub use context::{schedule_wake, schedule_wake_or};
pub use runtime::{Handle, HostDriver, Options, Runtime, SpawnGuard};
pub use task::{spawn, spawn_local, JoinError, JoinHandle, JoinSet, PanicPayload, SpawnError};
