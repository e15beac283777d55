//! The report of `cargo xtask bench`: markdown tables per workload, a summary, SVG bar charts.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::workloads::{
    Kind, Workload, CHANNEL_WORKLOADS, FLOORS, NOTES, RUNTIME_ORDER, WORKLOADS,
};

/// ebbtide's 1-worker variant: the scaling baseline of the 2-worker workloads, whose server CPU
/// per request the other runtimes' is divided by.
const MT_BASELINE: &str = "ebbtide-1w";

/// One JSON line of a benchmark binary: `{"workload":"..","runtime":"..","ns":..,<key>:<number>..}`.
pub struct Sample {
    workload: String,
    runtime: String,
    /// Every numeric key (`ns`, `late_ns`, `rps`, `bytes`, ...).
    figures: BTreeMap<String, f64>,
}

impl Sample {
    /// Parses one line (flat JSON with string and number values, none containing a comma or a
    /// colon: no JSON parser needed). Anything else is not a sample.
    pub fn parse(line: &str) -> Option<Sample> {
        let body = line.trim().strip_prefix('{')?.strip_suffix('}')?;
        let mut workload = None;
        let mut runtime = None;
        let mut figures = BTreeMap::new();
        for pair in body.split(',') {
            let (key, value) = pair.split_once(':')?;
            let key = key.trim().trim_matches('"');
            let value = value.trim();
            match key {
                "workload" => workload = Some(value.trim_matches('"').to_string()),
                "runtime" => runtime = Some(value.trim_matches('"').to_string()),
                _ => {
                    figures.insert(key.to_string(), value.parse().ok()?);
                }
            }
        }
        Some(Sample {
            workload: workload?,
            runtime: runtime?,
            figures,
        })
    }
}

/// What one run of `cargo xtask bench` produced.
pub struct Run<'a> {
    pub samples: &'a [Sample],
    /// The bare-metal size comparison, already rendered as a markdown section.
    pub sizes: Option<&'a str>,
    pub quick: bool,
    pub only: Option<&'a str>,
    /// Seconds spent measuring.
    pub secs: f64,
}

/// The markdown and the charts (name, SVG).
pub struct Report {
    pub markdown: String,
    pub charts: Vec<(String, String)>,
}

/// The figures of one runtime on one workload: the median of each key over its samples, and the
/// spread of the primary one.
struct Row<'a> {
    runtime: &'a str,
    medians: BTreeMap<&'a str, f64>,
    min: f64,
    max: f64,
    n: usize,
}

impl Row<'_> {
    fn get(&self, key: &str) -> Option<f64> {
        self.medians.get(key).copied()
    }
}

/// The key holding a workload's primary figure.
fn primary(kind: Kind) -> &'static str {
    match kind {
        Kind::Time | Kind::PerRequest => "ns",
        Kind::Bytes => "bytes",
        Kind::PerSec => "per_sec",
    }
}

/// `ratio(value, best)`, or `-` when either is missing.
fn ratio_or_dash(value: Option<f64>, best: Option<f64>) -> String {
    match (value, best) {
        (Some(v), Some(b)) => ratio(v, b),
        _ => "-".into(),
    }
}

