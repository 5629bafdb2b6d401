//! The HTTP edge, in-process: every error in the one JSON shape whatever the layer that
//! refused the request; the key checked before the body is read; bodies that refuse
//! unknown fields by name. (A client trickling its headers is cut off by the built binary's
//! `--header-timeout-secs`: `crates/flowstate/tests/cli/edge.rs`.)

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::app::{TestApp, assert_error, call, create_hook, create_integration, send};

/// The raw response of one request written by hand: what the server sends first.
async fn raw(server: &TestApp, request: &str) -> String {
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
    let server = TestApp::spawn().await;
    let (org, key) = (server.org.clone(), server.key.clone());
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
    let server = TestApp::spawn().await;
    let (org, key) = (server.org.clone(), server.key.clone());
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

/// Every request body names the fields it does not know (a misspelt `shedule` used to be
/// ignored with a 200), and changes nothing.
#[tokio::test(flavor = "multi_thread")]
async fn request_bodies_refuse_unknown_fields_by_name() {
    use serde_json::json;
    let server = TestApp::spawn().await;
    let (org, key) = (server.org.clone(), server.key.clone());
    let a = |path: &str| format!("/api/v1/org/{org}{path}");
    let integration = create_integration(&server, &a(""), &key, json!({ "name": "HR", "sourceSystem": "hr" })).await;
    let code = "async function run(ctx) { return { records: [] }; }";
    let hook = create_hook(
        &server,
        &a(""),
        &key,
        &integration,
        json!({ "name": "h", "type": "PULL", "entityType": "employee", "code": code }),
    )
    .await;
    let cases = [
        (
            reqwest::Method::POST,
            a("/integrations"),
            json!({ "name": "X", "sourceSystem": "x", "nmae": "typo" }),
            "nmae",
        ),
        (
            reqwest::Method::PATCH,
            a(&format!("/integrations/{integration}")),
            json!({ "descripton": "typo" }),
            "descripton",
        ),
        (
            reqwest::Method::POST,
            a(&format!("/integrations/{integration}/hooks")),
            json!({ "name": "h2", "type": "PULL", "entityType": "employee", "code": code, "shedule": "1h" }),
            "shedule",
        ),
        (reqwest::Method::PATCH, a(&format!("/hooks/{hook}")), json!({ "shedule": "1h" }), "shedule"),
        (
            reqwest::Method::PATCH,
            a(&format!("/hooks/{hook}")),
            json!({ "retryPolicy": { "maxAttempts": 2, "backoff": 5 } }),
            "retryPolicy.backoff",
        ),
        (
            reqwest::Method::PUT,
            a(&format!("/integrations/{integration}/secrets/token")),
            json!({ "value": "long enough", "vaule": 1 }),
            "vaule",
        ),
        (reqwest::Method::POST, a("/job-roles"), json!({ "title": "Engineer", "titel": "typo" }), "titel"),
        (
            reqwest::Method::POST,
            a("/custom-attribute-definitions"),
            json!({ "name": "Cost centre", "fieldType": "STRING", "entityTypes": ["EMPLOYEE"], "colour": "red" }),
            "colour",
        ),
        (
            reqwest::Method::POST,
            a("/exchange-rates"),
            json!({ "fromCurrency": "EUR", "toCurrency": "GBP", "rate": 0.85, "effectiveDate": "2026-01-01", "source": "ECB" }),
            "source",
        ),
    ];
    for (method, path, body, field) in cases {
        let (status, answer) = send(&server, method.clone(), &path, Some(&key), Some(body)).await;
        assert_shape(status, &answer, 400, "VALIDATION_ERROR");
        let named = answer["error"]["details"].as_array().is_some_and(|details| {
            details.iter().any(|detail| {
                detail["field"] == field && detail["message"].as_str().is_some_and(|m| m.contains("unknown"))
            })
        });
        assert!(named, "{method} {path}: {answer}");
    }
    let (_, stored) = call(&server, &a(&format!("/hooks/{hook}")), Some(&key)).await;
    assert_eq!(stored["data"]["schedule"], Value::Null, "nothing changed: {stored}");
}

/// Hook code is compiled when it is saved: a syntax error is a 400 naming the line and
/// column, and the hook is not created (or keeps its code).
#[tokio::test(flavor = "multi_thread")]
async fn hook_code_that_does_not_compile_is_refused_with_its_line_and_column() {
    use serde_json::json;
    let server = TestApp::spawn().await;
    let (org, key) = (server.org.clone(), server.key.clone());
    let a = |path: &str| format!("/api/v1/org/{org}{path}");
    let integration = create_integration(&server, &a(""), &key, json!({ "name": "HR", "sourceSystem": "hr" })).await;
    let hooks = a(&format!("/integrations/{integration}/hooks"));
    let broken = "async function run(ctx) {\n  const total = ;\n}";
    let body = json!({ "name": "h", "type": "PULL", "entityType": "employee", "code": broken });
    let (status, answer) = send(&server, reqwest::Method::POST, &hooks, Some(&key), Some(body)).await;
    assert_shape(status, &answer, 400, "VALIDATION_ERROR");
    assert_eq!(answer["error"]["details"]["line"], 2, "{answer}");
    assert_eq!(answer["error"]["details"]["column"], 17, "{answer}");
    assert!(answer["error"]["message"].as_str().unwrap().contains("SyntaxError"), "{answer}");
    let (_, listed) = call(&server, &hooks, Some(&key)).await;
    assert_eq!(listed["meta"]["total"], 0, "{listed}");

    let good = "async function run(ctx) { return { records: [] }; }";
    let body = json!({ "name": "h", "type": "PULL", "entityType": "employee", "code": good });
    let (status, created) = send(&server, reqwest::Method::POST, &hooks, Some(&key), Some(body)).await;
    assert_eq!(status, 201, "{created}");
    let hook = a(&format!("/hooks/{}", created["data"]["id"].as_str().unwrap()));
    let (status, answer) =
        send(&server, reqwest::Method::PATCH, &hook, Some(&key), Some(json!({ "code": "function run( {" }))).await;
    assert_shape(status, &answer, 400, "VALIDATION_ERROR");
    assert_eq!(answer["error"]["details"]["line"], 1, "{answer}");
    let (_, stored) = call(&server, &hook, Some(&key)).await;
    assert_eq!(stored["data"]["code"], good);
}

/// A secret of fewer than 4 characters could only be redacted by blanking ordinary text
/// in every log: it is refused when set.
#[tokio::test(flavor = "multi_thread")]
async fn a_secret_under_four_characters_is_refused() {
    use serde_json::json;
    let server = TestApp::spawn().await;
    let (org, key) = (server.org.clone(), server.key.clone());
    let a = |path: &str| format!("/api/v1/org/{org}{path}");
    let integration = create_integration(&server, &a(""), &key, json!({ "name": "HR", "sourceSystem": "hr" })).await;
    let secret = a(&format!("/integrations/{integration}/secrets/pin"));
    for short in ["", "a", "é9", "123"] {
        let (status, answer) =
            send(&server, reqwest::Method::PUT, &secret, Some(&key), Some(json!({ "value": short }))).await;
        assert_shape(status, &answer, 400, "VALIDATION_ERROR");
        assert_eq!(answer["error"]["details"][0]["field"], "value", "{answer}");
    }
    let (status, answer) =
        send(&server, reqwest::Method::PUT, &secret, Some(&key), Some(json!({ "value": "1234" }))).await;
    assert_eq!(status, 200, "{answer}");
}
