//! ebbtide-std on the network workloads (runtime `ebbtide`): one `Runtime` (built with a
//! `Builder`) on the server thread, one task per connection. See `ebbtide_bench::net` for what is
//! measured.

use ebbtide_bench::http::{HttpConn, Verdict};
use ebbtide_bench::net::{self, Service, StopFlag, BUF_SIZE};
use ebbtide_std::io::{AsyncReadExt, AsyncWriteExt};
use ebbtide_std::net::{TcpListener, TcpStream};
use ebbtide_std::Runtime;

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

async fn echo(mut stream: TcpStream) {
    let mut buf = vec![0u8; BUF_SIZE];
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if stream.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

async fn http(mut stream: TcpStream) {
    let mut conn = HttpConn::new();
    loop {
        let n = match stream.read(conn.read_buf()).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let verdict = conn.handle(n);
        if stream.write_all(conn.output()).await.is_err() || verdict == Verdict::Close {
            return;
        }
        conn.clear_output();
    }
}
