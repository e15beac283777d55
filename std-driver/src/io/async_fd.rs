//! [`AsyncFd`]: readiness of any file descriptor (a pipe, a tty, a timerfd, an eventfd, a
//! socket from another library), from the runtime's reactor.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::task::{Context, Poll};

use mio::unix::SourceFd;

use crate::io::Interest;
use crate::reactor::{Direction, ReadyEvent, Registration};
use crate::sys;

/// A file descriptor registered with the current runtime's reactor, for readiness.
///
/// `AsyncFd` owns `inner` (anything with a raw fd: a `File`, an `OwnedFd`, a pipe end) and tells
/// a task when the fd is readable or writable; the task then does the IO itself, inside
/// [`AsyncFdReadyGuard::try_io`], which forgets the readiness when the operation says
/// `WouldBlock` so that the next [`readable`](AsyncFd::readable) waits for the OS again.
///
/// # The fd must be non-blocking
///
/// Readiness is edge-triggered: the task must read (or write) until `WouldBlock`, so the fd
/// **must** be in non-blocking mode, or that last read blocks the runtime's thread. Call
/// [`set_nonblocking`] first (or open it with `O_NONBLOCK`). Regular files are always "ready"
/// and cannot be registered with epoll: use a thread for them.
///
/// Dropping the `AsyncFd` deregisters the fd, then drops `inner` (closing the fd if `inner`
/// owns it); [`into_inner`](AsyncFd::into_inner) deregisters and hands `inner` back.
///
/// # Examples
///
/// A pipe (a connected socket pair stands in for one here):
///
/// ```
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
/// use ebbtide_std::io::AsyncFd;
///
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let (mut tx, rx) = UnixStream::pair().unwrap();
///     rx.set_nonblocking(true).unwrap();
///     let rx = AsyncFd::new(rx).unwrap();
///     tx.write_all(b"wake").unwrap();
///     let mut buf = [0u8; 4];
///     let n = loop {
///         let mut guard = rx.readable().await.unwrap();
///         match guard.try_io(|fd| fd.get_ref().read(&mut buf)) {
///             Ok(result) => break result.unwrap(),
///             Err(_would_block) => continue,
///         }
///     };
///     assert_eq!(&buf[..n], b"wake");
/// });
/// ```
pub struct AsyncFd<T: AsRawFd> {
    /// `None` only during `into_inner` and `Drop`.
    inner: Option<T>,
    fd: RawFd,
    interest: Interest,
    registration: Registration,
}

impl<T: AsRawFd> AsyncFd<T> {
    /// Registers `inner`'s fd for reading and writing.
    ///
    /// # Errors
    ///
    /// Outside a runtime, when its IO table is full, or when the OS refuses the fd (a regular
    /// file with epoll: `EPERM`); `inner` is dropped then.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::io::AsyncFd;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
    ///     a.set_nonblocking(true).unwrap();
    ///     let a = AsyncFd::new(a).unwrap();
    ///     let _guard = a.writable().await.unwrap(); // an empty socket buffer has room
    /// });
    /// ```
    pub fn new(inner: T) -> io::Result<AsyncFd<T>> {
        AsyncFd::with_interest(inner, Interest::READABLE | Interest::WRITABLE)
    }

    /// Registers `inner`'s fd for `interest` only (`Interest::READABLE` for a pipe's read end,
    /// `Interest::WRITABLE` for its write end). Waiting for the other direction never ends.
    ///
    /// # Errors
    ///
    /// As for [`new`](AsyncFd::new).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::io::{AsyncFd, Interest};
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
    ///     a.set_nonblocking(true).unwrap();
    ///     let a = AsyncFd::with_interest(a, Interest::WRITABLE).unwrap();
    ///     assert_eq!(a.interest(), Interest::WRITABLE);
    /// });
    /// ```
    pub fn with_interest(inner: T, interest: Interest) -> io::Result<AsyncFd<T>> {
        let fd = inner.as_raw_fd();
        let registration = Registration::new(&mut SourceFd(&fd), interest)?;
        Ok(AsyncFd {
            inner: Some(inner),
            fd,
            interest,
            registration,
        })
    }

