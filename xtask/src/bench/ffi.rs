//! The `ffi_*` workloads: ebbtide's C API (`ffi/`, `libebbtide_ffi.a`) against libuv, the same C
//! programs written twice (`bench/c/`, see `bench/c/common.h` for the shapes).
//!
//! - `ffi_echo_1`, `ffi_echo_64`: a TCP echo server and 1 or 64 client connections in one
//!   process on one thread, 64-byte ping-pongs on 127.0.0.1 (libuv's `benchmark-ping-pongs.c`
//!   with a fixed count);
//! - `ffi_timers_1m`: libuv's `benchmark-million-timers.c`, 1,000,000 timers of 1 to 1,000 ms,
//!   all firing (and `ffi_timers_1m_start`, printed by the same runs: the time to start them).
//!
//! [`build`] compiles `bench/c/ebbtide_bench.c` against `target/release/libebbtide_ffi.a`
//! (`cargo build --release -p ebbtide-ffi`, as a C user builds it) and `bench/c/uv_bench.c`
//! against Debian's libuv (`-luv`, package `libuv1-dev`, which `cargo xtask setup` installs),
//! both with `gcc -O2`, into the benchmark binaries' folder as [`EBBTIDE`] and [`LIBUV`]. They
//! speak the protocol of the other benchmark binaries (`list`, then `<runtime> <workload>
//! <samples>`), so the rounds of `cargo xtask bench` run them alternately like every runtime.
//! Without libuv's header ([`LIBUV_HEADER`]) the workloads are skipped with a message.

use std::path::Path;

use crate::cmd::{Cmd, Workspace};

/// The program on ebbtide's C API, in the benchmark binaries' folder.
pub(super) const EBBTIDE: &str = "ffi_ebbtide";

/// The program on libuv, in the benchmark binaries' folder.
pub(super) const LIBUV: &str = "ffi_uv";

/// The workloads both programs list (`ffi_timers_1m_start` comes with `ffi_timers_1m`).
const WORKLOADS: &[&str] = &["ffi_echo_1", "ffi_echo_64", "ffi_timers_1m"];

/// What tells libuv's development files are installed (Debian's `libuv1-dev`).
const LIBUV_HEADER: &str = "/usr/include/uv.h";

/// Builds the two C programs into `bin_dir` when `wants` keeps one of the `ffi_*` workloads, and
/// returns their names (none when no `ffi_*` workload is wanted, or libuv is missing).
pub(super) fn build(
    ws: &Workspace,
    bin_dir: &Path,
    wants: impl Fn(&str) -> bool,
) -> Result<Vec<&'static str>, String> {
    if !WORKLOADS.iter().any(|w| wants(w)) {
        return Ok(Vec::new());
    }
    if !Path::new(LIBUV_HEADER).is_file() {
        eprintln!(
            "xtask bench: libuv is missing ({LIBUV_HEADER}; Debian's libuv1-dev, which `cargo \
             xtask setup` installs): skipping the ffi_* workloads"
        );
        return Ok(Vec::new());
    }
    Cmd::cargo("build --release -p ebbtide-ffi")
        .run(ws)
        .map_err(|e| format!("build failed: {e}"))?;
    let out = |name: &str| bin_dir.join(name).to_string_lossy().into_owned();
    let lib = ws.path("target/release/libebbtide_ffi.a");
    let gcc = || Cmd::line("gcc -O2 -std=c11 -Wall -Wextra -Werror -pthread");
    gcc()
        .args(["-I", "ffi/include", "bench/c/ebbtide_bench.c", "-o"])
        .arg(&out(EBBTIDE))
        .arg(&lib.to_string_lossy())
        .args(["-lpthread", "-ldl", "-lm"])
        .run(ws)
        .and_then(|()| {
            gcc()
                .args(["bench/c/uv_bench.c", "-o"])
                .arg(&out(LIBUV))
                .arg("-luv")
                .run(ws)
        })
        .map_err(|e| format!("building the C benchmarks failed: {e}"))?;
    Ok(vec![EBBTIDE, LIBUV])
}
