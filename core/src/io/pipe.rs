//! In-memory streams: a one-way [`Pipe`] and a two-way [`Duplex`], with no allocation.
//!
//! No user code runs under a pipe's lock: wakers are cloned before it is taken and dropped or
//! woken after it is released, so a foreign waker may use the pipe again.

use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll};

use super::{AsyncRead, AsyncWrite, ErrorKind, ErrorType};
use crate::blocking_mutex::{BlockingMutex, CriticalSectionRawMutex, NoUserCode, RawMutex};
use crate::sync::waker::{drop_kept, lock_registering, Kept};

/// A one-way in-memory byte stream with an `N`-byte ring buffer, guarded by the lock `M`.
///
/// [`split`](Pipe::split) hands out a [`PipeReader`] and a [`PipeWriter`]. A read waits while
/// the pipe is empty, a write while it is full, and each wakes the other. The reader sees end of
/// stream once the writer is [shut down](super::AsyncWriteExt::shutdown) or dropped and the
/// buffer is drained; writing once the reader is dropped fails with [`ErrorKind::BrokenPipe`].
/// The pipe has a `const` constructor, so it can be a `static`, and it can be split again once
/// both ends are dropped. The error type of both ends is [`ErrorKind`].
///
/// # Examples
///
/// ```
/// use ebbtide_core::io::{AsyncReadExt, AsyncWriteExt, ErrorKind, Pipe, WriteAllError};
/// use ebbtide_core::{Executor, TaskPool};
///
/// static EXECUTOR: Executor = Executor::new();
/// static POOL: TaskPool<1> = TaskPool::new();
/// static PIPE: Pipe<4> = Pipe::new();
///
/// let runner = EXECUTOR.runner().unwrap();
/// let (mut rx, mut tx) = PIPE.split();
/// // 10 bytes through a 4-byte pipe: the writer waits for the reader.
/// let writer = runner
///     .spawner()
///     .spawn(&POOL, async move { tx.write_all(b"0123456789").await })
///     .unwrap();
/// let mut buf = [0u8; 10];
/// runner.run_until(rx.read_exact(&mut buf), || {}).unwrap();
/// assert_eq!(&buf, b"0123456789");
/// assert_eq!(runner.run_until(writer, || {}), Ok(Ok(())));
/// ```
pub struct Pipe<const N: usize, M: RawMutex = CriticalSectionRawMutex> {
    // `NoUserCode`: no closure of this lock runs user code (wakers are cloned, dropped and woken
    // outside it, and no `T` is dropped inside): see `BlockingMutex`.
    state: BlockingMutex<M, State<N>, NoUserCode>,
}

/// The pipe's state.
///
/// Lifecycle of one pair: `split` sets `reader` and `writer`; shutting the writer down sets
/// `write_closed`; dropping an end clears its flag (dropping the writer also sets
/// `write_closed`). With both flags clear, `split` may start the next pair on an empty buffer.
struct State<const N: usize> {
    /// `buf[head..]` then `buf[..]` (wrapping) holds `len` unread bytes.
    buf: [u8; N],
    head: usize,
    len: usize,
    /// The `PipeReader` of the current pair exists.
    reader: bool,
    /// The `PipeWriter` of the current pair exists.
    writer: bool,
    /// No more bytes will be written: the reader gets end of stream once the buffer is empty.
    write_closed: bool,
    /// The reader's waker, while it waits for bytes.
    reader_waker: Option<Kept>,
    /// The writer's waker, while it waits for room.
    writer_waker: Option<Kept>,
}

impl<const N: usize> Pipe<N> {
    crate::loom_const_fn! {
        /// An empty pipe guarded by a [`CriticalSectionRawMutex`]; see [`Pipe::with_mutex`] for
        /// another lock.
        ///
        /// A pipe of capacity 0 is a compile-time error.
        ///
        /// # Examples
        ///
        /// ```
        /// use ebbtide_core::io::Pipe;
        ///
        /// static PIPE: Pipe<64> = Pipe::new();
        /// let (_rx, _tx) = PIPE.split();
        /// ```
        pub fn new() -> Pipe<N> {
            Pipe::with_mutex()
        }
    }
}

