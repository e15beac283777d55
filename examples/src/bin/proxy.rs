//! A TCP proxy on ebbtide-std; see [`ebbtide_examples::proxy`].
//!
//! ```text
//! cargo run -p ebbtide-examples --bin proxy -- --listen 127.0.0.1:8080 --upstream 127.0.0.1:80
//! ```

use std::process::ExitCode;

use ebbtide_examples::cli;
use ebbtide_examples::proxy::{self, Config, USAGE};
use ebbtide_std::net::TcpListener;

#[ebbtide_std::main]
async fn main() -> ExitCode {
    let config = match Config::from_args(std::env::args().skip(1)) {
        Ok(config) => config,
        Err(stopped) => return cli::finish("proxy", stopped, USAGE),
    };
    let listener = match TcpListener::bind(config.listen).await {
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
}
