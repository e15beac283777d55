//! An echo server and client over TCP and UDP.
//!
//! ```text
//! echo serve --tcp 127.0.0.1:7000        # echo every byte back, a task per connection
//! echo serve --udp 127.0.0.1:7000        # send every datagram back to where it came from
//! echo client --tcp 127.0.0.1:7000       # send stdin line by line, print each echo
//! echo client --udp 127.0.0.1:7000       # the same, one datagram per line
//! ```
//!
//! The TCP server runs one task per connection through [`crate::serve::accept_loop`] (a full
//! task pool refuses that connection; accept errors back off), each copying what it reads back
//! through a [`TCP_BUFFER`]-byte buffer inside its task slot: no allocation per connection. The
//! UDP server is one task with one datagram buffer.
//!
//! # Examples
//!
//! ```
//! use ebbtide_examples::echo_service::{serve_tcp, serve_udp, TcpClient, UdpClient};
//! use ebbtide_std::net::{TcpListener, UdpSocket};
//! use ebbtide_std::time::Duration;
//!
//! ebbtide_std::Runtime::new().unwrap().block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let tcp_addr = listener.local_addr().unwrap();
//!     ebbtide_std::spawn(serve_tcp(listener)).unwrap();
//!     let mut client = TcpClient::connect(tcp_addr).await.unwrap();
//!     assert_eq!(client.echo_line(b"ping").await.unwrap(), b"ping");
//!
//!     let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
//!     let udp_addr = socket.local_addr().unwrap();
//!     ebbtide_std::spawn(serve_udp(socket)).unwrap();
//!     let client = UdpClient::connect(udp_addr).await.unwrap();
//!     let reply = client.echo(b"pong", Duration::from_secs(1)).await.unwrap();
//!     assert_eq!(reply, b"pong");
//! });
//! ```

use std::convert::Infallible;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use ebbtide_std::io::{copy, AsyncBufReadExt, AsyncWriteExt, BufReader, ReadUntilError};
use ebbtide_std::net::{OwnedReadHalf, OwnedWriteHalf, TcpListener, TcpStream, UdpSocket};
use ebbtide_std::time::{sleep, timeout, Duration};

use crate::cli::{Flags, Parsed};
use crate::serve::{accept_loop, MAX_BACKOFF, MIN_BACKOFF};

/// The echo program's `--help`.
pub const USAGE: &str = "\
Usage: echo serve (--tcp | --udp) HOST:PORT [--workers N] [--hand-off]
       echo client (--tcp | --udp) HOST:PORT

serve   echo every byte of every TCP connection back (a task per connection),
        or every UDP datagram back to its sender
client  read lines from stdin, send each to the server (one datagram per line
        over UDP) and print the echo

Options:
  --tcp HOST:PORT    use TCP at this address
  --udp HOST:PORT    use UDP at this address
  --workers N        serve on N worker threads (default: every CPU), each with a
                     socket of its own on the address (SO_REUSEPORT): the
                     kernel spreads TCP connections (or UDP peers) over them,
                     and each connection stays on the worker that accepted it
  --hand-off         (TCP) accept on one listener and hand each connection to
                     the workers in turn, instead of a listener per worker
  -h, --help         print this help
";

/// The copy buffer of each TCP connection's task (small, so the task fits a 1 KiB slot).
pub const TCP_BUFFER: usize = 512;
/// The longest line the TCP client sends and reads back at once.
pub const MAX_LINE: usize = 4096;
/// The largest datagram the UDP server echoes whole (longer ones are cut to this).
pub const MAX_DATAGRAM: usize = 64 * 1024;

/// Which transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// A byte stream: echoed byte for byte.
    Tcp,
    /// Datagrams: each echoed to its sender.
    Udp,
}

/// What the command line asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// `echo serve`.
    Serve(Transport, SocketAddr),
    /// `echo client`.
    Client(Transport, SocketAddr),
}

impl Command {
    /// Parses the command line (without the program name); see [`Args::from_args`] for
    /// `--workers` too.
    ///
    /// # Errors
    ///
    /// [`Parsed::Help`] for `--help`; [`Parsed::Error`] for a bad command line.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_examples::echo_service::{Command, Transport};
    ///
    /// let args = ["serve", "--udp", "127.0.0.1:7"].map(String::from);
    /// let command = Command::from_args(args).unwrap();
    /// assert_eq!(command, Command::Serve(Transport::Udp, "127.0.0.1:7".parse().unwrap()));
    /// ```
    pub fn from_args(args: impl IntoIterator<Item = String>) -> Result<Command, Parsed> {
        Args::from_args(args).map(|args| args.command)
    }
}

