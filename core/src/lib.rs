//! The allocation-free, `no_std` core of the ebbtide async runtime.
//!
//! `ebbtide-core` holds everything of an async runtime that needs no operating system: an
//! executor that runs tasks from static pools, wakers, time through the `embassy-time-driver`
//! contract, channels and locks, and `join!`/`select!`. It never allocates and never blocks. A
//! *driver* (`ebbtide-std` on Linux and macOS, `ebbtide-wasi` on WASI, a few lines of your own on a
//! microcontroller) polls the executor and waits for the OS in between.
//!
//! # A tour
//!
//! Tasks live in a [`TaskPool`], run on an [`Executor`], and hand their output back through a
//! [`JoinHandle`]:
//!
//! ```
//! use ebbtide_core::{Executor, TaskPool};
//! use ebbtide_core::sync::mpsc;
//!
//! static EXECUTOR: Executor = Executor::new();
//! static WORKERS: TaskPool<4> = TaskPool::named("workers");
//! static JOBS: mpsc::Channel<u32, 8> = mpsc::Channel::new();
//!
//! let runner = EXECUTOR.runner().unwrap();
//! let spawner = runner.spawner();
//! // A channel hands out its ends once: clone the `Sender` for more producers.
//! let (jobs, mut inbox) = JOBS.split();
//! let sum = spawner
//!     .spawn(&WORKERS, async move {
//!         let mut sum = 0;
//!         while let Some(job) = inbox.recv().await {
//!             sum += job;
//!         }
//!         sum
//!     })
//!     .unwrap();
//! spawner
//!     .spawn(&WORKERS, async move {
//!         for job in 1..=4 {
//!             jobs.send(job).await.unwrap();
//!         }
//!         // Dropping the last `Sender` closes the channel: `recv` drains it, then gives `None`.
//!     })
//!     .unwrap();
//! // A driver's loop; here, a busy loop that also awaits `sum`.
//! assert_eq!(runner.run_until(sum, || {}), Ok(10));
//! ```
//!
//! Time comes from whichever `embassy-time-driver` the program links (ebbtide's drivers provide
//! one); [`time::sleep`], [`time::timeout`] and [`time::interval`] build on it, and so does
//! embassy-time's own `Timer`.
//!
//! # Crate layout
//!
//! - [`Executor`], [`Runner`], [`Spawner`], [`SendSpawner`], [`TaskPool`], [`JoinHandle`]: tasks.
//! - [`task`]: `yield_now` and the cooperative budget.
//! - [`time`]: `Instant`, `Duration`, `sleep`, `timeout`, `interval`, and the timer queue drivers use.
//! - [`sync`]: `mpsc`, `oneshot`, `watch`, `broadcast`, `Notify`, `Mutex`, `Semaphore`.
//! - [`blocking_mutex`]: the locks those primitives are generic over.
//! - [`io`]: the async read/write traits drivers implement, helpers (`copy`, `BufReader`), `Pipe`.
//! - [`join!`], [`try_join!`], [`select!`]: waiting for several futures at once.
//! - `raw` (private): the unsafe engine, fenced in one module.
//!
//! # Panics
//!
//! `ebbtide-core` cannot catch a panic (`no_std` has no `catch_unwind`). On bare metal a panic
//! goes to the program's panic handler, which usually halts or resets. Where panics unwind (tests,
//! std), a task that panics is marked as panicked (its [`JoinHandle`] yields
//! [`JoinError::Panicked`]), its future is leaked rather than dropped, and the panic propagates
//! out of [`Runner::poll`] with the rest of the batch re-queued; ebbtide-std catches it there and
//! keeps running.

#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs, clippy::undocumented_unsafe_blocks)]

#[cfg(test)]
extern crate std;

mod loom;

mod block_on;
pub mod blocking_mutex;
mod executor;
pub mod io;
mod join;
mod macros;
mod pool;
mod raw;
pub mod size_classes;
pub mod sync;
pub mod task;
pub mod time;

pub use block_on::{block_on, block_on_with_idle};
pub use executor::{Executor, Runner, SendSpawner, SpawnError, Spawner};
pub use join::{JoinError, JoinHandle};
pub use pool::{Pool, SlicePool, TaskPool, DEFAULT_TASK_SIZE};
pub use raw::{Header, TaskSlot, MAX_TASK_ALIGN};

#[doc(hidden)]
pub mod __private {
    pub use pin_utils::pin_mut;

    pub use crate::macros::support::*;
}
