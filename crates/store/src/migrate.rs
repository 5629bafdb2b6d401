//! Versioned migrations, applied in order on open; each runs once, in a transaction.

use rusqlite::Connection;

use crate::StoreError;

/// Versions 1 and 2 differ by backend (SQLite keeps per-row `org_id` foreign keys).
const SQLITE_OWN: &[(i64, &str)] = &[
    (1, include_str!("../migrations/sqlite/0001_workforce.sql")),
    (2, include_str!("../migrations/sqlite/0002_api_keys.sql")),
];
/// The same versions as [`SQLITE_OWN`], making the same tables.
const POSTGRES_OWN: &[(i64, &str)] = &[
    (1, include_str!("../migrations/postgres/0001_workforce.sql")),
    (2, include_str!("../migrations/postgres/0002_api_keys.sql")),
];
/// Versions 3 to 11, and 14 on, are the same SQL on both (`migrations/shared/`: text columns, standard
/// DDL); so is every later version not listed as one backend's own.
const SHARED: &[(i64, &str)] = &[
    (3, include_str!("../migrations/shared/0003_integrations.sql")),
    (4, include_str!("../migrations/shared/0004_hook_schedule.sql")),
    (5, include_str!("../migrations/shared/0005_push.sql")),
    (6, include_str!("../migrations/shared/0006_execution_leases.sql")),
    (7, include_str!("../migrations/shared/0007_one_running_execution.sql")),
    (8, include_str!("../migrations/shared/0008_push_cursor_leases.sql")),
    (9, include_str!("../migrations/shared/0009_hook_retry_policy.sql")),
    (10, include_str!("../migrations/shared/0010_exchange_rates.sql")),
    (11, include_str!("../migrations/shared/0011_hook_kv.sql")),
    (14, include_str!("../migrations/shared/0014_work_types.sql")),
    (15, include_str!("../migrations/shared/0015_forecast_indexes.sql")),
    (16, include_str!("../migrations/shared/0016_hook_language.sql")),
];
/// SQLite's own versions after 2. Their numbers are taken: PostgreSQL has no version 12, and
/// the next shared version is 15.
const SQLITE_LATE: &[(i64, &str)] = &[
    (12, include_str!("../migrations/sqlite/0012_checks_without_in_lists.sql")),
    (13, include_str!("../migrations/sqlite/0013_execution_queue.sql")),
];
/// PostgreSQL's own versions after 2 (13: a CHECK constraint SQLite can only rebuild).
const POSTGRES_LATE: &[(i64, &str)] = &[(13, include_str!("../migrations/postgres/0013_execution_queue.sql"))];

/// Every PostgreSQL version, in the order they apply.
fn postgres_versions() -> Vec<(i64, &'static str)> {
    let mut versions: Vec<(i64, &'static str)> =
        POSTGRES_OWN.iter().chain(SHARED).chain(POSTGRES_LATE).copied().collect();
    versions.sort_by_key(|(version, _)| *version);
    versions
}

/// Every SQLite version, in the order they apply.
fn sqlite_versions() -> Vec<(i64, &'static str)> {
    let mut versions: Vec<(i64, &'static str)> = SQLITE_OWN.iter().chain(SHARED).chain(SQLITE_LATE).copied().collect();
    versions.sort_by_key(|(version, _)| *version);
    versions
}

pub(crate) fn migrate_sqlite(connection: &mut Connection) -> Result<(), StoreError> {
    let fail = |error: rusqlite::Error| StoreError::Migration(error.to_string());
    connection
        .execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
        )
        .map_err(fail)?;
    let mut applied_any = false;
    for (version, sql) in sqlite_versions() {
        // IMMEDIATE: two processes opening one new file take turns (a deferred transaction
        // that reads first could not wait for the other's write lock).
        let transaction =
            connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(fail)?;
        let applied: bool = transaction
            .query_row("SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?1)", [version], |row| {
                row.get(0)
            })
            .map_err(fail)?;
        if !applied {
            tracing::info!(version, "applying migration");
            transaction.execute_batch(sql).map_err(fail)?;
            transaction
                .execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
                    rusqlite::params![version, flowstate_time::now()],
                )
                .map_err(fail)?;
            applied_any = true;
        }
        transaction.commit().map_err(fail)?;
    }
    if applied_any {
        // A migration that copies a table (version 12 copies the events) leaves a WAL of its
        // size; copy it into the database file now and shrink it, rather than keep it.
        connection.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).map_err(fail)?;
    }
    Ok(())
}

