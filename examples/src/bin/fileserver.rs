//! A static file server over HTTP/1.1: ebbtide's main demo.
//!
//! ```text
//! cargo run -p ebbtide-examples --bin fileserver -- [DIR] [--addr HOST:PORT] [--workers N] [--io-capacity N] [--hidden]
//!     [--open-file-cache N] [--open-file-cache-valid-ms MS] [--no-open-file-cache]
//!     [--tls-cert FILE --tls-key FILE]
//! ```
//!
//! Serves `DIR` (the current folder by default) on `127.0.0.1:8080` (by default), with one task
//! per connection, on N worker threads (every CPU by default), each accepting on a
//! `SO_REUSEPORT` listener of its own. The protocol, the path checks and the limits are in the
//! library's [`http`](ebbtide_examples::http) module; this file only reads the command line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use ebbtide_examples::cli::DEFAULT_IO_CAPACITY;
use ebbtide_examples::http::{runtime_builder, serve, Config, Shutdown};
use ebbtide_examples::serve::bind_on_workers;

const USAGE: &str = "\
Usage: fileserver [DIR] [--addr HOST:PORT] [--workers N] [--io-capacity N] [--hidden]
                  [--open-file-cache N] [--open-file-cache-valid-ms MS] [--no-open-file-cache]
                  [--tls-cert FILE --tls-key FILE]

Serves the files under DIR over HTTP/1.1 (GET and HEAD, ranges, keep-alive), or over
HTTPS with --tls-cert and --tls-key.

Arguments:
  DIR                 the folder to serve (default: the current folder)

