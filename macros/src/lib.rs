//! The `#[main]` and `#[test]` attributes of the ebbtide async runtime.
//!
//! **Use them through `ebbtide-std`**, as `#[ebbtide_std::main]` and `#[ebbtide_std::test]`: the
//! code they generate names `ebbtide_std::Runtime`, so this crate is useful only next to it. The
//! runnable examples are in `ebbtide-std`'s docs; the ones here cannot run, since this crate does
//! not depend on the runtime.
//!
//! Both attributes turn an `async fn` into a plain `fn` that builds a runtime and blocks on the
//! function's body:
//!
//! ```ignore
//! #[ebbtide_std::main(task_capacity = 64)]
//! async fn main() -> std::io::Result<()> {
//!     // ...
//!     Ok(())
//! }
//! ```
//!
//! expands to
//!
//! ```ignore
//! fn main() -> std::io::Result<()> {
//!     let body = async move {
//!         // ...
//!         Ok(())
//!     };
//!     let body = ::core::pin::pin!(body);
//!     let body: ::core::pin::Pin<&mut dyn ::core::future::Future<Output = std::io::Result<()>>> =
//!         body;
//!     return ::ebbtide_std::Runtime::builder()
//!         .task_capacity(64)
//!         .build()
//!         .expect("failed to build the ebbtide runtime")
//!         .block_on(body);
//! }
//! ```
//!
//! # Arguments
//!
//! Both attributes take the same optional arguments, `name = value`, comma separated:
//!
//! | argument             | effect                                                        |
//! |----------------------|---------------------------------------------------------------|
//! | `task_capacity = N`  | `.task_capacity(N)` on the runtime builder                    |
//! | `event_capacity = N` | `.event_capacity(N)` on the runtime builder                   |
//! | `io_capacity = N`    | `.io_capacity(N)` on the runtime builder                      |
//! | `start_paused = B`   | `.start_paused(B)`: the clock starts paused (`time::pause`)   |
//! | `worker_threads = N` | `.worker_threads(N)`: N workers, one thread each (default 1, or `EBBTIDE_WORKER_THREADS`) |
//! | `crate = "path"`     | names the runtime crate through `path`, not `::ebbtide_std`   |
//!
//! `N` is any `usize` expression: a literal, a `const`, `4 * 16`. An argument left out keeps the
//! builder's default. `crate` is for a renamed dependency
//! (`crate = "rt"` after `rt = { package = "ebbtide-std", ... }`) and for code inside
//! `ebbtide-std` itself (`crate = "crate"`).
//!
//! # Errors
//!
//! Mistakes are compile errors at the mistake: an unknown or repeated argument, a function that
//! is not `async`, takes arguments, has generic parameters, or is `const`, `unsafe` or
//! `extern`, and, for `#[test]`, a second `#[test]` attribute.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks, missing_docs)]

use proc_macro::TokenStream;

mod args;
mod entry;

/// Runs an `async fn main` on a new ebbtide runtime. Use it as `#[ebbtide_std::main]`.
///
/// The function becomes a plain `fn main` with the same return type (so
/// `-> Result<(), E>` works, `?` included) that builds a runtime with
/// `ebbtide_std::Runtime::builder()`, applies the arguments, and blocks on the body. A runtime
/// that fails to build panics with "failed to build the ebbtide runtime".
///
/// See the [crate docs](crate#arguments) for the arguments, and `ebbtide-std`'s docs for runnable
/// examples.
///
/// # Examples
///
/// ```ignore
/// #[ebbtide_std::main]
/// async fn main() {
///     println!("hello from ebbtide");
/// }
/// ```
///
/// With a bigger task pool and a fallible body:
///
/// ```ignore
/// #[ebbtide_std::main(task_capacity = 256, io_capacity = 64)]
/// async fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let config = std::fs::read_to_string("server.toml")?;
///     serve(&config).await?;
///     Ok(())
/// }
/// ```
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    entry::expand(entry::Kind::Main, args.into(), item.into()).into()
}

/// Runs an `async fn` test on a new ebbtide runtime of its own. Use it as
/// `#[ebbtide_std::test]`.
///
/// The function becomes a `#[test] fn` with the same name, visibility and return type (so
/// `-> Result<(), E>` works) that builds a runtime and blocks on the body, exactly as
/// [`macro@main`] does. Its other attributes (`#[should_panic]`, `#[ignore]`, doc comments) stay
/// on it. It takes the same arguments as [`macro@main`].
///
/// # Examples
///
/// ```ignore
/// #[ebbtide_std::test]
/// async fn sleeps() {
///     ebbtide_std::time::sleep(Duration::from_millis(1)).await;
/// }
///
/// #[ebbtide_std::test(task_capacity = 8)]
/// #[should_panic(expected = "boom")]
/// async fn panics() {
///     panic!("boom");
/// }
///
/// #[ebbtide_std::test(worker_threads = 2)]
/// async fn two_workers() {
///     assert_eq!(ebbtide_std::Handle::current().worker_count(), 2);
/// }
/// ```
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    entry::expand(entry::Kind::Test, args.into(), item.into()).into()
}
