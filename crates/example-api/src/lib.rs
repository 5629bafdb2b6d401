//! A local HTTPS "HR system" for the demo and for tests.
//!
//! Two pieces:
//! - [`TlsServer`] serves any axum `Router` over real TLS on `127.0.0.1:0`, with a freshly
//!   generated certificate authority and a leaf certificate for the names you ask for. Clients
//!   trust [`TlsServer::ca_pem`] (the `--cacert` of the command line) and route the names to
//!   [`TlsServer::addr`] (the `--connect-to`).
//! - [`hr_router`] is a fake HR API that answers the pagination examples of the hook guide
//!   verbatim: page-based `GET /employees`, cursor-based `GET /api/v1/employees` and
//!   offset-based `GET /contractors`.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use flowstate_example_api::{hr_router, HrDataset, TlsServer};
//! let server = TlsServer::start(hr_router(HrDataset::new(250, 40, "demo-key")), &["hr.example.com"]).await?;
//! println!("serving on {} with CA\n{}", server.addr(), server.ca_pem());
//! # Ok(()) }
//! ```
//!
//! **Architecture Invariant:** nothing in the product depends on this crate at run time except
//! the `demo` and `example-api` commands; it is a fixture, never a code path of a sync.

mod company;

use std::{net::SocketAddr, sync::Arc};

pub use company::{Company, Month, company_router};

use anyhow::Context as _;
use axum::{
    Json, Router,
    extract::{Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
};
use hyper_util::{
    rt::{TokioExecutor, TokioIo},
    server::conn::auto,
    service::TowerToHyperService,
};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// An HTTPS server on a random loopback port that stops when dropped.
pub struct TlsServer {
    addr: SocketAddr,
    ca_pem: String,
    task: tokio::task::JoinHandle<()>,
}

impl TlsServer {
    /// Starts serving `router` over TLS on `127.0.0.1:0`, with a certificate valid for
    /// `names` (plus `localhost`) issued by a certificate authority generated for this server.
    pub async fn start(router: Router, names: &[&str]) -> anyhow::Result<TlsServer> {
        Self::start_on("127.0.0.1:0".parse().expect("valid address"), router, names).await
    }

    /// Like [`TlsServer::start`], on a chosen address.
    pub async fn start_on(listen: SocketAddr, router: Router, names: &[&str]) -> anyhow::Result<TlsServer> {
        let (ca_pem, tls_config) = generate_tls(names)?;
        let acceptor = TlsAcceptor::from(Arc::new(tls_config));
        let listener = TcpListener::bind(listen).await.with_context(|| format!("binding {listen}"))?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _peer)) = listener.accept().await else {
                    continue;
                };
                // Without this, delayed ACKs add ~40 ms to a response written in two parts.
                let _ = stream.set_nodelay(true);
                let acceptor = acceptor.clone();
                let service = TowerToHyperService::new(router.clone());
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let _ = auto::Builder::new(TokioExecutor::new()).serve_connection(TokioIo::new(tls), service).await;
                });
            }
        });
        Ok(TlsServer { addr, ca_pem, task })
    }

    /// The loopback address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The PEM of the certificate authority that issued the server's certificate.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn generate_tls(names: &[&str]) -> anyhow::Result<(String, rustls::ServerConfig)> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "Flowstate example API CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;

    let mut leaf_names: Vec<String> = names.iter().map(|name| name.to_string()).collect();
    leaf_names.push("localhost".to_string());
    let leaf_key = KeyPair::generate()?;
    let leaf = CertificateParams::new(leaf_names)?.signed_by(&leaf_key, &ca)?;

    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let mut config =
        rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(vec![leaf.der().clone(), ca.der().clone()], key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok((ca.pem(), config))
}

/// The people the fake HR API serves, generated deterministically.
#[derive(Clone, Debug)]
pub struct HrDataset {
    employees: Arc<Vec<Value>>,
    contractors: Arc<Vec<Value>>,
    api_key: Arc<str>,
}

