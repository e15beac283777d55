//! The WASI driver's performance, against native, under each WASI host: one command,
//!
//! ```text
//! cargo bench -p ebbtide-wasi --bench wasi_perf
//! ```
//!
//! builds `examples/wasi_bench.rs` twice in release (natively on ebbtide-std, and for
//! wasm32-wasip1 on ebbtide-wasi), runs it natively, under wasmtime 46.0.3
//! (`${EBBTIDE_TOOLS_DIR:-$HOME/.cache/ebbtide-tools}/wasmtime-46.0.3/bin/wasmtime run`) and under
//! the PyPI wasmtime (`python3 tools/wasi_run.py`) and under Node (`node tools/wasi_node.mjs`),
//! and prints a markdown table:
//!
//! - timer lateness (p50, p99, max) of 1,000 sleeps of 1 to 10 ms from 100 tasks;
//! - the micro-workloads (spawn+join, yield, mpsc) in ns per operation, and wasm / native;
//! - the CPU time (user + system, from `getrusage(RUSAGE_CHILDREN)`) that one idle sleep of
//!   2 s costs, less the host's start-up cost (the same program with `--idle 0`). It should be
//!   next to nothing: the runtime waits in the host, it does not poll.
//!
//! A host that is not installed is skipped with a note. This bench only runs on a host OS; built
//! for WASI it is an empty program.

#[cfg(not(target_os = "wasi"))]
fn main() {
    perf::main();
}

#[cfg(target_os = "wasi")]
fn main() {}

#[cfg(not(target_os = "wasi"))]
mod perf {
    use std::collections::HashMap;
    use std::ffi::OsString;
    use std::io::{BufRead, BufReader};
    use std::path::{Path, PathBuf};
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    /// How long the idle run sleeps.
    const IDLE_MS: u64 = 2_000;
    /// The end of the idle sleep that the `/proc` window leaves out (the exit follows it).
    const IDLE_MARGIN_MS: u64 = 200;
    /// Runs of each idle measurement (the least CPU time of them counts).
    const IDLE_RUNS: usize = 3;
    /// Idle CPU time above this (per idle run) is reported as suspicious.
    const IDLE_LIMIT: Duration = Duration::from_millis(20);

    struct Host {
        name: String,
        /// The command line, up to and including the program (its arguments follow).
        command: Vec<OsString>,
        wasm: bool,
    }

    struct Measured {
        name: String,
        figures: HashMap<String, f64>,
        /// CPU time of `--idle IDLE_MS`, and of `--idle 0` (start-up), least of `IDLE_RUNS`.
        idle_cpu: Duration,
        startup_cpu: Duration,
        /// CPU time of `--idle IDLE_MS` during its sleep (least of `IDLE_RUNS`), if `/proc` told.
        after_start: Option<Duration>,
        idle_wall: Duration,
    }

    pub(super) fn main() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("the workspace root")
            .to_path_buf();
        let native = build(&root, None);
        let wasm = build(&root, Some("wasm32-wasip1"));

