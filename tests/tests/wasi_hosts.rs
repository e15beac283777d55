//! WASI programs under real wasmtime, driven from the host: the TCP echo (many concurrent
//! clients, some hanging up abruptly) under wasmtime 46.0.3's preview 1 host, hyper's hello server
//! (ebbtide-hyper's `hello` example, the same source as on Linux) under curl and wrk, and lines
//! piped into stdin while a timer ticks.
//!
//! These need wasmtime from the tool cache (`cargo xtask ci --only setup` builds it), so they are
//! `#[ignore]`d in a plain `cargo test` and run by `cargo xtask ci` (stage `wasi`):
//! `cargo test -p ebbtide-tests --test wasi_hosts -- --ignored`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn wasmtime() -> PathBuf {
    let tools = std::env::var_os("EBBTIDE_TOOLS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/ebbtide-tools")
        });
    let path = tools.join("wasmtime-46.0.3/bin/wasmtime");
    assert!(
        path.is_file(),
        "{} is missing: run `cargo xtask ci --only setup` to build wasmtime-cli 46.0.3",
        path.display()
    );
    path
}

/// Builds one of ebbtide-wasi's examples for wasm32-wasip1 and returns the .wasm's path.
fn build_example(name: &str) -> PathBuf {
    build_package_example("ebbtide-wasi", name)
}

/// Builds the example `name` of `package` for wasm32-wasip1 and returns the .wasm's path.
fn build_package_example(package: &str, name: &str) -> PathBuf {
    let root = workspace_root();
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(&root)
        .args([
            "build",
            "-p",
            package,
            "--target",
            "wasm32-wasip1",
            "--example",
            name,
        ])
        .status()
        .expect("cargo runs");
    assert!(
        status.success(),
        "building {package}'s {name} example for wasm32-wasip1 failed"
    );
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    target.join(format!("wasm32-wasip1/debug/examples/{name}.wasm"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Kills the host process when the test ends, however it ends.
struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn connect_with_retry(port: u16) -> TcpStream {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(stream) => return stream,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => panic!("the WASI echo server never listened on {port}: {e}"),
        }
    }
}

/// Makes closing `stream` send a reset instead of a FIN.
fn set_linger_zero(stream: &TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid socket fd and a correctly sized `linger` value.
    let rc = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0);
}

fn echo_round_trip(port: u16, id: u8, bytes: usize) {
    let mut stream = connect_with_retry(port);
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let data: Vec<u8> = (0..bytes)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(id))
        .collect();
    let reader = {
        let mut stream = stream.try_clone().unwrap();
        std::thread::spawn(move || {
            let mut back = vec![0u8; bytes];
            stream.read_exact(&mut back).unwrap();
            back
        })
    };
    for chunk in data.chunks(1000) {
        stream.write_all(chunk).unwrap();
    }
    let back = reader.join().unwrap();
    assert!(
        back == data,
        "client {id}: the echo differs from what was sent"
    );
}

#[test]
#[ignore = "needs wasmtime 46.0.3 from the tool cache; run by `cargo xtask ci`"]
fn tcp_echo_under_wasmtime_46_serves_many_clients_and_survives_abrupt_ones() {
    let wasm = build_example("portable_echo");
    let port = free_port();
    let child = Command::new(wasmtime())
        .args(["run", "-S", "preview2=n", "-S"])
        .arg(format!("tcplisten=127.0.0.1:{port}"))
        .args(["--env", "LISTEN_FDS=1"])
        .arg(&wasm)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("wasmtime starts");
    let _server = Kill(child);

    // Clients that hang up abruptly: one mid-message, one with a reset (linger 0).
    {
        let mut rude = connect_with_retry(port);
        rude.write_all(&[1u8; 300]).unwrap();
    }
    {
        let reset = connect_with_retry(port);
        set_linger_zero(&reset);
        (&reset).write_all(&[2u8; 300]).unwrap();
    }
    // Many well-behaved clients at once.
    let clients: Vec<_> = (0..16u8)
        .map(|id| std::thread::spawn(move || echo_round_trip(port, id, 20_000)))
        .collect();
    for client in clients {
        client
            .join()
            .expect("a client's echo was wrong or timed out");
    }
    // And the server still answers afterwards.
    echo_round_trip(port, 99, 10);
}

