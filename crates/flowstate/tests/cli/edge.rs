//! The HTTP edge of the built binary: `--header-timeout-secs` cuts off a client that
//! trickles its headers while others are served. (The rest of the edge is tested in-process:
//! `crates/api/tests/api/edge.rs`.)

use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::server::{Server, send, start_with};

fn start(directory: &tempfile::TempDir) -> Server {
    let db = directory.path().join("flowstate.db").display().to_string();
    start_with(&db, directory.path(), &["--header-timeout-secs", "1"].map(String::from))
}

/// A client that sends half its headers and stops, or nothing at all, holds its connection
/// only until the header timeout (1 s here); other clients are answered meanwhile.
#[tokio::test(flavor = "multi_thread")]
async fn a_client_trickling_its_headers_is_cut_off_while_others_are_served() {
    let directory = tempfile::tempdir().unwrap();
    let server = start(&directory);
    let address = server.base.trim_start_matches("http://").to_string();
    let mut trickling = tokio::net::TcpStream::connect(&address).await.unwrap();
    trickling.write_all(b"GET /healthz HTTP/1.1\r\nHost: loc").await.unwrap();
    // And one that connects and says nothing at all.
    let mut silent = tokio::net::TcpStream::connect(&address).await.unwrap();
    let started = Instant::now();
    for _ in 0..5 {
        let (status, body) = send(&server, reqwest::Method::GET, "/healthz", None, None).await;
        assert_eq!((status, body["status"].clone()), (200, Value::from("ok")));
    }
    // A byte at a time does not keep it open past the timeout either.
    for byte in b"alhost\r\n" {
        if trickling.write_all(&[*byte]).await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut buffer = [0u8; 1024];
    let read = tokio::time::timeout(Duration::from_secs(10), trickling.read(&mut buffer)).await;
    let closed_after = started.elapsed();
    match read {
        Ok(Ok(0)) | Ok(Err(_)) => {}
        Ok(Ok(read)) => {
            panic!("the server answered a request it never got whole: {:?}", String::from_utf8_lossy(&buffer[..read]))
        }
        Err(_) => panic!("the trickling connection was still open after {closed_after:?}"),
    }
    assert!(closed_after < Duration::from_secs(10), "closed after {closed_after:?}");
    let read = tokio::time::timeout(Duration::from_secs(10), silent.read(&mut buffer)).await;
    assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "the silent connection was still open: {read:?}");
}
