//! Unix signals as futures: [`ctrl_c`] for a graceful shutdown, [`signal`] for SIGTERM, SIGHUP
//! and the others.
//!
//! # How it works
//!
//! Each listener ([`Signal`], or the one inside [`CtrlC`]) owns a self-pipe: a non-blocking Unix
//! socket pair. A process-wide handler, installed through the `signal-hook` crate, writes one
//! byte to the write end of every listener of the signal when it arrives (only `send`, which is
//! async-signal-safe; a full pipe drops the byte, as a pending signal is already recorded). The
//! read end is registered with the runtime's reactor, so the task waiting on it wakes like on a
//! socket. Because every listener has its own pipe, every task waiting for a signal wakes when it
//! arrives: any number of tasks may await `ctrl_c()` at once.
//!
//! A listener costs two file descriptors and one slot of the runtime's IO table
//! ([`Builder::io_capacity`](crate::Builder::io_capacity)), and allocates when it is created.
//!
//! # Caveats
//!
//! - Signals coalesce: several signals that arrive before the listener looks count as one.
//! - Only signals that arrive after the listener was created are seen.
//! - Once a listener for a signal was created, the process keeps a handler for it for the rest of
//!   its life: dropping every listener does **not** restore the default action (after
//!   `ctrl_c()`, Ctrl-C no longer kills the process). Tokio behaves the same.
//! - `SIGKILL`, `SIGSTOP`, `SIGSEGV`, `SIGBUS`, `SIGILL` and `SIGFPE` cannot be listened for.
//!
//! # Examples
//!
//! ```no_run
//! use ebbtide_std::signal;
//!
//! ebbtide_std::Runtime::new().unwrap().block_on(async {
//!     let server = ebbtide_std::spawn(async { /* serve */ }).unwrap();
//!     signal::ctrl_c().await.unwrap();
//!     println!("shutting down");
//!     server.abort();
//! });
//! ```

use std::ffi::c_int;
use std::fmt;
use std::future::{poll_fn, Future};
use std::io::{self, Read};
use std::pin::Pin;
use std::task::{Context, Poll};

use mio::net::UnixStream;

use crate::io::Interest;
use crate::reactor::{Direction, Registration};
use crate::sys::signal as sys;

/// Completes when the process receives SIGINT (Ctrl-C in a terminal).
///
/// The handler is installed when `ctrl_c()` is called, not at the first poll: a SIGINT that
/// arrives after this call and before the first `await` is seen, and no longer kills the process
/// (see the [module docs](self) for the lasting effect).
///
/// Every call makes a new listener, so every task awaiting a `ctrl_c()` wakes on one SIGINT.
///
/// The output is an error if the listener could not be created: outside a runtime, the runtime's
/// IO table is full, or the OS is out of file descriptors.
///
/// # Examples
///
/// ```
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let shutdown = ebbtide_std::signal::ctrl_c(); // the handler is in place from here
///     signal_hook::low_level::raise(signal_hook::consts::SIGINT).unwrap();
///     shutdown.await.unwrap(); // and the process is still alive
/// });
/// ```
pub fn ctrl_c() -> CtrlC {
    CtrlC {
        listener: Some(signal(SignalKind::interrupt())),
    }
}

/// The future of [`ctrl_c`].
///
/// # Cancel safety
///
/// Cancel safe in that nothing is lost that another listener would see; a SIGINT that arrived
/// while this future was alive and is dropped unawaited is not seen by later `ctrl_c()` calls.
///
/// # Examples
///
/// ```
/// use ebbtide_std::time::{timeout, Duration};
///
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     // Nobody presses Ctrl-C: the wait times out.
///     let waited = timeout(Duration::from_millis(10), ebbtide_std::signal::ctrl_c()).await;
///     assert!(waited.is_err());
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct CtrlC {
    /// `None` once the creation error was returned.
    listener: Option<io::Result<Signal>>,
}

impl Future for CtrlC {
    type Output = io::Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.listener {
            Some(Ok(signal)) => signal.poll_recv(cx),
            Some(Err(_)) => match self.listener.take() {
                Some(Err(e)) => Poll::Ready(Err(e)),
                _ => unreachable!(),
            },
            None => Poll::Ready(Err(io::Error::other("CtrlC polled after it failed"))),
        }
    }
}

