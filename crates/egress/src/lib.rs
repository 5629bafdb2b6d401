//! The only place Flowstate opens outbound connections.
//!
//! [`HttpClient`] sends a hook's HTTPS requests under a fixed destination policy:
//! - only `https:` URLs; anything else fails before a connection is attempted;
//! - literal IP hosts in any notation the URL parser accepts (`https://2130706433/`,
//!   `https://0x7f.1/`, `https://[::ffff:127.0.0.1]/`) are checked with [`policy::check_ip`];
//! - host names are checked with [`policy::check_host_name`], resolved, and only the resolved
//!   addresses that pass [`policy::check_ip`] are handed to the connector, so a name cannot
//!   resolve to a public address for the check and a private one for the connection;
//! - redirects are never followed, proxies from the environment are ignored, the
//!   `User-Agent` is always [`USER_AGENT`], and a response body is read in chunks and cut off
//!   at the request's limit.
//!
//! Operators (never hooks) may add [`ConnectTo`] routes and extra trusted CA certificates for
//! development and tests.
//!
//! ```no_run
//! # async fn demo() -> Result<(), flowstate_egress::EgressError> {
//! use flowstate_egress::{EgressOptions, HttpClient, Method, OutboundRequest};
//! let client = HttpClient::new(EgressOptions::default())?;
//! let response = client.send(OutboundRequest::new(Method::Get, "https://api.example.com/")).await?;
//! println!("{} ({} bytes)", response.status, response.body.len());
//! # Ok(()) }
//! ```
//!
//! **Architecture Invariant:** this crate knows nothing of hooks, JavaScript or storage; it
//! takes a request and returns a response or an [`EgressError`] whose text a hook author can act on.

mod client;
pub mod operator;
pub mod policy;
mod resolve;
mod route;

pub use client::{
    EgressError, EgressOptions, HttpClient, InboundResponse, Method, OutboundRequest, Transport, TransportFuture,
};
pub use policy::BlockReason;
pub use resolve::{NameResolver, ResolveFuture, StaticResolver, SystemResolver};
pub use route::{ConnectTo, ConnectToParseError};

/// The User-Agent of every outbound request; a hook's own is replaced.
pub const USER_AGENT: &str = "Flowstate-CustomIntegration/1.0";
