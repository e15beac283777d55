//! The accept loop: a task per connection, until told to stop.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use ebbtide_std::net::TcpListener;
use ebbtide_std::sync::Notify;
use ebbtide_std::time::sleep;

use super::config::Config;
use super::connection;
use crate::serve::{LogThrottle, LOG_PERIOD};

/// The task slots each worker of the `fileserver` binary reserves when it starts
/// (`Builder::task_capacity`). A connection's task is under 1 KiB (976 bytes in a debug build),
/// so it takes a slot of the 1 KiB class, of which this reserves 8,192 per worker (with 16,384
/// of 256 bytes, 4,096 of 4 KiB and 1,024 of 16 KiB). Task memory grows past the reservation
/// when more connections come: no `task_limit` is set, so the number of connections is bound
/// by the IO table ([`runtime_builder`]'s `io_capacity`) and the file descriptors, not by task
/// memory.
pub const TASK_CAPACITY: usize = 16_384;

/// The runtime the `fileserver` binary serves on: `workers` worker threads, each reserving
/// [`TASK_CAPACITY`] task slots (task memory grows past them) and an IO table of `io_capacity`
/// sockets (`--io-capacity`, [`DEFAULT_IO_CAPACITY`](crate::cli::DEFAULT_IO_CAPACITY) by
/// default, 16,384: 10,000 concurrent connections fit on one worker). A connection past the IO
/// table (less a few entries kept back) is answered `503` (see [`Config::max_connections`]);
/// past the file descriptors, it waits in the listener's queue (see [`serve`]).
///
/// # Examples
///
/// ```
/// use ebbtide_examples::http::runtime_builder;
///
/// let runtime = runtime_builder(2, 10_000).build().unwrap();
/// assert_eq!(runtime.metrics().io_capacity(), 20_000);
/// ```
pub fn runtime_builder(workers: usize, io_capacity: usize) -> ebbtide_std::Builder {
    ebbtide_std::Runtime::builder()
        .task_capacity(TASK_CAPACITY)
        .io_capacity(io_capacity)
        .worker_threads(workers)
}

/// IO-table entries of its worker a [`serve`] loop leaves to its listener and to whatever else
/// the worker registers (see [`Config::max_connections`]).
const IO_RESERVE: usize = 16;

/// The connections a [`serve`] loop may hold by default: its worker's IO table, less
/// [`IO_RESERVE`].
fn io_table_room() -> usize {
    let handle = ebbtide_std::Handle::current();
    let metrics = handle.metrics();
    let table = match ebbtide_std::runtime::worker_index() {
        Some(worker) => metrics.worker(worker).io_capacity(),
        None => metrics.io_capacity() / handle.worker_count().max(1),
    };
    table.saturating_sub(IO_RESERVE).max(1)
}

/// Tells a running [`serve`] to stop; clone it to keep one end in another thread.
///
/// # Examples
///
/// ```
/// use ebbtide_examples::http::Shutdown;
///
/// let shutdown = Shutdown::new();
/// let trigger = shutdown.clone();
/// std::thread::spawn(move || trigger.trigger()).join().unwrap();
/// assert!(shutdown.is_triggered());
/// ebbtide_std::Runtime::new().unwrap().block_on(shutdown.wait()); // returns at once
/// ```
#[derive(Clone, Debug, Default)]
pub struct Shutdown {
    inner: Arc<ShutdownInner>,
}

#[derive(Debug, Default)]
struct ShutdownInner {
    triggered: AtomicBool,
    notify: Notify,
}

impl Shutdown {
    /// A shutdown signal not yet triggered.
    pub fn new() -> Shutdown {
        Shutdown::default()
    }

    /// Triggers the signal, from any thread: every [`wait`](Shutdown::wait) returns.
    pub fn trigger(&self) {
        self.inner.triggered.store(true, Ordering::SeqCst);
        self.inner.notify.notify_waiters();
    }

