//! Issue 10: the HTTP edge. Every error in the one JSON shape whatever the layer that
//! refused the request; the key checked before the body is read; a client trickling its
//! headers cut off while others are served.

use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::server::{Server, assert_error, send, start_with};

fn start(directory: &tempfile::TempDir) -> Server {
    let db = directory.path().join("flowstate.db").display().to_string();
    start_with(&db, directory.path(), &["--header-timeout-secs", "1"].map(String::from))
}

/// The raw response of one request written by hand: what the server sends first.
async fn raw(server: &Server, request: &str) -> String {
    let address = server.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buffer = vec![0; 4096];
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buffer)).await.unwrap().unwrap();
    String::from_utf8_lossy(&buffer[..read]).into_owned()
}

fn assert_shape(status: u16, body: &Value, expected_status: u16, code: &str) {
    assert_eq!(status, expected_status, "{body}");
    assert_error(body, code);
    assert!(body["error"]["message"].as_str().is_some_and(|message| !message.is_empty()), "{body}");
    assert!(body["error"]["errorId"].as_str().is_some_and(|id| id.starts_with("err_")), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_error_has_the_error_shape() {
    let directory = tempfile::tempdir().unwrap();
    let server = start(&directory);
    let (org, key) = server.first_start.clone().unwrap();
    let a = |path: &str| format!("/api/v1/org/{org}{path}");

    let (status, body) = send(&server, reqwest::Method::GET, "/no/such/route", None, None).await;
    assert_shape(status, &body, 404, "NOT_FOUND");
    let (status, body) = send(&server, reqwest::Method::DELETE, "/api/v1/openapi.json", None, None).await;
    assert_shape(status, &body, 405, "METHOD_NOT_ALLOWED");
    let (status, body) = send(&server, reqwest::Method::PUT, &a("/integrations"), Some(&key), None).await;
    assert_shape(status, &body, 405, "METHOD_NOT_ALLOWED");
    let huge = serde_json::json!({ "name": "x".repeat(3 * 1024 * 1024), "sourceSystem": "hr" });
    let (status, body) = send(&server, reqwest::Method::POST, &a("/integrations"), Some(&key), Some(huge)).await;
    assert_shape(status, &body, 413, "PAYLOAD_TOO_LARGE");
    let long = a(&format!("/employees?search={}", "x".repeat(9 * 1024)));
    let (status, body) = send(&server, reqwest::Method::GET, &long, Some(&key), None).await;
    assert_shape(status, &body, 414, "URI_TOO_LONG");
    let (status, body) = send(&server, reqwest::Method::GET, &a("/employees/%FF%FE"), Some(&key), None).await;
    assert_shape(status, &body, 400, "VALIDATION_ERROR");
    let (status, body) = send(&server, reqwest::Method::GET, &a("/employees?page=abc"), Some(&key), None).await;
    assert_shape(status, &body, 400, "VALIDATION_ERROR");
    // Not JSON where JSON is expected.
    let response = reqwest::Client::new()
        .post(format!("{}{}", server.base, a("/integrations")))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body("{ not json")
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_shape(status, &body, 400, "VALIDATION_ERROR");
}

/// Without a key, an upload is refused before its body is read: `Expect: 100-continue` gets
/// the 401 at once, never `100 Continue`. With one, the server asks for the body.
#[tokio::test(flavor = "multi_thread")]
async fn the_key_is_checked_before_the_body_is_read() {
    let directory = tempfile::tempdir().unwrap();
    let server = start(&directory);
    let (org, key) = server.first_start.clone().unwrap();
    let upload = |authorization: &str| {
        format!(
            "POST /api/v1/org/{org}/integrations HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\nExpect: 100-continue\r\n{authorization}\r\n"
        )
    };
    let refused = raw(&server, &upload("")).await;
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
    assert!(refused.contains("\"UNAUTHORIZED\""), "{refused}");
    let wrong = raw(&server, &upload("Authorization: Bearer private_nokey_nosecret\r\n")).await;
    assert!(wrong.starts_with("HTTP/1.1 401"), "{wrong}");
    let asked = raw(&server, &upload(&format!("Authorization: Bearer {key}\r\n"))).await;
    assert!(asked.starts_with("HTTP/1.1 100 Continue"), "{asked}");
}

/// A client that sends half its headers and stops holds its connection only until the
/// header timeout (1 s here); other clients are answered meanwhile.
#[tokio::test(flavor = "multi_thread")]
async fn a_client_trickling_its_headers_is_cut_off_while_others_are_served() {
    let directory = tempfile::tempdir().unwrap();
    let server = start(&directory);
    let address = server.base.trim_start_matches("http://").to_string();
    let mut trickling = tokio::net::TcpStream::connect(&address).await.unwrap();
    trickling.write_all(b"GET /healthz HTTP/1.1\r\nHost: loc").await.unwrap();
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
}
