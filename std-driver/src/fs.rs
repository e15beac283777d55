//! Files, without blocking the runtime: each operation runs on the [blocking pool](crate::blocking).
//!
//! Operating systems offer no readiness for regular files (epoll refuses them, kqueue calls them
//! always ready), so, like Tokio, every call here hands a `std::fs` call to
//! [`spawn_blocking`](crate::spawn_blocking) and awaits it. Each call costs a thread hand-off and
//! one allocation; read and write in large chunks.
//!
//! - Whole files: [`read`], [`read_to_string`], [`write()`].
//! - The tree: [`metadata`], [`read_dir`], [`remove_file`], [`create_dir_all`].
//! - Ranges of an open file: [`read_range`], which reads what the page cache holds without the
//!   pool (Linux).
//! - Streams: [`File`], with `read`/`write`/`seek` in chunks through one buffer of its own, and
//!   ebbtide's [`AsyncRead`]/[`AsyncWrite`] traits.
//!
//! Errors are `std::fs`'s: a missing file is `io::ErrorKind::NotFound`. If the runtime shut
//! down before the job could run, or the job panicked, the error is `io::ErrorKind::Other`.
//!
//! # Cancel safety
//!
//! The free functions are not cancel safe in the sense that matters for files: dropping the
//! future does not stop the operation, which runs to its end on its pool thread (a `write` may
//! still create the file). Its result is dropped.
//!
//! # Examples
//!
//! ```
//! use ebbtide_std::fs;
//!
//! ebbtide_std::Runtime::new().unwrap().block_on(async {
//!     let dir = std::env::temp_dir().join(format!("ebbtide-fs-doc-{}", std::process::id()));
//!     fs::create_dir_all(&dir).await.unwrap();
//!     let path = dir.join("greeting.txt");
//!     fs::write(&path, "hello").await.unwrap();
//!     assert_eq!(fs::read_to_string(&path).await.unwrap(), "hello");
//!     fs::remove_file(&path).await.unwrap();
//!     # std::fs::remove_dir(&dir).unwrap();
//! });
//! ```

use std::fmt;
use std::future::{poll_fn, Future};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use ebbtide_core::io::{AsyncRead, AsyncWrite, ErrorType};

use crate::blocking::BlockingHandle;
use crate::task::JoinError;

/// Reads up to `len` bytes of `file` from `offset` (its own position is neither used nor
/// moved): fewer only if the file ends first.
///
/// Bytes already in the page cache are read right here, on the runtime's thread, without a
/// trip to the blocking pool: on Linux with `preadv2(2)` and `RWF_NOWAIT`, which reads only
/// what needs no disk. The rest (bytes not cached, or every byte where the OS, kernel or file
/// system offers no `RWF_NOWAIT`) is read on the [blocking pool](crate::blocking), as the rest
/// of this module does. A file server's small, often-asked files thus cost no thread hand-off.
///
/// # Errors
///
/// The file's read errors, and `io::ErrorKind::Other` if the blocking job could not run (the
/// runtime shut down).
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
///
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let path = std::env::temp_dir().join(format!("ebbtide-doc-range-{}", std::process::id()));
///     std::fs::write(&path, b"0123456789").unwrap();
///     let file = Arc::new(std::fs::File::open(&path).unwrap());
///     assert_eq!(ebbtide_std::fs::read_range(&file, 2, 3).await.unwrap(), b"234");
///     // Past the end: what there is.
///     assert_eq!(ebbtide_std::fs::read_range(&file, 8, 100).await.unwrap(), b"89");
///     # std::fs::remove_file(&path).unwrap();
/// });
/// ```
pub async fn read_range(file: &Arc<std::fs::File>, offset: u64, len: usize) -> io::Result<Vec<u8>> {
    read_range_with(file, offset, len, crate::sys::read_nowait::read_nowait).await
}

