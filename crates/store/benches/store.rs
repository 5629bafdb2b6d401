//! `cargo bench -p flowstate-store`: the PULL sync into SQLite, and into PostgreSQL when
//! `FLOWSTATE_BENCH_DATABASE_URL` (or `FLOWSTATE_TEST_DATABASE_URL`) names one, each against
//! the database's own raw insert rate for the same rows. `FLOWSTATE_BENCH_RECORDS` sets the
//! number of employees (100,000).

use std::time::Instant;

use flowstate_store::{IncomingRecord, Store};
use flowstate_sync::EntityType;
use serde_json::json;

// As in the `flowstate` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn vacancy(n: usize) -> IncomingRecord {
    let data = json!({
        "role": format!("Engineer {n}"), "targetStartDate": "2026-03-01", "fte": 1.0, "salaryMin": 80000, "salaryMax": 100000, "currencyCode": "GBP",
        "teamAllocations": [
            { "teamId": format!("TEAM-{}", n % 40), "fte": 0.5, "startDate": "2026-03-01" },
            { "teamId": format!("TEAM-{}", (n + 1) % 40), "fte": 0.5, "startDate": "2026-03-01" },
        ],
    });
    IncomingRecord { external_id: format!("POS-{n:05}"), data: data.as_object().unwrap().clone() }
}

fn employee(n: usize) -> IncomingRecord {
    let data = json!({
        "firstName": "Ada", "lastName": format!("Lovelace {n}"), "email": format!("ada{n}@example.com"), "startDate": "2024-03-15",
        "internalEmployeeId": format!("E{n:06}"),
        "teamAllocations": [
            { "teamId": format!("TEAM-{}", n % 200), "fte": 0.6, "startDate": "2024-03-15" },
            { "teamId": format!("TEAM-{}", (n + 7) % 200), "fte": 0.4, "startDate": "2024-03-15" },
        ],
    });
    IncomingRecord { external_id: format!("EMP-{n:06}"), data: data.as_object().unwrap().clone() }
}

fn total() -> usize {
    std::env::var("FLOWSTATE_BENCH_RECORDS").ok().and_then(|n| n.parse().ok()).unwrap_or(100_000)
}

fn fresh() -> (tempfile::TempDir, Store, flowstate_store::OrgId) {
    let directory = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(&directory.path().join("bench.db")).unwrap();
    let org = store.create_org("Bench", "UTC", "GBP").unwrap();
    (directory, store, org)
}

fn row(case: &str, records: usize, seconds: f64, target: &str) {
    println!(
        "| {case:<52} | {records:>7} | {:>9.1} | {:>11.0} | {target:<22} |",
        seconds * 1e3,
        records as f64 / seconds
    );
}