impl fmt::Debug for CtrlC {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CtrlC").finish_non_exhaustive()
    }
}

/// Which signal to listen for: the usual ones by name, any other by number.
///
/// # Examples
///
/// ```
/// use ebbtide_std::signal::SignalKind;
/// use signal_hook::consts::{SIGTERM, SIGWINCH};
///
/// assert_eq!(SignalKind::terminate().as_raw(), SIGTERM);
/// assert_eq!(SignalKind::from_raw(SIGWINCH).as_raw(), SIGWINCH);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SignalKind(c_int);

impl SignalKind {
    /// SIGINT: Ctrl-C in a terminal.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::signal::SignalKind;
    ///
    /// assert_eq!(SignalKind::interrupt().as_raw(), signal_hook::consts::SIGINT);
    /// ```
    pub const fn interrupt() -> SignalKind {
        SignalKind(sys::SIGINT)
    }

    /// SIGTERM: the polite request to stop (`kill`, systemd, Kubernetes).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::signal::SignalKind;
    ///
    /// assert_eq!(SignalKind::terminate().as_raw(), signal_hook::consts::SIGTERM);
    /// ```
    pub const fn terminate() -> SignalKind {
        SignalKind(sys::SIGTERM)
    }

    /// SIGHUP: the terminal closed; daemons take it as "reload the configuration".
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::signal::SignalKind;
    ///
    /// assert_eq!(SignalKind::hangup().as_raw(), signal_hook::consts::SIGHUP);
    /// ```
    pub const fn hangup() -> SignalKind {
        SignalKind(sys::SIGHUP)
    }

    /// SIGQUIT: Ctrl-\ in a terminal.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::signal::SignalKind;
    ///
    /// assert_eq!(SignalKind::quit().as_raw(), signal_hook::consts::SIGQUIT);
    /// ```
    pub const fn quit() -> SignalKind {
        SignalKind(sys::SIGQUIT)
    }

    /// SIGUSR1, for the application's own use.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::signal::SignalKind;
    ///
    /// assert_eq!(SignalKind::user_defined1().as_raw(), signal_hook::consts::SIGUSR1);
    /// ```
    pub const fn user_defined1() -> SignalKind {
        SignalKind(sys::SIGUSR1)
    }

    /// SIGUSR2, for the application's own use.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::signal::SignalKind;
    ///
    /// assert_eq!(SignalKind::user_defined2().as_raw(), signal_hook::consts::SIGUSR2);
    /// ```
    pub const fn user_defined2() -> SignalKind {
        SignalKind(sys::SIGUSR2)
    }

    /// Any signal, by its number (`SIGWINCH`, ...).
    ///
    /// # Examples
    ///
    /// ```
    /// use signal_hook::consts::SIGCHLD;
    ///
    /// let kind = ebbtide_std::signal::SignalKind::from_raw(SIGCHLD);
    /// assert_eq!(kind.as_raw(), SIGCHLD);
    /// ```
    pub const fn from_raw(signum: c_int) -> SignalKind {
        SignalKind(signum)
    }

    /// The signal's number.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::signal::SignalKind;
    ///
    /// assert_eq!(SignalKind::hangup().as_raw(), signal_hook::consts::SIGHUP);
    /// ```
    pub const fn as_raw(self) -> c_int {
        self.0
    }
}

impl fmt::Debug for SignalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match sys::name(self.0) {
            Some(name) => f.write_str(name),
            None => write!(f, "SignalKind({})", self.0),
        }
    }
}

