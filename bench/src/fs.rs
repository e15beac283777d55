//! File-server workloads: the ebbtide file server demo (`examples/src/bin/fileserver.rs`) against
//! nginx, both serving a 1 KiB and a 1 MiB file to `wrk -t1 -c64`, run by the `fs_servers` binary
//! (issue 14; `tools/fileserver_vs_nginx.sh` is the same comparison as a script).
//!
//! # Workloads and runtimes
//!
//! - `fs_1k`, `fs_1m` (1 worker): `GET /1k.bin` (1,024 bytes) or `GET /1m.bin` (1,048,576 bytes),
//!   keep-alive, from `wrk -t1 -c64 --latency`. The server is pinned to CPU 0 and wrk to CPU 1
//!   (as in [`crate::net`]'s 1-worker workloads), on a machine with at least 2 CPUs.
//! - `mt_fs_1k`, `mt_fs_1m` (2 workers): the same, with 2 server workers, nothing pinned: the
//!   server's workers and wrk share every CPU, as in the other 2-worker network workloads (on the
//!   2-core benchmark machine the load generator takes a good part of one core, so requests/s are
//!   those of the whole machine and the CPU per request is the figure to read).
//!
//! Runtimes ([`RUNTIMES`]), each a separate process per (runtime, workload) as `cargo xtask
//! bench` runs them:
//!
//! - `ebbtide`: the `fileserver` binary, `fileserver ROOT --addr 127.0.0.1:0 --workers N` (N = 1
//!   or 2; with 2, a `SO_REUSEPORT` listener per worker). Found through the
//!   `EBBTIDE_BENCH_FILESERVER` environment variable (which `cargo xtask bench` sets), or next to
//!   this binary (both are built with the `bench-lto` profile into `target/bench-lto/`).
//! - `nginx-sendfile`, `nginx-nosendfile`: nginx (Debian's `nginx-light`) with `sendfile on` or
//!   `off`, `worker_processes N`, a master process (idle while it serves; its CPU is counted
//!   too), `access_log off`, `keepalive_requests 1000000`, `tcp_nopush on`, and with 2 workers
//!   `listen ... reuseport` (a listener per worker, as the file server has); everything else
//!   nginx's defaults (no `open_file_cache`: every request opens its file, while the file
//!   server keeps it open, see `nginx-cache`). It runs unprivileged in a temporary prefix of its
//!   own: `nginx -p DIR -c DIR/nginx.conf -e DIR/error.log`, with `daemon off`, its pid file and
//!   temporary folders in DIR (as root, nginx's workers switch to `nobody`, who can read the
//!   served files). Found through `EBBTIDE_BENCH_NGINX`, else `nginx` on `PATH`, else
//!   `/usr/sbin/nginx` (Debian's place, not on a user's `PATH`).
//! - `nginx-cache`: the same nginx with its open-file cache on, as the file server has its own
//!   (`open_file_cache max=1000 inactive=20s; open_file_cache_valid 1s;`: open descriptors and
//!   sizes kept, checked again after 1 s), and `sendfile` as the better of the two variants
//!   above measured for each size: `off` for the 1 KiB file, `on` for the 1 MiB one. nginx's
//!   best configuration for these files, to compare with.
//!
//! If wrk, nginx or the file server is missing, `fs_servers list` lists nothing and says why on
//! standard error: the fs workloads are skipped and the rest of the bench runs.
//!
//! # A process
//!
//! It writes the two files (pseudo-random bytes) into a fresh temporary folder, starts the
//! server on a free port of `127.0.0.1`, checks that both files come back whole (`200` and the
//! same bytes), warms up with a 1 s wrk run, then runs wrk once per sample: [`sample_secs`]
//! seconds (1 with `EBBTIDE_BENCH_QUICK=1`, else 2). At the end (or on an error) it stops the
//! server (`SIGTERM`, then `SIGKILL` after 3 s) and removes the folder. The servers are also
//! started with `PR_SET_PDEATHSIG`, so that they do not outlive a killed benchmark.
//!
//! # Figures of a sample
//!
//! - `ns`: mean wall time per request, `1e9 / rps`, lower is better.
//! - `rps`: wrk's `Requests/sec`.
//! - `mb_s`: megabytes (10^6 bytes) of file bodies per second, `rps` times the file's size.
//! - `p99_ns`: wrk's `99%` latency.
//! - `cpu_ns`: the server's CPU time per request: user + system time (`utime` + `stime` of
//!   `/proc/PID/stat`, every thread) of every process of the server (the file server's one;
//!   nginx's master and its workers, the master's children) over the wrk run, divided by the
//!   requests wrk completed. Clock ticks of 10 ms, so about 1% of a 2 s sample's figure.
//!
//! A sample fails (and the process exits with status 1) if wrk reports socket errors or non-2xx
//! answers, or reads fewer bytes per second than the bodies of its completed requests make
//! (`Transfer/sec` against `rps` times the size: a server answering short).

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::net::{pin_to_cpu, quick, unpin, CLIENT_CPU, SERVER_CPU};
use crate::Sample;