type ReadNoWait =
    fn(std::os::fd::BorrowedFd<'_>, &mut [u8], u64) -> io::Result<crate::sys::read_nowait::NoWait>;

/// [`read_range`] with the page-cache read given (tests make it refuse).
pub(crate) async fn read_range_with(
    file: &Arc<std::fs::File>,
    offset: u64,
    len: usize,
    read_nowait: ReadNoWait,
) -> io::Result<Vec<u8>> {
    use crate::sys::read_nowait::NoWait;
    use std::os::fd::AsFd;

    let mut buf = vec![0u8; len];
    let mut filled = 0;
    while filled < len {
        match read_nowait(file.as_fd(), &mut buf[filled..], offset + filled as u64)? {
            NoWait::Read(0) => {
                buf.truncate(filled);
                return Ok(buf);
            }
            NoWait::Read(n) => filled += n,
            NoWait::WouldBlock | NoWait::Unsupported => break,
        }
    }
    if filled == len {
        return Ok(buf);
    }
    let file = Arc::clone(file);
    asyncify(move || {
        use std::os::unix::fs::FileExt;
        while filled < buf.len() {
            match file.read_at(&mut buf[filled..], offset + filled as u64) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        buf.truncate(filled);
        Ok(buf)
    })
    .await
}

/// The largest chunk one [`File`] operation moves: a read or write of a larger buffer moves
/// this much (a short read or write, as the traits allow). It bounds the memory a `File` holds.
///
/// # Examples
///
/// ```
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let path = std::env::temp_dir().join(format!("ebbtide-doc-chunk-{}", std::process::id()));
///     let mut file = ebbtide_std::fs::File::create(&path).await.unwrap();
///     let big = vec![0u8; 2 * ebbtide_std::fs::MAX_CHUNK];
///     assert_eq!(file.write(&big).await.unwrap(), ebbtide_std::fs::MAX_CHUNK);
///     file.flush().await.unwrap();
///     # std::fs::remove_file(&path).unwrap();
/// });
/// ```
pub const MAX_CHUNK: usize = 256 * 1024;

/// Runs `f` on the blocking pool and turns a failed job into an `io::Error`.
async fn asyncify<T: Send + 'static>(
    f: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    crate::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(job_error(e)))
}

fn job_error(error: JoinError) -> io::Error {
    io::Error::other(format!(
        "the blocking file operation did not complete: {error}"
    ))
}

/// Reads a whole file into a `Vec`; see [`std::fs::read`].
///
/// # Errors
///
/// As [`std::fs::read`]: `NotFound` for a missing file, and so on.
///
/// # Cancel safety
///
/// Dropping the future does not stop the read; its bytes are dropped.
///
/// # Examples
///
/// ```
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let error = ebbtide_std::fs::read("/no/such/file").await.unwrap_err();
///     assert_eq!(error.kind(), std::io::ErrorKind::NotFound);
/// });
/// ```
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::read(path)).await
}

/// Reads a whole UTF-8 file into a `String`; see [`std::fs::read_to_string`].
///
/// # Errors
///
/// As [`std::fs::read_to_string`]; `InvalidData` if the file is not UTF-8.
///
/// # Cancel safety
///
/// Dropping the future does not stop the read; its text is dropped.
///
/// # Examples
///
/// ```
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let path = std::env::temp_dir().join(format!("ebbtide-doc-rts-{}", std::process::id()));
///     ebbtide_std::fs::write(&path, "text").await.unwrap();
///     assert_eq!(ebbtide_std::fs::read_to_string(&path).await.unwrap(), "text");
///     # std::fs::remove_file(&path).unwrap();
/// });
/// ```
pub async fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::read_to_string(path)).await
}

