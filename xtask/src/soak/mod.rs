//! `cargo xtask soak [--minutes N | --seconds N | --quick] [--conns N] [--slowloris N]
//! [--interval-ms N] [--workers N] [--warmup-secs N] [--sample-secs N]`: the example servers
//! under hours-long churn, watched for leaks (issue 14). Not part of `ci`: it takes minutes and
//! wants the machine to itself.
//!
//! Builds, in release, the `fileserver` and `echo` examples and `soak_load` (the load generator
//! of the `ebbtide-bench` crate, a Tokio client: see `bench/src/bin/soak_load.rs`), then:
//!
//! 1. writes a few small files under `target/soak/root/` and serves them with
//!    `fileserver target/soak/root --addr 127.0.0.1:0 --workers W`, and starts
//!    `echo serve --tcp 127.0.0.1:0 --workers W` (W = `--workers`, default 2), reading the ports
//!    they chose from their first line; their output goes to `target/soak/{fileserver,echo}.log`.
//!    Both raise their own limit of open files to the hard limit (`cli::raise_fd_limit`), and so
//!    does `soak_load`; the hard limit must exceed the connections (checked first).
//! 2. runs `soak_load` for the whole time: `--conns` churning clients (default 10,000), half
//!    against the file server (keep-alive `GET`s of the small files) and half against the echo
//!    server (64-byte round trips). Each connects, makes 1 to 10 requests, one every 0.5 to 1.5
//!    `--interval-ms` (default 1,500: about 6,700 requests and 1,200 new connections a second in
//!    all), closes, and connects again; so about `--conns` connections are open at any time, and
//!    the servers see every one of them replaced every 8 s or so. Plus `--slowloris` clients
//!    (default 500) that trickle a never-ending request head to the file server, one byte every
//!    2 s, which the server must cut (its 5 s header timeout); they connect again at once.
//! 3. every `--sample-secs` (default 5), as `soak_load` reports the interval just ended, samples
//!    each server's resident memory (`VmRSS` of `/proc/PID/status`) and open descriptors (the
//!    entries of `/proc/PID/fd`), next to the interval's requests, p50/p99/max latency, errors by
//!    kind, and the connections the clients hold open; also each process's CPU time
//!    (`/proc/PID/stat`) and the host's load average (`/proc/loadavg`), to tell a server that
//!    slows down from a machine that is busy with something else; prints a line per sample.
//!
//! Then it stops every process, writes `target/soak/samples.csv` (one row per sample),
//! `target/soak/soak.svg` (RSS, descriptors, p99 latency, requests/s, errors, CPU, the host's
//! load average and slowloris cuts over time, per server, the warm-up shaded) and `target/soak/summary.md`, prints the
//! summary, and judges the run. The first `--warmup-secs` (default: a fifth of the run, at least
//! 30 s) are warm-up; after it, for each server:
//!
//! - **RSS flat**: its highest sample is within [`RSS_SLACK_PCT`]% + [`RSS_SLACK_MIB`] MiB of the
//!   median, and the median of the run's last third is within 5% + 2 MiB of the middle third's;
//! - **descriptors follow the connections**: every sample is within 5% + [`FD_SLACK`] of the
//!   connections the clients hold open to it (slowloris ones included), and the last third's
//!   median within 5% + 32 of the middle third's;
//! - **p99 not trending up**: the last third's median p99 is at most 1.5 times the middle
//!   third's plus 2 ms;
//! - **still serving**: it is alive at the end and answered requests in every interval;
//! - **few errors**: errors (refused, reset, early close, timeout, `503`, wrong answer, no local
//!   port) are at most 1% of requests. Errors are counted and reported, never fatal to a client.
//!
//! and every slowloris client was cut by the server (none held for 30 s). The command exits
//! non-zero, naming each failed check, if one fails (or the run is too short to judge: at least
//! 12 samples after the warm-up).
//!
//! On loopback every closed connection leaves a TIME_WAIT socket on the client side; `soak_load`
//! spreads its clients over the source addresses 127.0.0.1 to 127.0.0.4, so that ephemeral ports
//! do not run out where the kernel does not reuse TIME_WAIT ports (see its docs).
//!
//! Linux only: the figures come from `/proc` (the command says so and stops elsewhere).

mod chart;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::cmd::{Cmd, Workspace};
use chart::{Panel, Series};

/// How far above the post-warm-up median a server's RSS may go: this percentage ...
const RSS_SLACK_PCT: f64 = 10.0;
/// ... plus this many MiB (allocator caches, a burst of connections).
const RSS_SLACK_MIB: f64 = 4.0;
/// Descriptors a server may hold beyond its connections (5% more, plus this): listeners, the
/// poller, files being sent, connections the client closed a moment ago.
const FD_SLACK: f64 = 64.0;
/// The most errors, in percent of requests, a server's clients may see after the warm-up.
const MAX_ERROR_PCT: f64 = 1.0;
/// Samples the checks need after the warm-up.
const MIN_SAMPLES: usize = 12;

