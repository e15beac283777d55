//! `UdpSocket::bind_reuseport`: several sockets share one address, and on Linux the kernel
//! spreads the datagrams of different peers over them.

use ebbtide_std::net::UdpSocket;
use ebbtide_std::time::{timeout, Duration};

#[ebbtide_std::test]
async fn sockets_share_an_address_and_each_peer_reaches_one_of_them() {
    let first = UdpSocket::bind_reuseport("127.0.0.1:0").await.unwrap();
    let addr = first.local_addr().unwrap();
    let second = UdpSocket::bind_reuseport(addr).await.unwrap();
    assert_eq!(second.local_addr().unwrap(), addr);
    // A plain `bind` may not join them.
    assert!(UdpSocket::bind(addr).await.is_err());

    const PEERS: usize = 64;
    let mut peers = Vec::new();
    for i in 0..PEERS {
        let peer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        peer.send_to(&[i as u8], addr).await.unwrap();
        peers.push(peer);
    }
    // Every datagram arrives exactly once, at one of the two sockets.
    let mut seen = [0usize; PEERS];
    let mut per_socket = [0usize; 2];
    let (mut buf0, mut buf1) = ([0u8; 8], [0u8; 8]);
    for _ in 0..PEERS {
        let (which, n, byte) = timeout(Duration::from_secs(20), async {
            ebbtide_std::select! {
                r = first.recv_from(&mut buf0) => (0, r.unwrap().0, buf0[0]),
                r = second.recv_from(&mut buf1) => (1, r.unwrap().0, buf1[0]),
            }
        })
        .await
        .expect("a datagram within 20 s");
        assert_eq!(n, 1);
        seen[usize::from(byte)] += 1;
        per_socket[which] += 1;
    }
    assert!(seen.iter().all(|&count| count == 1), "{seen:?}");
    if cfg!(target_os = "linux") {
        // 64 peers all hashed to one socket: 2 in 2^64.
        assert!(per_socket.iter().all(|&count| count > 0), "{per_socket:?}");
    }
}