/// Creates or truncates a file and writes `contents` to it; see [`std::fs::write`].
///
/// The contents are copied into the job (it must own them while the future may be dropped).
///
/// # Errors
///
/// As [`std::fs::write`]: `NotFound` if the directory does not exist, and so on.
///
/// # Cancel safety
///
/// Dropping the future does not stop the write: the file is still written.
///
/// # Examples
///
/// ```
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let path = std::env::temp_dir().join(format!("ebbtide-doc-write-{}", std::process::id()));
///     ebbtide_std::fs::write(&path, [1u8, 2, 3]).await.unwrap();
///     assert_eq!(ebbtide_std::fs::read(&path).await.unwrap(), [1, 2, 3]);
///     # std::fs::remove_file(&path).unwrap();
/// });
/// ```
pub async fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    let contents = contents.as_ref().to_owned();
    asyncify(move || std::fs::write(path, contents)).await
}

/// The metadata of a path, following symbolic links; see [`std::fs::metadata`].
///
/// # Errors
///
/// As [`std::fs::metadata`]: `NotFound` for a missing path, and so on.
///
/// # Cancel safety
///
/// Cancel safe: it changes nothing.
///
/// # Examples
///
/// ```
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     assert!(ebbtide_std::fs::metadata("/").await.unwrap().is_dir());
/// });
/// ```
pub async fn metadata(path: impl AsRef<Path>) -> io::Result<std::fs::Metadata> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::metadata(path)).await
}

/// The entries of a directory, collected in one blocking job; see [`std::fs::read_dir`].
///
/// Entries come in the OS's order (not sorted), without `.` and `..`. The whole listing is held
/// in memory: for a huge directory, walk `std::fs::read_dir` inside
/// [`spawn_blocking`](crate::spawn_blocking) instead.
///
/// # Errors
///
/// As [`std::fs::read_dir`], or the first error met while listing.
///
/// # Cancel safety
///
/// Cancel safe: it changes nothing.
///
/// # Examples
///
/// ```
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let dir = std::env::temp_dir().join(format!("ebbtide-doc-readdir-{}", std::process::id()));
///     ebbtide_std::fs::create_dir_all(&dir).await.unwrap();
///     ebbtide_std::fs::write(dir.join("a"), "").await.unwrap();
///     let entries = ebbtide_std::fs::read_dir(&dir).await.unwrap();
///     assert_eq!(entries.len(), 1);
///     assert_eq!(entries[0].file_name(), "a");
///     # std::fs::remove_dir_all(&dir).unwrap();
/// });
/// ```
pub async fn read_dir(path: impl AsRef<Path>) -> io::Result<Vec<std::fs::DirEntry>> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::read_dir(path)?.collect()).await
}

/// Removes a file; see [`std::fs::remove_file`].
///
/// # Errors
///
/// As [`std::fs::remove_file`]: `NotFound` for a missing file, and so on.
///
/// # Cancel safety
///
/// Dropping the future does not stop the removal.
///
/// # Examples
///
/// ```
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let path = std::env::temp_dir().join(format!("ebbtide-doc-rm-{}", std::process::id()));
///     ebbtide_std::fs::write(&path, "x").await.unwrap();
///     ebbtide_std::fs::remove_file(&path).await.unwrap();
///     assert!(ebbtide_std::fs::metadata(&path).await.is_err());
/// });
/// ```
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::remove_file(path)).await
}

/// Creates a directory and every missing parent; see [`std::fs::create_dir_all`].
///
/// # Errors
///
/// As [`std::fs::create_dir_all`]; an existing directory is not an error.
///
/// # Cancel safety
///
/// Dropping the future does not stop the creation.
///
/// # Examples
///
/// ```
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let dir = std::env::temp_dir().join(format!("ebbtide-doc-mkdir-{}", std::process::id()));
///     ebbtide_std::fs::create_dir_all(dir.join("a/b")).await.unwrap();
///     assert!(ebbtide_std::fs::metadata(dir.join("a/b")).await.unwrap().is_dir());
///     # std::fs::remove_dir_all(&dir).unwrap();
/// });
/// ```
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::create_dir_all(path)).await
}

