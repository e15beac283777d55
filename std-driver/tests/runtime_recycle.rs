//! Dropping a runtime gives its file descriptors and memory back for the next one: a process that
//! builds and drops runtimes one after another (a test binary full of `#[ebbtide_std::test]`s)
//! keeps its fd count and RSS flat. And what a dropped runtime leaves behind (a `Handle`, an IO
//! object) fails cleanly instead of acting on the runtime that reuses its parts.
//!
//! Linux only: it counts open descriptors in /proc/self/fd and reads RSS from /proc/self/statm.
//! The tests take one lock: they measure the whole process.
#![cfg(target_os = "linux")]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use ebbtide_std::io::{AsyncReadExt, AsyncWriteExt};
use ebbtide_std::net::{TcpListener, TcpStream};
use ebbtide_std::time::{sleep, timeout, Duration};
use ebbtide_std::{Runtime, SpawnError};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    // SAFETY: a plain query.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
    pages * page
}

/// One build / use / drop cycle: a spawned task that sleeps, joined; every tenth cycle also a
/// TCP listener and a connection on 127.0.0.1 that carry a few bytes.
fn cycle(i: usize) {
    let runtime = Runtime::new().unwrap();
    let answer = runtime.block_on(async move {
        let task = ebbtide_std::spawn(async move {
            sleep(Duration::from_micros(200)).await;
            i
        })
        .unwrap();
        if i.is_multiple_of(10) {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let (client, accepted) =
                ebbtide_std::join!(TcpStream::connect(addr), listener.accept());
            let (mut client, (mut server, _)) = (client.unwrap(), accepted.unwrap());
            client.write_all(b"ping").await.unwrap();
            let mut buf = [0u8; 4];
            server.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"ping");
        }
        task.await.unwrap()
    });
    assert_eq!(answer, i);
}

#[test]
fn build_use_drop_keeps_fds_and_rss_flat() {
    let _serial = serial();
    // Under a sanitizer (`cargo xtask ci --only sanitizers` says which) RSS is no measure of
    // what the runtimes keep: AddressSanitizer holds freed memory in quarantine and maps shadow
    // memory as it goes. File descriptors are still counted.
    let sanitized = std::env::var_os("EBBTIDE_SANITIZER").is_some();
    cycle(0);
    let fds = open_fds();
    let rss = rss_bytes();
    for i in 1..1000 {
        cycle(i);
        let now = open_fds();
        assert!(
            now <= fds,
            "after {} runtimes {now} fds are open, {fds} after the first",
            i + 1
        );
        if sanitized {
            continue;
        }
        let grown = rss_bytes().saturating_sub(rss);
        assert!(
            grown < 8 << 20,
            "after {} runtimes RSS grew by {} KiB since the first",
            i + 1,
            grown >> 10
        );
    }
}

#[test]
fn a_stale_handle_cannot_spawn() {
    let _serial = serial();
    let old = Runtime::new().unwrap();
    let handle = old.handle();
    old.block_on(async { sleep(Duration::from_millis(1)).await });
    drop(old);

    let ran = Arc::new(AtomicBool::new(false));
    let flag = ran.clone();
    let err = handle
        .spawn(async move { flag.store(true, Ordering::SeqCst) })
        .unwrap_err();
    assert_eq!(err, SpawnError::Shutdown);
    assert!(err.to_string().contains("shut down"), "{err}");

    // A new runtime (likely built from the old one's parts) does not revive the handle.
    let new = Runtime::new().unwrap();
    let flag = ran.clone();
    assert_eq!(
        handle
            .spawn(async move { flag.store(true, Ordering::SeqCst) })
            .unwrap_err(),
        SpawnError::Shutdown
    );
    let flag = ran.clone();
    let job = handle.spawn_blocking(move || flag.store(true, Ordering::SeqCst));
    let fresh = new.handle();
    new.block_on(async {
        assert!(job.await.unwrap_err().is_cancelled());
        // The new runtime's own handle works.
        assert_eq!(fresh.spawn(async { 5 }).unwrap().await.unwrap(), 5);
        sleep(Duration::from_millis(5)).await;
    });
    assert!(!ran.load(Ordering::SeqCst), "a stale handle's task ran");
}

