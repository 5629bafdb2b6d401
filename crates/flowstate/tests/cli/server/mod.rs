//! `flowstate serve` started on a random port and driven over HTTP, a module per feature:
//! starting, restarting and keys (`lifecycle`), every route refused with another
//! organisation's key (`access`), integrations, hooks and PULL runs (`hooks`), PUSH delivery
//! (`push`). The helpers to start a server and call it are here. Workforce and reference
//! data, and the typed client, are tested in-process (`crates/api/tests/api`).

mod access;
mod hooks;
mod lifecycle;
mod push;

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
};

use serde_json::{Value, json};

/// A running `flowstate serve`, killed when dropped.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) base: String,
    /// The first-start lines: organisation id and admin key (None on a later start).
    pub(crate) first_start: Option<(String, String)>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn start(db: &str, directory: &std::path::Path) -> Server {
    start_with(db, directory, &[])
}

pub(crate) fn start_with(db: &str, directory: &std::path::Path, extra: &[String]) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_flowstate"))
        .args(["serve", "--listen", "127.0.0.1:0", "--db", db, "--master-key-file"])
        .arg(directory.join("flowstate.key"))
        .args(extra)
        .env_remove("FLOWSTATE_MASTER_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Killed and waited for on drop, also when reading its output fails.
    let mut server = Server { child, base: String::new(), first_start: None };
    let mut lines = BufReader::new(server.child.stdout.take().unwrap()).lines();
    let (mut org, mut key) = (None, None);
    loop {
        let line = lines.next().expect("the server prints where it listens").unwrap();
        if let Some(value) = line.trim().strip_prefix("organisation id:") {
            org = Some(value.trim().to_string());
        } else if let Some(value) = line.trim().strip_prefix("admin API key:") {
            key = Some(value.trim().to_string());
        } else if let Some(address) = line.strip_prefix("listening on ") {
            server.base = address.trim().to_string();
            server.first_start = org.take().zip(key.take());
            return server;
        }
    }
}

pub(crate) async fn call(server: &Server, path: &str, key: Option<&str>) -> (u16, Value) {
    send(server, reqwest::Method::GET, path, key, None).await
}

pub(crate) async fn send(
    server: &Server,
    method: reqwest::Method,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    flowstate_test_support::http::send(&server.base, method, path, key, body).await
}

/// Creates an integration under `org_path` (`/api/v1/org/{orgId}`); its id.
pub(crate) async fn create_integration(server: &Server, org_path: &str, key: &str, body: Value) -> String {
    let (status, created) =
        send(server, reqwest::Method::POST, &format!("{org_path}/integrations"), Some(key), Some(body)).await;
    assert_eq!(status, 201, "{created}");
    created["data"]["id"].as_str().unwrap().to_string()
}

/// Creates a hook of the integration; its id.
pub(crate) async fn create_hook(server: &Server, org_path: &str, key: &str, integration: &str, body: Value) -> String {
    let path = format!("{org_path}/integrations/{integration}/hooks");
    let (status, created) = send(server, reqwest::Method::POST, &path, Some(key), Some(body)).await;
    assert_eq!(status, 201, "{created}");
    created["data"]["id"].as_str().unwrap().to_string()
}

pub(crate) use flowstate_test_support::http::assert_error;

const HR_KEY: &str = "hr-secret-key-7f3a";