/// An open file; reads, writes and seeks run on the blocking pool.
///
/// A `File` owns one buffer of at most [`MAX_CHUNK`] bytes, reused by every operation, so
/// streaming a file of any size in chunks holds bounded memory:
///
/// - [`read`](File::read) reads at most `min(buf.len(), MAX_CHUNK)` bytes into the file's buffer
///   on a pool thread, then copies them to the caller's `buf`.
/// - [`write`](File::write) copies at most `MAX_CHUNK` bytes into the buffer, starts writing them
///   on a pool thread and returns at once, like a buffered writer: an error of that write is
///   returned by the next operation. Call [`flush`](File::flush) (or
///   [`sync_all`](File::sync_all)) to wait for it; dropping a `File` with a write in flight lets
///   the write finish, but its error is lost.
/// - One operation is in flight at a time; the next one waits for it.
///
/// It implements ebbtide's [`AsyncRead`] and [`AsyncWrite`] (`poll_shutdown` flushes), so the
/// helpers of [`ebbtide_core::io`] (`read_exact`, `write_all`, `copy`, ...) work on it.
///
/// # Examples
///
/// ```
/// use ebbtide_std::fs::File;
///
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let path = std::env::temp_dir().join(format!("ebbtide-doc-file-{}", std::process::id()));
///     let mut file = File::create(&path).await.unwrap();
///     file.write_all(b"chunk one, chunk two").await.unwrap();
///     file.flush().await.unwrap();
///
///     let mut file = File::open(&path).await.unwrap();
///     let mut chunk = [0u8; 9];
///     let mut copy = Vec::new();
///     loop {
///         let n = file.read(&mut chunk).await.unwrap();
///         if n == 0 {
///             break;
///         }
///         copy.extend_from_slice(&chunk[..n]);
///     }
///     assert_eq!(copy, b"chunk one, chunk two");
///     # std::fs::remove_file(&path).unwrap();
/// });
/// ```
pub struct File {
    std: Arc<std::fs::File>,
    state: State,
    /// The error of a write that finished after its `write` call returned.
    write_error: Option<io::Error>,
}

enum State {
    /// No operation in flight. `None` only before the first operation, or after a failed job.
    Idle(Option<Buf>),
    /// One operation on a pool thread; it hands the buffer back.
    Busy(BlockingHandle<(Op, Buf)>),
}

/// The result of the operation that was in flight.
enum Op {
    Read(io::Result<usize>),
    Write(io::Result<()>),
    Seek(io::Result<u64>),
}

/// The file's buffer: `data[pos..]` are bytes read from the file and not yet handed out.
#[derive(Default)]
struct Buf {
    data: Vec<u8>,
    pos: usize,
}

impl Buf {
    fn unread(&self) -> usize {
        self.data.len() - self.pos
    }

    fn clear(&mut self) {
        self.data.clear();
        self.pos = 0;
    }

    /// Copies unread bytes into `dst`.
    fn copy_to(&mut self, dst: &mut [u8]) -> usize {
        let n = self.unread().min(dst.len());
        dst[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        n
    }

    /// Reads at most `len` bytes from `file` into the buffer (on a pool thread).
    fn read_from(&mut self, mut file: &std::fs::File, len: usize) -> io::Result<usize> {
        self.clear();
        self.data.resize(len, 0);
        let result = loop {
            match file.read(&mut self.data) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                result => break result,
            }
        };
        self.data.truncate(*result.as_ref().unwrap_or(&0));
        result
    }
}

