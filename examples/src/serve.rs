//! The accept loop the proxy, echo and chat servers share: one task per connection, a refused
//! connection (not a stopped server) when the task pool is full, and a growing sleep after accept
//! errors.
//!
//! # Examples
//!
//! A server that greets each client and hangs up:
//!
//! ```
//! use ebbtide_std::io::{AsyncReadExt, AsyncWriteExt};
//! use ebbtide_std::net::{TcpListener, TcpStream};
//! use ebbtide_examples::serve::accept_loop;
//!
//! ebbtide_std::Runtime::new().unwrap().block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     ebbtide_std::spawn(async move {
//!         accept_loop(&listener, "greeter", |mut stream, _peer| async move {
//!             let _ = stream.write_all(b"hi\n").await;
//!         })
//!         .await
//!     })
//!     .unwrap();
//!     let mut client = TcpStream::connect(addr).await.unwrap();
//!     let mut greeting = [0u8; 3];
//!     client.read_exact(&mut greeting).await.unwrap();
//!     assert_eq!(&greeting, b"hi\n");
//! });
//! ```

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;

use ebbtide_std::net::{TcpListener, TcpStream};
use ebbtide_std::time::{sleep, Duration};

/// The first sleep after an accept error.
pub const MIN_BACKOFF: Duration = Duration::from_millis(5);
/// The longest sleep after accept errors in a row (the sleep doubles up to this).
pub const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// Accepts connections on `listener` forever, running `handler(stream, peer)` as a task of its
/// own for each.
///
/// - When the runtime's task pool is full, the handler's future is dropped unspawned, which
///   closes that connection at once (the client reads end of stream); the loop goes on, and a
///   later connection is served as soon as a slot is free.
/// - An accept error (out of file descriptors, a connection reset while queued, ...) is logged
///   to stderr and followed by a sleep, [`MIN_BACKOFF`] doubling up to [`MAX_BACKOFF`] while
///   errors continue, so a server out of descriptors does not spin.
///
/// `name` prefixes the log lines. Never returns; drop the future to stop accepting.
///
/// # Cancel safety
///
/// Cancel safe: a connection is either handed to a task or not accepted yet.
pub async fn accept_loop<F, Fut>(listener: &TcpListener, name: &str, mut handler: F) -> Infallible
where
    F: FnMut(TcpStream, SocketAddr) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut backoff = MIN_BACKOFF;
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                backoff = MIN_BACKOFF;
                if let Err(error) = ebbtide_std::spawn(handler(stream, peer)) {
                    // The future, and the stream inside it, are dropped: the client is refused.
                    eprintln!("{name}: refusing {peer}: {error}");
                }
            }
            Err(error) => {
                eprintln!("{name}: accept failed ({error}); retrying in {backoff:?}");
                sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}
