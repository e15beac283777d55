//! Async IO: the traits and helpers of [`ebbtide_core::io`], and the standard streams.
//!
//! Everything of `ebbtide_core::io` is re-exported here ([`AsyncRead`], [`AsyncWrite`],
//! [`AsyncBufRead`], their extension traits, [`copy`], [`BufReader`], ...), so a program needs
//! only `ebbtide_wasi::io`. [`stdin`] waits for input through the runtime's reactor, so other
//! tasks and timers run while a line is typed; [`stdout`] and [`stderr`] write at once.
//!
//! # Examples
//!
//! Echo stdin's lines to stdout (not run by `cargo test`: doctests cannot run on wasm32-wasip1):
//!
//! ```no_run
//! use ebbtide_wasi::io::{stdin, stdout, AsyncBufReadExt, AsyncWriteExt, BufReader};
//!
//! ebbtide_wasi::Runtime::new().unwrap().block_on(async {
//!     let mut lines = BufReader::<_, 256>::new(stdin());
//!     let mut out = stdout();
//!     let mut line = heapless::Vec::<u8, 256>::new();
//!     while lines.read_line(&mut line).await.unwrap() > 0 {
//!         out.write_all(&line).await.unwrap();
//!         line.clear();
//!     }
//! });
//! ```

mod stdio;

pub use ebbtide_core::io::*;
pub use stdio::{stderr, stdin, stdout, Stderr, Stdin, Stdout};