    /// The interest the fd is registered for.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::io::{AsyncFd, Interest};
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
    ///     a.set_nonblocking(true).unwrap();
    ///     let a = AsyncFd::new(a).unwrap();
    ///     assert_eq!(a.interest(), Interest::READABLE | Interest::WRITABLE);
    /// });
    /// ```
    pub fn interest(&self) -> Interest {
        self.interest
    }

    /// The wrapped object.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::io::AsyncFd;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
    ///     a.set_nonblocking(true).unwrap();
    ///     let a = AsyncFd::new(a).unwrap();
    ///     assert!(a.get_ref().peer_addr().is_ok());
    /// });
    /// ```
    pub fn get_ref(&self) -> &T {
        self.inner.as_ref().expect("inner is present until drop")
    }

    /// The wrapped object, mutably. Do not replace its fd: the registration is for the old one.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::io::AsyncFd;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
    ///     a.set_nonblocking(true).unwrap();
    ///     let mut a = AsyncFd::new(a).unwrap();
    ///     a.get_mut().set_nonblocking(true).unwrap();
    /// });
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.as_mut().expect("inner is present until drop")
    }

    /// Deregisters the fd and hands the wrapped object back (its fd stays open).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::io::AsyncFd;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
    ///     a.set_nonblocking(true).unwrap();
    ///     let a = AsyncFd::new(a).unwrap();
    ///     let a: std::os::unix::net::UnixStream = a.into_inner();
    ///     assert!(a.peer_addr().is_ok());
    /// });
    /// ```
    pub fn into_inner(mut self) -> T {
        self.take_inner().expect("inner is present until drop")
    }

    /// Deregisters the fd (before it can close) and takes the wrapped object out.
    fn take_inner(&mut self) -> Option<T> {
        let inner = self.inner.take()?;
        // An error means the OS already forgot the fd (mio's poll(2) backend drops an fd that
        // hung up); either way the reactor no longer watches it.
        let _ = self.registration.deregister(&mut SourceFd(&self.fd));
        Some(inner)
    }

    /// Waits until the fd may be readable.
    ///
    /// The guard's [`try_io`](AsyncFdReadyGuard::try_io) runs the read and, if it says
    /// `WouldBlock`, makes the next `readable` wait for the OS again.
    ///
    /// # Errors
    ///
    /// `ErrorKind::Other` once the runtime the fd was registered with has been dropped.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future loses no readiness.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use ebbtide_std::io::AsyncFd;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let (mut tx, rx) = std::os::unix::net::UnixStream::pair().unwrap();
    ///     rx.set_nonblocking(true).unwrap();
    ///     let rx = AsyncFd::new(rx).unwrap();
    ///     tx.write_all(b"x").unwrap();
    ///     let mut guard = rx.readable().await.unwrap();
    ///     let mut buf = [0u8; 1];
    ///     assert_eq!(guard.try_io(|fd| fd.get_ref().read(&mut buf)).unwrap().unwrap(), 1);
    /// });
    /// ```
    pub async fn readable(&self) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        poll_fn(|cx| self.poll_read_ready(cx)).await
    }

    /// Waits until the fd may be writable; see [`readable`](AsyncFd::readable).
    ///
    /// # Errors
    ///
    /// `ErrorKind::Other` once the runtime the fd was registered with has been dropped.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future loses no readiness.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Write;
    /// use ebbtide_std::io::AsyncFd;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let (tx, _rx) = std::os::unix::net::UnixStream::pair().unwrap();
    ///     tx.set_nonblocking(true).unwrap();
    ///     let tx = AsyncFd::new(tx).unwrap();
    ///     let mut guard = tx.writable().await.unwrap();
    ///     assert_eq!(guard.try_io(|fd| fd.get_ref().write(b"hi")).unwrap().unwrap(), 2);
    /// });
    /// ```
    pub async fn writable(&self) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        poll_fn(|cx| self.poll_write_ready(cx)).await
    }

    /// Like [`readable`](AsyncFd::readable), with a guard that lends `&mut AsyncFd` to its
    /// [`try_io`](AsyncFdReadyMutGuard::try_io) (for IO that needs `&mut T`).
    ///
    /// # Errors
    ///
    /// `ErrorKind::Other` once the runtime the fd was registered with has been dropped.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future loses no readiness.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use ebbtide_std::io::AsyncFd;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let (mut tx, rx) = std::os::unix::net::UnixStream::pair().unwrap();
    ///     rx.set_nonblocking(true).unwrap();
    ///     let mut rx = AsyncFd::new(rx).unwrap();
    ///     tx.write_all(b"x").unwrap();
    ///     let mut guard = rx.readable_mut().await.unwrap();
    ///     let mut buf = [0u8; 1];
    ///     assert_eq!(guard.try_io(|fd| fd.get_mut().read(&mut buf)).unwrap().unwrap(), 1);
    /// });
    /// ```
    pub async fn readable_mut(&mut self) -> io::Result<AsyncFdReadyMutGuard<'_, T>> {
        let event = poll_fn(|cx| self.registration.poll_ready(cx, Direction::Read)).await?;
        Ok(AsyncFdReadyMutGuard {
            fd: self,
            event: Some(event),
        })
    }

    /// Like [`writable`](AsyncFd::writable), with a guard that lends `&mut AsyncFd`.
    ///
    /// # Errors
    ///
    /// `ErrorKind::Other` once the runtime the fd was registered with has been dropped.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future loses no readiness.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Write;
    /// use ebbtide_std::io::AsyncFd;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let (tx, _rx) = std::os::unix::net::UnixStream::pair().unwrap();
    ///     tx.set_nonblocking(true).unwrap();
    ///     let mut tx = AsyncFd::new(tx).unwrap();
    ///     let mut guard = tx.writable_mut().await.unwrap();
    ///     assert_eq!(guard.try_io(|fd| fd.get_mut().write(b"hi")).unwrap().unwrap(), 2);
    /// });
    /// ```
    pub async fn writable_mut(&mut self) -> io::Result<AsyncFdReadyMutGuard<'_, T>> {
        let event = poll_fn(|cx| self.registration.poll_ready(cx, Direction::Write)).await?;
        Ok(AsyncFdReadyMutGuard {
            fd: self,
            event: Some(event),
        })
    }

    /// Polls for read readiness: `Ready` with a guard, or `Pending` with the task's waker
    /// registered (only the latest caller's waker is woken).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::io::Write;
    /// use ebbtide_std::io::AsyncFd;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let (mut tx, rx) = std::os::unix::net::UnixStream::pair().unwrap();
    ///     rx.set_nonblocking(true).unwrap();
    ///     let rx = AsyncFd::new(rx).unwrap();
    ///     tx.write_all(b"x").unwrap();
    ///     let guard = poll_fn(|cx| rx.poll_read_ready(cx)).await.unwrap();
    ///     drop(guard); // keeps the readiness for the next reader
    /// });
    /// ```
    pub fn poll_read_ready<'a>(
        &'a self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyGuard<'a, T>>> {
        self.registration
            .poll_ready(cx, Direction::Read)
            .map_ok(|event| AsyncFdReadyGuard {
                fd: self,
                event: Some(event),
            })
    }

    /// Polls for write readiness; see [`poll_read_ready`](AsyncFd::poll_read_ready).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use ebbtide_std::io::AsyncFd;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let (tx, _rx) = std::os::unix::net::UnixStream::pair().unwrap();
    ///     tx.set_nonblocking(true).unwrap();
    ///     let tx = AsyncFd::new(tx).unwrap();
    ///     assert!(poll_fn(|cx| tx.poll_write_ready(cx)).await.is_ok());
    /// });
    /// ```
    pub fn poll_write_ready<'a>(
        &'a self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyGuard<'a, T>>> {
        self.registration
            .poll_ready(cx, Direction::Write)
            .map_ok(|event| AsyncFdReadyGuard {
                fd: self,
                event: Some(event),
            })
    }

    /// Runs `op` on the wrapped object whenever the fd is ready in `direction`, until it does
    /// not say `WouldBlock`; returns its result.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe if `op` is (a read that either takes bytes and returns, or takes none).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use ebbtide_std::io::AsyncFd;
    /// use ebbtide_std::reactor::Direction;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let (mut tx, rx) = std::os::unix::net::UnixStream::pair().unwrap();
    ///     rx.set_nonblocking(true).unwrap();
    ///     let rx = AsyncFd::new(rx).unwrap();
    ///     tx.write_all(b"abc").unwrap();
    ///     let mut buf = [0u8; 8];
    ///     let n = rx.async_io(Direction::Read, |mut inner| inner.read(&mut buf)).await.unwrap();
    ///     assert_eq!(&buf[..n], b"abc");
    /// });
    /// ```
    pub async fn async_io<R>(
        &self,
        direction: Direction,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        poll_fn(|cx| loop {
            let event = match self.registration.poll_ready(cx, direction) {
                Poll::Ready(Ok(event)) => event,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            };
            match op(self.get_ref()) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.clear(event),
                result => return Poll::Ready(result),
            }
        })
        .await
    }

    /// Forgets the readiness `event` reported (after `WouldBlock`), and re-arms the fd where the
    /// poller needs it.
    fn clear(&self, event: ReadyEvent) {
        self.registration.clear_readiness(event);
        sys::rearm(&self.registration, self.fd, self.interest);
    }
}

