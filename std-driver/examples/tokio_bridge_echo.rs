//! What the Tokio bridge costs: 64-byte echo round trips on loopback, one connection, client and
//! server in one process, written four ways:
//!
//! - `ebbtide native`: ebbtide's `TcpStream` and ebbtide's IO traits, on an ebbtide runtime;
//! - `ebbtide, tokio-io traits`: the same sockets through Tokio's `AsyncReadExt`/`AsyncWriteExt`
//!   (feature `tokio-io`), on the same runtime;
//! - `tokio::net in compat`: `tokio::net::TcpStream` inside `tokio_compat::compat`, on the same
//!   runtime (the background `ebbtide-tokio` thread sees the sockets' readiness);
//! - `tokio native`: Tokio's `current_thread` runtime and `tokio::net`, for reference.
//!
//! Each mode runs `ROUNDS` round trips after a warm-up, `RUNS` times, interleaved with the
//! others; the median run is printed, as wall time and process CPU time per round trip, with the
//! ratio to `ebbtide native`.
//!
//! ```sh
//! cargo run --release -p ebbtide-std --features tokio-io,tokio-compat --example tokio_bridge_echo
//! ```

use std::time::{Duration, Instant};

use ebbtide_std::tokio_compat::compat;

const ROUNDS: usize = 20_000;
const WARM_UP: usize = 1_000;
const RUNS: usize = 5;
const SIZE: usize = 64;

/// CPU time of the whole process (user + system), from `getrusage`.
fn process_cpu() -> Duration {
    // SAFETY: `getrusage` fills the zeroed struct it is given; `RUSAGE_SELF` is always valid.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_SELF, &mut usage), 0);
        usage
    };
    let micros = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    Duration::from_micros(micros(usage.ru_utime) + micros(usage.ru_stime))
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    EbbtideNative,
    EbbtideTokioTraits,
    TokioInCompat,
    TokioNative,
}

impl Mode {
    const ALL: [Mode; 4] = [
        Mode::EbbtideNative,
        Mode::EbbtideTokioTraits,
        Mode::TokioInCompat,
        Mode::TokioNative,
    ];

    fn name(self) -> &'static str {
        match self {
            Mode::EbbtideNative => "ebbtide native",
            Mode::EbbtideTokioTraits => "ebbtide, tokio-io traits",
            Mode::TokioInCompat => "tokio::net in compat",
            Mode::TokioNative => "tokio native (reference)",
        }
    }
}

/// One measured run: wall time and CPU time for `ROUNDS` round trips.
struct Sample {
    wall: Duration,
    cpu: Duration,
}

/// Runs `rounds` round trips on `client`, timing the last `ROUNDS` of them.
macro_rules! ping {
    ($client:expr, $read_exact:path, $write_all:path) => {{
        let client = &mut $client;
        let message = [7u8; SIZE];
        let mut reply = [0u8; SIZE];
        for _ in 0..WARM_UP {
            $write_all(client, &message).await.unwrap();
            $read_exact(client, &mut reply).await.unwrap();
        }
        let (wall, cpu) = (Instant::now(), process_cpu());
        for _ in 0..ROUNDS {
            $write_all(client, &message).await.unwrap();
            $read_exact(client, &mut reply).await.unwrap();
        }
        assert_eq!(reply, message);
        Sample {
            wall: wall.elapsed(),
            cpu: process_cpu() - cpu,
        }
    }};
}