impl HrDataset {
    /// `employees` employees (`emp-0001`, …) and `contractors` contractors (`ctr-0001`, …);
    /// every request must carry `api_key` as `Authorization: Bearer …` or `X-Api-Key`.
    pub fn new(employees: usize, contractors: usize, api_key: &str) -> HrDataset {
        const FIRST: [&str; 8] = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Radia", "Tim"];
        const LAST: [&str; 8] =
            ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Thompson", "Perlman", "Berners-Lee"];
        let employees = (1..=employees)
            .map(|n| {
                let first = FIRST[n % FIRST.len()];
                let last = LAST[(n / FIRST.len()) % LAST.len()];
                json!({
                    "id": format!("emp-{n:04}"),
                    "first_name": first,
                    "last_name": last,
                    "email": format!("{}.{}{n}@example.com", first.to_lowercase(), last.to_lowercase()),
                    "employee_number": format!("E{n:05}"),
                    "hire_date": format!("20{:02}-{:02}-{:02}", 15 + n % 10, 1 + n % 12, 1 + n % 28),
                    "termination_date": if n % 17 == 0 { json!("2026-12-31") } else { Value::Null },
                })
            })
            .collect();
        let contractors = (1..=contractors)
            .map(|n| {
                json!({
                    "id": format!("ctr-{n:04}"),
                    "full_name": format!("Contractor {n}"),
                    "email": format!("contractor{n}@example.com"),
                    "hourly_rate": 50 + (n % 10) * 5,
                    "currency": if n % 3 == 0 { "EUR" } else { "GBP" },
                })
            })
            .collect();
        HrDataset { employees: Arc::new(employees), contractors: Arc::new(contractors), api_key: api_key.into() }
    }

    fn authorized(&self, headers: &HeaderMap) -> bool {
        let api_key = headers.get("x-api-key").and_then(|value| value.to_str().ok());
        bearer(headers) == Some(&*self.api_key) || api_key == Some(&*self.api_key)
    }
}

/// The token of an `Authorization: Bearer …` header.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get("authorization").and_then(|value| value.to_str().ok()).and_then(|value| value.strip_prefix("Bearer "))
}

/// The fake HR API: the three pagination styles of the hook guide, behind an API key.
pub fn hr_router(dataset: HrDataset) -> Router {
    Router::new()
        .route("/employees", get(employees_by_page))
        .route("/api/v1/employees", get(employees_by_cursor))
        .route("/contractors", get(contractors_by_offset))
        .with_state(dataset)
}

fn unauthorized() -> Response {
    (StatusCode::UNAUTHORIZED, Json(json!({ "error": "invalid API key" }))).into_response()
}

fn parse_number(value: Option<&String>, default: usize) -> usize {
    value.and_then(|text| text.parse().ok()).unwrap_or(default)
}

#[derive(Deserialize)]
struct PageQuery {
    page: Option<String>,
    per_page: Option<String>,
}

async fn employees_by_page(
    State(dataset): State<HrDataset>,
    headers: HeaderMap,
    Query(query): Query<PageQuery>,
) -> Response {
    if !dataset.authorized(&headers) {
        return unauthorized();
    }
    let page = parse_number(query.page.as_ref(), 1).max(1);
    let per_page = parse_number(query.per_page.as_ref(), 100).clamp(1, 1000);
    let start = (page - 1) * per_page;
    let data: Vec<&Value> = dataset.employees.iter().skip(start).take(per_page).collect();
    let has_next_page = start + per_page < dataset.employees.len();
    Json(json!({ "data": data, "has_next_page": has_next_page })).into_response()
}

#[derive(Deserialize)]
struct CursorQuery {
    limit: Option<String>,
    after: Option<String>,
}

async fn employees_by_cursor(
    State(dataset): State<HrDataset>,
    headers: HeaderMap,
    Query(query): Query<CursorQuery>,
) -> Response {
    if !dataset.authorized(&headers) {
        return unauthorized();
    }
    let limit = parse_number(query.limit.as_ref(), 100).clamp(1, 1000);
    // The cursor is the id of the last employee of the previous page.
    let start = match &query.after {
        None => 0,
        Some(after) => match dataset.employees.iter().position(|e| e["id"] == **after) {
            Some(index) => index + 1,
            None => {
                return (StatusCode::BAD_REQUEST, Json(json!({ "error": "unknown cursor" }))).into_response();
            }
        },
    };
    let data: Vec<&Value> = dataset.employees.iter().skip(start).take(limit).collect();
    let has_more = start + data.len() < dataset.employees.len();
    let next_cursor = if has_more { data.last().map(|e| e["id"].clone()) } else { None };
    Json(json!({
        "data": data,
        "pagination": { "has_more": has_more, "next_cursor": next_cursor },
    }))
    .into_response()
}

#[derive(Deserialize)]
struct OffsetQuery {
    offset: Option<String>,
    limit: Option<String>,
}

async fn contractors_by_offset(
    State(dataset): State<HrDataset>,
    headers: HeaderMap,
    Query(query): Query<OffsetQuery>,
) -> Response {
    if !dataset.authorized(&headers) {
        return unauthorized();
    }
    let offset = parse_number(query.offset.as_ref(), 0);
    let limit = parse_number(query.limit.as_ref(), 200).clamp(1, 1000);
    let items: Vec<&Value> = dataset.contractors.iter().skip(offset).take(limit).collect();
    Json(json!({ "items": items, "total": dataset.contractors.len() })).into_response()
}
