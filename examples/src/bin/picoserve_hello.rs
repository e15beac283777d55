//! picoserve, a `no_std` HTTP server written for embedded targets (embassy-net sockets), serving
//! on ebbtide-std's TCP sockets: the `no_std` HTTP stack runs on ebbtide's IO traits through
//! [`EmbeddedIo`] (embedded-io-async), with ebbtide's timer behind picoserve's timeouts.
//!
//! ```text
//! cargo run -p ebbtide-examples --bin picoserve_hello -- --addr 127.0.0.1:3000
//! curl http://127.0.0.1:3000/
//! curl http://127.0.0.1:3000/hello/ebbtide
//! ```
//!
//! The glue is what an embedded app writes for its own socket type: a runtime marker, a
//! [`Timer`](picoserve::Timer) and a [`Socket`](picoserve::io::Socket). Each connection is a task
//! with its own 2 KiB request buffer; picoserve keeps it alive between requests.

use std::process::ExitCode;

use ebbtide_core::io::{AsyncWriteExt, EmbeddedIo};
use ebbtide_examples::cli;
use ebbtide_examples::hyper_serve::{Common, COMMON_USAGE};
use ebbtide_examples::serve::bind_on_workers;
use ebbtide_std::net::{ReadHalf, TcpListener, TcpStream, WriteHalf};
use picoserve::io::embedded_io_async;
use picoserve::mem::{BorrowedBuffer, BorrowedCursor};
use picoserve::routing::{get, parse_path_segment, PathRouter};
use picoserve::Router;

/// picoserve's name for the runtime its sockets and timer belong to.
struct Ebbtide;

/// picoserve's timeouts on ebbtide's timer queue.
struct EbbtideTimer;

impl picoserve::Timer<Ebbtide> for EbbtideTimer {
    async fn delay(&self, duration: picoserve::time::Duration) {
        ebbtide_std::time::sleep(ebbtide_std::time::Duration::from_millis(
            duration.as_millis(),
        ))
        .await;
    }
}

/// An ebbtide-std socket as picoserve sees one.
struct Socket(TcpStream);

/// The write half: embedded-io-async's `Write` (through [`EmbeddedIo`]), plus picoserve's
/// `write_with`, which formats into a buffer it is lent.
struct Writer<'a>(EmbeddedIo<WriteHalf<'a>>);

impl embedded_io_async::ErrorType for Writer<'_> {
    type Error = std::io::Error;
}

impl embedded_io_async::Write for Writer<'_> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, std::io::Error> {
        self.0.write(buf).await
    }

    async fn flush(&mut self) -> Result<(), std::io::Error> {
        embedded_io_async::Write::flush(&mut self.0).await
    }
}

impl picoserve::io::Write for Writer<'_> {
    async fn write_with<F: FnOnce(BorrowedCursor<'_>) -> R, R>(
        &mut self,
        f: F,
    ) -> Result<R, std::io::Error> {
        let mut storage = [0u8; 1024];
        let mut buffer = BorrowedBuffer::new(&mut storage);
        let output = f(buffer.unfilled());
        self.0.get_mut().write_all(buffer.filled()).await?;
        Ok(output)
    }
}

impl picoserve::io::Socket<Ebbtide> for Socket {
    type Error = std::io::Error;
    type ReadHalf<'a> = EmbeddedIo<ReadHalf<'a>>;
    type WriteHalf<'a> = Writer<'a>;

    fn split(&mut self) -> (Self::ReadHalf<'_>, Self::WriteHalf<'_>) {
        let (read, write) = self.0.split();
        (EmbeddedIo::new(read), Writer(EmbeddedIo::new(write)))
    }

    async fn abort<T: picoserve::Timer<Ebbtide>>(
        self,
        _timeouts: &picoserve::Timeouts,
        _timer: &T,
    ) -> Result<(), picoserve::Error<std::io::Error>> {
        // Dropping the socket closes it.
        Ok(())
    }

    async fn shutdown<T: picoserve::Timer<Ebbtide>>(
        self,
        _timeouts: &picoserve::Timeouts,
        _timer: &T,
    ) -> Result<(), picoserve::Error<std::io::Error>> {
        // Our side is done: the peer reads end of stream, then the socket closes when dropped.
        // A peer that already went away needs nothing more.
        match self.0.shutdown(std::net::Shutdown::Write) {
            Err(e) if e.kind() != std::io::ErrorKind::NotConnected => {
                Err(picoserve::Error::Write(e))
            }
            _ => Ok(()),
        }
    }
}

/// Timeouts as picoserve's defaults, and keep-alive between requests.
static CONFIG: picoserve::Config = picoserve::Config::new(picoserve::Timeouts {
    start_read_request: picoserve::time::Duration::from_secs(5),
    persistent_start_read_request: picoserve::time::Duration::from_secs(5),
    read_request: picoserve::time::Duration::from_secs(3),
    write: picoserve::time::Duration::from_secs(3),
})
.keep_connection_alive();

/// Accepts on `listener` forever. picoserve's server future is not `Send` (it is written for one
/// core), so each connection is a `spawn_local` task on the worker that accepted it.
async fn accept_loop<P: PathRouter + Sync>(listener: TcpListener, app: &'static Router<P>) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                // picoserve writes a response's head and body separately: without this, the
                // body would wait for the client's delayed acknowledgement (40 ms on Linux).
                if let Err(error) = stream.set_nodelay(true) {
                    eprintln!("picoserve_hello: {peer}: {error}");
                }
                let connection = async move {
                    let mut buffer = [0u8; 2048];
                    let server = picoserve::Server::custom(app, EbbtideTimer, &CONFIG, &mut buffer);
                    if let Err(error) = server.serve(Socket(stream)).await {
                        eprintln!("picoserve_hello: connection: {error:?}");
                    }
                };
                if let Err(error) = ebbtide_std::spawn_local(connection) {
                    eprintln!("picoserve_hello: refused {peer}: {error}");
                }
            }
            Err(error) => {
                eprintln!("picoserve_hello: accept: {error}");
                ebbtide_std::time::sleep(ebbtide_std::time::Duration::from_millis(10)).await;
            }
        }
    }
}

fn main() -> ExitCode {
    let common = match Common::parse(std::env::args().skip(1), &[]) {
        Ok((common, _)) => common,
        Err(stopped) => {
            let usage = format!("usage: picoserve_hello [flags]\n\n{COMMON_USAGE}");
            return cli::finish("picoserve_hello", stopped, &usage);
        }
    };
    // The app is built once and shared by every connection's task, as on a microcontroller
    // (where it would be a `static`).
    let app = Box::leak(Box::new(
        Router::new()
            .route("/", get(|| async { "Hello from picoserve on ebbtide!\n" }))
            .route(
                ("/hello", parse_path_segment::<String>()),
                get(|name: String| async move { format!("Hello, {name}!\n") }),
            ),
    ));
    let app = &*app;
    common.run("picoserve_hello", |runtime| {
        let handle = runtime.handle();
        runtime.block_on(async {
            let accept = move |listener| accept_loop(listener, app);
            let listener = bind_on_workers(&handle, common.workers, common.addr, accept).await?;
            eprintln!(
                "picoserve_hello: listening on http://{} ({} workers)",
                listener.local_addr()?,
                common.workers
            );
            accept(listener).await;
            Ok::<(), std::io::Error>(())
        })
    })
}
