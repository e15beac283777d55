//! The `setup` stage: install what the other stages need, quickly when it is already there.
//!
//! A fresh machine with only stable Rust (through rustup) must pass `cargo xtask ci`, so every
//! tool a stage uses is installed here, and nowhere else. Two kinds of install:
//!
//! - cheap and idempotent ones (`rustup component add`, `rustup target add`) simply run every time;
//! - slow ones go through [`ensure`]: a quick probe first, the install only if the probe fails.
//!
//! Tools that do not come from rustup (wasmtime, later) are downloaded into the tool cache
//! [`TOOLS_DIR`] at the workspace root, which CI may cache between runs; every command xtask runs
//! finds `.tools/bin` first on its `PATH`.

use std::path::PathBuf;

use crate::cmd::{Cmd, Workspace};

/// The tool cache, relative to the workspace root (ignored by git).
///
/// Slow installs (wasmtime and other release binaries) go here, under `.tools/bin/`, and are
/// skipped when already present: [`ensure`] with a probe that checks the file exists. Delete the
/// folder to force a fresh install.
pub const TOOLS_DIR: &str = ".tools";

/// Cross-compilation targets the stages build for: bare metal with and without compare-and-swap,
/// Cortex-M3, and WASI.
const TARGETS: &[&str] = &[
    "thumbv6m-none-eabi",
    "thumbv7em-none-eabihf",
    "thumbv7m-none-eabi",
    "wasm32-wasip1",
    // cross-checks of ebbtide-std for the other Unix backends (kqueue)
    "x86_64-apple-darwin",
    "x86_64-unknown-freebsd",
];

/// The tool cache's `bin/` folder, put first on `PATH` for every command.
pub fn tools_bin_dir(ws: &Workspace) -> PathBuf {
    ws.path(TOOLS_DIR).join("bin")
}

/// Installs `what` unless `is_present` says it is already there.
///
/// `is_present` must be quick (a `--version` probe, a file check); `install` may be slow. After an
/// install the probe runs again, so a broken install fails here rather than in a later stage.
pub fn ensure(
    what: &str,
    is_present: impl Fn() -> bool,
    install: impl FnOnce() -> Result<(), String>,
) -> Result<(), String> {
    if is_present() {
        println!("{what}: already present");
        return Ok(());
    }
    println!("{what}: missing, installing");
    install()?;
    if is_present() {
        Ok(())
    } else {
        Err(format!("{what} is still missing after its install"))
    }
}

/// The `setup` stage.
pub fn run(ws: &Workspace) -> Result<(), String> {
    std::fs::create_dir_all(tools_bin_dir(ws))
        .map_err(|e| format!("could not create {}: {e}", tools_bin_dir(ws).display()))?;

    Cmd::line("rustup component add rustfmt clippy").run(ws)?;
    Cmd::line("rustup target add")
        .args(TARGETS.iter().copied())
        .run(ws)?;

    // RUSTUP_AUTO_INSTALL=0: a probe must not download a whole nightly without Miri.
    let miri_works = || {
        Cmd::cargo("+nightly miri --version")
            .env("RUSTUP_AUTO_INSTALL", "0")
            .succeeds_quietly(ws)
    };
    ensure("nightly toolchain with Miri", miri_works, || {
        Cmd::line("rustup toolchain install nightly --profile minimal --component miri,rust-src")
            .run(ws)
    })?;
    // Builds Miri's standard library once; quick when it is already built.
    Cmd::cargo("+nightly miri setup").run(ws)
}
