//! A dead syslog target loses log lines, never requests: requests keep
//! flowing while the reader of a unix datagram log socket has stopped
//! reading (its queue full) and after it is gone.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::net::UnixDatagram;
use std::time::Duration;

use proxy_core::engine::Engine;

fn backend() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("backend");
    let port = listener.local_addr().expect("address").port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf);
            let _ =
                s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        }
    });
    port
}

fn get(addr: SocketAddr) -> String {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .expect("send");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

#[test]
fn requests_flow_while_the_log_reader_is_stuck_or_gone() {
    let dir = std::env::temp_dir().join(format!("log-sink-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("log.sock");
    let _ = std::fs::remove_file(&path);
    // Bound and never read: the queue fills after a few datagrams.
    let reader = UnixDatagram::bind(&path).expect("bind log socket");
    let front = TcpListener::bind("127.0.0.1:0").expect("port");
    let port = front.local_addr().expect("address").port();
    drop(front);
    let text = format!(
        "global\n    log {} local0 info\ndefaults\n    mode http\n    log global\n    \
         option httplog\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n\
         frontend f\n    bind 127.0.0.1:{port}\n    default_backend b\n\
         backend b\n    server s1 127.0.0.1:{}\n",
        path.display(),
        backend()
    );
    let config = proxy_config::parse_str("t.cfg", &text, &|_| None)
        .unwrap_or_else(|e| panic!("config: {e}"))
        .config;
    let engine = Engine::build(&config).unwrap_or_else(|e| panic!("build: {e}"));
    let listeners = engine.bind().expect("bind");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let served = runtime.spawn(engine.serve(listeners, async {
        let _ = rx.await;
    }));
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    // Far more requests than the socket queue holds lines.
    for i in 0..300 {
        let answer = get(addr);
        assert!(answer.ends_with("ok"), "request {i} while stuck: {answer}");
    }
    // Some lines were queued before the queue filled.
    let mut buf = [0u8; 2048];
    reader.set_nonblocking(true).expect("nonblocking");
    let n = reader.recv(&mut buf).expect("a queued line");
    let line = String::from_utf8_lossy(&buf[..n]);
    assert!(line.contains("f b/s1 "), "{line}");
    // The reader is gone: sends fail at once, requests still flow.
    drop(reader);
    let _ = std::fs::remove_file(&path);
    for i in 0..50 {
        let answer = get(addr);
        assert!(
            answer.ends_with("ok"),
            "request {i} after the reader left: {answer}"
        );
    }
    let _ = tx.send(());
    let _ = runtime.block_on(served);
    let _ = std::fs::remove_dir_all(&dir);
}