impl<T: AsRawFd> AsRawFd for AsyncFd<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.fd
    }
}

impl<T: AsRawFd> Drop for AsyncFd<T> {
    fn drop(&mut self) {
        drop(self.take_inner());
    }
}

impl<T: AsRawFd + fmt::Debug> fmt::Debug for AsyncFd<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFd")
            .field("inner", &self.inner)
            .field("interest", &self.interest)
            .finish()
    }
}

/// The fd of an [`AsyncFd`] was found ready; from [`AsyncFd::readable`] or
/// [`AsyncFd::writable`].
///
/// Do the IO in [`try_io`](AsyncFdReadyGuard::try_io). Dropping the guard without a
/// `WouldBlock` keeps the readiness: the next `readable` returns at once.
///
/// # Examples
///
/// ```
/// use std::io::{Read, Write};
/// use ebbtide_std::io::AsyncFd;
///
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let (mut tx, rx) = std::os::unix::net::UnixStream::pair().unwrap();
///     rx.set_nonblocking(true).unwrap();
///     let rx = AsyncFd::new(rx).unwrap();
///     tx.write_all(b"x").unwrap();
///     let mut buf = [0u8; 4];
///     let mut guard = rx.readable().await.unwrap();
///     assert_eq!(guard.try_io(|fd| fd.get_ref().read(&mut buf)).unwrap().unwrap(), 1);
///     // Drained: the next read says `WouldBlock`, and `try_io` clears the readiness.
///     assert!(guard.try_io(|fd| fd.get_ref().read(&mut buf)).is_err());
/// });
/// ```
pub struct AsyncFdReadyGuard<'a, T: AsRawFd> {
    fd: &'a AsyncFd<T>,
    /// `None` once cleared.
    event: Option<ReadyEvent>,
}