/// As [`migrate_sqlite`]; an advisory lock makes servers starting together take turns.
pub(crate) fn migrate_postgres(client: &mut postgres::Client) -> Result<(), StoreError> {
    let fail = |error: postgres::Error| StoreError::Migration(error.to_string());
    // Any number, the same in every process: "flowstate migrations".
    const LOCK: i64 = 0x666c_6f77_6d69_6772;
    let mut transaction = client.transaction().map_err(fail)?;
    transaction.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK]).map_err(fail)?;
    transaction
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL)",
        )
        .map_err(fail)?;
    for (version, sql) in postgres_versions() {
        let applied = transaction
            .query_opt("SELECT 1 FROM schema_migrations WHERE version = $1", &[&version])
            .map_err(fail)?
            .is_some();
        if !applied {
            transaction.batch_execute(sql).map_err(fail)?;
            transaction
                .execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                    &[&version, &flowstate_time::now()],
                )
                .map_err(fail)?;
        }
    }
    transaction.commit().map_err(fail)
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    /// Whether the statement's program builds a temporary B-tree (what `IN` lists in CHECK
    /// constraints cost on every insert).
    fn builds_ephemeral_table(connection: &Connection, sql: &str) -> bool {
        let mut statement = connection.prepare(&format!("EXPLAIN {sql}")).unwrap();
        let parameters = statement.parameter_count();
        let opcodes: Vec<String> = statement
            .query_map(rusqlite::params_from_iter(std::iter::repeat_n(None::<String>, parameters)), |row| row.get(1))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        opcodes.iter().any(|opcode| opcode == "OpenEphemeral")
    }

    const INSERT_EVENT: &str =
        "INSERT INTO change_events (org_id, entity_type, entity_id, change_type, before, after, source, created_at)
        VALUES ('org_1', 'employee', 'emp_1', ?1, NULL, '{}', 'workday', 't')";
    const INSERT_ASSIGNMENT: &str = "INSERT INTO assignments (id, org_id, resource_type, resource_id, target_type, target_id, fte, start_date, created_at, updated_at)
        VALUES (?1, 'org_1', ?2, 'emp_1', 'team', 'team_1', 0.5, '2026-01-01', 't', 't')";

    /// No version number is used twice on a backend: a migration whose number has been
    /// recorded would be taken as applied and skipped.
    #[test]
    fn each_backend_numbers_its_versions_once() {
        let sqlite: Vec<i64> = super::sqlite_versions().iter().map(|(version, _)| *version).collect();
        assert_eq!(sqlite, (1..=sqlite.len() as i64).collect::<Vec<_>>());
        let postgres: Vec<i64> = super::postgres_versions().iter().map(|(version, _)| *version).collect();
        let mut once = postgres.clone();
        once.dedup();
        assert_eq!(once, postgres, "each PostgreSQL version once");
        let late = |list: &[(i64, &str)], version: i64| list.iter().any(|(late, _)| *late == version);
        for (version, _) in super::SQLITE_LATE {
            if !late(super::POSTGRES_LATE, *version) {
                assert!(!postgres.contains(version), "version {version} is SQLite's own");
            }
        }
    }

    /// A database made before version 12 keeps its rows, its indexes and its event counter
    /// (an event whose seq was the highest is gone: the seq is not handed out again), and
    /// its CHECK constraints still refuse what they refused.
    #[test]
    fn version_12_rebuilds_the_tables_keeping_rows_and_the_event_counter() {
        let mut connection = Connection::open_in_memory().unwrap();
        // As the store opens it: a rebuild must not trip over a reference to the tables.
        connection.execute_batch("PRAGMA foreign_keys = ON").unwrap();
        for (_, sql) in super::SQLITE_OWN.iter().chain(super::SHARED).filter(|(version, _)| *version <= 11) {
            connection.execute_batch(sql).unwrap();
        }
        connection
            .execute_batch(
                "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL);
                 INSERT INTO organizations VALUES ('org_1', 'Acme', 'UTC', 'GBP', 't');",
            )
            .unwrap();
        for version in 1..=11 {
            connection.execute("INSERT INTO schema_migrations VALUES (?1, 't')", [version]).unwrap();
        }
        assert!(builds_ephemeral_table(&connection, INSERT_EVENT), "version 11 builds one for the IN list");
        for change in ["create", "update", "delete"] {
            connection.execute(INSERT_EVENT, [change]).unwrap();
        }
        connection.execute("DELETE FROM change_events WHERE seq = 3", []).unwrap();
        connection.execute(INSERT_ASSIGNMENT, ["asg_1", "employee"]).unwrap();

        super::migrate_sqlite(&mut connection).unwrap();

        assert!(!builds_ephemeral_table(&connection, INSERT_EVENT));
        assert!(!builds_ephemeral_table(&connection, INSERT_ASSIGNMENT));
        let kept: Vec<(i64, String)> = connection
            .prepare("SELECT seq, change_type FROM change_events ORDER BY seq")
            .unwrap()
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(kept, [(1, "create".to_string()), (2, "update".to_string())]);
        connection.execute(INSERT_EVENT, ["update"]).unwrap();
        assert_eq!(connection.last_insert_rowid(), 4, "seq 3 was handed out before");
        let resource: String = connection
            .query_row("SELECT resource_id FROM assignments WHERE id = 'asg_1'", [], |row| row.get(0))
            .unwrap();
        assert_eq!(resource, "emp_1");
        let indexes: i64 = connection
            .query_row(
                "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'index' AND tbl_name IN ('assignments', 'change_events') AND sql IS NOT NULL",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(indexes, 5, "the 4 version 12 rebuilt, and version 15's assignments_forecast");
        assert!(connection.execute(INSERT_EVENT, ["upsert"]).is_err());
        assert!(connection.execute(INSERT_ASSIGNMENT, ["asg_2", "robot"]).is_err());
        connection.execute(INSERT_ASSIGNMENT, ["asg_3", "vacancy"]).unwrap();
    }

    /// A database made before version 13 keeps every execution with every column; after it
    /// an execution may be `queued`, one per hook may be queued or running, and inserting one
    /// builds no temporary table for the status CHECK.
    #[test]
    fn version_13_lets_executions_queue_and_keeps_them() {
        let mut connection = Connection::open_in_memory().unwrap();
        connection.execute_batch("PRAGMA foreign_keys = ON").unwrap();
        let before: Vec<(i64, &str)> =
            super::sqlite_versions().into_iter().filter(|(version, _)| *version < 13).collect();
        for (_, sql) in &before {
            connection.execute_batch(sql).unwrap();
        }
        connection
            .execute_batch(
                "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL);
                 INSERT INTO organizations VALUES ('org_1', 'Acme', 'UTC', 'GBP', 't');
                 INSERT INTO integrations (id, org_id, name, source_system, created_at, updated_at) VALUES ('int_1', 'org_1', 'HR', 'hr', 't', 't');
                 INSERT INTO hooks (id, org_id, integration_id, name, hook_type, entity_type, event_types, code, enabled, created_at, updated_at)
                     VALUES ('hook_1', 'org_1', 'int_1', 'h', 'PULL', 'employee', '[]', 'x', 'true', 't', 't');
                 INSERT INTO executions (id, org_id, hook_id, status, trigger, started_at, finished_at, pages, record, error, event_id, node_id, lease_until)
                     VALUES ('exec_1', 'org_1', 'hook_1', 'running', 'manual', 's', NULL, '[]', NULL, NULL, 'evt_1', 'node', 'l');",
            )
            .unwrap();
        for (version, _) in &before {
            connection.execute("INSERT INTO schema_migrations VALUES (?1, 't')", [version]).unwrap();
        }
        let queued = "INSERT INTO executions (id, org_id, hook_id, status, trigger, started_at, pages) VALUES (?1, 'org_1', 'hook_1', ?2, 'manual', 's', '[]')";
        assert!(connection.execute(queued, ["exec_2", "queued"]).is_err(), "version 12 knows no queued");

        super::migrate_sqlite(&mut connection).unwrap();

        let kept: Vec<Option<String>> = connection
            .query_row("SELECT id, status, event_id, node_id, lease_until, pages FROM executions", [], |row| {
                (0..6).map(|column| row.get(column)).collect()
            })
            .unwrap();
        let kept: Vec<&str> = kept.iter().map(|value| value.as_deref().unwrap_or("NULL")).collect();
        assert_eq!(kept, ["exec_1", "running", "evt_1", "node", "l", "[]"]);
        assert!(connection.execute(queued, ["exec_2", "queued"]).is_err(), "one queued or running per hook");
        connection.execute("UPDATE executions SET status = 'succeeded' WHERE id = 'exec_1'", []).unwrap();
        connection.execute(queued, ["exec_2", "queued"]).unwrap();
        assert!(connection.execute(queued, ["exec_3", "waiting"]).is_err(), "the CHECK still refuses");
        assert!(!builds_ephemeral_table(&connection, queued));
    }
}