/// The file-server workloads, in the order they are listed.
pub const WORKLOADS: &[&str] = &["fs_1k", "fs_1m", "mt_fs_1k", "mt_fs_1m"];

/// The servers: the ebbtide file server, nginx with `sendfile` on and off, and nginx with its
/// open-file cache (and `sendfile` off for the 1 KiB file, on for the 1 MiB one).
pub const RUNTIMES: &[&str] = &[
    "ebbtide",
    "nginx-sendfile",
    "nginx-nosendfile",
    "nginx-cache",
];

/// wrk's connections (`-c`).
pub const CONNECTIONS: usize = 64;

/// The served files: (name, size in bytes).
pub const FILES: &[(&str, usize)] = &[("1k.bin", 1024), ("1m.bin", 1024 * 1024)];

/// One file-server workload, parsed from its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Workload {
    /// The file wrk asks for (a name of [`FILES`]).
    pub file: &'static str,
    /// Its size in bytes.
    pub size: usize,
    /// The server's workers (the file server's `--workers`, nginx's `worker_processes`).
    pub workers: usize,
}

impl Workload {
    /// Parses `fs_1k`, `fs_1m` (1 worker), `mt_fs_1k`, `mt_fs_1m` (2 workers).
    pub fn parse(name: &str) -> Option<Workload> {
        let (workers, rest) = match name.strip_prefix("mt_") {
            Some(rest) => (2, rest),
            None => (1, name),
        };
        let file = format!("{}.bin", rest.strip_prefix("fs_")?);
        let &(file, size) = FILES.iter().find(|(f, _)| *f == file)?;
        Some(Workload {
            file,
            size,
            workers,
        })
    }
}

/// How long one sample's wrk run lasts, in seconds: 1 with `EBBTIDE_BENCH_QUICK=1`, else 2 (wrk
/// takes whole seconds). The warm-up run lasts 1 s.
pub fn sample_secs() -> u32 {
    if quick() {
        1
    } else {
        2
    }
}

/// The programs the workloads need.
#[derive(Clone, Debug)]
pub struct Tools {
    /// The ebbtide file server.
    pub fileserver: PathBuf,
    /// nginx.
    pub nginx: PathBuf,
}

