//! The project's own commands, run as `cargo xtask <command>` (an alias in `.cargo/config.toml`).
//!
//! - `cargo xtask ci`: every check CI runs, in order; see [`ci`] for the stages.
//! - `cargo xtask fuzz [--secs N] [TARGET...]`: the cargo-fuzz targets of `fuzz/`; see [`fuzz`].
//! - `cargo xtask bench [--quick]`: ebbtide against Tokio, smol and Embassy; see [`mod@bench`].
//! - `cargo xtask soak [--minutes N]`: the file and echo servers under churn and slowloris for N
//!   minutes, with charts of their memory, descriptors and latency; see [`soak`].
//! - `cargo xtask ffi-header [--check]`: the C header of `ffi/`; see [`ffi`].
//! - `cargo xtask help`: usage and the list of stages.
//!
//! Standard library only, so that it builds in seconds on a machine that has just Rust.

mod bench;
mod ci;
mod cmd;
mod disk;
mod ffi;
mod fuzz;
mod publish;
mod setup;
mod size;
mod soak;

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("ci") => match ci::Selection::parse(&args[1..]) {
            Ok(selection) => ci::run(&workspace_root(), &selection),
            Err(message) => usage_error(&message),
        },
        Some("bench") => bench::run(&workspace_root(), &args[1..]),
        Some("fuzz") => fuzz::run(&workspace_root(), &args[1..]),
        Some("ffi-header") => ffi::header_command(&workspace_root(), &args[1..]),
        Some("soak") => soak::run(&workspace_root(), &args[1..]),
        Some("help" | "-h" | "--help") | None => {
            print_help();
            ExitCode::SUCCESS
        }
        Some(other) => usage_error(&format!("unknown command `{other}`")),
    }
}

/// The workspace root: the parent of this package's directory.
fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .expect("xtask/ lives inside the workspace root")
        .to_path_buf()
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("xtask: {message}");
    eprintln!("run `cargo xtask help` for usage");
    ExitCode::from(2)
}

fn print_help() {
    println!(
        "\
usage: cargo xtask <command>

commands:
  ci [--only <stage>]... [--skip <stage>]...
        run the checks CI runs, in order; keeps going after a failed stage and exits
        non-zero if any failed. --only and --skip take a stage name or a comma-separated
        list and may be repeated.
  bench [--quick]
        build the ebbtide-bench binaries in release and compare ebbtide with Tokio, smol and
        Embassy; writes target/bench-report/report.md and SVG charts. --quick: under two
        minutes. Not part of `ci` (slow and noisy).
  ffi-header [--check]
        write ffi/include/ebbtide.h with cbindgen (--check: fail if the committed one is stale)
  fuzz [--secs N] [TARGET...]
        run the cargo-fuzz targets of fuzz/ (libFuzzer, nightly), each for N seconds
        (default 30), and fail on a crash, pointing at its input; installs cargo-fuzz into
        the tool cache if missing. Targets: http_request, http_range, http_path, chat_line.
  soak [--minutes N | --seconds N | --quick] [--conns N] [--slowloris N] [--interval-ms N]
       [--workers N] [--warmup-secs N] [--sample-secs N]
        run the fileserver and echo examples (release, W workers, default 2) for N minutes
        (default 10; --quick: 2) under churn: --conns clients (default 10,000, half each)
        that connect, make 1-10 requests one every ~--interval-ms (default 1,500), close
        and reconnect, plus --slowloris clients (default 500) on the file server. Samples
        RSS, open fds and p99 latency every 5 s into target/soak/ (soak.svg, samples.csv,
        summary.md) and fails unless they are flat after the warm-up (default: the first
        fifth, at least 30 s). Not part of `ci` (slow).
  help  print this message

stages of `ci`, in order:"
    );
    for stage in ci::STAGES {
        println!("  {:<12} {}", stage.name, stage.about);
    }
}
