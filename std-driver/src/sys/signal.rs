//! POSIX signals: their numbers (from libc), and process-wide handlers, installed through
//! `signal-hook`, that write one byte to a self-pipe when their signal arrives.
//!
//! A signal handler may only call async-signal-safe functions. `send` on a non-blocking socket is
//! one, and turns the signal into readiness of the pipe's read end, which the reactor waits for
//! like any socket's; a full pipe drops the byte, as a signal that is already pending is recorded.

use std::ffi::c_int;
use std::io;
use std::os::unix::net::UnixStream;

use signal_hook::SigId;

/// Ctrl-C in a terminal.
pub(crate) const SIGINT: c_int = libc::SIGINT;
/// The polite request to stop.
pub(crate) const SIGTERM: c_int = libc::SIGTERM;
/// The terminal closed.
pub(crate) const SIGHUP: c_int = libc::SIGHUP;
/// Ctrl-\ in a terminal.
pub(crate) const SIGQUIT: c_int = libc::SIGQUIT;
/// For the application's own use.
pub(crate) const SIGUSR1: c_int = libc::SIGUSR1;
/// For the application's own use.
pub(crate) const SIGUSR2: c_int = libc::SIGUSR2;

/// Whether no process may handle `signum` (`SIGKILL`, `SIGSTOP`, `SIGSEGV`, `SIGBUS`, `SIGILL`,
/// `SIGFPE`).
pub(crate) fn is_forbidden(signum: c_int) -> bool {
    signal_hook::consts::FORBIDDEN.contains(&signum)
}

/// The signal's name (`"SIGINT"`), if it is a known one.
pub(crate) fn name(signum: c_int) -> Option<&'static str> {
    signal_hook::low_level::signal_name(signum)
}

/// A new self-pipe: a connected pair of non-blocking Unix sockets, the read end first (as a mio
/// source, to register with the reactor).
pub(crate) fn self_pipe() -> io::Result<(mio::net::UnixStream, UnixStream)> {
    let (read, write) = UnixStream::pair()?;
    read.set_nonblocking(true)?;
    write.set_nonblocking(true)?;
    Ok((mio::net::UnixStream::from_std(read), write))
}

/// A handler that writes to one self-pipe's write end whenever its signal arrives. Dropping it
/// removes the handler (the process keeps its own handler for the signal) and closes the write
/// end.
pub(crate) struct Handler {
    /// Boxed: a `SigId` is aligned to 16 bytes (it holds a `u128`), more than a task slot offers
    /// (8), and a task that holds a `Signal` must fit one.
    id: Box<SigId>,
}

impl Handler {
    /// Makes `signum` write to `write` from now on (taking the write end).
    pub(crate) fn install(signum: c_int, write: UnixStream) -> io::Result<Handler> {
        let id = signal_hook::low_level::pipe::register(signum, write)?;
        Ok(Handler { id: Box::new(id) })
    }
}

impl Drop for Handler {
    fn drop(&mut self) {
        signal_hook::low_level::unregister(*self.id);
    }
}
