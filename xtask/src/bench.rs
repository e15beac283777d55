//! `cargo xtask bench [--quick]`: ebbtide against Tokio, smol and Embassy, in one run.
//!
//! Builds the binaries of the `ebbtide-bench` crate in release, asks each which runtime variants
//! and workloads it runs (`<binary> list`), then runs them in rounds: in each round every workload
//! runs on every runtime, one process per (runtime, workload), the runtimes' order rotating from
//! round to round, so that drift on a shared machine falls on all of them alike. Each process warms
//! up once and prints a few samples as JSON lines. Writes `target/bench-report/report.md` (medians,
//! spread, ratio to the best peer), one SVG bar chart per workload and the raw samples
//! (`samples.jsonl`), and prints the markdown.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::Instant;

use crate::cmd::{Cmd, Workspace};

/// The benchmark binaries, each linking one runtime (and at most one time driver).
const BINARIES: &[&str] = &[
    "exec_ebbtide",
    "exec_tokio",
    "exec_smol",
    "exec_embassy",
    "timers_ebbtide",
    "timers_peers",
    "timers_embassy",
];

/// Workloads in report order, with what they do.
const WORKLOADS: &[(&str, &str)] = &[
    (
        "spawn_many_1000",
        "spawn 1,000 empty tasks from a task, await all",
    ),
    (
        "spawn_many_10000",
        "spawn 10,000 empty tasks from a task, await all",
    ),
    ("yield_many", "200 tasks x 1,000 `yield_now`"),
    (
        "ping_pong",
        "1,000 tasks, each spawning a child and trading two oneshot messages with it",
    ),
    (
        "chained_spawn",
        "a chain of 1,000 tasks, each spawning the next",
    ),
    (
        "mpsc_uncontended",
        "send 5,000 then receive 5,000 (capacity 5,000)",
    ),
    (
        "mpsc_contended",
        "5 producer tasks x 1,000 messages, capacity 100, one consumer",
    ),
    (
        "request_reply",
        "1,000 round trips: a oneshot sent over an mpsc of capacity 10",
    ),
    (
        "timers",
        "10,000 tasks sleeping 1-10 ms (distinct), real clock: total time",
    ),
];

/// Workloads whose channels come in a single-executor flavour (`ebbtide-local`, `embassy` with
/// `NoopRawMutex`) and a thread-safe one (everything else): ratios compare like with like.
const CHANNEL_WORKLOADS: &[&str] = &[
    "ping_pong",
    "mpsc_uncontended",
    "mpsc_contended",
    "request_reply",
];

const NOTES: &str = "\
## How the runtimes differ

- **ebbtide** (executor workloads): ebbtide-core's `Executor` with static `TaskPool`s and one `Runner` on the
  benchmark thread, no IO or time driver; channels with the default `CriticalSectionRawMutex`
  (thread-safe). **ebbtide-local**: the same with `LocalRawMutex` channels (single-executor, `!Sync`).
  Timers: ebbtide-std (mio) on the real clock. A channel (`mpsc`) is split once, so a fresh one is
  allocated per run before the clock starts; oneshots are reused (split again per exchange).
- **tokio-ct**: `current_thread` runtime. **tokio-mt1**: `multi_thread` with one worker: the root future
  runs on the benchmark thread and the tasks on the worker, so wakes cross threads. Tokio's
  `yield_now` defers the wake until the IO/time driver has been polled, where ebbtide and Embassy requeue
  at once (whether that starves IO is not measured here: no IO in these workloads). Tokio rounds
  sleeps up to whole milliseconds, hence its lateness.
- **smol**: async-executor 1.x `Executor` driven by `futures_lite::future::block_on` on one thread
  (timers: `async_io::block_on` and `async_io::Timer`); async-channel, with `bounded(1)` standing in for a
  oneshot (smol has none).
- **embassy**: embassy-executor 0.10 (`platform-std`, `executor-thread`), embassy-sync 0.8 with
  `NoopRawMutex` (single-executor); **embassy-cs**: the channel workloads with `CriticalSectionRawMutex`.
  Tasks return `()`: results come back through an embassy-sync `Channel`, and a `Signal` stands in for a
  oneshot. A spawn scans the task's static pool from the start for a free slot (filling a pool of N costs
  about N^2/2 claims). Timers: embassy-time 0.5 `std` driver (an alarm thread rescanning its queue), in a
  binary of their own (one time driver per binary).
