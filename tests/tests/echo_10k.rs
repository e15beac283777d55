//! 10,000 concurrent TCP clients against an echo server on a default runtime (no task settings):
//! the server's per-connection future (the README's, with a 1 KiB buffer) lives in the 4 KiB
//! class, which reserves 256 slots and grows to hold every client. Server and client run in
//! separate processes (this test binary, started again with `ECHO_10K_SERVER` set, runs the
//! ignored `echo_10k_server` test), each with `RLIMIT_NOFILE` raised to its hard limit, on
//! 127.0.0.1 only.
#![cfg(unix)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use ebbtide_std::io::{AsyncReadExt, AsyncWriteExt};
use ebbtide_std::net::{TcpListener, TcpStream};
use ebbtide_std::time::{sleep, timeout, Duration};
use ebbtide_std::Runtime;

/// Concurrent clients.
const CLIENTS: usize = 10_000;
/// Clients connecting at once (the listener's backlog is 1,024).
const WAVE: usize = 500;
/// File descriptors each process needs beyond the clients' sockets.
const SPARE_FDS: libc::rlim_t = 200;
/// The environment variable that makes `echo_10k_server` serve.
const SERVER_ENV: &str = "ECHO_10K_SERVER";

/// The most memory the server may hold per connection, beyond its idle size: about 6.6 KiB
/// were measured (the 4 KiB task slot, the IO table's entry, the socket's own small state); a
/// bound with room, to catch a leak or a per-connection buffer that grew, not to time anything.
const MAX_BYTES_PER_CONNECTION: u64 = 16 * 1024;

/// A `/proc/<pid>/status` figure in kB (`VmRSS:`, `VmHWM:`), on Linux.
fn proc_status_kb(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|line| {
        let value = line.strip_prefix(key)?.trim().strip_suffix("kB")?;
        value.trim().parse().ok()
    })
}

/// Raises this process's soft `RLIMIT_NOFILE` to the hard limit; returns the new soft limit.
fn raise_nofile() -> libc::rlim_t {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid `rlimit` to write.
    let got = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    assert_eq!(got, 0);
    limit.rlim_cur = limit.rlim_max;
    // SAFETY: `limit` is a valid `rlimit`, its soft limit no higher than its hard one.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
        // macOS caps the soft limit at OPEN_MAX for an unlimited hard limit.
        limit.rlim_cur = 10_240;
        // SAFETY: as above.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) };
    }
    // SAFETY: as above.
    unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    limit.rlim_cur
}

/// Connections alive on the server, and the most at once.
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

struct Live;

