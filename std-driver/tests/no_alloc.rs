//! After start-up, the runtime allocates nothing per spawn, per timer or per IO operation: a
//! counting global allocator watches an accept / connect / read / write / sleep loop.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use ebbtide_std::io::{AsyncReadExt, AsyncWriteExt};
use ebbtide_std::net::{TcpListener, TcpStream};
use ebbtide_std::time::{sleep, Duration};
use ebbtide_std::Runtime;

struct Counting;

// Counted per thread: the runtime runs on the test's thread, and other tests' threads (the test
// harness itself) do not disturb the count.
thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

fn count_one() {
    let _ = COUNTING.try_with(|on| {
        if on.get() {
            let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        }
    });
}

// SAFETY: forwards to `System`, only counting.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one();
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

async fn counted<T>(f: impl std::future::Future<Output = T>) -> (T, usize) {
    COUNTING.with(|on| on.set(true));
    let before = ALLOCATIONS.with(Cell::get);
    let out = f.await;
    let n = ALLOCATIONS.with(Cell::get) - before;
    COUNTING.with(|on| on.set(false));
    (out, n)
}

#[test]
fn the_counter_sees_allocations() {
    let runtime = Runtime::new().unwrap();
    let (_, n) = runtime.block_on(counted(async { drop(std::hint::black_box(vec![1u8; 16])) }));
    assert_eq!(
        n, 1,
        "the counting allocator must count, or the other test proves nothing"
    );
}

// On mio's poll(2) backend, mio itself allocates for each registration (its fd table grows),
// so this promise is made for epoll and kqueue only.
#[cfg(not(mio_unsupported_force_poll_poll))]
#[test]
fn accept_connect_read_write_sleep_and_spawn_allocate_nothing() {
    let runtime = Runtime::new().unwrap();
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // One round outside the count, so lazily initialised statics (in std and the OS) are
        // already there.
        let mut warm = TcpStream::connect(addr).await.unwrap();
        let (mut served, _) = listener.accept().await.unwrap();
        warm.write_all(b"x").await.unwrap();
        let mut one = [0u8; 1];
        served.read_exact(&mut one).await.unwrap();
        drop((warm, served));
        sleep(Duration::from_millis(1)).await;

        let ((), allocations) = counted(async {
            for round in 0..20u8 {
                let mut client = TcpStream::connect(addr).await.unwrap();
                let (mut server, _) = listener.accept().await.unwrap();
                let echo = ebbtide_std::spawn(async move {
                    let mut buf = [0u8; 64];
                    let n = server.read(&mut buf).await.unwrap();
                    sleep(Duration::from_micros(200)).await;
                    server.write_all(&buf[..n]).await.unwrap();
                })
                .unwrap();
                let message = [round; 48];
                client.write_all(&message).await.unwrap();
                let mut back = [0u8; 48];
                client.read_exact(&mut back).await.unwrap();
                assert_eq!(back, message);
                echo.await.unwrap();
            }
        })
        .await;
        assert_eq!(allocations, 0, "the accept/read/write/sleep loop allocated");
    });
}
