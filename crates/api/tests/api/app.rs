//! The API in-process: a fresh SQLite store in a folder of its own, an organisation and an
//! admin key, served on a random port (no built binary, no hook workers).

use flowstate_store::{OrgId, Store, keys::ALL_SCOPES};
use serde_json::Value;

pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    pub org: String,
    pub key: String,
    /// The store the server serves, for what the API cannot do (another organisation, keys).
    pub store: std::sync::Arc<Store>,
    _directory: tempfile::TempDir,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        let directory = tempfile::tempdir().unwrap();
        let store = std::sync::Arc::new(Store::open_sqlite(&directory.path().join("flowstate.db")).unwrap());
        let org = store.create_org("Test", "Europe/London", "GBP").unwrap();
        let key = store.create_api_key(&org, "admin", ALL_SCOPES).unwrap().token;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = flowstate_api::AppState {
            store: store.clone(),
            vault: flowstate_api::vault::Vault::new([7; 32]),
            runner: None,
            metrics: Default::default(),
        };
        tokio::spawn(flowstate_api::serve(listener, state, std::future::pending()));
        TestApp { base, org: org.as_str().to_string(), key, store, _directory: directory }
    }

    pub fn org_id(&self) -> OrgId {
        OrgId::new(self.org.clone())
    }

    /// `method` on the organisation's `path` (`/employees`), with the admin key and a JSON
    /// body: the status and the answer.
    pub async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let path = format!("/api/v1/org/{}{path}", self.org);
        send(self, method, &path, Some(&self.key), body).await
    }

    /// The OpenAPI document the server serves.
    pub async fn document(&self) -> Value {
        let (status, document) = call(self, "/api/v1/openapi.json", None).await;
        assert_eq!(status, 200, "{document}");
        document
    }
}

/// `GET path` (a whole path: `/api/v1/org/…`) with `key`: the status and the answer.
pub async fn call(app: &TestApp, path: &str, key: Option<&str>) -> (u16, Value) {
    send(app, reqwest::Method::GET, path, key, None).await
}

/// `method path` (a whole path) with `key` and a JSON body: the status and the answer.
pub async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    flowstate_test_support::http::send(&app.base, method, path, key, body).await
}

pub use flowstate_test_support::http::assert_error;

/// Creates an integration under `org_path` (`/api/v1/org/{orgId}`); its id.
pub async fn create_integration(server: &TestApp, org_path: &str, key: &str, body: Value) -> String {
    let path = format!("{org_path}/integrations");
    let (status, created) = send(server, reqwest::Method::POST, &path, Some(key), Some(body)).await;
    assert_eq!(status, 201, "{created}");
    created["data"]["id"].as_str().unwrap().to_string()
}

/// Creates a hook of the integration; its id.
pub async fn create_hook(server: &TestApp, org_path: &str, key: &str, integration: &str, body: Value) -> String {
    let path = format!("{org_path}/integrations/{integration}/hooks");
    let (status, created) = send(server, reqwest::Method::POST, &path, Some(key), Some(body)).await;
    assert_eq!(status, 201, "{created}");
    created["data"]["id"].as_str().unwrap().to_string()
}
