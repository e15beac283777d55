//! `AsyncFd` on raw descriptors: a pipe written from another thread wakes the task; a Linux
//! timerfd ticks through it; dropping one deregisters it.

use std::io::{Read, Write};

use ebbtide_std::io::{set_nonblocking, AsyncFd, Interest};
use ebbtide_std::time::{timeout, Duration};
use ebbtide_std::Runtime;

#[test]
fn a_pipe_written_from_another_thread_wakes_the_reader() {
    Runtime::new().unwrap().block_on(async {
        let (reader, mut writer) = std::io::pipe().unwrap();
        set_nonblocking(&reader).unwrap();
        let reader = AsyncFd::with_interest(reader, Interest::READABLE).unwrap();

        let thread = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(50));
            writer.write_all(b"from afar").unwrap();
            // Dropping the writer closes the pipe: the reader then sees end of file.
        });

        let mut received = Vec::new();
        timeout(Duration::from_secs(5), async {
            let mut buf = [0u8; 4];
            loop {
                let mut guard = reader.readable().await.unwrap();
                match guard.try_io(|fd| fd.get_ref().read(&mut buf)) {
                    Ok(Ok(0)) => break,
                    Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
                    Ok(Err(e)) => panic!("read failed: {e}"),
                    Err(_would_block) => continue,
                }
            }
        })
        .await
        .expect("the pipe's reader was not woken within 5 s");
        assert_eq!(received, b"from afar");
        thread.join().unwrap();
    });
}

#[test]
fn a_full_pipe_parks_the_writer_until_another_thread_drains_it() {
    Runtime::new().unwrap().block_on(async {
        let (mut reader, writer) = std::io::pipe().unwrap();
        set_nonblocking(&writer).unwrap();
        let writer = AsyncFd::with_interest(writer, Interest::WRITABLE).unwrap();

        // Fill the pipe.
        let chunk = [3u8; 4096];
        let mut written = 0usize;
        loop {
            let mut guard = writer.writable().await.unwrap();
            match guard.try_io(|fd| fd.get_ref().write(&chunk)) {
                Ok(result) => written += result.unwrap(),
                Err(_would_block) => break,
            }
        }
        // Drain it from a thread; the parked writer must wake and write again.
        let drainer = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(50));
            let mut buf = vec![0u8; written];
            reader.read_exact(&mut buf).unwrap();
            reader
        });
        let n = timeout(
            Duration::from_secs(5),
            writer.async_io(ebbtide_std::reactor::Direction::Write, |mut fd| {
                fd.write(&chunk)
            }),
        )
        .await
        .expect("the pipe's writer was not woken within 5 s")
        .unwrap();
        assert!(n > 0);
        drop(drainer.join().unwrap());
    });
}

#[test]
fn dropping_an_async_fd_gives_its_slot_back() {
    let runtime = Runtime::new().unwrap();
    let metrics = runtime.metrics();
    runtime.block_on(async {
        let baseline = metrics.io_resources();
        let (reader, writer) = std::io::pipe().unwrap();
        set_nonblocking(&reader).unwrap();
        let fd = AsyncFd::new(reader).unwrap();
        assert_eq!(metrics.io_resources(), baseline + 1);
        drop(fd);
        assert_eq!(metrics.io_resources(), baseline);

        let (reader2, _writer2) = std::io::pipe().unwrap();
        set_nonblocking(&reader2).unwrap();
        let fd = AsyncFd::new(reader2).unwrap();
        let reader2 = fd.into_inner();
        assert_eq!(metrics.io_resources(), baseline);
        drop((reader2, writer));
    });
}

#[test]
fn an_async_fd_outside_a_runtime_is_an_error() {
    let (reader, _writer) = std::io::pipe().unwrap();
    let error = AsyncFd::new(reader).unwrap_err();
    assert!(error.to_string().contains("runtime"), "{error}");
}

#[cfg(target_os = "linux")]
#[test]
fn a_timerfd_ticks_through_async_fd() {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

    // SAFETY: timerfd_create takes no pointers; a non-negative result is a new fd we own.
    let raw = unsafe {
        libc::timerfd_create(
            libc::CLOCK_MONOTONIC,
            libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
        )
    };
    assert!(
        raw >= 0,
        "timerfd_create: {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: `raw` is a freshly created fd that nothing else owns.
    let timer = unsafe { OwnedFd::from_raw_fd(raw) };
    let spec = libc::itimerspec {
        it_interval: libc::timespec {
            tv_sec: 0,
            tv_nsec: 20_000_000,
        },
        it_value: libc::timespec {
            tv_sec: 0,
            tv_nsec: 20_000_000,
        },
    };
    // SAFETY: `timer` is open; `spec` is a valid itimerspec; the old value is not wanted (null).
    let rc = unsafe { libc::timerfd_settime(timer.as_raw_fd(), 0, &spec, std::ptr::null_mut()) };
    assert_eq!(
        rc,
        0,
        "timerfd_settime: {}",
        std::io::Error::last_os_error()
    );

    Runtime::new().unwrap().block_on(async {
        let timer = AsyncFd::with_interest(timer, Interest::READABLE).unwrap();
        let mut expirations = 0u64;
        timeout(Duration::from_secs(5), async {
            while expirations < 3 {
                let mut guard = timer.readable().await.unwrap();
                let mut count = [0u8; 8];
                let result = guard.try_io(|fd| {
                    // SAFETY: `count` is 8 writable bytes, what a timerfd read fills; the fd is
                    // open for as long as `fd` is borrowed.
                    let n = unsafe {
                        libc::read(fd.as_raw_fd(), count.as_mut_ptr().cast(), count.len())
                    };
                    if n < 0 {
                        Err(std::io::Error::last_os_error())
                    } else {
                        Ok(n)
                    }
                });
                if let Ok(n) = result {
                    assert_eq!(n.unwrap(), 8);
                    expirations += u64::from_ne_bytes(count);
                }
            }
        })
        .await
        .expect("the timerfd did not tick 3 times within 5 s");
        assert!(expirations >= 3);
    });
}
