//! The execution record: what one execution did, kept for the user to read.
//!
//! Every string in it has passed through the execution's [`crate::Redactor`].

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

/// PULL or PUSH.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HookType {
    Pull,
    Push,
}

impl std::fmt::Display for HookType {
    /// As the product writes it: `PULL`, `PUSH`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            HookType::Pull => "PULL",
            HookType::Push => "PUSH",
        })
    }
}

/// How an execution ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Succeeded,
    Failed,
    TimedOut,
}

impl Status {
    /// How a run's summary says it: failures shouted (`succeeded`, `FAILED`, `TIMED OUT`).
    pub fn headline(self) -> &'static str {
        match self {
            Status::Succeeded => "succeeded",
            Status::Failed => "FAILED",
            Status::TimedOut => "TIMED OUT",
        }
    }
}

/// The category of an execution's error, for programs; the message is for people.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// The hook threw (or a promise it awaited rejected).
    Exception,
    /// The hook's code does not parse, or defines no `run` function.
    InvalidHook,
    /// A page took longer than its time limit.
    Timeout,
    /// The runtime ran out of its memory limit.
    Memory,
    /// A PULL page returned something that is not `{ records, more?, meta? }` as documented.
    InvalidOutput,
    /// Whatever consumes the pages (the sync, the `--out` file) refused a page.
    Sink,
    /// The engine itself failed (not the hook's fault).
    Internal,
}

/// Why an execution failed.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionError {
    pub kind: ErrorKind,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stack: Option<String>,
    /// The page it happened on (PULL).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
}

/// One page of a PULL execution.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PageSummary {
    pub index: u32,
    pub record_count: usize,
    pub more: bool,
    pub duration_ms: f64,
    pub request_count: u32,
}

/// Log levels of `ctx.log` and `console`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Info,
    Warn,
    Error,
}

/// One `ctx.log`/`console` call.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEntry {
    #[serde(serialize_with = "flowstate_time::rfc3339::serialize")]
    pub timestamp: DateTime<Utc>,
    pub level: LogLevel,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
}

/// One `ctx.http` call, answered or not.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpCall {
    #[serde(serialize_with = "flowstate_time::rfc3339::serialize")]
    pub timestamp: DateTime<Utc>,
    pub method: String,
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    pub duration_ms: f64,
    /// Bytes of the response body read.
    pub bytes: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
}

/// Everything one execution did.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionRecord {
    pub hook_type: HookType,
    pub status: Status,
    #[serde(serialize_with = "flowstate_time::rfc3339::serialize")]
    pub started_at: DateTime<Utc>,
    #[serde(serialize_with = "flowstate_time::rfc3339::serialize")]
    pub finished_at: DateTime<Utc>,
    pub duration_ms: f64,
    /// PULL pages, in order (empty for PUSH).
    pub pages: Vec<PageSummary>,
    /// Records returned over all pages (PULL).
    pub record_count: usize,
    pub logs: Vec<LogEntry>,
    pub http_requests: Vec<HttpCall>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ExecutionError>,
    pub warnings: Vec<String>,
}
