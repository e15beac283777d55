//! `cargo xtask fuzz [--secs N] [TARGET...]`: the cargo-fuzz targets of `fuzz/` (libFuzzer, on
//! nightly), each for a fixed time, and the `fuzz` stage of `cargo xtask ci`.
//!
//! cargo-fuzz [`CARGO_FUZZ_VERSION`] is built into the tool cache ([`setup::tools_dir`]) the
//! first time (about 2 minutes), and the nightly toolchain installed if it is missing. The
//! targets are built once (`cargo fuzz build`, with debug assertions, so an overflow is a
//! finding), then each runs for its time from the committed seeds in `fuzz/corpus/<target>`
//! (read only) and a working corpus in `fuzz/target/corpus/<target>` (kept between runs, never
//! committed). A crash, a panic or a hang (an input that takes more than [`UNIT_TIMEOUT_SECS`])
//! fails the run; libFuzzer writes the input to `fuzz/artifacts/<target>/`, which the report
//! names with the command that replays it. Each target's log is in `fuzz/target/logs/`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::cmd::{Cmd, Workspace};
use crate::setup::{self, ensure};

/// The fuzz targets, in the order they run (`fuzz/fuzz_targets/<name>.rs`).
pub const TARGETS: &[&str] = &["http_request", "http_range", "http_path", "chat_line"];

/// How long `cargo xtask fuzz` runs each target by default, in seconds.
pub const DEFAULT_SECS: u64 = 30;

/// How long each target runs in the `fuzz` stage of CI, in seconds.
pub const CI_SECS: u64 = 20;

/// The longest one input may take before libFuzzer calls it a hang (a finding).
const UNIT_TIMEOUT_SECS: u64 = 30;

/// The cargo-fuzz release installed into the tool cache.
pub const CARGO_FUZZ_VERSION: &str = "0.13.2";

/// The fuzz crate, relative to the workspace root (a workspace of its own).
const FUZZ_DIR: &str = "fuzz";

/// Where [`CARGO_FUZZ_VERSION`] is installed: `<tools>/cargo-fuzz-<version>/bin/cargo-fuzz`.
pub fn cargo_fuzz_path(ws: &Workspace) -> PathBuf {
    cargo_fuzz_root(ws).join("bin").join("cargo-fuzz")
}

fn cargo_fuzz_root(ws: &Workspace) -> PathBuf {
    setup::tools_dir(ws).join(format!("cargo-fuzz-{CARGO_FUZZ_VERSION}"))
}

/// Installs the nightly toolchain (if missing) and cargo-fuzz into the tool cache (if missing).
pub fn ensure_tools(ws: &Workspace) -> Result<(), String> {
    // RUSTUP_AUTO_INSTALL=0: the probe must not install nightly by itself.
    let nightly = || {
        Cmd::cargo("+nightly --version")
            .env("RUSTUP_AUTO_INSTALL", "0")
            .succeeds_quietly(ws)
    };
    ensure("nightly toolchain", nightly, || {
        Cmd::line("rustup toolchain install nightly --profile minimal").run(ws)
    })?;
    let cargo_fuzz = cargo_fuzz_path(ws);
    let works = || {
        Command::new(&cargo_fuzz)
            .arg("--version")
            .output()
            .is_ok_and(|out| out.status.success())
    };
    let root = cargo_fuzz_root(ws);
    ensure(&format!("cargo-fuzz {CARGO_FUZZ_VERSION}"), works, || {
        Cmd::cargo("install cargo-fuzz --locked")
            .args(["--version", CARGO_FUZZ_VERSION])
            .arg("--root")
            .arg(root.to_string_lossy().as_ref())
            .run(ws)
    })
}

/// What `cargo xtask fuzz` was asked to do.
#[derive(Debug, PartialEq, Eq)]
pub struct Options {
    /// Seconds per target.
    pub secs: u64,
    /// The targets to run, in [`TARGETS`] order; all of them if none was named.
    pub targets: Vec<&'static str>,
}

impl Options {
    /// Parses the arguments after `fuzz`: `--secs N` (or `--secs=N`) and target names.
    pub fn parse(args: &[String]) -> Result<Options, String> {
        let mut secs = DEFAULT_SECS;
        let mut named = Vec::new();
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let value = if arg == "--secs" {
                Some(
                    args.next()
                        .ok_or("--secs needs a number of seconds")?
                        .clone(),
                )
            } else {
                arg.strip_prefix("--secs=").map(str::to_string)
            };
            if let Some(value) = value {
                secs = value.parse().ok().filter(|&secs| secs > 0).ok_or_else(|| {
                    format!("--secs takes a whole number of seconds, not `{value}`")
                })?;
            } else if arg.starts_with('-') {
                return Err(format!("unknown argument `{arg}` to `fuzz`"));
            } else {
                let target = TARGETS
                    .iter()
                    .find(|target| **target == arg.as_str())
                    .ok_or_else(|| {
                        format!(
                            "no fuzz target named `{arg}`; the targets are: {}",
                            TARGETS.join(", ")
                        )
                    })?;
                named.push(*target);
            }
        }
        let targets = TARGETS
            .iter()
            .copied()
            .filter(|target| named.is_empty() || named.contains(target))
            .collect();
        Ok(Options { secs, targets })
    }
}

