//! Prometheus metrics (`/metrics`, text format 0.0.4): totals only, no organisation's data.

use std::{
    fmt::Write as _,
    sync::atomic::{AtomicU64, Ordering},
};

use flowstate_store::kinds::ExecutionStatus;

/// Upper bounds (seconds) of the page-duration histogram.
const BUCKETS: [f64; 10] = [0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];
/// The results a record can have when a page is applied.
pub const RESULTS: [&str; 5] = ["created", "updated", "unchanged", "deleted", "failed"];

#[derive(Default)]
pub struct Metrics {
    page_count: AtomicU64,
    page_micros: AtomicU64,
    page_buckets: [AtomicU64; BUCKETS.len()],
    records: [AtomicU64; RESULTS.len()],
    http_requests: AtomicU64,
}

impl Metrics {
    /// One PULL page, from the hook's call to the page committed.
    pub fn page(&self, seconds: f64) {
        self.page_count.fetch_add(1, Ordering::Relaxed);
        self.page_micros.fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
        for (bound, count) in BUCKETS.iter().zip(&self.page_buckets) {
            if seconds <= *bound {
                count.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Records applied, by result (one of [`RESULTS`]).
    pub fn records(&self, result: &str, count: usize) {
        if let Some(index) = RESULTS.iter().position(|known| *known == result) {
            self.records[index].fetch_add(count as u64, Ordering::Relaxed);
        }
    }

    pub fn http_requests(&self, count: usize) {
        self.http_requests.fetch_add(count as u64, Ordering::Relaxed);
    }

    /// The exposition, with the executions counted by status (from the store).
    pub fn render(&self, executions_by_status: &[(ExecutionStatus, u64)]) -> String {
        let mut out = String::new();
        let load = |value: &AtomicU64| value.load(Ordering::Relaxed);
        out.push_str("# HELP flowstate_executions Executions kept (see the retention), by status.\n# TYPE flowstate_executions gauge\n");
        for (status, count) in executions_by_status {
            let _ = writeln!(out, "flowstate_executions{{status=\"{status}\"}} {count}");
        }
        out.push_str("# HELP flowstate_execution_queue_depth PULL runs queued in the database, waiting for a worker of any server.\n# TYPE flowstate_execution_queue_depth gauge\n");
        let queued = executions_by_status
            .iter()
            .find(|(status, _)| *status == ExecutionStatus::Queued)
            .map_or(0, |(_, count)| *count);
        let _ = writeln!(out, "flowstate_execution_queue_depth {queued}");
        out.push_str("# HELP flowstate_pull_page_duration_seconds A PULL page, from the hook's call to the page committed.\n# TYPE flowstate_pull_page_duration_seconds histogram\n");
        for (bound, count) in BUCKETS.iter().zip(&self.page_buckets) {
            let _ = writeln!(out, "flowstate_pull_page_duration_seconds_bucket{{le=\"{bound}\"}} {}", load(count));
        }
        let _ = writeln!(out, "flowstate_pull_page_duration_seconds_bucket{{le=\"+Inf\"}} {}", load(&self.page_count));
        let _ = writeln!(out, "flowstate_pull_page_duration_seconds_sum {}", load(&self.page_micros) as f64 / 1e6);
        let _ = writeln!(out, "flowstate_pull_page_duration_seconds_count {}", load(&self.page_count));
        out.push_str("# HELP flowstate_records_applied_total Records of PULL pages applied to the store, by result.\n# TYPE flowstate_records_applied_total counter\n");
        for (result, count) in RESULTS.iter().zip(&self.records) {
            let _ = writeln!(out, "flowstate_records_applied_total{{result=\"{result}\"}} {}", load(count));
        }
        out.push_str("# HELP flowstate_hook_http_requests_total HTTP requests made by hooks.\n# TYPE flowstate_hook_http_requests_total counter\n");
        let _ = writeln!(out, "flowstate_hook_http_requests_total {}", load(&self.http_requests));
        out
    }
}
