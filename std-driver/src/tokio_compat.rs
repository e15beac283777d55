//! Tokio-dependent futures inside ebbtide (feature `tokio-compat`).
//!
//! A future that uses `tokio::net`, `tokio::time`, `tokio::spawn` or a crate built on them
//! (reqwest, tonic's client, sqlx, ...) looks for a Tokio runtime in its thread's context and
//! panics when there is none. [`Compat`] gives it one: each poll enters the context of a Tokio
//! runtime, so the future's sockets register with that runtime's reactor and its timers with its
//! timer, while the future itself stays an ebbtide task (awaited, spawned, selected like any
//! other). This is what [async-compat](https://docs.rs/async-compat) does for other executors.
//!
//! The runtime is, by default, a background one of ebbtide-std's: Tokio's `current_thread`
//! runtime with every driver Tokio was built with (`enable_all`), on one thread named
//! `ebbtide-tokio`, started the first time a [`Compat`] is polled (or [`handle`] is called) and
//! kept for the rest of the process. If the thread polling a `Compat` is already inside a Tokio
//! runtime (an ebbtide future awaited under `#[tokio::main]`), that runtime is used instead, and
//! [`Compat::with_handle`] picks one explicitly.
//!
//! What it costs: the Tokio side's IO readiness and timers are seen by the `ebbtide-tokio` thread,
//! which wakes the ebbtide task across threads; see [`tokio_interop`](crate::tokio_interop) for
//! the measured cost against ebbtide's own sockets, and for the other direction (ebbtide's
//! streams under Tokio's IO traits, feature `tokio-io`), which needs no second runtime.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use ebbtide_std::tokio_compat::compat;
//!
//! ebbtide_std::Runtime::new().unwrap().block_on(async {
//!     // `tokio::time::sleep` outside a Tokio runtime panics; inside `compat` it sleeps.
//!     compat(async { tokio::time::sleep(Duration::from_millis(5)).await }).await;
//! });
//! ```
//!
//! Tokio objects are made *inside* the wrapped future, as with async-compat: Tokio looks for
//! its runtime when `tokio::time::sleep(d)` or `Sleep`, `Interval`, `TcpStream::from_std` are
//! created, so `compat(tokio::time::sleep(d))` panics before `compat` is ever polled. An `async
//! fn` of Tokio's (`TcpStream::connect`, `TcpListener::bind`) does nothing until polled, so
//! `compat(TcpStream::connect(addr))` is fine.
//!
//! A Tokio client inside an ebbtide task, against an ebbtide server:
//!
//! ```
//! use ebbtide_std::io::AsyncWriteExt as _;
//! use ebbtide_std::tokio_compat::CompatExt;
//! use tokio::io::AsyncReadExt as _;
//!
//! ebbtide_std::Runtime::new().unwrap().block_on(async {
//!     let listener = ebbtide_std::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     let server = ebbtide_std::spawn(async move {
//!         let (mut stream, _) = listener.accept().await.unwrap();
//!         stream.write_all(b"hello from ebbtide").await.unwrap();
//!     })
//!     .unwrap();
//!
//!     let reply = async {
//!         let mut stream = tokio::net::TcpStream::connect(addr).await?;
//!         let mut reply = String::new();
//!         stream.read_to_string(&mut reply).await?;
//!         Ok::<_, std::io::Error>(reply)
//!     }
//!     .compat()
//!     .await
//!     .unwrap();
//!     assert_eq!(reply, "hello from ebbtide");
//!     server.await.unwrap();
//! });
//! ```

use std::fmt;
use std::future::Future;
use std::io::{self, IoSlice};
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;
use tokio::io::ReadBuf;
use tokio::runtime::Handle;

use crate::io::{AsyncRead, AsyncWrite, ErrorType};

/// The background runtime's handle, once it runs.
static BACKGROUND: OnceLock<Handle> = OnceLock::new();

