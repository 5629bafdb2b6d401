//! The API in-process (`app::TestApp` on a random port), and the scheduler against a real
//! store and a real hook runner, its clock driven by the test.

mod access;
mod app;
mod client;
mod console;
mod edge;
mod hooks;
mod multinode;
mod resources;
mod scheduler;

/// The hook engine the tests' runners use (no routes, no extra CAs).
pub fn engine() -> anyhow::Result<flowstate_runtime::Engine> {
    use std::sync::Arc;
    let http = flowstate_egress::HttpClient::new(flowstate_egress::EgressOptions::default())?;
    Ok(flowstate_runtime::Engine::new(flowstate_runtime::EngineConfig {
        limits: flowstate_runtime::Limits::default(),
        http: std::sync::Arc::new(http),
        kv: Arc::new(flowstate_runtime::MemoryKv::default()),
        clock: flowstate_runtime::system_clock(),
    })?)
}

/// A worker whose engine cannot be built is an error the operator sees: `/healthz` answers
/// 503 naming it (never a silent stall).
#[tokio::test(flavor = "multi_thread")]
async fn a_worker_that_cannot_start_makes_healthz_unhealthy() {
    use std::sync::Arc;
    let directory = tempfile::tempdir().unwrap();
    let store = Arc::new(flowstate_store::Store::open_sqlite(&directory.path().join("flowstate.db")).unwrap());
    let settings = flowstate_api::runner::RunnerSettings { push: None, workers: 2, org_max_concurrency: 1 };
    let runner = flowstate_api::runner::Runner::start(
        store.clone(),
        flowstate_api::vault::Vault::new([2; 32]),
        settings,
        Default::default(),
        || anyhow::bail!("no engine today"),
    )
    .unwrap();
    let problems = runner.health().unwrap_err();
    use flowstate_api::runner::Problem;
    use flowstate_store::kinds::HookType;
    // The workers start on threads of their own: in any order.
    for index in 0..2 {
        assert!(problems.0.contains(&Problem::WorkerCannotStart { kind: HookType::Pull, index }), "{problems:?}");
    }
    let problem = problems.to_string();
    assert!(problem.contains("PULL worker 0 cannot start"), "{problem}");
    assert!(!problem.contains("no engine today"), "the cause is for the log, not /healthz: {problem}");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = flowstate_api::AppState {
        store,
        vault: flowstate_api::vault::Vault::new([2; 32]),
        runner: Some(runner),
        metrics: Default::default(),
    };
    tokio::spawn(flowstate_api::serve(listener, state, std::future::pending()));
    let response = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(response.status().as_u16(), 503);
    let body: serde_json::Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "UNAVAILABLE", "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("PULL worker 1 cannot start"), "{body}");
}
