//! Links with cortex-m-rt's linker script (it includes the board's `memory.x`, which
//! size-bench-board's build script puts on the search path). Here rather than in
//! `.cargo/config.toml`, so that a build from any folder links the same way.

fn main() {
    println!("cargo:rustc-link-arg-bins=-Tlink.x");
    println!("cargo:rerun-if-changed=build.rs");
}