/// The handle of ebbtide-std's background Tokio runtime, which is started (a `current_thread`
/// runtime with every driver enabled, driven by a thread named `ebbtide-tokio`) if it does not
/// run yet.
///
/// [`Compat`] uses it unless the polling thread is inside a Tokio runtime already. Use it
/// directly to spawn Tokio tasks from ebbtide code (they run on the `ebbtide-tokio` thread),
/// or for [`Compat::with_handle`].
///
/// # Panics
///
/// If the runtime cannot be built or its thread cannot be started (the process is out of file
/// descriptors or threads), as Tokio's `Runtime::new().unwrap()` would.
///
/// # Examples
///
/// ```
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     // A Tokio task, on the background runtime, awaited from ebbtide.
///     let task = ebbtide_std::tokio_compat::handle().spawn(async {
///         tokio::time::sleep(std::time::Duration::from_millis(1)).await;
///         7
///     });
///     assert_eq!(task.await.unwrap(), 7);
/// });
/// ```
pub fn handle() -> Handle {
    BACKGROUND.get_or_init(start_background).clone()
}

fn start_background() -> Handle {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        // Tokio's blocking pool (`spawn_blocking`, `tokio::fs`), started on demand.
        .thread_name("ebbtide-tokio-blocking")
        .build()
        .unwrap_or_else(|e| panic!("could not build the background Tokio runtime: {e}"));
    let handle = runtime.handle().clone();
    std::thread::Builder::new()
        .name("ebbtide-tokio".into())
        // The thread drives the runtime's IO and timers, and runs its spawned tasks, for as long
        // as the process lives.
        .spawn(move || runtime.block_on(std::future::pending::<()>()))
        .unwrap_or_else(|e| panic!("could not start the background Tokio runtime's thread: {e}"));
    handle
}

/// The handle a [`Compat`] without one of its own uses: the current Tokio runtime's, if the
/// thread is inside one, else the background runtime's.
fn default_handle() -> Handle {
    Handle::try_current().unwrap_or_else(|_| handle())
}

pin_project! {
    /// A future (or Tokio IO object) that runs inside a Tokio runtime's context while ebbtide
    /// polls it; made by [`compat`], [`CompatExt::compat`] or [`Compat::with_handle`].
    ///
    /// Every poll enters the runtime's context (`Handle::enter`) around the inner future's poll,
    /// and so does dropping it (a Tokio object's destructor may look for the runtime). As a
    /// future, it outputs what the inner future does. Around a Tokio IO object
    /// (`tokio::io::AsyncRead`/`AsyncWrite`), it is an ebbtide [`AsyncRead`]/[`AsyncWrite`],
    /// so ebbtide's IO helpers (`copy`, `BufReader`, ebbtide-hyper's `EbbtideIo`) take it.
    ///
    /// # Cancel safety
    ///
    /// Dropping a `Compat` drops the inner future, inside the runtime's context: as cancel safe
    /// as the inner future is.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::tokio_compat::Compat;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let answer = Compat::new(async {
    ///         tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    ///         42
    ///     });
    ///     assert_eq!(answer.await, 42);
    /// });
    /// ```
    pub struct Compat<T> {
        #[pin]
        inner: Option<T>,
        handle: Option<Handle>,
    }

    impl<T> PinnedDrop for Compat<T> {
        fn drop(this: Pin<&mut Self>) {
            let mut this = this.project();
            if this.inner.is_none() {
                return;
            }
            // The runtime it ran with; if it never ran, the current one or the background one
            // if that runs already (dropping a value never polled starts no runtime).
            let handle = match this.handle.take() {
                Some(handle) => Some(handle),
                None => Handle::try_current().ok().or_else(|| BACKGROUND.get().cloned()),
            };
            let _entered = handle.as_ref().map(Handle::enter);
            // Drops the inner value in place, inside the runtime's context.
            this.inner.set(None);
        }
    }
}