/// One HTTP/1.1 exchange on a new connection: the whole answer, once the server closes.
fn http_exchange(port: u16, request: &[u8]) -> String {
    let mut stream = connect_with_retry(port);
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream.write_all(request).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
#[ignore = "needs wasmtime 46.0.3 from the tool cache; run by `cargo xtask ci`"]
fn hyper_hello_under_wasmtime_46_serves_http_clients() {
    // The same source as the Linux `hyper_hello`: hyper 1.x on ebbtide-wasi.
    let wasm = build_package_example("ebbtide-hyper", "hello");
    let port = free_port();
    let child = Command::new(wasmtime())
        .args(["run", "-S", "preview2=n", "-S"])
        .arg(format!("tcplisten=127.0.0.1:{port}"))
        .args(["--env", "LISTEN_FDS=1"])
        .arg(&wasm)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("wasmtime starts");
    let _server = Kill(child);

    let answer = http_exchange(
        port,
        b"GET / HTTP/1.1\r\nHost: wasi\r\nConnection: close\r\n\r\n",
    );
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer:?}");
    assert!(answer.ends_with("\r\n\r\nHello, World!"), "{answer:?}");
    // A malformed request gets 400; the server goes on.
    let answer = http_exchange(port, b"GET / HTTP/1.1\r\nBad Header\r\n\r\n");
    assert!(
        answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{answer:?}"
    );
    // Real clients: curl, and wrk's 8 keep-alive connections for a second.
    let url = format!("http://127.0.0.1:{port}/");
    let curl = Command::new("curl")
        .args(["-s", "-S", "--max-time", "20", "--http1.1", &url])
        .output()
        .expect("curl runs (`cargo xtask ci` installs it)");
    assert!(
        curl.status.success(),
        "{}",
        String::from_utf8_lossy(&curl.stderr)
    );
    assert_eq!(curl.stdout, b"Hello, World!");
    let wrk = Command::new("wrk")
        .args(["-t1", "-c8", "-d1s", "--timeout", "5s", &url])
        .output()
        .expect("wrk runs (`cargo xtask ci` installs it)");
    let report = String::from_utf8_lossy(&wrk.stdout);
    assert!(wrk.status.success(), "{report}");
    assert!(!report.contains("Socket errors"), "{report}");
    assert!(!report.contains("Non-2xx"), "{report}");
    assert!(report.contains(" requests in "), "{report}");
}

#[test]
#[ignore = "needs wasmtime 46.0.3 from the tool cache, PyPI's wasmtime and Node; run by `cargo xtask ci`"]
fn stdin_lines_are_processed_while_a_timer_ticks() {
    let wasm = build_example("stdin_lines");
    // Every host keeps the timer running while the program waits for a pipe (wasmtime 46's
    // legacy host included: its stdin readiness is real for pipes and terminals).
    for host in [
        Host::wasmtime_46(),
        Host::wasmtime_46_legacy(),
        Host::wasmtime_newest(),
        Host::node(),
    ] {
        lines_while_a_timer_ticks(&host, &wasm);
    }
}

fn lines_while_a_timer_ticks(host: &Host, wasm: &Path) {
    let mut child = Command::new(&host.command[0])
        .args(&host.command[1..])
        .arg(wasm)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("wasmtime starts");
    let _guard_pid = child.id();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines_tx, lines_rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            let _ = lines_tx.send(line.clone());
            all.push(line);
        }
        all
    });
    // Start typing once the program is up and its timer runs (a host that is still starting up
    // could otherwise see all input at once).
    loop {
        let line = lines_rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("{}: no ticks while it waits for input", host.name));
        if line == "tick 3" {
            break;
        }
    }
    stdin.write_all(b"hello\n").unwrap();
    std::thread::sleep(Duration::from_millis(600));
    stdin.write_all(b"wasi world\n").unwrap();
    std::thread::sleep(Duration::from_millis(100));
    drop(stdin);
    let status = child.wait().unwrap();
    let lines = reader.join().unwrap();
    assert!(
        status.success(),
        "{}: stdin_lines failed: {lines:?}",
        host.name
    );
    let position = |needle: &str| {
        lines
            .iter()
            .position(|l| l == needle)
            .unwrap_or_else(|| panic!("no line {needle:?} in {lines:?}"))
    };
    let first = position("line 1: HELLO");
    let second = position("line 2: WASI WORLD");
    assert!(first < second);
    let ticks_between = lines[first..second]
        .iter()
        .filter(|l| l.starts_with("tick "))
        .count();
    assert!(
        ticks_between >= 5,
        "{}: the timer must keep ticking while the program waits for stdin: {lines:?}",
        host.name
    );
    assert!(
        lines.last().unwrap().starts_with("eof: 2 lines"),
        "{lines:?}"
    );
}

