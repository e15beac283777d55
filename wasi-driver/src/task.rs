//! Spawning tasks on the running runtime, and their join handles.
//!
//! The same functions and types as ebbtide-std's `task` module (both come from `ebbtide-host`):
//! `ebbtide_wasi::JoinError` is `ebbtide_std::JoinError`. One difference: panics abort on
//! wasm32-wasip1 (the target's default `panic = "abort"`), so a panicking task ends the program
//! there and a [`JoinError`] only ever says a task was aborted. WASI preview 1 has one thread, so
//! the `Send` bounds of [`spawn`] only keep programs portable to ebbtide-std; [`spawn_local`] has
//! none.

pub use ebbtide_host::task::{
    poll_budget, spawn, spawn_local, yield_now, JoinError, JoinHandle, JoinSet, PanicPayload,
    SpawnError, YieldNow,
};
