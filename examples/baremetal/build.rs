//! Picks the board from the target, and gives the linker that board's memory layout.
//!
//! The demo runs on two boards that QEMU emulates, one per target:
//!
//! | target               | board (QEMU `-machine`) | CPU        | memory layout            |
//! |----------------------|-------------------------|------------|--------------------------|
//! | `thumbv7m-none-eabi` | `lm3s6965evb`           | Cortex-M3  | `memory-lm3s6965evb.x`   |
//! | `thumbv6m-none-eabi` | `microbit` (nRF51822)   | Cortex-M0  | `memory-microbit.x`      |
//!
//! The board's layout is copied to `OUT_DIR/memory.x`: cortex-m-rt's `link.x` includes
//! `memory.x` by name, and the linker searches OUT_DIR (not the package folder, which inside a
//! bigger tree may not be the linker's working directory). The source sees the board as
//! `cfg(board = "...")` (see `src/board.rs`).

use std::env;
use std::fs;
use std::path::PathBuf;

/// Each supported target and the board it runs on.
const BOARDS: &[(&str, &str)] = &[
    ("thumbv7m-none-eabi", "lm3s6965evb"),
    ("thumbv6m-none-eabi", "microbit"),
];

fn main() {
    let target = env::var("TARGET").expect("cargo sets TARGET");
    let Some(&(_, board)) = BOARDS.iter().find(|(t, _)| *t == target) else {
        let supported: Vec<_> = BOARDS.iter().map(|(t, _)| *t).collect();
        panic!(
            "ebbtide-baremetal does not build for {target}: pick one of {}",
            supported.join(", ")
        );
    };

    let layout = format!("memory-{board}.x");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::copy(&layout, out.join("memory.x")).expect("copy the board's memory layout into OUT_DIR");
    println!("cargo::rustc-link-search={}", out.display());

    let boards: Vec<_> = BOARDS.iter().map(|(_, b)| format!("\"{b}\"")).collect();
    println!(
        "cargo::rustc-check-cfg=cfg(board, values({}))",
        boards.join(", ")
    );
    println!("cargo::rustc-cfg=board=\"{board}\"");

    println!("cargo::rerun-if-changed={layout}");
    println!("cargo::rerun-if-changed=build.rs");
}
