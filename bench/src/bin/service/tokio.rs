//! The per-connection services of the Tokio network servers (`net_tokio`, `mtnet_tokio`): the
//! same as `service/ebbtide.rs`, on Tokio's types. Included by each binary with `#[path]`.

use ebbtide_bench::http::{HttpConn, Verdict};
use ebbtide_bench::net::BUF_SIZE;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Writes back what it reads, until the client closes.
pub async fn echo(mut stream: TcpStream) {
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

/// Answers HTTP/1.1 requests until the client closes or asks to.
pub async fn http(mut stream: TcpStream) {
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
