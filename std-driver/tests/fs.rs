//! `fs`: a several-MB file round-trips through `File` in chunks, byte for byte; missing files
//! are `NotFound`.

use std::io::{ErrorKind, SeekFrom};
use std::path::PathBuf;

use ebbtide_std::fs::{self, File};
use ebbtide_std::Runtime;

/// A fresh directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ebbtide-fs-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Bytes that differ at every offset of a chunk (a shuffled or lost chunk shows).
fn pattern(len: usize) -> Vec<u8> {
    let mut state = 0x2545_f491_u32;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect()
}

#[test]
fn a_large_file_round_trips_in_chunks() {
    let dir = scratch("round-trip");
    let path = dir.join("big.bin");
    let data = pattern(5 * 1024 * 1024 + 123);
    Runtime::new().unwrap().block_on(async {
        let mut file = File::create(&path).await.unwrap();
        // Uneven chunks, some larger than MAX_CHUNK (short writes).
        let mut rest = &data[..];
        let mut size = 1000;
        while !rest.is_empty() {
            let n = file.write(&rest[..size.min(rest.len())]).await.unwrap();
            assert!(n > 0 && n <= fs::MAX_CHUNK);
            rest = &rest[n..];
            size = size * 3 % 700_001 + 1;
        }
        file.sync_all().await.unwrap();
        assert_eq!(file.metadata().await.unwrap().len(), data.len() as u64);
        drop(file);

        // Stream it back through one 64 KiB buffer.
        let mut file = File::open(&path).await.unwrap();
        let mut chunk = vec![0u8; 64 * 1024];
        let mut copy = Vec::with_capacity(data.len());
        loop {
            let n = file.read(&mut chunk).await.unwrap();
            if n == 0 {
                break;
            }
            copy.extend_from_slice(&chunk[..n]);
        }
        assert!(copy == data, "the file came back different");

        // Seek and read again from the middle.
        let middle = data.len() as u64 / 2;
        assert_eq!(file.seek(SeekFrom::Start(middle)).await.unwrap(), middle);
        let n = file.read(&mut chunk).await.unwrap();
        assert_eq!(&chunk[..n], &data[middle as usize..middle as usize + n]);

        // The whole-file helpers agree.
        assert!(fs::read(&path).await.unwrap() == data);
    });
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_small_read_then_seek_current_counts_from_the_callers_position() {
    let dir = scratch("seek-current");
    let path = dir.join("digits");
    Runtime::new().unwrap().block_on(async {
        fs::write(&path, "0123456789").await.unwrap();
        let mut file = File::open(&path).await.unwrap();
        let mut two = [0u8; 2];
        file.read(&mut two).await.unwrap();
        assert_eq!(&two, b"01");
        assert_eq!(file.seek(SeekFrom::Current(3)).await.unwrap(), 5);
        file.read(&mut two).await.unwrap();
        assert_eq!(&two, b"56");
    });
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_io_traits_work_on_a_file() {
    use ebbtide_core::io::{AsyncReadExt, AsyncWriteExt};

    let dir = scratch("traits");
    let path = dir.join("traits.txt");
    Runtime::new().unwrap().block_on(async {
        let mut file = File::create(&path).await.unwrap();
        AsyncWriteExt::write_all(&mut file, b"through the traits")
            .await
            .unwrap();
        AsyncWriteExt::flush(&mut file).await.unwrap();
        let mut file = File::open(&path).await.unwrap();
        let mut buf = [0u8; 18];
        file.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"through the traits");
    });
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn missing_files_are_not_found() {
    let dir = scratch("missing");
    let missing = dir.join("nothing-here");
    Runtime::new().unwrap().block_on(async {
        let kind = |r: std::io::Error| r.kind();
        assert_eq!(
            kind(fs::read(&missing).await.unwrap_err()),
            ErrorKind::NotFound
        );
        assert_eq!(
            kind(fs::read_to_string(&missing).await.unwrap_err()),
            ErrorKind::NotFound
        );
        assert_eq!(
            kind(fs::metadata(&missing).await.unwrap_err()),
            ErrorKind::NotFound
        );
        assert_eq!(
            kind(fs::read_dir(&missing).await.unwrap_err()),
            ErrorKind::NotFound
        );
        assert_eq!(
            kind(fs::remove_file(&missing).await.unwrap_err()),
            ErrorKind::NotFound
        );
        assert_eq!(
            kind(File::open(&missing).await.unwrap_err()),
            ErrorKind::NotFound
        );
        assert_eq!(
            kind(fs::write(missing.join("child"), "x").await.unwrap_err()),
            ErrorKind::NotFound
        );
    });
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn directories_are_created_and_listed() {
    let dir = scratch("tree");
    Runtime::new().unwrap().block_on(async {
        fs::create_dir_all(dir.join("a/b/c")).await.unwrap();
        fs::write(dir.join("a/one"), "1").await.unwrap();
        let mut names: Vec<_> = fs::read_dir(dir.join("a"))
            .await
            .unwrap()
            .into_iter()
            .map(|entry| entry.file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["b", "one"]);
        fs::remove_file(dir.join("a/one")).await.unwrap();
    });
    std::fs::remove_dir_all(&dir).unwrap();
}