fn main() {
    // FLOWSTATE_BENCH_LOG=flowstate_store=debug prints each page's load/plan/write times.
    if let Ok(filter) = std::env::var("FLOWSTATE_BENCH_LOG") {
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    }
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!("flowstate-store benchmarks, SQLite ({cores} cores)\n");
    println!("| {:<52} | {:>7} | {:>9} | {:>11} | {:<22} |", "case", "records", "ms", "records/s", "target");
    println!("|{:-<54}|{:-<9}|{:-<11}|{:-<13}|{:-<24}|", "", "", "", "", "");

    let (_dir, store, org) = fresh();
    let vacancies: Vec<IncomingRecord> = (0..800).map(vacancy).collect();
    let started = Instant::now();
    let outcome = store.apply_page(&org, "workday", EntityType::Vacancy, &vacancies).unwrap();
    row("800 vacancies, 2 team allocations each, first sync", 800, started.elapsed().as_secs_f64(), "≤ 100 ms");
    assert_eq!((outcome.created, outcome.errors.len()), (800, 0));

    let total = total();
    let employees: Vec<IncomingRecord> = (0..total).map(employee).collect();
    let (_dir, store, org) = fresh();
    let started = Instant::now();
    for page in employees.chunks(1000) {
        let outcome = store.apply_page(&org, "workday", EntityType::Employee, page).unwrap();
        assert!(outcome.errors.is_empty(), "{:?}", outcome.errors.first());
    }
    row(
        "100,000 employees, 2 allocations, pages of 1,000, first",
        total,
        started.elapsed().as_secs_f64(),
        "≥ 20,000/s",
    );
    let started = Instant::now();
    for page in employees.chunks(1000) {
        let outcome = store.apply_page(&org, "workday", EntityType::Employee, page).unwrap();
        assert_eq!(outcome.unchanged, page.len());
    }
    row("the same again (all unchanged)", total, started.elapsed().as_secs_f64(), "≥ 100,000/s");

    // Per-record rollback at speed: 1 record in 100 has a malformed email and 1 in 100 an
    // email another employee of the page already has. Each is reported; the rest are written.
    let flawed: Vec<IncomingRecord> = (0..total)
        .map(|n| {
            let mut record = employee(n);
            match n % 100 {
                17 => record.data.insert("email".into(), json!("not an email")),
                63 => record.data.insert("email".into(), json!(format!("ada{}@example.com", n - 1))),
                _ => None,
            };
            record
        })
        .collect();
    let (_flawed_dir, flawed_store, flawed_org) = fresh();
    let started = Instant::now();
    let (mut created, mut errors) = (0, 0);
    for page in flawed.chunks(1000) {
        let outcome = flawed_store.apply_page(&flawed_org, "workday", EntityType::Employee, page).unwrap();
        created += outcome.created;
        errors += outcome.errors.len();
    }
    row("the same, 2 in 100 refused (bad email, email taken)", total, started.elapsed().as_secs_f64(), "");
    let refused = (0..total).filter(|n| matches!(n % 100, 17 | 63)).count();
    assert_eq!((created, errors), (total - refused, refused));

    // What a list paged in memory reads (assignments, or sorted by a field the database cannot).
    let started = Instant::now();
    let exported = store.export(&org, EntityType::Employee).unwrap();
    assert_eq!(exported.len(), total);
    row("export every employee (what a list paged in memory reads)", total, started.elapsed().as_secs_f64(), "");
    // What a searched REST list reads: the candidates the database finds.
    let started = Instant::now();
    let found = store.export_mentioning(&org, EntityType::Employee, "lovelace 4242").unwrap();
    row("employees mentioning \"lovelace 4242\" (a searched list)", found.len(), started.elapsed().as_secs_f64(), "");
    // A page from the middle: the database skips to it.
    let middle = (total / 50 / 2).max(1);
    for (order, by) in [
        (flowstate_store::ListOrder::ExternalId, "externalId"),
        (flowstate_store::ListOrder::TextField("lastName"), "lastName"),
    ] {
        let started = Instant::now();
        let query =
            flowstate_store::ListPageQuery { order, descending: false, exclude_filled: false, page: middle, limit: 50 };
        let (page, _) = store.list_page(&org, EntityType::Employee, &query).unwrap();
        assert_eq!(page.len(), 50.min(total));
        row(
            &format!("one page of 50 employees by {by} from the database (page {middle})"),
            50,
            started.elapsed().as_secs_f64(),
            "",
        );
    }

    // The database's own limit: the same rows (entity, 2 assignments, sync state) inserted
    // with prepared statements in one transaction per 1,000 records, no logic.
    let directory = tempfile::tempdir().unwrap();
    let mut connection = rusqlite::Connection::open(directory.path().join("raw.db")).unwrap();
    connection.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;").unwrap();
    connection
        .execute_batch(
            "CREATE TABLE e (id TEXT PRIMARY KEY, org_id TEXT, external_id TEXT, fields TEXT, email_key TEXT);
             CREATE UNIQUE INDEX e_x ON e(org_id, external_id); CREATE UNIQUE INDEX e_m ON e(org_id, email_key);
             CREATE TABLE a (id TEXT PRIMARY KEY, resource_id TEXT, target_id TEXT, fte REAL, start_date TEXT, source TEXT);
             CREATE INDEX a_r ON a(resource_id);
             CREATE TABLE s (org_id TEXT, source TEXT, external_id TEXT, entity_id TEXT, fingerprint TEXT, PRIMARY KEY (org_id, source, external_id));",
        )
        .unwrap();
    let started = Instant::now();
    for (page_index, page) in employees.chunks(1000).enumerate() {
        let transaction = connection.transaction().unwrap();
        {
            let mut insert_entity = transaction.prepare_cached("INSERT INTO e VALUES (?1, 'org', ?2, ?3, ?4)").unwrap();
            let mut insert_assignment =
                transaction.prepare_cached("INSERT INTO a VALUES (?1, ?2, ?3, 0.5, '2024-03-15', 'workday')").unwrap();
            let mut insert_state =
                transaction.prepare_cached("INSERT INTO s VALUES ('org', 'workday', ?1, ?2, 'f')").unwrap();
            for (index, record) in page.iter().enumerate() {
                let id = format!("emp_{page_index}_{index}");
                let fields = serde_json::Value::Object(record.data.clone()).to_string();
                insert_entity
                    .execute(rusqlite::params![id, record.external_id, fields, record.data["email"].as_str()])
                    .unwrap();
                for slot in 0..2 {
                    insert_assignment
                        .execute(rusqlite::params![format!("{id}_{slot}"), id, format!("team_{slot}")])
                        .unwrap();
                }
                insert_state.execute(rusqlite::params![record.external_id, id]).unwrap();
            }
        }
        transaction.commit().unwrap();
    }
    row(
        "raw prepared INSERTs of the same rows (no sync logic)",
        total,
        started.elapsed().as_secs_f64(),
        "the database's limit",
    );
    postgres();
}

