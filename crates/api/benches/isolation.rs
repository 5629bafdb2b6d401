//! `cargo bench -p flowstate-api --bench isolation`: no organisation stalls another (issue 10).
//!
//! 1. PUSH: organisation A's PUSH hook computes for its whole 10 s limit on a change, while
//!    organisation B's changes (50 per second) go to a local HTTPS receiver: B's change
//!    committed to received, p50 / p99 / slowest.
//! 2. PULL: four PULL hooks of A compute until their 30 s page deadline; B's trivial runs, one
//!    after another: trigger (the REST call) to `succeeded`, p50 / p99 / slowest.
//! 3. Reads: GETs of one employee, one after another, while lists of 100,000 employees (two
//!    allocations each) sorted by `jobRole` run beside them: the slowest GET, on SQLite and
//!    (with `FLOWSTATE_BENCH_DATABASE_URL` or `FLOWSTATE_TEST_DATABASE_URL`) PostgreSQL.
//!    `FLOWSTATE_BENCH_RECORDS` sets the number of employees.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use flowstate_api::{AppState, runner::Runner, vault::Vault};
use flowstate_egress::{EgressOptions, HttpClient};
use flowstate_runtime::{Engine, EngineConfig, Limits, MemoryKv, system_clock};
use flowstate_store::{IncomingRecord, OrgId, Store, integrations::NewHook};
use flowstate_sync::EntityType;
use serde_json::{Value, json};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

fn row(case: &str, milliseconds: f64, target: &str) {
    println!("| {case:<66} | {milliseconds:>9.1} | {target:<12} |");
}

/// `q` of `values` (sorted here), by the nearest rank.
fn quantile(values: &mut [f64], q: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    values[((values.len() as f64 * q).ceil() as usize).clamp(1, values.len()) - 1]
}

fn hook(name: &str, hook_type: &str, code: &str, max_attempts: Option<u32>) -> NewHook {
    NewHook {
        name: name.into(),
        hook_type: hook_type.parse().unwrap(),
        entity_type: EntityType::Employee,
        event_types: if hook_type == "PUSH" { vec![flowstate_store::kinds::ChangeType::Create] } else { Vec::new() },
        language: flowstate_store::kinds::Language::JavaScript,
        code: code.into(),
        schedule: None,
        preferred_hour: None,
        enabled: true,
        retry_policy: max_attempts.map(|max_attempts| flowstate_store::integrations::RetryPolicy { max_attempts }),
    }
}

fn person(n: usize, prefix: &str) -> IncomingRecord {
    let data = json!({ "firstName": "Ada", "lastName": format!("L{n}"), "email": format!("{prefix}{n}@example.com") });
    IncomingRecord { external_id: format!("{prefix}-{n:06}"), data: data.as_object().unwrap().clone() }
}

struct Api {
    base: String,
    client: reqwest::Client,
    stop: tokio::sync::watch::Sender<bool>,
    served: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Api {
    async fn start(store: Arc<Store>, runner: Option<Runner>) -> Api {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = AppState { store, vault: Vault::new([3; 32]), runner, metrics: Default::default() };
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let shutdown = async move {
            let _ = stopped.wait_for(|stopped| *stopped).await;
        };
        let served = tokio::spawn(flowstate_api::serve(listener, state, shutdown));
        Api { base, client: reqwest::Client::new(), stop, served }
    }

    /// Stops serving; the server's handle to the store is gone when this returns.
    async fn stop(self) {
        let _ = self.stop.send(true);
        self.served.await.unwrap().unwrap();
    }

    async fn call(&self, method: reqwest::Method, key: &str, path: &str) -> (u16, Value) {
        let response =
            self.client.request(method, format!("{}{path}", self.base)).bearer_auth(key).send().await.unwrap();
        let status = response.status().as_u16();
        (status, serde_json::from_str(&response.text().await.unwrap()).unwrap_or(Value::Null))
    }
}

fn tenant(store: &Store, name: &str) -> (OrgId, String) {
    let org = store.create_org(name, "UTC", "GBP").unwrap();
    let key = store.create_api_key(&org, "bench", flowstate_store::keys::ALL_SCOPES).unwrap().token;
    (org, key)
}

fn main() {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async move {
        println!("flowstate-api benchmark: isolation between organisations ({cores} cores)\n");
        println!("| {:<66} | {:>9} | {:<12} |", "case", "ms", "target");
        println!("|{:-<68}|{:-<11}|{:-<14}|", "", "", "");
        reads_beside_slow_lists_sqlite().await;
        reads_beside_slow_lists_postgres().await;
        fairness().await;
    });
}

