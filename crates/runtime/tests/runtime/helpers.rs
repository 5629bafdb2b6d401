use std::{
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, SystemTime},
};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::{Path, Query, State},
    http::{HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
    routing::{any, get},
};
use flowstate_egress::{ConnectTo, EgressOptions, HttpClient};
use flowstate_example_api::TlsServer;
use flowstate_runtime::{
    Clock, Engine, EngineConfig, ExecutionRecord, HookInvocation, HookRecord, Limits, MemoryKv, OrgInfo, Secrets,
    system_clock,
};
use serde_json::{Value, json};

/// Host names the test servers answer for.
pub const HOSTS: &[&str] = &["api.example.com", "hr.example.com", "echo.example.com", "rebind.example.com"];

/// An HTTP client that routes every name of [`HOSTS`] to `server` and trusts its CA.
pub fn client_for(server: &TlsServer, options: EgressOptions) -> HttpClient {
    let mut options = options;
    for host in HOSTS.iter().filter(|host| **host != "rebind.example.com") {
        options.connect_to.push(format!("{host}:443:127.0.0.1:{}", server.addr().port()).parse::<ConnectTo>().unwrap());
    }
    options.ca_certificates_pem.push(server.ca_pem().to_string());
    HttpClient::new(options).unwrap()
}

pub struct TestEngine {
    pub engine: Engine,
    pub server: TlsServer,
    pub hits: Arc<AtomicUsize>,
}

pub struct Setup {
    pub limits: Limits,
    pub egress: EgressOptions,
    pub clock: Clock,
    pub kv: Arc<dyn flowstate_runtime::KvStore>,
}

impl Default for Setup {
    fn default() -> Setup {
        Setup {
            limits: Limits::default(),
            egress: EgressOptions::default(),
            clock: system_clock(),
            kv: Arc::new(MemoryKv::default()),
        }
    }
}

/// An engine whose hooks reach the test router (fake HR API + echo routes) over TLS.
pub async fn engine() -> TestEngine {
    engine_with(Setup::default()).await
}

pub async fn engine_with(setup: Setup) -> TestEngine {
    let hits = Arc::new(AtomicUsize::new(0));
    let server = TlsServer::start(test_router(hits.clone()), HOSTS).await.unwrap();
    let http = std::sync::Arc::new(client_for(&server, setup.egress));
    let engine = Engine::new(EngineConfig { limits: setup.limits, http, kv: setup.kv, clock: setup.clock }).unwrap();
    TestEngine { engine, server, hits }
}

pub fn org() -> OrgInfo {
    OrgInfo { id: "org_123".into(), name: "Acme Ltd".into(), timezone: "Europe/London".into(), currency: "GBP".into() }
}

pub const API_KEY: &str = "test-api-key-123";

pub fn hook(code: &str) -> HookInvocation {
    HookInvocation {
        file_name: "hook.js".into(),
        code: code.into(),
        kv_scope: "hook-1".into(),
        secrets: Secrets::new([("api_key".to_string(), API_KEY.to_string())]),
        org: org(),
    }
}

pub struct PullResult {
    pub pages: Vec<Vec<HookRecord>>,
    pub record: ExecutionRecord,
}

impl PullResult {
    pub fn ids(&self) -> Vec<String> {
        self.pages.iter().flatten().map(|record| record.external_id.to_string()).collect()
    }

    pub fn error_message(&self) -> String {
        self.record.error.as_ref().map(|error| error.message.clone()).unwrap_or_default()
    }

    /// The single record's data of the first page.
    pub fn data(&self) -> Value {
        Value::Object(self.pages[0][0].data.clone())
    }
}

impl TestEngine {
    pub async fn pull(&self, code: &str) -> PullResult {
        self.pull_hook(&hook(code)).await
    }

