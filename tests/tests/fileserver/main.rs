//! Black-box tests of the `fileserver` demo (`ebbtide_examples::http`): the server runs
//! in-process on a free loopback port, and the real `curl` (and `wrk`) binaries drive it.
//!
//! One file per behaviour; `harness.rs` starts servers and runs clients, each bounded in time.

mod cache;
mod capacity;
mod content;
mod harness;
mod keep_alive;
mod limits;
mod protocol;
mod ranges;
mod security;
mod wrk;