/// Finds wrk, nginx and the file server (see the [module docs](self)), or says what is missing.
///
/// # Errors
///
/// A message naming each missing program and how to get it.
pub fn find_tools() -> Result<Tools, String> {
    let mut missing = Vec::new();
    if find_on_path("wrk").is_none() {
        missing.push(
            "wrk (Debian: `apt-get install wrk`, or `cargo xtask ci`'s setup stage)".to_string(),
        );
    }
    let nginx = match std::env::var_os("EBBTIDE_BENCH_NGINX") {
        Some(path) => Some(PathBuf::from(path)).filter(|p| p.is_file()),
        None => find_on_path("nginx").or_else(|| {
            [
                "/usr/sbin/nginx",
                "/usr/local/sbin/nginx",
                "/usr/local/nginx/sbin/nginx",
            ]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
        }),
    };
    if nginx.is_none() {
        missing.push(
            "nginx (Debian: `apt-get install nginx-light`, or `cargo xtask ci`'s setup stage; \
             or set EBBTIDE_BENCH_NGINX)"
                .to_string(),
        );
    }
    let fileserver = match std::env::var_os("EBBTIDE_BENCH_FILESERVER") {
        Some(path) => Some(PathBuf::from(path)),
        None => std::env::current_exe()
            .ok()
            .map(|exe| exe.with_file_name("fileserver")),
    }
    .filter(|p| p.is_file());
    if fileserver.is_none() {
        missing.push(
            "the file server (`cargo build --profile bench-lto -p ebbtide-examples --bin \
             fileserver`, or set EBBTIDE_BENCH_FILESERVER)"
                .to_string(),
        );
    }
    match (fileserver, nginx) {
        (Some(fileserver), Some(nginx)) if missing.is_empty() => Ok(Tools { fileserver, nginx }),
        _ => Err(missing.join("; ")),
    }
}

