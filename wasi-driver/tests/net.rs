//! What TCP does on a host that preopened no socket (as under `cargo test`): clear errors.
//! Accepting and echoing over a preopened socket is driven from the host side (see the
//! `portable_echo` example), since a test binary gets no `-S tcplisten`.
#![cfg(target_os = "wasi")]

use std::io::ErrorKind;

use ebbtide_wasi::net::{TcpListener, TcpStream};
use ebbtide_wasi::Runtime;

#[test]
fn no_preopened_socket_names_the_host_flags() {
    let runtime = Runtime::new().unwrap();
    runtime.block_on(async {
        let err = TcpListener::from_preopened().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert!(err.to_string().contains("tcplisten"), "{err}");
        let err = TcpListener::preopened(3).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
    });
}

#[test]
fn bind_and_connect_are_unsupported() {
    let runtime = Runtime::new().unwrap();
    runtime.block_on(async {
        let err = TcpListener::bind("127.0.0.1:0").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported);
        assert!(err.to_string().contains("from_preopened"), "{err}");
        let err = TcpStream::connect("127.0.0.1:1").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported);
    });
}

#[test]
fn io_objects_need_a_runtime() {
    let err = TcpListener::from_preopened().unwrap_err();
    assert!(err.to_string().contains("no ebbtide runtime"), "{err}");
}