/// A WASI host, as a command line the .wasm and its arguments are appended to.
struct Host {
    name: &'static str,
    command: Vec<String>,
}

/// Where a program's stdin comes from.
#[derive(Clone, Copy, Debug)]
enum Input<'a> {
    DevNull,
    File(&'a Path),
    /// A pipe that carries these bytes, then is closed.
    Pipe(&'a [u8]),
}

impl Host {
    fn wasmtime_46() -> Host {
        Host {
            name: "wasmtime 46 (default host)",
            command: vec![wasmtime().display().to_string(), "run".into()],
        }
    }

    fn wasmtime_46_legacy() -> Host {
        Host {
            name: "wasmtime 46 -S preview2=n",
            command: vec![
                wasmtime().display().to_string(),
                "run".into(),
                "-S".into(),
                "preview2=n".into(),
            ],
        }
    }

    /// The newest wasmtime: PyPI's, through tools/wasi_run.py.
    fn wasmtime_newest() -> Host {
        Host {
            name: "newest wasmtime (PyPI)",
            command: vec![
                "python3".into(),
                workspace_root()
                    .join("tools/wasi_run.py")
                    .display()
                    .to_string(),
            ],
        }
    }

    /// Node's `node:wasi`, through tools/wasi_node.mjs.
    fn node() -> Host {
        Host {
            name: "node:wasi",
            command: vec![
                "node".into(),
                "--no-warnings".into(),
                workspace_root()
                    .join("tools/wasi_node.mjs")
                    .display()
                    .to_string(),
            ],
        }
    }

    /// Runs `wasm` with `args` and stdin from `input`, for at most 30 s; returns the exit code,
    /// stdout and stderr.
    fn run(&self, wasm: &Path, args: &[&str], input: Input<'_>) -> (Option<i32>, String, String) {
        let stdin = match input {
            Input::DevNull => Stdio::null(),
            Input::File(path) => Stdio::from(std::fs::File::open(path).unwrap()),
            Input::Pipe(_) => Stdio::piped(),
        };
        let mut child = Command::new(&self.command[0])
            .args(&self.command[1..])
            .arg(wasm)
            .args(args)
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{} does not start: {e}", self.name));
        if let Input::Pipe(bytes) = input {
            // Written, then closed (dropped): the program reads them, then end of input.
            let mut pipe = child.stdin.take().unwrap();
            pipe.write_all(bytes).unwrap();
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("{} did not finish within 30 s", self.name);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let output = child.wait_with_output().unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }
}

#[test]
#[ignore = "needs wasmtime 46.0.3 from the tool cache, PyPI's wasmtime and Node; run by `cargo xtask ci`"]
fn stdin_that_is_not_a_pipe_is_read_on_every_host() {
    let wasm = build_example("stdin_lines");
    let dir = std::env::temp_dir().join(format!("ebbtide-stdin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("input.txt");
    std::fs::write(&file, "first\nsecond\n").unwrap();
    let cases = [
        (Input::DevNull, "eof: 0 lines\n"),
        (
            Input::File(&file),
            "line 1: FIRST\nline 2: SECOND\neof: 2 lines\n",
        ),
        (Input::Pipe(b"piped\n"), "line 1: PIPED\neof: 1 lines\n"),
    ];
    let hosts = [
        Host::wasmtime_46(),
        Host::wasmtime_46_legacy(),
        Host::wasmtime_newest(),
        Host::node(),
    ];
    for host in &hosts {
        for (input, expected) in cases {
            // wasmtime 46's legacy host traps in its own poll_oneoff on a stdin that is a
            // character device but no terminal (its FIONREAD ioctl fails: "Inappropriate ioctl
            // for device"); to the program such a stdin looks like a pipe (file type unknown),
            // so nothing can be done from inside. Documented in ebbtide-wasi's `Stdin`.
            if host.name.contains("preview2=n") && matches!(input, Input::DevNull) {
                continue;
            }
            let (code, stdout, stderr) = host.run(&wasm, &["--no-ticks"], input);
            assert_eq!(code, Some(0), "{} with {input:?}: {stderr}", host.name);
            assert_eq!(stdout, expected, "{} with {input:?}: {stderr}", host.name);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
