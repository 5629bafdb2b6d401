//! `cargo bench -p flowstate-store`: the PULL sync into SQLite, against the database's own
//! raw insert rate for the same rows.

use std::time::Instant;

use flowstate_store::{IncomingRecord, Store};
use flowstate_sync::EntityType;
use serde_json::json;

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

    let total = 100_000;
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
}
