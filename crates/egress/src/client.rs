//! The HTTPS client: URL checks, the reqwest client configured for the policy, capped reads.

use std::{collections::HashMap, fmt, net::IpAddr, sync::Arc, time::Duration};

use url::{Host, Url};

use crate::{
    BlockReason, ConnectTo, NameResolver, SystemResolver, USER_AGENT, policy,
    resolve::{PolicyResolver, ResolvedToBlocked},
};

/// What a hook may call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    /// The method as it goes on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One request, as a hook asked for it.
#[derive(Clone, Debug)]
pub struct OutboundRequest {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    /// The whole exchange, body included, must finish within this.
    pub timeout: Duration,
    /// A longer body fails the request with [`EgressError::ResponseTooLarge`].
    pub max_response_bytes: usize,
}

impl OutboundRequest {
    /// A request with no headers or body, the spec's default timeout (30 s) and response
    /// limit (10 MB).
    pub fn new(method: Method, url: impl Into<String>) -> OutboundRequest {
        OutboundRequest {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: None,
            timeout: Duration::from_secs(30),
            max_response_bytes: 10 * 1024 * 1024,
        }
    }
}

/// A response, whatever its status: a 3xx or a 500 is a response, not an error.
#[derive(Clone, Debug)]
pub struct InboundResponse {
    pub status: u16,
    /// Names in lower case; repeated headers joined with `", "`, in order of arrival.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl InboundResponse {
    /// The first value of a header, by lower-case name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }
}

/// Why a request did not produce a response. The `Display` text is written for hook authors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EgressError {
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("only https:// URLs are allowed, got {scheme}://")]
    NotHttps { scheme: String },
    #[error("request to {host} blocked: {reason}")]
    BlockedHost { host: String, reason: BlockReason },
    #[error("request to {host} blocked: it resolves to {address} ({reason})")]
    BlockedAddress { host: String, address: IpAddr, reason: BlockReason },
    #[error("invalid header {name:?}: {reason}")]
    InvalidHeader { name: String, reason: String },
    #[error("response body exceeds the limit of {limit} bytes")]
    ResponseTooLarge { limit: usize },
    #[error("request timed out after {} ms", .after.as_millis())]
    Timeout { after: Duration },
    #[error("connect-to route for {host} covers port {route_port} only, not {port}")]
    RouteMismatch { host: String, route_port: u16, port: u16 },
    #[error("could not resolve {host}: {message}")]
    Resolve { host: String, message: String },
    #[error("request to {host} failed: {message}")]
    Transport { host: String, message: String },
    #[error("invalid egress configuration: {0}")]
    Config(String),
    /// Replaying a recording: nothing was recorded for this request (or every answer
    /// recorded for it was used).
    #[error("no recorded answer for {method} {url}{more}: record the run again with --record")]
    NotRecorded { method: Method, url: String, more: String },
    /// Replaying a recording: the request failed when it was recorded, with this message.
    #[error("{0}")]
    Recorded(String),
}

/// Where a hook's requests go: the network ([`HttpClient`]), or a recording of it.
pub trait Transport: Send + Sync {
    fn send(&self, request: OutboundRequest) -> TransportFuture<'_>;
}

/// A [`Transport`]'s answer to come.
pub type TransportFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<InboundResponse, EgressError>> + Send + 'a>>;

impl Transport for HttpClient {
    fn send(&self, request: OutboundRequest) -> TransportFuture<'_> {
        Box::pin(HttpClient::send(self, request))
    }
}

/// How the client is set up: operator overrides, off by default.
#[derive(Clone)]
pub struct EgressOptions {
    /// `--connect-to` routes; at most one per host.
    pub connect_to: Vec<ConnectTo>,
    /// Extra trusted certificate authorities, PEM (`--cacert`), added to the system's.
    pub ca_certificates_pem: Vec<String>,
    /// How names become addresses (the policy is applied to its answers).
    pub resolver: Arc<dyn NameResolver>,
}

impl Default for EgressOptions {
    fn default() -> EgressOptions {
        EgressOptions { connect_to: Vec::new(), ca_certificates_pem: Vec::new(), resolver: Arc::new(SystemResolver) }
    }
}

impl fmt::Debug for EgressOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EgressOptions")
            .field("connect_to", &self.connect_to)
            .field("ca_certificates", &self.ca_certificates_pem.len())
            .finish_non_exhaustive()
    }
}

/// The policy-enforcing HTTPS client. Cheap to clone; clones share connections.
#[derive(Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
    routes: Arc<HashMap<String, ConnectTo>>,
}

impl HttpClient {
    /// Builds the client. Fails on an unreadable CA certificate or two routes for one host.
    pub fn new(options: EgressOptions) -> Result<HttpClient, EgressError> {
        let mut routes = HashMap::new();
        for route in options.connect_to {
            if let Some(existing) = routes.insert(route.host().to_string(), route.clone()) {
                return Err(EgressError::Config(format!(
                    "two connect-to routes for {} (ports {} and {})",
                    route.host(),
                    existing.port(),
                    route.port()
                )));
            }
        }
        let routes = Arc::new(routes);
        let mut certificates = Vec::new();
        for pem in &options.ca_certificates_pem {
            let parsed = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
                .map_err(|error| EgressError::Config(format!("CA certificate: {error}")))?;
            if parsed.is_empty() {
                return Err(EgressError::Config("CA certificate file holds no certificate".into()));
            }
            certificates.extend(parsed);
        }
        let inner = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(USER_AGENT)
            .tls_certs_merge(certificates)
            .dns_resolver(Arc::new(PolicyResolver {
                resolver: options.resolver,
                system: SystemResolver,
                routes: routes.clone(),
            }))
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .map_err(|error| EgressError::Config(error_chain(&error)))?;
        Ok(HttpClient { inner, routes })
    }

