//! stdin (read after the reactor saw it readable), stdout and stderr (written at once).

use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use ebbtide_core::io::{AsyncRead, AsyncWrite, ErrorType};

use crate::reactor::{Direction, Registration};
use crate::sys;

const STDIN: sys::Fd = 0;
const STDOUT: sys::Fd = 1;
const STDERR: sys::Fd = 2;

/// The program's standard input, read without blocking the runtime.
///
/// On WASI hosts `fd_read` on stdin blocks, and stdin cannot be made non-blocking
/// (`fd_fdstat_set_flags` answers `BADF`). So `Stdin` asks the runtime's reactor to wait for
/// stdin to be readable (an `FD_READ` subscription in the runtime's `poll_oneoff`), and only then
/// calls `fd_read`, which returns at once with what is there. Other tasks and timers run while it
/// waits. Wrap it in a [`BufReader`](crate::io::BufReader) to read lines.
///
/// # Hosts
///
/// What stdin is decides how it is read:
///
/// - **A pipe or a terminal** is waited for as above. Measured: wasmtime 46 (its default host and
///   the legacy `-S preview2=n` one), the newest wasmtime and Node keep running timers while a
///   program waits for input (`examples/stdin_lines.rs` ticks every 20 ms, 50 ticks in a second
///   of waiting, with a pipe and with a pseudo-terminal).
/// - **A regular file** (`app.wasm < input.txt`) is never waited for: its reads do not block,
///   and Node refuses to poll it.
/// - **Anything a host refuses to poll** (Node answers `PERM` for `/dev/null`) is read as
///   always ready from then on: the reads return data, end of input, or the host's error as an
///   `io::Error` to the task that reads, never a panic of the runtime.
/// - **wasmtime 46's legacy host with stdin from `/dev/null`** (or another character device
///   that is no terminal) cannot work: that host's own `poll_oneoff` fails on it ("Inappropriate
///   ioctl for device") and ends the program with a trap, and to the program such a stdin looks
///   the same as a pipe (file type unknown). Run stdin-reading programs on the default host
///   (`wasmtime run` without `-S preview2=n`), or give the legacy host an empty pipe instead:
///   `true | wasmtime run -S preview2=n app.wasm`.
///
/// `Stdin` registers with the running runtime on its first read; it is not buffered, so use one
/// `BufReader` over one `Stdin` for the whole program (two would split the input between them).
///
/// # Examples
///
/// (Not run by `cargo test`: doctests cannot run on wasm32-wasip1.)
///
/// ```no_run
/// use ebbtide_wasi::io::{stdin, AsyncBufReadExt, BufReader};
///
/// ebbtide_wasi::Runtime::new().unwrap().block_on(async {
///     let mut input = BufReader::<_, 128>::new(stdin());
///     let mut line = heapless::Vec::<u8, 128>::new();
///     let n = input.read_line(&mut line).await.unwrap();
///     println!("read {n} bytes: {:?}", core::str::from_utf8(&line));
/// });
/// ```
pub struct Stdin {
    registration: Option<Registration>,
}

/// The program's standard input; see [`Stdin`].
///
/// # Examples
///
/// ```no_run
/// let input = ebbtide_wasi::io::stdin();
/// # let _ = input;
/// ```
pub fn stdin() -> Stdin {
    Stdin { registration: None }
}

impl ErrorType for Stdin {
    type Error = io::Error;
}

impl AsyncRead for Stdin {
    /// Waits for stdin to be readable, then reads what is there (`Ok(0)` at end of input).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: bytes are only read in the poll that returns them.
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if self.registration.is_none() {
            let reactor = crate::runtime::current_reactor()?;
            // A regular file is never waited for: its reads do not block, and some hosts
            // (Node's) refuse to poll it.
            let file = sys::is_regular_file(STDIN);
            self.registration = Some(reactor.register(STDIN, false, file)?);
        }
        let registration = self.registration.as_ref().expect("registered above");
        match registration.poll_ready(cx, Direction::Read) {
            Poll::Ready(Ok(())) => Poll::Ready(sys::fd_read(STDIN, buf)),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl fmt::Debug for Stdin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stdin").finish_non_exhaustive()
    }
}

/// Writes to fd 1 or 2 with `fd_write`, which completes at once.
fn poll_write_fd(fd: sys::Fd, buf: &[u8]) -> Poll<io::Result<usize>> {
    if buf.is_empty() {
        return Poll::Ready(Ok(0));
    }
    Poll::Ready(sys::fd_write(fd, buf))
}

macro_rules! output {
    ($(#[$doc:meta])* $name:ident, $function:ident, $fd:expr, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name {
            _private: (),
        }

        #[doc = concat!("The program's ", $what, "; see [`", stringify!($name), "`].")]
        ///
        /// # Examples
        ///
        /// ```no_run
        /// use ebbtide_wasi::io::AsyncWriteExt;
        /// ebbtide_wasi::Runtime::new().unwrap().block_on(async {
        #[doc = concat!("    ebbtide_wasi::io::", stringify!($function), "().write_all(b\"hi\\n\").await.unwrap();")]
        /// });
        /// ```
        pub fn $function() -> $name {
            $name { _private: () }
        }

        impl ErrorType for $name {
            type Error = io::Error;
        }

        impl AsyncWrite for $name {
            /// Writes with `fd_write`, which may block the runtime briefly (WASI hosts write
            /// stdio synchronously).
            ///
            /// # Cancel safety
            ///
            /// Cancel safe: the write completes in the poll that starts it.
            fn poll_write(
                self: Pin<&mut Self>,
                _cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                poll_write_fd($fd, buf)
            }

            fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }

            /// Does nothing: the standard streams stay open.
            fn poll_shutdown(
                self: Pin<&mut Self>,
                _cx: &mut Context<'_>,
            ) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }
        }
    };
}

output!(
    /// The program's standard output: every write is one `fd_write` on fd 1, done at once
    /// (no buffer of its own, so `flush` has nothing to do).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use ebbtide_wasi::io::{stdout, AsyncWriteExt};
    /// ebbtide_wasi::Runtime::new().unwrap().block_on(async {
    ///     stdout().write_all(b"hello\n").await.unwrap();
    /// });
    /// ```
    Stdout,
    stdout,
    STDOUT,
    "standard output"
);

output!(
    /// The program's standard error: every write is one `fd_write` on fd 2, done at once.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use ebbtide_wasi::io::{stderr, AsyncWriteExt};
    /// ebbtide_wasi::Runtime::new().unwrap().block_on(async {
    ///     stderr().write_all(b"warning\n").await.unwrap();
    /// });
    /// ```
    Stderr,
    stderr,
    STDERR,
    "standard error"
);
