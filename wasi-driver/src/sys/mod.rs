//! The raw calls of the platform, one file per platform, picked once here.
//!
//! - `wasi.rs` (on `target_os = "wasi"`): WASI preview 1 through the `wasi` 0.11 crate. Every
//!   `unsafe` call of the driver is in that file.
//! - `unsupported.rs` (everywhere else): an honest stub so that the workspace builds and lints on
//!   the host. Its clock and its timer-only waits work (through `std`); every IO call returns an
//!   `Unsupported` error that says to use ebbtide-std.
//!
//! Both files offer the same items: `Fd`, `Subscription`, `Event`, the subscription builders and
//! event readers, `poll`, `monotonic_ns`, and the fd and socket calls. Errors are
//! `std::io::Error`s whose `raw_os_error` is the WASI errno (std on WASI uses WASI's numbers).

#[cfg_attr(target_os = "wasi", path = "wasi.rs")]
#[cfg_attr(not(target_os = "wasi"), path = "unsupported.rs")]
mod imp;

pub(crate) use imp::*;