/// The whole command line: the command and how many workers serve it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Args {
    /// What to do.
    pub command: Command,
    /// `--workers N` (`serve` only): the runtime's worker threads, each with a `SO_REUSEPORT`
    /// listener (or UDP socket) on the address. Every CPU by default
    /// ([`default_workers`](crate::cli::default_workers)); 1 for the other commands.
    pub workers: usize,
    /// `--hand-off` (`serve --tcp` only): one listener on worker 0, whose accept loop hands
    /// each connection to the workers in turn ([`crate::serve::hand_off_loop`]), instead of a
    /// listener per worker. There to measure the two against each other.
    pub hand_off: bool,
}

impl Args {
    /// Parses the command line (without the program name).
    ///
    /// # Errors
    ///
    /// [`Parsed::Help`] for `--help`; [`Parsed::Error`] for a bad command line, a `--workers`
    /// that is not a whole number from 1, or one given to `client`.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_examples::echo_service::{Args, Command, Transport};
    ///
    /// let args = ["serve", "--tcp", "127.0.0.1:7", "--workers", "2"].map(String::from);
    /// let args = Args::from_args(args).unwrap();
    /// assert_eq!(args.command, Command::Serve(Transport::Tcp, "127.0.0.1:7".parse().unwrap()));
    /// assert_eq!(args.workers, 2);
    /// ```
    pub fn from_args(args: impl IntoIterator<Item = String>) -> Result<Args, Parsed> {
        let mut flags = Flags::new(args);
        let serve = match flags.next_word().as_deref() {
            Some("serve") => true,
            Some("client") => false,
            Some("--help" | "-h") => return Err(Parsed::Help),
            Some(other) => {
                return Err(Parsed::Error(format!(
                    "unknown command `{other}` (expected `serve` or `client`)"
                )))
            }
            None => return Err(Parsed::Error("expected `serve` or `client`".into())),
        };
        let mut chosen = None;
        let mut workers = None;
        let mut hand_off = false;
        while let Some(flag) = flags.next_flag()? {
            if flag == "--workers" {
                workers = Some(flags.count(&flag)?);
                continue;
            }
            if flag == "--hand-off" {
                hand_off = true;
                continue;
            }
            let transport = match flag.as_str() {
                "--tcp" => Transport::Tcp,
                "--udp" => Transport::Udp,
                _ => return Err(Parsed::Error(format!("unknown option `{flag}`"))),
            };
            if chosen.is_some() {
                return Err(Parsed::Error("give one of --tcp and --udp, once".into()));
            }
            chosen = Some((transport, flags.addr(&flag)?));
        }
        let (transport, addr) =
            chosen.ok_or_else(|| Parsed::Error("--tcp ADDR or --udp ADDR is required".into()))?;
        if workers.is_some() && !serve {
            return Err(Parsed::Error("--workers applies to `serve` only".into()));
        }
        if hand_off && !(serve && transport == Transport::Tcp) {
            return Err(Parsed::Error(
                "--hand-off applies to `serve --tcp` only".into(),
            ));
        }
        let command = if serve {
            Command::Serve(transport, addr)
        } else {
            Command::Client(transport, addr)
        };
        Ok(Args {
            command,
            workers: workers.unwrap_or(if serve {
                crate::cli::default_workers()
            } else {
                1
            }),
            hand_off,
        })
    }
}

/// Serves TCP echo on `listener` forever: a task per connection.
///
/// # Cancel safety
///
/// Dropping the future stops accepting; connections already accepted go on.
pub async fn serve_tcp(listener: TcpListener) -> Infallible {
    accept_loop(&listener, "echo", |stream, peer| async move {
        if let Err(error) = echo_connection(stream).await {
            eprintln!("echo: {peer}: {error}");
        }
    })
    .await
}

/// Echoes one TCP connection until the client shuts its write side, then shuts ours; returns
/// the bytes echoed.
///
/// # Errors
///
/// The connection's error (a reset, ...).
pub async fn echo_connection(mut stream: TcpStream) -> io::Result<u64> {
    let (mut rx, mut tx) = stream.split();
    let mut buf = [0u8; TCP_BUFFER];
    let echoed = copy(&mut rx, &mut tx, &mut buf).await?;
    AsyncWriteExt::shutdown(&mut tx).await?;
    Ok(echoed)
}