impl<'a, T: AsRawFd> AsyncFdReadyGuard<'a, T> {
    /// Runs `f`; if it says `WouldBlock`, forgets the readiness (the next
    /// [`readable`](AsyncFd::readable)/[`writable`](AsyncFd::writable) waits for the OS) and
    /// returns `Err(TryIoError)`. Any other result comes back as `Ok(result)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Read;
    /// use ebbtide_std::io::AsyncFd;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let (_tx, rx) = std::os::unix::net::UnixStream::pair().unwrap();
    ///     rx.set_nonblocking(true).unwrap();
    ///     let rx = AsyncFd::new(rx).unwrap();
    ///     let mut guard = rx.writable().await.unwrap();
    ///     let mut buf = [0u8; 1];
    ///     // Nothing to read: `WouldBlock` becomes `Err(TryIoError)`.
    ///     assert!(guard.try_io(|fd| fd.get_ref().read(&mut buf)).is_err());
    /// });
    /// ```
    pub fn try_io<R>(
        &mut self,
        f: impl FnOnce(&'a AsyncFd<T>) -> io::Result<R>,
    ) -> Result<io::Result<R>, TryIoError> {
        match f(self.fd) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.clear_ready();
                Err(TryIoError(()))
            }
            result => Ok(result),
        }
    }

    /// Forgets the readiness: the next wait goes to the OS. Call it after doing the IO yourself
    /// and seeing `WouldBlock`.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::io::AsyncFd;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let (_tx, rx) = std::os::unix::net::UnixStream::pair().unwrap();
    ///     rx.set_nonblocking(true).unwrap();
    ///     let rx = AsyncFd::new(rx).unwrap();
    ///     let mut guard = rx.writable().await.unwrap();
    ///     guard.clear_ready();
    /// });
    /// ```
    pub fn clear_ready(&mut self) {
        if let Some(event) = self.event.take() {
            self.fd.clear(event);
        }
    }

    /// Keeps the readiness (what dropping the guard does too).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::io::AsyncFd;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let (_tx, rx) = std::os::unix::net::UnixStream::pair().unwrap();
    ///     rx.set_nonblocking(true).unwrap();
    ///     let rx = AsyncFd::new(rx).unwrap();
    ///     rx.writable().await.unwrap().retain_ready();
    ///     let _again = rx.writable().await.unwrap(); // at once
    /// });
    /// ```
    pub fn retain_ready(&mut self) {
        self.event = None;
    }

    /// Whether the OS reported this direction closed (the peer hung up on a read; the reader
    /// went away on a write): the next operation returns end of file or an error.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::io::AsyncFd;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let (tx, rx) = std::os::unix::net::UnixStream::pair().unwrap();
    ///     rx.set_nonblocking(true).unwrap();
    ///     let rx = AsyncFd::new(rx).unwrap();
    ///     drop(tx);
    ///     assert!(rx.readable().await.unwrap().is_closed());
    /// });
    /// ```
    pub fn is_closed(&self) -> bool {
        self.event.is_some_and(|event| event.is_closed())
    }

    /// The [`AsyncFd`] this guard belongs to.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::io::AsyncFd;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let (tx, _rx) = std::os::unix::net::UnixStream::pair().unwrap();
    ///     tx.set_nonblocking(true).unwrap();
    ///     let tx = AsyncFd::new(tx).unwrap();
    ///     let guard = tx.writable().await.unwrap();
    ///     assert!(guard.get_ref().get_ref().peer_addr().is_ok());
    /// });
    /// ```
    pub fn get_ref(&self) -> &'a AsyncFd<T> {
        self.fd
    }

    /// The object the [`AsyncFd`] wraps.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::io::AsyncFd;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let (tx, _rx) = std::os::unix::net::UnixStream::pair().unwrap();
    ///     tx.set_nonblocking(true).unwrap();
    ///     let tx = AsyncFd::new(tx).unwrap();
    ///     let guard = tx.writable().await.unwrap();
    ///     assert!(guard.get_inner().peer_addr().is_ok());
    /// });
    /// ```
    pub fn get_inner(&self) -> &'a T {
        self.fd.get_ref()
    }
}

