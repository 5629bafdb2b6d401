//! The web console: the files under `assets/`, embedded in the binary at compile time
//! (compressed with brotli and gzip, each with an `ETag`), served under `/`.
//!
//! The console is a client of the public REST API and nothing else: it holds no state of its
//! own on the server, and every screen calls `/api/v1/…` with the key the user signed in with.
//! Third-party code is vendored as built files (`assets/vendor`, rebuilt from the npm
//! registry by `vendor-src/build.sh`), so building the product needs no Node.js.
//!
//! **Architecture Invariant:** every response of the console carries [`SECURITY_HEADERS`]:
//! the page runs only scripts and styles of this origin (no inline script, no `eval`), is
//! never framed and never sends a referrer.

use std::sync::OnceLock;

use axum::{
    Router,
    http::{HeaderName, HeaderValue, header},
    response::Response,
};
use memory_serve::CacheControl;

/// The Content-Security-Policy of every console response: scripts and style sheets of this
/// origin only (no inline script, no `eval`, no inline `<style>`). Style *attributes* are
/// allowed: CodeMirror sets a few with `setAttribute("style", …)` (its tab size), and they
/// cannot run code; the editor's own style sheets are constructed ones, in its shadow root.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     style-src-attr 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The headers every console response carries.
pub const SECURITY_HEADERS: [(HeaderName, &str); 5] = [
    (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "no-referrer"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (HeaderName::from_static("cross-origin-opener-policy"), "same-origin"),
];

/// The console's routes (`/`, `/app/…`, `/vendor/…`), with the security headers; `fallback`
/// answers every other path.
pub fn router(fallback: Router) -> Router {
    // `into_router` leaks the decompressed assets by design: build it once per process.
    static ASSETS: OnceLock<Router> = OnceLock::new();
    let assets = ASSETS.get_or_init(|| {
        memory_serve::load!()
            // Brotli is made at compile time in release builds; a debug build would make it
            // at each start, slowly (the tests start many servers), so it serves gzip only.
            .enable_brotli(!cfg!(debug_assertions))
            .enable_gzip(true)
            .index_file(Some("/index.html"))
            // The page is small and names its scripts by path: revalidate it and them each
            // time (a 304 with the ETag), so a new binary's console is never mixed with an old one's.
            .html_cache_control(CacheControl::NoCache)
            .cache_control(CacheControl::NoCache)
            .into_router()
    });
    assets.clone().fallback_service(fallback).layer(axum::middleware::map_response(secure))
}

async fn secure(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}
