//! A line-based chat server on ebbtide-std; see [`ebbtide_examples::chat`].
//!
//! ```text
//! cargo run -p ebbtide-examples --bin chat -- --addr 127.0.0.1:7000
//! cargo run -p ebbtide-examples --bin chat -- --addr 127.0.0.1:7000 --workers 2
//! nc 127.0.0.1 7000
//! ```
//!
//! With `--workers N` (every CPU by default) the runtime has N worker threads, each accepting on
//! a `SO_REUSEPORT` listener of its own; the clients of every worker share the one room.

use std::process::ExitCode;

use ebbtide_examples::chat::{self, Config, Room, USAGE};
use ebbtide_examples::cli;
use ebbtide_examples::serve::bind_on_workers;
use ebbtide_std::Runtime;

/// The one room of this server.
static ROOM: Room = Room::new();

/// Task slots each worker reserves when it starts. Each client's task holds a line buffer and
/// a read buffer (over 1 KiB, under 4 KiB: see `chat`'s tests), so it takes a 4 KiB slot, of
/// which this reserves 1,024 per worker (with 4,096 of 256 bytes, 2,048 of 1 KiB and 256 of
/// 16 KiB). Task memory grows past this first reservation when more clients come (no
/// `task_limit`); the IO table (`cli::DEFAULT_IO_CAPACITY`, 16,384 per worker) and the file
/// descriptors bound the clients.
const TASK_CAPACITY: usize = 4096;

fn main() -> ExitCode {
    let config = match Config::from_args(std::env::args().skip(1)) {
        Ok(config) => config,
        Err(stopped) => return cli::finish("chat", stopped, USAGE),
    };
    if let Err(error) = cli::raise_fd_limit() {
        eprintln!("chat: cannot raise the limit of open files: {error}");
    }
    let runtime = match Runtime::builder()
        .task_capacity(TASK_CAPACITY)
        .io_capacity(cli::DEFAULT_IO_CAPACITY)
        .worker_threads(config.workers)
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("chat: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let handle = runtime.handle();
    runtime.block_on(async {
        let serve = move |listener| chat::run(listener, &ROOM, config);
        let listener = match bind_on_workers(&handle, config.workers, config.addr, serve).await {
            Ok(listener) => listener,
            Err(error) => {
                eprintln!("chat: cannot listen on {}: {error}", config.addr);
                return ExitCode::FAILURE;
            }
        };
        eprintln!(
            "chat: listening on {} ({} worker{})",
            listener.local_addr().unwrap_or(config.addr),
            config.workers,
            if config.workers == 1 { "" } else { "s" }
        );
        match chat::run(listener, &ROOM, config).await {}
    })
}
