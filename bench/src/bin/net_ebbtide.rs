//! ebbtide-std on the network workloads (runtime `ebbtide`): one `Runtime` (built with a
//! `Builder`) on the server thread, one task per connection. See `ebbtide_bench::net` for what is
//! measured.

use ebbtide_bench::net::{self, Service, StopFlag};
use ebbtide_std::net::TcpListener;
use ebbtide_std::Runtime;

#[path = "service/ebbtide.rs"]
mod service;
use service::{echo, http};

fn main() {
    net::main(&[("ebbtide", serve)]);
}

fn serve(service: Service, listener: std::net::TcpListener, stop: StopFlag) {
    // Room for 512 connections and more in each of the two small classes (a connection's task
    // keeps its buffers on the heap: it fits in 256 bytes or 1 KiB).
    let runtime = Runtime::builder()
        .task_slots([1024, 1024, 16, 4])
        .build()
        .expect("build the runtime");
    runtime.block_on(async move {
        let listener = TcpListener::from_std(listener).expect("register the listener");
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            if stop.is_set() {
                return;
            }
            stream.set_nodelay(true).expect("TCP_NODELAY");
            let spawned = match service {
                Service::Echo => ebbtide_std::spawn(echo(stream)).map(drop),
                Service::Http => ebbtide_std::spawn(http(stream)).map(drop),
            };
            spawned.expect("a free task slot");
        }
    });
}