impl File {
    /// Opens a file for reading; see [`std::fs::File::open`].
    ///
    /// # Errors
    ///
    /// As [`std::fs::File::open`]: `NotFound` for a missing file, and so on.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a file opened after the future was dropped is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let error = ebbtide_std::fs::File::open("/no/such/file").await.unwrap_err();
    ///     assert_eq!(error.kind(), std::io::ErrorKind::NotFound);
    /// });
    /// ```
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        let path = path.as_ref().to_owned();
        asyncify(move || std::fs::File::open(path))
            .await
            .map(File::from_std)
    }

    /// Creates a file for writing, truncating it if it exists; see [`std::fs::File::create`].
    ///
    /// # Errors
    ///
    /// As [`std::fs::File::create`]: `NotFound` if the directory does not exist, and so on.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future does not stop the creation: the file may still be created (and
    /// truncated).
    ///
    /// # Examples
    ///
    /// ```
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let path = std::env::temp_dir().join(format!("ebbtide-doc-create-{}", std::process::id()));
    ///     let mut file = ebbtide_std::fs::File::create(&path).await.unwrap();
    ///     assert_eq!(file.metadata().await.unwrap().len(), 0);
    ///     # std::fs::remove_file(&path).unwrap();
    /// });
    /// ```
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        let path: PathBuf = path.as_ref().to_owned();
        asyncify(move || std::fs::File::create(path))
            .await
            .map(File::from_std)
    }

    /// Wraps an open `std::fs::File` (opened with any `OpenOptions`).
    ///
    /// # Examples
    ///
    /// ```
    /// let std_file = std::fs::File::open("/").unwrap();
    /// let file = ebbtide_std::fs::File::from_std(std_file);
    /// # drop(file);
    /// ```
    pub fn from_std(file: std::fs::File) -> File {
        File {
            std: Arc::new(file),
            state: State::Idle(None),
            write_error: None,
        }
    }

    /// Reads at most `min(buf.len(), MAX_CHUNK)` bytes into `buf`; `Ok(0)` at the end of the
    /// file (or for an empty `buf`).
    ///
    /// Bytes a previous, dropped `read` fetched are returned first, so nothing is lost.
    ///
    /// # Errors
    ///
    /// The read's error, or that of an earlier write (see [`File`]).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a read in flight when the future is dropped completes on its thread, and its
    /// bytes are kept for the next `read`.
    ///
    /// # Examples
    ///
    /// ```
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let path = std::env::temp_dir().join(format!("ebbtide-doc-read-{}", std::process::id()));
    ///     ebbtide_std::fs::write(&path, "abc").await.unwrap();
    ///     let mut file = ebbtide_std::fs::File::open(&path).await.unwrap();
    ///     let mut buf = [0u8; 2];
    ///     assert_eq!(file.read(&mut buf).await.unwrap(), 2);
    ///     assert_eq!(file.read(&mut buf).await.unwrap(), 1);
    ///     assert_eq!(file.read(&mut buf).await.unwrap(), 0);
    ///     # std::fs::remove_file(&path).unwrap();
    /// });
    /// ```
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_read_inner(cx, buf)).await
    }

    /// Writes at most `min(buf.len(), MAX_CHUNK)` bytes of `buf`, returning how many were taken.
    ///
    /// The bytes are copied into the file's buffer and written on a pool thread; this returns
    /// once the previous operation finished and the write started. Its error, if any, comes
    /// from the next operation; [`flush`](File::flush) waits for it.
    ///
    /// # Errors
    ///
    /// The error of an earlier write.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped before it returned, none of `buf` was taken.
    ///
    /// # Examples
    ///
    /// ```
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let path = std::env::temp_dir().join(format!("ebbtide-doc-fwrite-{}", std::process::id()));
    ///     let mut file = ebbtide_std::fs::File::create(&path).await.unwrap();
    ///     assert_eq!(file.write(b"xyz").await.unwrap(), 3);
    ///     file.flush().await.unwrap();
    ///     assert_eq!(ebbtide_std::fs::read(&path).await.unwrap(), b"xyz");
    ///     # std::fs::remove_file(&path).unwrap();
    /// });
    /// ```
    pub async fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_write_inner(cx, buf)).await
    }

    /// Writes all of `buf`, in chunks of at most [`MAX_CHUNK`]; like `write` in a loop.
    ///
    /// # Errors
    ///
    /// The first write error met.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: if the future is dropped, an unknown prefix of `buf` was written.
    ///
    /// # Examples
    ///
    /// ```
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let path = std::env::temp_dir().join(format!("ebbtide-doc-wall-{}", std::process::id()));
    ///     let mut file = ebbtide_std::fs::File::create(&path).await.unwrap();
    ///     file.write_all(&vec![7u8; 1 << 20]).await.unwrap();
    ///     file.flush().await.unwrap();
    ///     assert_eq!(file.metadata().await.unwrap().len(), 1 << 20);
    ///     # std::fs::remove_file(&path).unwrap();
    /// });
    /// ```
    pub async fn write_all(&mut self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            let n = self.write(buf).await?;
            buf = &buf[n..];
        }
        Ok(())
    }

    /// Waits for a write in flight to finish, and returns its error if it failed.
    ///
    /// This does not ask the OS to put data on the disk; see [`sync_all`](File::sync_all).
    ///
    /// # Errors
    ///
    /// The error of the last write.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the write goes on, and a later operation reports its error.
    ///
    /// # Examples
    ///
    /// ```
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let path = std::env::temp_dir().join(format!("ebbtide-doc-flush-{}", std::process::id()));
    ///     let mut file = ebbtide_std::fs::File::create(&path).await.unwrap();
    ///     file.write_all(b"abc").await.unwrap();
    ///     file.flush().await.unwrap(); // the write finished (or its error is here)
    ///     assert_eq!(std::fs::read(&path).unwrap(), b"abc");
    ///     # std::fs::remove_file(&path).unwrap();
    /// });
    /// ```
    pub async fn flush(&mut self) -> io::Result<()> {
        poll_fn(|cx| self.poll_flush_inner(cx)).await
    }

    /// Moves the file's cursor; returns the new position from the start.
    ///
    /// Bytes that were read into the file's buffer and not yet returned are discarded (a
    /// `SeekFrom::Current` offset counts from the position the caller has read to).
    ///
    /// # Errors
    ///
    /// The seek's error, or that of an earlier write.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: the seek may happen after the future was dropped, leaving the cursor at
    /// an unknown place.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::SeekFrom;
    ///
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let path = std::env::temp_dir().join(format!("ebbtide-doc-seek-{}", std::process::id()));
    ///     ebbtide_std::fs::write(&path, "0123456789").await.unwrap();
    ///     let mut file = ebbtide_std::fs::File::open(&path).await.unwrap();
    ///     assert_eq!(file.seek(SeekFrom::Start(7)).await.unwrap(), 7);
    ///     let mut buf = [0u8; 8];
    ///     let n = file.read(&mut buf).await.unwrap();
    ///     assert_eq!(&buf[..n], b"789");
    ///     # std::fs::remove_file(&path).unwrap();
    /// });
    /// ```
    pub async fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.flush().await?;
        let mut buf = self.take_idle_buf();
        let pos = match pos {
            SeekFrom::Current(offset) => SeekFrom::Current(offset - buf.unread() as i64),
            other => other,
        };
        buf.clear();
        let file = self.std.clone();
        self.state = State::Busy(crate::spawn_blocking(move || {
            (Op::Seek((&*file).seek(pos)), buf)
        }));
        match poll_fn(|cx| self.poll_finish(cx)).await {
            Some(Op::Seek(result)) => result,
            _ => Err(io::Error::other("the seek did not complete")),
        }
    }

    /// The file's metadata, after any write in flight finished; see
    /// [`std::fs::File::metadata`].
    ///
    /// # Errors
    ///
    /// The OS's error, or that of an earlier write.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Examples
    ///
    /// ```
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let mut root = ebbtide_std::fs::File::open("/").await.unwrap();
    ///     assert!(root.metadata().await.unwrap().is_dir());
    /// });
    /// ```
    pub async fn metadata(&mut self) -> io::Result<std::fs::Metadata> {
        self.flush().await?;
        let file = self.std.clone();
        asyncify(move || file.metadata()).await
    }

    /// Waits for writes in flight, then asks the OS to put the file's data and metadata on the
    /// disk; see [`std::fs::File::sync_all`].
    ///
    /// # Errors
    ///
    /// The OS's error, or that of an earlier write.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the sync may still happen after the future was dropped, which is harmless.
    ///
    /// # Examples
    ///
    /// ```
    /// ebbtide_std::Runtime::new().unwrap().block_on(async {
    ///     let path = std::env::temp_dir().join(format!("ebbtide-doc-sync-{}", std::process::id()));
    ///     let mut file = ebbtide_std::fs::File::create(&path).await.unwrap();
    ///     file.write_all(b"durable").await.unwrap();
    ///     file.sync_all().await.unwrap();
    ///     # std::fs::remove_file(&path).unwrap();
    /// });
    /// ```
    pub async fn sync_all(&mut self) -> io::Result<()> {
        self.flush().await?;
        let file = self.std.clone();
        asyncify(move || file.sync_all()).await
    }

    /// The buffer of an idle file (call after `poll_finish` returned).
    fn take_idle_buf(&mut self) -> Buf {
        match &mut self.state {
            State::Idle(buf) => buf.take().unwrap_or_default(),
            State::Busy(_) => unreachable!("an operation is still in flight"),
        }
    }

    /// Waits for the operation in flight, if any, and returns its result; the file is idle
    /// after `Ready`. A write's error is kept in `write_error`.
    fn poll_finish(&mut self, cx: &mut Context<'_>) -> Poll<Option<Op>> {
        let State::Busy(handle) = &mut self.state else {
            return Poll::Ready(None);
        };
        let result = ready!(Pin::new(handle).poll(cx));
        match result {
            Ok((op, buf)) => {
                self.state = State::Idle(Some(buf));
                if let Op::Write(Err(e)) = op {
                    self.write_error = Some(e);
                    return Poll::Ready(None);
                }
                Poll::Ready(Some(op))
            }
            Err(e) => {
                self.state = State::Idle(None);
                self.write_error = Some(job_error(e));
                Poll::Ready(None)
            }
        }
    }

    fn poll_read_inner(&mut self, cx: &mut Context<'_>, dst: &mut [u8]) -> Poll<io::Result<usize>> {
        loop {
            match ready!(self.poll_finish(cx)) {
                Some(Op::Read(Ok(0))) => return Poll::Ready(Ok(0)),
                Some(Op::Read(Err(e))) => return Poll::Ready(Err(e)),
                _ => {}
            }
            if let Some(e) = self.write_error.take() {
                return Poll::Ready(Err(e));
            }
            let mut buf = self.take_idle_buf();
            if buf.unread() > 0 || dst.is_empty() {
                let n = buf.copy_to(dst);
                self.state = State::Idle(Some(buf));
                return Poll::Ready(Ok(n));
            }
            let len = dst.len().min(MAX_CHUNK);
            let file = self.std.clone();
            self.state = State::Busy(crate::spawn_blocking(move || {
                let result = buf.read_from(&file, len);
                (Op::Read(result), buf)
            }));
        }
    }

    fn poll_write_inner(&mut self, cx: &mut Context<'_>, src: &[u8]) -> Poll<io::Result<usize>> {
        ready!(self.poll_finish(cx));
        if let Some(e) = self.write_error.take() {
            return Poll::Ready(Err(e));
        }
        if src.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let mut buf = self.take_idle_buf();
        // Bytes read ahead and not returned: the caller's position is before them.
        let rewind = buf.unread() as i64;
        let n = src.len().min(MAX_CHUNK);
        buf.clear();
        buf.data.extend_from_slice(&src[..n]);
        let file = self.std.clone();
        self.state = State::Busy(crate::spawn_blocking(move || {
            let mut file = &*file;
            let result = if rewind > 0 {
                file.seek(SeekFrom::Current(-rewind)).map(drop)
            } else {
                Ok(())
            };
            let result = result.and_then(|()| file.write_all(&buf.data));
            buf.clear();
            (Op::Write(result), buf)
        }));
        Poll::Ready(Ok(n))
    }

    fn poll_flush_inner(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_finish(cx));
        match self.write_error.take() {
            Some(e) => Poll::Ready(Err(e)),
            None => Poll::Ready(Ok(())),
        }
    }
}