/// The same 100,000 employees into PostgreSQL, in a schema made for this run.
fn postgres() {
    let Some(base) = ["FLOWSTATE_BENCH_DATABASE_URL", "FLOWSTATE_TEST_DATABASE_URL"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|url| !url.is_empty()))
    else {
        println!("\nPostgreSQL: skipped (set FLOWSTATE_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test)");
        return;
    };
    println!();
    let url = flowstate_test_support::schema_on(&base, "bench");

    let total = total();
    let employees: Vec<IncomingRecord> = (0..total).map(employee).collect();
    let store = Store::open_postgres(&url).unwrap();
    let org = store.create_org("Bench", "UTC", "GBP").unwrap();
    let started = Instant::now();
    for page in employees.chunks(1000) {
        let outcome = store.apply_page(&org, "workday", EntityType::Employee, page).unwrap();
        assert!(outcome.errors.is_empty(), "{:?}", outcome.errors.first());
    }
    row("PostgreSQL: 100,000 employees, 2 allocations, first", total, started.elapsed().as_secs_f64(), "≥ 5,000/s");
    let started = Instant::now();
    for page in employees.chunks(1000) {
        let outcome = store.apply_page(&org, "workday", EntityType::Employee, page).unwrap();
        assert_eq!(outcome.unchanged, page.len());
    }
    row("PostgreSQL: the same again (all unchanged)", total, started.elapsed().as_secs_f64(), "");

    // The database's own limit: the same rows (entity, 2 assignments, sync state) as one
    // UNNEST insert per table per 1,000 records, one transaction each, no logic.
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    client
        .batch_execute(
            "CREATE TABLE raw_e (id TEXT PRIMARY KEY, org_id TEXT, external_id TEXT, fields TEXT, email_key TEXT);
             CREATE UNIQUE INDEX raw_e_x ON raw_e(org_id, external_id); CREATE UNIQUE INDEX raw_e_m ON raw_e(org_id, email_key);
             CREATE TABLE raw_a (id TEXT PRIMARY KEY, resource_id TEXT, target_id TEXT, fte DOUBLE PRECISION, start_date TEXT, source TEXT);
             CREATE INDEX raw_a_r ON raw_a(resource_id);
             CREATE TABLE raw_s (org_id TEXT, source TEXT, external_id TEXT, entity_id TEXT, fingerprint TEXT, PRIMARY KEY (org_id, source, external_id));",
        )
        .unwrap();
    let started = Instant::now();
    for (page_index, page) in employees.chunks(1000).enumerate() {
        let ids: Vec<String> = (0..page.len()).map(|index| format!("emp_{page_index}_{index}")).collect();
        let external_ids: Vec<&str> = page.iter().map(|record| record.external_id.as_str()).collect();
        let fields: Vec<String> =
            page.iter().map(|record| serde_json::Value::Object(record.data.clone()).to_string()).collect();
        let emails: Vec<&str> = page.iter().map(|record| record.data["email"].as_str().unwrap()).collect();
        let assignment_ids: Vec<String> = ids.iter().flat_map(|id| [format!("{id}_0"), format!("{id}_1")]).collect();
        let resources: Vec<&str> = ids.iter().flat_map(|id| [id.as_str(), id.as_str()]).collect();
        let targets: Vec<&str> = ids.iter().flat_map(|_| ["team_0", "team_1"]).collect();
        let mut transaction = client.transaction().unwrap();
        transaction
            .execute(
                "INSERT INTO raw_e SELECT t.id, 'org', t.x, t.f, t.m FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[]) AS t(id, x, f, m)",
                &[&ids, &external_ids, &fields, &emails],
            )
            .unwrap();
        transaction
            .execute(
                "INSERT INTO raw_a SELECT t.id, t.r, t.t, 0.5, '2024-03-15', 'workday' FROM UNNEST($1::text[], $2::text[], $3::text[]) AS t(id, r, t)",
                &[&assignment_ids, &resources, &targets],
            )
            .unwrap();
        transaction
            .execute(
                "INSERT INTO raw_s SELECT 'org', 'workday', t.x, t.id, 'f' FROM UNNEST($1::text[], $2::text[]) AS t(x, id)",
                &[&external_ids, &ids],
            )
            .unwrap();
        transaction.commit().unwrap();
    }
    row(
        "PostgreSQL: raw UNNEST INSERTs of the same rows",
        total,
        started.elapsed().as_secs_f64(),
        "the database's limit",
    );
    let schema: String = client.query_one("SELECT current_schema()", &[]).unwrap().get(0);
    client.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")).unwrap();
}
