//! Why a WASI runtime cannot go on: [`Error`].

use std::fmt;
use std::io;

/// Why [`Runtime::try_block_on`](crate::Runtime::try_block_on) gave up.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The future is not finished, no task is ready, no timer is pending and no task waits for
    /// a file descriptor: nothing can ever make progress.
    ///
    /// A timer that was dropped before it fired (the sleep of a `timeout` whose future finished
    /// first, a `select!` branch that lost, an aborted task's sleep) does not count: the runtime
    /// sees through it at once instead of waiting for its deadline.
    Deadlock,
    /// The host refused to wait on a socket (`poll_oneoff` answered `BADF` for a call with a
    /// socket subscription): the preview 1 host of current wasmtime cannot poll sockets.
    HostCannotPollSockets(io::Error),
    /// `poll_oneoff` failed.
    Wait(io::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Deadlock => f.write_str(
                "deadlock: block_on's future is pending, but no task is ready, no timer is \
                 pending and no task waits for IO, so nothing can wake it",
            ),
            Error::HostCannotPollSockets(e) => write!(
                f,
                "this WASI host cannot wait on sockets (poll_oneoff answered {e}); run with a host \
                 that can, e.g. `wasmtime run -S preview2=n -S tcplisten=127.0.0.1:PORT --env \
                 LISTEN_FDS=1 app.wasm` (wasmtime 46 or older: later versions dropped preview 1 \
                 sockets)"
            ),
            Error::Wait(e) => write!(f, "poll_oneoff failed: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Deadlock => None,
            Error::HostCannotPollSockets(e) | Error::Wait(e) => Some(e),
        }
    }
}

impl From<Error> for io::Error {
    fn from(error: Error) -> io::Error {
        let kind = match &error {
            Error::Deadlock => io::ErrorKind::Other,
            Error::HostCannotPollSockets(_) => io::ErrorKind::Unsupported,
            Error::Wait(e) => e.kind(),
        };
        io::Error::new(kind, error)
    }
}
