//! An echo server and client over TCP and UDP on ebbtide-std; see
//! [`ebbtide_examples::echo_service`].
//!
//! ```text
//! cargo run -p ebbtide-examples --bin echo -- serve --tcp 127.0.0.1:7000
//! cargo run -p ebbtide-examples --bin echo -- client --tcp 127.0.0.1:7000
//! ```

use std::io::{BufRead, Write};
use std::process::ExitCode;

use ebbtide_examples::cli;
use ebbtide_examples::echo_service::{
    serve_tcp, serve_udp, Command, TcpClient, Transport, UdpClient, USAGE,
};
use ebbtide_std::net::{TcpListener, UdpSocket};
use ebbtide_std::time::Duration;

/// How long the UDP client waits for each echo.
const UDP_REPLY_TIMEOUT: Duration = Duration::from_secs(2);

#[ebbtide_std::main]
async fn main() -> ExitCode {
    let command = match Command::from_args(std::env::args().skip(1)) {
        Ok(command) => command,
        Err(stopped) => return cli::finish("echo", stopped, USAGE),
    };
    match run(command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("echo: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> std::io::Result<()> {
    match command {
        Command::Serve(Transport::Tcp, addr) => {
            let listener = TcpListener::bind(addr).await?;
            eprintln!("echo: serving TCP on {}", listener.local_addr()?);
            match serve_tcp(listener).await {}
        }
        Command::Serve(Transport::Udp, addr) => {
            let socket = UdpSocket::bind(addr).await?;
            eprintln!("echo: serving UDP on {}", socket.local_addr()?);
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
