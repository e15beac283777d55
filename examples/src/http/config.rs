//! The server's settings: where files come from and every limit a client can run into.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How a [`serve`](super::serve) call behaves: the folder it serves and its limits.
///
/// Every limit is a field so that tests can shrink it; [`Config::new`] gives the defaults a
/// public server would use.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use ebbtide_examples::http::Config;
///
/// let mut config = Config::new(".").unwrap();
/// config.header_timeout = Duration::from_millis(500);
/// assert_eq!(config.max_header_bytes, 8 * 1024);
/// assert!(config.root().is_absolute());
/// ```
#[derive(Clone, Debug)]
pub struct Config {
    /// The served folder, canonical (absolute, no symlinks): every file served resolves, after
    /// symlinks, to a path under it.
    root: PathBuf,
    /// The most bytes a request head (request line and headers) may take; a larger one is
    /// answered `431 Request Header Fields Too Large`. This is also the connection's read
    /// buffer. Default 8 KiB.
    pub max_header_bytes: usize,
    /// How many requests one connection may make; the last is answered with
    /// `Connection: close`. Default 1,000.
    pub max_requests_per_connection: usize,
    /// How long a kept-alive connection may wait between two requests before the server closes
    /// it. Default 10 s.
    pub idle_timeout: Duration,
    /// How long a client has to send a whole request head, from its first byte (or, for the
    /// first request, from the connection's accept). A client that trickles its headers
    /// (slowloris) is disconnected when this runs out. Default 5 s.
    pub header_timeout: Duration,
    /// How long one chunk of a response may take to be written (a client that stops reading is
    /// disconnected). Default 30 s.
    pub write_timeout: Duration,
    /// The most bytes of a request body the server reads and drops. A file server has no use
    /// for a body, but a client may send one (a `GET` with a body, a `POST` answered `405`):
    /// up to this size it is read and dropped, and the connection goes on; a larger one is
    /// answered `413 Payload Too Large` (`405` for a method other than `GET` and `HEAD`) and
    /// the connection is closed. Default 64 KiB.
    pub max_request_body: u64,
    /// The largest body read into memory: a body (a file, or the range of it asked for) of at
    /// most this many bytes is read (from the page cache without leaving the worker's thread
    /// when it is there, see [`ebbtide_std::fs::read_range`]) and sent with the response head
    /// in one write; a larger one is sent with [`TcpStream::send_file`] after its head, so a
    /// connection never holds more of a file than this. Default 64 KiB.
    ///
    /// [`TcpStream::send_file`]: ebbtide_std::net::TcpStream::send_file
    pub chunk_size: usize,
    /// Whether a request's path is resolved and its file opened (`lstat` of each name,
    /// `open`, `fstat`) right on the worker's thread, as nginx does, rather than on the
    /// blocking pool. These calls take a microsecond or two when the kernel's caches hold the
    /// path, which a thread hand-off (and the wake-up back) would cost several times over; on
    /// a cold cache over a slow disk they make the worker wait, and `false` moves them to the
    /// pool. Folder listings are always read on the pool. Default `true`.
    pub open_on_worker: bool,
    /// How long the accept loop sleeps after an accept error such as `EMFILE` (out of file
    /// descriptors) before it tries again. Default 100 ms.
    pub accept_backoff: Duration,
    /// The most connections one [`serve`](super::serve) loop holds at once; one more is
    /// answered `503 Service Unavailable` and closed. `None` (the default): as many as the
    /// IO table of the worker it runs on holds (`Builder::io_capacity`), less 16 kept for the
    /// listener and whatever else the worker registers, so that a connection past the table is
    /// told `503` too instead of being closed by a failed `accept`.
    pub max_connections: Option<usize>,
    /// The most entries a directory listing shows. Default 10,000.
    pub max_listing_entries: usize,
    /// Whether hidden names (those that start with `.`, such as `.git` or `.env`) are served
    /// and listed. By default (`false`) they are not: a request whose path has such a name
    /// anywhere, or that reaches one through a symlink, is answered `404`, and listings leave
    /// them out. The `fileserver` binary's `--hidden` sets it.
    pub show_hidden: bool,
    /// How many open files each worker thread keeps in its open-file cache (nginx's
    /// `open_file_cache max=`): a request for a regular file it holds, opened less than
    /// [`open_file_cache_valid`](Config::open_file_cache_valid) ago, is served without an
    /// `open`, `fstat` and `close`. Each entry is an open file descriptor, counted against
    /// `RLIMIT_NOFILE` with the connections. `0` turns the cache off. Default 1,024. The path
    /// checks made on a request's text run on every request; those the file system makes
    /// (symlinks, the root, permissions) when the entry is filled. See the `cache` module's
    /// docs for what is cached and for how long.
    pub open_file_cache: usize,
    /// How long an entry of the open-file cache is used after the file was opened and checked
    /// (nginx's `open_file_cache_valid`, 60 s by default there). Past it, the next request
    /// resolves and opens the path again, with every check, and replaces the entry: a file
    /// replaced, deleted or turned into a symlink is served as such at most this long after the
    /// change (within it, the file opened before the change is served). Zero turns the cache
    /// off. Default 1 s.
    pub open_file_cache_valid: Duration,
    /// Serve HTTPS with this (rustls; `--tls-cert FILE --tls-key FILE`), or plain HTTP
    /// (`None`, the default). A TLS handshake counts against [`header_timeout`](Config::header_timeout).
    pub tls: Option<ebbtide_hyper::tls::TlsAcceptor>,
}

impl Config {
    /// The default settings, serving `root`.
    ///
    /// # Errors
    ///
    /// If `root` cannot be canonicalized (it does not exist, or is not readable), or is not a
    /// folder.
    pub fn new(root: impl AsRef<Path>) -> io::Result<Config> {
        let root = std::fs::canonicalize(root.as_ref())?;
        if !root.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is not a folder", root.display()),
            ));
        }
        Ok(Config {
            root,
            max_header_bytes: 8 * 1024,
            max_requests_per_connection: 1000,
            idle_timeout: Duration::from_secs(10),
            header_timeout: Duration::from_secs(5),
            write_timeout: Duration::from_secs(30),
            max_request_body: 64 * 1024,
            chunk_size: 64 * 1024,
            open_on_worker: true,
            accept_backoff: Duration::from_millis(100),
            max_connections: None,
            max_listing_entries: 10_000,
            show_hidden: false,
            open_file_cache: 1024,
            open_file_cache_valid: Duration::from_secs(1),
            tls: None,
        })
    }

    /// The served folder, canonical.
    pub fn root(&self) -> &Path {
        &self.root
    }
}
