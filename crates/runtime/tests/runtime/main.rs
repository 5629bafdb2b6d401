//! Black-box tests of the hook runtime: real QuickJS, real TLS servers on loopback with
//! generated certificates, reached through operator `connect-to` routes.

mod helpers;

mod context;
mod http;
mod limits;
mod output;
mod pagination;
mod secrets;
mod security;
mod shapes;
mod typescript;
