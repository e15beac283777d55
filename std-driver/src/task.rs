//! Spawning tasks on the current runtime, and their join handles.
//!
//! These are the types of every ebbtide host driver (from `ebbtide-host`): a program that spawns
//! and joins tasks builds unchanged for ebbtide-wasi.

pub use ebbtide_host::task::{
    poll_budget, spawn, spawn_local, yield_now, JoinError, JoinHandle, JoinSet, PanicPayload,
    SpawnError, YieldNow,
};

/// Runs blocking code on the runtime's blocking pool; see [`blocking`](crate::blocking). Its
/// handle awaits like a [`JoinHandle`]: `Result<T, JoinError>`.
pub use crate::blocking::{spawn_blocking, BlockingHandle};
