//! The host side of one execution: what the native functions do, and the journal they
//! write (logs, HTTP calls, warnings), already redacted.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant, SystemTime},
};

use chrono::Utc;
use flowstate_egress::{EgressError, Method, OutboundRequest, Transport};
use serde_json::Value;

use crate::{
    Limits, Redactor,
    kv::KvStore,
    record::{HttpCall, LogEntry, LogLevel},
};

/// A source of the current time, for `ctx.kv` expiry (tests move it).
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// What a finished HTTP call hands back to JavaScript.
pub(crate) struct HttpReply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub text: String,
}

/// A failure a native function reports to the hook as a thrown error.
pub(crate) enum HostError {
    Type(String),
    Range(String),
    Error(String),
}

#[derive(Default)]
pub(crate) struct Journal {
    pub logs: Vec<LogEntry>,
    pub http: Vec<HttpCall>,
    pub warnings: Vec<String>,
    pub logs_dropped: usize,
    pub page: Option<u32>,
    pub requests_this_page: u32,
}

/// Shared by every native function of every page of one execution.
pub(crate) struct Host {
    pub http: Arc<dyn Transport>,
    pub limits: Limits,
    pub kv: Arc<dyn KvStore>,
    pub kv_scope: String,
    pub clock: Clock,
    pub redactor: Redactor,
    pub journal: Mutex<Journal>,
}

fn truncate(text: &mut String, limit: usize) {
    if text.len() > limit {
        let mut cut = limit;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str("… [truncated]");
    }
}