#[test]
fn a_stale_io_object_errors_and_leaves_the_new_runtime_alone() {
    let _serial = serial();
    let peer_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = peer_listener.local_addr().unwrap();
    let old = Runtime::new().unwrap();
    let mut stale = old.block_on(async { TcpStream::connect(addr).await.unwrap() });
    let (mut peer, _) = peer_listener.accept().unwrap();
    drop(old);

    let new = Runtime::new().unwrap();
    std::io::Write::write_all(&mut peer, b"old").unwrap();
    new.block_on(async {
        // The new runtime's own IO works, before and after the stale object is used.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let local = listener.local_addr().unwrap();
        let (client, accepted) = ebbtide_std::join!(TcpStream::connect(local), listener.accept());
        let (mut client, (mut server, _)) = (client.unwrap(), accepted.unwrap());

        let mut buf = [0u8; 8];
        let read = timeout(Duration::from_secs(5), stale.read(&mut buf))
            .await
            .expect("a stale IO object's read must fail, not hang");
        assert!(read.is_err(), "a stale IO object read {read:?}");
        let write = timeout(Duration::from_secs(5), stale.write(b"x"))
            .await
            .expect("a stale IO object's write must fail, not hang");
        assert!(write.is_err(), "a stale IO object wrote {write:?}");

        client.write_all(b"new").await.unwrap();
        let mut got = [0u8; 3];
        timeout(Duration::from_secs(5), server.read_exact(&mut got))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&got, b"new");
    });
    // The new runtime reused the old one's parts (the tests run one at a time, and the bin
    // hands out the set put last): the stale stream still holds its slot of the IO table, which
    // the new runtime never handed out, until it drops.
    assert_eq!(new.metrics().io_resources(), 1);
    drop(stale);
    assert_eq!(new.metrics().io_resources(), 0);
    drop(new);
}

#[test]
fn spawns_racing_a_drop_never_run_on_the_next_runtime() {
    let _serial = serial();
    // Which runtime (by number) the main thread runs now.
    static RUNNING: AtomicUsize = AtomicUsize::new(usize::MAX);
    static MISPLACED: AtomicUsize = AtomicUsize::new(0);
    static RAN: AtomicUsize = AtomicUsize::new(0);
    let latest: Arc<Mutex<Option<(usize, ebbtide_std::Handle)>>> = Arc::new(Mutex::new(None));
    let done = Arc::new(AtomicBool::new(false));
    let spawner = {
        let (latest, done) = (latest.clone(), done.clone());
        std::thread::spawn(move || {
            let (mut spawned, mut refused) = (0, 0);
            while !done.load(Ordering::SeqCst) {
                let Some((number, handle)) = *latest.lock().unwrap() else {
                    std::thread::yield_now();
                    continue;
                };
                let task = async move {
                    RAN.fetch_add(1, Ordering::SeqCst);
                    if RUNNING.load(Ordering::SeqCst) != number {
                        MISPLACED.fetch_add(1, Ordering::SeqCst);
                    }
                };
                match handle.spawn(task) {
                    Ok(_) => spawned += 1,
                    Err(SpawnError::Shutdown) => refused += 1,
                    Err(SpawnError::PoolFull { .. }) => std::thread::yield_now(),
                    Err(e) => panic!("{e}"),
                }
            }
            (spawned, refused)
        })
    };
    for number in 0..200 {
        let runtime = Runtime::new().unwrap();
        RUNNING.store(number, Ordering::SeqCst);
        *latest.lock().unwrap() = Some((number, runtime.handle()));
        runtime.block_on(async { sleep(Duration::from_micros(300)).await });
        // The handle stays published while the runtime drops, and after.
        drop(runtime);
    }
    done.store(true, Ordering::SeqCst);
    let (spawned, refused) = spawner.join().unwrap();
    assert!(
        spawned > 0 && refused > 0,
        "{spawned} spawned, {refused} refused"
    );
    assert!(RAN.load(Ordering::SeqCst) > 0);
    assert_eq!(
        MISPLACED.load(Ordering::SeqCst),
        0,
        "a task spawned on a dropped runtime ran on a later one"
    );
}