impl<const N: usize, M: RawMutex> Pipe<N, M> {
    crate::loom_const_fn! {
        /// An empty pipe guarded by the lock `M`.
        ///
        /// # Examples
        ///
        /// ```
        /// use ebbtide_core::blocking_mutex::LocalRawMutex;
        /// use ebbtide_core::io::{AsyncWriteExt, Pipe};
        ///
        /// // Both ends used by tasks of one executor: no lock needed.
        /// let pipe = Pipe::<8, LocalRawMutex>::with_mutex();
        /// let (_rx, mut tx) = pipe.split();
        /// ebbtide_core::block_on(tx.write_all(b"x")).unwrap();
        /// ```
        pub fn with_mutex() -> Pipe<N, M> {
            const { assert!(N > 0, "a Pipe needs a capacity of at least one byte") };
            Pipe {
                state: BlockingMutex::new(State {
                    buf: [0; N],
                    head: 0,
                    len: 0,
                    reader: false,
                    writer: false,
                    write_closed: false,
                    reader_waker: None,
                    writer_waker: None,
                }),
            }
        }
    }

    /// The two ends of the pipe: the [`PipeReader`] and the [`PipeWriter`].
    ///
    /// # Panics
    ///
    /// If an end of the previous pair is still alive; use [`try_split`](Pipe::try_split) to get
    /// an error instead.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::io::{AsyncReadExt, AsyncWriteExt, Pipe};
    ///
    /// let pipe: Pipe<8> = Pipe::new();
    /// let (mut rx, mut tx) = pipe.split();
    /// ebbtide_core::block_on(async {
    ///     tx.write_all(b"1").await.unwrap();
    ///     let mut byte = [0u8];
    ///     rx.read_exact(&mut byte).await.unwrap();
    /// });
    /// drop((rx, tx));
    /// let (_rx, _tx) = pipe.split(); // a fresh, empty pair
    /// ```
    pub fn split(&self) -> (PipeReader<'_, N, M>, PipeWriter<'_, N, M>) {
        match self.try_split() {
            Ok(ends) => ends,
            Err(error) => panic!("{error}"),
        }
    }

    /// The two ends of the pipe, or [`AlreadySplit`] while an end of the previous pair is alive.
    ///
    /// # Errors
    ///
    /// [`AlreadySplit`] if the `PipeReader` or the `PipeWriter` of the previous pair still
    /// exists.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::io::Pipe;
    ///
    /// let pipe: Pipe<8> = Pipe::new();
    /// let (rx, tx) = pipe.try_split().unwrap();
    /// assert!(pipe.try_split().is_err());
    /// drop(rx);
    /// drop(tx);
    /// assert!(pipe.try_split().is_ok());
    /// ```
    #[allow(clippy::type_complexity)] // the same pair `split` returns
    pub fn try_split(&self) -> Result<(PipeReader<'_, N, M>, PipeWriter<'_, N, M>), AlreadySplit> {
        let old = self.state.lock(|state| {
            if state.reader || state.writer {
                return Err(AlreadySplit(()));
            }
            state.reader = true;
            state.writer = true;
            state.write_closed = false;
            state.head = 0;
            state.len = 0;
            // Normally empty already; dropped after unlocking.
            Ok((state.reader_waker.take(), state.writer_waker.take()))
        });
        let (reader, writer) = old?;
        drop_kept(reader);
        drop_kept(writer);
        Ok((PipeReader { pipe: self }, PipeWriter { pipe: self }))
    }

    /// Whether an end of the current pair is alive, so [`split`](Pipe::split) would panic.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::io::Pipe;
    ///
    /// let pipe: Pipe<8> = Pipe::new();
    /// assert!(!pipe.is_split());
    /// let ends = pipe.split();
    /// assert!(pipe.is_split());
    /// drop(ends);
    /// assert!(!pipe.is_split());
    /// ```
    pub fn is_split(&self) -> bool {
        self.state.lock(|state| state.reader || state.writer)
    }
}

impl<const N: usize> Default for Pipe<N> {
    fn default() -> Self {
        Pipe::new()
    }
}