    /// Whether [`trigger`](Shutdown::trigger) was called.
    pub fn is_triggered(&self) -> bool {
        self.inner.triggered.load(Ordering::SeqCst)
    }

    /// Waits until the signal is triggered.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only waits.
    pub async fn wait(&self) {
        loop {
            // Made before the flag is read: a trigger in between still wakes it.
            let notified = self.inner.notify.notified();
            if self.is_triggered() {
                return;
            }
            notified.await;
        }
    }
}

/// Serves files over HTTP/1.1 on `listener` as `config` says, one task per connection, until
/// `shutdown` is triggered. Connections still open then are closed when the runtime is dropped.
///
/// A connection past [`Config::max_connections`] (by default, what the worker's IO table
/// holds), or that finds the runtime's task memory at its limit (`Builder::task_limit`), is
/// answered `503 Service Unavailable` (with `Retry-After: 1`) and closed at once, and the others
/// go on. An accept error (such as `EMFILE`, out of file descriptors) is reported on stderr and
/// followed by a pause (out of descriptors, the worker's open-file cache is emptied first, see
/// [`Config::open_file_cache`]) of [`Config::accept_backoff`], so the loop never spins. Refusals and
/// accept errors are each logged at most once a second, with the count of those left out (a
/// [`LogThrottle`]).
///
/// # Errors
///
/// None yet: the `Result` leaves room for errors that should stop a server.
///
/// # Examples
///
/// ```
/// use ebbtide_examples::http::{serve, Config, Shutdown};
/// use ebbtide_std::net::TcpListener;
///
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let shutdown = Shutdown::new();
///     shutdown.trigger(); // a real server keeps it for later
///     serve(listener, Config::new(".").unwrap(), shutdown).await.unwrap();
/// });
/// ```
pub async fn serve(listener: TcpListener, config: Config, shutdown: Shutdown) -> io::Result<()> {
    let config = Arc::new(config);
    let max_connections = config.max_connections.unwrap_or_else(io_table_room);
    let live = Arc::new(AtomicUsize::new(0));
    let mut refusals = LogThrottle::new(LOG_PERIOD);
    let mut errors = LogThrottle::new(LOG_PERIOD);
    loop {
        let accepted = ebbtide_std::select! {
            biased;
            () = shutdown.wait() => return Ok(()),
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, _peer)) => {
                if live.load(Ordering::Relaxed) >= max_connections {
                    // Plain HTTP gets a `503`; HTTPS would need a handshake first: it closes.
                    if config.tls.is_none() {
                        connection::refuse_busy(stream);
                    }
                    if let Some(more) = refusals.allow_now() {
                        eprintln!(
                            "fileserver: refused a connection (503): {max_connections} \
                             connections open (Config::max_connections){more}"
                        );
                    }
                    continue;
                }
                // Dropping the handle detaches the task; a refused task drops its future, and
                // with it the stream, which answers `503` and closes (see `Accepted`).
                let accepted =
                    connection::Accepted::new(stream, Arc::clone(&live), config.tls.is_none());
                if let Err(error) =
                    ebbtide_std::spawn(connection::run(accepted, Arc::clone(&config)))
                {
                    // At most a line a second: a flood of refusals must not flood the log too.
                    if let Some(more) = refusals.allow_now() {
                        eprintln!("fileserver: refused a connection (503): {error}{more}");
                    }
                }
            }
            Err(error) if error.kind() == io::ErrorKind::ConnectionAborted => continue,
            Err(error) => {
                if matches!(error.raw_os_error(), Some(libc::EMFILE | libc::ENFILE)) {
                    // Out of file descriptors: this worker's cached files give theirs back.
                    super::cache::relieve();
                }
                if let Some(more) = errors.allow_now() {
                    eprintln!("fileserver: accept failed: {error}; backing off{more}");
                }
                sleep(config.accept_backoff).await;
            }
        }
    }
}