/// How one target's run went.
#[derive(Debug)]
struct Report {
    target: &'static str,
    runs: Option<u64>,
    elapsed: Duration,
    /// The input libFuzzer wrote for a crash, a panic or a hang, if any.
    artifact: Option<String>,
    /// The run failed (a finding, or libFuzzer could not start).
    failed: bool,
    log: PathBuf,
}

/// `cargo xtask fuzz`: installs what is missing, builds, runs each target, prints a table.
pub fn run(root: &Path, args: &[String]) -> std::process::ExitCode {
    let options = match Options::parse(args) {
        Ok(options) => options,
        Err(message) => return crate::usage_error(&message),
    };
    let ws = Workspace {
        root: root.to_path_buf(),
    };
    match fuzz(&ws, &options) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask fuzz: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The `fuzz` stage: the fuzz crate is formatted (it is outside the workspace, so the `fmt`
/// stage does not see it), then every target runs for [`CI_SECS`].
///
/// On 2 cores: 5.5 minutes cold (cargo-fuzz built into the tool cache, 1m50s; the targets,
/// 2m15s; the runs, 1m30s), 1.5 minutes warm (the runs).
pub fn ci_stage(ws: &Workspace) -> Result<(), String> {
    Cmd::cargo("fmt --check --manifest-path")
        .arg(&format!("{FUZZ_DIR}/Cargo.toml"))
        .run(ws)?;
    fuzz(
        ws,
        &Options {
            secs: CI_SECS,
            targets: TARGETS.to_vec(),
        },
    )
}

fn fuzz(ws: &Workspace, options: &Options) -> Result<(), String> {
    ensure_tools(ws)?;
    let cargo_fuzz = cargo_fuzz_path(ws);
    let cargo_fuzz = cargo_fuzz.to_string_lossy();
    // One build of every target; `cargo fuzz run` below then finds them up to date.
    cargo_fuzz_cmd(&cargo_fuzz, "build").run(ws)?;
    let mut reports = Vec::new();
    for &target in &options.targets {
        reports.push(run_target(ws, &cargo_fuzz, target, options.secs)?);
    }
    print_reports(&reports);
    let failed: Vec<String> = reports
        .iter()
        .filter(|report| report.failed)
        .map(|report| match &report.artifact {
            Some(artifact) => format!("{} (input: {artifact})", report.target),
            None => format!("{} (see {})", report.target, report.log.display()),
        })
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("a finding in {}", failed.join(", ")))
    }
}

/// `cargo-fuzz fuzz <sub> -a --fuzz-dir fuzz` on nightly: `-a` keeps debug assertions (integer
/// overflow checks) in the optimized build.
fn cargo_fuzz_cmd(cargo_fuzz: &str, sub: &str) -> Cmd {
    Cmd::line(cargo_fuzz)
        .args(["fuzz", sub, "-a", "--fuzz-dir", FUZZ_DIR])
        .env("RUSTUP_TOOLCHAIN", "nightly")
}

fn run_target(
    ws: &Workspace,
    cargo_fuzz: &str,
    target: &'static str,
    secs: u64,
) -> Result<Report, String> {
    let work = ws.path(&format!("{FUZZ_DIR}/target/corpus/{target}"));
    let seeds = format!("{FUZZ_DIR}/corpus/{target}");
    let logs = ws.path(&format!("{FUZZ_DIR}/target/logs"));
    for dir in [&work, &logs] {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("could not create {}: {e}", dir.display()))?;
    }
    let log = logs.join(format!("{target}.log"));
    let log_file = std::fs::File::create(&log)
        .map_err(|e| format!("could not create {}: {e}", log.display()))?;
    // The working corpus first: libFuzzer adds what it finds there, never to the seeds.
    let cmd = cargo_fuzz_cmd(cargo_fuzz, "run")
        .arg(target)
        .arg(&work.to_string_lossy())
        .arg(&seeds)
        .args(["--", "-print_final_stats=1"])
        .arg(&format!("-max_total_time={secs}"))
        .arg(&format!("-timeout={UNIT_TIMEOUT_SECS}"));
    println!("$ {cmd}  (output in {})", log.display());
    let started = Instant::now();
    let status = cmd
        .command(ws)
        .stdout(Stdio::from(log_file.try_clone().map_err(|e| {
            format!("could not write {}: {e}", log.display())
        })?))
        .stderr(Stdio::from(log_file))
        .status()
        .map_err(|e| format!("could not start {cargo_fuzz}: {e}"))?;
    let elapsed = started.elapsed();
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let stats = Stats::from_log(&text);
    let failed = !status.success() || stats.artifact.is_some();
    if failed {
        // The end of the log says what was found (the panic, the sanitizer's report).
        let lines: Vec<&str> = text.lines().collect();
        println!("---- the end of {} ----", log.display());
        for line in &lines[lines.len().saturating_sub(40)..] {
            println!("{line}");
        }
        if let Some(artifact) = &stats.artifact {
            println!(
                "replay it: {cargo_fuzz} fuzz run -a --fuzz-dir {FUZZ_DIR} {target} {artifact}  (on nightly)"
            );
        }
    }
    Ok(Report {
        target,
        runs: stats.runs,
        elapsed,
        artifact: stats.artifact,
        failed,
        log,
    })
}