impl<const N: usize, M: RawMutex> fmt::Debug for Pipe<N, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (len, reader, writer, write_closed) = self
            .state
            .lock(|state| (state.len, state.reader, state.writer, state.write_closed));
        f.debug_struct("Pipe")
            .field("capacity", &N)
            .field("len", &len)
            .field("reader", &reader)
            .field("writer", &writer)
            .field("write_closed", &write_closed)
            .finish()
    }
}

/// The reading end of a [`Pipe`]; implements [`AsyncRead`] with [`ErrorKind`] errors (it never
/// fails).
///
/// # Examples
///
/// ```
/// use ebbtide_core::io::{AsyncReadExt, AsyncWriteExt, Pipe};
///
/// let pipe: Pipe<8> = Pipe::new();
/// let (mut rx, mut tx) = pipe.split();
/// ebbtide_core::block_on(async {
///     tx.write_all(b"ok").await.unwrap();
///     tx.shutdown().await.unwrap();
///     let mut buf = [0u8; 8];
///     assert_eq!(rx.read_to_limit(&mut buf).await, Ok(2));
/// });
/// ```
pub struct PipeReader<'a, const N: usize, M: RawMutex = CriticalSectionRawMutex> {
    pipe: &'a Pipe<N, M>,
}

/// The writing end of a [`Pipe`]; implements [`AsyncWrite`] with [`ErrorKind`] errors.
///
/// Shut it down (or drop it) to give the reader end of stream.
///
/// # Examples
///
/// ```
/// use ebbtide_core::io::{AsyncWriteExt, ErrorKind, Pipe, WriteAllError};
///
/// let pipe: Pipe<8> = Pipe::new();
/// let (rx, mut tx) = pipe.split();
/// drop(rx);
/// let result = ebbtide_core::block_on(tx.write_all(b"anyone?"));
/// assert_eq!(result, Err(WriteAllError::Other(ErrorKind::BrokenPipe)));
/// ```
pub struct PipeWriter<'a, const N: usize, M: RawMutex = CriticalSectionRawMutex> {
    pipe: &'a Pipe<N, M>,
}

impl<const N: usize, M: RawMutex> ErrorType for PipeReader<'_, N, M> {
    type Error = ErrorKind;
}

impl<const N: usize, M: RawMutex> ErrorType for PipeWriter<'_, N, M> {
    type Error = ErrorKind;
}

impl<const N: usize, M: RawMutex> AsyncRead for PipeReader<'_, N, M> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<Result<usize, ErrorKind>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if crate::task::poll_budget(cx).is_pending() {
            return Poll::Pending;
        }
        // A replaced waker is dropped outside the lock.
        let (poll, wake) = lock_registering(&self.pipe.state, cx.waker(), |state, waker| {
            if state.len == 0 {
                if state.write_closed {
                    return Ok((Poll::Ready(Ok(0)), None));
                }
                waker.store(&mut state.reader_waker)?;
                return Ok((Poll::Pending, None));
            }
            let n = buf.len().min(state.len);
            // The unread bytes may wrap: copy up to the end of the array, then from its start.
            let first = n.min(N - state.head);
            buf[..first].copy_from_slice(&state.buf[state.head..state.head + first]);
            buf[first..n].copy_from_slice(&state.buf[..n - first]);
            state.head = (state.head + n) % N;
            state.len -= n;
            Ok((Poll::Ready(Ok(n)), state.writer_waker.take()))
        });
        if let Some(waker) = wake {
            waker.wake();
        }
        poll
    }
}

impl<const N: usize, M: RawMutex> AsyncWrite for PipeWriter<'_, N, M> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<Result<usize, ErrorKind>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if crate::task::poll_budget(cx).is_pending() {
            return Poll::Pending;
        }
        // A replaced waker is dropped outside the lock.
        let (poll, wake) = lock_registering(&self.pipe.state, cx.waker(), |state, waker| {
            if !state.reader || state.write_closed {
                return Ok((Poll::Ready(Err(ErrorKind::BrokenPipe)), None));
            }
            let room = N - state.len;
            if room == 0 {
                waker.store(&mut state.writer_waker)?;
                return Ok((Poll::Pending, None));
            }
            let n = buf.len().min(room);
            // Free space starts at `tail` and may wrap, as the unread bytes do.
            let tail = (state.head + state.len) % N;
            let first = n.min(N - tail);
            state.buf[tail..tail + first].copy_from_slice(&buf[..first]);
            state.buf[..n - first].copy_from_slice(&buf[first..n]);
            state.len += n;
            Ok((Poll::Ready(Ok(n)), state.reader_waker.take()))
        });
        if let Some(waker) = wake {
            waker.wake();
        }
        poll
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), ErrorKind>> {
        // Written bytes are in the pipe already: nothing to push.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), ErrorKind>> {
        self.pipe.close_write();
        Poll::Ready(Ok(()))
    }
}