impl Host {
    pub(crate) fn journal(&self) -> std::sync::MutexGuard<'_, Journal> {
        self.journal.lock().expect("journal lock")
    }

    /// Starts a page: the request count resets, entries are tagged with the page.
    pub(crate) fn begin_page(&self, page: Option<u32>) {
        let mut journal = self.journal();
        journal.page = page;
        journal.requests_this_page = 0;
    }

    pub(crate) fn warn(&self, message: String) {
        let message = self.redactor.redact(&message).into_owned();
        let mut journal = self.journal();
        let page = journal.page;
        journal.logs.push(LogEntry {
            timestamp: Utc::now(),
            level: LogLevel::Warn,
            message: message.clone(),
            data: None,
            page,
        });
        journal.warnings.push(message);
    }

    /// `ctx.log.*` and `console.*`.
    pub(crate) fn log(&self, level: &str, message: String, data_json: Option<String>) {
        let level = match level {
            "warn" => LogLevel::Warn,
            "error" => LogLevel::Error,
            _ => LogLevel::Info,
        };
        let mut journal = self.journal();
        if journal.logs.len() >= self.limits.log_entries {
            journal.logs_dropped += 1;
            return;
        }
        // Redacted before the cut, which could otherwise leave the start of a secret behind.
        let mut message = self.redactor.redact(&message).into_owned();
        truncate(&mut message, self.limits.log_entry_bytes);
        let data = data_json.map(|json| {
            if json.len() > self.limits.log_entry_bytes {
                let mut json = self.redactor.redact(&json).into_owned();
                truncate(&mut json, self.limits.log_entry_bytes);
                Value::String(json)
            } else {
                let mut value = serde_json::from_str(&json).unwrap_or(Value::String(json));
                self.redactor.redact_json(&mut value);
                value
            }
        });
        let page = journal.page;
        journal.logs.push(LogEntry { timestamp: Utc::now(), level, message, data, page });
    }

    /// `ctx.http.*`: counts the request against the page's limit, builds the URL with its
    /// query, sends it through egress and records the call.
    pub(crate) async fn http(
        &self,
        method: &str,
        url: &str,
        headers: Vec<String>,
        query: Vec<String>,
        body: Option<String>,
        timeout_ms: Option<f64>,
    ) -> Result<HttpReply, HostError> {
        let started = Instant::now();
        let timestamp = Utc::now();
        let method = match method {
            "GET" => Method::Get,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            _ => Method::Delete,
        };
        let full_url = match url::Url::parse(url) {
            Ok(mut parsed) => {
                if !query.is_empty() {
                    parsed.query_pairs_mut().extend_pairs(query.chunks_exact(2).map(|pair| (&pair[0], &pair[1])));
                }
                Ok(parsed.to_string())
            }
            Err(error) => Err(format!("invalid URL {url:?}: {error}")),
        };
        let recorded_url = self.redactor.redact(full_url.as_deref().unwrap_or(url)).into_owned();
        let record = |status: Option<u16>, bytes: usize, error: Option<String>| {
            let mut journal = self.journal();
            let page = journal.page;
            journal.http.push(HttpCall {
                timestamp,
                method: method.to_string(),
                url: recorded_url.clone(),
                status,
                duration_ms: started.elapsed().as_secs_f64() * 1000.0,
                bytes,
                error: error.map(|text| self.redactor.redact(&text).into_owned()),
                page,
            });
        };
        {
            let mut journal = self.journal();
            journal.requests_this_page += 1;
            if journal.requests_this_page > self.limits.requests_per_page {
                drop(journal);
                let message =
                    format!("HTTP request limit exceeded: at most {} requests per page", self.limits.requests_per_page);
                record(None, 0, Some(message.clone()));
                return Err(HostError::Error(message));
            }
        }
        let full_url = match full_url {
            Ok(full_url) => full_url,
            Err(message) => {
                record(None, 0, Some(message.clone()));
                return Err(HostError::Type(format!("ctx.http: {message}")));
            }
        };
        let timeout = timeout_ms
            .and_then(|ms| Duration::try_from_secs_f64(ms / 1000.0).ok())
            .unwrap_or(self.limits.default_request_timeout);
        let request = OutboundRequest {
            method,
            url: full_url,
            headers: headers.chunks_exact(2).map(|pair| (pair[0].clone(), pair[1].clone())).collect(),
            body: body.map(String::into_bytes),
            timeout,
            max_response_bytes: self.limits.response_bytes,
        };
        match self.http.send(request).await {
            Ok(response) => {
                record(Some(response.status), response.body.len(), None);
                let text = match String::from_utf8(response.body) {
                    Ok(text) => text,
                    Err(error) => String::from_utf8_lossy(error.as_bytes()).into_owned(),
                };
                Ok(HttpReply { status: response.status, headers: response.headers, text })
            }
            Err(error) => {
                let message = match &error {
                    EgressError::ResponseTooLarge { limit } if limit % (1024 * 1024) == 0 => {
                        format!("response body exceeds the limit of {limit} bytes ({} MB)", limit / (1024 * 1024))
                    }
                    other => other.to_string(),
                };
                record(None, 0, Some(message.clone()));
                Err(HostError::Error(format!("{} {}: {message}", method, self.redactor.redact(url))))
            }
        }
    }

    fn check_key(&self, operation: &str, key: &str) -> Result<(), HostError> {
        let characters = key.chars().count();
        if characters == 0 {
            return Err(HostError::Range(format!("ctx.kv.{operation}: key must not be empty")));
        }
        if characters > self.limits.kv_key_chars {
            return Err(HostError::Range(format!(
                "ctx.kv.{operation}: key is {characters} characters, more than the limit of {}",
                self.limits.kv_key_chars
            )));
        }
        Ok(())
    }

    pub(crate) async fn kv_get(&self, key: &str) -> Result<Option<String>, HostError> {
        self.check_key("get", key)?;
        self.kv.get(&self.kv_scope, key, (self.clock)()).await.map_err(|error| HostError::Error(error.to_string()))
    }

    pub(crate) async fn kv_set(&self, key: &str, value: String, ttl_seconds: Option<f64>) -> Result<(), HostError> {
        self.check_key("set", key)?;
        if value.len() > self.limits.kv_value_bytes {
            return Err(HostError::Range(format!(
                "ctx.kv.set: value is {} bytes, more than the limit of {}",
                value.len(),
                self.limits.kv_value_bytes
            )));
        }
        // A century stands in for "forever" and keeps the arithmetic in range.
        let century = Duration::from_secs(100 * 365 * 24 * 60 * 60);
        let ttl = match ttl_seconds {
            Some(seconds) => Duration::try_from_secs_f64(seconds).unwrap_or(century).min(century),
            None => self.limits.kv_default_ttl,
        };
        let expires_at = (self.clock)() + ttl;
        self.kv.set(&self.kv_scope, key, value, expires_at).await.map_err(|error| HostError::Error(error.to_string()))
    }
}
