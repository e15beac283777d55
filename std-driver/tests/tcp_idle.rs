//! An idle TCP connection costs no reactor turns: a task parked on a read is woken by the OS,
//! never by polling. Alone in its file, because timers of other runtimes in the same process
//! would end this runtime's waits too.

use ebbtide_std::io::{AsyncReadExt, AsyncWriteExt};
use ebbtide_std::net::{TcpListener, TcpStream};
use ebbtide_std::time::{sleep, timeout, Duration};
use ebbtide_std::Runtime;

#[test]
fn an_idle_connection_does_not_busy_poll() {
    let runtime = Runtime::new().unwrap();
    let metrics = runtime.metrics();
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        // A task parks on a read of the idle connection.
        let reader = ebbtide_std::spawn(async move {
            let mut server = server;
            let mut buf = [0u8; 4];
            server.read_exact(&mut buf).await.unwrap();
            buf
        })
        .unwrap();
        // Let everything settle (connection set-up events) before counting.
        sleep(Duration::from_millis(20)).await;

        let before = metrics.reactor_turns();
        sleep(Duration::from_millis(200)).await;
        let turns = metrics.reactor_turns() - before;
        assert!(
            turns <= 3,
            "the runtime came back from the OS {turns} times in 200 ms with an idle connection"
        );

        // The parked reader still wakes when data comes.
        client.write_all(b"wake").await.unwrap();
        let got = timeout(Duration::from_secs(5), reader)
            .await
            .expect("the reader did not wake")
            .unwrap();
        assert_eq!(&got, b"wake");
    });
}
