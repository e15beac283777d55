//! UDP on loopback: datagrams to and from addresses, connected sockets, and an ICMP error that
//! must not leave the socket spinning.

use std::io::ErrorKind;

use ebbtide_std::net::UdpSocket;
use ebbtide_std::time::{timeout, Duration};
use ebbtide_std::Runtime;

#[test]
fn send_to_and_recv_from_carry_whole_datagrams() {
    Runtime::new().unwrap().block_on(async {
        timeout(Duration::from_secs(5), async {
            let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let b_addr = b.local_addr().unwrap();
            for i in 0..10u8 {
                let datagram = [i; 100];
                assert_eq!(a.send_to(&datagram, b_addr).await.unwrap(), 100);
            }
            let mut buf = [0u8; 512];
            for i in 0..10u8 {
                let (n, from) = b.recv_from(&mut buf).await.unwrap();
                assert_eq!(n, 100);
                assert_eq!(from, a.local_addr().unwrap());
                assert!(buf[..n].iter().all(|&byte| byte == i));
            }
        })
        .await
        .expect("datagrams did not arrive within 5 s");
    });
}

#[test]
fn connected_sockets_send_and_recv() {
    Runtime::new().unwrap().block_on(async {
        timeout(Duration::from_secs(5), async {
            let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            a.connect(b.local_addr().unwrap()).await.unwrap();
            b.connect(a.local_addr().unwrap()).await.unwrap();
            assert_eq!(a.peer_addr().unwrap(), b.local_addr().unwrap());

            // The receiver waits first, in its own task; the send wakes it.
            let b = std::sync::Arc::new(b);
            let receiver = {
                let b = b.clone();
                ebbtide_std::spawn(async move {
                    let mut buf = [0u8; 16];
                    let n = b.recv(&mut buf).await.unwrap();
                    buf[..n].to_vec()
                })
                .unwrap()
            };
            ebbtide_std::task::yield_now().await;
            a.send(b"connected").await.unwrap();
            assert_eq!(receiver.await.unwrap(), b"connected");

            b.send(b"back").await.unwrap();
            let mut buf = [0u8; 16];
            assert_eq!(a.recv(&mut buf).await.unwrap(), 4);
        })
        .await
        .expect("datagrams did not arrive within 5 s");
    });
}

#[test]
fn a_long_datagram_is_cut_to_the_buffer() {
    Runtime::new().unwrap().block_on(async {
        timeout(Duration::from_secs(5), async {
            let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            a.send_to(&[9u8; 64], a.local_addr().unwrap())
                .await
                .unwrap();
            let mut small = [0u8; 8];
            let (n, _) = a.recv_from(&mut small).await.unwrap();
            assert_eq!(n, 8);
        })
        .await
        .unwrap();
    });
}

/// A datagram to a closed port comes back as an ICMP error, which the OS reports once, as
/// `ConnectionRefused`, on a connected socket. After that, waiting for a datagram must park the
/// task, not spin on a stale error.
#[test]
fn an_icmp_error_is_reported_once_then_the_socket_waits_quietly() {
    let runtime = Runtime::new().unwrap();
    let metrics = runtime.metrics();
    runtime.block_on(async {
        let closed = {
            let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            socket.local_addr().unwrap()
        };
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        socket.connect(closed).await.unwrap();
        socket.send(b"anyone?").await.unwrap();
        let mut buf = [0u8; 16];
        match timeout(Duration::from_secs(2), socket.recv(&mut buf)).await {
            Ok(Err(e)) => assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "{e}"),
            // Not every OS reports the ICMP error; then there is nothing more to check.
            Ok(Ok(n)) => panic!("received {n} bytes from a closed port"),
            Err(_) => return,
        }
        // Now nothing will come. The wait must end by the timeout with the task parked. It runs
        // in a task, so that a spinning wait (a stale error bit) shows up as turns of the
        // runtime (it would look at the OS every few dozen batches) instead of hanging the test.
        let before = metrics.reactor_turns();
        let waiter = ebbtide_std::spawn(async move {
            let mut buf = [0u8; 16];
            timeout(Duration::from_millis(200), socket.recv(&mut buf))
                .await
                .ok()
        })
        .unwrap();
        let outcome = timeout(Duration::from_secs(5), waiter)
            .await
            .expect("the waiting task spun instead of parking")
            .unwrap();
        // epoll and kqueue: the wait times out (`None`). mio's poll(2) backend forgets an fd
        // after it reported an error, so there the wait ends with an error instead. Never a
        // datagram, never a spin, never a hang.
        assert!(
            !matches!(outcome, Some(Ok(_))),
            "a datagram came from nowhere: {outcome:?}"
        );
        let turns = metrics.reactor_turns() - before;
        assert!(turns < 10, "{turns} reactor turns in 200 ms of waiting");
    });
}
