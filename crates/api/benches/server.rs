//! `cargo bench -p flowstate-api`: the service end to end. 800 positions (2 team allocations
//! each) in 8 pages from a local HTTPS API, through the REST API: trigger to `succeeded`. And
//! PUSH: 1,000 changes committed at 200 per second, each delivered by a PUSH hook to a local
//! HTTPS receiver: from the change committed to the receiver getting the call.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Instant,
};

use flowstate_api::{AppState, runner::Runner, vault::Vault};
use flowstate_egress::{EgressOptions, HttpClient};
use flowstate_runtime::{Engine, EngineConfig, Limits, MemoryKv, system_clock};
use flowstate_store::Store;
use serde_json::{Value, json};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const HOOK: &str = r#"
async function run(ctx) {
  const page = ctx.meta?.page ?? 1;
  const resp = await ctx.http.get('https://hr.example.com/positions', { query: { page: String(page) } });
  if (resp.status !== 200) throw new Error(`HR API answered ${resp.status}`);
  const records = resp.body.data.map((p) => ({
    externalId: p.id,
    data: {
      role: p.title, targetStartDate: p.start, fte: 1, salaryMin: 80000, salaryMax: 100000, currencyCode: 'GBP',
      teamAllocations: p.teams.map((team) => ({ teamId: team, fte: 0.5, startDate: p.start })),
    },
  }));
  return { records, more: resp.body.hasMore, meta: { page: page + 1 } };
}
"#;

/// 8 pages of 100 positions.
fn hr_api() -> axum::Router {
    axum::Router::new().route(
        "/positions",
        axum::routing::get(
            |axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>| async move {
                let page: usize = query.get("page").and_then(|page| page.parse().ok()).unwrap_or(1);
                let data: Vec<Value> = (0..100)
                    .map(|index| {
                        let n = (page - 1) * 100 + index;
                        json!({ "id": format!("POS-{n:04}"), "title": format!("Engineer {n}"), "start": "2026-03-01",
                            "teams": [format!("TEAM-{}", n % 40), format!("TEAM-{}", (n + 1) % 40)] })
                    })
                    .collect();
                axum::Json(json!({ "data": data, "hasMore": page < 8 }))
            },
        ),
    )
}

/// Records when each delivery arrives, by the id it carries.
fn receiver(arrivals: Arc<Mutex<HashMap<String, Instant>>>) -> axum::Router {
    axum::Router::new().route(
        "/events",
        axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
            let arrivals = arrivals.clone();
            async move {
                if let Some(id) = body["id"].as_str() {
                    arrivals.lock().unwrap().insert(id.to_string(), Instant::now());
                }
                "ok"
            }
        }),
    )
}