- Ratio: the runtime's median over the best peer's (Tokio, smol, Embassy) in the same run, below 1.00
  means faster. For the channel workloads the single-executor flavours (ebbtide-local, embassy) are
  compared with each other and the thread-safe ones (ebbtide, tokio, smol, embassy-cs) with each other.
";

struct Options {
    quick: bool,
}

/// Entry point of `cargo xtask bench`.
pub fn run(root: &Path, args: &[String]) -> ExitCode {
    let mut options = Options { quick: false };
    for arg in args {
        match arg.as_str() {
            "--quick" => options.quick = true,
            other => {
                eprintln!("xtask bench: unknown argument `{other}` (expected --quick)");
                return ExitCode::from(2);
            }
        }
    }
    let ws = Workspace {
        root: root.to_path_buf(),
    };
    // Embassy's timers come from a crate outside the workspace (see its Cargo.toml), built into
    // the same target folder.
    let embassy_timers = Cmd::cargo(
        "build --release --manifest-path bench/embassy-timers/Cargo.toml --target-dir target",
    );
    if let Err(e) = Cmd::cargo("build --release --package ebbtide-bench --bins")
        .run(&ws)
        .and_then(|()| embassy_timers.run(&ws))
    {
        eprintln!("xtask bench: build failed: {e}");
        return ExitCode::FAILURE;
    }
    let bin_dir = ws.path("target/release");
    // (rounds, samples per process): quick finishes well under two minutes.
    let (rounds, per_process) = if options.quick { (3, 2) } else { (10, 4) };

    let mut jobs: Vec<(String, String, String)> = Vec::new(); // (binary, runtime, workload)
    for bin in BINARIES {
        let out = match Command::new(bin_dir.join(bin)).arg("list").output() {
            Ok(out) if out.status.success() => out,
            _ => {
                eprintln!("xtask bench: `{bin} list` failed");
                return ExitCode::FAILURE;
            }
        };
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            if let Some((runtime, workload)) = line.split_once(' ') {
                jobs.push((bin.to_string(), runtime.to_string(), workload.to_string()));
            }
        }
    }

    let started = Instant::now();
    let mut samples: Vec<Sample> = Vec::new();
    let mut raw = String::new();
    for round in 0..rounds {
        eprintln!("xtask bench: round {}/{rounds}", round + 1);
        for (workload, _) in WORKLOADS {
            let mut these: Vec<&(String, String, String)> =
                jobs.iter().filter(|j| j.2 == *workload).collect();
            if these.is_empty() {
                continue;
            }
            let shift = round % these.len();
            these.rotate_left(shift);
            for (bin, runtime, workload) in these {
                let out = Command::new(bin_dir.join(bin))
                    .args([runtime, workload, &per_process.to_string()])
                    .output();
                let out = match out {
                    Ok(out) if out.status.success() => out,
                    Ok(out) => {
                        eprintln!(
                            "xtask bench: {bin} {runtime} {workload} failed: {}",
                            String::from_utf8_lossy(&out.stderr)
                        );
                        return ExitCode::FAILURE;
                    }
                    Err(e) => {
                        eprintln!("xtask bench: running {bin}: {e}");
                        return ExitCode::FAILURE;
                    }
                };
                for line in String::from_utf8_lossy(&out.stdout).lines() {
                    if let Some(s) = Sample::parse(line) {
                        raw.push_str(line);
                        raw.push('\n');
                        samples.push(s);
                    }
                }
            }
        }
    }
    let elapsed = started.elapsed();

    let report = render(
        &samples,
        rounds,
        per_process,
        options.quick,
        elapsed.as_secs_f64(),
    );
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
    if let Err(e) = written {
        eprintln!("xtask bench: writing {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    println!("{}", report.markdown);
    eprintln!("xtask bench: wrote {}", dir.join("report.md").display());
    ExitCode::SUCCESS
}

struct Sample {
    workload: String,
    runtime: String,
    ns: f64,
    late_ns: Option<f64>,
}

impl Sample {
    /// One JSON line of a benchmark binary (flat, with known keys: no JSON parser needed).
    fn parse(line: &str) -> Option<Sample> {
        Some(Sample {
            workload: field(line, "workload")?.trim_matches('"').to_string(),
            runtime: field(line, "runtime")?.trim_matches('"').to_string(),
            ns: field(line, "ns")?.parse().ok()?,
            late_ns: field(line, "late_ns").and_then(|v| v.parse().ok()),
        })
    }
}

fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let start = line.find(&format!("\"{key}\":"))? + key.len() + 3;
    let rest = &line[start..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    Some(rest[..end].trim())
}

struct Stats {
    median: f64,
    min: f64,
    max: f64,
    late_median: Option<f64>,
    n: usize,
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn stats(samples: &[&Sample]) -> Stats {
    let mut ns: Vec<f64> = samples.iter().map(|s| s.ns).collect();
    let mut late: Vec<f64> = samples.iter().filter_map(|s| s.late_ns).collect();
    let med = median(&mut ns);
    Stats {
        median: med,
        min: ns[0],
        max: ns[ns.len() - 1],
        late_median: (!late.is_empty()).then(|| median(&mut late)),
        n: ns.len(),
    }
}

fn is_ours(runtime: &str) -> bool {
    runtime.starts_with("ebbtide")
}

/// Single-executor flavour of a channel workload?
fn is_local(runtime: &str, workload: &str) -> bool {
    CHANNEL_WORKLOADS.contains(&workload) && (runtime == "ebbtide-local" || runtime == "embassy")
}

/// Runtime display order.
fn rank(runtime: &str) -> usize {
    [
        "ebbtide",
        "ebbtide-local",
        "tokio-ct",
        "tokio-mt1",
        "smol",
        "embassy",
        "embassy-cs",
    ]
    .iter()
    .position(|r| *r == runtime)
    .unwrap_or(99)
}

fn fmt_time(ns: f64) -> String {
    if ns >= 10_000_000.0 {
        format!("{:.1} ms", ns / 1e6)
    } else if ns >= 1_000.0 {
        format!("{:.0} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

struct Report {
    markdown: String,
    charts: Vec<(String, String)>,
}

fn render(samples: &[Sample], rounds: usize, per_process: usize, quick: bool, secs: f64) -> Report {
    let mut md = String::new();
    let mut charts = Vec::new();
    let _ = writeln!(md, "# ebbtide vs Tokio, smol and Embassy\n");
    let _ = writeln!(
        md,
        "`cargo xtask bench{}`: {rounds} rounds x {per_process} samples per runtime and workload \
         (after one warm-up run per process), runtimes alternating round by round; {secs:.0} s of \
         measuring. Median of the whole workload's wall time, spread min-max, ratio to the best peer \
         in the same run (below 1.00: ebbtide is faster). One thread, release build.\n",
        if quick { " --quick" } else { "" }
    );
    let mut summary = String::from(
        "## Summary\n\n| workload | ebbtide | best peer (like for like) | ratio |\n|---|---:|---|---:|\n",
    );
    for (workload, about) in WORKLOADS {
        let mut by_runtime: BTreeMap<&str, Vec<&Sample>> = BTreeMap::new();
        for s in samples.iter().filter(|s| s.workload == *workload) {
            by_runtime.entry(s.runtime.as_str()).or_default().push(s);
        }
        if by_runtime.is_empty() {
            continue;
        }
        let mut rows: Vec<(&str, Stats)> = by_runtime.iter().map(|(r, s)| (*r, stats(s))).collect();
        rows.sort_by_key(|(r, _)| rank(r));
        let best_peer = |local: bool| -> Option<(&str, f64)> {
            rows.iter()
                .filter(|(r, _)| !is_ours(r) && is_local(r, workload) == local)
                .map(|(r, s)| (*r, s.median))
                .min_by(|a, b| a.1.total_cmp(&b.1))
        };
        let timers = rows.iter().any(|(_, s)| s.late_median.is_some());
        let _ = writeln!(md, "## {workload}\n\n{about}.\n");
        if timers {
            let _ = writeln!(
                md,
                "| runtime | median | spread (min-max) | mean lateness (median) | samples | ratio to best peer |\n|---|---:|---:|---:|---:|---:|"
            );
        } else {
            let _ = writeln!(
                md,
                "| runtime | median | spread (min-max) | samples | ratio to best peer |\n|---|---:|---:|---:|---:|"
            );
        }
        for (runtime, s) in &rows {
            let ratio = best_peer(is_local(runtime, workload))
                .map(|(_, b)| format!("{:.2}", s.median / b))
                .unwrap_or_else(|| "-".into());
            let name = if is_ours(runtime) {
                format!("**{runtime}**")
            } else {
                runtime.to_string()
            };
            let late = s
                .late_median
                .map(|l| format!(" {} |", fmt_time(l)))
                .unwrap_or_default();
            let _ = writeln!(
                md,
                "| {name} | {} | {} - {} |{late} {} | {ratio} |",
                fmt_time(s.median),
                fmt_time(s.min),
                fmt_time(s.max),
                s.n
            );
            if is_ours(runtime) {
                if let Some((peer, b)) = best_peer(is_local(runtime, workload)) {
                    let _ = writeln!(
                        summary,
                        "| {workload} | {} ({runtime}) | {} ({peer}) | {:.2} |",
                        fmt_time(s.median),
                        fmt_time(b),
                        s.median / b
                    );
                }
            }
        }
        if timers {
            let mut late_rows: Vec<(&str, f64)> = rows
                .iter()
                .filter_map(|(r, s)| s.late_median.map(|l| (*r, l)))
                .collect();
            late_rows.sort_by_key(|(r, _)| rank(r));
            charts.push((
                format!("{workload}_lateness"),
                svg(&format!("{workload}: mean wake lateness"), &late_rows),
            ));
            let _ = writeln!(md, "\n![{workload} lateness]({workload}_lateness.svg)");
        }
        let bars: Vec<(&str, f64)> = rows.iter().map(|(r, s)| (*r, s.median)).collect();
        charts.push((
            workload.to_string(),
            svg(&format!("{workload}: median time"), &bars),
        ));
        let _ = writeln!(md, "\n![{workload}]({workload}.svg)\n");
    }
    let mut out = String::new();
    out.push_str(&md[..md.find("## ").unwrap_or(md.len())]);
    out.push_str(&summary);
    out.push('\n');
    out.push_str(&md[md.find("## ").unwrap_or(md.len())..]);
    out.push_str(NOTES);
    Report {
        markdown: out,
        charts,
    }
}

/// A horizontal bar chart: one bar per runtime, ebbtide's in another colour, labelled with the value.
fn svg(title: &str, bars: &[(&str, f64)]) -> String {
    let max = bars.iter().map(|b| b.1).fold(0.0, f64::max).max(1.0);
    let (label_w, bar_w, row_h, top) = (120.0, 420.0, 26.0, 34.0);
    let height = top + row_h * bars.len() as f64 + 10.0;
    let width = label_w + bar_w + 110.0;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         font-family=\"sans-serif\" font-size=\"13\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"10\" y=\"20\" font-weight=\"bold\">{}</text>\n",
        escape(title)
    );
    for (i, (runtime, value)) in bars.iter().enumerate() {
        let y = top + row_h * i as f64;
        let w = (value / max * bar_w).max(1.0);
        let colour = if is_ours(runtime) {
            "#1f77b4"
        } else {
            "#aaaaaa"
        };
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n\
             <rect x=\"{label_w}\" y=\"{}\" width=\"{w:.1}\" height=\"{}\" fill=\"{colour}\"/>\n\
             <text x=\"{}\" y=\"{}\">{}</text>",
            label_w - 6.0,
            y + 16.0,
            escape(runtime),
            y + 3.0,
            row_h - 6.0,
            label_w + w + 6.0,
            y + 16.0,
            escape(&fmt_time(*value)),
        );
    }
    s.push_str("</svg>\n");
    s
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
