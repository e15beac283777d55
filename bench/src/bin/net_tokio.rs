//! Tokio on the network workloads: `tokio-ct` (current_thread runtime on the server thread) and
//! `tokio-mt1` (multi_thread runtime with one worker, which runs the accept loop and every
//! connection; the server thread only waits for it). One task per connection. See
//! `ebbtide_bench::net` for what is measured.

use ebbtide_bench::net::{self, Service, StopFlag};
use tokio::net::TcpListener;
use tokio::runtime::Builder;

#[path = "service/tokio.rs"]
mod service;
use service::{echo, http};

fn main() {
    net::main(&[("tokio-ct", serve_ct), ("tokio-mt1", serve_mt1)]);
}

fn serve_ct(service: Service, listener: std::net::TcpListener, stop: StopFlag) {
    let runtime = Builder::new_current_thread().enable_io().build().unwrap();
    runtime.block_on(accept_loop(service, listener, stop));
}

fn serve_mt1(service: Service, listener: std::net::TcpListener, stop: StopFlag) {
    let runtime = Builder::new_multi_thread()
        .worker_threads(1)
        .enable_io()
        .build()
        .unwrap();
    // Spawned, so that the accept loop runs on the worker too, not on this thread.
    runtime.block_on(async move {
        tokio::spawn(accept_loop(service, listener, stop))
            .await
            .unwrap()
    });
}

async fn accept_loop(service: Service, listener: std::net::TcpListener, stop: StopFlag) {
    let listener = TcpListener::from_std(listener).expect("register the listener");
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
