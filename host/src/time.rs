//! The paused clock of a runtime, for tests: [`pause`], [`advance`], [`resume`].
//!
//! See [`pause`] for what a paused clock does; the drivers re-export these next to `sleep` (as
//! `ebbtide_std::time::pause`).

pub use crate::clock::{advance, pause, resume};