async fn fairness() {
    let arrivals: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let receiver =
        flowstate_example_api::TlsServer::start(receiver(arrivals.clone()), &["receiver.example.com"]).await.unwrap();
    let directory = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open_sqlite(&directory.path().join("bench.db")).unwrap());
    let routes: Vec<flowstate_egress::ConnectTo> =
        vec![format!("receiver.example.com:443:127.0.0.1:{}", receiver.addr().port()).parse().unwrap()];
    let cas = vec![receiver.ca_pem().to_string()];
    let push = Some(flowstate_api::dispatcher::PushSettings::default());
    let settings = flowstate_api::runner::RunnerSettings { push, ..Default::default() };
    let runner = Runner::start(store.clone(), Vault::new([3; 32]), settings, Default::default(), move || {
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
    let api = Api::start(store.clone(), Some(runner)).await;
    let (spinner, _) = tenant(&store, "Spinner");
    let (quiet, quiet_key) = tenant(&store, "Quiet");
    let spinning = store.create_integration(&spinner, "Spin", None, "spin").unwrap();
    let calm = store.create_integration(&quiet, "Calm", None, "calm").unwrap();

    // 1. PUSH: A's hook spins on its one change (one attempt of 10 s); B's changes at 50/s.
    store
        .create_hook(
            &spinner,
            &spinning.id,
            hook("spin", "PUSH", "async function run(ctx) { while (true) {} }", Some(1)),
        )
        .unwrap();
    let forward = "async function run(ctx) { await ctx.http.post('https://receiver.example.com/events', { id: ctx.event.after.externalId }); }";
    store.create_hook(&quiet, &calm.id, hook("forward", "PUSH", forward, None)).unwrap();
    store.apply_page(&spinner, "spin", EntityType::Employee, &[person(0, "SPIN")]).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await; // A's hook is computing now
    let total = 250; // 5 s at 50 per second, inside A's 10 s
    let (writer, writer_org) = (store.clone(), quiet.clone());
    let commits: HashMap<String, Instant> = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let mut commits = HashMap::new();
        for n in 0..total {
            let due = started + Duration::from_millis(20 * n as u64);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            let record = person(n, "QUIET");
            writer.apply_page(&writer_org, "generator", EntityType::Employee, std::slice::from_ref(&record)).unwrap();
            commits.insert(record.external_id, Instant::now());
        }
        commits
    })
    .await
    .unwrap();
    for _ in 0..3000 {
        if arrivals.lock().unwrap().len() >= total {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let arrived = arrivals.lock().unwrap().clone();
    assert_eq!(arrived.len(), total, "every change of B delivered");
    let mut latencies: Vec<f64> = commits
        .iter()
        .map(|(id, committed)| arrived[id].saturating_duration_since(*committed).as_secs_f64() * 1e3)
        .collect();
    let label = "PUSH of B at 50/s while A's PUSH hook spins, committed to received";
    row(&format!("{label}: p50"), quantile(&mut latencies, 0.5), "");
    row(&format!("{label}: p99"), quantile(&mut latencies, 0.99), "≤ 100 ms");
    row(&format!("{label}: max"), quantile(&mut latencies, 1.0), "");
    // A's hook stops at its 10 s limit; wait for it, so the next case starts clean.
    tokio::time::sleep(Duration::from_secs(10)).await;

    // 2. PULL: four of A's hooks spin; B's trivial runs one after another (five runs an hour
    // per hook: a hook per run).
    for n in 0..4 {
        let spin = store
            .create_hook(
                &spinner,
                &spinning.id,
                hook(&format!("spin {n}"), "PULL", "async function run(ctx) { while (true) {} }", None),
            )
            .unwrap();
        store
            .queue_execution(
                &spinner,
                &spin.id,
                flowstate_store::kinds::Trigger::Manual,
                &flowstate_store::timestamp(chrono::Utc::now()),
            )
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut latencies = Vec::new();
    for n in 0..40 {
        let trivial = store
            .create_hook(
                &quiet,
                &calm.id,
                hook(&format!("trivial {n}"), "PULL", "async function run(ctx) { return { records: [] }; }", None),
            )
            .unwrap();
        let triggered = Instant::now();
        let (status, started) =
            api.call(reqwest::Method::POST, &quiet_key, &format!("/api/v1/org/{quiet}/hooks/{}/run", trivial.id)).await;
        assert_eq!(status, 202, "{started}");
        let path = format!("/api/v1/org/{quiet}/executions/{}", started["data"]["id"].as_str().unwrap());
        loop {
            let (_, execution) = api.call(reqwest::Method::GET, &quiet_key, &path).await;
            match execution["data"]["status"].as_str() {
                Some("queued" | "running") => tokio::time::sleep(Duration::from_millis(1)).await,
                Some("succeeded") => break,
                _ => panic!("{execution}"),
            }
        }
        latencies.push(triggered.elapsed().as_secs_f64() * 1e3);
    }
    let label = "B's trivial PULL run while 4 of A's hooks spin, trigger to succeeded";
    row(&format!("{label}: p50"), quantile(&mut latencies, 0.5), "");
    row(&format!("{label}: p99"), quantile(&mut latencies, 0.99), "≤ 2,000 ms");
    row(&format!("{label}: max"), quantile(&mut latencies, 1.0), "");
}

fn records() -> usize {
    std::env::var("FLOWSTATE_BENCH_RECORDS").ok().and_then(|n| n.parse().ok()).unwrap_or(100_000)
}

fn employee(n: usize) -> IncomingRecord {
    let data = json!({
        "firstName": "Ada", "lastName": format!("Lovelace {n}"), "email": format!("ada{n}@example.com"), "startDate": "2024-03-15",
        "jobRole": format!("Role {}", n % 50),
        "teamAllocations": [
            { "teamId": format!("TEAM-{}", n % 200), "fte": 0.6, "startDate": "2024-03-15" },
            { "teamId": format!("TEAM-{}", (n + 7) % 200), "fte": 0.4, "startDate": "2024-03-15" },
        ],
    });
    IncomingRecord { external_id: format!("EMP-{n:06}"), data: data.as_object().unwrap().clone() }
}

async fn reads_beside_slow_lists_sqlite() {
    let directory = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open_sqlite(&directory.path().join("bench.db")).unwrap());
    reads_beside_slow_lists("SQLite", store).await;
}

async fn reads_beside_slow_lists_postgres() {
    let Some(base) = ["FLOWSTATE_BENCH_DATABASE_URL", "FLOWSTATE_TEST_DATABASE_URL"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|url| !url.is_empty()))
    else {
        println!("| {:<66} | {:>9} | {:<12} |", "PostgreSQL: skipped (set FLOWSTATE_BENCH_DATABASE_URL)", "", "");
        return;
    };
    let url = flowstate_test_support::schema_on(&base, "bench_reads");
    let store = tokio::task::spawn_blocking(move || Arc::new(Store::open_postgres(&url).unwrap())).await.unwrap();
    reads_beside_slow_lists("PostgreSQL", store).await;
}