/// Wraps `future` in a [`Compat`]: polled by ebbtide inside a Tokio runtime's context (the
/// background runtime's, unless the polling thread is inside a Tokio runtime already). The same
/// as [`Compat::new`] and [`CompatExt::compat`].
///
/// # Examples
///
/// ```
/// use ebbtide_std::tokio_compat::compat;
///
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let started = std::time::Instant::now();
///     compat(async { tokio::time::sleep(std::time::Duration::from_millis(5)).await }).await;
///     assert!(started.elapsed() >= std::time::Duration::from_millis(5));
/// });
/// ```
pub fn compat<T>(future: T) -> Compat<T> {
    Compat::new(future)
}

impl<T> Compat<T> {
    /// Wraps `inner` to run in the background Tokio runtime's context (or the current Tokio
    /// runtime's, if the thread polling it is inside one).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::tokio_compat::Compat;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let listener = Compat::new(tokio::net::TcpListener::bind("127.0.0.1:0")).await.unwrap();
    ///     assert!(listener.local_addr().unwrap().ip().is_loopback());
    /// });
    /// ```
    pub fn new(inner: T) -> Compat<T> {
        Compat {
            inner: Some(inner),
            handle: None,
        }
    }

    /// Wraps `inner` to run in the context of the runtime `handle` belongs to: an application
    /// that already runs a Tokio runtime of its own (on other threads) uses it instead of the
    /// background one.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::tokio_compat::Compat;
    ///
    /// let tokio_runtime = tokio::runtime::Builder::new_multi_thread()
    ///     .worker_threads(1)
    ///     .thread_name("my-tokio")
    ///     .enable_all()
    ///     .build()
    ///     .unwrap();
    /// let tokio_handle = tokio_runtime.handle().clone();
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async move {
    ///     let on_mine = async {
    ///         tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    ///         tokio::spawn(async { std::thread::current().name().map(str::to_owned) }).await
    ///     };
    ///     let name = Compat::with_handle(on_mine, tokio_handle).await.unwrap();
    ///     assert_eq!(name.as_deref(), Some("my-tokio"));
    /// });
    /// ```
    pub fn with_handle(inner: T, handle: Handle) -> Compat<T> {
        Compat {
            inner: Some(inner),
            handle: Some(handle),
        }
    }

    /// The wrapped value (`None` once the future completed: it is dropped then).
    ///
    /// # Examples
    ///
    /// ```
    /// let wrapped = ebbtide_std::tokio_compat::compat(std::future::ready(3));
    /// assert!(wrapped.get_ref().is_some());
    /// ```
    pub fn get_ref(&self) -> Option<&T> {
        self.inner.as_ref()
    }

    /// The wrapped value, mutably (`None` once the future completed).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut wrapped = ebbtide_std::tokio_compat::compat(Vec::<u8>::new());
    /// wrapped.get_mut().unwrap().push(1);
    /// assert_eq!(wrapped.into_inner(), [1]);
    /// ```
    pub fn get_mut(&mut self) -> Option<&mut T> {
        self.inner.as_mut()
    }

    /// The wrapped value, pinned (`None` once the future completed).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut wrapped = std::pin::pin!(ebbtide_std::tokio_compat::compat(std::future::ready(3)));
    /// assert!(wrapped.as_mut().get_pin_mut().is_some());
    /// ```
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Option<Pin<&mut T>> {
        self.project().inner.as_pin_mut()
    }

    /// Unwraps the value (it is no longer polled in the runtime's context).
    ///
    /// # Panics
    ///
    /// If the future already completed (its output was taken by the poll that returned it).
    ///
    /// # Examples
    ///
    /// ```
    /// let wrapped = ebbtide_std::tokio_compat::compat(std::future::ready(3));
    /// let ready = wrapped.into_inner();
    /// assert_eq!(ebbtide_core::block_on(ready), 3);
    /// ```
    pub fn into_inner(mut self) -> T {
        self.inner
            .take()
            .expect("the Compat future completed; its inner future is gone")
    }

    /// The inner value, and the entered context of the runtime this `Compat` runs with (chosen at
    /// its first poll, if none was given).
    fn project_entered(
        self: Pin<&mut Self>,
    ) -> (Option<Pin<&mut T>>, tokio::runtime::EnterGuard<'_>) {
        let this = self.project();
        let guard = this.handle.get_or_insert_with(default_handle).enter();
        (this.inner.as_pin_mut(), guard)
    }
}

impl<F: Future> Future for Compat<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let mut this = self.project();
        let _entered = this.handle.get_or_insert_with(default_handle).enter();
        let future = this
            .inner
            .as_mut()
            .as_pin_mut()
            .expect("a Compat future polled after it completed");
        let output = std::task::ready!(future.poll(cx));
        // Dropped now, in the runtime's context, rather than later when the Compat is.
        this.inner.set(None);
        Poll::Ready(output)
    }
}

