//! Registration of sockets: outside a runtime it is an error, and dropping an IO object gives
//! its slot in the reactor back (deregistering before the fd closes).

use ebbtide_std::net::{TcpListener, TcpStream, UdpSocket, UnixStream};
use ebbtide_std::Runtime;

#[test]
fn sockets_outside_a_runtime_are_an_error() {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let error = TcpListener::from_std(std_listener).unwrap_err();
    assert!(error.to_string().contains("runtime"), "{error}");
    let error = UnixStream::pair().unwrap_err();
    assert!(error.to_string().contains("runtime"), "{error}");
}

#[test]
fn dropping_sockets_releases_their_slots() {
    let runtime = Runtime::new().unwrap();
    let metrics = runtime.metrics();
    runtime.block_on(async {
        let baseline = metrics.io_resources();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let (a, b) = UnixStream::pair().unwrap();
        assert_eq!(metrics.io_resources(), baseline + 6);

        let (rx, tx) = client.into_split();
        drop(rx);
        assert_eq!(
            metrics.io_resources(),
            baseline + 6,
            "one half still holds it"
        );
        drop(tx);
        drop((server, udp, a, b, listener));
        assert_eq!(metrics.io_resources(), baseline);
    });
}

#[test]
fn a_full_io_table_is_an_error_not_a_panic() {
    let runtime = Runtime::builder().io_capacity(2).build().unwrap();
    runtime.block_on(async {
        let (_a, _b) = UnixStream::pair().unwrap();
        let error = UdpSocket::bind("127.0.0.1:0").await.unwrap_err();
        assert!(error.to_string().contains("full"), "{error}");
    });
}
