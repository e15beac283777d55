//! The `setup` stage: install what the other stages need, quickly when it is already there.
//!
//! A fresh machine with only stable Rust (through rustup) must pass `cargo xtask ci`, so every
//! tool a stage uses is installed here, and nowhere else. Three kinds of install:
//!
//! - cheap and idempotent ones (`rustup component add`, `rustup target add`) simply run every time;
//! - slow ones go through [`ensure`]: a quick probe first, the install only if the probe fails;
//! - Debian packages (QEMU, binutils for Arm, curl, wrk, nginx) go through
//!   [`ensure_debian_packages`]: the same, probing for a program each package provides (or, for
//!   a library, which has none, a file it installs, by absolute path). To add
//!   one, add a row to [`DEBIAN_PACKAGES`] (or to [`BENCH_DEBIAN_PACKAGES`], whose failed install
//!   is only a warning, for what only the benchmarks use).
//!
//! Tools that do not come from rustup or Debian (wasmtime) are built into the tool cache
//! ([`tools_dir`]): a fixed folder outside the work tree, so a fresh clone (as CI uses) finds what
//! an earlier run built there and skips the build. Every command xtask runs finds its `bin/` first
//! on its `PATH`.

use std::path::PathBuf;

use crate::cmd::{Cmd, Workspace};

/// The tool cache: `$EBBTIDE_TOOLS_DIR`, or `~/.cache/ebbtide-tools`.
///
/// Slow installs go here and are skipped when already present: [`ensure`] with a probe that checks
/// the binary runs. Delete the folder to force a fresh install. It is outside the work tree on
/// purpose: CI runs in a fresh clone, and must not rebuild wasmtime (15 minutes) every time.
pub fn tools_dir(_ws: &Workspace) -> PathBuf {
    if let Some(dir) = std::env::var_os("EBBTIDE_TOOLS_DIR") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| "/root".into());
    PathBuf::from(home).join(".cache").join("ebbtide-tools")
}

/// The wasmtime CLI the WASI tests run under: the last release whose preview1 host can poll
/// sockets (`-S preview2=n`), built from crates.io (see ../shared/WASI.md).
pub const WASMTIME_VERSION: &str = "46.0.3";

/// Where [`WASMTIME_VERSION`] is installed: `<tools>/wasmtime-<version>/bin/wasmtime`.
pub fn wasmtime_path(ws: &Workspace) -> PathBuf {
    tools_dir(ws)
        .join(format!("wasmtime-{WASMTIME_VERSION}"))
        .join("bin")
        .join("wasmtime")
}

/// Cross-compilation targets the stages build for: bare metal with and without compare-and-swap
/// (thumbv6m: also the bare-metal demo's Cortex-M0), the demo's Cortex-M3, and WASI.
const TARGETS: &[&str] = &[
    "thumbv6m-none-eabi",
    "thumbv7em-none-eabihf",
    "thumbv7m-none-eabi",
    "wasm32-wasip1",
    // cross-checks of ebbtide-std for the other Unix backends (kqueue)
    "x86_64-apple-darwin",
    "x86_64-unknown-freebsd",
];

/// A Debian package a stage needs, and a program it installs (probed on `PATH` and in the
/// `sbin` folders), or a file it installs (an absolute path: a library has no program).
pub struct DebianPackage {
    /// The package name, for `apt-get install`.
    pub package: &'static str,
    /// A program the package provides: if it is on `PATH` (or in an `sbin` folder, see
    /// [`on_path`]), the package counts as installed. A path starting with `/` names a file
    /// instead (`/usr/include/uv.h`), which must exist.
    pub program: &'static str,
}

/// The Debian packages the stages need.
const DEBIAN_PACKAGES: &[DebianPackage] = &[
    // `baremetal`: boots examples/baremetal on an emulated Cortex-M3 and Cortex-M0 (Debian's
    // qemu-system-arm has both machines, `lm3s6965evb` and `microbit`), and reports its size.
    deb("qemu-system-arm", "qemu-system-arm"),
    deb("binutils-arm-none-eabi", "arm-none-eabi-size"),
    // Real HTTP clients for the file server's tests: curl for content, wrk for load.
    deb("curl", "curl"),
    deb("wrk", "wrk"),
    // HTTP/2 load for the hyper examples' tests (and the hyper benchmarks).
    deb("nghttp2-client", "h2load"),
    // `wasi`: Node's `node:wasi` is a third WASI host for the driver's tests (tools/wasi_node.mjs).
    deb("nodejs", "node"),
    // `ffi`: the C tests and examples of the C ABI, built with gcc, run under valgrind (memcheck,
    // leak check); the ctypes example runs on python3. (Usually there already: probed first.)
    deb("valgrind", "valgrind"),
    deb("gcc", "gcc"),
    deb("python3", "python3"),
];

/// Debian packages only `cargo xtask bench` uses, which no CI stage needs: setup installs them
/// too, but a failed install (a package whose service cannot be set up on this machine, say) is
/// a warning, and the benchmark skips what needs them.
const BENCH_DEBIAN_PACKAGES: &[DebianPackage] = &[
    // The file-server workloads: the file server against nginx (1 and 2 workers). The light
    // build is enough for static files; it installs /usr/sbin/nginx.
    deb("nginx-light", "nginx"),
    // The C API workloads (`ffi_*`): the same C programs on ebbtide's C API and on libuv, whose
    // development files have no program to probe: its header is probed instead.
    deb("libuv1-dev", "/usr/include/uv.h"),
];