/// Wraps any value in a [`Compat`]: `future.compat()`, as with async-compat's `CompatExt`.
///
/// # Examples
///
/// ```
/// use ebbtide_std::tokio_compat::CompatExt;
///
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let listener = tokio::net::TcpListener::bind("127.0.0.1:0").compat().await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     let (accepted, connected) = ebbtide_std::join!(
///         listener.accept().compat(),
///         tokio::net::TcpStream::connect(addr).compat(),
///     );
///     assert_eq!(accepted.unwrap().1, connected.unwrap().local_addr().unwrap());
/// });
/// ```
pub trait CompatExt: Sized {
    /// Wraps `self` in a [`Compat`] that uses the default runtime ([`Compat::new`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_std::tokio_compat::CompatExt;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let two = async { tokio::task::yield_now().await; 2 }.compat().await;
    ///     assert_eq!(two, 2);
    /// });
    /// ```
    fn compat(self) -> Compat<Self> {
        Compat::new(self)
    }
}

impl<T> CompatExt for T {}

impl<T: fmt::Debug> fmt::Debug for Compat<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Compat")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<T> ErrorType for Compat<T> {
    type Error = io::Error;
}

impl<T: tokio::io::AsyncRead> AsyncRead for Compat<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        poll_tokio_read(self, cx, ReadBuf::new(buf))
    }

    /// Reads straight into `buf`: Tokio's `ReadBuf` takes uninitialised memory, nothing is
    /// zeroed.
    fn poll_read_uninit(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        poll_tokio_read(self, cx, ReadBuf::uninit(buf))
    }
}

fn poll_tokio_read<T: tokio::io::AsyncRead>(
    compat: Pin<&mut Compat<T>>,
    cx: &mut Context<'_>,
    mut buf: ReadBuf<'_>,
) -> Poll<io::Result<usize>> {
    let (inner, _entered) = compat.project_entered();
    std::task::ready!(inner.expect(GONE).poll_read(cx, &mut buf))?;
    Poll::Ready(Ok(buf.filled().len()))
}

const GONE: &str = "a Compat used as IO after its value was taken";

impl<T: tokio::io::AsyncWrite> AsyncWrite for Compat<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let (inner, _entered) = self.project_entered();
        inner.expect(GONE).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[&[u8]],
    ) -> Poll<io::Result<usize>> {
        const MAX_BUFS: usize = 64;
        let mut slices = [IoSlice::new(&[]); MAX_BUFS];
        let mut count = 0;
        for buf in bufs.iter().filter(|buf| !buf.is_empty()).take(MAX_BUFS) {
            slices[count] = IoSlice::new(buf);
            count += 1;
        }
        let (inner, _entered) = self.project_entered();
        inner.expect(GONE).poll_write_vectored(cx, &slices[..count])
    }

    fn is_write_vectored(&self) -> bool {
        self.inner
            .as_ref()
            .is_some_and(tokio::io::AsyncWrite::is_write_vectored)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let (inner, _entered) = self.project_entered();
        inner.expect(GONE).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let (inner, _entered) = self.project_entered();
        inner.expect(GONE).poll_shutdown(cx)
    }
}