        let mut hosts = vec![Host {
            name: "native (ebbtide-std)".into(),
            command: vec![native.into()],
            wasm: false,
        }];
        let tools = std::env::var_os("EBBTIDE_TOOLS_DIR")
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache/ebbtide-tools"))
            })
            .unwrap_or_default();
        let wasmtime = tools.join("wasmtime-46.0.3/bin/wasmtime");
        if wasmtime.is_file() {
            hosts.push(Host {
                name: "wasmtime 46.0.3 CLI".into(),
                command: vec![wasmtime.into(), "run".into(), wasm.clone().into()],
                wasm: true,
            });
        } else {
            eprintln!(
                "wasi_perf: skipping wasmtime 46.0.3: {} not found",
                wasmtime.display()
            );
        }
        match python_wasmtime() {
            Some(version) => hosts.push(Host {
                name: format!("PyPI wasmtime {version}"),
                command: vec![
                    "python3".into(),
                    root.join("tools/wasi_run.py").into(),
                    wasm.clone().into(),
                ],
                wasm: true,
            }),
            None => eprintln!("wasi_perf: skipping the PyPI wasmtime: `import wasmtime` failed"),
        }
        match node_version() {
            Some(version) => hosts.push(Host {
                name: format!("Node {version} node:wasi"),
                command: vec![
                    "node".into(),
                    "--no-warnings".into(),
                    root.join("tools/wasi_node.mjs").into(),
                    wasm.into(),
                ],
                wasm: true,
            }),
            None => eprintln!("wasi_perf: skipping Node: `node --version` failed"),
        }

        let measured: Vec<Measured> = hosts.iter().map(measure).collect();
        report(&hosts, &measured);
    }

    /// Node's version (`v20.20.2`), if `node` runs.
    fn node_version() -> Option<String> {
        let output = Command::new("node").arg("--version").output().ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
    }

    /// Builds the example in release (for `target`, or natively) and returns the program's path.
    fn build(root: &Path, target: Option<&str>) -> PathBuf {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut command = Command::new(cargo);
        command
            .current_dir(root)
            .args([
                "build",
                "--release",
                "--example",
                "wasi_bench",
                "-p",
                "ebbtide-wasi",
            ])
            .arg("--message-format=json-render-diagnostics")
            .stderr(Stdio::inherit());
        if let Some(target) = target {
            command.args(["--target", target]);
        }
        eprintln!(
            "wasi_perf: building wasi_bench for {}",
            target.unwrap_or("the host")
        );
        let output = command.output().expect("run cargo build");
        assert!(
            output.status.success(),
            "cargo build failed: {}",
            output.status
        );
        // The artifact message of the example names its program: `"executable":"..."`.
        let stdout = String::from_utf8_lossy(&output.stdout);
        stdout
            .lines()
            .filter(|line| line.contains("\"compiler-artifact\"") && line.contains("wasi_bench"))
            .find_map(|line| {
                let start = line.find("\"executable\":\"")? + "\"executable\":\"".len();
                let end = start + line[start..].find('"')?;
                Some(PathBuf::from(line[start..end].replace("\\\\", "\\")))
            })
            .expect("cargo build names the example's executable")
    }

    /// The version of the Python `wasmtime` module, if it imports.
    fn python_wasmtime() -> Option<String> {
        let output = Command::new("python3")
            .args([
                "-c",
                "import importlib.metadata as m, wasmtime; print(m.version('wasmtime'))",
            ])
            .stderr(Stdio::null())
            .output()
            .ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
    }

    /// User + system CPU time of every child waited for so far.
    fn children_cpu() -> Duration {
        // SAFETY: `rusage` is plain data, for which all zeroes is a valid value.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `usage` is a valid, writable `rusage`; RUSAGE_CHILDREN is a valid `who`.
        let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
        assert_eq!(rc, 0, "getrusage: {}", std::io::Error::last_os_error());
        let time = |tv: libc::timeval| {
            Duration::from_secs(tv.tv_sec as u64) + Duration::from_micros(tv.tv_usec as u64)
        };
        time(usage.ru_utime) + time(usage.ru_stime)
    }

    /// Runs the host with `args`; returns its stdout.
    fn run(host: &Host, args: &[&str]) -> String {
        let output = Command::new(&host.command[0])
            .args(&host.command[1..])
            .args(args)
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}", host.name));
        assert!(
            output.status.success(),
            "{} {args:?} failed: {}",
            host.name,
            output.status
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Runs the host with `--idle ms`; returns its CPU time (getrusage), the CPU time it spent
    /// during `ms - 200` ms from when it printed `idle_start` (Linux only: read from `/proc`), and
    /// its wall time.
    fn run_idle(host: &Host, ms: u64) -> (Duration, Option<Duration>, Duration) {
        let before = children_cpu();
        let start = Instant::now();
        let mut child = Command::new(&host.command[0])
            .args(&host.command[1..])
            .args(["--idle", &ms.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("run {}: {e}", host.name));
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut line = String::new();
        let mut while_idle = None;
        while stdout
            .read_line(&mut line)
            .expect("read the program's output")
            > 0
        {
            if line.trim() == "idle_start" && ms > IDLE_MARGIN_MS {
                // Start-up is over and the sleep has begun: sample the CPU time across most of
                // it (not its end, which the exit follows).
                let early = process_cpu(child.id());
                std::thread::sleep(Duration::from_millis(ms - IDLE_MARGIN_MS));
                let late = process_cpu(child.id());
                if let (Some(early), Some(late)) = (early, late) {
                    while_idle = Some(late.saturating_sub(early));
                }
            }
            line.clear();
        }
        let status = child.wait().expect("wait for the program");
        let wall = start.elapsed();
        let cpu = children_cpu().saturating_sub(before);
        assert!(
            status.success(),
            "{} --idle {ms} failed: {status}",
            host.name
        );
        (cpu, while_idle, wall)
    }

    /// User + system CPU time of a running process so far (Linux): the sum of its threads'
    /// `/proc/PID/task/TID/schedstat` (ns), or else `/proc/PID/stat` (clock ticks).
    fn process_cpu(pid: u32) -> Option<Duration> {
        let from_schedstat = || -> Option<Duration> {
            let mut ns = 0u64;
            for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
                let schedstat =
                    std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
                ns += schedstat.split_whitespace().next()?.parse::<u64>().ok()?;
            }
            Some(Duration::from_nanos(ns))
        };
        from_schedstat().or_else(|| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // After the command name in parentheses: field 3 (state) onwards; utime and stime
            // are fields 14 and 15, in clock ticks.
            let fields: Vec<&str> = stat[stat.rfind(')')? + 1..].split_whitespace().collect();
            let ticks: u64 =
                fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
            // SAFETY: sysconf only reads a configuration value.
            let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
            (hz > 0).then(|| Duration::from_secs_f64(ticks as f64 / hz as f64))
        })
    }

    fn measure(host: &Host) -> Measured {
        eprintln!("wasi_perf: running on {}", host.name);
        let stdout = run(host, &[]);
        let figures = stdout
            .lines()
            .filter_map(|line| {
                let (key, value) = line.split_once(' ')?;
                Some((key.to_string(), value.trim().parse().ok()?))
            })
            .collect();
        let mut startup_cpu = Duration::MAX;
        let mut idle_cpu = Duration::MAX;
        let mut after_start: Option<Duration> = None;
        let mut idle_wall = Duration::MAX;
        for _ in 0..IDLE_RUNS {
            startup_cpu = startup_cpu.min(run_idle(host, 0).0);
            let (cpu, after, wall) = run_idle(host, IDLE_MS);
            idle_cpu = idle_cpu.min(cpu);
            if let Some(after) = after {
                after_start = Some(after_start.map_or(after, |least| least.min(after)));
            }
            idle_wall = idle_wall.min(wall);
        }
        Measured {
            name: host.name.clone(),
            figures,
            idle_cpu,
            startup_cpu,
            after_start,
            idle_wall,
        }
    }

    fn ms(d: Duration) -> f64 {
        d.as_secs_f64() * 1e3
    }

    fn report(hosts: &[Host], measured: &[Measured]) {
        let native = measured
            .iter()
            .zip(hosts)
            .find(|(_, host)| !host.wasm)
            .map(|(m, _)| m);
        let figure = |m: &Measured, key: &str| m.figures.get(key).copied().unwrap_or(f64::NAN);
        let workload = |m: &Measured, key: &str| {
            let ns = figure(m, key);
            match native {
                Some(native) if !std::ptr::eq(native, m) => {
                    format!("{ns:.1} (×{:.2})", ns / figure(native, key))
                }
                _ => format!("{ns:.1}"),
            }
        };
        // The idle cost: measured during the sleep when /proc could tell, else total less the
        // start-up run (noisier: a wasm host's start-up compiles the module).
        let idle = |m: &Measured| {
            m.after_start
                .unwrap_or_else(|| m.idle_cpu.saturating_sub(m.startup_cpu))
        };
        println!();
        println!(
            "| host | timer p50 µs | p99 µs | max µs | spawn+join ns | yield ns | mpsc ns | \
             idle CPU, {} ms of sleep | idle − start-up run | start-up CPU |",
            IDLE_MS - IDLE_MARGIN_MS
        );
        println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for m in measured {
            let diff = m.idle_cpu.as_secs_f64() - m.startup_cpu.as_secs_f64();
            println!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {:+.1} ms | {:.1} ms |",
                m.name,
                figure(m, "timer_p50_us"),
                figure(m, "timer_p99_us"),
                figure(m, "timer_max_us"),
                workload(m, "spawn_join_ns"),
                workload(m, "yield_ns"),
                workload(m, "mpsc_ns"),
                m.after_start
                    .map_or_else(|| "n/a".to_string(), |d| format!("{:.2} ms", ms(d))),
                diff * 1e3,
                ms(m.startup_cpu),
            );
        }
        println!();
        println!(
            "Timer lateness: 1,000 sleeps of 1-10 ms from 100 tasks. Micro-workloads, ns per \
             operation, median of 5 rounds: spawn+join of 1,000 tasks, 200 tasks × 1,000 \
             yields, 5,000 messages between two tasks (capacity 64); (×N) = wasm / native. Idle \
             CPU: CPU time of `--idle {IDLE_MS}` from when it printed `idle_start` to {IDLE_MARGIN_MS} \
             ms before its sleep ends (/proc/PID/task/*/schedstat); `idle − start-up run`: its \
             total user+system CPU time (getrusage) less that of `--idle 0` (noisy: a wasm host \
             compiles the module at start-up). Least of {IDLE_RUNS} runs each."
        );
        for m in measured {
            if idle(m) > IDLE_LIMIT {
                println!(
                    "WARNING: {} used {:.1} ms of CPU while idle (for {} ms): busy polling?",
                    m.name,
                    ms(idle(m)),
                    IDLE_MS - IDLE_MARGIN_MS
                );
            }
            if m.idle_wall < Duration::from_millis(IDLE_MS) {
                println!(
                    "WARNING: {}'s idle run ended after {:.1} ms, before its {IDLE_MS} ms sleep",
                    m.name,
                    ms(m.idle_wall)
                );
            }
        }
    }
}
