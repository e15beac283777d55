//! `cargo xtask bench [--quick] [--only <text>]`: ebbtide against Tokio, smol and Embassy, in one run.
//!
//! Builds the binaries of the `ebbtide-bench` crate (and Embassy's, which live outside the
//! workspace) with the `bench-lto` profile (release, thin LTO, one codegen unit), asks each which
//! runtime variants and workloads it runs (`<binary> list`), then runs them in rounds: in each
//! round every workload runs on every runtime, one process per (runtime, workload), the runtimes'
//! order rotating from round to round, so that drift on a shared machine falls on all of them
//! alike. Each process warms up once and prints a few samples as JSON lines. Then it builds the
//! same small bare-metal app with ebbtide-core and with embassy-executor and compares their sizes.
//! Writes `target/bench-report/report.md` (medians, spread, ratio to the best peer), one SVG bar
//! chart per workload and the raw samples (`samples.jsonl`), and prints the markdown.
//!
//! The multi-thread workloads (`mt_*`, binaries `mt_ebbtide`, `mt_tokio`, `mt_smol`) run the peers'
//! multi-thread runtimes with 2 workers against the ebbtide variants listed in
//! `bench/src/bin/mt_ebbtide.rs`; the 2-worker network workloads (`mt_tcp_echo_*`,
//! `mt_http_plaintext_*`, binaries `mtnet_ebbtide`, `mtnet_tokio`, `mtnet_smol`) the same
//! runtimes serving TCP echo and HTTP. `--only mt_` runs both kinds (and the 2-worker file-server
//! workloads below), `--only mt_tcp` or `--only mt_http` the network ones.
//!
//! The file-server workloads (`fs_1k`, `fs_1m` at 1 worker, `mt_fs_1k`, `mt_fs_1m` at 2; binary
//! `fs_servers`, see `bench/src/fs.rs`) run the file server demo (`examples/src/bin/fileserver.rs`,
//! built here with the same profile) against nginx (`worker_processes` 1 or 2, `sendfile` on and
//! off as two runtimes, `nginx-sendfile` and `nginx-nosendfile`, and `nginx-cache` with its
//! `open_file_cache` on), both as processes of their own
//! serving a 1 KiB or a 1 MiB file to `wrk -t1 -c64`: requests/s, MB/s, p99 latency and the
//! server's CPU per request (every process of it, from `/proc/PID/stat`). nginx is Debian's
//! `nginx-light` (the `setup` stage installs it, with wrk); without nginx or wrk these workloads
//! are skipped with a message and the rest runs. `--only fs_` runs all four (about 30 s with
//! `--quick`, 6 minutes without).
//!
//! The hyper workloads (`hyper_h1_64`, `hyper_h1_256`, `hyper_h2_16x32` at 1 worker,
//! `mt_hyper_h1_256` at 2; binaries `hyper_ebbtide`, `hyper_tokio`, `hyper_smol`, see
//! `bench/src/hyper_service.rs`) serve the same hyper service on ebbtide (ebbtide-hyper), Tokio
//! (hyper-util) and smol (smol-hyper), placed as the HTTP plaintext workloads, loaded by wrk and
//! (HTTP/2) h2load: requests/s, p99 latency, server CPU per request and allocations per request.
//! Without h2load the HTTP/2 workload is skipped with a message. `--only hyper_` runs all four.
//!
//! The HTTPS workloads (`https_handshakes`, `https_1mb`, at 1 worker; the same binaries, see
//! `bench/src/https.rs`) serve that hyper service over one rustls build (ring, TLS 1.3) on each
//! runtime's TLS glue (ebbtide-hyper's `TlsAcceptor`, tokio-rustls, futures-rustls): full
//! handshakes per second from a client of the bench crate (a child process, one connection per
//! request), and 1 MiB bodies to `wrk -t1 -c16 https://...`. `--only https_` runs both.
//!
//! The C API workloads (`ffi_echo_1`, `ffi_echo_64`, `ffi_timers_1m`; see [`ffi`] and
//! `bench/c/`) run the same C programs on ebbtide's C API and on libuv (Debian's `libuv1-dev`;
//! without it they are skipped with a message), built with gcc here. `--only ffi_` runs them.
//!
//! `--quick` runs fewer rounds and shorter network runs (the binaries see
//! `EBBTIDE_BENCH_QUICK=1`): under two minutes once built. `--only <text>` keeps the workloads
//! whose name contains the text (and skips the size comparison unless the text is `size`).

mod ffi;
mod report;
mod workloads;

pub(crate) use report::median;

use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::Instant;

use crate::cmd::{Cmd, Workspace};
use workloads::{Kind, WORKLOADS};

