//! A static file server over HTTP/1.1, on `ebbtide-std`: the library behind the `fileserver`
//! binary.
//!
//! [`serve`] accepts connections on a [`TcpListener`](ebbtide_std::net::TcpListener) and runs
//! one task per connection, until a [`Shutdown`] is triggered. What it speaks:
//!
//! - `GET` and `HEAD`; anything else is `405`. Keep-alive by default in HTTP/1.1
//!   (`Connection: close` honoured), in HTTP/1.0 only when asked for.
//! - Request targets in origin form (`/path?query`) and, as RFC 9112 requires of a server,
//!   in absolute form (`http://host/path`: its path is served, the host is not checked). A
//!   request line with a space inside its target is `400`; an HTTP version other than 1.0 and
//!   1.1 is `505`. An HTTP/1.1 request needs exactly one `Host`: none or two is `400`.
//! - Request bodies, which a file server has no use for, are read and dropped as nginx does
//!   for static files: a `GET` with a small body (`Content-Length` or `chunked`, up to
//!   [`Config::max_request_body`], 64 KiB) is answered as without one and the connection goes
//!   on (a client that sent `Expect: 100-continue` is told `100 Continue` first). A larger body
//!   is answered `413` (`405` for other methods) at once and the connection closed.
//!   Framing that could be read two ways is `400` and closes the connection: both
//!   `Content-Length` and `Transfer-Encoding`, two different lengths, a length that is not
//!   digits, a `Transfer-Encoding` whose last coding is not `chunked` (or any in HTTP/1.0), a
//!   bad chunk size.
//! - `Content-Length`, `Content-Type` from the extension, `Last-Modified`, and `304 Not
//!   Modified` for an `If-Modified-Since` that is not older than the file.
//! - A single `Range` (`bytes=a-b`, `a-`, `-n`) as `206` with `Content-Range`; an unsatisfiable
//!   one as `416`; several ranges as the whole file.
//! - A folder as its `index.html`, or as an HTML listing (names escaped, links
//!   percent-encoded).
//!
//! # Security
//!
//! Every path is confined to the root (see the `path` module): `..` (plain or as `%2e%2e`), an
//! encoded `/` (`%2f`), a `\`, `%00` and invalid UTF-8 are refused before the file system is
//! touched, and what is left is canonicalized, symlinks followed, and must still lie under the
//! canonical root. Hidden names (those that start with `.`: `.git`, `.env`, ...) are not found
//! (`404`) and never listed, unless [`Config::show_hidden`] is set. A listing shows only what
//! could be served: a symlink that leads outside the root (or nowhere) is left out, so nothing
//! about its target shows. A redirect that adds a folder's trailing slash is rebuilt from the
//! path's names, so it always stays on this server (`//example.com` goes to `/example.com/`).
//!
//! # Limits
//!
//! Every limit lives in [`Config`]: the size of a request head (`431` past it), the requests one
//! connection may make, the idle time between requests, the time to send a head (against
//! slowloris clients), and the time to write each chunk. A body of at most
//! [`Config::chunk_size`] is read into memory (from the page cache without a thread hop) and
//! sent with its head; a larger one goes with `sendfile(2)`, never read into memory. Paths are
//! resolved and files opened on the worker's thread, as nginx does ([`Config::open_on_worker`]),
//! and each worker keeps up to [`Config::open_file_cache`] files open (1,024) for
//! [`Config::open_file_cache_valid`] (1 s), so a file asked for again costs no `open`, `fstat` or
//! `close`; the checks on a path's text run on every request, those on the file system again
//! once an entry's period is over (see the `cache` module).
//!
//! # Examples
//!
//! ```no_run
//! use ebbtide_examples::http::{serve, Config, Shutdown};
//! use ebbtide_std::net::TcpListener;
//!
//! #[ebbtide_std::main]
//! async fn main() -> std::io::Result<()> {
//!     let listener = TcpListener::bind("127.0.0.1:8080").await?;
//!     serve(listener, Config::new(".")?, Shutdown::new()).await
//! }
//! ```

mod cache;
mod config;
mod connection;
mod files;
mod listing;
mod mime;
mod path;
mod range;
mod request;
mod response;
mod server;
mod transport;

/// The parsers, for the fuzz targets in `fuzz/` only (the `fuzzing` feature): not a stable API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

pub use config::Config;
pub use server::{runtime_builder, serve, Shutdown, TASK_CAPACITY};
