//! The accept loop survives running out of file descriptors (EMFILE): it backs off, keeps serving
//! the connections it has, and accepts again once descriptors are free.
//!
//! Alone in its test binary: it lowers the process's RLIMIT_NOFILE. Linux only (it counts open
//! descriptors in /proc).
#![cfg(target_os = "linux")]

use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use ebbtide_std::io::{AsyncReadExt, AsyncWriteExt};
use ebbtide_std::net::TcpListener;
use ebbtide_std::time::{sleep, timeout, Duration};
use ebbtide_std::Runtime;

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(64)
}

fn set_nofile_soft(limit: u64) -> u64 {
    let mut rl = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `rl` is a valid rlimit to fill, then to set.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl), 0);
        let old = rl.rlim_cur;
        rl.rlim_cur = limit as libc::rlim_t;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &rl), 0);
        #[allow(clippy::unnecessary_cast)] // rlim_t is not u64 everywhere
        let old = old as u64;
        old
    }
}

#[test]
fn accept_backs_off_on_emfile_and_recovers() {
    let runtime = Runtime::new().unwrap();
    let emfile_seen = Arc::new(AtomicUsize::new(0));
    let served = Arc::new(AtomicUsize::new(0));
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();

        // Six clients connect while descriptors are plentiful; the kernel queues them.
        let mut clients: Vec<std::net::TcpStream> = (0..6)
            .map(|_| std::net::TcpStream::connect(addr).unwrap())
            .collect();
        for c in &clients {
            c.set_read_timeout(Some(std::time::Duration::from_secs(10)))
                .unwrap();
        }
        // Room for exactly two more descriptors: two accepts, then EMFILE.
        let old_limit = set_nofile_soft(open_fds() as u64 + 2);

        let seen = emfile_seen.clone();
        let count = served.clone();
        let server = ebbtide_std::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((mut stream, _)) => {
                        let count = count.clone();
                        ebbtide_std::spawn(async move {
                            let mut buf = [0u8; 16];
                            loop {
                                match stream.read(&mut buf).await {
                                    Ok(0) | Err(_) => return, // closing frees the descriptor
                                    Ok(n) => {
                                        stream.write_all(&buf[..n]).await.unwrap();
                                        count.fetch_add(1, Ordering::SeqCst);
                                    }
                                }
                            }
                        })
                        .unwrap();
                    }
                    Err(e) if e.raw_os_error() == Some(libc::EMFILE) => {
                        // Back off: the descriptors come back when connections close.
                        seen.fetch_add(1, Ordering::SeqCst);
                        sleep(Duration::from_millis(5)).await;
                    }
                    Err(e) => panic!("unexpected accept error: {e}"),
                }
            }
        })
        .unwrap();

        // The clients talk from a thread (threads cost no descriptors), one at a time: each is
        // answered, then hangs up, which frees a descriptor for the next accept.
        let clients_thread = std::thread::spawn(move || {
            for (i, mut client) in clients.drain(..).enumerate() {
                client.write_all(&[i as u8; 4]).unwrap();
                let mut back = [0u8; 4];
                client.read_exact(&mut back).unwrap();
                assert_eq!(back, [i as u8; 4]);
                // Hanging up lets the server close its side and free that descriptor.
            }
        });
        timeout(Duration::from_secs(20), async {
            // While two connections are open and four wait, the accept loop hits EMFILE.
            while !clients_thread.is_finished() {
                sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .expect("all six clients were served within 20 s");
        clients_thread.join().expect("every client got its echo");
        set_nofile_soft(old_limit);
        server.abort();
    });
    assert_eq!(served.load(Ordering::SeqCst), 6);
    assert!(
        emfile_seen.load(Ordering::SeqCst) > 0,
        "the accept loop never ran out of fds"
    );
}
