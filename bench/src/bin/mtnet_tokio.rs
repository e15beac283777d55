//! Tokio's multi-thread runtime on the 2-worker network workloads: `tokio-mt2`,
//! `new_multi_thread().worker_threads(2)` with IO and time enabled (what `#[tokio::main]` builds,
//! with 2 workers), and one accept loop, spawned on the runtime, spawning a task per connection,
//! as Tokio servers are written. Tokio's workers share one IO driver (whichever worker parks
//! with it polls it) and steal each other's tasks; a task spawned from a worker goes to that
//! worker's queue (its LIFO slot first). The server thread only waits in `block_on`. The same
//! echo and HTTP tasks as `net_tokio`. See `ebbtide_bench::net` for what is measured.

use ebbtide_bench::net::{self, Ready, Service, StopFlag};
use ebbtide_bench::PEER_WORKERS;
use tokio::net::TcpListener;
use tokio::runtime::Builder;

#[path = "service/tokio.rs"]
mod service;
use service::{echo, http};

fn main() {
    net::mt_main(&[("tokio-mt2", serve)], net::no_extra);
}

fn serve(service: Service, listener: std::net::TcpListener, stop: StopFlag, ready: Ready) {
    let runtime = Builder::new_multi_thread()
        .worker_threads(PEER_WORKERS)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let listener = TcpListener::from_std(listener).expect("register the listener");
        ready.listening();
        // Spawned, so that the accept loop runs on a worker too, not on this thread.
        tokio::spawn(accept_loop(service, listener, stop))
            .await
            .unwrap()
    });
}

async fn accept_loop(service: Service, listener: TcpListener, stop: StopFlag) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        if stop.is_set() {
            return;
        }
        stream.set_nodelay(true).expect("TCP_NODELAY");
        match service {
            Service::Echo => drop(tokio::spawn(echo(stream))),
            Service::Http => drop(tokio::spawn(http(stream))),
        }
    }
}
