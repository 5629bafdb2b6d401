//! The operator's own client: a command such as `flowstate hook deploy` calling the REST API
//! of a Flowstate server the operator names. Hooks never reach it (the runtime is handed an
//! [`HttpClient`](crate::HttpClient) only), so it applies no destination policy: a server on
//! loopback over plain HTTP is the usual case. It still follows no redirect (a key is never
//! sent on to another host), uses no proxy from the environment, and gives up after a
//! timeout.

use std::time::Duration;

use crate::Method;

/// Why a call to the server did not get an answer.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ServerUnreachable(String);

/// Calls one Flowstate server with one API key.
pub struct ServerClient {
    http: reqwest::Client,
    base: String,
    key: String,
}

impl ServerClient {
    /// `base` is the server's address (`http://127.0.0.1:8080`); `key` is sent as
    /// `Authorization: Bearer …` with every call.
    pub fn new(base: &str, key: &str) -> Result<ServerClient, ServerUnreachable> {
        let parsed = url::Url::parse(base)
            .map_err(|error| ServerUnreachable(format!("the server's address {base:?}: {error}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(ServerUnreachable(format!("the server's address must be http:// or https://, got {base:?}")));
        }
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|error| ServerUnreachable(error.to_string()))?;
        Ok(ServerClient { http, base: base.trim_end_matches('/').to_string(), key: key.to_string() })
    }

    /// `method path` (`/api/v1/…`) with an optional JSON body: the status and the body.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        json: Option<String>,
    ) -> Result<(u16, String), ServerUnreachable> {
        let method = reqwest::Method::from_bytes(method.as_str().as_bytes()).expect("a method name");
        let mut request = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.key);
        if let Some(json) = json {
            request = request.header("content-type", "application/json").body(json);
        }
        let response =
            request.send().await.map_err(|error| ServerUnreachable(format!("calling {}{path}: {error}", self.base)))?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(|error| ServerUnreachable(format!("reading the answer: {error}")))?;
        Ok((status, text))
    }
}
