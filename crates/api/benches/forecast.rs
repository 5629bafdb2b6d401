//! `cargo bench -p flowstate-api --bench forecast`: the team cost forecast through the REST
//! API (issue 11). 12 months over 10,000 employees, 2,000 contractors and 2,000 vacancies with
//! two team allocations each, 50 teams three levels deep: totals only, and with `lines=true`
//! (time and response size). SQLite, and PostgreSQL when `FLOWSTATE_BENCH_DATABASE_URL` (or
//! `FLOWSTATE_TEST_DATABASE_URL`) names one.

use std::{sync::Arc, time::Instant};

use flowstate_api::{AppState, vault::Vault};
use flowstate_store::{IncomingRecord, Store};
use flowstate_sync::EntityType;
use serde_json::{Value, json};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn record(external_id: String, data: Value) -> IncomingRecord {
    IncomingRecord { external_id, data: data.as_object().unwrap().clone() }
}

/// Team `n` of 50: 5 at the top, 15 below them, 30 below those.
fn team(n: usize) -> IncomingRecord {
    let parent = match n {
        0..5 => None,
        5..20 => Some(n % 5),
        _ => Some(5 + n % 15),
    };
    let mut data = json!({ "name": format!("Team {n}") });
    if let Some(parent) = parent {
        data["parentTeamExternalId"] = json!(format!("T-{parent}"));
    }
    record(format!("T-{n}"), data)
}

fn allocations(n: usize) -> Value {
    json!([
        { "teamId": format!("T-{}", n % 50), "fte": 0.6, "startDate": "2025-06-01" },
        { "teamId": format!("T-{}", (n + 17) % 50), "fte": 0.4, "startDate": "2026-03-01" },
    ])
}

fn seed(store: &Store) -> (String, String) {
    let org = store.create_org("Forecast", "UTC", "GBP").unwrap();
    let key = store.create_api_key(&org, "bench", flowstate_store::keys::ALL_SCOPES).unwrap().token;
    let apply = |entity, records: Vec<IncomingRecord>| {
        for page in records.chunks(1000) {
            let outcome = store.apply_page(&org, "hr", entity, page).unwrap();
            assert!(outcome.errors.is_empty(), "{:?}", outcome.errors.first());
        }
    };
    // Parents first: a team's parent must exist when it is written.
    apply(EntityType::Team, (0..5).map(team).collect());
    apply(EntityType::Team, (5..20).map(team).collect());
    apply(EntityType::Team, (20..50).map(team).collect());
    apply(
        EntityType::Employee,
        (0..10_000)
            .map(|n| {
                record(
                    format!("E-{n}"),
                    json!({ "firstName": "Ada", "lastName": format!("L{n}"), "email": format!("e{n}@example.com"), "startDate": "2025-01-01",
                        "salaryAdjustments": [
                            { "effectiveDate": "2025-01-01", "salary": 50_000 + n % 40_000, "currencyCode": "GBP" },
                            { "effectiveDate": "2026-04-01", "salary": 52_000 + n % 40_000, "bonus": 5000, "currencyCode": "GBP" },
                        ],
                        "teamAllocations": allocations(n) }),
                )
            })
            .collect(),
    );
    apply(
        EntityType::Contractor,
        (0..2_000)
            .map(|n| {
                record(
                    format!("C-{n}"),
                    json!({ "name": format!("Contractor {n}"), "rate": 400 + n % 300, "rateType": "daily", "currencyCode": "GBP",
                        "teamAllocations": allocations(n) }),
                )
            })
            .collect(),
    );
    apply(
        EntityType::Vacancy,
        (0..2_000)
            .map(|n| {
                record(
                    format!("V-{n}"),
                    json!({ "role": format!("Engineer {n}"), "salaryMin": 60_000, "salaryMax": 80_000, "targetStartDate": "2026-02-01",
                        "teamAllocations": allocations(n) }),
                )
            })
            .collect(),
    );
    (org.to_string(), key)
}