/// Serves UDP echo on `socket` forever: every datagram goes back to its sender.
///
/// Errors of one datagram (a send to a vanished peer, ...) are logged and followed by a short
/// sleep, growing while they continue, as the TCP accept loop does.
pub async fn serve_udp(socket: UdpSocket) -> Infallible {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let mut backoff = MIN_BACKOFF;
    loop {
        let result = match socket.recv_from(&mut buf).await {
            Ok((n, peer)) => socket.send_to(&buf[..n], peer).await.map(drop),
            Err(error) => Err(error),
        };
        match result {
            Ok(()) => backoff = MIN_BACKOFF,
            Err(error) => {
                eprintln!("echo: udp: {error}; going on in {backoff:?}");
                sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// A line-by-line TCP echo client.
#[derive(Debug)]
pub struct TcpClient {
    reader: BufReader<OwnedReadHalf, MAX_LINE>,
    writer: OwnedWriteHalf,
}

impl TcpClient {
    /// Connects to an echo server.
    ///
    /// # Errors
    ///
    /// The connection's error.
    pub async fn connect(addr: SocketAddr) -> io::Result<TcpClient> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (reader, writer) = stream.into_split();
        Ok(TcpClient {
            reader: BufReader::new(reader),
            writer,
        })
    }

    /// Sends `line` and a `\n`, and returns the echo without its `\n`.
    ///
    /// # Errors
    ///
    /// The connection's error; [`io::ErrorKind::InvalidInput`] for a line with a `\n` inside or
    /// longer than [`MAX_LINE`]` - 1`; [`io::ErrorKind::UnexpectedEof`] if the server closes
    /// before echoing the whole line.
    pub async fn echo_line(&mut self, line: &[u8]) -> io::Result<Vec<u8>> {
        if line.contains(&b'\n') || line.len() >= MAX_LINE {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a line must be shorter than MAX_LINE and have no newline inside",
            ));
        }
        self.writer.write_all(line).await?;
        self.writer.write_all(b"\n").await?;
        let mut reply = heapless::Vec::<u8, MAX_LINE>::new();
        match self.reader.read_line(&mut reply).await {
            Ok(_) if reply.last() == Some(&b'\n') => Ok(reply[..reply.len() - 1].to_vec()),
            Ok(_) => Err(io::ErrorKind::UnexpectedEof.into()),
            Err(ReadUntilError::TooLong) => {
                Err(io::Error::other("the echo is longer than the line"))
            }
            Err(ReadUntilError::Other(error)) => Err(error),
        }
    }

    /// Shuts the write side (the server then closes its side).
    ///
    /// # Errors
    ///
    /// The connection's error.
    pub async fn shutdown(&mut self) -> io::Result<()> {
        AsyncWriteExt::shutdown(&mut self.writer).await
    }
}

/// A UDP echo client: a socket connected to the server.
#[derive(Debug)]
pub struct UdpClient {
    socket: UdpSocket,
}

impl UdpClient {
    /// Binds an ephemeral port (of `server`'s address family) and connects it to `server`.
    ///
    /// # Errors
    ///
    /// The socket's error.
    pub async fn connect(server: SocketAddr) -> io::Result<UdpClient> {
        let local: SocketAddr = if server.is_ipv4() {
            (Ipv4Addr::UNSPECIFIED, 0).into()
        } else {
            (Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let socket = UdpSocket::bind(local).await?;
        socket.connect(server).await?;
        Ok(UdpClient { socket })
    }

    /// Sends `datagram` and returns the first reply, waiting at most `limit` for it.
    ///
    /// # Errors
    ///
    /// The socket's error ([`io::ErrorKind::ConnectionRefused`] when nothing listens at the
    /// server's port); [`io::ErrorKind::TimedOut`] if no reply came in time (UDP may lose it).
    pub async fn echo(&self, datagram: &[u8], limit: Duration) -> io::Result<Vec<u8>> {
        self.socket.send(datagram).await?;
        let mut buf = vec![0u8; MAX_DATAGRAM];
        match timeout(limit, self.socket.recv(&mut buf)).await {
            Ok(n) => {
                buf.truncate(n?);
                Ok(buf)
            }
            Err(_elapsed) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "no echo came back in time",
            )),
        }
    }
}
