//! A TCP proxy on ebbtide-std; see [`ebbtide_examples::proxy`].
//!
//! ```text
//! cargo run -p ebbtide-examples --bin proxy -- --listen 127.0.0.1:8080 --upstream 127.0.0.1:80
//! cargo run -p ebbtide-examples --bin proxy -- --listen 127.0.0.1:8080 --upstream 127.0.0.1:80 --workers 2
//! ```

use std::process::ExitCode;

use ebbtide_examples::cli;
use ebbtide_examples::proxy::{self, Config, USAGE};
use ebbtide_examples::serve::bind_on_workers;
use ebbtide_std::Runtime;

fn main() -> ExitCode {
    let config = match Config::from_args(std::env::args().skip(1)) {
        Ok(config) => config,
        Err(stopped) => return cli::finish("proxy", stopped, USAGE),
    };
    if let Err(error) = cli::raise_fd_limit() {
        eprintln!("proxy: cannot raise the limit of open files: {error}");
    }
    // Task memory grows as connections come; the IO table is reserved: make it roomy.
    let runtime = match Runtime::builder()
        .io_capacity(cli::DEFAULT_IO_CAPACITY)
        .worker_threads(config.workers)
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("proxy: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let handle = runtime.handle();
    runtime.block_on(async {
        let serve = move |listener| proxy::run(listener, config);
        let listener = match bind_on_workers(&handle, config.workers, config.listen, serve).await {
            Ok(listener) => listener,
            Err(error) => {
                eprintln!("proxy: cannot listen on {}: {error}", config.listen);
                return ExitCode::FAILURE;
            }
        };
        eprintln!(
            "proxy: {} -> {}",
            listener.local_addr().unwrap_or(config.listen),
            config.upstream
        );
        match proxy::run(listener, config).await {}
    })
}
