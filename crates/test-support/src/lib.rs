//! Test support for the workspace's test suites and benchmarks. Never a dependency of
//! anything that ships.
//!
//! PostgreSQL tests share one server (`FLOWSTATE_TEST_DATABASE_URL`), which outlives test
//! runs and may hold schemas of earlier runs. [`postgres_schema`] gives every caller a new,
//! empty schema whose name no other call (in this process, another process or an earlier run)
//! can have produced, and a URL whose connections use it.
//!
//! ```no_run
//! let Some(url) = flowstate_test_support::postgres_schema("store") else { return };
//! // `url` is FLOWSTATE_TEST_DATABASE_URL with `search_path` set to a fresh schema.
//! ```

pub mod http;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The setting PostgreSQL tests read.
pub const DATABASE_URL_VARIABLE: &str = "FLOWSTATE_TEST_DATABASE_URL";

/// `FLOWSTATE_TEST_DATABASE_URL` with `search_path` set to a schema made for this call, named
/// `flowstate_{label}_…`.
///
/// When the variable is unset or empty, says so on the terminal and returns `None`, so the
/// caller skips loudly; under `CI` it panics instead, because there PostgreSQL tests must run.
/// Safe to call from inside an async runtime (the connection runs on a thread of its own).
pub fn postgres_schema(label: &str) -> Option<String> {
    Some(schema_on(&base_url(label)?, label))
}

/// A new schema on the server at `base` (a `postgres://` URL), and a URL whose connections use
/// it. For benchmarks, which choose their server themselves.
pub fn schema_on(base: &str, label: &str) -> String {
    let schema = unique_schema_name(label);
    let (connect_to, create) = (base.to_string(), format!("CREATE SCHEMA {schema}"));
    // The synchronous client starts a runtime of its own, which may not happen on an async
    // test's thread.
    std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&connect_to, postgres::NoTls)
            .unwrap_or_else(|error| panic!("{DATABASE_URL_VARIABLE} does not connect: {error}"));
        client.batch_execute(&create).unwrap_or_else(|error| panic!("{create}: {error}"));
    })
    .join()
    .expect("creating the test schema");
    with_search_path(base, &schema)
}

/// The configured server, or `None` after saying on the terminal that `label` skipped.
fn base_url(label: &str) -> Option<String> {
    if let Some(url) = std::env::var(DATABASE_URL_VARIABLE).ok().filter(|url| !url.is_empty()) {
        return Some(url);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{DATABASE_URL_VARIABLE} is not set: under CI the PostgreSQL tests must run"
    );
    // Straight to the terminal: the test harness swallows eprintln! of a passing test.
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "\n*** SKIPPED: PostgreSQL tests of {label} (set {DATABASE_URL_VARIABLE}, e.g. postgres://postgres@127.0.0.1:5432/test) ***\n"
    );
    None
}

/// Process id, wall clock in nanoseconds and a per-process counter: two calls in one process
/// differ by the counter, two processes by their id, two runs by the clock.
fn unique_schema_name(label: &str) -> String {
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let call = CALLS.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970").as_nanos();
    let label: String = label.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    format!("flowstate_{label}_{}_{nanos}_{call}", std::process::id())
}

fn with_search_path(base: &str, schema: &str) -> String {
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}options=-c%20search_path%3D{schema}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_never_repeat_within_a_process() {
        let names: std::collections::HashSet<String> = (0..1000).map(|_| unique_schema_name("t")).collect();
        assert_eq!(names.len(), 1000);
    }

    #[test]
    fn labels_cannot_inject_sql() {
        assert!(unique_schema_name("a; DROP SCHEMA public").starts_with("flowstate_aDROPSCHEMApublic_"));
    }

    #[test]
    fn search_path_joins_an_existing_query() {
        assert_eq!(with_search_path("postgres://h/db", "s"), "postgres://h/db?options=-c%20search_path%3Ds");
        assert_eq!(
            with_search_path("postgres://h/db?sslmode=disable", "s"),
            "postgres://h/db?sslmode=disable&options=-c%20search_path%3Ds"
        );
    }
}