    pub async fn pull_hook(&self, invocation: &HookInvocation) -> PullResult {
        let mut execution = self.engine.start_pull(invocation);
        let mut pages = Vec::new();
        while let Some(page) = execution.next_page().await {
            assert_eq!(page.index as usize, pages.len());
            pages.push(page.records);
        }
        PullResult { pages, record: execution.finish() }
    }

    /// Runs a PULL hook whose `run` returns `{ records: [{ externalId: 'x', data: <expr> }] }`
    /// and gives back `data`.
    pub async fn eval(&self, body: &str) -> Value {
        let code = format!(
            "async function run(ctx) {{ const value = await (async () => {{ {body} }})(); return {{ records: [{{ externalId: 'x', data: {{ value }} }}] }}; }}"
        );
        let result = self.pull(&code).await;
        assert_eq!(result.record.error, None, "{body}");
        result.data()["value"].clone()
    }

    pub async fn push(&self, code: &str, event: &Value) -> ExecutionRecord {
        self.engine.run_push(&hook(code), event).await
    }
}

/// A clock tests can move.
#[derive(Clone)]
pub struct ManualClock(pub Arc<Mutex<SystemTime>>);

impl ManualClock {
    pub fn new() -> ManualClock {
        ManualClock(Arc::new(Mutex::new(SystemTime::now())))
    }

    pub fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }

    pub fn clock(&self) -> Clock {
        let time = self.0.clone();
        Arc::new(move || *time.lock().unwrap())
    }
}

fn test_router(hits: Arc<AtomicUsize>) -> Router {
    let dataset = flowstate_example_api::HrDataset::new(250, 450, API_KEY);
    let echo = Router::new()
        .route("/echo", any(echo))
        .route("/echo/{*rest}", any(echo))
        .route("/text", get(|| async { ([("content-type", "text/plain; charset=utf-8")], "hello, text") }))
        .route("/vnd", get(|| async { ([("content-type", "application/vnd.api+json")], r#"{"data":{"id":"1"}}"#) }))
        .route("/bad-json", get(|| async { ([("content-type", "application/json")], "{not json") }))
        .route(
            "/redirect",
            get(|| async { (StatusCode::FOUND, [("location", "https://elsewhere.example.com/next")], "") }),
        )
        .route(
            "/status/{code}",
            get(|Path(code): Path<u16>| async move {
                (StatusCode::from_u16(code).unwrap(), axum::Json(json!({ "error": "as requested" })))
            }),
        )
        .route("/bytes/{size}", get(|Path(size): Path<usize>| async move { vec![b'a'; size] }))
        .route(
            "/stream/{size}",
            get(|Path(size): Path<usize>| async move {
                // Chunked, with no Content-Length, so only the streaming cut-off can catch it.
                let chunks = (0..size)
                    .step_by(64 * 1024)
                    .map(move |start| Ok::<_, std::io::Error>(Bytes::from(vec![b'b'; (size - start).min(64 * 1024)])));
                Response::new(Body::from_stream(futures_util::stream::iter(chunks)))
            }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                "late"
            }),
        );
    flowstate_example_api::hr_router(dataset).merge(echo.with_state(())).layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let hits = hits.clone();
            async move {
                hits.fetch_add(1, Ordering::SeqCst);
                next.run(request).await
            }
        },
    ))
}

async fn echo(
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Query(_q): Query<Vec<(String, String)>>,
    State(()): State<()>,
    body: Bytes,
) -> impl IntoResponse {
    let headers: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(name, value)| (name.to_string(), Value::String(value.to_str().unwrap_or("").to_string())))
        .collect();
    axum::Json(json!({
        "method": method.as_str(),
        "path": uri.path(),
        "rawQuery": uri.query(),
        "headers": headers,
        "body": String::from_utf8_lossy(&body),
    }))
}

/// A plain TCP listener that counts connection attempts (for "refused before connecting").
pub async fn counting_listener() -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    tokio::spawn(async move {
        while let Ok((_stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    (addr, count)
}