async fn reads_beside_slow_lists(backend: &str, store: Arc<Store>) {
    let total = records();
    let seeding = store.clone();
    let (org, key) = tokio::task::spawn_blocking(move || {
        let (org, key) = tenant(&seeding, "Reads");
        let employees: Vec<IncomingRecord> = (0..total).map(employee).collect();
        for page in employees.chunks(1000) {
            let outcome = seeding.apply_page(&org, "hr", EntityType::Employee, page).unwrap();
            assert!(outcome.errors.is_empty(), "{:?}", outcome.errors.first());
        }
        (org, key)
    })
    .await
    .unwrap();
    let api = Arc::new(Api::start(store.clone(), None).await);
    let served = api.clone();
    let get = |n: usize| format!("/api/v1/org/{org}/employees/EMP-{:06}", (n * 7919) % total);
    let mut alone = Vec::new();
    for n in 0..50 {
        let started = Instant::now();
        let (status, body) = api.call(reqwest::Method::GET, &key, &get(n)).await;
        assert_eq!(status, 200, "{body}");
        alone.push(started.elapsed().as_secs_f64() * 1e3);
    }
    // Two lists at a time, sorted by jobRole (in memory over every employee), until the GETs
    // are done.
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut lists = Vec::new();
    for _ in 0..2 {
        let (api, key, done) = (api.clone(), key.clone(), done.clone());
        let path = format!("/api/v1/org/{org}/employees?sortBy=jobRole&limit=50&page=3");
        lists.push(tokio::spawn(async move {
            let mut durations = Vec::new();
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let started = Instant::now();
                let (status, body) = api.call(reqwest::Method::GET, &key, &path).await;
                assert_eq!(status, 200, "{body}");
                durations.push(started.elapsed().as_secs_f64() * 1e3);
            }
            durations
        }));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut beside = Vec::new();
    let started_all = Instant::now();
    let mut n = 0;
    while n < 200 || started_all.elapsed() < Duration::from_secs(5) {
        let started = Instant::now();
        let (status, body) = api.call(reqwest::Method::GET, &key, &get(n)).await;
        assert_eq!(status, 200, "{body}");
        beside.push(started.elapsed().as_secs_f64() * 1e3);
        n += 1;
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut list_times = Vec::new();
    for list in lists {
        list_times.extend(list.await.unwrap());
    }
    let thousands = total / 1000;
    row(&format!("{backend}: GET one employee alone, slowest of 50"), quantile(&mut alone, 1.0), "");
    row(
        &format!("{backend}: GET one employee beside jobRole lists of {thousands}k, slowest of {}", beside.len()),
        quantile(&mut beside, 1.0),
        "≤ 100 ms",
    );
    row(&format!("{backend}:   the same, p50"), quantile(&mut beside, 0.5), "");
    row(
        &format!("{backend}:   each list sorted by jobRole ({} ran), p50", list_times.len()),
        quantile(&mut list_times, 0.5),
        "",
    );
    drop(api);
    Arc::into_inner(served).expect("the lists are done").stop().await;
    // A PostgreSQL store's connections own small runtimes of their own: dropped off this one.
    tokio::task::spawn_blocking(move || drop(store)).await.unwrap();
}
