//! A line-based chat server over TCP: every line a client sends goes to every other client,
//! prefixed with the sender's name.
//!
//! ```text
//! chat --addr 127.0.0.1:7000 [--write-timeout 5000]
//! ```
//!
//! Talk to it with any line-based client (`nc 127.0.0.1 7000`). A client is greeted with
//! `*** welcome, you are userN`, the others see `*** userN joined`, then `userN: text` for each
//! of its lines, and `*** userN left` when it goes.
//!
//! # How it works
//!
//! The clients share one [`broadcast`] channel, a ring of the last [`RING`] messages: sending
//! never waits and never allocates a slot, so **memory does not grow** however slow a client is.
//! Each client has one task, which waits for whichever comes first: a line from its socket (sent
//! to the channel) or a message from the channel (written to its socket). So:
//!
//! - a client that reads slowly falls behind in the ring; when it catches up it is told
//!   `*** you missed N messages` ([`RecvError::Lagged`]) and goes on with the oldest message
//!   still there;
//! - a client that stops reading altogether fills its socket buffers; once one write has waited
//!   longer than the write timeout, it is disconnected (`*** userN was dropped: too slow`). The
//!   others never wait for it.
//!
//! One task per client through [`crate::serve::accept_loop`]: a full task pool refuses that
//! client and keeps serving the others; accept errors back off. A line longer than
//! [`MAX_LINE`] bytes goes out as several messages.
//!
//! # Examples
//!
//! ```
//! use ebbtide_std::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
//! use ebbtide_std::net::{TcpListener, TcpStream};
//! use ebbtide_examples::chat::{self, Config};
//!
//! async fn line(reader: &mut BufReader<TcpStream, 256>) -> String {
//!     let mut line = heapless::Vec::<u8, 256>::new();
//!     reader.read_line(&mut line).await.unwrap();
//!     String::from_utf8(line.to_vec()).unwrap()
//! }
//!
//! ebbtide_std::Runtime::new().unwrap().block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     ebbtide_std::spawn(chat::run(listener, chat::new_room(), Config::new(addr))).unwrap();
//!
//!     let mut alice = BufReader::<_, 256>::new(TcpStream::connect(addr).await.unwrap());
//!     assert_eq!(line(&mut alice).await, "*** welcome, you are user1\n");
//!     let mut bob = BufReader::<_, 256>::new(TcpStream::connect(addr).await.unwrap());
//!     assert_eq!(line(&mut bob).await, "*** welcome, you are user2\n");
//!     assert_eq!(line(&mut alice).await, "*** user2 joined\n");
//!
//!     bob.get_mut().write_all(b"hi all\n").await.unwrap();
//!     assert_eq!(line(&mut alice).await, "user2: hi all\n");
//! });
//! ```

use std::convert::Infallible;
use std::io;
use std::sync::Arc;

use ebbtide_std::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, ReadUntilError};
use ebbtide_std::net::{OwnedWriteHalf, TcpListener, TcpStream};
use ebbtide_std::sync::broadcast::{self, RecvError};
use ebbtide_std::time::{timeout, Duration};

use crate::cli::{Flags, Parsed};
use crate::serve::accept_loop;

/// The chat program's `--help`.
pub const USAGE: &str = "\
Usage: chat --addr HOST:PORT [--write-timeout MS] [--workers N]

A line-based chat server: every line a client sends goes to every other client,
prefixed with the sender's name. Clients that fall behind are told how many
messages they missed; a client whose socket takes no data for the write timeout
is disconnected.

Options:
  --addr HOST:PORT      where to accept clients
  --write-timeout MS    drop a client that cannot take a message for MS ms (default 5000)
  --workers N           serve on N worker threads (default: every CPU), each with a
                        listener of its own on the address (SO_REUSEPORT); clients
                        on every worker share the one room
  -h, --help            print this help
";

/// How many messages the room keeps for clients that are behind.
pub const RING: usize = 64;
/// The longest line sent as one message (longer lines are split).
pub const MAX_LINE: usize = 512;
/// How long a write to a client may wait by default before the client is dropped.
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// One message of the room: a whole line, ready to write, and who it came from (it is not sent
/// back to them).
///
/// Cloning is cheap (a reference count), as the broadcast channel wants.
#[derive(Debug, Clone)]
pub struct Message {
    from: u64,
    line: Arc<[u8]>,
}

impl Message {
    fn new(from: u64, line: impl Into<Vec<u8>>) -> Message {
        Message {
            from,
            line: line.into().into(),
        }
    }
}