const fn deb(package: &'static str, program: &'static str) -> DebianPackage {
    DebianPackage { package, program }
}

/// The tool cache's `bin/` folder, put first on `PATH` for every command.
pub fn tools_bin_dir(ws: &Workspace) -> PathBuf {
    tools_dir(ws).join("bin")
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

/// Installs, with `apt-get`, those of `packages` whose program is not on `PATH`.
///
/// Nothing runs when every program is there; otherwise one `apt-get update` and one
/// `apt-get install -y` of the missing packages (which needs root, as in CI).
pub fn ensure_debian_packages(ws: &Workspace, packages: &[DebianPackage]) -> Result<(), String> {
    let missing: Vec<&str> = packages
        .iter()
        .filter(|p| {
            let present = on_path(ws, p.program);
            if present {
                println!("{} (Debian {}): already present", p.program, p.package);
            }
            !present
        })
        .map(|p| p.package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let what = format!("Debian packages {}", missing.join(", "));
    let all_present = || {
        packages
            .iter()
            .all(|p| !missing.contains(&p.package) || on_path(ws, p.program))
    };
    ensure(&what, all_present, || {
        let hint = |e: String| format!("{e} (installing {what} needs root and apt-get)");
        Cmd::line("apt-get update").run(ws).map_err(hint)?;
        Cmd::line("apt-get install -y")
            .args(missing.iter().copied())
            .env("DEBIAN_FRONTEND", "noninteractive")
            .run(ws)
            .map_err(hint)
    })
}

/// Folders of system programs that a user's `PATH` often lacks (Debian's nginx is
/// `/usr/sbin/nginx`), also searched by [`on_path`].
const SBIN_DIRS: &[&str] = &["/usr/local/sbin", "/usr/sbin", "/sbin"];

/// Whether `program` is a file in a folder of `PATH` (or in the tool cache, which commands see
/// first on theirs, or in one of [`SBIN_DIRS`], where Debian installs daemons such as nginx).
/// An absolute path (a library's file, see [`DebianPackage::program`]) is checked as it is.
fn on_path(ws: &Workspace, program: &str) -> bool {
    if program.starts_with('/') {
        return std::path::Path::new(program).is_file();
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::iter::once(tools_bin_dir(ws))
        .chain(std::env::split_paths(&path))
        .chain(SBIN_DIRS.iter().map(PathBuf::from))
        .any(|dir| dir.join(program).is_file())
}

/// The `setup` stage.
pub fn run(ws: &Workspace) -> Result<(), String> {
    std::fs::create_dir_all(tools_bin_dir(ws))
        .map_err(|e| format!("could not create {}: {e}", tools_bin_dir(ws).display()))?;

    Cmd::line("rustup component add rustfmt clippy").run(ws)?;
    Cmd::line("rustup target add")
        .args(TARGETS.iter().copied())
        .run(ws)?;

    ensure_debian_packages(ws, DEBIAN_PACKAGES)?;
    if let Err(e) = ensure_debian_packages(ws, BENCH_DEBIAN_PACKAGES) {
        println!(
            "warning: {e}; `cargo xtask bench` will skip the workloads that need them (no CI \
             stage does)"
        );
    }

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
    // The standard library's source: Miri builds its own std from it, and the sanitizers
    // rebuild std with their instrumentation (`-Zbuild-std`).
    Cmd::line("rustup component add --toolchain nightly rust-src").run(ws)?;
    // Builds Miri's standard library once; quick when it is already built.
    Cmd::cargo("+nightly miri setup").run(ws)?;

    // wasmtime-cli 46.0.3 for the WASI tests: about 15 minutes to build on 2 cores, once.
    let wasmtime = wasmtime_path(ws);
    let wasmtime_works = || {
        std::process::Command::new(&wasmtime)
            .arg("--version")
            .output()
            .is_ok_and(|out| out.status.success())
    };
    let root = tools_dir(ws).join(format!("wasmtime-{WASMTIME_VERSION}"));
    ensure(
        &format!("wasmtime-cli {WASMTIME_VERSION}"),
        wasmtime_works,
        || {
            Cmd::cargo("install wasmtime-cli --locked --no-default-features")
                .args(["--version", WASMTIME_VERSION])
                .args(["--features", "run,cranelift,parallel-compilation"])
                .arg("--root")
                .arg(root.to_string_lossy().as_ref())
                // About 15 minutes on 2 cores; more on a slower machine.
                .timeout(std::time::Duration::from_secs(75 * 60))
                .run(ws)
        },
    )?;

    // cargo-fuzz for the `fuzz` stage: about 2 minutes to build, once.
    crate::fuzz::ensure_tools(ws)?;

    // The newest wasmtime, from PyPI (prebuilt, seconds): a second WASI host for the tests.
    let python_wasmtime = || {
        Cmd::line("python3 -c")
            .arg("import wasmtime")
            .succeeds_quietly(ws)
    };
    ensure("wasmtime for Python (PyPI)", python_wasmtime, || {
        Cmd::line("python3 -m pip install --quiet wasmtime").run(ws)
    })
}