impl ErrorType for File {
    type Error = io::Error;
}

impl AsyncRead for File {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_read_inner(cx, buf)
    }
}

impl AsyncWrite for File {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_write_inner(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_flush_inner(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_flush_inner(cx)
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("File")
            .field("std", &self.std)
            .field("busy", &matches!(self.state, State::Busy(_)))
            .finish()
    }
}

#[cfg(test)]
mod read_range_tests {
    use std::io;
    use std::os::fd::BorrowedFd;
    use std::sync::Arc;

    use super::read_range_with;
    use crate::sys::read_nowait::{read_nowait, NoWait};

    fn file_of(name: &str, data: &[u8]) -> Arc<std::fs::File> {
        let path =
            std::env::temp_dir().join(format!("ebbtide-read-range-{}-{name}", std::process::id()));
        std::fs::write(&path, data).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        Arc::new(file)
    }

    fn unsupported(_: BorrowedFd<'_>, _: &mut [u8], _: u64) -> io::Result<NoWait> {
        Ok(NoWait::Unsupported)
    }

    /// Reads at most 10 bytes from the cache, then says the rest would wait for the disk.
    fn ten_then_would_block(
        file: BorrowedFd<'_>,
        buf: &mut [u8],
        offset: u64,
    ) -> io::Result<NoWait> {
        if offset >= 10 {
            return Ok(NoWait::WouldBlock);
        }
        let end = buf.len().min(10 - offset as usize);
        read_nowait(file, &mut buf[..end], offset).map(|found| match found {
            NoWait::Unsupported => NoWait::WouldBlock,
            other => other,
        })
    }

