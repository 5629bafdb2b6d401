//! Calling the API over HTTP from a test, the same way in every suite (the in-process API
//! tests and the built binary's).

use serde_json::Value;

/// `method path` on the server at `base` (`http://127.0.0.1:PORT`), with `key` as the bearer
/// token and a JSON body: the status and the answer (a body that is not JSON comes back as a
/// string, an empty one as `""`).
pub async fn send(
    base: &str,
    method: reqwest::Method,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new().request(method, format!("{base}{path}"));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    if let Some(body) = body {
        request = request.header("content-type", "application/json").body(body.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body = response.text().await.unwrap();
    (status, serde_json::from_str(&body).unwrap_or(Value::String(body)))
}

/// The one error shape (`{ error: { code, message, errorId } }`), with `code`.
pub fn assert_error(body: &Value, code: &str) {
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|message| !message.is_empty()), "{body}");
    assert!(body["error"]["errorId"].as_str().is_some_and(|id| id.starts_with("err_")), "{body}");
}
