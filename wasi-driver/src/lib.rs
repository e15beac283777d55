//! The wasm32-wasip1 driver of ebbtide.
//!
//! **Not built yet.** This crate will hold the `poll_oneoff` reactor, preopened sockets, async
//! stdin and the WASI time driver. Until then it only re-exports [`ebbtide_core`].

#![warn(missing_docs)]

pub use ebbtide_core as core;
