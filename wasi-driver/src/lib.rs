//! The wasm32-wasip1 driver of ebbtide: a runtime that waits in `poll_oneoff`.
//!
//! `ebbtide-wasi` runs ebbtide's tasks, timers and IO in a WASI preview 1 program, with the same
//! API as `ebbtide-std` where the platform allows, so that one program's source builds for both:
//! [`Runtime`] (`new`, `builder`, `block_on`, `spawn`), [`spawn`], [`spawn_local`],
//! [`JoinHandle`], [`time`] (`sleep`, `timeout`, `interval`, `Instant`), [`io`] (the
//! `AsyncRead`/`AsyncWrite` traits and helpers, plus async [`stdin`](io::stdin)), [`net`]
//! (`TcpListener`, `TcpStream`), [`sync`], [`join!`], [`select!`].
//!
//! One thread runs every task. When none is ready, the runtime makes one `poll_oneoff` call: a
//! relative monotonic clock subscription for the next timer, plus one fd subscription per task
//! waiting on stdin or a socket. Memory for tasks and for the reactor's table is reserved when
//! the [`Runtime`] is built; nothing allocates per spawn, per timer or per wait.
//!
//! ```no_run
//! use ebbtide_wasi::time::{sleep, Duration};
//!
//! let runtime = ebbtide_wasi::Runtime::new().unwrap();
//! runtime.block_on(async {
//!     let greeter = ebbtide_wasi::spawn(async {
//!         sleep(Duration::from_millis(1)).await;
//!         "hello"
//!     })
//!     .unwrap();
//!     assert_eq!(greeter.await.unwrap(), "hello");
//! });
//! ```
//!
//! # Building and running
//!
//! ```text
//! cargo build --target wasm32-wasip1
//! wasmtime run app.wasm                      # timers, stdin
//! wasmtime run -S preview2=n -S tcplisten=127.0.0.1:7000 --env LISTEN_FDS=1 app.wasm  # + TCP
//! ```
//!
//! The second line needs wasmtime 46 or older (see [`net`] for which hosts can poll sockets).
//! Tests run with `cargo test -p ebbtide-wasi --target wasm32-wasip1`, through the runner script
//! `tools/wasi-runner` that the workspace's `.cargo/config.toml` names.
//!
//! # Doctests
//!
//! The examples in these docs are `no_run`: doctests cannot run on wasm32-wasip1. They are still
//! compiled on the host (see below); the behaviour they show is tested by the crate's tests under
//! a WASI host.
//!
//! # Other targets
//!
//! On targets other than WASI the crate still compiles (so that `cargo build --workspace` works
//! on a developer's machine) with a stub platform layer: the clock and waits for timers work,
//! through `std`; every fd and socket call fails with `ErrorKind::Unsupported`. Use ebbtide-std
//! there.
//!
//! # Differences from ebbtide-std
//!
//! - [`Runtime::block_on`] panics when nothing can ever wake its future (no ready task, no
//!   pending timer, no task waiting for IO): a deadlock is reported, never waited on forever.
//!   [`Runtime::try_block_on`] returns it as [`Error::Deadlock`] instead.
//! - Panics abort on wasm32-wasip1, so there is no panic catching: a panicking task ends the
//!   program, and [`JoinError::Panic`] does not happen there.
//! - One thread: no `Handle`, no `spawn_blocking`, no signals, no filesystem module.
//! - No `bind`/`connect`: sockets come preopened from the host (see [`net`]).
//! - No `#[main]`/`#[test]` attribute macros yet: write `Runtime::new()?.block_on(...)`.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs, clippy::undocumented_unsafe_blocks)]

mod error;
pub mod io;
pub mod net;
mod reactor;
pub mod runtime;
mod sys;
pub mod task;
pub mod time;

pub use ebbtide_core::{join, select, try_join};
pub use ebbtide_host::sync;
pub use runtime::{Builder, Error, Runtime};
pub use task::{spawn, spawn_local, JoinError, JoinHandle, SpawnError};
