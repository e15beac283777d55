//! One source, two platforms: a TCP echo server that builds for Linux (on ebbtide-std) and for
//! WASI (on ebbtide-wasi). The only difference, how the listening socket is obtained, is hidden in
//! [`listen`].
//!
//! Native (binds the address):
//!
//! ```text
//! cargo run -p ebbtide-wasi --example portable_echo -- --addr 127.0.0.1:7000
//! ```
//!
//! WASI (the host binds it and hands the socket over as fd 3; needs wasmtime 46 with its legacy
//! preview 1 host):
//!
//! ```text
//! cargo build -p ebbtide-wasi --example portable_echo --target wasm32-wasip1
//! .tools/wasmtime-46.0.3/bin/wasmtime run -S preview2=n -S tcplisten=127.0.0.1:7000 \
//!     --env LISTEN_FDS=1 target/wasm32-wasip1/debug/examples/portable_echo.wasm
//! ```
//!
//! Then `nc 127.0.0.1 7000` and type. `--connections N` makes the server exit after serving N
//! connections (for tests). Each connection runs in its own task; a ticker task logs to stderr
//! every second how many connections were served, showing timers and sockets share one wait.
//!
//! (It lives in ebbtide-wasi's examples rather than in ebbtide-examples because that package's
//! library builds on ebbtide-std only.)

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};

#[cfg(not(target_os = "wasi"))]
use ebbtide_std as rt;
#[cfg(target_os = "wasi")]
use ebbtide_wasi as rt;

use rt::io::{AsyncReadExt, AsyncWriteExt};
use rt::net::{TcpListener, TcpStream};
use rt::time::{interval, Duration};

/// Connections served so far.
static SERVED: AtomicUsize = AtomicUsize::new(0);

/// The listening socket: bound here on an OS, preopened by the host on WASI (where `addr` only
/// names what the host was told with `-S tcplisten=`).
#[cfg(not(target_os = "wasi"))]
async fn listen(addr: &str) -> io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

/// The listening socket: bound here on an OS, preopened by the host on WASI (where `addr` only
/// names what the host was told with `-S tcplisten=`).
#[cfg(target_os = "wasi")]
async fn listen(addr: &str) -> io::Result<TcpListener> {
    eprintln!("portable_echo: on WASI the host chose the address (-S tcplisten), not {addr}");
    TcpListener::from_preopened()
}

/// Echoes everything the peer sends until it closes its side.
async fn echo(mut stream: TcpStream) -> io::Result<u64> {
    let mut buf = [0u8; 1024];
    let mut total = 0;
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            AsyncWriteExt::shutdown(&mut stream).await?;
            return Ok(total);
        }
        stream.write_all(&buf[..n]).await?;
        total += n as u64;
    }
}

async fn serve(addr: String, connections: Option<usize>) -> io::Result<()> {
    let listener = listen(&addr).await?;
    eprintln!("portable_echo: listening");
    let ticker = rt::spawn(async {
        let mut every = interval(Duration::from_secs(1));
        every.tick().await;
        loop {
            every.tick().await;
            eprintln!(
                "portable_echo: {} connections served",
                SERVED.load(Ordering::Relaxed)
            );
        }
    })
    .map_err(io::Error::other)?;
    let mut accepted = 0;
    while connections.is_none_or(|max| accepted < max) {
        let (stream, peer) = listener.accept().await?;
        accepted += 1;
        eprintln!("portable_echo: connection {accepted} from {peer:?}");
        let task = rt::spawn(async move {
            match echo(stream).await {
                Ok(bytes) => eprintln!("portable_echo: connection {accepted}: {bytes} bytes"),
                Err(e) => eprintln!("portable_echo: connection {accepted}: {e}"),
            }
            SERVED.fetch_add(1, Ordering::Relaxed);
        });
        if let Err(e) = task {
            eprintln!("portable_echo: connection {accepted} dropped: {e}");
        }
    }
    // Let the last connections finish before exiting.
    while SERVED.load(Ordering::Relaxed) < accepted {
        rt::time::sleep(Duration::from_millis(5)).await;
    }
    ticker.abort();
    Ok(())
}

fn main() -> io::Result<()> {
    let mut addr = String::from("127.0.0.1:7000");
    let mut connections = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--addr", Some(value)) => addr = value,
            ("--connections", Some(value)) => {
                connections = Some(value.parse().map_err(io::Error::other)?)
            }
            _ => {
                eprintln!("usage: portable_echo [--addr HOST:PORT] [--connections N]");
                std::process::exit(2);
            }
        }
    }
    let runtime = rt::Runtime::new()?;
    runtime.block_on(serve(addr, connections))
}