impl<const N: usize, M: RawMutex> Pipe<N, M> {
    /// Marks the write side closed and wakes the reader to see end of stream.
    fn close_write(&self) {
        let waker = self.state.lock(|state| {
            state.write_closed = true;
            state.reader_waker.take()
        });
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<const N: usize, M: RawMutex> Drop for PipeReader<'_, N, M> {
    fn drop(&mut self) {
        let (own, waker) = self.pipe.state.lock(|state| {
            state.reader = false;
            // The writer, if waiting for room, now gets `BrokenPipe`.
            (state.reader_waker.take(), state.writer_waker.take())
        });
        drop_kept(own);
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<const N: usize, M: RawMutex> Drop for PipeWriter<'_, N, M> {
    fn drop(&mut self) {
        let (own, waker) = self.pipe.state.lock(|state| {
            state.writer = false;
            state.write_closed = true;
            (state.writer_waker.take(), state.reader_waker.take())
        });
        drop_kept(own);
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<const N: usize, M: RawMutex> fmt::Debug for PipeReader<'_, N, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PipeReader")
            .field("pipe", self.pipe)
            .finish()
    }
}

impl<const N: usize, M: RawMutex> fmt::Debug for PipeWriter<'_, N, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PipeWriter")
            .field("pipe", self.pipe)
            .finish()
    }
}

/// A two-way in-memory stream: two [`Pipe`]s of `N` bytes, one each way.
///
/// [`split`](Duplex::split) gives two connected [`DuplexStream`]s: what one writes, the other
/// reads. Like a socket pair, for testing protocol code and proxies without an OS.
///
/// # Examples
///
/// ```
/// use ebbtide_core::io::{AsyncReadExt, AsyncWriteExt, Duplex};
///
/// static LINK: Duplex<16> = Duplex::new();
/// let (mut client, mut server) = LINK.split();
/// ebbtide_core::block_on(async {
///     client.write_all(b"ping").await.unwrap();
///     let mut buf = [0u8; 4];
///     server.read_exact(&mut buf).await.unwrap();
///     server.write_all(b"pong").await.unwrap();
///     client.read_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"pong");
/// });
/// ```
#[derive(Debug)]
pub struct Duplex<const N: usize, M: RawMutex = CriticalSectionRawMutex> {
    a_to_b: Pipe<N, M>,
    b_to_a: Pipe<N, M>,
}

impl<const N: usize> Duplex<N> {
    crate::loom_const_fn! {
        /// A duplex guarded by [`CriticalSectionRawMutex`]es; see [`Duplex::with_mutex`] for
        /// another lock.
        ///
        /// # Examples
        ///
        /// ```
        /// use ebbtide_core::io::Duplex;
        ///
        /// static LINK: Duplex<64> = Duplex::new();
        /// let (_a, _b) = LINK.split();
        /// ```
        pub fn new() -> Duplex<N> {
            Duplex::with_mutex()
        }
    }
}

impl<const N: usize> Default for Duplex<N> {
    fn default() -> Self {
        Duplex::new()
    }
}

impl<const N: usize, M: RawMutex> Duplex<N, M> {
    crate::loom_const_fn! {
        /// A duplex guarded by locks `M`.
        ///
        /// # Examples
        ///
        /// ```
        /// use ebbtide_core::blocking_mutex::LocalRawMutex;
        /// use ebbtide_core::io::Duplex;
        ///
        /// let link = Duplex::<8, LocalRawMutex>::with_mutex();
        /// let (_a, _b) = link.split();
        /// ```
        pub fn with_mutex() -> Duplex<N, M> {
            Duplex {
                a_to_b: Pipe::with_mutex(),
                b_to_a: Pipe::with_mutex(),
            }
        }
    }

