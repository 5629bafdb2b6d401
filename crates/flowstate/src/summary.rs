//! The human-readable report of an execution.

use std::fmt::Write as _;

use flowstate_runtime::{ExecutionRecord, HookType, LogLevel, PageSummary};

use flowstate_sync::EntityType;

/// One line of progress for a finished page (stderr).
pub fn progress_line(page: &PageSummary) -> String {
    format!(
        "page {}: {} record{}{} ({} request{}, {:.1} ms)",
        page.index,
        page.record_count,
        if page.record_count == 1 { "" } else { "s" },
        if page.more { ", more" } else { "" },
        page.request_count,
        if page.request_count == 1 { "" } else { "s" },
        page.duration_ms
    )
}

/// The summary printed after a run (stdout).
pub fn render(record: &ExecutionRecord, file_name: &str, entity: EntityType) -> String {
    let mut out = String::new();
    let kind = record.hook_type;
    let status = record.status.headline();
    let entity =
        serde_json::to_value(entity).ok().and_then(|value| value.as_str().map(str::to_string)).unwrap_or_default();
    let _ = writeln!(out, "{kind} hook {file_name} ({entity}): {status} in {:.1} ms", record.duration_ms);
    if record.hook_type == HookType::Pull {
        let _ = writeln!(out, "  pages: {}, records: {}", record.pages.len(), record.record_count);
    }
    let _ = writeln!(
        out,
        "  HTTP requests: {}, log entries: {}, warnings: {}",
        record.http_requests.len(),
        record.logs.len(),
        record.warnings.len()
    );
    if !record.logs.is_empty() {
        let _ = writeln!(out, "\nLogs:");
        for log in &record.logs {
            let level = match log.level {
                LogLevel::Info => "info ",
                LogLevel::Warn => "warn ",
                LogLevel::Error => "error",
            };
            let page = log.page.map(|page| format!("[page {page}] ")).unwrap_or_default();
            let data = log.data.as_ref().map(|data| format!(" {data}")).unwrap_or_default();
            let _ = writeln!(out, "  {} {level} {page}{}{data}", log.timestamp.format("%H:%M:%S%.3f"), log.message);
        }
    }
    if !record.http_requests.is_empty() {
        let _ = writeln!(out, "\nHTTP:");
        for call in &record.http_requests {
            let result = match (&call.status, &call.error) {
                (Some(status), _) => format!("{status} ({} bytes, {:.1} ms)", call.bytes, call.duration_ms),
                (None, Some(error)) => format!("error: {error}"),
                (None, None) => "no response".to_string(),
            };
            let _ = writeln!(out, "  {} {} -> {result}", call.method, call.url);
        }
    }
    if !record.warnings.is_empty() {
        let _ = writeln!(out, "\nWarnings:");
        for warning in &record.warnings {
            let _ = writeln!(out, "  {warning}");
        }
    }
    if let Some(error) = &record.error {
        let page = error.page.map(|page| format!(" on page {page}")).unwrap_or_default();
        let _ = writeln!(out, "\nError{page}: {}", error.message);
        if let Some(stack) = &error.stack {
            for line in stack.lines() {
                let _ = writeln!(out, "  {line}");
            }
        }
    }
    out
}
