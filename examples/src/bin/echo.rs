//! An echo server and client over TCP and UDP on ebbtide-std; see
//! [`ebbtide_examples::echo_service`].
//!
//! ```text
//! cargo run -p ebbtide-examples --bin echo -- serve --tcp 127.0.0.1:7000
//! cargo run -p ebbtide-examples --bin echo -- client --tcp 127.0.0.1:7000
//! cargo run -p ebbtide-examples --bin echo -- serve --tcp 127.0.0.1:7000 --workers 2
//! ```
//!
//! With `--workers N` (every CPU by default when serving) the runtime has N worker threads, and
//! each accepts on a `SO_REUSEPORT` listener of its own
//! ([`ebbtide_examples::serve::bind_on_workers`]), or, for UDP, receives on a `SO_REUSEPORT`
//! socket of its own ([`ebbtide_examples::serve::bind_udp_on_workers`]).

use std::io::{BufRead, Write};
use std::process::ExitCode;

use ebbtide_examples::cli;
use ebbtide_examples::echo_service::{
    echo_connection, serve_tcp, serve_udp, Args, Command, TcpClient, Transport, UdpClient, USAGE,
};
use ebbtide_examples::serve::{bind_on_workers, bind_udp_on_workers, hand_off_loop};
use ebbtide_std::net::TcpListener;
use ebbtide_std::time::Duration;
use ebbtide_std::{Handle, Runtime};

/// How long the UDP client waits for each echo.
const UDP_REPLY_TIMEOUT: Duration = Duration::from_secs(2);

fn main() -> ExitCode {
    let args = match Args::from_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(stopped) => return cli::finish("echo", stopped, USAGE),
    };
    if let Err(error) = cli::raise_fd_limit() {
        eprintln!("echo: cannot raise the limit of open files: {error}");
    }
    // Task memory grows as connections come; the IO table is reserved: make it roomy.
    let runtime = match Runtime::builder()
        .io_capacity(cli::DEFAULT_IO_CAPACITY)
        .worker_threads(args.workers)
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("echo: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let handle = runtime.handle();
    match runtime.block_on(run(args, &handle)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("echo: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args, handle: &Handle) -> std::io::Result<()> {
    match args.command {
        Command::Serve(Transport::Tcp, addr) if args.hand_off => {
            let listener = TcpListener::bind(addr).await?;
            eprintln!(
                "echo: serving TCP on {} ({} workers, one listener handing off)",
                listener.local_addr()?,
                args.workers
            );
            let echo = |stream, peer| async move {
                if let Err(error) = echo_connection(stream).await {
                    eprintln!("echo: {peer}: {error}");
                }
            };
            match hand_off_loop(&listener, handle, args.workers, "echo", echo).await {}
        }
        Command::Serve(Transport::Tcp, addr) => {
            let listener = bind_on_workers(handle, args.workers, addr, serve_tcp).await?;
            let addr = listener.local_addr()?;
            if args.workers > 1 {
                eprintln!(
                    "echo: serving TCP on {addr} ({} workers, a listener on each)",
                    args.workers
                );
            } else {
                eprintln!("echo: serving TCP on {addr}");
            }
            match serve_tcp(listener).await {}
        }
        Command::Serve(Transport::Udp, addr) => {
            let socket = bind_udp_on_workers(handle, args.workers, addr, serve_udp).await?;
            let addr = socket.local_addr()?;
            if args.workers > 1 {
                eprintln!(
                    "echo: serving UDP on {addr} ({} workers, a socket on each)",
                    args.workers
                );
            } else {
                eprintln!("echo: serving UDP on {addr}");
            }
            match serve_udp(socket).await {}
        }
        Command::Client(Transport::Tcp, addr) => {
            let mut client = TcpClient::connect(addr).await?;
            while let Some(line) = read_stdin_line().await? {
                print_line(&client.echo_line(line.as_bytes()).await?)?;
            }
            client.shutdown().await
        }
        Command::Client(Transport::Udp, addr) => {
            let client = UdpClient::connect(addr).await?;
            while let Some(line) = read_stdin_line().await? {
                print_line(&client.echo(line.as_bytes(), UDP_REPLY_TIMEOUT).await?)?;
            }
            Ok(())
        }
    }
}

/// The next line of stdin without its line end, `None` at its end. Stdin is read on the
/// blocking pool, so the runtime's thread never waits for the terminal.
async fn read_stdin_line() -> std::io::Result<Option<String>> {
    let read = ebbtide_std::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map(|n| (n, line))
    });
    let (n, mut line) = read
        .await
        .map_err(|error| std::io::Error::other(error.to_string()))??;
    if n == 0 {
        return Ok(None);
    }
    let end = line.trim_end_matches(['\n', '\r']).len();
    line.truncate(end);
    Ok(Some(line))
}

fn print_line(bytes: &[u8]) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(bytes)?;
    stdout.write_all(b"\n")?;
    stdout.flush()
}