/// The median of `values` (sorted in place); 0 when there are none.
pub(crate) fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn row<'a>(runtime: &'a str, samples: &[&'a Sample], primary: &str) -> Option<Row<'a>> {
    let mut keys: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for s in samples {
        for (k, v) in &s.figures {
            keys.entry(k.as_str()).or_default().push(*v);
        }
    }
    let mut values = keys.get(primary)?.clone();
    values.sort_by(f64::total_cmp);
    Some(Row {
        runtime,
        min: values[0],
        max: values[values.len() - 1],
        n: values.len(),
        medians: keys
            .into_iter()
            .map(|(k, mut v)| (k, median(&mut v)))
            .collect(),
    })
}

/// The hyper workloads (`hyper_h1_64`, `mt_hyper_h1_256`, ...) and the HTTPS ones
/// (`https_handshakes`, `https_1mb`): the same hyper service on every runtime, with allocations
/// per request beside the network figures.
fn is_hyper(workload: &str) -> bool {
    workload.starts_with("hyper_")
        || workload.starts_with("mt_hyper_")
        || workload.starts_with("https_")
}

/// The file-server workloads (`fs_1k`, `mt_fs_1m`, ...): the file server demo against nginx.
fn is_fs(workload: &str) -> bool {
    workload.starts_with("fs_") || workload.starts_with("mt_fs_")
}

fn is_ours(runtime: &str) -> bool {
    runtime.starts_with("ebbtide")
}

fn is_peer(runtime: &str) -> bool {
    !is_ours(runtime) && !FLOORS.contains(&runtime)
}

/// Which of a workload's two like-for-like groups a runtime is in: single-executor channels
/// (`ebbtide-local`, `ebbtide-bare-local`, `embassy` with `NoopRawMutex`) apart from thread-safe
/// ones, and static task pools (`ebbtide`, `embassy`) apart from runtimes that find task memory
/// at run time (`ebbtide-std`'s size classes, Tokio's and smol's heap). Ratios compare within a
/// group.
fn is_local(runtime: &str, workload: &str) -> bool {
    if CHANNEL_WORKLOADS.contains(&workload) {
        runtime == "ebbtide-local" || runtime == "ebbtide-bare-local" || runtime == "embassy"
    } else if workload == "task_bytes" {
        runtime == "ebbtide" || runtime == "embassy"
    } else {
        false
    }
}

fn rank(runtime: &str) -> usize {
    RUNTIME_ORDER
        .iter()
        .position(|r| *r == runtime)
        .unwrap_or(RUNTIME_ORDER.len())
}

pub fn fmt_time(ns: f64) -> String {
    if ns >= 10_000_000.0 {
        format!("{:.1} ms", ns / 1e6)
    } else if ns >= 10_000.0 {
        format!("{:.0} µs", ns / 1e3)
    } else if ns >= 1_000.0 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

pub fn fmt_bytes(bytes: f64) -> String {
    if bytes >= 10.0 * 1024.0 * 1024.0 {
        format!("{:.1} MiB", bytes / (1024.0 * 1024.0))
    } else if bytes >= 10.0 * 1024.0 {
        format!("{:.1} KiB", bytes / 1024.0)
    } else {
        format!("{bytes:.0} B")
    }
}

fn fmt_primary(kind: Kind, value: f64) -> String {
    match kind {
        Kind::Time | Kind::PerRequest => fmt_time(value),
        Kind::Bytes => fmt_bytes(value),
        Kind::PerSec => format!("{value:.1}/s"),
    }
}

fn fmt_count(value: f64) -> String {
    let whole = value.round() as u64;
    let digits = whole.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `a / b` to two places, or `-` when there is nothing to divide by.
fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 {
        format!("{:.2}", a / b)
    } else if a == 0.0 {
        "1.00".into()
    } else {
        "-".into()
    }
}

/// Renders the whole report.
pub fn render(run: &Run) -> Report {
    let mut md = String::new();
    let mut charts = Vec::new();
    let mut summary = String::from(
        "## Summary\n\n| workload | ebbtide | best peer (like for like) | ratio |\n|---|---:|---|---:|\n",
    );
    for workload in WORKLOADS {
        let mut by_runtime: BTreeMap<&str, Vec<&Sample>> = BTreeMap::new();
        for s in run.samples.iter().filter(|s| s.workload == workload.name) {
            by_runtime.entry(s.runtime.as_str()).or_default().push(s);
        }
        let key = primary(workload.kind);
        let mut rows: Vec<Row> = by_runtime
            .iter()
            .filter_map(|(r, s)| row(r, s, key))
            .collect();
        if rows.is_empty() {
            continue;
        }
        rows.sort_by_key(|r| rank(r.runtime));
        section(&mut md, &mut summary, &mut charts, workload, &rows);
    }
    let mut out = String::new();
    let _ = writeln!(out, "# ebbtide vs Tokio, smol and Embassy (and nginx)\n");
    let (time_rounds, time_samples) = super::Kind::Time.rounds(run.quick);
    let (net_rounds, net_samples) = super::Kind::PerRequest.rounds(run.quick);
    let _ = writeln!(
        out,
        "`cargo xtask bench{}{}`: executor workloads {time_rounds} rounds x {time_samples} samples per \
         runtime, network {net_rounds} x {net_samples} samples of {} each, memory once (after one warm-up \
         run per process); runtimes alternating round by round; {:.0} s of measuring. Profile `bench-lto` \
         (release, thin LTO, one codegen unit), one thread per runtime (the `mt_*` workloads: the peers \
         with 2 workers, ebbtide with the workers its name says, see the notes; the file-server `fs_*` and `mt_fs_*` \
         workloads: the file server demo against nginx, a 1 s warm-up per process, then samples of {}). Median, spread min-max, ratio to the \
         best peer in the same run (below 1.00: ebbtide is better).\n",
        if run.quick { " --quick" } else { "" },
        run.only.map(|o| format!(" --only {o}")).unwrap_or_default(),
        if run.quick { "0.3 s" } else { "1.5 s" },
        run.secs,
        // As `bench/src/fs.rs`'s `sample_secs`.
        if run.quick { "1 s" } else { "2 s" },
    );
    out.push_str(&summary);
    out.push('\n');
    out.push_str(&md);
    if let Some(sizes) = run.sizes {
        out.push_str(sizes);
        out.push('\n');
    }
    out.push_str(NOTES);
    Report {
        markdown: out,
        charts,
    }
}

/// One workload's table and chart, and its line in the summary.
fn section(
    md: &mut String,
    summary: &mut String,
    charts: &mut Vec<(String, String)>,
    workload: &Workload,
    rows: &[Row],
) {
    let name = workload.name;
    let kind = workload.kind;
    let key = primary(kind);
    let best_peer = |local: bool| -> Option<(&str, f64)> {
        rows.iter()
            .filter(|r| is_peer(r.runtime) && is_local(r.runtime, name) == local)
            .filter_map(|r| Some((r.runtime, r.get(key)?)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
    };
    let floor = rows.iter().find(|r| FLOORS.contains(&r.runtime));
    let _ = writeln!(md, "## {name}\n\n{}.\n", workload.about);
    let timers = rows.iter().any(|r| r.get("late_ns").is_some());
    // Multi-thread workloads: the CPU time of the whole process (every worker) per run.
    let cpu = kind == Kind::Time && rows.iter().any(|r| r.get("cpu_ns").is_some());
    let best_peer_cpu = rows
        .iter()
        .filter(|r| is_peer(r.runtime))
        .filter_map(|r| r.get("cpu_ns"))
        .min_by(f64::total_cmp);
    // 2-worker network workloads: no raw-mio floor; the server CPU per request against the best
    // 2-worker peer's and against ebbtide's 1-worker baseline (the scaling figure).
    // File-server workloads: MB/s beside requests/s, and the server CPU per request against
    // the best peer's (nginx's best variant), at 1 worker and 2 alike.
    let fs = kind == Kind::PerRequest && is_fs(name);
    // hyper workloads: allocations per request too, and each figure against the best peer's.
    let hyper = kind == Kind::PerRequest && is_hyper(name);
    let mt_net = kind == Kind::PerRequest && name.starts_with("mt_") && !fs && !hyper;
    let best_peer_allocs = rows
        .iter()
        .filter(|r| is_peer(r.runtime))
        .filter_map(|r| r.get("allocs_per_req"))
        .min_by(f64::total_cmp);
    let baseline_cpu = rows
        .iter()
        .find(|r| r.runtime == MT_BASELINE)
        .and_then(|r| r.get("cpu_ns"));
    match kind {
        Kind::PerRequest if fs => md.push_str(
            "| server | requests/s | MB/s | time per request (spread) | p99 latency | server CPU per request | samples | ratio to best peer | CPU ratio to best peer |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        ),
        Kind::PerRequest if hyper => md.push_str(
            "| runtime | requests/s | time per request (spread) | p99 latency | server CPU per request | allocations per request | samples | ratio to best peer | CPU ratio to best peer | allocations ratio to best peer | other figures |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
        ),
        Kind::PerRequest if mt_net => md.push_str(
            "| runtime | requests/s | time per request (spread) | p99 latency | server CPU per request | samples | ratio to best peer | CPU ratio to best peer | CPU / ebbtide-1w's | other figures |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
        ),
        Kind::Time if cpu => md.push_str(
            "| runtime | median | spread (min-max) | process CPU (median) | samples | ratio to best peer | CPU ratio to best peer |\n|---|---:|---:|---:|---:|---:|---:|\n",
        ),
        Kind::Time if timers => md.push_str(
            "| runtime | median | spread (min-max) | mean lateness (median) | samples | ratio to best peer |\n|---|---:|---:|---:|---:|---:|\n",
        ),
        Kind::Time => md.push_str(
            "| runtime | median | spread (min-max) | samples | ratio to best peer |\n|---|---:|---:|---:|---:|\n",
        ),
        Kind::PerRequest => md.push_str(
            "| runtime | requests/s | time per request (spread) | p99 latency | server CPU per request | samples | ratio to best peer | throughput vs raw mio | CPU: raw mio / runtime |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        ),
        Kind::Bytes => md.push_str(
            "| runtime | bytes | other figures | ratio to best peer |\n|---|---:|---|---:|\n",
        ),
        Kind::PerSec => md.push_str(
            "| runtime | wake-ups per second | samples | ratio to best peer |\n|---|---:|---:|---:|\n",
        ),
    }
    for r in rows {
        let Some(value) = r.get(key) else { continue };
        let peer = best_peer(is_local(r.runtime, name));
        let to_peer = peer
            .filter(|_| !FLOORS.contains(&r.runtime))
            .map(|(_, b)| ratio(value, b))
            .unwrap_or_else(|| "-".into());
        let label = if is_ours(r.runtime) {
            format!("**{}**", r.runtime)
        } else {
            r.runtime.to_string()
        };
        let spread = format!(
            "{} - {}",
            fmt_primary(kind, r.min),
            fmt_primary(kind, r.max)
        );
        match kind {
            Kind::Time if cpu => {
                let cpu_ns = r.get("cpu_ns");
                let cpu_to_peer = ratio_or_dash(cpu_ns, best_peer_cpu);
                let _ = writeln!(
                    md,
                    "| {label} | {} | {spread} | {} | {} | {to_peer} | {cpu_to_peer} |",
                    fmt_time(value),
                    cpu_ns.map(fmt_time).unwrap_or_else(|| "-".into()),
                    r.n
                );
            }
            Kind::Time => {
                let late = r
                    .get("late_ns")
                    .map(|l| format!(" {} |", fmt_time(l)))
                    .unwrap_or_default();
                let _ = writeln!(
                    md,
                    "| {label} | {} | {spread} |{late} {} | {to_peer} |",
                    fmt_time(value),
                    r.n
                );
            }
            Kind::PerRequest if fs => {
                let rps = r.get("rps").unwrap_or(1e9 / value);
                let cpu_ns = r.get("cpu_ns");
                let cpu_to_peer = ratio_or_dash(cpu_ns, best_peer_cpu);
                let _ = writeln!(
                    md,
                    "| {label} | {} | {} | {} ({spread}) | {} | {} | {} | {to_peer} | {cpu_to_peer} |",
                    fmt_count(rps),
                    r.get("mb_s").map(|m| format!("{m:.1}")).unwrap_or_else(|| "-".into()),
                    fmt_time(value),
                    r.get("p99_ns").map(fmt_time).unwrap_or_else(|| "-".into()),
                    cpu_ns.map(fmt_time).unwrap_or_else(|| "-".into()),
                    r.n
                );
            }
            Kind::PerRequest if hyper => {
                let rps = r.get("rps").unwrap_or(1e9 / value);
                let cpu_ns = r.get("cpu_ns");
                let allocs = r.get("allocs_per_req");
                let others: Vec<String> = r
                    .medians
                    .iter()
                    .filter(|(k, _)| {
                        !["ns", "rps", "p99_ns", "cpu_ns", "allocs_per_req"].contains(*k)
                    })
                    .map(|(k, v)| match *k {
                        // `https_1mb`: megabytes of bodies per second.
                        "mb_s" => format!("MB/s {v:.1}"),
                        _ => format!("{k} {}", fmt_count(*v)),
                    })
                    .collect();
                let _ = writeln!(
                    md,
                    "| {label} | {} | {} ({spread}) | {} | {} | {} | {} | {to_peer} | {} | {} | {} |",
                    fmt_count(rps),
                    fmt_time(value),
                    r.get("p99_ns").map(fmt_time).unwrap_or_else(|| "-".into()),
                    cpu_ns.map(fmt_time).unwrap_or_else(|| "-".into()),
                    allocs.map(|a| format!("{a:.2}")).unwrap_or_else(|| "-".into()),
                    r.n,
                    ratio_or_dash(cpu_ns, best_peer_cpu),
                    ratio_or_dash(allocs, best_peer_allocs),
                    others.join(", ")
                );
            }
            Kind::PerRequest if mt_net => {
                let rps = r.get("rps").unwrap_or(1e9 / value);
                let cpu_ns = r.get("cpu_ns");
                let cpu_to_peer = ratio_or_dash(cpu_ns, best_peer_cpu);
                let cpu_to_baseline = match (cpu_ns, baseline_cpu) {
                    (Some(c), Some(b)) => ratio(c, b),
                    _ => "-".into(),
                };
                // A server's own figures (`mtnet_ebbtide`'s `w1_conns_pct`), medians too.
                let others: Vec<String> = r
                    .medians
                    .iter()
                    .filter(|(k, _)| !["ns", "rps", "p99_ns", "cpu_ns"].contains(*k))
                    .map(|(k, v)| format!("{k} {}", fmt_count(*v)))
                    .collect();
                let _ = writeln!(
                    md,
                    "| {label} | {} | {} ({spread}) | {} | {} | {} | {to_peer} | {cpu_to_peer} | {cpu_to_baseline} | {} |",
                    fmt_count(rps),
                    fmt_time(value),
                    r.get("p99_ns").map(fmt_time).unwrap_or_else(|| "-".into()),
                    cpu_ns.map(fmt_time).unwrap_or_else(|| "-".into()),
                    r.n,
                    others.join(", ")
                );
            }
            Kind::PerRequest => {
                let rps = r.get("rps").unwrap_or(1e9 / value);
                let floor_rps = floor.and_then(|f| f.get("rps"));
                let floor_cpu = floor.and_then(|f| f.get("cpu_ns"));
                let vs_floor = match floor_rps {
                    Some(f) if !FLOORS.contains(&r.runtime) => ratio(rps, f),
                    _ => "-".into(),
                };
                let cpu_vs_floor = match (floor_cpu, r.get("cpu_ns")) {
                    (Some(f), Some(c)) if !FLOORS.contains(&r.runtime) => ratio(f, c),
                    _ => "-".into(),
                };
                let _ = writeln!(
                    md,
                    "| {label} | {} | {} ({spread}) | {} | {} | {} | {to_peer} | {vs_floor} | {cpu_vs_floor} |",
                    fmt_count(rps),
                    fmt_time(value),
                    r.get("p99_ns").map(fmt_time).unwrap_or_else(|| "-".into()),
                    r.get("cpu_ns").map(fmt_time).unwrap_or_else(|| "-".into()),
                    r.n
                );
            }
            Kind::Bytes => {
                let others: Vec<String> = r
                    .medians
                    .iter()
                    .filter(|(k, _)| **k != key && **k != "ns")
                    .map(|(k, v)| {
                        if k.ends_with("bytes") {
                            format!("{k} {}", fmt_bytes(*v))
                        } else {
                            format!("{k} {}", fmt_count(*v))
                        }
                    })
                    .collect();
                let _ = writeln!(
                    md,
                    "| {label} | {} | {} | {to_peer} |",
                    fmt_bytes(value),
                    others.join(", ")
                );
            }
            Kind::PerSec => {
                let _ = writeln!(md, "| {label} | {value:.1} | {} | {to_peer} |", r.n);
            }
        }
        if is_ours(r.runtime) {
            if let Some((peer, b)) = peer {
                let _ = writeln!(
                    summary,
                    "| {name} | {} ({}) | {} ({peer}) | {} |",
                    fmt_primary(kind, value),
                    r.runtime,
                    fmt_primary(kind, b),
                    ratio(value, b)
                );
            }
            // The file-server goal is on both figures: the CPU per request gets a line too; so
            // does the C API's process CPU (`ffi_*`, whose timers' wall time is mostly waiting).
            let ffi = name.starts_with("ffi_");
            if let (true, Some(c), Some(b)) = (fs || ffi, r.get("cpu_ns"), best_peer_cpu) {
                let peer = rows
                    .iter()
                    .filter(|p| is_peer(p.runtime))
                    .find(|p| p.get("cpu_ns") == Some(b))
                    .map_or("", |p| p.runtime);
                let _ = writeln!(
                    summary,
                    "| {name} ({}) | {} ({}) | {} ({peer}) | {} |",
                    if ffi {
                        "process CPU"
                    } else {
                        "server CPU per request"
                    },
                    fmt_time(c),
                    r.runtime,
                    fmt_time(b),
                    ratio(c, b)
                );
            }
        }
    }
    if hyper {
        against_tokio(md, rows);
    }
    if timers {
        let late: Vec<(&str, f64)> = rows
            .iter()
            .filter_map(|r| Some((r.runtime, r.get("late_ns")?)))
            .collect();
        charts.push((
            format!("{name}_lateness"),
            svg(&format!("{name}: mean wake lateness"), &late, Kind::Time),
        ));
        let _ = writeln!(md, "\n![{name} lateness]({name}_lateness.svg)");
    }
    let (title, bars): (String, Vec<(&str, f64)>) = match kind {
        Kind::PerRequest => (
            format!("{name}: requests per second (higher is better)"),
            rows.iter()
                .filter_map(|r| Some((r.runtime, r.get("rps")?)))
                .collect(),
        ),
        _ => (
            format!("{name}: {}", describe(kind)),
            rows.iter()
                .filter_map(|r| Some((r.runtime, r.get(key)?)))
                .collect(),
        ),
    };
    charts.push((name.to_string(), svg(&title, &bars, kind)));
    let _ = writeln!(md, "\n![{name}]({name}.svg)\n");
}

/// Under a hyper workload's table: each ebbtide row's figures over Tokio's (the one Tokio row of
/// the workload: `tokio-ct` at 1 worker, `tokio-mt2` at 2), the comparison ebbtide-hyper is
/// made for (hyper-util's glue on Tokio).
fn against_tokio(md: &mut String, rows: &[Row]) {
    let Some(tokio) = rows.iter().find(|r| r.runtime.starts_with("tokio")) else {
        return;
    };
    let over = |r: &Row, key: &str| ratio_or_dash(r.get(key), tokio.get(key));
    let mut lines = String::new();
    for r in rows.iter().filter(|r| is_ours(r.runtime)) {
        let _ = writeln!(
            lines,
            "- **{}** / {}: requests/s {}, p99 latency {}, server CPU per request {}, allocations per request {}",
            r.runtime,
            tokio.runtime,
            over(r, "rps"),
            over(r, "p99_ns"),
            over(r, "cpu_ns"),
            over(r, "allocs_per_req"),
        );
    }
    if !lines.is_empty() {
        md.push('\n');
        md.push_str(&lines);
    }
}

fn describe(kind: Kind) -> &'static str {
    match kind {
        Kind::Time => "median time",
        Kind::PerRequest => "requests per second",
        Kind::Bytes => "bytes",
        Kind::PerSec => "wake-ups per second",
    }
}

/// A horizontal bar chart: one bar per runtime, ebbtide's in another colour, labelled with the value.
fn svg(title: &str, bars: &[(&str, f64)], kind: Kind) -> String {
    let max = bars.iter().map(|b| b.1).fold(0.0, f64::max).max(1.0);
    let (label_w, bar_w, row_h, top) = (120.0, 420.0, 26.0, 34.0);
    let height = top + row_h * bars.len() as f64 + 10.0;
    let width = label_w + bar_w + 120.0;
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
        let label = match kind {
            Kind::PerRequest => format!("{} req/s", fmt_count(*value)),
            _ => fmt_primary(kind, *value),
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
            escape(&label),
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
