//! A line-based chat server on ebbtide-std; see [`ebbtide_examples::chat`].
//!
//! ```text
//! cargo run -p ebbtide-examples --bin chat -- --addr 127.0.0.1:7000
//! nc 127.0.0.1 7000
//! ```

use std::process::ExitCode;

use ebbtide_examples::chat::{self, Config, Room, USAGE};
use ebbtide_examples::cli;
use ebbtide_std::net::TcpListener;

/// The one room of this server.
static ROOM: Room = Room::new();

// Each client's task holds a line buffer and a read buffer, so it takes a 4 KiB slot: 4,096
// tasks give 256 of those (see `Builder::task_capacity`).
#[ebbtide_std::main(task_capacity = 4096)]
async fn main() -> ExitCode {
    let config = match Config::from_args(std::env::args().skip(1)) {
        Ok(config) => config,
        Err(stopped) => return cli::finish("chat", stopped, USAGE),
    };
    let listener = match TcpListener::bind(config.addr).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("chat: cannot listen on {}: {error}", config.addr);
            return ExitCode::FAILURE;
        }
    };
    eprintln!(
        "chat: listening on {}",
        listener.local_addr().unwrap_or(config.addr)
    );
    match chat::run(listener, &ROOM, config).await {}
}
