//! The hook sandbox: runs a hook author's `async function run(ctx)` in QuickJS, exactly as
//! the Context API reference documents, under hard limits, and records what it did.
//!
//! - [`Engine::start_pull`] runs a PULL hook page by page: a fresh runtime per page,
//!   `ctx.meta` carrying the previous page's `meta`, each page's output validated into
//!   [`HookRecord`]s and handed to the caller before the next page starts.
//! - [`Engine::run_push`] runs a PUSH hook once with `ctx.event`.
//! - Every execution yields an [`ExecutionRecord`] in which secret values never appear.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use flowstate_runtime::*;
//! let engine = Engine::new(EngineConfig {
//!     limits: Limits::default(),
//!     http: Arc::new(flowstate_egress::HttpClient::new(Default::default())?),
//!     kv: Arc::new(MemoryKv::default()),
//!     clock: system_clock(),
//! })?;
//! let hook = HookInvocation {
//!     file_name: "hello.js".into(),
//!     code: "async function run(ctx) { return { records: [{ externalId: 1, data: {} }] }; }".into(),
//!     kv_scope: "hello".into(),
//!     secrets: Secrets::default(),
//!     org: OrgInfo { id: "org_1".into(), name: "Acme".into(), timezone: "UTC".into(), currency: "USD".into() },
//! };
//! let mut execution = engine.start_pull(&hook);
//! while let Some(page) = execution.next_page().await {
//!     assert_eq!(page.records[0].external_id.as_str(), "1");
//! }
//! assert_eq!(execution.finish().status, Status::Succeeded);
//! # Ok(()) }
//! ```
//!
//! **Architecture Invariant:** this crate never touches SQL or opens sockets itself: HTTP goes
//! through the [`flowstate_egress::Transport`] it is handed (the `HttpClient`, or a
//! recording) and `ctx.kv` through the [`KvStore`] it is
//! handed. It knows nothing of entity types: it validates the record *shape* only.

mod compiled;
mod convert;
mod engine;
mod host;
mod kv;
mod limits;
mod memory;
mod output;
mod record;
mod redact;
mod sandbox;
mod syntax;
pub mod typescript;
mod watchdog;

pub use engine::{
    Engine, EngineConfig, EngineError, HookInvocation, OrgInfo, PullExecution, PulledPage, Secrets, system_clock,
};
pub use host::Clock;
pub use kv::{FileKv, KvError, KvFuture, KvOverlay, KvStore, MemoryKv};
pub use limits::Limits;
pub use output::{ExternalId, HookRecord, OutputError, PageOutput, parse_page};
pub use record::{
    ErrorKind, ExecutionError, ExecutionRecord, HookType, HttpCall, LogEntry, LogLevel, PageSummary, Status,
};
pub use redact::{MIN_REDACTED_CHARS, Redactor};
pub use syntax::{SyntaxError, check_syntax};
