use chrono::{DateTime, TimeZone, Utc};
use flowstate_store::{IncomingRecord, OrgId, PageOutcome, Store};
use flowstate_sync::EntityType;
use serde_json::Value;

pub struct TestStore {
    pub store: Store,
    pub org: OrgId,
    _directory: Option<tempfile::TempDir>,
}

/// A store on a fresh SQLite file, with one organisation.
pub fn sqlite_store() -> TestStore {
    let directory = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(&directory.path().join("flowstate.db")).unwrap();
    let org = store.create_org("Acme", "Europe/London", "GBP").unwrap();
    TestStore { store, org, _directory: Some(directory) }
}

/// A store on PostgreSQL (`FLOWSTATE_TEST_DATABASE_URL`), with a fresh organisation in this
/// run's own schema; `None`, said on the terminal, when the variable is unset.
pub fn postgres_store() -> Option<TestStore> {
    let url = postgres_url()?;
    let store = Store::open_postgres(&url).unwrap();
    let org = store.create_org("Acme", "Europe/London", "GBP").unwrap();
    Some(TestStore { store, org, _directory: None })
}

/// The database URL with `search_path` set to a schema made for this test run, so runs
/// never meet each other's tables (or an older version of them).
pub fn postgres_url() -> Option<String> {
    static URL: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    URL.get_or_init(|| flowstate_test_support::postgres_schema("store")).clone()
}

pub fn records(list: &[(&str, Value)]) -> Vec<IncomingRecord> {
    list.iter()
        .map(|(id, data)| IncomingRecord { external_id: id.to_string(), data: data.as_object().unwrap().clone() })
        .collect()
}

pub fn at(date: &str) -> DateTime<Utc> {
    let date = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
    Utc.from_utc_datetime(&date.and_hms_opt(12, 0, 0).unwrap())
}

impl TestStore {
    pub fn apply(&self, entity: EntityType, list: &[(&str, Value)]) -> PageOutcome {
        self.apply_from("workday", entity, list, "2026-05-15")
    }

    pub fn apply_from(&self, source: &str, entity: EntityType, list: &[(&str, Value)], day: &str) -> PageOutcome {
        self.store.apply_page_at(&self.org, source, entity, &records(list), at(day)).unwrap()
    }

    pub fn get(&self, entity: EntityType, external_id: &str) -> Value {
        self.store.find_by_external_id(&self.org, entity, external_id).unwrap().unwrap_or(Value::Null)
    }

    pub fn event_count(&self) -> usize {
        self.store.change_events(&self.org, 0).unwrap().len()
    }

    pub fn count(&self, entity: EntityType) -> usize {
        self.store.export(&self.org, entity).unwrap().len()
    }
}

/// (created, updated, unchanged, deleted, error messages)
pub fn summary(outcome: &PageOutcome) -> (usize, usize, usize, usize, Vec<String>) {
    (
        outcome.created,
        outcome.updated,
        outcome.unchanged,
        outcome.deleted,
        outcome.errors.iter().map(|error| error.message.clone()).collect(),
    )
}