    #[test]
    fn without_rwf_nowait_the_blocking_pool_reads() {
        let data: Vec<u8> = (0..=255).cycle().take(5000).collect();
        let file = file_of("unsupported", &data);
        crate::Runtime::new().unwrap().block_on(async {
            let got = read_range_with(&file, 100, 4000, unsupported)
                .await
                .unwrap();
            assert_eq!(got, &data[100..4100]);
            let got = read_range_with(&file, 4990, 100, unsupported)
                .await
                .unwrap();
            assert_eq!(got, &data[4990..]);
        });
    }

    #[test]
    fn what_the_cache_lacks_is_read_on_the_pool_after_what_it_had() {
        let data: Vec<u8> = (0..=255).cycle().take(5000).collect();
        let file = file_of("would-block", &data);
        crate::Runtime::new().unwrap().block_on(async {
            let got = read_range_with(&file, 0, 3000, ten_then_would_block)
                .await
                .unwrap();
            assert_eq!(got, &data[..3000]);
        });
    }

    #[cfg(all(target_os = "linux", any(target_env = "gnu", target_env = "musl")))]
    #[test]
    fn a_cached_file_is_read_without_the_pool() {
        use std::os::fd::AsFd;
        let file = file_of("cached", b"in the page cache");
        let mut buf = [0u8; 64];
        // Just written: cached. (A file system without RWF_NOWAIT says so instead.)
        match read_nowait(file.as_fd(), &mut buf, 3).unwrap() {
            NoWait::Read(n) => assert_eq!(&buf[..n], b"the page cache"),
            NoWait::Unsupported => {}
            NoWait::WouldBlock => panic!("a file just written is not cached"),
        }
    }
}