    /// Sends one request under the policy and reads the whole body, up to the limit.
    pub async fn send(&self, request: OutboundRequest) -> Result<InboundResponse, EgressError> {
        let url = self.check_url(&request.url)?;
        let host = url.host_str().unwrap_or_default().to_string();
        let mut builder = self
            .inner
            .request(reqwest::Method::from_bytes(request.method.as_str().as_bytes()).expect("valid method"), url);
        for (name, value) in &request.headers {
            let lower = name.to_ascii_lowercase();
            // The User-Agent is fixed; framing and routing headers belong to the client.
            if matches!(lower.as_str(), "user-agent" | "host" | "content-length" | "transfer-encoding" | "connection") {
                continue;
            }
            let header_name = reqwest::header::HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                EgressError::InvalidHeader { name: name.clone(), reason: "not a valid header name".into() }
            })?;
            let header_value =
                reqwest::header::HeaderValue::from_str(value).map_err(|_| EgressError::InvalidHeader {
                    name: name.clone(),
                    reason: "value holds characters not allowed in a header".into(),
                })?;
            builder = builder.header(header_name, header_value);
        }
        if let Some(body) = request.body {
            builder = builder.body(body);
        }
        let limit = request.max_response_bytes;
        let exchange = async {
            let mut response = builder.send().await.map_err(|error| map_reqwest_error(&host, &error))?;
            if response.content_length().is_some_and(|length| length > limit as u64) {
                return Err(EgressError::ResponseTooLarge { limit });
            }
            let status = response.status().as_u16();
            let headers = collect_headers(response.headers());
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(|error| map_reqwest_error(&host, &error))? {
                if body.len() + chunk.len() > limit {
                    return Err(EgressError::ResponseTooLarge { limit });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(InboundResponse { status, headers, body })
        };
        match tokio::time::timeout(request.timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(EgressError::Timeout { after: request.timeout }),
        }
    }

    /// Everything decidable from the URL alone, before any connection.
    fn check_url(&self, text: &str) -> Result<Url, EgressError> {
        let url = Url::parse(text)
            .map_err(|error| EgressError::InvalidUrl { url: text.to_string(), reason: error.to_string() })?;
        if url.scheme() != "https" {
            return Err(EgressError::NotHttps { scheme: url.scheme().to_string() });
        }
        let port = url.port_or_known_default().unwrap_or(443);
        match url.host() {
            None => Err(EgressError::InvalidUrl { url: text.to_string(), reason: "no host".into() }),
            Some(Host::Ipv4(ip)) => check_literal(&url, IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => check_literal(&url, IpAddr::V6(ip)),
            Some(Host::Domain(domain)) => {
                let name = domain.trim_end_matches('.').to_ascii_lowercase();
                if let Some(route) = self.routes.get(&name) {
                    // The connector takes an explicit URL port over the route's, so a route
                    // is only honoured for the port it names.
                    if route.port() != port || (url.port().is_some() && route.target().1 != port) {
                        return Err(EgressError::RouteMismatch { host: name, route_port: route.port(), port });
                    }
                    return Ok(url);
                }
                policy::check_host_name(&name).map_err(|reason| EgressError::BlockedHost { host: name, reason })?;
                Ok(url)
            }
        }
    }
}

fn check_literal(url: &Url, ip: IpAddr) -> Result<Url, EgressError> {
    policy::check_ip(ip)
        .map_err(|reason| EgressError::BlockedHost { host: url.host_str().unwrap_or_default().to_string(), reason })?;
    Ok(url.clone())
}

fn collect_headers(map: &reqwest::header::HeaderMap) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = Vec::new();
    for (name, value) in map {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match headers.iter_mut().find(|(existing, _)| existing == name.as_str()) {
            Some((_, joined)) => {
                joined.push_str(", ");
                joined.push_str(&value);
            }
            None => headers.push((name.as_str().to_string(), value)),
        }
    }
    headers
}

fn map_reqwest_error(host: &str, error: &reqwest::Error) -> EgressError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if let Some(blocked) = current.downcast_ref::<ResolvedToBlocked>() {
            return EgressError::BlockedAddress {
                host: host.to_string(),
                address: blocked.address,
                reason: blocked.reason,
            };
        }
        source = current.source();
    }
    if error.is_timeout() {
        return EgressError::Timeout { after: Duration::ZERO };
    }
    let message = error_chain(error);
    if message.contains("dns error") {
        return EgressError::Resolve { host: host.to_string(), message };
    }
    EgressError::Transport { host: host.to_string(), message }
}

/// The error and its causes on one line, without the URL (which may hold secrets the caller
/// redacts separately, and which the caller already knows).
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(current) = source {
        let text = current.to_string();
        if !parts.iter().any(|part| part.contains(&text)) {
            parts.push(text);
        }
        source = current.source();
    }
    let reqwest_error = error.downcast_ref::<reqwest::Error>();
    if let Some(url) = reqwest_error.and_then(|e| e.url()) {
        let url = url.as_str();
        for part in &mut parts {
            *part = part.replace(&format!(" ({url})"), "").replace(url, "<url>");
        }
    }
    parts.join(": ")
}