/// `program` in a folder of `PATH`, if it is there.
fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// A fresh temporary folder, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> std::io::Result<TempDir> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir =
            std::env::temp_dir().join(format!("ebbtide-fs-bench-{}-{nanos}", std::process::id()));
        std::fs::create_dir(&dir)?;
        // nginx's workers may run as another user (`nobody`, when started as root).
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Pseudo-random bytes (xorshift64*, seeded from `seed`): file contents no layer can compress.
fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        out.extend_from_slice(&x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A server under test: its process (and for nginx its workers), its folder, its port.
pub struct Server {
    child: Child,
    /// The processes whose CPU time counts: the child and, for nginx, its workers.
    pids: Vec<u32>,
    port: u16,
    /// The files served, to check the answers against.
    files: Vec<(&'static str, Vec<u8>)>,
    /// Where the server's log goes (kept for error messages).
    log: PathBuf,
    dir: TempDir,
}

impl Server {
    /// Starts `runtime`'s server (a name of [`RUNTIMES`]) for `workload` over a fresh folder
    /// holding [`FILES`], and checks that it serves them. The calling thread's CPU affinity is
    /// the server's (it inherits it).
    ///
    /// # Errors
    ///
    /// If the folder cannot be made, the server does not start or does not serve the files.
    pub fn start(tools: &Tools, runtime: &str, workload: Workload) -> Result<Server, String> {
        let dir = TempDir::new().map_err(|e| format!("making a temporary folder: {e}"))?;
        let root = dir.0.join("root");
        let mut files = Vec::new();
        let mut write_files = || -> std::io::Result<()> {
            std::fs::create_dir(&root)?;
            std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755))?;
            for (i, &(name, size)) in FILES.iter().enumerate() {
                let seed = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
                    .wrapping_add(i as u64);
                let bytes = random_bytes(size, seed);
                let path = root.join(name);
                File::create(&path)?.write_all(&bytes)?;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))?;
                files.push((name, bytes));
            }
            Ok(())
        };
        write_files().map_err(|e| format!("writing the served files: {e}"))?;
        let log = dir.0.join("server.log");
        let (child, port) = match runtime {
            "ebbtide" => start_fileserver(tools, &root, &log, workload.workers)?,
            "nginx-sendfile" | "nginx-nosendfile" => {
                let sendfile = runtime == "nginx-sendfile";
                let nginx = Nginx {
                    workers: workload.workers,
                    sendfile,
                    open_file_cache: false,
                };
                start_nginx(tools, &dir.0, &root, &log, nginx)?
            }
            "nginx-cache" => {
                // `sendfile` as nginx serves each size best (measured with the two above).
                let nginx = Nginx {
                    workers: workload.workers,
                    sendfile: workload.size > 64 * 1024,
                    open_file_cache: true,
                };
                start_nginx(tools, &dir.0, &root, &log, nginx)?
            }
            other => return Err(format!("unknown server `{other}`")),
        };
        let pid = child.id();
        let mut server = Server {
            child,
            pids: vec![pid],
            port,
            files,
            log,
            dir,
        };
        if let Err(e) = server.check(runtime, workload) {
            let log = server.log_tail();
            server.stop();
            return Err(format!("{e}{log}"));
        }
        Ok(server)
    }

    /// Waits until the server answers, checks every file, and for nginx finds its workers.
    fn check(&mut self, runtime: &str, workload: Workload) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        let (name, expected) = &self.files[0];
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("{runtime} exited ({status}) before it served"));
            }
            match get(addr, name) {
                Ok(body) if body == *expected => break,
                Ok(_) => return Err(format!("{runtime} answered /{name} with other bytes")),
                Err(e) if Instant::now() > deadline => {
                    return Err(format!("{runtime} does not serve /{name}: {e}"))
                }
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        for (name, expected) in &self.files {
            let body = get(addr, name).map_err(|e| format!("{runtime}: GET /{name}: {e}"))?;
            if body != *expected {
                return Err(format!(
                    "{runtime} answered /{name} with {} other bytes",
                    body.len()
                ));
            }
        }
        if runtime.starts_with("nginx") {
            // The master's children: its workers (no cache manager without a proxy cache).
            let master = self.child.id();
            let deadline = Instant::now() + Duration::from_secs(5);
            loop {
                let workers = children(master);
                if workers.len() == workload.workers {
                    self.pids.extend(workers);
                    break;
                }
                if Instant::now() > deadline {
                    return Err(format!(
                        "nginx has {} worker processes, not {}",
                        workers.len(),
                        workload.workers
                    ));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        Ok(())
    }

    /// The port it serves on (`127.0.0.1`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// CPU time (user + system) every process of the server has used so far, in clock ticks.
    ///
    /// # Errors
    ///
    /// If a process is gone (a server process that dies would make the figure meaningless).
    pub fn cpu_ticks(&self) -> Result<u64, String> {
        self.pids.iter().try_fold(0, |sum, &pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .map_err(|e| format!("server process {pid} is gone: {e}"))?;
            let fields = stat_fields(&stat).ok_or("unreadable /proc/PID/stat")?;
            let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
            // After the command: state is field 3 of proc(5), utime 14 and stime 15.
            match (ticks(14 - 3), ticks(15 - 3)) {
                (Some(utime), Some(stime)) => Ok(sum + utime + stime),
                _ => Err(format!("no utime/stime in /proc/{pid}/stat")),
            }
        })
    }

    /// The last lines of the server's log, to add to an error message.
    fn log_tail(&self) -> String {
        let mut text = std::fs::read_to_string(&self.log).unwrap_or_default();
        if text.len() > 2_000 {
            text = text.split_off(text.len() - 2_000);
        }
        if text.trim().is_empty() {
            String::new()
        } else {
            format!("\nthe server's log ({}):\n{text}", self.log.display())
        }
    }

    /// Stops the server: `SIGTERM` (nginx's master then stops its workers), `SIGKILL` to every
    /// process of it still there after 3 s; waits for it and removes its folder.
    pub fn stop(mut self) {
        signal(self.child.id(), libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(3);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        if matches!(self.child.try_wait(), Ok(None)) {
            for &pid in &self.pids {
                signal(pid, libc::SIGKILL);
            }
        }
        let _ = self.child.wait();
        // nginx's workers leave when their master goes; wait for them (a few ms).
        let deadline = Instant::now() + Duration::from_secs(3);
        while self.pids[1..].iter().any(|&pid| alive(pid)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        for &pid in &self.pids[1..] {
            if alive(pid) {
                signal(pid, libc::SIGKILL);
            }
        }
        drop(self.dir);
    }
}

/// The fields of a `/proc/PID/stat` line after the command (which may hold spaces and
/// parentheses): `fields[0]` is field 3 of proc(5), the state.
fn stat_fields(stat: &str) -> Option<Vec<&str>> {
    let (_, rest) = stat.rsplit_once(')')?;
    Some(rest.split_whitespace().collect())
}

/// Whether process `pid` still exists and is not a zombie.
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| stat_fields(&stat).map(|f| f.first().is_some_and(|s| *s != "Z")))
        .unwrap_or(false)
}

/// The processes whose parent is `parent` (from every `/proc/PID/stat`).
fn children(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|stat| {
                    let fields = stat_fields(&stat)?;
                    // Field 4 of proc(5), the parent's pid.
                    fields.get(1)?.parse::<u32>().ok()
                })
                == Some(parent)
        })
        .collect()
}

