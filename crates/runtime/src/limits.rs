//! Every limit a hook runs under, in one place.

use std::time::Duration;

use serde::Deserialize;

/// The sandbox's hard limits. [`Limits::default`] holds the values the hook guide documents;
/// an operator overrides them in one place (the `--limits FILE.json` of the command line,
/// whose keys are the camelCase field names, each optional; durations are in milliseconds
/// and their keys end in `Ms`).
///
/// ```
/// let limits: flowstate_runtime::Limits = serde_json::from_str(r#"{ "maxPages": 10, "pullPageTimeMs": 5000 }"#).unwrap();
/// assert_eq!(limits.max_pages, 10);
/// assert_eq!(limits.pull_page_time, std::time::Duration::from_secs(5));
/// assert_eq!(limits.requests_per_page, 50);
/// ```
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Limits {
    /// Memory of one JavaScript runtime (one page, or one PUSH execution).
    pub memory_bytes: usize,
    /// Wall-clock time of one PULL page.
    #[serde(with = "millis", rename = "pullPageTimeMs")]
    pub pull_page_time: Duration,
    /// Wall-clock time of one PUSH execution.
    #[serde(with = "millis", rename = "pushTimeMs")]
    pub push_time: Duration,
    /// HTTP requests per PULL page, or per PUSH execution; the next one throws.
    pub requests_per_page: u32,
    /// Bytes of one HTTP response body; a longer one throws.
    pub response_bytes: usize,
    /// Pages per PULL execution; after this many, pagination stops with a warning.
    pub max_pages: u32,
    /// Bytes of a page's `meta`, as JSON.
    pub meta_bytes: usize,
    /// Timeout of one HTTP request when the hook names none.
    #[serde(with = "millis", rename = "defaultRequestTimeoutMs")]
    pub default_request_timeout: Duration,
    /// Characters of a `ctx.kv` key.
    pub kv_key_chars: usize,
    /// Bytes of a `ctx.kv` value (UTF-8).
    pub kv_value_bytes: usize,
    /// Lifetime of a `ctx.kv` entry when the hook names none.
    #[serde(with = "millis", rename = "kvDefaultTtlMs")]
    pub kv_default_ttl: Duration,
    /// Log entries kept per execution; later ones are dropped with one warning.
    pub log_entries: usize,
    /// Bytes of one log message or its data (as JSON); longer ones are cut.
    pub log_entry_bytes: usize,
    /// JavaScript stack of one runtime.
    pub stack_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            memory_bytes: 128 * 1024 * 1024,
            pull_page_time: Duration::from_secs(30),
            push_time: Duration::from_secs(10),
            requests_per_page: 50,
            response_bytes: 10 * 1024 * 1024,
            max_pages: 100,
            meta_bytes: 64 * 1024,
            default_request_timeout: Duration::from_secs(30),
            kv_key_chars: 256,
            kv_value_bytes: 64 * 1024,
            kv_default_ttl: Duration::from_secs(90 * 24 * 60 * 60),
            log_entries: 1000,
            log_entry_bytes: 16 * 1024,
            stack_bytes: 512 * 1024,
        }
    }
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(deserializer)?))
    }
}