/// The channel the clients of one server share.
pub type Room = broadcast::Channel<Message, RING>;

/// A new room, leaked: the tasks of its clients borrow it for `'static`. One per server (a few
/// KiB); a program with one server can use a `static ROOM: Room = Room::new();` instead.
pub fn new_room() -> &'static Room {
    Box::leak(Box::new(Room::new()))
}

/// What the server does: from its command line, or built in code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// Where clients connect.
    pub addr: std::net::SocketAddr,
    /// How long one write to a client may wait before the client is dropped.
    pub write_timeout: Duration,
    /// How many worker threads serve (`--workers`; every CPU by default, see
    /// [`default_workers`](crate::cli::default_workers)), each accepting on a `SO_REUSEPORT`
    /// listener of its own ([`crate::serve::bind_on_workers`]). Read by the `chat` binary;
    /// [`run`] serves the one listener it is given.
    pub workers: usize,
}

impl Config {
    /// A server on `addr` with the default write timeout, on one worker.
    pub fn new(addr: std::net::SocketAddr) -> Config {
        Config {
            addr,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
            workers: 1,
        }
    }

    /// Parses the command line (without the program name).
    ///
    /// # Errors
    ///
    /// [`Parsed::Help`] for `--help`; [`Parsed::Error`] for a bad or missing flag.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_examples::chat::Config;
    ///
    /// let config = Config::from_args(["--addr", "127.0.0.1:7000"].map(String::from)).unwrap();
    /// assert_eq!(config.addr.port(), 7000);
    /// assert_eq!(config.workers, ebbtide_examples::cli::default_workers());
    /// ```
    pub fn from_args(args: impl IntoIterator<Item = String>) -> Result<Config, Parsed> {
        let mut flags = Flags::new(args);
        let mut addr = None;
        let mut write_timeout = DEFAULT_WRITE_TIMEOUT;
        let mut workers = crate::cli::default_workers();
        while let Some(flag) = flags.next_flag()? {
            match flag.as_str() {
                "--addr" => addr = Some(flags.addr(&flag)?),
                "--write-timeout" => write_timeout = flags.millis(&flag)?,
                "--workers" => workers = flags.count(&flag)?,
                _ => return Err(Parsed::Error(format!("unknown option `{flag}`"))),
            }
        }
        let addr = addr.ok_or_else(|| Parsed::Error("--addr is required".into()))?;
        Ok(Config {
            addr,
            write_timeout,
            workers,
        })
    }
}

/// Serves the chat on `listener` (bound to `config.addr` or anywhere else) forever, through
/// `room`.
///
/// # Cancel safety
///
/// Dropping the future stops accepting; connected clients go on chatting.
pub async fn run(listener: TcpListener, room: &'static Room, config: Config) -> Infallible {
    // Holding a sender keeps the room open while the server runs.
    let sender = room.sender();
    accept_loop(&listener, "chat", move |stream, _peer| {
        // One count for every accept loop of the process (one per worker): a client's id is
        // how the room knows not to send its lines back to it, so two clients never share one.
        let id = NEXT_CLIENT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        client(stream, id, sender.clone(), config.write_timeout)
    })
    .await
}

/// The id of the next client to connect, across all the servers of the process (ids from 1).
static NEXT_CLIENT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// Why a client's task ended, as the others are told.
enum Leaving {
    Left,
    TooSlow,
    Failed(io::Error),
}

/// One client's task: lines from the socket go to the room, messages from the room to the
/// socket.
async fn client(
    stream: TcpStream,
    id: u64,
    room: broadcast::SplitSender<'static, Message, RING>,
    write_timeout: Duration,
) {
    let mut messages = room.subscribe();
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::<_, MAX_LINE>::new(reader);
    let welcome = format!("*** welcome, you are user{id}\n");
    if write_line(&mut writer, welcome.as_bytes(), write_timeout)
        .await
        .is_err()
    {
        return;
    }
    let _ = room.send(Message::new(id, format!("*** user{id} joined\n")));

    let mut line = heapless::Vec::<u8, MAX_LINE>::new();
    let leaving = loop {
        ebbtide_std::select! {
            read = reader.read_line(&mut line) => match read {
                Ok(0) => break Leaving::Left,
                // A whole line, the last piece before end of stream, or a piece of a long line.
                Ok(_) | Err(ReadUntilError::TooLong) => {
                    let _ = room.send(Message::new(id, chat_line(id, &line)));
                    line.clear();
                }
                Err(ReadUntilError::Other(error)) => break Leaving::Failed(error),
            },
            message = messages.recv() => {
                let written = match message {
                    Ok(message) if message.from == id => Ok(()),
                    Ok(message) => write_line(&mut writer, &message.line, write_timeout).await,
                    Err(RecvError::Lagged(missed)) => {
                        let notice = format!("*** you missed {missed} messages\n");
                        write_line(&mut writer, notice.as_bytes(), write_timeout).await
                    }
                    // Only once the server is gone.
                    Err(RecvError::Closed) => break Leaving::Left,
                };
                if let Err(leaving) = written {
                    break leaving;
                }
            },
        }
    };
    let farewell = match leaving {
        Leaving::Left => format!("*** user{id} left\n"),
        Leaving::TooSlow => format!("*** user{id} was dropped: too slow\n"),
        Leaving::Failed(error) => format!("*** user{id} left ({error})\n"),
    };
    let _ = room.send(Message::new(id, farewell));
}