/// The benchmark binaries, each linking one runtime (and at most one time driver).
const BINARIES: &[&str] = &[
    "exec_ebbtide",
    "exec_ebbtide_bare",
    "exec_tokio",
    "exec_smol",
    "exec_embassy",
    "timers_ebbtide",
    "timers_peers",
    "timers_embassy",
    "net_ebbtide",
    "net_tokio",
    "net_mio",
    "mem_ebbtide",
    "mem_tokio",
    "mem_smol",
    "mem_embassy",
    "mt_ebbtide",
    "mt_tokio",
    "mt_smol",
    "mtnet_ebbtide",
    "mtnet_tokio",
    "mtnet_smol",
    "fs_servers",
    "hyper_ebbtide",
    "hyper_tokio",
    "hyper_smol",
];

/// The ebbtide file server demo (package `ebbtide-examples`), which `fs_servers` runs against
/// nginx: built with the benchmark binaries, into the same folder.
const FILESERVER: &str = "fileserver";

/// The crate of `exec_ebbtide_bare`: ebbtide-core's executor workloads without the executor's
/// extras that Embassy lacks (outside the workspace, so that ebbtide-std's features stay out).
pub const BARE_DIR: &str = "bench/bare";

/// How `fs_servers` learns where [`FILESERVER`] is.
const FILESERVER_ENV: &str = "EBBTIDE_BENCH_FILESERVER";

/// The cargo profile of the benchmark binaries (defined in the root `Cargo.toml`, in
/// `bench/embassy-timers/Cargo.toml` and in [`BARE_DIR`]`/Cargo.toml`): release with thin LTO
/// and one codegen unit, as the peers'
/// figures in `shared/BENCH.md` were taken.
const PROFILE: &str = "bench-lto";

struct Options {
    quick: bool,
    only: Option<String>,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options, String> {
        let mut options = Options {
            quick: false,
            only: None,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--quick" => options.quick = true,
                "--only" => {
                    let text = args
                        .next()
                        .ok_or("--only needs a workload name (or part of one)")?;
                    options.only = Some(text.clone());
                }
                other => {
                    return Err(format!(
                        "unknown argument `{other}` (expected --quick or --only <text>)"
                    ))
                }
            }
        }
        Ok(options)
    }

    fn wants(&self, workload: &str) -> bool {
        self.only
            .as_deref()
            .is_none_or(|text| workload.contains(text))
    }
}

/// Entry point of `cargo xtask bench`.
pub fn run(root: &Path, args: &[String]) -> ExitCode {
    let options = match Options::parse(args) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("xtask bench: {message}");
            return ExitCode::from(2);
        }
    };
    let ws = Workspace {
        root: root.to_path_buf(),
    };
    match measure(&ws, &options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask bench: {message}");
            ExitCode::FAILURE
        }
    }
}

fn measure(ws: &Workspace, options: &Options) -> Result<(), String> {
    build(ws)?;
    let bin_dir = ws.path(&format!("target/{PROFILE}"));
    // The C programs of the `ffi_*` workloads, when wanted and libuv is there.
    let ffi_binaries = ffi::build(ws, &bin_dir, |w| options.wants(w))?;
    let mut jobs: Vec<Job> = Vec::new();
    for bin in BINARIES.iter().chain(&ffi_binaries).copied() {
        let out = Command::new(bin_dir.join(bin))
            .arg("list")
            .env(FILESERVER_ENV, bin_dir.join(FILESERVER))
            .output()
            .map_err(|e| format!("running `{bin} list`: {e}"))?;
        if !out.status.success() {
            return Err(format!("`{bin} list` failed"));
        }
        // A binary that skips its workloads says why (`fs_servers` without nginx or wrk).
        let said = String::from_utf8_lossy(&out.stderr);
        if !said.trim().is_empty() {
            eprint!("{said}");
        }
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            if let Some((runtime, workload)) = line.split_once(' ') {
                if options.wants(workload) {
                    jobs.push(Job {
                        binary: bin,
                        runtime: runtime.to_string(),
                        workload: workload.to_string(),
                    });
                }
            }
        }
    }

    let started = Instant::now();
    let mut samples: Vec<report::Sample> = Vec::new();
    let mut raw = String::new();
    // Only the workloads that run count (`--only fs_` runs the network rounds, not the 10 of
    // the executor workloads).
    let max_rounds = WORKLOADS
        .iter()
        .filter(|w| jobs.iter().any(|j| j.workload == w.name))
        .map(|w| w.kind.rounds(options.quick).0)
        .max()
        .unwrap_or(1);
    for round in 0..max_rounds {
        eprintln!("xtask bench: round {}/{max_rounds}", round + 1);
        for workload in WORKLOADS {
            let (rounds, per_process) = workload.kind.rounds(options.quick);
            if round >= rounds {
                continue;
            }
            let mut these: Vec<&Job> = jobs
                .iter()
                .filter(|j| j.workload == workload.name)
                .collect();
            if these.is_empty() {
                continue;
            }
            let shift = round % these.len();
            these.rotate_left(shift);
            for job in these {
                let stdout = job.run(&bin_dir, per_process, options.quick)?;
                for line in stdout.lines() {
                    if let Some(s) = report::Sample::parse(line) {
                        raw.push_str(line);
                        raw.push('\n');
                        samples.push(s);
                    }
                }
            }
        }
    }
    let measuring = started.elapsed().as_secs_f64();

    let sizes = if options.only.as_deref().is_none_or(|t| t == "size") {
        eprintln!(
            "xtask bench: the same bare-metal app with ebbtide-core and with embassy-executor"
        );
        Some(size_section(ws)?)
    } else {
        None
    };

    let report = report::render(&report::Run {
        samples: &samples,
        sizes: sizes.as_deref(),
        quick: options.quick,
        only: options.only.as_deref(),
        secs: measuring,
    });
    let dir = ws.path("target/bench-report");
    let written = std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(dir.join("report.md"), &report.markdown))
        .and_then(|()| std::fs::write(dir.join("samples.jsonl"), &raw))
        .and_then(|()| {
            report
                .charts
                .iter()
                .try_for_each(|(name, svg)| std::fs::write(dir.join(format!("{name}.svg")), svg))
        });
    written.map_err(|e| format!("writing {}: {e}", dir.display()))?;
    println!("{}", report.markdown);
    eprintln!("xtask bench: wrote {}", dir.join("report.md").display());
    Ok(())
}

