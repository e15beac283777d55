//! [`EbbtideExecutor`]: hyper's executor on ebbtide's `spawn`, and what happens when task memory
//! is full.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use ebbtide_host::Handle;

/// HTTP/2's `max_concurrent_streams` when task memory has no limit: hyper's own default.
pub const DEFAULT_MAX_CONCURRENT_STREAMS: u32 = 200;

/// hyper's [`rt::Executor`](hyper::rt::Executor) on the current ebbtide runtime's
/// [`spawn`](ebbtide_host::Handle::try_spawn): what runs HTTP/2 streams (one task each, on the
/// server) and the client's connection tasks.
///
/// # When task memory is full
///
/// ebbtide's spawn can fail where hyper's `execute` cannot: a runtime built with a task limit
/// (`Builder::task_limit` on ebbtide-std) refuses tasks past it, as does a runtime that shut
/// down. The policy here: **the future is dropped unpolled and counted** in
/// [`refused`](EbbtideExecutor::refused) (shared by the clones of one executor). What that means
/// to a peer:
///
/// - an HTTP/2 stream on the server: hyper's stream is dropped, so the client sees the stream
///   reset; the connection and its other streams go on;
/// - a client connection's task: requests on that connection fail with a hyper error; the
///   pool's other connections go on.
///
/// Nothing waits or retries inside `execute` (hyper calls it from a poll, which must not
/// block). To keep the policy rare, HTTP/2 servers from [`server::http2`](crate::server::http2)
/// and [`server::auto`](crate::server::auto) limit each connection's concurrent streams to what
/// the task memory has room for ([`max_concurrent_streams`]): a client that honours the limit
/// never gets a stream refused this way.
///
/// A future whose `Drop` panics is dropped inside `catch_unwind`: the panic stops there (it is
/// counted as refused like any other), and hyper's poll goes on.
///
/// # Panics
///
/// `execute` panics outside an ebbtide runtime (as `TokioExecutor` does outside Tokio's): hyper
/// calls it from the connection's own poll, so this means the connection was polled off any
/// runtime.
///
/// # Examples
///
/// ```
/// use ebbtide_hyper::EbbtideExecutor;
/// use hyper::rt::Executor;
///
/// ebbtide_std::Runtime::new().unwrap().block_on(async {
///     let (tx, rx) = ebbtide_std::sync::oneshot::channel();
///     let executor = EbbtideExecutor::new();
///     executor.execute(async move {
///         let _ = tx.send(7);
///     });
///     assert_eq!(rx.await.unwrap(), 7);
///     assert_eq!(executor.refused(), 0);
/// });
/// ```
#[derive(Debug, Clone, Default)]
pub struct EbbtideExecutor {
    refused: Arc<AtomicU64>,
}

impl EbbtideExecutor {
    /// An executor with its own refused-future counter (one allocation, here).
    pub fn new() -> Self {
        EbbtideExecutor::default()
    }

    /// How many futures this executor (and its clones) could not spawn and dropped: see the
    /// policy above.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }
}

impl<F> hyper::rt::Executor<F> for EbbtideExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, future: F) {
        let handle = Handle::try_current().expect(
            "EbbtideExecutor::execute was called outside an ebbtide runtime: hyper connections \
             must be polled inside Runtime::block_on or a task",
        );
        match handle.try_spawn(future) {
            // Detached, as hyper expects: the task runs to completion on its own.
            Ok(task) => drop(task),
            Err((_error, future)) => {
                self.refused.fetch_add(1, Ordering::Relaxed);
                // The future's own Drop is user code (a hyper stream holds the service's
                // future): a panic there must not unwind into hyper's poll.
                let _ = catch_unwind(AssertUnwindSafe(move || drop(future)));
            }
        }
    }
}

/// HTTP/2's `max_concurrent_streams` for a connection accepted now: half the room the current
/// runtime's task memory has left for a stream's task (at least 1), at most
/// [`DEFAULT_MAX_CONCURRENT_STREAMS`]; that default when task memory has no limit or there is no
/// current runtime.
///
/// A stream's task (hyper's stream state and the service's future) lands in the 1 KiB or the
/// 4 KiB size class, depending on the service; the room counted is the smaller of the two
/// ([`Handle::task_rooms`]). Half, so that a few connections accepted at once, each told the same
/// figure, rarely oversubscribe what is left between them. [`server::http2`](crate::server::http2)
/// and [`server::auto`](crate::server::auto) set it on each builder they make, so build one per
/// connection for a figure that follows the load.
///
/// # Examples
///
/// ```
/// // At most 64 tasks of 256 bytes, 32 of 1 KiB, 16 of 4 KiB.
/// let runtime = ebbtide_std::Runtime::builder().task_limit(64).build().unwrap();
/// let streams = runtime.block_on(async { ebbtide_hyper::max_concurrent_streams() });
/// assert_eq!(streams, 8);
/// ```
pub fn max_concurrent_streams() -> u32 {
    let Some(handle) = Handle::try_current() else {
        return DEFAULT_MAX_CONCURRENT_STREAMS;
    };
    let [_, room_1k, room_4k, _] = handle.task_rooms();
    let room = room_1k.min(room_4k) / 2;
    u32::try_from(room)
        .unwrap_or(u32::MAX)
        .clamp(1, DEFAULT_MAX_CONCURRENT_STREAMS)
}
