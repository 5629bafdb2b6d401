//! The HTTP edge: connections, timeouts, limits, and the one error shape for everything the
//! server answers, whatever the layer that refused the request.
//!
//! - A client has [`EdgeSettings::header_timeout`] to send a request's headers, and an idle
//!   keep-alive connection is closed after the same time (hyper's clock starts when it waits
//!   for the next request's headers): a client trickling its headers holds a connection, not
//!   the server.
//! - At most [`EdgeSettings::max_connections`] connections are open; the next waits in the
//!   listen backlog until one closes.
//! - Requests whose URI is over [`MAX_URI_BYTES`] are refused with 414.
//! - Every error response that is not already the JSON error shape (axum's own rejections:
//!   unknown method, body too large, a path or query that does not parse) is rewritten into
//!   `{ error: { code, message, errorId } }`, keeping its status and its message.

use std::{future::Future, sync::Arc, time::Duration};

use axum::{
    Router,
    extract::Request,
    http::header::CONTENT_TYPE,
    middleware::Next,
    response::{IntoResponse, Response},
};
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::conn::auto,
    service::TowerToHyperService,
};

use crate::error::{ApiError, ErrorCode};

/// The longest request URI (path and query) served.
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// How the server treats connections.
#[derive(Clone, Copy, Debug)]
pub struct EdgeSettings {
    /// Time to send a request's headers; also how long an idle keep-alive connection stays.
    pub header_timeout: Duration,
    /// Connections open at once.
    pub max_connections: usize,
    /// How long a graceful stop waits for requests in flight.
    pub drain: Duration,
}

impl Default for EdgeSettings {
    fn default() -> EdgeSettings {
        EdgeSettings { header_timeout: Duration::from_secs(10), max_connections: 1024, drain: Duration::from_secs(30) }
    }
}

/// Serves `router` on `listener` until `shutdown` completes; requests in flight then get up
/// to `settings.drain` to finish.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    settings: EdgeSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = router.layer(axum::middleware::from_fn(error_shape));
    let permits = Arc::new(tokio::sync::Semaphore::new(settings.max_connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    // HTTP/1 only: detecting HTTP/2 would read the first bytes with no timeout, so a client
    // that connects and says nothing would hold its connection for ever (and HTTP/2 has no
    // header timeout). The API needs nothing HTTP/2 brings.
    let mut builder = auto::Builder::new(TokioExecutor::new()).http1_only();
    builder.http1().timer(TokioTimer::new()).header_read_timeout(settings.header_timeout);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, say: wait a moment rather than spin.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service).into_owned());
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(settings.drain, graceful.shutdown()).await.is_err() {
        tracing::warn!("requests still in flight after the drain time were cut off");
    }
    Ok(())
}

/// Refuses over-long URIs, and gives every error response the JSON error shape.
async fn error_shape(request: Request, next: Next) -> Response {
    let uri_length = request.uri().path_and_query().map_or(0, |path| path.as_str().len());
    if uri_length > MAX_URI_BYTES {
        return ApiError::new(ErrorCode::UriTooLong, format!("the request URI is longer than {MAX_URI_BYTES} bytes"))
            .into_response();
    }
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    // An axum rejection: its status, and its text (which says what was wrong) as the message.
    let (parts, body) = response.into_parts();
    let text = match axum::body::to_bytes(body, 64 * 1024).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).trim().to_string(),
        Err(_) => String::new(),
    };
    let code = ErrorCode::for_status(status);
    let message = if text.is_empty() { status.canonical_reason().unwrap_or("error").to_lowercase() } else { text };
    let mut rewritten = ApiError::new(code, message).into_response();
    *rewritten.status_mut() = status;
    // Keep what the client needs from the original (`Allow` on a 405).
    for (name, value) in parts.headers.iter() {
        if name != CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            rewritten.headers_mut().insert(name.clone(), value.clone());
        }
    }
    rewritten
}
