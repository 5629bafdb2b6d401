//! Versioned migrations, applied in order on open; each runs once, in a transaction.

use rusqlite::Connection;

use crate::StoreError;

const SQLITE: &[(i64, &str)] = &[(1, include_str!("../migrations/sqlite/0001_workforce.sql"))];

pub(crate) fn migrate_sqlite(connection: &mut Connection) -> Result<(), StoreError> {
    let fail = |error: rusqlite::Error| StoreError::Migration(error.to_string());
    connection
        .execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
        )
        .map_err(fail)?;
    for (version, sql) in SQLITE {
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
