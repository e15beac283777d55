//! smol on the 2-worker network workloads: `smol-mt2`, one `async-executor` `Executor` run on 2
//! threads, each in `async_io::block_on(executor.run(shutdown))` (as `mt_smol`), with async-io's
//! `Async<TcpListener>` and `Async<TcpStream>`, and one accept loop, spawned on the executor,
//! spawning a task per connection. async-io has one reactor for the process: a runner thread
//! blocked in `block_on` polls it when no other thread does (and async-io's own `async-io`
//! thread when none can). The server thread only waits for the accept loop to end. The same echo
//! and HTTP handling as the other servers. See `ebbtide_bench::net` for what is measured.

use std::net::TcpStream;
use std::thread;

use async_executor::Executor;
use async_io::Async;
use ebbtide_bench::http::{HttpConn, Verdict};
use ebbtide_bench::net::{self, Ready, Service, StopFlag, BUF_SIZE};
use ebbtide_bench::PEER_WORKERS;
use futures_lite::io::{AsyncReadExt, AsyncWriteExt};

type Ex = &'static Executor<'static>;

fn main() {
    net::mt_main(&[("smol-mt2", serve)], net::no_extra);
}

fn serve(service: Service, listener: std::net::TcpListener, stop: StopFlag, ready: Ready) {
    let ex: Ex = Box::leak(Box::new(Executor::new()));
    // Dropping the sender ends every runner's `run`.
    let (shutdown, stopped) = async_channel::bounded::<()>(1);
    let runners: Vec<_> = (0..PEER_WORKERS)
        .map(|i| {
            let stopped = stopped.clone();
            thread::Builder::new()
                .name(format!("smol-runner-{i}"))
                .spawn(move || async_io::block_on(ex.run(stopped.recv())))
                .expect("runner thread")
        })
        .collect();
    let listener = Async::new(listener).expect("register the listener");
    ready.listening();
    let accepting = ex.spawn(accept_loop(ex, service, listener, stop));
    futures_lite::future::block_on(accepting);
    drop(shutdown);
    for runner in runners {
        let _ = runner.join();
    }
}

async fn accept_loop(
    ex: Ex,
    service: Service,
    listener: Async<std::net::TcpListener>,
    stop: StopFlag,
) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        if stop.is_set() {
            return;
        }
        stream.get_ref().set_nodelay(true).expect("TCP_NODELAY");
        match service {
            Service::Echo => ex.spawn(echo(stream)).detach(),
            Service::Http => ex.spawn(http(stream)).detach(),
        }
    }
}

async fn echo(mut stream: Async<TcpStream>) {
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

async fn http(mut stream: Async<TcpStream>) {
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