/// The two servers, by the prefix of their figures in `soak_load`'s lines.
const SERVERS: [(&str, &str); 2] = [("file", "fileserver"), ("echo", "echo")];
/// Their colours in the charts.
const COLOURS: [&str; 2] = ["#1f77b4", "#ff7f0e"];

/// The files the file server serves (name, size in bytes): small, so that the soak measures
/// connections and requests, not bandwidth.
const FILES: &[(&str, usize)] = &[
    ("index.html", 512),
    ("small.txt", 128),
    ("one-k.bin", 1024),
    ("four-k.bin", 4096),
];

/// The command line.
struct Options {
    seconds: u64,
    conns: usize,
    slowloris: usize,
    interval_ms: u64,
    workers: usize,
    warmup_secs: Option<u64>,
    sample_secs: u64,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options, String> {
        let mut options = Options {
            seconds: 600,
            conns: 10_000,
            slowloris: 500,
            interval_ms: 1_500,
            workers: 2,
            warmup_secs: None,
            sample_secs: 5,
        };
        let mut args = args.iter();
        while let Some(flag) = args.next() {
            let mut number = || -> Result<u64, String> {
                let text = args.next().ok_or(format!("{flag} needs a number"))?;
                text.parse()
                    .map_err(|_| format!("{flag} {text}: not a whole number"))
            };
            match flag.as_str() {
                "--minutes" => options.seconds = number()? * 60,
                "--seconds" => options.seconds = number()?,
                "--quick" => options.seconds = 120,
                "--conns" => options.conns = number()? as usize,
                "--slowloris" => options.slowloris = number()? as usize,
                "--interval-ms" => options.interval_ms = number()?.max(1),
                "--workers" => options.workers = (number()? as usize).max(1),
                "--warmup-secs" => options.warmup_secs = Some(number()?),
                "--sample-secs" => options.sample_secs = number()?.max(1),
                other => {
                    return Err(format!(
                        "unknown argument `{other}` (see `cargo xtask help` for soak's options)"
                    ))
                }
            }
        }
        if options.seconds == 0 {
            return Err("the run needs at least a second".into());
        }
        Ok(options)
    }

    /// The warm-up: as asked, else a fifth of the run, at least 30 s (but never the whole run).
    fn warmup(&self) -> f64 {
        let secs = self
            .warmup_secs
            .unwrap_or_else(|| (self.seconds / 5).max(30).min(self.seconds / 2));
        secs as f64
    }
}

/// Entry point of `cargo xtask soak`.
pub fn run(root: &Path, args: &[String]) -> ExitCode {
    let options = match Options::parse(args) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("xtask soak: {message}");
            return ExitCode::from(2);
        }
    };
    let ws = Workspace {
        root: root.to_path_buf(),
    };
    match soak(&ws, &options) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("xtask soak: NOT FLAT: see the failed checks above and target/soak/soak.svg");
            ExitCode::FAILURE
        }
        Err(message) => {
            eprintln!("xtask soak: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The processes of a run, killed when it ends, however it ends.
#[derive(Default)]
struct Processes(Vec<(String, Child)>);

impl Processes {
    /// Fails if one of the servers has exited.
    fn check_alive(&mut self) -> Result<(), String> {
        for (name, child) in &mut self.0 {
            if !SERVERS.iter().any(|(_, server)| server == name) {
                continue;
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!(
                    "{name} exited during the soak ({status}); see target/soak/{name}.log"
                ));
            }
        }
        Ok(())
    }

    fn pid(&self, name: &str) -> Option<u32> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, c)| c.id())
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        for (_, child) in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// One sample: `soak_load`'s figures for the interval (flat JSON, numbers only), plus the
/// processes' memory and descriptors (`{prefix}_rss_mib`, `{prefix}_fds`, `load_rss_mib`,
/// `load_fds`).
type Sample = BTreeMap<String, f64>;

fn get(sample: &Sample, key: &str) -> f64 {
    sample.get(key).copied().unwrap_or(0.0)
}

/// The errors of one server's clients in a sample, all kinds.
fn errors(sample: &Sample, prefix: &str) -> f64 {
    let start = format!("{prefix}_err_");
    sample
        .iter()
        .filter(|(k, _)| k.starts_with(&start))
        .map(|(_, v)| v)
        .sum()
}

/// The connections the clients hold open to a server (the file server's slowloris ones too).
fn client_conns(sample: &Sample, prefix: &str) -> f64 {
    let slow = if prefix == "file" {
        get(sample, "slow_open")
    } else {
        0.0
    };
    get(sample, &format!("{prefix}_open")) + slow
}

/// Parses one flat JSON line of numbers: `{"t":5.0,"file_open":10,...}`.
fn parse_line(line: &str) -> Option<Sample> {
    let body = line.trim().strip_prefix('{')?.strip_suffix('}')?;
    body.split(',')
        .map(|pair| {
            let (key, value) = pair.split_once(':')?;
            Some((
                key.trim().trim_matches('"').to_string(),
                value.trim().parse().ok()?,
            ))
        })
        .collect()
}