/// The bare-metal size comparison as a markdown section.
fn size_section(ws: &Workspace) -> Result<String, String> {
    let sizes = crate::size::measure(ws)?;
    let mut md = String::from(
        "## flash and RAM on thumbv7em-none-eabihf\n\n\
         Two apps (`bench/size/`), each built with ebbtide-core and with embassy-executor + \
         embassy-sync + embassy-time, `opt-level = \"z\"`, fat LTO, on one shared SysTick time \
         driver, board crate, critical-section and output code: the small app (a producer, a \
         consumer, a ticker) and the sensor app (five tasks: a sensor, a controller selecting \
         between readings, setpoints and a watchdog timeout, an actuator, a commander, a \
         heartbeat). Each runs under QEMU (`mps2-an386`) in `cargo xtask ci`, and both runtimes \
         print the same line. Bytes; flash = vector table + .text + .rodata + .data, RAM = .data \
         + .bss (stack not counted).\n\n",
    );
    md.push_str(&crate::size::markdown(&sizes));
    Ok(md)
}

/// Builds every benchmark binary, and the file server, with [`PROFILE`].
fn build(ws: &Workspace) -> Result<(), String> {
    // Embassy's timer and memory workloads, and ebbtide-core without the executor's extras
    // (`exec_ebbtide_bare`), come from crates outside the workspace (see their Cargo.toml),
    // built into the same target folder.
    let workspace = format!("build --profile {PROFILE} --package ebbtide-bench --bins");
    let outside = |dir: &str| {
        format!("build --profile {PROFILE} --manifest-path {dir}/Cargo.toml --target-dir target")
    };
    let fileserver =
        format!("build --profile {PROFILE} --package ebbtide-examples --bin {FILESERVER}");
    Cmd::cargo(&workspace)
        .run(ws)
        .and_then(|()| Cmd::cargo(&outside("bench/embassy-timers")).run(ws))
        .and_then(|()| Cmd::cargo(&outside(BARE_DIR)).run(ws))
        .and_then(|()| Cmd::cargo(&fileserver).run(ws))
        .map_err(|e| format!("build failed: {e}"))
}

/// One (binary, runtime, workload) to run.
struct Job {
    binary: &'static str,
    runtime: String,
    workload: String,
}

impl Job {
    /// Runs the job's process for `samples` samples and returns what it printed.
    fn run(&self, bin_dir: &Path, samples: usize, quick: bool) -> Result<String, String> {
        let mut command = Command::new(bin_dir.join(self.binary));
        command.args([&self.runtime, &self.workload, &samples.to_string()]);
        command.env(FILESERVER_ENV, bin_dir.join(FILESERVER));
        if quick {
            command.env("EBBTIDE_BENCH_QUICK", "1");
        }
        let out = command
            .output()
            .map_err(|e| format!("running {}: {e}", self.binary))?;
        if !out.status.success() {
            return Err(format!(
                "{} {} {} failed: {}",
                self.binary,
                self.runtime,
                self.workload,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

impl Kind {
    /// (rounds, samples per process) for workloads of this kind.
    fn rounds(self, quick: bool) -> (usize, usize) {
        match (self, quick) {
            (Kind::Time, false) => (10, 4),
            (Kind::Time, true) => (3, 2),
            // Each sample runs for a fixed time (1.5 s, 0.3 s quick).
            (Kind::PerRequest, false) => (5, 2),
            (Kind::PerRequest, true) => (1, 1),
            // Deterministic up to the allocator: one sample says it.
            (Kind::Bytes, _) => (1, 1),
            (Kind::PerSec, false) => (2, 1),
            (Kind::PerSec, true) => (1, 1),
        }
    }
}
