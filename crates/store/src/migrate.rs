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
/// From version 3 on the SQL is the same on both (`migrations/shared/`: text columns,
/// standard DDL).
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
];

pub(crate) fn migrate_sqlite(connection: &mut Connection) -> Result<(), StoreError> {
    let fail = |error: rusqlite::Error| StoreError::Migration(error.to_string());
    connection
        .execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
        )
        .map_err(fail)?;
    for (version, sql) in SQLITE_OWN.iter().chain(SHARED) {
        let transaction = connection.transaction().map_err(fail)?;
        let applied: bool = transaction
            .query_row("SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?1)", [version], |row| {
                row.get(0)
            })
            .map_err(fail)?;
        if !applied {
            transaction.execute_batch(sql).map_err(fail)?;
            transaction
                .execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
                    rusqlite::params![version, chrono::Utc::now().to_rfc3339()],
                )
                .map_err(fail)?;
        }
        transaction.commit().map_err(fail)?;
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
    for (version, sql) in POSTGRES_OWN.iter().chain(SHARED) {
        let applied = transaction
            .query_opt("SELECT 1 FROM schema_migrations WHERE version = $1", &[version])
            .map_err(fail)?
            .is_some();
        if !applied {
            transaction.batch_execute(sql).map_err(fail)?;
            transaction
                .execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                    &[version, &chrono::Utc::now().to_rfc3339()],
                )
                .map_err(fail)?;
        }
    }
    transaction.commit().map_err(fail)
}
