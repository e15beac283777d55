//! What the hyper examples (`src/bin/hyper_*.rs`) share: their common flags, and an accept loop
//! on every worker that serves each connection in a task of its own.
//!
//! # Examples
//!
//! ```
//! use ebbtide_examples::hyper_serve::{serve_on_workers, Common};
//! use ebbtide_hyper::EbbtideIo;
//!
//! let common = Common::parse(["--addr", "127.0.0.1:0", "--workers", "2"].map(String::from), &[])
//!     .unwrap()
//!     .0;
//! let runtime = common.runtime().unwrap();
//! let handle = runtime.handle();
//! runtime.block_on(async {
//!     let server = serve_on_workers(&handle, &common, "doc", |stream| async move {
//!         let _ = EbbtideIo::new(stream); // serve it with hyper here
//!     });
//!     // `server` runs until the process ends; a doctest does not await it.
//!     drop(server);
//! });
//! ```

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::process::ExitCode;

use ebbtide_std::net::{TcpListener, TcpStream};
use ebbtide_std::{Handle, Runtime};

use crate::cli::{self, Flags, Parsed};
use crate::serve::bind_on_workers;

/// The flags every hyper example takes.
pub const COMMON_USAGE: &str = "\
  --addr ADDR     where to listen (default 127.0.0.1:3000; port 0 picks one, printed on stderr)
  --workers N     worker threads, each accepting on a SO_REUSEPORT listener of its own
                  (default: every CPU this process may use)
";

/// The flags every hyper example takes.
#[derive(Debug, Clone)]
pub struct Common {
    /// `--addr`.
    pub addr: SocketAddr,
    /// `--workers`.
    pub workers: usize,
}

impl Common {
    /// Reads the common flags from `args`, and each flag named in `own` with its value, which
    /// it returns in order of appearance for the example to read.
    ///
    /// # Errors
    ///
    /// [`Parsed::Help`] for `--help`; [`Parsed::Error`] for a bad or unknown flag.
    pub fn parse(
        args: impl IntoIterator<Item = String>,
        own: &[&str],
    ) -> Result<(Common, Vec<(String, String)>), Parsed> {
        let mut common = Common {
            addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            workers: cli::default_workers(),
        };
        let mut rest = Vec::new();
        let mut flags = Flags::new(args);
        while let Some(flag) = flags.next_flag()? {
            match flag.as_str() {
                "--addr" => common.addr = flags.addr(&flag)?,
                "--workers" => common.workers = flags.count(&flag)?,
                other if own.contains(&other) => {
                    let value = flags.value(&flag)?;
                    rest.push((flag, value));
                }
                other => return Err(Parsed::Error(format!("unknown flag `{other}`"))),
            }
        }
        Ok((common, rest))
    }

    /// Builds the runtime ([`runtime`](Common::runtime)), runs `serve` with it, and makes the
    /// outcome the exit status, printing `<name>: <error>` on stderr for a failure.
    pub fn run(&self, name: &str, serve: impl FnOnce(&Runtime) -> io::Result<()>) -> ExitCode {
        let runtime = match self.runtime() {
            Ok(runtime) => runtime,
            Err(error) => {
                eprintln!("{name}: cannot start the runtime: {error}");
                return ExitCode::FAILURE;
            }
        };
        match serve(&runtime) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("{name}: {error}");
                ExitCode::FAILURE
            }
        }
    }

    /// A runtime with `--workers` threads and a roomy IO table.
    ///
    /// # Errors
    ///
    /// What the runtime's builder says.
    pub fn runtime(&self) -> io::Result<Runtime> {
        if let Err(error) = cli::raise_fd_limit() {
            eprintln!("cannot raise the limit of open files: {error}");
        }
        Runtime::builder()
            .io_capacity(cli::DEFAULT_IO_CAPACITY)
            .worker_threads(self.workers)
            .build()
    }
}

/// Binds `common.addr` on every worker ([`bind_on_workers`]), prints
/// `<name>: listening on http://ADDR (N workers)` on stderr, and accepts on every listener,
/// calling `serve(stream)` in a new task for each connection. Runs until the process ends.
///
/// A connection the runtime has no room for is closed at once and logged; an accept error
/// (out of file descriptors, a connection reset before it was accepted) is logged and the loop
/// goes on.
///
/// # Errors
///
/// A listener that could not be bound.
pub async fn serve_on_workers<F, Fut>(
    handle: &Handle,
    common: &Common,
    name: &'static str,
    serve: F,
) -> io::Result<()>
where
    F: Fn(TcpStream) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let accept = move |listener: TcpListener| accept_loop(listener, name, serve.clone());
    let listener = bind_on_workers(handle, common.workers, common.addr, accept.clone()).await?;
    eprintln!(
        "{name}: listening on http://{} ({} workers)",
        listener.local_addr()?,
        common.workers
    );
    accept(listener).await;
    Ok(())
}

/// Accepts on `listener` forever, serving each connection in a task of its own.
pub async fn accept_loop<F, Fut>(listener: TcpListener, name: &'static str, serve: F)
where
    F: Fn(TcpStream) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                if let Err(error) = ebbtide_std::spawn(serve(stream)) {
                    eprintln!("{name}: refused {peer}: {error}");
                }
            }
            Err(error) => {
                eprintln!("{name}: accept: {error}");
                // Out of file descriptors, say: the error repeats until a connection closes, so
                // give the others a moment instead of spinning on it.
                ebbtide_std::time::sleep(ebbtide_std::time::Duration::from_millis(10)).await;
            }
        }
    }
}
