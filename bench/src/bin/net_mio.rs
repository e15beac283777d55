//! The floor of the network workloads (runtime `mio`): the same servers with no runtime at all,
//! one edge-triggered mio event loop on the server thread (`ebbtide_bench::net::mio_echo_server`,
//! `mio_http_server`). See `ebbtide_bench::net` for what is measured.

use ebbtide_bench::net::{self, Service, StopFlag};

fn main() {
    net::main(&[("mio", serve)]);
}

fn serve(service: Service, listener: std::net::TcpListener, stop: StopFlag) {
    match service {
        Service::Echo => net::mio_echo_server(listener, stop),
        Service::Http => net::mio_http_server(listener, stop),
    }
}