/// Memory, descriptors and CPU time of a process from `/proc`: (RSS in MiB, open descriptors,
/// user + system CPU seconds of all its threads so far).
fn proc_usage(pid: u32) -> Option<(f64, f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count();
    // `pid (comm) state ... utime stime ...`: utime and stime are the 14th and 15th fields, in
    // clock ticks of `USER_HZ`, 100 on Linux's common architectures (std cannot ask `sysconf`).
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_comm = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some((kib / 1024.0, fds as f64, ticks / USER_HZ))
}

/// Clock ticks per second of `/proc/PID/stat`'s CPU times.
const USER_HZ: f64 = 100.0;

/// The host's 1-minute load average, from `/proc/loadavg`: how much else wanted the CPUs.
fn host_load() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}

/// The hard limit of open files of this process (which its children inherit), from
/// `/proc/self/limits`; `None` where that cannot be read, or for `unlimited`.
fn hard_fd_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))?;
    line.split_whitespace().nth(4)?.parse().ok()
}

/// Starts a server whose first line on `stdout` (or stderr) names the address it listens on;
/// every line it prints goes to `log`. Returns the address.
fn start_server(
    processes: &mut Processes,
    name: &str,
    mut command: Command,
    address_on_stderr: bool,
    log: PathBuf,
) -> Result<SocketAddr, String> {
    let log_file =
        File::create(&log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
    let other = log_file
        .try_clone()
        .map_err(|e| format!("cannot share {}: {e}", log.display()))?;
    command.stdin(Stdio::null());
    if address_on_stderr {
        command.stderr(Stdio::piped()).stdout(Stdio::from(other));
    } else {
        command.stdout(Stdio::piped()).stderr(Stdio::from(other));
    }
    println!("$ {command:?}");
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot start {name}: {e}"))?;
    let stream: Box<dyn std::io::Read + Send> = if address_on_stderr {
        Box::new(child.stderr.take().expect("piped"))
    } else {
        Box::new(child.stdout.take().expect("piped"))
    };
    processes.0.push((name.to_string(), child));
    let (first_line, first) = mpsc::channel();
    std::thread::spawn(move || {
        let mut log_file = log_file;
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            let _ = writeln!(log_file, "{line}");
            let _ = first_line.send(line);
        }
    });
    let line = first.recv_timeout(Duration::from_secs(20)).map_err(|_| {
        format!(
            "{name} did not say where it listens within 20 s; see {}",
            log.display()
        )
    })?;
    // `serving DIR on http://127.0.0.1:P` / `echo: serving TCP on 127.0.0.1:P (...)`.
    line.split_whitespace()
        .filter_map(|word| word.strip_prefix("http://").or(Some(word)))
        .find_map(|word| word.parse::<SocketAddr>().ok())
        .ok_or_else(|| format!("{name}: no address in its first line {line:?}"))
}