impl<T: AsRawFd> fmt::Debug for AsyncFdReadyGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFdReadyGuard")
            .field("fd", &self.fd.fd)
            .field("event", &self.event)
            .finish()
    }
}

/// Like [`AsyncFdReadyGuard`], lending `&mut AsyncFd`; from [`AsyncFd::readable_mut`] or
/// [`AsyncFd::writable_mut`].
///
/// # Examples
///
/// ```
/// use std::io::{Read, Write};
/// use ebbtide_std::io::AsyncFd;
///
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let (mut tx, rx) = std::os::unix::net::UnixStream::pair().unwrap();
///     rx.set_nonblocking(true).unwrap();
///     let mut rx = AsyncFd::new(rx).unwrap();
///     tx.write_all(b"x").unwrap();
///     let mut guard = rx.readable_mut().await.unwrap();
///     let mut buf = [0u8; 1];
///     assert_eq!(guard.try_io(|fd| fd.get_mut().read(&mut buf)).unwrap().unwrap(), 1);
/// });
/// ```
pub struct AsyncFdReadyMutGuard<'a, T: AsRawFd> {
    fd: &'a mut AsyncFd<T>,
    event: Option<ReadyEvent>,
}

impl<T: AsRawFd> AsyncFdReadyMutGuard<'_, T> {
    /// Runs `f`; if it says `WouldBlock`, forgets the readiness and returns `Err(TryIoError)`.
    /// See [`AsyncFdReadyGuard::try_io`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Read;
    /// use ebbtide_std::io::AsyncFd;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let (_tx, rx) = std::os::unix::net::UnixStream::pair().unwrap();
    ///     rx.set_nonblocking(true).unwrap();
    ///     let mut rx = AsyncFd::new(rx).unwrap();
    ///     let mut guard = rx.writable_mut().await.unwrap();
    ///     let mut buf = [0u8; 1];
    ///     assert!(guard.try_io(|fd| fd.get_mut().read(&mut buf)).is_err());
    /// });
    /// ```
    pub fn try_io<R>(
        &mut self,
        f: impl FnOnce(&mut AsyncFd<T>) -> io::Result<R>,
    ) -> Result<io::Result<R>, TryIoError> {
        match f(self.fd) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.clear_ready();
                Err(TryIoError(()))
            }
            result => Ok(result),
        }
    }

    /// Forgets the readiness: the next wait goes to the OS.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::io::AsyncFd;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let (_tx, rx) = std::os::unix::net::UnixStream::pair().unwrap();
    ///     rx.set_nonblocking(true).unwrap();
    ///     let mut rx = AsyncFd::new(rx).unwrap();
    ///     rx.writable_mut().await.unwrap().clear_ready();
    /// });
    /// ```
    pub fn clear_ready(&mut self) {
        if let Some(event) = self.event.take() {
            self.fd.clear(event);
        }
    }

    /// Keeps the readiness (what dropping the guard does too).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::io::AsyncFd;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let (_tx, rx) = std::os::unix::net::UnixStream::pair().unwrap();
    ///     rx.set_nonblocking(true).unwrap();
    ///     let mut rx = AsyncFd::new(rx).unwrap();
    ///     rx.writable_mut().await.unwrap().retain_ready();
    /// });
    /// ```
    pub fn retain_ready(&mut self) {
        self.event = None;
    }

    /// The wrapped object, mutably.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::io::AsyncFd;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let (_tx, rx) = std::os::unix::net::UnixStream::pair().unwrap();
    ///     rx.set_nonblocking(true).unwrap();
    ///     let mut rx = AsyncFd::new(rx).unwrap();
    ///     let mut guard = rx.writable_mut().await.unwrap();
    ///     guard.get_inner_mut().set_nonblocking(true).unwrap();
    /// });
    /// ```
    pub fn get_inner_mut(&mut self) -> &mut T {
        self.fd.get_mut()
    }
}