/// The message the others get for `line` (what one `read_line` gave: a whole line, the last
/// piece before end of stream, or a piece of a long line) from client `id`: `userN: text\n`,
/// the text without its trailing whitespace (`\r\n` included), invalid UTF-8 replaced.
fn chat_line(id: u64, line: &[u8]) -> String {
    let text = String::from_utf8_lossy(line.trim_ascii_end());
    format!("user{id}: {text}\n")
}

/// **For the `chat_line` fuzz target in `fuzz/` only; not a stable API.** Built only with the
/// `fuzzing` feature.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing {
    use core::pin::Pin;
    use core::task::{Context, Poll};

    use ebbtide_std::io::{AsyncBufReadExt, BufReader, ErrorKind, ErrorType, ReadUntilError};

    use super::MAX_LINE;

    /// Bytes handed out in reads of the given sizes (cycled; `0` counts as 1), then end of
    /// stream: a socket that delivers a client's bytes in arbitrary pieces.
    struct Pieces<'a> {
        bytes: &'a [u8],
        sizes: &'a [u8],
        next: usize,
    }

    impl ErrorType for Pieces<'_> {
        type Error = ErrorKind;
    }

    impl ebbtide_std::io::AsyncRead for Pieces<'_> {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<Result<usize, ErrorKind>> {
            let size = match self.sizes {
                [] => usize::MAX,
                sizes => usize::from(sizes[self.next % sizes.len()].max(1)),
            };
            self.next += 1;
            let n = buf.len().min(self.bytes.len()).min(size);
            buf[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Poll::Ready(Ok(n))
        }
    }

    /// What a chat client's task makes of `input` sent by client `id`, read in pieces of
    /// `sizes`: for each `read_line`, the raw bytes it gave and the message sent to the room, as
    /// in the client's task (the same reader, line buffer and [`chat_line`](super::chat_line)).
    pub fn messages(id: u64, input: &[u8], sizes: &[u8]) -> Vec<(Vec<u8>, String)> {
        let mut reader = BufReader::<_, MAX_LINE>::new(Pieces {
            bytes: input,
            sizes,
            next: 0,
        });
        let mut line = heapless::Vec::<u8, MAX_LINE>::new();
        let mut out = Vec::new();
        ebbtide_core::block_on(async {
            loop {
                match reader.read_line(&mut line).await {
                    Ok(0) => break,
                    Ok(_) | Err(ReadUntilError::TooLong) => {
                        out.push((line.to_vec(), super::chat_line(id, &line)));
                        line.clear();
                    }
                    Err(ReadUntilError::Other(error)) => {
                        panic!("an in-memory read failed: {error:?}")
                    }
                }
            }
        });
        out
    }
}

/// Writes one line to a client, giving up after `limit`.
async fn write_line(
    writer: &mut OwnedWriteHalf,
    line: &[u8],
    limit: Duration,
) -> Result<(), Leaving> {
    match timeout(limit, writer.write_all(line)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(Leaving::Failed(error.into())),
        Err(_elapsed) => Err(Leaving::TooSlow),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client's task takes a 4 KiB slot (see `SLOT_SIZES`), as `bin/chat.rs` says.
    #[test]
    fn a_client_task_takes_a_four_kib_slot() {
        fn size_of_future<F: std::future::Future>(_: &F) -> usize {
            std::mem::size_of::<F>()
        }
        ebbtide_std::Runtime::new().unwrap().block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let stream = TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            let room = new_room();
            let size = size_of_future(&client(stream, 1, room.sender(), Duration::from_secs(1)));
            println!("a chat client's task takes {size} bytes");
            assert!(size > 1024 && size <= 4096, "{size} bytes");
        });
    }
}
