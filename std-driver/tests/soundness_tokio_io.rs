//! Tokio's `AsyncRead` on ebbtide's streams hands `poll_read_uninit` the unfilled, possibly
//! uninitialised part of a `ReadBuf` (`tokio_io.rs`'s unsafe code), so that under Miri
//! (`cargo miri test -p ebbtide-std --features tokio-io --test soundness_tokio_io`, in CI's `miri`
//! stage) reads into never-initialised memory are checked: only the bytes read become filled,
//! partial reads, a full buffer, and end of stream.
#![cfg(all(unix, feature = "tokio-io"))]

use std::mem::MaybeUninit;

use ebbtide_std::net::UnixStream;
use ebbtide_std::Runtime;
use tokio::io::{AsyncRead, ReadBuf};

/// Reads once from `stream` into `buf` through Tokio's trait.
async fn read_once(stream: &mut UnixStream, buf: &mut ReadBuf<'_>) -> std::io::Result<()> {
    std::future::poll_fn(|cx| std::pin::Pin::new(&mut *stream).poll_read(cx, buf)).await
}

#[test]
fn reads_into_uninitialised_memory_fill_exactly_what_was_read() {
    Runtime::new().unwrap().block_on(async {
        let (mut reader, mut writer) = UnixStream::pair().unwrap();
        let mut storage = [MaybeUninit::<u8>::uninit(); 16];
        let mut buf = ReadBuf::uninit(&mut storage);
        ebbtide_std::io::AsyncWriteExt::write_all(&mut writer, b"hello")
            .await
            .unwrap();
        read_once(&mut reader, &mut buf).await.unwrap();
        assert_eq!(buf.filled(), b"hello");
        // Only what was read counts as initialised: the rest stays untouched (Miri would report
        // a read of it).
        assert_eq!(buf.initialized().len(), 5);
        // A second, partial read appends.
        ebbtide_std::io::AsyncWriteExt::write_all(&mut writer, b", world")
            .await
            .unwrap();
        read_once(&mut reader, &mut buf).await.unwrap();
        assert_eq!(buf.filled(), b"hello, world");
        // More than fits: only the remaining 4 bytes are taken.
        ebbtide_std::io::AsyncWriteExt::write_all(&mut writer, b"0123456789")
            .await
            .unwrap();
        read_once(&mut reader, &mut buf).await.unwrap();
        assert_eq!(buf.filled(), b"hello, world0123");
        assert_eq!(buf.remaining(), 0);
        // A full buffer reads nothing and returns at once.
        read_once(&mut reader, &mut buf).await.unwrap();
        assert_eq!(buf.filled().len(), 16);
        // End of stream: nothing more is filled.
        drop(writer);
        let mut rest = [MaybeUninit::<u8>::uninit(); 32];
        let mut tail = ReadBuf::uninit(&mut rest);
        read_once(&mut reader, &mut tail).await.unwrap();
        assert_eq!(tail.filled(), b"456789");
        read_once(&mut reader, &mut tail).await.unwrap();
        assert_eq!(tail.filled(), b"456789");
    });
}