/// Sends `sig` to process `pid` (ignoring a process already gone).
fn signal(pid: u32, sig: libc::c_int) {
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        // SAFETY: kill(2) has no memory-safety preconditions; `pid` is a positive process id of
        // ours (a server we started, or one of its children).
        unsafe { libc::kill(pid, sig) };
    }
}

/// A command that gets `SIGTERM` if the thread that starts it (this process's main thread, which
/// lives as long as the process) ends: no server outlives a benchmark killed mid-run.
fn server_command(program: &Path) -> Command {
    let mut command = Command::new(program);
    // SAFETY: the closure runs in the child between fork and exec and only calls prctl(2),
    // which is async-signal-safe, with constant arguments.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            Ok(())
        });
    }
    command
}

/// Starts the file server on `127.0.0.1:0` and reads the port it printed.
fn start_fileserver(
    tools: &Tools,
    root: &Path,
    log: &Path,
    workers: usize,
) -> Result<(Child, u16), String> {
    let log_file = File::create(log).map_err(|e| format!("creating {}: {e}", log.display()))?;
    let mut child = server_command(&tools.fileserver)
        .arg(root)
        .args(["--addr", "127.0.0.1:0", "--workers", &workers.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log_file)
        .spawn()
        .map_err(|e| format!("starting {}: {e}", tools.fileserver.display()))?;
    let stdout = child.stdout.take().expect("a piped stdout");
    let mut stdout = BufReader::new(stdout);
    // `serving ROOT on http://127.0.0.1:PORT`
    let mut line = String::new();
    let port = stdout
        .read_line(&mut line)
        .ok()
        .and_then(|_| line.trim().rsplit_once(':')?.1.parse::<u16>().ok());
    let Some(port) = port else {
        let _ = child.kill();
        let _ = child.wait();
        let log = std::fs::read_to_string(log).unwrap_or_default();
        return Err(format!(
            "the file server did not say its port (it printed {line:?}); its log:\n{log}"
        ));
    };
    // Whatever else it prints goes nowhere (it prints nothing else today).
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    Ok((child, port))
}

/// How nginx is configured (see the [module docs](self)).
#[derive(Clone, Copy, Debug)]
struct Nginx {
    /// `worker_processes`.
    workers: usize,
    /// `sendfile on` (else `off`).
    sendfile: bool,
    /// `open_file_cache max=1000 inactive=20s; open_file_cache_valid 1s;` (else nginx's
    /// default, no cache).
    open_file_cache: bool,
}

/// Starts nginx in its own prefix `dir` (see the [module docs](self)) on a free port; tries
/// another port if that one was taken meanwhile.
fn start_nginx(
    tools: &Tools,
    dir: &Path,
    root: &Path,
    log: &Path,
    nginx: Nginx,
) -> Result<(Child, u16), String> {
    let mut last_error = String::new();
    for _ in 0..3 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("finding a free port: {e}"))?
            .port();
        let config = nginx_config(dir, root, port, nginx);
        let config_path = dir.join("nginx.conf");
        std::fs::write(&config_path, config)
            .map_err(|e| format!("writing {}: {e}", config_path.display()))?;
        let log_file = File::create(log).map_err(|e| format!("creating {}: {e}", log.display()))?;
        let mut child = server_command(&tools.nginx)
            .arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(&config_path)
            .arg("-e")
            .arg(dir.join("error.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", tools.nginx.display()))?;
        // Until it listens (or gives up on the port).
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                let error_log = std::fs::read_to_string(dir.join("error.log")).unwrap_or_default();
                let stderr = std::fs::read_to_string(log).unwrap_or_default();
                last_error = format!("nginx exited ({status}):\n{stderr}{error_log}");
                break;
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok((child, port));
            }
            if Instant::now() > deadline {
                signal(child.id(), libc::SIGKILL);
                let _ = child.wait();
                return Err(format!("nginx does not listen on port {port}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    Err(last_error)
}

/// nginx's configuration (see the [module docs](self)).
fn nginx_config(dir: &Path, root: &Path, port: u16, nginx: Nginx) -> String {
    let dir = dir.display();
    let root = root.display();
    let workers = nginx.workers;
    let sendfile = if nginx.sendfile { "on" } else { "off" };
    let reuseport = if workers > 1 { " reuseport" } else { "" };
    let cache = if nginx.open_file_cache {
        "\n    open_file_cache max=1000 inactive=20s;\n    open_file_cache_valid 1s;"
    } else {
        ""
    };
    format!(
        "worker_processes {workers};
daemon off;
error_log {dir}/error.log warn;
pid {dir}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile {sendfile};{cache}
    tcp_nopush on;
    keepalive_requests 1000000;
    default_type application/octet-stream;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port}{reuseport};
        root {root};
    }}
}}
"
    )
}