fn main() {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async move {
        let hr = flowstate_example_api::TlsServer::start(hr_api(), &["hr.example.com"]).await.unwrap();
        let arrivals: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
        let receiver = flowstate_example_api::TlsServer::start(receiver(arrivals.clone()), &["receiver.example.com"]).await.unwrap();
        let directory = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open_sqlite(&directory.path().join("bench.db")).unwrap());
        let routes: Vec<flowstate_egress::ConnectTo> = vec![
            format!("hr.example.com:443:127.0.0.1:{}", hr.addr().port()).parse().unwrap(),
            format!("receiver.example.com:443:127.0.0.1:{}", receiver.addr().port()).parse().unwrap(),
        ];
        let cas = vec![hr.ca_pem().to_string(), receiver.ca_pem().to_string()];
        let metrics = Arc::new(flowstate_api::metrics::Metrics::default());
        let push = Some(flowstate_api::dispatcher::PushSettings::default());
        let settings = flowstate_api::runner::RunnerSettings { push, ..Default::default() };
        let runner = Runner::start(store.clone(), Vault::new([3; 32]), settings, metrics.clone(), move || {
            let http = HttpClient::new(EgressOptions {
                connect_to: routes.clone(),
                ca_certificates_pem: cas.clone(),
                ..EgressOptions::default()
            })?;
            Ok(Engine::new(EngineConfig {
                limits: Limits::default(),
                http: std::sync::Arc::new(http),
                kv: Arc::new(MemoryKv::default()),
                clock: system_clock(),
            })?)
        })
        .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = AppState { store: store.clone(), vault: Vault::new([3; 32]), runner: Some(runner), metrics };
        tokio::spawn(flowstate_api::serve(listener, state, std::future::pending()));
        let client = reqwest::Client::new();
        let call = |method: reqwest::Method, (org, key): &(String, String), path: String, body: Option<Value>| {
            let mut request = client.request(method, format!("{base}/api/v1/org/{org}{path}")).bearer_auth(key);
            if let Some(body) = body {
                request = request.header("content-type", "application/json").body(body.to_string());
            }
            async move {
                request
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .map(|text| serde_json::from_str::<Value>(&text).unwrap())
                    .unwrap()
            }
        };

        println!("flowstate-api benchmark: the service end to end ({cores} cores)\n");
        println!("| {:<58} | {:>9} | {:<12} |", "case", "ms", "target");
        println!("|{:-<60}|{:-<11}|{:-<14}|", "", "", "");
        for round in 0..3 {
            // A fresh organisation each round: the first sync creates every position.
            let org = store.create_org("Bench", "UTC", "GBP").unwrap();
            let key = store.create_api_key(&org, "bench", flowstate_store::keys::ALL_SCOPES).unwrap().token;
            let tenant = (org.to_string(), key);
            let integration = call(
                reqwest::Method::POST,
                &tenant,
                "/integrations".into(),
                Some(json!({ "name": "HR", "sourceSystem": "hr" })),
            )
            .await;
            let integration = integration["data"]["id"].as_str().unwrap().to_string();
            let hook = call(
                reqwest::Method::POST,
                &tenant,
                format!("/integrations/{integration}/hooks"),
                Some(json!({ "name": "positions", "type": "PULL", "entityType": "vacancy", "code": HOOK })),
            )
            .await;
            let hook = hook["data"]["id"].as_str().unwrap().to_string();
            for (case, expected) in [("first sync", "created"), ("re-run", "unchanged")] {
                let started = Instant::now();
                let execution = call(reqwest::Method::POST, &tenant, format!("/hooks/{hook}/run"), None).await;
                let id = execution["data"]["id"].as_str().unwrap().to_string();
                let finished = loop {
                    let execution = call(reqwest::Method::GET, &tenant, format!("/executions/{id}"), None).await;
                    if !matches!(execution["data"]["status"].as_str(), Some("queued" | "running")) {
                        break execution;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                };
                let elapsed = started.elapsed();
                assert_eq!(finished["data"]["status"], "succeeded", "{finished}");
                let count: u64 = finished["data"]["pages"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|page| page[expected].as_u64().unwrap())
                    .sum();
                assert_eq!(count, 800, "{expected}");
                let label = format!("800 positions, 8 pages, trigger to succeeded: {case} (#{})", round + 1);
                let target = if case == "first sync" { "≤ 400 ms" } else { "" };
                println!("| {label:<58} | {:>9.1} | {target:<12} |", elapsed.as_secs_f64() * 1e3);
            }
        }

        // PUSH: a hook forwarding employee changes; 1,000 changes at 200 per second.
        let org = store.create_org("Push", "UTC", "GBP").unwrap();
        let integration = store.create_integration(&org, "Receiver", None, "receiver").unwrap();
        store
            .create_hook(
                &org,
                &integration.id,
                flowstate_store::integrations::NewHook {
                    name: "forward".into(),
                    hook_type: flowstate_store::kinds::HookType::Push,
                    entity_type: flowstate_sync::EntityType::Employee,
                    event_types: vec![flowstate_store::kinds::ChangeType::Create],
                    language: flowstate_store::kinds::Language::JavaScript,
                    code: "async function run(ctx) { await ctx.http.post('https://receiver.example.com/events', { id: ctx.event.after.externalId }); }".into(),
                    schedule: None,
                    preferred_hour: None,
                    enabled: true,
                    retry_policy: None,
                },
            )
            .unwrap();
        let total = 1000;
        let generator_store = store.clone();
        let commits: HashMap<String, Instant> = tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            let mut commits = HashMap::new();
            for n in 0..total {
                let due = started + std::time::Duration::from_millis(5 * n as u64);
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
                let external_id = format!("EMP-{n:05}");
                let data = json!({ "firstName": "Ada", "lastName": format!("L{n}"), "email": format!("ada{n}@example.com") });
                let record = flowstate_store::IncomingRecord { external_id: external_id.clone(), data: data.as_object().unwrap().clone() };
                generator_store.apply_page(&org, "generator", flowstate_sync::EntityType::Employee, &[record]).unwrap();
                commits.insert(external_id, Instant::now());
            }
            commits
        })
        .await
        .unwrap();
        for _ in 0..3000 {
            if arrivals.lock().unwrap().len() >= total {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let arrivals = arrivals.lock().unwrap().clone();
        assert_eq!(arrivals.len(), total, "every change delivered");
        let mut latencies: Vec<f64> = commits
            .iter()
            .map(|(id, committed)| arrivals[id].saturating_duration_since(*committed).as_secs_f64() * 1e3)
            .collect();
        latencies.sort_by(f64::total_cmp);
        let quantile = |q: f64| latencies[((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len()) - 1];
        println!("| {:<58} | {:>9.1} | {:<12} |", "PUSH at 200 changes/s, committed to received: p50", quantile(0.5), "");
        println!("| {:<58} | {:>9.1} | {:<12} |", "PUSH at 200 changes/s, committed to received: p99", quantile(0.99), "≤ 100 ms");
        println!("| {:<58} | {:>9.1} | {:<12} |", "PUSH at 200 changes/s, committed to received: max", quantile(1.0), "");
    });
}
