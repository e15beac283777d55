//! A connection's byte stream: the TCP socket as it is, or TLS over it (`--tls-cert`,
//! `--tls-key`), with what serving files needs of each.
//!
//! Over plain TCP a file's bytes go from the page cache to the socket with `sendfile(2)`
//! ([`TcpStream::send_file_with_header`]); TLS has to encrypt them, so they are read into memory
//! ([`fs::read_range`](ebbtide_std::fs::read_range), from the page cache when it can) and written
//! through rustls, a chunk at a time.

use std::fs::File;
use std::io;
use std::net::Shutdown;
use std::os::fd::AsFd;
use std::pin::Pin;
use std::task::{Context, Poll};

use ebbtide_hyper::tls::TlsStream;
use ebbtide_std::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ErrorType, WriteAllError};
use ebbtide_std::net::TcpStream;

/// The most bytes of a file one step hands to TLS: a TLS record's payload.
const TLS_STEP: usize = 16 * 1024;

/// A connection's byte stream.
pub(crate) enum Transport {
    /// Plain HTTP.
    Plain(TcpStream),
    /// HTTPS: boxed, since rustls's state is over 1 KiB and a connection's task must stay in
    /// the 4 KiB size class.
    Tls(Box<TlsStream<TcpStream>>),
}

impl Transport {
    /// Closes the sending side: the client reads end of stream (after a TLS `close_notify`).
    pub(crate) async fn shutdown_write(&mut self) -> io::Result<()> {
        match self {
            Transport::Plain(tcp) => TcpStream::shutdown(tcp, Shutdown::Write),
            Transport::Tls(tls) => tls.shutdown().await,
        }
    }

    /// Sends `head`, then `count` bytes of `file` from `start`; how many bytes of the file went.
    /// Fewer than `count` means the file ended first.
    pub(crate) async fn send_file_with_header(
        &mut self,
        head: &[u8],
        file: &File,
        start: u64,
        count: u64,
    ) -> io::Result<u64> {
        match self {
            Transport::Plain(tcp) => tcp.send_file_with_header(head, file, start, count).await,
            Transport::Tls(_) => {
                write_all(self, head).await?;
                let mut sent = 0;
                while sent < count {
                    let step = std::future::poll_fn(|cx| {
                        self.poll_send_file(cx, file, start + sent, count - sent)
                    });
                    match step.await? {
                        0 => break,
                        n => sent += n as u64,
                    }
                }
                Ok(sent)
            }
        }
    }

    /// One step of sending `count` bytes of `file` from `start`: `Ready(Ok(n))` with the bytes
    /// that went (0: the file ended).
    ///
    /// Over TLS a step reads up to one TLS record (16 KiB) of the file and hands it to rustls.
    /// When the socket makes the step wait, nothing is kept between polls: the next poll reads
    /// the same bytes again (from the page cache, as a rule).
    pub(crate) fn poll_send_file(
        &mut self,
        cx: &mut Context<'_>,
        file: &File,
        start: u64,
        count: u64,
    ) -> Poll<io::Result<usize>> {
        match self {
            Transport::Plain(tcp) => tcp.poll_send_file(cx, file.as_fd(), start, count),
            Transport::Tls(tls) => {
                // One TLS record's worth, on the thread's stack (not in the task: nothing is
                // kept across polls); what rustls accepts it has encrypted and holds.
                let mut buf = [0u8; TLS_STEP];
                let want = count.min(TLS_STEP as u64) as usize;
                let mut filled = 0;
                while filled < want {
                    match std::os::unix::fs::FileExt::read_at(
                        file,
                        &mut buf[filled..],
                        start + filled as u64,
                    ) {
                        Ok(0) => break,
                        Ok(n) => filled += n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Poll::Ready(Err(e)),
                    }
                }
                if filled == 0 {
                    return Poll::Ready(Ok(0));
                }
                Pin::new(&mut **tls).poll_write(cx, &buf[..filled])
            }
        }
    }
}

/// Writes all of `bytes`.
async fn write_all(transport: &mut Transport, bytes: &[u8]) -> io::Result<()> {
    match transport.write_all(bytes).await {
        Ok(()) => Ok(()),
        Err(WriteAllError::Other(error)) => Err(error),
        Err(WriteAllError::WriteZero) => Err(io::ErrorKind::WriteZero.into()),
    }
}

impl ErrorType for Transport {
    type Error = io::Error;
}

impl AsyncRead for Transport {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Transport::Plain(tcp) => Pin::new(tcp).poll_read(cx, buf),
            Transport::Tls(tls) => Pin::new(&mut **tls).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Transport {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Transport::Plain(tcp) => Pin::new(tcp).poll_write(cx, buf),
            Transport::Tls(tls) => Pin::new(&mut **tls).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[&[u8]],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Transport::Plain(tcp) => Pin::new(tcp).poll_write_vectored(cx, bufs),
            Transport::Tls(tls) => Pin::new(&mut **tls).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(tcp) => Pin::new(tcp).poll_flush(cx),
            Transport::Tls(tls) => Pin::new(&mut **tls).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(tcp) => Pin::new(tcp).poll_shutdown(cx),
            Transport::Tls(tls) => Pin::new(&mut **tls).poll_shutdown(cx),
        }
    }
}