/// The whole run; `Ok(flat)`, or an error that stopped it.
fn soak(ws: &Workspace, options: &Options) -> Result<bool, String> {
    // Without `/proc` every figure of the servers would read 0 and pass the checks unseen.
    if proc_usage(std::process::id()).is_none() {
        return Err(
            "the soak reads the servers' memory, descriptors and CPU from /proc: Linux only".into(),
        );
    }
    Cmd::cargo(
        "build --release -p ebbtide-examples --bin fileserver --bin echo -p ebbtide-bench --bin soak_load",
    )
    .run(ws)?;
    let out = ws.path("target/soak");
    let files = out.join("root");
    std::fs::create_dir_all(&files)
        .map_err(|e| format!("cannot create {}: {e}", files.display()))?;
    for (name, size) in FILES {
        let body: Vec<u8> = (0..*size).map(|i| b'a' + (i % 26) as u8).collect();
        std::fs::write(files.join(name), body).map_err(|e| format!("cannot write {name}: {e}"))?;
    }
    let file_conns = options.conns / 2;
    let echo_conns = options.conns - file_conns;
    let needed = (options.conns + options.slowloris) as u64 + 64;
    if let Some(limit) = hard_fd_limit() {
        if limit < needed {
            return Err(format!(
                "the hard limit of open files is {limit}, and the load generator needs {needed} \
                 for {} connections and {} slowloris clients: raise it (ulimit -Hn, as root) or \
                 ask for fewer (--conns)",
                options.conns, options.slowloris
            ));
        }
    }
    let bin = |name: &str| ws.path(&format!("target/release/{name}"));
    let workers = options.workers.to_string();
    let mut processes = Processes::default();

    let mut fileserver = Command::new(bin("fileserver"));
    fileserver
        .arg(&files)
        .args(["--addr", "127.0.0.1:0", "--workers", &workers]);
    let file_addr = start_server(
        &mut processes,
        "fileserver",
        fileserver,
        false,
        out.join("fileserver.log"),
    )?;
    let mut echo = Command::new(bin("echo"));
    echo.args(["serve", "--tcp", "127.0.0.1:0", "--workers", &workers]);
    let echo_addr = start_server(&mut processes, "echo", echo, true, out.join("echo.log"))?;

    let paths: Vec<String> = FILES.iter().map(|(name, _)| format!("/{name}")).collect();
    let mut load = Command::new(bin("soak_load"));
    load.args(["--file", &file_addr.to_string()])
        .args(["--echo", &echo_addr.to_string()])
        .args(["--paths", &paths.join(",")])
        .args(["--file-conns", &file_conns.to_string()])
        .args(["--echo-conns", &echo_conns.to_string()])
        .args(["--slowloris", &options.slowloris.to_string()])
        .args(["--interval-ms", &options.interval_ms.to_string()])
        .args(["--seconds", &options.seconds.to_string()])
        .args(["--report-secs", &options.sample_secs.to_string()])
        .args([
            "--ramp-secs",
            &(options.seconds / 10).clamp(1, 10).to_string(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    println!("$ {load:?}");
    let mut child = load
        .spawn()
        .map_err(|e| format!("cannot start soak_load: {e}"))?;
    let load_out = child.stdout.take().expect("piped");
    processes.0.push(("soak_load".to_string(), child));
    println!(
        "soak: {} s ({:.0} s warm-up), {file_conns} clients to the file server on {file_addr}, \
         {echo_conns} to the echo server on {echo_addr}, {} slowloris clients; a sample every {} s",
        options.seconds,
        options.warmup(),
        options.slowloris,
        options.sample_secs
    );

    let mut samples: Vec<Sample> = Vec::new();
    // CPU seconds of each process at the previous sample, and when it was taken.
    let mut cpu_before: BTreeMap<&str, f64> = BTreeMap::new();
    let mut t_before = 0.0;
    for line in BufReader::new(load_out).lines() {
        let line = line.map_err(|e| format!("reading soak_load's output: {e}"))?;
        let Some(mut sample) = parse_line(&line) else {
            println!("soak_load: {line}");
            continue;
        };
        let t = get(&sample, "t");
        for (prefix, name) in SERVERS.iter().chain([&("load", "soak_load")]) {
            let (rss, fds, cpu) = processes
                .pid(name)
                .and_then(proc_usage)
                .unwrap_or((0.0, 0.0, 0.0));
            sample.insert(format!("{prefix}_rss_mib"), rss);
            sample.insert(format!("{prefix}_fds"), fds);
            let before = cpu_before.insert(prefix, cpu).unwrap_or(0.0);
            let pct = (cpu - before) / (t - t_before).max(0.001) * 100.0;
            sample.insert(format!("{prefix}_cpu_pct"), pct.max(0.0));
        }
        t_before = t;
        sample.insert("host_load1".into(), host_load());
        print_progress(&sample, options.sample_secs as f64);
        samples.push(sample);
        // A server that died ends the run: its figures would only be errors from here on.
        processes.check_alive()?;
    }
    let (_, load_child) = processes
        .0
        .iter_mut()
        .find(|(name, _)| name == "soak_load")
        .expect("started above");
    let status = load_child
        .wait()
        .map_err(|e| format!("cannot wait for soak_load: {e}"))?;
    if !status.success() {
        return Err(format!("soak_load failed ({status})"));
    }
    let servers_alive = processes.check_alive();
    drop(processes);

    let warmup = options.warmup();
    let t_max = samples
        .last()
        .map_or(options.seconds as f64, |s| get(s, "t"));
    write_csv(&out.join("samples.csv"), &samples)?;
    let svg = chart::render(
        &format!(
            "cargo xtask soak: {} clients + {} slowloris, {:.0} s",
            options.conns, options.slowloris, t_max
        ),
        &panels(&samples),
        t_max,
        warmup,
    );
    std::fs::write(out.join("soak.svg"), svg).map_err(|e| format!("cannot write soak.svg: {e}"))?;
    let checks = judge(
        &samples,
        warmup,
        t_max,
        options.slowloris > 0,
        &servers_alive,
    );
    let summary = summary(&samples, warmup, options, &checks);
    std::fs::write(out.join("summary.md"), &summary)
        .map_err(|e| format!("cannot write summary.md: {e}"))?;
    println!("\n{summary}");
    println!(
        "wrote {}, {} and {}",
        out.join("soak.svg").display(),
        out.join("samples.csv").display(),
        out.join("summary.md").display()
    );
    Ok(checks.iter().all(|c| c.ok))
}

/// One line a sample: the interval's requests per second, p99, RSS and descriptors per server.
fn print_progress(sample: &Sample, interval: f64) {
    let mut line = format!("t={:>5.0}s", get(sample, "t"));
    for (prefix, _) in SERVERS {
        let _ = write!(
            line,
            " | {prefix}: {:>5.0} conns {:>5.0} req/s p99 {:>6.1} ms RSS {:>6.1} MiB {:>5.0} fds {:>3.0} err",
            get(sample, &format!("{prefix}_open")),
            get(sample, &format!("{prefix}_requests")) / interval,
            get(sample, &format!("{prefix}_p99_us")) / 1000.0,
            get(sample, &format!("{prefix}_rss_mib")),
            get(sample, &format!("{prefix}_fds")),
            errors(sample, prefix),
        );
    }
    let _ = write!(
        line,
        " | slowloris {:>3.0} open {:>4.0} cut | host load {:.1}",
        get(sample, "slow_open"),
        get(sample, "slow_cut"),
        get(sample, "host_load1")
    );
    println!("{line}");
}

fn write_csv(path: &Path, samples: &[Sample]) -> Result<(), String> {
    let mut keys: Vec<&str> = samples
        .iter()
        .flat_map(|s| s.keys().map(String::as_str))
        .filter(|k| *k != "t")
        .collect();
    keys.sort_unstable();
    keys.dedup();
    let mut csv = String::from("t");
    for key in &keys {
        csv.push(',');
        csv.push_str(key);
    }
    csv.push('\n');
    for sample in samples {
        let _ = write!(csv, "{}", get(sample, "t"));
        for key in &keys {
            let _ = write!(csv, ",{}", get(sample, key));
        }
        csv.push('\n');
    }
    std::fs::write(path, csv).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The panels of the SVG.
fn panels(samples: &[Sample]) -> Vec<Panel> {
    let interval = |i: usize| {
        let t = get(&samples[i], "t");
        let before = if i == 0 {
            0.0
        } else {
            get(&samples[i - 1], "t")
        };
        (t - before).max(0.001)
    };
    let series = |label: String, colour, dashed, value: &dyn Fn(usize, &Sample) -> f64| Series {
        label,
        colour,
        dashed,
        points: samples
            .iter()
            .enumerate()
            .map(|(i, s)| (get(s, "t"), value(i, s)))
            .collect(),
    };
    let per_server = |what: &dyn Fn(&str, usize, &Sample) -> f64| -> Vec<Series> {
        SERVERS
            .iter()
            .zip(COLOURS)
            .map(|((prefix, name), colour)| {
                series(name.to_string(), colour, false, &|i, s| what(prefix, i, s))
            })
            .collect()
    };
    let mut fds = per_server(&|p, _, s| get(s, &format!("{p}_fds")));
    for ((prefix, name), colour) in SERVERS.iter().zip(COLOURS) {
        fds.push(series(format!("{name} conns"), colour, true, &|_, s| {
            client_conns(s, prefix)
        }));
    }
    vec![
        Panel {
            title: "server RSS".into(),
            unit: "MiB",
            series: per_server(&|p, _, s| get(s, &format!("{p}_rss_mib"))),
        },
        Panel {
            title: "server open fds, client conns dashed".into(),
            unit: "count",
            series: fds,
        },
        Panel {
            title: "p99 latency per interval".into(),
            unit: "ms",
            series: per_server(&|p, _, s| get(s, &format!("{p}_p99_us")) / 1000.0),
        },
        Panel {
            title: "requests".into(),
            unit: "per s",
            series: per_server(&|p, i, s| get(s, &format!("{p}_requests")) / interval(i)),
        },
        Panel {
            title: "client errors per interval".into(),
            unit: "count",
            series: per_server(&|p, _, s| errors(s, p)),
        },
        Panel {
            title: "CPU per process".into(),
            unit: "% of a core",
            series: SERVERS
                .iter()
                .chain([&("load", "soak_load")])
                .zip(COLOURS.into_iter().chain(["#7f7f7f"]))
                .map(|((prefix, name), colour)| {
                    series(name.to_string(), colour, false, &|_, s| {
                        get(s, &format!("{prefix}_cpu_pct"))
                    })
                })
                .collect(),
        },
        Panel {
            title: "host 1-minute load average (2 cores)".into(),
            unit: "runnable",
            series: vec![series("load average".into(), "#9467bd", false, &|_, s| {
                get(s, "host_load1")
            })],
        },
        Panel {
            title: "slowloris".into(),
            unit: "count",
            series: vec![
                series("open".into(), "#2ca02c", false, &|_, s| get(s, "slow_open")),
                series("cut per interval".into(), "#d62728", false, &|_, s| {
                    get(s, "slow_cut")
                }),
            ],
        },
    ]
}

/// One verdict of [`judge`].
struct Check {
    name: String,
    ok: bool,
    detail: String,
}

fn median(mut values: Vec<f64>) -> f64 {
    crate::bench::median(&mut values)
}

/// The least-squares slope of `key` over time, per minute.
fn slope_per_minute(samples: &[&Sample], key: &str) -> f64 {
    let n = samples.len() as f64;
    if n < 2.0 {
        return 0.0;
    }
    let mean_t = samples.iter().map(|s| get(s, "t")).sum::<f64>() / n;
    let mean_v = samples.iter().map(|s| get(s, key)).sum::<f64>() / n;
    let (mut num, mut den) = (0.0, 0.0);
    for s in samples {
        let dt = get(s, "t") - mean_t;
        num += dt * (get(s, key) - mean_v);
        den += dt * dt;
    }
    if den == 0.0 {
        0.0
    } else {
        num / den * 60.0
    }
}

/// The checks of a run (see the [module docs](self)).
fn judge(
    samples: &[Sample],
    warmup: f64,
    t_max: f64,
    slowloris: bool,
    servers_alive: &Result<(), String>,
) -> Vec<Check> {
    let after: Vec<&Sample> = samples.iter().filter(|s| get(s, "t") > warmup).collect();
    let mut checks = Vec::new();
    if after.len() < MIN_SAMPLES {
        checks.push(Check {
            name: "enough samples".into(),
            ok: false,
            detail: format!(
                "{} samples after the {warmup:.0} s warm-up, {MIN_SAMPLES} needed: run longer",
                after.len()
            ),
        });
        return checks;
    }
    // The run's middle and last thirds, after the warm-up.
    let middle: Vec<&Sample> = after
        .iter()
        .copied()
        .filter(|s| get(s, "t") > t_max / 3.0 && get(s, "t") <= t_max * 2.0 / 3.0)
        .collect();
    let last: Vec<&Sample> = after
        .iter()
        .copied()
        .filter(|s| get(s, "t") > t_max * 2.0 / 3.0)
        .collect();
    let values =
        |set: &[&Sample], key: &str| -> Vec<f64> { set.iter().map(|s| get(s, key)).collect() };
    checks.push(Check {
        name: "servers alive".into(),
        ok: servers_alive.is_ok(),
        detail: match servers_alive {
            Ok(()) => "both servers ran to the end".into(),
            Err(message) => message.clone(),
        },
    });
    for (prefix, name) in SERVERS {
        let rss_key = format!("{prefix}_rss_mib");
        let rss = values(&after, &rss_key);
        let rss_median = median(rss.clone());
        let rss_max = rss.iter().copied().fold(0.0, f64::max);
        let rss_bound = rss_median * (1.0 + RSS_SLACK_PCT / 100.0) + RSS_SLACK_MIB;
        checks.push(Check {
            name: format!("{name}: RSS flat"),
            ok: rss_max <= rss_bound,
            detail: format!(
                "max {rss_max:.1} MiB, post-warm-up median {rss_median:.1} MiB, bound {rss_bound:.1} MiB"
            ),
        });
        let (rss_mid, rss_last) = (
            median(values(&middle, &rss_key)),
            median(values(&last, &rss_key)),
        );
        let bound = rss_mid * 1.05 + 2.0;
        let slope = slope_per_minute(&after, &rss_key);
        checks.push(Check {
            name: format!("{name}: RSS not growing"),
            ok: rss_last <= bound,
            detail: format!(
                "median of the last third {rss_last:.1} MiB, of the middle third {rss_mid:.1} MiB, \
                 bound {bound:.1} MiB (least-squares slope after the warm-up {slope:+.2} MiB/min)"
            ),
        });
        let fd_key = format!("{prefix}_fds");
        let worst = after
            .iter()
            .map(|s| (get(s, &fd_key), client_conns(s, prefix), get(s, "t")))
            .max_by(|a, b| (a.0 - a.1 * 1.05).total_cmp(&(b.0 - b.1 * 1.05)))
            .expect("samples after the warm-up");
        let bound = worst.1 * 1.05 + FD_SLACK;
        checks.push(Check {
            name: format!("{name}: fds follow the connections"),
            ok: worst.0 <= bound,
            detail: format!(
                "closest to the bound (the clients' open connections + 5% + {FD_SLACK:.0}): \
                 {:.0} fds for {:.0} connections at t={:.0} s, bound {bound:.0}",
                worst.0, worst.1, worst.2
            ),
        });
        let (fd_mid, fd_last) = (
            median(values(&middle, &fd_key)),
            median(values(&last, &fd_key)),
        );
        let bound = fd_mid * 1.05 + 32.0;
        checks.push(Check {
            name: format!("{name}: fds not growing"),
            ok: fd_last <= bound,
            detail: format!(
                "median of the last third {fd_last:.0}, of the middle third {fd_mid:.0}, bound {bound:.0}"
            ),
        });
        let p99_key = format!("{prefix}_p99_us");
        let (p99_mid, p99_last) = (
            median(values(&middle, &p99_key)) / 1000.0,
            median(values(&last, &p99_key)) / 1000.0,
        );
        let bound = p99_mid * 1.5 + 2.0;
        checks.push(Check {
            name: format!("{name}: p99 not trending up"),
            ok: p99_last <= bound,
            detail: format!(
                "median p99 of the last third {p99_last:.2} ms, of the middle third {p99_mid:.2} ms, \
                 bound {bound:.2} ms (host load average, median: {:.1} then {:.1})",
                median(values(&middle, "host_load1")),
                median(values(&last, "host_load1")),
            ),
        });
        let requests_key = format!("{prefix}_requests");
        let idle = after
            .iter()
            .filter(|s| get(s, &requests_key) == 0.0)
            .count();
        checks.push(Check {
            name: format!("{name}: served in every interval"),
            ok: idle == 0,
            detail: format!(
                "{idle} of {} intervals after the warm-up without a request",
                after.len()
            ),
        });
        let requests: f64 = values(&after, &requests_key).iter().sum();
        let errs: f64 = after.iter().map(|s| errors(s, prefix)).sum();
        let pct = if requests > 0.0 {
            errs / requests * 100.0
        } else {
            100.0
        };
        checks.push(Check {
            name: format!("{name}: few errors"),
            ok: pct <= MAX_ERROR_PCT,
            detail: format!(
                "{errs:.0} errors for {requests:.0} requests after the warm-up ({pct:.3}%, at most {MAX_ERROR_PCT}%)"
            ),
        });
    }
    if slowloris {
        let uncut: f64 = samples.iter().map(|s| get(s, "slow_uncut")).sum();
        let cut: f64 = samples.iter().map(|s| get(s, "slow_cut")).sum();
        let held = samples
            .iter()
            .map(|s| get(s, "slow_held_max_ms"))
            .fold(0.0, f64::max);
        checks.push(Check {
            name: "fileserver: cuts slowloris clients".into(),
            ok: uncut == 0.0 && cut > 0.0,
            detail: format!(
                "{cut:.0} cut, {uncut:.0} held 30 s without a cut; longest held {:.1} s",
                held / 1000.0
            ),
        });
    }
    checks
}

/// The markdown summary: figures per server and the checks.
fn summary(samples: &[Sample], warmup: f64, options: &Options, checks: &[Check]) -> String {
    let after: Vec<&Sample> = samples.iter().filter(|s| get(s, "t") > warmup).collect();
    let t_end = samples.last().map_or(0.0, |s| get(s, "t"));
    let span = (t_end - warmup).max(1.0);
    let mut md = format!(
        "# cargo xtask soak\n\n{:.0} s run ({:.0} s warm-up), {} churning clients (half to the file \
         server, half to the echo server; 1-10 requests per connection, one every ~{} ms), {} \
         slowloris clients, servers on {} workers; {} samples ({} after the warm-up). Figures after \
         the warm-up unless said.\n\n",
        t_end,
        warmup,
        options.conns,
        options.interval_ms,
        options.slowloris,
        options.workers,
        samples.len(),
        after.len()
    );
    md.push_str(
        "| server | client conns (median; file: with slowloris) | req/s | p50 (median) | p99 (median / max) | max latency | RSS end of warm-up / median / max / last | fds median / max | CPU (median, % of a core) | connects | errors (whole run, by kind) |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
    );
    let warm_end = samples.iter().rfind(|s| get(s, "t") <= warmup);
    for (prefix, name) in SERVERS {
        let key = |what: &str| format!("{prefix}_{what}");
        let col = |what: &str| -> Vec<f64> { after.iter().map(|s| get(s, &key(what))).collect() };
        let max = |v: Vec<f64>| v.into_iter().fold(0.0, f64::max);
        let mut kinds: BTreeMap<String, f64> = BTreeMap::new();
        for s in samples {
            for (k, v) in s {
                if let Some(kind) = k.strip_prefix(&key("err_")) {
                    *kinds.entry(kind.to_string()).or_default() += v;
                }
            }
        }
        let kinds: Vec<String> = kinds
            .iter()
            .filter(|(_, v)| **v > 0.0)
            .map(|(k, v)| format!("{k} {v:.0}"))
            .collect();
        let conns: Vec<f64> = after.iter().map(|s| client_conns(s, prefix)).collect();
        let _ = writeln!(
            md,
            "| {name} | {:.0} | {:.0} | {:.2} ms | {:.2} / {:.2} ms | {:.1} ms | {:.1} / {:.1} / {:.1} / {:.1} MiB | {:.0} / {:.0} | {:.0}% | {:.0} | {} |",
            median(conns),
            col("requests").iter().sum::<f64>() / span,
            median(col("p50_us")) / 1000.0,
            median(col("p99_us")) / 1000.0,
            max(col("p99_us")) / 1000.0,
            max(col("max_us")) / 1000.0,
            warm_end.map_or(0.0, |s| get(s, &key("rss_mib"))),
            median(col("rss_mib")),
            max(col("rss_mib")),
            samples.last().map_or(0.0, |s| get(s, &key("rss_mib"))),
            median(col("fds")),
            max(col("fds")),
            median(col("cpu_pct")),
            samples.iter().map(|s| get(s, &key("connects"))).sum::<f64>(),
            if kinds.is_empty() { "none".to_string() } else { kinds.join(", ") },
        );
    }
    let slow = |k: &str| samples.iter().map(|s| get(s, k)).sum::<f64>();
    let _ = writeln!(
        md,
        "\nSlowloris: {:.0} open (median), {:.0} connects, {:.0} cut by the server, {:.0} uncut, \
         {:.0} connect errors; longest held {:.1} s. Load generator (median): RSS {:.1} MiB, {:.0} fds, \
         CPU {:.0}% of a core. Host 1-minute load average (median, 2 cores): {:.1}.\n",
        median(after.iter().map(|s| get(s, "slow_open")).collect()),
        slow("slow_connects"),
        slow("slow_cut"),
        slow("slow_uncut"),
        slow("slow_err"),
        samples
            .iter()
            .map(|s| get(s, "slow_held_max_ms"))
            .fold(0.0, f64::max)
            / 1000.0,
        median(after.iter().map(|s| get(s, "load_rss_mib")).collect()),
        median(after.iter().map(|s| get(s, "load_fds")).collect()),
        median(after.iter().map(|s| get(s, "load_cpu_pct")).collect()),
        median(after.iter().map(|s| get(s, "host_load1")).collect()),
    );
    md.push_str("| check | result | detail |\n|---|---|---|\n");
    for check in checks {
        let _ = writeln!(
            md,
            "| {} | {} | {} |",
            check.name,
            if check.ok { "ok" } else { "**FAILED**" },
            check.detail
        );
    }
    let verdict = if checks.iter().all(|c| c.ok) {
        "flat after the warm-up"
    } else {
        "NOT FLAT"
    };
    let _ = writeln!(md, "\nVerdict: {verdict}.");
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(t: f64, rss: f64, fds: f64, p99: f64) -> Sample {
        let mut s = Sample::new();
        s.insert("t".into(), t);
        for (prefix, _) in SERVERS {
            s.insert(format!("{prefix}_rss_mib"), rss);
            s.insert(format!("{prefix}_fds"), fds);
            s.insert(format!("{prefix}_open"), 1000.0);
            s.insert(format!("{prefix}_p99_us"), p99);
            s.insert(format!("{prefix}_requests"), 500.0);
            s.insert(format!("{prefix}_err_reset"), 1.0);
        }
        s.insert("slow_open".into(), 0.0);
        s.insert("slow_cut".into(), 10.0);
        s
    }

    fn failed(checks: &[Check]) -> Vec<String> {
        checks
            .iter()
            .filter(|c| !c.ok)
            .map(|c| c.name.clone())
            .collect()
    }

    #[test]
    fn a_flat_run_passes_and_a_leak_fails() {
        let flat: Vec<Sample> = (1..=60)
            .map(|i| sample(f64::from(i) * 5.0, 50.0 + f64::from(i % 3), 1010.0, 2000.0))
            .collect();
        let checks = judge(&flat, 60.0, 300.0, true, &Ok(()));
        assert!(failed(&checks).is_empty(), "{:?}", failed(&checks));

        let leaking: Vec<Sample> = (1..=60)
            .map(|i| {
                sample(
                    f64::from(i) * 5.0,
                    50.0 + f64::from(i),
                    1010.0 + f64::from(i) * 20.0,
                    2000.0,
                )
            })
            .collect();
        let failed = failed(&judge(&leaking, 60.0, 300.0, true, &Ok(())));
        assert!(
            failed.contains(&"fileserver: RSS flat".to_string()),
            "{failed:?}"
        );
        assert!(
            failed.contains(&"echo: fds not growing".to_string()),
            "{failed:?}"
        );
        assert!(
            failed.contains(&"echo: fds follow the connections".to_string()),
            "{failed:?}"
        );
    }

    #[test]
    fn rising_latency_and_short_runs_fail() {
        let slowing: Vec<Sample> = (1..=60)
            .map(|i| sample(f64::from(i) * 5.0, 50.0, 1010.0, 1000.0 * f64::from(i)))
            .collect();
        let failed = failed(&judge(&slowing, 60.0, 300.0, true, &Ok(())));
        assert!(
            failed.contains(&"fileserver: p99 not trending up".to_string()),
            "{failed:?}"
        );
        let short: Vec<Sample> = (1..=3)
            .map(|i| sample(f64::from(i), 50.0, 10.0, 1.0))
            .collect();
        assert!(!judge(&short, 1.0, 3.0, true, &Ok(()))[0].ok);
    }

    #[test]
    fn lines_parse() {
        let s = parse_line(r#"{"t":5.001,"file_open":10,"slow_cut":0}"#).unwrap();
        assert_eq!(get(&s, "t"), 5.001);
        assert_eq!(get(&s, "file_open"), 10.0);
        assert!(parse_line("soak_load: oops").is_none());
    }
}