/// What a libFuzzer log says.
#[derive(Debug, Default, PartialEq, Eq)]
struct Stats {
    /// `stat::number_of_executed_units` (printed at the end with `-print_final_stats=1`), or
    /// the count of the last status line (`#1234 ...`) if the run stopped before.
    runs: Option<u64>,
    /// `Test unit written to <path>`: the input of a crash, a panic or a hang.
    artifact: Option<String>,
}

impl Stats {
    fn from_log(text: &str) -> Stats {
        let mut stats = Stats::default();
        for line in text.lines() {
            if let Some(value) = line.strip_prefix("stat::number_of_executed_units:") {
                stats.runs = value.trim().parse().ok().or(stats.runs);
            } else if let Some(count) = line.strip_prefix('#') {
                let digits: String = count.chars().take_while(char::is_ascii_digit).collect();
                if let Ok(count) = digits.parse() {
                    stats.runs = Some(count);
                }
            } else if let Some(at) = line.find("Test unit written to ") {
                let path = line[at + "Test unit written to ".len()..].trim();
                stats.artifact = Some(path.to_string());
            }
        }
        stats
    }
}

fn print_reports(reports: &[Report]) {
    println!();
    println!(
        "{:<14}  {:>12}  {:>8}  {:>9}  result",
        "target", "runs", "seconds", "runs/s"
    );
    for report in reports {
        let secs = report.elapsed.as_secs_f64();
        let (runs, rate) = match report.runs {
            Some(runs) => (
                runs.to_string(),
                format!("{:.0}", runs as f64 / secs.max(0.001)),
            ),
            None => ("?".to_string(), "?".to_string()),
        };
        let result = match (&report.artifact, report.failed) {
            (Some(artifact), _) => format!("CRASH: {artifact}"),
            (None, true) => format!("FAILED: see {}", report.log.display()),
            (None, false) => "no crash".to_string(),
        };
        println!(
            "{:<14}  {runs:>12}  {secs:>8.1}  {rate:>9}  {result}",
            report.target
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn options_take_seconds_and_targets() {
        assert_eq!(
            Options::parse(&[]).unwrap(),
            Options {
                secs: DEFAULT_SECS,
                targets: TARGETS.to_vec()
            }
        );
        assert_eq!(
            Options::parse(&args("chat_line --secs 5 http_path")).unwrap(),
            Options {
                secs: 5,
                targets: vec!["http_path", "chat_line"]
            }
        );
        assert_eq!(Options::parse(&args("--secs=7")).unwrap().secs, 7);
        for bad in ["--secs", "--secs 0", "--secs x", "nope", "--fast"] {
            assert!(Options::parse(&args(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn stats_come_from_the_log() {
        let clean = "#2\tINITED cov: 10\n#300\tNEW cov: 12\n#4567\tDONE cov: 12\n\
                     stat::number_of_executed_units: 4567\nstat::average_exec_per_sec: 150\n";
        assert_eq!(
            Stats::from_log(clean),
            Stats {
                runs: Some(4567),
                artifact: None
            }
        );
        let crash = "#88\tNEW cov: 3\nthread '<unnamed>' panicked at src/x.rs:1:1:\n\
                     ==1== ERROR: libFuzzer: deadly signal\n\
                     artifact_prefix='/w/fuzz/artifacts/http_path/'; Test unit written to \
                     /w/fuzz/artifacts/http_path/crash-abc\n";
        assert_eq!(
            Stats::from_log(crash),
            Stats {
                runs: Some(88),
                artifact: Some("/w/fuzz/artifacts/http_path/crash-abc".to_string())
            }
        );
    }
}