/// Waits (up to 30 s) until the execution at `path` has `status`.
pub(crate) async fn wait_for_status(server: &Server, path: &str, key: &str, status: &str) -> Value {
    for _ in 0..600 {
        let (_, body) = call(server, path, Some(key)).await;
        if body["data"]["status"] == status {
            return body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{path} never reached {status}");
}

/// Runs the hook through the API and waits for its execution to end.
/// Every timestamp in `value` (any string that starts like one, `YYYY-MM-DDT`) has the one
/// format: RFC 3339, UTC, `Z`, microseconds (`2026-12-02T00:40:03.902228Z`). Returns how
/// many it checked.
pub(crate) fn assert_one_timestamp_format(value: &Value) -> usize {
    match value {
        Value::String(text) => {
            let bytes = text.as_bytes();
            let starts_like_one = bytes.len() > 11
                && bytes[..4].iter().all(u8::is_ascii_digit)
                && bytes[4] == b'-'
                && bytes[7] == b'-'
                && bytes[10] == b'T';
            if !starts_like_one {
                return 0;
            }
            let shape_ok = bytes.len() == 27
                && bytes[19] == b'.'
                && bytes[20..26].iter().all(u8::is_ascii_digit)
                && bytes[26] == b'Z'
                && chrono::DateTime::parse_from_rfc3339(text).is_ok();
            assert!(shape_ok, "{text:?} is not in the one timestamp format (2026-12-02T00:40:03.902228Z)");
            1
        }
        Value::Array(items) => items.iter().map(assert_one_timestamp_format).sum(),
        Value::Object(fields) => fields.values().map(assert_one_timestamp_format).sum(),
        _ => 0,
    }
}

/// A PUSH hook sending each change to the tests' receiver (`hooks.example.com`); an answer
/// other than 200 fails the attempt.
pub(crate) const FORWARD_TO_RECEIVER: &str = "async function run(ctx) {
    const resp = await ctx.http.post('https://hooks.example.com/events', ctx.event);
    if (resp.status !== 200) throw new Error(`receiver answered ${resp.status}`);
}";

/// A receiver of PUSH deliveries that takes `delay` to answer 200 to each, recording them.
pub(crate) fn accepting_receiver(
    delay: std::time::Duration,
) -> (axum::Router, std::sync::Arc<std::sync::Mutex<Vec<Value>>>) {
    use std::sync::{Arc, Mutex};
    let received: Arc<Mutex<Vec<Value>>> = Arc::new(Mutex::new(Vec::new()));
    let seen = received.clone();
    let router = axum::Router::new().route(
        "/events",
        axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
            let seen = seen.clone();
            async move {
                tokio::time::sleep(delay).await;
                seen.lock().unwrap().push(body);
                axum::http::StatusCode::OK
            }
        }),
    );
    (router, received)
}

/// A local HTTPS server answering as `host`, and the `serve` arguments that send hooks'
/// requests for `host` to it (its CA certificate written into `directory`).
pub(crate) async fn routed_to(
    router: axum::Router,
    host: &str,
    directory: &std::path::Path,
) -> (flowstate_example_api::TlsServer, Vec<String>) {
    let target = flowstate_example_api::TlsServer::start(router, &[host]).await.unwrap();
    let ca = directory.join("ca.pem");
    std::fs::write(&ca, target.ca_pem()).unwrap();
    let arguments = vec![
        "--connect-to".to_string(),
        format!("{host}:443:127.0.0.1:{}", target.addr().port()),
        "--cacert".to_string(),
        ca.display().to_string(),
    ];
    (target, arguments)
}

pub(super) fn people(directory: &std::path::Path) -> std::path::PathBuf {
    let file = directory.join("people.ndjson");
    let lines = [
        json!({ "externalId": "EMP-1", "data": { "firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com" } }),
        json!({ "externalId": "EMP-2", "data": { "firstName": "Grace", "lastName": "Hopper", "email": "grace@example.com" } }),
    ];
    std::fs::write(&file, lines.iter().map(Value::to_string).collect::<Vec<_>>().join("\n")).unwrap();
    file
}

pub(crate) async fn run_and_wait(server: &Server, org: &str, key: &str, hook: &str) -> Value {
    let (status, started) =
        send(server, reqwest::Method::POST, &format!("/api/v1/org/{org}/hooks/{hook}/run"), Some(key), None).await;
    assert_eq!(status, 202, "{started}");
    assert_eq!(started["data"]["status"], "queued");
    let execution = started["data"]["id"].as_str().unwrap().to_string();
    for _ in 0..300 {
        let (status, body) = call(server, &format!("/api/v1/org/{org}/executions/{execution}"), Some(key)).await;
        assert_eq!(status, 200, "{body}");
        if !["queued", "running"].contains(&body["data"]["status"].as_str().unwrap_or_default()) {
            return body["data"].clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the execution did not end");
}

pub(crate) fn total(execution: &Value, count: &str) -> u64 {
    execution["pages"].as_array().unwrap().iter().map(|page| page[count].as_u64().unwrap()).sum()
}