impl Live {
    fn new() -> Live {
        let live = LIVE.fetch_add(1, Ordering::SeqCst) + 1;
        PEAK.fetch_max(live, Ordering::SeqCst);
        Live
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The server process: serves echo on 127.0.0.1 until its stdin closes, then prints the most
/// connections it held at once and its task capacity.
#[test]
#[ignore = "the server half of ten_thousand_clients_on_default_runtimes (run by it)"]
fn echo_10k_server() {
    if std::env::var_os(SERVER_ENV).is_none() {
        return;
    }
    raise_nofile();
    let runtime = Runtime::builder()
        .io_capacity(CLIENTS + 512)
        .event_capacity(1024)
        .build()
        .unwrap();
    let handle = runtime.handle();
    std::thread::spawn(move || {
        let mut line = String::new();
        while std::io::stdin().read_line(&mut line).unwrap_or(0) > 0 {}
        println!(
            "PEAK {} CAPACITY {}",
            PEAK.load(Ordering::SeqCst),
            handle.metrics().task_capacity()
        );
        std::io::stdout().flush().unwrap();
        std::process::exit(0);
    });
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("PORT {}", listener.local_addr().unwrap().port());
        std::io::stdout().flush().unwrap();
        loop {
            let (mut stream, peer) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(error) => {
                    eprintln!("accept: {error}");
                    sleep(Duration::from_millis(10)).await;
                    continue;
                }
            };
            // The README's service: a refused spawn is logged and the connection dropped.
            let spawned = ebbtide_std::spawn(async move {
                let _live = Live::new();
                let mut buf = [0u8; 1024];
                while let Ok(n @ 1..) = stream.read(&mut buf).await {
                    if stream.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
            if let Err(error) = spawned {
                eprintln!("refusing {peer}: {error}");
            }
        }
    });
}

#[test]
fn ten_thousand_clients_on_default_runtimes() {
    let fds = raise_nofile();
    if fds < CLIENTS as libc::rlim_t + SPARE_FDS {
        eprintln!("skipped: RLIMIT_NOFILE's hard limit is {fds}, below {CLIENTS} clients");
        return;
    }
    let mut server = Command::new(std::env::current_exe().unwrap())
        .args(["echo_10k_server", "--exact", "--ignored", "--nocapture"])
        .env(SERVER_ENV, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let port: u16 = loop {
        let line = lines.next().expect("the server prints its port").unwrap();
        if let Some(port) = line.strip_prefix("PORT ") {
            break port.parse().unwrap();
        }
    };

    // The server's memory before any client (Linux only: elsewhere the figures are skipped).
    let server_pid = server.id();
    let idle_rss = proc_status_kb(server_pid, "VmRSS:");
    // The client side is a default runtime too (its tasks fit the 1 KiB class, 512 reserved).
    static ECHOED: AtomicUsize = AtomicUsize::new(0);
    let runtime = Runtime::builder()
        .io_capacity(CLIENTS + 512)
        .build()
        .unwrap();
    let served = runtime.block_on(async move {
        timeout(Duration::from_secs(120), async move {
            let mut clients = Vec::with_capacity(CLIENTS);
            for i in 0..CLIENTS {
                clients.push(
                    ebbtide_std::spawn(async move {
                        let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
                        let message = format!("client {i:>10}\n");
                        stream.write_all(message.as_bytes()).await?;
                        let mut back = vec![0u8; message.len()];
                        stream.read_exact(&mut back).await?;
                        assert_eq!(back, message.as_bytes());
                        ECHOED.fetch_add(1, Ordering::SeqCst);
                        // Every connection stays open until all are served: the server holds
                        // them all at once.
                        while ECHOED.load(Ordering::SeqCst) < CLIENTS {
                            sleep(Duration::from_millis(50)).await;
                        }
                        std::io::Result::Ok(())
                    })
                    .expect("a default runtime grows its task memory"),
                );
                // Waves, so that connects do not overflow the listener's backlog.
                if (i + 1) % WAVE == 0 {
                    while ECHOED.load(Ordering::SeqCst) < i + 1 {
                        sleep(Duration::from_millis(5)).await;
                    }
                }
            }
            let mut served = 0;
            for client in clients {
                client.await.unwrap().unwrap();
                served += 1;
            }
            served
        })
        .await
    });
    if let (Some(idle), Some(peak)) = (idle_rss, proc_status_kb(server_pid, "VmHWM:")) {
        let per_connection = (peak.saturating_sub(idle) * 1024) / CLIENTS as u64;
        eprintln!(
            "server memory: {idle} kB idle, {peak} kB peak (VmHWM) with {CLIENTS} clients: \
             {per_connection} bytes per connection"
        );
        assert!(
            per_connection <= MAX_BYTES_PER_CONNECTION,
            "the server holds {per_connection} bytes per connection"
        );
    }
    drop(server.stdin.take());
    let report = lines
        .find_map(|line| line.ok().filter(|line| line.starts_with("PEAK ")))
        .expect("the server reports");
    server.wait().unwrap();
    assert_eq!(served, Ok(CLIENTS), "{report}");
    let mut words = report.split(' ');
    let peak: usize = words.nth(1).unwrap().parse().unwrap();
    let capacity: usize = words.nth(1).unwrap().parse().unwrap();
    assert_eq!(peak, CLIENTS, "the server held every client at once");
    assert!(
        capacity > 1024 + 512 + 256 + 64,
        "the server's task memory grew: {capacity}"
    );
    eprintln!(
        "{report}; client task capacity {}",
        runtime.metrics().task_capacity()
    );
}