impl<T: AsRawFd> fmt::Debug for AsyncFdReadyMutGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFdReadyMutGuard")
            .field("fd", &self.fd.fd)
            .field("event", &self.event)
            .finish()
    }
}

/// The operation in [`AsyncFdReadyGuard::try_io`] said `WouldBlock`; the readiness was cleared,
/// so wait again.
///
/// # Examples
///
/// ```
/// use ebbtide_std::io::TryIoError;
///
/// fn retry<T>(result: Result<T, TryIoError>) -> bool {
///     result.is_err()
/// }
/// # let _ = retry::<()>;
/// ```
#[derive(Debug)]
pub struct TryIoError(());

impl fmt::Display for TryIoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the operation would block; wait for readiness again")
    }
}

impl std::error::Error for TryIoError {}

/// Puts `fd` in non-blocking mode (`O_NONBLOCK`), as [`AsyncFd`] requires.
///
/// # Errors
///
/// The error of `fcntl(2)`.
///
/// # Examples
///
/// ```
/// use ebbtide_std::io::{set_nonblocking, AsyncFd};
///
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
///     set_nonblocking(&a).unwrap();
///     let _a = AsyncFd::new(a).unwrap();
/// });
/// ```
pub fn set_nonblocking(fd: &impl AsFd) -> io::Result<()> {
    sys::fd::set_nonblocking(fd.as_fd())
}