/// Listens for `kind` on the current runtime; [`Signal::recv`] waits for the next one.
///
/// # Errors
///
/// Outside a runtime, when the runtime's IO table is full, when the OS is out of file
/// descriptors, and (`InvalidInput`) for the signals that cannot be handled (`SIGKILL`,
/// `SIGSTOP`, `SIGSEGV`, `SIGBUS`, `SIGILL`, `SIGFPE`).
///
/// # Examples
///
/// ```
/// use ebbtide_std::signal::{signal, SignalKind};
///
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let mut hangups = signal(SignalKind::hangup()).unwrap();
///     signal_hook::low_level::raise(signal_hook::consts::SIGHUP).unwrap();
///     hangups.recv().await.unwrap(); // reload the configuration here
/// });
/// ```
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    if sys::is_forbidden(kind.0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{kind:?} cannot be handled by a process"),
        ));
    }
    let (mut read, write) = sys::self_pipe()?;
    let registration = Registration::new(&mut read, Interest::READABLE)?;
    // The write end is owned by the handler from here, and closed when the handler drops.
    let _handler = match sys::Handler::install(kind.0, write) {
        Ok(handler) => handler,
        Err(e) => {
            let _ = registration.deregister(&mut read);
            return Err(e);
        }
    };
    Ok(Signal {
        kind,
        read,
        registration,
        _handler,
    })
}

/// A listener for one kind of signal, made by [`signal`].
///
/// Dropping it stops listening (the process keeps its handler; see the [module docs](self)).
///
/// # Examples
///
/// ```
/// use ebbtide_std::signal::{signal, SignalKind};
///
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let mut terms = signal(SignalKind::terminate()).unwrap();
///     signal_hook::low_level::raise(signal_hook::consts::SIGTERM).unwrap();
///     terms.recv().await.unwrap(); // shut down gracefully here
/// });
/// ```
pub struct Signal {
    kind: SignalKind,
    read: UnixStream,
    registration: Registration,
    /// Only dropped, after the read end is deregistered: removes the handler and closes the
    /// write end.
    _handler: sys::Handler,
}

impl Signal {
    /// Waits for the next signal. Signals that arrived since the last `recv` (or since the
    /// listener was made) complete it at once, counted as one.
    ///
    /// # Errors
    ///
    /// Only if reading the self-pipe fails, which does not happen in a sound process.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a signal that arrives while no `recv` runs is kept for the next one.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::signal::{signal, SignalKind};
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
    ///     for _ in 0..2 {
    ///         signal_hook::low_level::raise(signal_hook::consts::SIGUSR1).unwrap();
    ///         usr1.recv().await.unwrap();
    ///     }
    /// });
    /// ```
    pub async fn recv(&mut self) -> io::Result<()> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// The poll behind [`recv`](Signal::recv): `Ready` if a signal arrived since the last
    /// `Ready`, else `Pending` with the waker registered.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::task::Poll;
    /// use ebbtide_std::signal::{signal, SignalKind};
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let mut usr2 = signal(SignalKind::user_defined2()).unwrap();
    ///     let idle = poll_fn(|cx| Poll::Ready(usr2.poll_recv(cx).is_pending())).await;
    ///     assert!(idle);
    /// });
    /// ```
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let read = &self.read;
        self.registration
            .poll_io(cx, Direction::Read, || drain(read))
    }

    /// The signal this listener listens for.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::signal::{signal, SignalKind};
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let quits = signal(SignalKind::quit()).unwrap();
    ///     assert_eq!(quits.kind(), SignalKind::quit());
    /// });
    /// ```
    pub fn kind(&self) -> SignalKind {
        self.kind
    }
}

/// Reads the self-pipe empty: `Ok` if it held at least one byte, `WouldBlock` if it was empty.
fn drain(mut read: &UnixStream) -> io::Result<()> {
    let mut bytes = [0u8; 32];
    let mut received = false;
    loop {
        match read.read(&mut bytes) {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the signal's self-pipe was closed",
                ))
            }
            Ok(_) => received = true,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && received => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}

impl Drop for Signal {
    fn drop(&mut self) {
        // The handler (a field) is removed right after, closing the write end.
        let _ = self.registration.deregister(&mut self.read);
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signal").field("kind", &self.kind).finish()
    }
}

/// The Unix names, for code written against `tokio::signal::unix`.
///
/// # Examples
///
/// ```
/// use ebbtide_std::signal::unix::{signal, SignalKind};
///
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let terms = signal(SignalKind::terminate()).unwrap();
///     # drop(terms);
/// });
/// ```
pub mod unix {
    pub use super::{signal, Signal, SignalKind};
}