Options:
  --addr HOST:PORT    the address to listen on (default: 127.0.0.1:8080)
  --workers N         serve on N worker threads (default: every CPU), each with a
                      listener of its own on the address (SO_REUSEPORT): the
                      kernel spreads connections over them
  --io-capacity N     how many sockets each worker can hold at once (default:
                      16384); a connection past it is refused
  --hidden            also serve and list hidden names (those that start with
                      `.`, such as .git or .env); by default they are not found
  --open-file-cache N keep up to N files open per worker (default: 1024, at most
                      a quarter of the open-file limit shared by the workers):
                      a file asked for again is served without opening it
  --open-file-cache-valid-ms MS
                      how long a cached file is served before its path is
                      checked and opened again (default: 1000): a file changed,
                      replaced or deleted is served as such after at most this
  --no-open-file-cache
                      open every file for each request (the same as
                      --open-file-cache 0)
  --tls-cert FILE     serve HTTPS (TLS 1.2 and 1.3, rustls) with this certificate
                      chain (PEM, the server's certificate first); needs --tls-key
  --tls-key FILE      the certificate's private key (PEM)
  -h, --help          print this help
";

/// What the command line asks for.
struct Args {
    dir: PathBuf,
    addr: SocketAddr,
    workers: usize,
    io_capacity: usize,
    hidden: bool,
    /// `--open-file-cache N` (`--no-open-file-cache`: 0).
    open_file_cache: usize,
    /// `--open-file-cache-valid-ms MS`.
    open_file_cache_valid: Duration,
    /// `--tls-cert FILE --tls-key FILE`.
    tls: Option<(PathBuf, PathBuf)>,
}

/// Reads the command line; `Err` holds the message to print (the usage for `--help`) and
/// whether it is an error.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, (String, bool)> {
    let mut dir = None;
    let mut addr = SocketAddr::from(([127, 0, 0, 1], 8080));
    let mut workers = ebbtide_examples::cli::default_workers();
    let mut io_capacity = DEFAULT_IO_CAPACITY;
    let mut hidden = false;
    let mut open_file_cache = 1024;
    let mut open_file_cache_valid = Duration::from_secs(1);
    let (mut tls_cert, mut tls_key) = (None, None);
    while let Some(arg) = args.next() {
        let addr_text = if arg == "--addr" {
            Some(
                args.next()
                    .ok_or(("--addr needs HOST:PORT".to_owned(), true))?,
            )
        } else {
            arg.strip_prefix("--addr=").map(str::to_owned)
        };
        if let Some(text) = addr_text {
            addr = text
                .parse()
                .map_err(|e| (format!("bad --addr {text:?}: {e}"), true))?;
        } else if arg == "--workers" {
            let text = args
                .next()
                .ok_or(("--workers needs a number".to_owned(), true))?;
            workers = match text.parse::<usize>() {
                Ok(n) if n >= 1 => n,
                _ => return Err((format!("--workers {text}: not a whole number from 1"), true)),
            };
        } else if arg == "--io-capacity" {
            let text = args
                .next()
                .ok_or(("--io-capacity needs a number".to_owned(), true))?;
            io_capacity = match text.parse::<usize>() {
                Ok(n) if (16..=1_000_000).contains(&n) => n,
                _ => {
                    return Err((
                        format!("--io-capacity {text}: not a whole number from 16 to 1000000"),
                        true,
                    ))
                }
            };
        } else if arg == "--open-file-cache" {
            let text = args
                .next()
                .ok_or(("--open-file-cache needs a number".to_owned(), true))?;
            open_file_cache = text.parse::<usize>().map_err(|_| {
                (
                    format!("--open-file-cache {text}: not a whole number"),
                    true,
                )
            })?;
        } else if arg == "--open-file-cache-valid-ms" {
            let text = args
                .next()
                .ok_or(("--open-file-cache-valid-ms needs a number".to_owned(), true))?;
            open_file_cache_valid = match text.parse::<u64>() {
                Ok(ms) if ms >= 1 => Duration::from_millis(ms),
                _ => {
                    return Err((
                        format!("--open-file-cache-valid-ms {text}: not a whole number from 1"),
                        true,
                    ))
                }
            };
        } else if arg == "--tls-cert" || arg == "--tls-key" {
            let file = args.next().ok_or((format!("{arg} needs a file"), true))?;
            if arg == "--tls-cert" {
                tls_cert = Some(PathBuf::from(file));
            } else {
                tls_key = Some(PathBuf::from(file));
            }
        } else if arg == "--no-open-file-cache" {
            open_file_cache = 0;
        } else if arg == "--hidden" {
            hidden = true;
        } else if arg == "-h" || arg == "--help" {
            return Err((USAGE.to_owned(), false));
        } else if arg.starts_with('-') {
            return Err((format!("unknown option {arg:?}\n\n{USAGE}"), true));
        } else if dir.is_some() {
            return Err((format!("more than one DIR given\n\n{USAGE}"), true));
        } else {
            dir = Some(PathBuf::from(arg));
        }
    }
    let tls = match (tls_cert, tls_key) {
        (Some(cert), Some(key)) => Some((cert, key)),
        (None, None) => None,
        _ => {
            return Err((
                format!("--tls-cert and --tls-key go together\n\n{USAGE}"),
                true,
            ))
        }
    };
    Ok(Args {
        dir: dir.unwrap_or_else(|| PathBuf::from(".")),
        addr,
        workers,
        io_capacity,
        hidden,
        open_file_cache,
        open_file_cache_valid,
        tls,
    })
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err((message, false)) => {
            print!("{message}");
            return ExitCode::SUCCESS;
        }
        Err((message, true)) => {
            eprintln!("fileserver: {message}");
            return ExitCode::from(2);
        }
    };
    let mut config = match Config::new(&args.dir) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("fileserver: cannot serve {}: {error}", args.dir.display());
            return ExitCode::FAILURE;
        }
    };
    config.show_hidden = args.hidden;
    config.open_file_cache_valid = args.open_file_cache_valid;
    config.open_file_cache = args.open_file_cache;
    if let Some((cert, key)) = &args.tls {
        match ebbtide_hyper::tls::server_config_from_pem_files(cert, key) {
            Ok(tls) => {
                // The file server speaks HTTP/1.1 only: it must not offer HTTP/2 in ALPN.
                let mut tls = tls;
                tls.alpn_protocols = vec![ebbtide_hyper::tls::ALPN_HTTP1.to_vec()];
                config.tls = Some(ebbtide_hyper::tls::TlsAcceptor::new(std::sync::Arc::new(
                    tls,
                )));
            }
            Err(error) => {
                eprintln!("fileserver: {error}");
                return ExitCode::FAILURE;
            }
        }
    }
    match ebbtide_examples::cli::raise_fd_limit() {
        // Cached files may hold at most a quarter of the descriptors, the rest is the
        // connections'.
        Ok(limit) => {
            let share = usize::try_from(limit / 4).unwrap_or(usize::MAX) / args.workers;
            config.open_file_cache = config.open_file_cache.min(share);
        }
        Err(error) => eprintln!("fileserver: cannot raise the limit of open files: {error}"),
    }
    let runtime = match runtime_builder(args.workers, args.io_capacity).build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("fileserver: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let handle = runtime.handle();
    let shutdown = Shutdown::new();
    runtime.block_on(async {
        let on_each = {
            let (config, shutdown) = (config.clone(), shutdown.clone());
            move |listener| serve(listener, config.clone(), shutdown.clone())
        };
        let listener = match bind_on_workers(&handle, args.workers, args.addr, on_each).await {
            Ok(listener) => listener,
            Err(error) => {
                eprintln!("fileserver: cannot listen on {}: {error}", args.addr);
                return ExitCode::FAILURE;
            }
        };
        let addr = listener.local_addr().unwrap_or(args.addr);
        let scheme = if config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        println!("serving {} on {scheme}://{addr}", config.root().display());
        match serve(listener, config, shutdown).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("fileserver: {error}");
                ExitCode::FAILURE
            }
        }
    })
}
