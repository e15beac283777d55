//! The C ABI (`ffi/`, crate `ebbtide-ffi`): its header, and the `ffi` stage of `cargo xtask ci`.
//!
//! - `cargo xtask ffi-header` writes `ffi/include/ebbtide.h` with cbindgen (linked as a library
//!   into the small program `ffi/header`, so nothing is installed and xtask stays standard-library
//!   only); `cargo xtask ffi-header --check` fails when the committed header differs from what the
//!   source generates.
//! - The stage: the header check, the crate's Rust tests, then the C tests
//!   (`ffi/tests/c/test_ffi.c`) and the examples (`examples/c/echo.c`, and
//!   `examples/python/ebbtide_demo.py` on the shared library), built with gcc against
//!   `libebbtide_ffi.a` and run three ways: plain, under AddressSanitizer
//!   (`-fsanitize=address,undefined`), and under `valgrind --error-exitcode=1
//!   --leak-check=full` (Debian's `valgrind`, installed by setup).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use crate::cmd::{Cmd, Workspace};

/// The C tests, relative to the workspace root.
const C_TESTS: &str = "ffi/tests/c/test_ffi.c";

/// The C example, relative to the workspace root.
const C_ECHO: &str = "examples/c/echo.c";

/// The Python example, relative to the workspace root.
const PY_DEMO: &str = "examples/python/ebbtide_demo.py";

/// Where the stage puts its C programs.
const OUT_DIR: &str = "target/ffi-c";

/// How long one C program may run (valgrind is slow: about 30 times).
const RUN_TIMEOUT: Duration = Duration::from_secs(300);

/// `cargo xtask ffi-header [--check]`: runs `ebbtide-ffi-header` (cbindgen lives in that small
/// program, so that xtask stays standard-library only).
pub fn header_command(root: &Path, args: &[String]) -> ExitCode {
    let ws = Workspace {
        root: root.to_path_buf(),
    };
    match header_cmd(args.iter().map(String::as_str)).run(&ws) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask ffi-header: {message}");
            ExitCode::FAILURE
        }
    }
}

fn header_cmd<'a>(args: impl IntoIterator<Item = &'a str>) -> Cmd {
    Cmd::cargo("run -q -p ebbtide-ffi-header --").args(args)
}

/// One way to build and run the C programs.
struct Flavour {
    name: &'static str,
    cflags: &'static [&'static str],
    /// Runs the program under this, if anything.
    runner: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
}

const FLAVOURS: &[Flavour] = &[
    Flavour {
        name: "plain",
        cflags: &["-O1"],
        runner: &[],
        env: &[],
    },
    Flavour {
        name: "asan",
        cflags: &[
            "-O1",
            "-fsanitize=address,undefined",
            "-fno-omit-frame-pointer",
            "-fno-sanitize-recover=all",
        ],
        runner: &[],
        // LeakSanitizer too (on by default on Linux x86-64); Rust's own allocations live in the
        // same heap, so a leak in the library shows as well.
        env: &[("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")],
    },
    Flavour {
        name: "valgrind",
        cflags: &["-O1"],
        runner: &[
            "valgrind",
            "--error-exitcode=1",
            "--leak-check=full",
            "--errors-for-leak-kinds=definite,indirect",
            "--quiet",
        ],
        env: &[],
    },
];

/// gcc with the project's warnings, the header, and the static library.
fn gcc(ws: &Workspace, source: &str, output: &Path, flavour: &Flavour) -> Cmd {
    let lib = ws.path("target/debug/libebbtide_ffi.a");
    Cmd::line("gcc -std=c11 -g -Wall -Wextra -Werror -pthread -I ffi/include")
        .args(flavour.cflags.iter().copied())
        .arg(source)
        .arg("-o")
        .arg(&output.to_string_lossy())
        .arg(&lib.to_string_lossy())
        .args(["-lpthread", "-ldl", "-lm"])
}

fn run_program(
    ws: &Workspace,
    flavour: &Flavour,
    program: &Path,
    args: &[&str],
) -> Result<(), String> {
    let program = program.to_string_lossy();
    let mut words: Vec<&str> = flavour.runner.to_vec();
    words.push(&program);
    words.extend_from_slice(args);
    let mut cmd = Cmd::line(words[0]).args(words[1..].iter().copied());
    for (key, value) in flavour.env {
        cmd = cmd.env(key, value);
    }
    cmd.timeout(RUN_TIMEOUT).run(ws)
}

/// The `ffi` stage.
pub(crate) fn ci_stage(ws: &Workspace) -> Result<(), String> {
    header_cmd(["--check"]).run(ws)?;
    Cmd::cargo("test -p ebbtide-ffi").run(ws)?;
    // The debug build: its assertions are on, and valgrind reads its line tables.
    Cmd::cargo("build -p ebbtide-ffi").run(ws)?;
    let out = ws.path(OUT_DIR);
    std::fs::create_dir_all(&out).map_err(|e| format!("could not create {OUT_DIR}: {e}"))?;
    for flavour in FLAVOURS {
        println!("--- C tests and examples, {}", flavour.name);
        let tests = out.join(format!("test_ffi-{}", flavour.name));
        gcc(ws, C_TESTS, &tests, flavour).run(ws)?;
        run_program(ws, flavour, &tests, &[])?;
        let echo = out.join(format!("echo-{}", flavour.name));
        gcc(ws, C_ECHO, &echo, flavour).run(ws)?;
        run_program(ws, flavour, &echo, &["selftest"])?;
    }
    python_demo(ws)
}

/// The ctypes example on the shared library of the debug build.
fn python_demo(ws: &Workspace) -> Result<(), String> {
    let lib: PathBuf = ws.path("target/debug/libebbtide_ffi.so");
    Cmd::line("python3")
        .arg(PY_DEMO)
        .arg(&lib.to_string_lossy())
        .timeout(RUN_TIMEOUT)
        .run(ws)
}