/// `GET /{name}` over a connection of its own (`Connection: close`): the body of a `200`.
fn get(addr: SocketAddr, name: &str) -> Result<Vec<u8>, String> {
    let mut stream =
        TcpStream::connect_timeout(&addr, Duration::from_secs(1)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    write!(
        stream,
        "GET /{name} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).map_err(|e| e.to_string())?;
    let end = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no end of headers")?;
    let status = String::from_utf8_lossy(&answer[..end]);
    let status = status.lines().next().unwrap_or_default();
    if !status.starts_with("HTTP/1.1 200") {
        return Err(format!("answered `{status}`"));
    }
    Ok(answer.split_off(end + 4))
}

/// Runs wrk against `server` for `secs` seconds and returns the sample (see the
/// [module docs](self#figures-of-a-sample)).
///
/// # Errors
///
/// What [`crate::http::wrk_get`] returns; a server process gone; bodies shorter than the file.
pub fn run(server: &Server, workload: Workload, secs: u32) -> Result<Sample, String> {
    let before = server.cpu_ticks()?;
    let path = format!("/{}", workload.file);
    let report = crate::http::wrk_get(server.port(), &path, CONNECTIONS, secs)?;
    let ticks = server.cpu_ticks()? - before;
    let body_bytes_per_sec = report.rps * workload.size as f64;
    // wrk rounds its rate to two decimals of its unit: allow that.
    if report.bytes_per_sec < body_bytes_per_sec * 0.99 {
        return Err(format!(
            "wrk read {:.0} bytes/s, less than the {body_bytes_per_sec:.0} of {:.0} whole \
             bodies of {} bytes per second",
            report.bytes_per_sec, report.rps, workload.size
        ));
    }
    let requests = report.requests.max(1) as f64;
    let cpu_ns = ticks as f64 * 1e9 / clock_ticks_per_sec() / requests;
    Ok(Sample::ns((1e9 / report.rps).round() as u128)
        .with("rps", report.rps.round())
        .with("mb_s", (body_bytes_per_sec / 1e4).round() / 100.0)
        .with("p99_ns", report.p99_ns.round())
        .with("cpu_ns", cpu_ns.round()))
}

/// `sysconf(_SC_CLK_TCK)`: the unit of `/proc/PID/stat`'s times.
fn clock_ticks_per_sec() -> f64 {
    // SAFETY: sysconf(3) has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 {
        ticks as f64
    } else {
        100.0
    }
}

/// The entry point of the `fs_servers` binary: every server of [`RUNTIMES`] on every workload
/// of [`WORKLOADS`] (see [`crate::main`] for the arguments), or none with a message on
/// standard error if a program is missing ([`find_tools`]). The server starts on the first run
/// (the warm-up, 1 s of wrk) and serves every sample after it; it is stopped at the end, and
/// before exiting with status 1 when a sample fails.
pub fn main() {
    let tools = find_tools();
    let matrix: Vec<(&str, &[&str])> = match &tools {
        Ok(_) => RUNTIMES.iter().map(|r| (*r, WORKLOADS)).collect(),
        Err(missing) => {
            eprintln!(
                "fs_servers: skipping the file-server workloads ({}): missing {missing}",
                WORKLOADS.join(", ")
            );
            Vec::new()
        }
    };
    let mut server: Option<Server> = None;
    let mut warmed_up = false;
    crate::main(&matrix, |runtime, name| {
        let workload = Workload::parse(name).expect("a workload of WORKLOADS");
        let tools = tools.as_ref().expect("listed only with the tools");
        if server.is_none() {
            // The server inherits this thread's affinity; wrk, started later, the one after.
            if workload.workers == 1 {
                pin_to_cpu(SERVER_CPU);
            } else {
                unpin();
            }
            match Server::start(tools, runtime, workload) {
                Ok(started) => server = Some(started),
                Err(e) => {
                    eprintln!("{runtime} {name}: {e}");
                    std::process::exit(1);
                }
            }
            if workload.workers == 1 {
                pin_to_cpu(CLIENT_CPU);
            }
        }
        let running = server.as_ref().expect("started above");
        let secs = if warmed_up { sample_secs() } else { 1 };
        warmed_up = true;
        match run(running, workload, secs) {
            Ok(sample) => sample,
            Err(e) => {
                let log = running.log_tail();
                server.take().expect("started above").stop();
                eprintln!("{runtime} {name}: {e}{log}");
                std::process::exit(1);
            }
        }
    });
    if let Some(server) = server {
        server.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workload_names() {
        assert_eq!(
            Workload::parse("fs_1k"),
            Some(Workload {
                file: "1k.bin",
                size: 1024,
                workers: 1
            })
        );
        assert_eq!(
            Workload::parse("mt_fs_1m"),
            Some(Workload {
                file: "1m.bin",
                size: 1024 * 1024,
                workers: 2
            })
        );
        assert!(WORKLOADS.iter().all(|w| Workload::parse(w).is_some()));
        assert_eq!(Workload::parse("fs_2k"), None);
        assert_eq!(Workload::parse("http_plaintext_64"), None);
    }

    #[test]
    fn proc_stat_fields() {
        let stat = "42 (a (weird) name) S 1 42 42 0 -1 4194560 100 0 0 0 7 5 0 0 20 0 1 0";
        let fields = stat_fields(stat).unwrap();
        assert_eq!(fields[0], "S");
        assert_eq!(fields[1], "1");
        assert_eq!(fields[14 - 3], "7");
        assert_eq!(fields[15 - 3], "5");
    }

    #[test]
    fn random_files_have_their_size_and_differ() {
        let a = random_bytes(1024, 1);
        let b = random_bytes(1024, 2);
        assert_eq!(a.len(), 1024);
        assert_ne!(a, b);
        assert_eq!(random_bytes(3, 1).len(), 3);
    }

    #[test]
    fn nginx_config_has_the_settings() {
        let nginx = |workers, sendfile, open_file_cache| Nginx {
            workers,
            sendfile,
            open_file_cache,
        };
        let (dir, root) = (Path::new("/d"), Path::new("/d/root"));
        let config = nginx_config(dir, root, 8081, nginx(2, false, false));
        assert!(config.contains("worker_processes 2;"));
        assert!(config.contains("sendfile off;"));
        assert!(config.contains("listen 127.0.0.1:8081 reuseport;"));
        assert!(config.contains("pid /d/nginx.pid;"));
        assert!(!config.contains("open_file_cache"));
        let config = nginx_config(dir, root, 8081, nginx(1, true, false));
        assert!(config.contains("sendfile on;"));
        assert!(config.contains("listen 127.0.0.1:8081;"));
        let config = nginx_config(dir, root, 8081, nginx(1, false, true));
        assert!(config.contains("\n    open_file_cache max=1000 inactive=20s;\n"));
        assert!(config.contains("\n    open_file_cache_valid 1s;\n"));
    }
}