    /// The two connected ends.
    ///
    /// # Panics
    ///
    /// If an end of the previous pair is still alive; use [`try_split`](Duplex::try_split) to get
    /// an error instead.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::io::Duplex;
    ///
    /// let link: Duplex<8> = Duplex::new();
    /// let ends = link.split();
    /// drop(ends);
    /// let _again = link.split();
    /// ```
    pub fn split(&self) -> (DuplexStream<'_, N, M>, DuplexStream<'_, N, M>) {
        match self.try_split() {
            Ok(ends) => ends,
            Err(error) => panic!("{error}"),
        }
    }

    /// The two connected ends, or [`AlreadySplit`] while an end of the previous pair is alive.
    ///
    /// # Errors
    ///
    /// [`AlreadySplit`] if a `DuplexStream` of the previous pair still exists.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::io::Duplex;
    ///
    /// let link: Duplex<8> = Duplex::new();
    /// let ends = link.try_split().unwrap();
    /// assert!(link.try_split().is_err());
    /// drop(ends);
    /// assert!(link.try_split().is_ok());
    /// ```
    #[allow(clippy::type_complexity)] // the same pair `split` returns
    pub fn try_split(
        &self,
    ) -> Result<(DuplexStream<'_, N, M>, DuplexStream<'_, N, M>), AlreadySplit> {
        let (a_rx, a_tx) = self.b_to_a.try_split()?;
        // If this fails, the first pair's ends are dropped again on return, leaving it unsplit.
        let (b_rx, b_tx) = self.a_to_b.try_split()?;
        Ok((
            DuplexStream {
                reader: a_rx,
                writer: b_tx,
            },
            DuplexStream {
                reader: b_rx,
                writer: a_tx,
            },
        ))
    }
}

/// One end of a [`Duplex`]: reads what the other end writes and writes what it reads.
///
/// [`shutdown`](super::AsyncWriteExt::shutdown) closes only this end's write direction, as on a
/// TCP socket.
///
/// # Examples
///
/// ```
/// use ebbtide_core::io::{AsyncReadExt, AsyncWriteExt, Duplex};
///
/// let link: Duplex<8> = Duplex::new();
/// let (mut a, mut b) = link.split();
/// ebbtide_core::block_on(async {
///     a.shutdown().await.unwrap();
///     assert_eq!(b.read(&mut [0u8; 4]).await, Ok(0)); // a's direction ended
///     b.write_all(b"still").await.unwrap(); // b's goes on
///     let mut buf = [0u8; 5];
///     a.read_exact(&mut buf).await.unwrap();
/// });
/// ```
#[derive(Debug)]
pub struct DuplexStream<'a, const N: usize, M: RawMutex = CriticalSectionRawMutex> {
    reader: PipeReader<'a, N, M>,
    writer: PipeWriter<'a, N, M>,
}

impl<const N: usize, M: RawMutex> ErrorType for DuplexStream<'_, N, M> {
    type Error = ErrorKind;
}

impl<const N: usize, M: RawMutex> AsyncRead for DuplexStream<'_, N, M> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<Result<usize, ErrorKind>> {
        Pin::new(&mut self.get_mut().reader).poll_read(cx, buf)
    }
}

impl<const N: usize, M: RawMutex> AsyncWrite for DuplexStream<'_, N, M> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<Result<usize, ErrorKind>> {
        Pin::new(&mut self.get_mut().writer).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), ErrorKind>> {
        Pin::new(&mut self.get_mut().writer).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), ErrorKind>> {
        Pin::new(&mut self.get_mut().writer).poll_shutdown(cx)
    }
}

/// The error of [`Pipe::try_split`] and [`Duplex::try_split`]: an end of the previous pair is
/// still alive.
///
/// # Examples
///
/// ```
/// use ebbtide_core::io::Pipe;
///
/// let pipe: Pipe<8> = Pipe::new();
/// let _ends = pipe.split();
/// let error = pipe.try_split().unwrap_err();
/// assert!(error.to_string().contains("still alive"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AlreadySplit(());

impl fmt::Display for AlreadySplit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "io pipe split while an end of the previous pair is still alive: drop both ends \
             before splitting again",
        )
    }
}

impl core::error::Error for AlreadySplit {}