/// Echoes on `server` until the client closes.
macro_rules! echo {
    ($server:expr, $read:path, $write_all:path) => {{
        let server = &mut $server;
        let mut buf = [0u8; 4096];
        loop {
            let n = $read(server, &mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            $write_all(server, &buf[..n]).await.unwrap();
        }
    }};
}

fn run_ebbtide(mode: Mode) -> Sample {
    use ebbtide_std::net::{TcpListener, TcpStream};
    ebbtide_std::Runtime::new().unwrap().block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        match mode {
            Mode::EbbtideNative => {
                use ebbtide_std::io::{AsyncReadExt as R, AsyncWriteExt as W};
                let server = ebbtide_std::spawn(async move {
                    let (mut stream, _) = listener.accept().await.unwrap();
                    stream.set_nodelay(true).unwrap();
                    echo!(stream, R::read, W::write_all);
                })
                .unwrap();
                let mut client = TcpStream::connect(addr).await.unwrap();
                client.set_nodelay(true).unwrap();
                let sample = ping!(client, R::read_exact, W::write_all);
                drop(client);
                server.await.unwrap();
                sample
            }
            Mode::EbbtideTokioTraits => {
                use tokio::io::{AsyncReadExt as R, AsyncWriteExt as W};
                let server = ebbtide_std::spawn(async move {
                    let (mut stream, _) = listener.accept().await.unwrap();
                    stream.set_nodelay(true).unwrap();
                    echo!(stream, R::read, W::write_all);
                })
                .unwrap();
                let mut client = TcpStream::connect(addr).await.unwrap();
                client.set_nodelay(true).unwrap();
                let sample = ping!(client, R::read_exact, W::write_all);
                drop(client);
                server.await.unwrap();
                sample
            }
            Mode::TokioInCompat => {
                drop(listener);
                run_tokio_pair(true).await
            }
            Mode::TokioNative => unreachable!(),
        }
    })
}

/// A `tokio::net` server and client; inside ebbtide through `compat` (`in_compat`), or on
/// Tokio's own runtime.
async fn run_tokio_pair(in_compat: bool) -> Sample {
    use tokio::io::{AsyncReadExt as R, AsyncWriteExt as W};
    let listener = if in_compat {
        compat(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .await
            .unwrap()
    } else {
        tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap()
    };
    let addr = listener.local_addr().unwrap();
    let server = async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        stream.set_nodelay(true).unwrap();
        echo!(stream, R::read, W::write_all);
    };
    let client = async move {
        let mut client = tokio::net::TcpStream::connect(addr).await.unwrap();
        client.set_nodelay(true).unwrap();
        ping!(client, R::read_exact, W::write_all)
    };
    if in_compat {
        let server = ebbtide_std::spawn(compat(server)).unwrap();
        let sample = compat(client).await;
        server.await.unwrap();
        sample
    } else {
        let server = tokio::spawn(server);
        let sample = client.await;
        server.await.unwrap();
        sample
    }
}

fn run(mode: Mode) -> Sample {
    match mode {
        Mode::TokioNative => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(run_tokio_pair(false)),
        _ => run_ebbtide(mode),
    }
}

fn micros_per_round(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6 / ROUNDS as f64
}

fn main() {
    let mut samples: Vec<Vec<Sample>> = Mode::ALL.iter().map(|_| Vec::new()).collect();
    for _ in 0..RUNS {
        for (i, mode) in Mode::ALL.iter().enumerate() {
            samples[i].push(run(*mode));
        }
    }
    let median = |samples: &mut Vec<Sample>| {
        samples.sort_by_key(|s| s.wall);
        let mid = &samples[samples.len() / 2];
        (micros_per_round(mid.wall), micros_per_round(mid.cpu))
    };
    let medians: Vec<(f64, f64)> = samples.iter_mut().map(median).collect();
    let (base_wall, base_cpu) = medians[0];
    println!(
        "{ROUNDS} round trips of {SIZE} bytes on loopback, median of {RUNS} runs (after {WARM_UP} warm-up)"
    );
    println!(
        "{:<26} {:>12} {:>8} {:>12} {:>8}",
        "mode", "wall µs/rt", "ratio", "CPU µs/rt", "ratio"
    );
    for (mode, (wall, cpu)) in Mode::ALL.iter().zip(&medians) {
        println!(
            "{:<26} {:>12.2} {:>7.2}x {:>12.2} {:>7.2}x",
            mode.name(),
            wall,
            wall / base_wall,
            cpu,
            cpu / base_cpu
        );
    }
}
