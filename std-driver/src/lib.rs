//! The Linux and macOS driver of ebbtide.
//!
//! **Not built yet.** This crate will hold the mio reactor (epoll, kqueue, poll), the `Runtime`,
//! networking and the std time driver. Until then it only re-exports [`ebbtide_core`], so that
//! programs can already depend on it by name.

#![warn(missing_docs)]

pub use ebbtide_core as core;