async fn measure(backend: &str, store: Arc<Store>) {
    let seeding = store.clone();
    let (org, key) = tokio::task::spawn_blocking(move || seed(&seeding)).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state =
        AppState { store: store.clone(), vault: Vault::new([4; 32]), runner: None, metrics: Default::default() };
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let served = tokio::spawn(flowstate_api::serve(listener, state, async move {
        let _ = stopped.wait_for(|stopped| *stopped).await;
    }));
    let client = reqwest::Client::new();
    let get = |query: &str| {
        let request = client.get(format!("{base}/api/v1/org/{org}/forecast?{query}")).bearer_auth(&key);
        async move {
            let started = Instant::now();
            let response = request.send().await.unwrap();
            assert_eq!(response.status().as_u16(), 200);
            let body = response.bytes().await.unwrap();
            (started.elapsed().as_secs_f64() * 1e3, body.len())
        }
    };
    let mut totals = Vec::new();
    for _ in 0..10 {
        totals.push(get("from=2026-01&to=2026-12").await.0);
    }
    totals.sort_by(f64::total_cmp);
    let (lines_ms, lines_bytes) = get("from=2026-01&to=2026-12&lines=true").await;
    println!(
        "| {:<66} | {:>9.1} | {:<12} |",
        format!("{backend}: 12 months, totals, p50 of 10"),
        totals[5],
        "≤ 100 ms"
    );
    println!("| {:<66} | {:>9.1} | {:<12} |", format!("{backend}: the same, slowest"), totals[9], "");
    println!(
        "| {:<66} | {:>9.1} | {:<12} |",
        format!("{backend}: 12 months with lines=true ({:.1} MB)", lines_bytes as f64 / 1e6),
        lines_ms,
        ""
    );
    // Where the time goes (outside the server, after the requests above): each part's p50 of
    // 10, one after the other.
    let parts = store.clone();
    let (read_ms, compute_ms, render_ms) = tokio::task::spawn_blocking(move || {
        let org = flowstate_store::OrgId::new(org);
        let range = flowstate_forecast::MonthRange::parse("2026-01", "2026-12").unwrap();
        let mut times = [Vec::new(), Vec::new(), Vec::new()];
        for _ in 0..10 {
            let started = Instant::now();
            let rows = parts.forecast_rows(&org).unwrap();
            times[0].push(started.elapsed());
            let started = Instant::now();
            let (team, detail) = (flowstate_forecast::GroupBy::Team, flowstate_forecast::Detail::Totals);
            let forecast = flowstate_forecast::forecast(&rows, range, team, None, detail);
            times[1].push(started.elapsed());
            let started = Instant::now();
            std::hint::black_box(serde_json::to_vec(&flowstate_api::forecast::render(&forecast)).unwrap());
            times[2].push(started.elapsed());
        }
        let p50 = |times: &mut Vec<std::time::Duration>| {
            times.sort();
            times[times.len() / 2].as_secs_f64() * 1e3
        };
        let [read, compute, render] = &mut times;
        (p50(read), p50(compute), p50(render))
    })
    .await
    .unwrap();
    for (part, ms) in [("read the rows", read_ms), ("compute", compute_ms), ("render (totals)", render_ms)] {
        println!("| {:<66} | {:>9.1} | {:<12} |", format!("{backend}: of which {part}, p50 of 10"), ms, "");
    }
    let _ = stop.send(true);
    served.await.unwrap().unwrap();
    // A PostgreSQL store's connections own small runtimes of their own: dropped off this one.
    tokio::task::spawn_blocking(move || drop(store)).await.unwrap();
}

fn main() {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async move {
        println!("flowstate-api benchmark: the team cost forecast ({cores} cores)\n");
        println!(
            "| {:<66} | {:>9} | {:<12} |",
            "case (10,000 employees, 2,000 contractors, 2,000 vacancies)", "ms", "target"
        );
        println!("|{:-<68}|{:-<11}|{:-<14}|", "", "", "");
        let directory = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open_sqlite(&directory.path().join("bench.db")).unwrap());
        measure("SQLite", store).await;
        match ["FLOWSTATE_BENCH_DATABASE_URL", "FLOWSTATE_TEST_DATABASE_URL"]
            .iter()
            .find_map(|name| std::env::var(name).ok().filter(|url| !url.is_empty()))
        {
            Some(base) => {
                let url = flowstate_test_support::schema_on(&base, "bench_forecast");
                let store =
                    tokio::task::spawn_blocking(move || Arc::new(Store::open_postgres(&url).unwrap())).await.unwrap();
                measure("PostgreSQL", store).await;
            }
            None => println!(
                "| {:<66} | {:>9} | {:<12} |",
                "PostgreSQL: skipped (set FLOWSTATE_BENCH_DATABASE_URL)", "", ""
            ),
        }
    });
}
