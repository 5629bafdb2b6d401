//! The scheduler against a real store and a real hook runner, its clock driven by the test.

mod multinode;
mod scheduler;

/// The hook engine the tests' runners use (no routes, no extra CAs).
pub fn engine() -> anyhow::Result<flowstate_runtime::Engine> {
    use std::sync::Arc;
    let http = flowstate_egress::HttpClient::new(flowstate_egress::EgressOptions::default())?;
    Ok(flowstate_runtime::Engine::new(flowstate_runtime::EngineConfig {
        limits: flowstate_runtime::Limits::default(),
        http,
        kv: Arc::new(flowstate_runtime::MemoryKv::default()),
        clock: flowstate_runtime::system_clock(),
    })?)
}
