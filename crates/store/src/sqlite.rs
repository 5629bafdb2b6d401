//! The SQLite backend (the embedded default): one connection, WAL. Lists of keys travel as
//! one JSON array parameter (`IN (SELECT value FROM json_each(?))`); writes are prepared
//! statements, row by row, which in-process costs about what a batch would.

use std::path::Path;

use flowstate_sync::{EntityType, NestedKind};
use rusqlite::{Connection, Row, params};
use serde_json::{Map, Value};

use crate::{
    ChangeEvent, StoreError,
    db::{
        AssignmentFilter, DbError, DbResult, DefinitionRow, EntityFilter, Transaction, WRITE_ORDER, WriteScope,
        adjustment_columns, adjustment_owner, adjustment_table, entity_columns, entity_insert, event_json, json_text,
    },
    keys::ApiKeyRow,
    migrate::migrate_sqlite,
    model::table,
    world::{AdjustmentRow, AssignmentRow, Changes, EntityRow, JobRoleRow, SetDelete, SyncStateRow},
};

pub(crate) struct SqliteDb {
    connection: Connection,
    checkpointer: Option<Checkpointer>,
}

impl Drop for SqliteDb {
    fn drop(&mut self) {
        // The commit hook holds the checkpointer's only sender: dropping it closes the
        // channel, and the thread ends. Then `connection`, the last to close, checkpoints what
        // is left and removes the WAL.
        self.connection.commit_hook(None::<fn() -> bool>);
        drop(self.checkpointer.take());
    }
}

/// How many WAL pages (4 KB each) may pile up before a commit copies them into the
/// database file itself. The checkpointer thread normally does that long before; this
/// bounds the WAL if it cannot keep up.
const FOREGROUND_CHECKPOINT_PAGES: u32 = 20_000;

/// How long the checkpointer lets commits accumulate before it copies them: one
/// checkpoint (and one `fsync`) for the several pages of a sync that commit meanwhile.
const CHECKPOINT_DELAY: std::time::Duration = std::time::Duration::from_millis(100);

/// Copies committed WAL pages back into the database file on a thread of its own.
///
/// A checkpoint copies every page a sync wrote a second time and waits for the disk; done
/// by the committing connection (SQLite's default) it took about a fifth of a first sync's
/// time. A `PASSIVE` checkpoint from a second connection runs beside the writer without
/// blocking it (and readers keep reading). It is nudged by the connection's commit hook,
/// so every commit counts, whether of a transaction or of a single statement.
struct Checkpointer {
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the thread; the sender nudges it (one pending nudge is enough: a checkpoint
    /// copies whatever is committed by then). The thread ends when the sender is dropped.
    fn start(path: &Path) -> Result<(Checkpointer, std::sync::mpsc::SyncSender<()>), StoreError> {
        let fail = |error: rusqlite::Error| StoreError::Database(error.to_string());
        let connection = Connection::open(path).map_err(fail)?;
        connection.execute_batch("PRAGMA busy_timeout = 5000;").map_err(fail)?;
        let (nudge, nudged) = std::sync::mpsc::sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                use std::sync::mpsc::RecvTimeoutError;
                while nudged.recv().is_ok() {
                    // Commits arriving meanwhile join this checkpoint.
                    let deadline = std::time::Instant::now() + CHECKPOINT_DELAY;
                    loop {
                        match nudged.recv_timeout(deadline.saturating_duration_since(std::time::Instant::now())) {
                            Ok(()) => {}
                            Err(RecvTimeoutError::Timeout) => break,
                            // The store is closing; its connection checkpoints as it closes.
                            Err(RecvTimeoutError::Disconnected) => return,
                        }
                    }
                    if let Err(error) = connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                        tracing::warn!(%error, "WAL checkpoint failed; the next one copies these pages");
                    }
                }
            })
            .map_err(|error| StoreError::Database(format!("cannot start the checkpoint thread: {error}")))?;
        Ok((Checkpointer { thread: Some(thread) }, nudge))
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl From<rusqlite::Error> for DbError {
    fn from(error: rusqlite::Error) -> DbError {
        match &error {
            rusqlite::Error::SqliteFailure(failure, _) if failure.code == rusqlite::ErrorCode::ConstraintViolation => {
                DbError::Constraint(error.to_string())
            }
            _ => DbError::Other(error.to_string()),
        }
    }
}

impl SqliteDb {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub fn open(path: &Path) -> Result<SqliteDb, StoreError> {
        let fail = |error: rusqlite::Error| StoreError::Database(error.to_string());
        let mut connection = Connection::open(path).map_err(fail)?;
        // temp_store: savepoints' sub-journals stay in memory rather than in a temporary
        // file; cache_size: 64 MB of page cache.
        let journal_mode: String =
            connection.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0)).map_err(fail)?;
        connection
            .execute_batch(&format!(
                "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;
                 PRAGMA temp_store = MEMORY; PRAGMA cache_size = -65536; PRAGMA wal_autocheckpoint = {FOREGROUND_CHECKPOINT_PAGES};"
            ))
            .map_err(fail)?;
        migrate_sqlite(&mut connection)?;
        // An in-memory database has no WAL (and a second connection would not see it).
        let checkpointer = if journal_mode.eq_ignore_ascii_case("wal") {
            let (checkpointer, nudge) = Checkpointer::start(path)?;
            connection.commit_hook(Some(move || {
                let _ = nudge.try_send(());
                false // let the commit go ahead
            }));
            Some(checkpointer)
        } else {
            None
        };
        Ok(SqliteDb { connection, checkpointer })
    }

    /// A second connection to a database [`SqliteDb::open`] has opened, for reading only
    /// (`query_only`: a write through it is an error, never a wait for the write lock). In
    /// WAL mode it reads the last committed state beside the writer's open transaction.
    pub fn open_reader(path: &Path) -> Result<SqliteDb, StoreError> {
        let fail = |error: rusqlite::Error| StoreError::Database(error.to_string());
        let connection = Connection::open(path).map_err(fail)?;
        connection
            .execute_batch(
                "PRAGMA query_only = ON; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA cache_size = -16384;",
            )
            .map_err(fail)?;
        // Reads the schema now, not on the first request this connection serves.
        connection.query_row("SELECT COUNT(*) FROM sqlite_schema", [], |_| Ok(())).map_err(fail)?;
        Ok(SqliteDb { connection, checkpointer: None })
    }

    /// Whether the database runs in WAL mode (where readers need no lock the writer holds).
    pub fn is_wal(&mut self) -> bool {
        self.connection
            .query_row("PRAGMA journal_mode", [], |row| row.get::<_, String>(0))
            .is_ok_and(|mode| mode.eq_ignore_ascii_case("wal"))
    }
}

fn list(ids: &[String]) -> String {
    serde_json::to_string(ids).expect("strings serialize")
}

fn json_map(text: String) -> Map<String, Value> {
    serde_json::from_str(&text).unwrap_or_default()
}

fn entity_type(text: String) -> rusqlite::Result<EntityType> {
    text.parse().map_err(|_| rusqlite::Error::InvalidColumnType(0, text, rusqlite::types::Type::Text))
}

fn entity_row(entity: EntityType, row: &Row<'_>) -> rusqlite::Result<EntityRow> {
    Ok(EntityRow {
        entity,
        id: row.get("id")?,
        external_id: row.get("external_id")?,
        fields: json_map(row.get("fields")?),
        custom: json_map(row.get("custom_attributes")?),
        filled_by_employee: row.get("filled_by_employee_id")?,
        filled_by_contractor: row.get("filled_by_contractor_id")?,
        parent_team_id: row.get("parent_team_id")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
    })
}

const ASSIGNMENT_COLUMNS: &str = "id, external_id, resource_type, resource_id, target_type, target_id, fte, start_date, end_date, source_system, created_at, updated_at";

fn assignment_row(row: &Row<'_>) -> rusqlite::Result<AssignmentRow> {
    Ok(AssignmentRow {
        id: row.get("id")?,
        external_id: row.get("external_id")?,
        resource_type: entity_type(row.get("resource_type")?)?,
        resource_id: row.get("resource_id")?,
        target_type: entity_type(row.get("target_type")?)?,
        target_id: row.get("target_id")?,
        fte: row.get("fte")?,
        start_date: row.get("start_date")?,
        end_date: row.get("end_date")?,
        source_system: row.get("source_system")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
    })
}

impl crate::db::Db for SqliteDb {
    fn org_timezone(&mut self, org: &str) -> DbResult<Option<String>> {
        let mut statement = self.connection.prepare_cached("SELECT timezone FROM organizations WHERE id = ?1")?;
        let mut rows = statement.query([org])?;
        Ok(match rows.next()? {
            Some(row) => Some(row.get(0)?),
            None => None,
        })
    }

    fn insert_org(&mut self, id: &str, name: &str, timezone: &str, currency: &str, created_at: &str) -> DbResult<()> {
        self.connection.execute(
            "INSERT INTO organizations (id, name, timezone, currency, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, name, timezone, currency, created_at],
        )?;
        Ok(())
    }

    fn insert_definition(&mut self, org: &str, definition: &DefinitionRow) -> DbResult<()> {
        self.connection.execute(
            "INSERT INTO custom_attribute_definitions (id, org_id, name, attribute_key, field_type, entity_types, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
            params![
                definition.id,
                org,
                definition.name,
                definition.attribute_key,
                definition.field_type,
                serde_json::to_string(&definition.entity_types).expect("strings serialize"),
                definition.created_at
            ],
        )?;
        Ok(())
    }

    fn definitions(&mut self, org: &str) -> DbResult<Vec<DefinitionRow>> {
        let mut statement = self.connection.prepare_cached(
            "SELECT id, name, attribute_key, field_type, entity_types, created_at FROM custom_attribute_definitions
             WHERE org_id = ?1 AND is_active = 1 ORDER BY attribute_key",
        )?;
        let rows = statement.query_map([org], |row| {
            Ok(DefinitionRow {
                id: row.get("id")?,
                name: row.get("name")?,
                attribute_key: row.get("attribute_key")?,
                field_type: row.get("field_type")?,
                entity_types: serde_json::from_str(&row.get::<_, String>("entity_types")?).unwrap_or_default(),
                created_at: row.get("created_at")?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn sync_states(
        &mut self,
        org: &str,
        source: &str,
        entity: EntityType,
        external_ids: &[String],
    ) -> DbResult<Vec<SyncStateRow>> {
        let mut statement = self.connection.prepare_cached(
            "SELECT external_id, entity_id, fingerprint, last_synced_at FROM sync_state
             WHERE org_id = ?1 AND source_system = ?2 AND entity_type = ?3 AND external_id IN (SELECT value FROM json_each(?4))",
        )?;
        let rows = statement.query_map(params![org, source, entity.as_str(), list(external_ids)], |row| {
            Ok(SyncStateRow {
                external_id: row.get("external_id")?,
                entity_id: row.get("entity_id")?,
                fingerprint: row.get("fingerprint")?,
                last_synced_at: row.get("last_synced_at")?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn entities(&mut self, org: &str, entity: EntityType, filter: EntityFilter<'_>) -> DbResult<Vec<EntityRow>> {
        let (column, keys) = match filter {
            EntityFilter::Ids(keys) => ("id", keys),
            EntityFilter::ExternalIds(keys) => ("external_id", keys),
            EntityFilter::EmailKeys(keys) => ("email_key", keys),
            EntityFilter::FilledBy(EntityType::Employee, keys) => ("filled_by_employee_id", keys),
            EntityFilter::FilledBy(_, keys) => ("filled_by_contractor_id", keys),
            EntityFilter::All => {
                let sql = format!("SELECT {} FROM {} WHERE org_id = ?1", entity_columns(entity), table(entity));
                let mut statement = self.connection.prepare_cached(&sql)?;
                let rows = statement.query_map([org], |row| entity_row(entity, row))?;
                return Ok(rows.collect::<rusqlite::Result<_>>()?);
            }
        };
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {} FROM {} WHERE org_id = ?1 AND {column} IN (SELECT value FROM json_each(?2))",
            entity_columns(entity),
            table(entity)
        );
        let mut statement = self.connection.prepare_cached(&sql)?;
        let rows = statement.query_map(params![org, list(keys)], |row| entity_row(entity, row))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn assignments(&mut self, org: &str, filter: AssignmentFilter<'_>) -> DbResult<Vec<AssignmentRow>> {
        let (column, keys) = match filter {
            AssignmentFilter::Ids(keys) => ("id", keys),
            AssignmentFilter::ExternalIds(keys) => ("external_id", keys),
            AssignmentFilter::Resources(kind, keys) | AssignmentFilter::Targets(kind, keys) => {
                if keys.is_empty() {
                    return Ok(Vec::new());
                }
                // (type, id) matches the indexes on resources and on targets.
                let side = if matches!(filter, AssignmentFilter::Resources(..)) { "resource" } else { "target" };
                let sql = format!(
                    "SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE org_id = ?1 AND {side}_type = ?2 AND {side}_id IN (SELECT value FROM json_each(?3))"
                );
                let mut statement = self.connection.prepare_cached(&sql)?;
                let rows = statement.query_map(params![org, kind.as_str(), list(keys)], assignment_row)?;
                return Ok(rows.collect::<rusqlite::Result<_>>()?);
            }
            AssignmentFilter::All => {
                let sql = format!("SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE org_id = ?1");
                let mut statement = self.connection.prepare_cached(&sql)?;
                let rows = statement.query_map([org], assignment_row)?;
                return Ok(rows.collect::<rusqlite::Result<_>>()?);
            }
        };
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE org_id = ?1 AND {column} IN (SELECT value FROM json_each(?2))"
        );
        let mut statement = self.connection.prepare_cached(&sql)?;
        let rows = statement.query_map(params![org, list(keys)], assignment_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn adjustments(&mut self, org: &str, kind: NestedKind, resource_ids: &[String]) -> DbResult<Vec<AdjustmentRow>> {
        if resource_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {} FROM {} WHERE org_id = ?1 AND {} IN (SELECT value FROM json_each(?2))",
            adjustment_columns(kind),
            adjustment_table(kind),
            adjustment_owner(kind)
        );
        let mut statement = self.connection.prepare_cached(&sql)?;
        let rows = statement.query_map(params![org, list(resource_ids)], |row| {
            Ok(AdjustmentRow {
                kind,
                id: row.get("id")?,
                resource_id: row.get("resource_id")?,
                effective_date: row.get("effective_date")?,
                amount: row.get("amount")?,
                bonus: row.get("bonus")?,
                rate_type: row.get("rate_type")?,
                currency_code: row.get("currency_code")?,
                reason: row.get("reason")?,
                source_system: row.get("source_system")?,
                created_at: row.get("created_at")?,
                updated_at: row.get("updated_at")?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn job_roles(&mut self, org: &str, external_ids: &[String], titles: &[String]) -> DbResult<Vec<JobRoleRow>> {
        let mut statement = self.connection.prepare_cached(
            "SELECT id, external_id, title, created_at, updated_at FROM job_roles WHERE org_id = ?1
             AND (external_id IN (SELECT value FROM json_each(?2)) OR title IN (SELECT value FROM json_each(?3)))",
        )?;
        let rows = statement.query_map(params![org, list(external_ids), list(titles)], |row| {
            Ok(JobRoleRow {
                id: row.get("id")?,
                external_id: row.get("external_id")?,
                title: row.get("title")?,
                created_at: row.get("created_at")?,
                updated_at: row.get("updated_at")?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn change_events(&mut self, org: &str, after_seq: i64, limit: i64) -> DbResult<Vec<ChangeEvent>> {
        let mut statement = self.connection.prepare_cached(
            "SELECT seq, entity_type, entity_id, change_type, before, after, source FROM change_events WHERE org_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
        )?;
        let rows = statement.query_map(params![org, after_seq, limit], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>("entity_type")?,
                row.get::<_, String>("entity_id")?,
                row.get::<_, String>("change_type")?,
                row.get::<_, Option<String>>("before")?,
                row.get::<_, Option<String>>("after")?,
                row.get::<_, String>("source")?,
            ))
        })?;
        rows.map(|row| {
            let (seq, entity_type, entity_id, change_type, before, after, source) = row?;
            ChangeEvent::from_columns(seq, &entity_type, entity_id, &change_type, before, after, source)
        })
        .collect()
    }

    fn org_count(&mut self) -> DbResult<i64> {
        Ok(self.connection.query_row("SELECT COUNT(*) FROM organizations", [], |row| row.get(0))?)
    }

    fn insert_api_key(&mut self, key: &ApiKeyRow) -> DbResult<()> {
        self.connection.execute(
            "INSERT INTO api_keys (id, org_id, name, secret_sha256, scopes, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![key.id, key.org_id, key.name, key.secret_sha256, list(&key.scopes), key.created_at],
        )?;
        Ok(())
    }

    fn api_key(&mut self, id: &str) -> DbResult<Option<ApiKeyRow>> {
        let mut statement = self.connection.prepare_cached(
            "SELECT id, org_id, name, secret_sha256, scopes, created_at, revoked_at FROM api_keys WHERE id = ?1",
        )?;
        let mut rows = statement.query([id])?;
        let Some(row) = rows.next()? else { return Ok(None) };
        Ok(Some(ApiKeyRow {
            id: row.get("id")?,
            org_id: row.get("org_id")?,
            name: row.get("name")?,
            secret_sha256: row.get("secret_sha256")?,
            scopes: serde_json::from_str(&row.get::<_, String>("scopes")?).unwrap_or_default(),
            created_at: row.get("created_at")?,
            revoked_at: row.get("revoked_at")?,
        }))
    }

    fn revoke_api_key(&mut self, org: &str, id: &str, at: &str) -> DbResult<bool> {
        let changed = self.connection.execute(
            "UPDATE api_keys SET revoked_at = ?3 WHERE org_id = ?1 AND id = ?2 AND revoked_at IS NULL",
            params![org, id, at],
        )?;
        Ok(changed == 1)
    }

    fn execute_text(&mut self, sql: &str, params: &[Option<&str>]) -> DbResult<u64> {
        let sql = positional(sql);
        let mut statement = self.connection.prepare_cached(&sql)?;
        Ok(statement.execute(rusqlite::params_from_iter(params.iter()))? as u64)
    }

    fn each_text_row(
        &mut self,
        sql: &str,
        params: &[Option<&str>],
        visit: &mut dyn FnMut(&[Option<&str>]),
    ) -> DbResult<()> {
        let sql = positional(sql);
        let mut statement = self.connection.prepare_cached(&sql)?;
        let columns = statement.column_count();
        assert!(columns <= crate::db::MAX_TEXT_COLUMNS, "each_text_row reads at most MAX_TEXT_COLUMNS columns");
        let mut rows = statement.query(rusqlite::params_from_iter(params.iter()))?;
        // Numbers are written here (and text that is not UTF-8, made so), then the row's cells
        // are pointed at this or at the row's own text.
        enum Cell<'row> {
            Null,
            Text(&'row str),
            Written(usize, usize),
        }
        let mut written = String::new();
        let mut floats = ryu::Buffer::new();
        while let Some(row) = rows.next()? {
            written.clear();
            let mut spans = [const { Cell::Null }; crate::db::MAX_TEXT_COLUMNS];
            for (index, span) in spans.iter_mut().enumerate().take(columns) {
                let start = written.len();
                match row.get_ref(index)? {
                    rusqlite::types::ValueRef::Null => continue,
                    rusqlite::types::ValueRef::Integer(number) => {
                        std::fmt::Write::write_fmt(&mut written, format_args!("{number}")).expect("to a String")
                    }
                    rusqlite::types::ValueRef::Real(number) => write_real(&mut written, &mut floats, number),
                    rusqlite::types::ValueRef::Text(text) | rusqlite::types::ValueRef::Blob(text) => {
                        match std::str::from_utf8(text) {
                            Ok(text) => {
                                *span = Cell::Text(text);
                                continue;
                            }
                            Err(_) => written.push_str(&String::from_utf8_lossy(text)),
                        }
                    }
                }
                *span = Cell::Written(start, written.len());
            }
            let mut cells = [None; crate::db::MAX_TEXT_COLUMNS];
            for (cell, span) in cells.iter_mut().zip(&spans).take(columns) {
                *cell = match span {
                    Cell::Null => None,
                    Cell::Text(text) => Some(*text),
                    Cell::Written(start, end) => Some(&written[*start..*end]),
                };
            }
            visit(&cells[..columns]);
        }
        Ok(())
    }

    fn lock_row(&mut self, _table: &str, _org: &str, _id: &str) -> DbResult<()> {
        Ok(()) // BEGIN IMMEDIATE holds the write lock
    }

    fn number_text(&self, column: &str) -> String {
        column.to_string() // `query_text` writes numbers itself
    }

    fn byte_length(&self, column: &str) -> String {
        format!("length(CAST({column} AS BLOB))")
    }

    fn json_field(&self, column: &str, field: &str) -> String {
        format!("json_extract({column}, '$.{field}')")
    }

    fn json_number(&self, column: &str, field: &str) -> String {
        let path = format!("'$.{field}'");
        format!(
            "(CASE WHEN json_type({column}, {path}) IN ('integer', 'real') THEN json_extract({column}, {path}) END)"
        )
    }

    fn bytewise(&self) -> &'static str {
        ""
    }

    fn like_ascii_lowercase(&self, column: &str, pattern: &str) -> String {
        // SQLite's LIKE folds the case of ASCII letters, and only theirs.
        format!("{column} LIKE {pattern} ESCAPE '!'")
    }

    fn run(&mut self, statement: Transaction) -> DbResult<()> {
        // A deferred transaction that reads first and writes later cannot wait for another
        // process's writer: SQLite answers "database is locked" at once instead of using the
        // busy timeout. Every transaction here writes, so it takes the write lock up front.
        // A snapshot is a deferred transaction: its first read fixes what it sees.
        let sql = match statement {
            Transaction::Begin => "BEGIN IMMEDIATE",
            Transaction::BeginSnapshot => "BEGIN DEFERRED",
            other => other.sql(),
        };
        self.connection.execute_batch(sql)?;
        Ok(())
    }

    fn write(&mut self, scope: &WriteScope<'_>, changes: &Changes<'_>) -> DbResult<()> {
        let connection = &self.connection;
        let org = scope.org;
        for delete in changes.set_deletes {
            match delete {
                SetDelete::AssignmentsToTarget(target_type, id) => connection
                    .prepare_cached(
                        "DELETE FROM assignments WHERE org_id = ?1 AND target_type = ?2 AND target_id = ?3",
                    )?
                    .execute(params![org, target_type.as_str(), id])?,
                SetDelete::SyncStatesOf(entity, id) => connection
                    .prepare_cached("DELETE FROM sync_state WHERE org_id = ?1 AND entity_type = ?2 AND entity_id = ?3")?
                    .execute(params![org, entity.as_str(), id])?,
            };
        }
        for (id, _) in changes.assignments.iter().filter(|(_, row)| row.is_none()) {
            connection
                .prepare_cached("DELETE FROM assignments WHERE org_id = ?1 AND id = ?2")?
                .execute(params![org, id])?;
        }
        for (kind, id, _) in changes.adjustments.iter().filter(|(_, _, row)| row.is_none()) {
            let sql = format!("DELETE FROM {} WHERE org_id = ?1 AND id = ?2", adjustment_table(*kind));
            connection.prepare_cached(&sql)?.execute(params![org, id])?;
        }
        for (external_id, _) in changes.sync_states.iter().filter(|(_, row)| row.is_none()) {
            connection
                .prepare_cached(
                    "DELETE FROM sync_state WHERE org_id = ?1 AND source_system = ?2 AND entity_type = ?3 AND external_id = ?4",
                )?
                .execute(params![org, scope.source, scope.entity.as_str(), external_id])?;
        }
        for (entity, id, _) in changes.entities.iter().filter(|(_, _, row)| row.is_none()) {
            let sql = format!("DELETE FROM {} WHERE org_id = ?1 AND id = ?2", table(*entity));
            connection.prepare_cached(&sql)?.execute(params![org, id])?;
        }
        for role in &changes.job_roles {
            connection
                .prepare_cached(
                    "INSERT INTO job_roles (id, org_id, external_id, title, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (id) DO UPDATE SET title = excluded.title, updated_at = excluded.updated_at",
                )?
                .execute(params![role.id, org, role.external_id, role.title, role.created_at, role.updated_at])?;
        }
        for entity in WRITE_ORDER {
            let sql = entity_insert(entity, true, |numbers| {
                let values: Vec<String> = numbers.iter().map(|n| format!("?{n}")).collect();
                format!("VALUES ({})", values.join(", "))
            });
            let mut statement = connection.prepare_cached(&sql)?;
            for (_, _, row) in changes.entities.iter().filter(|(kind, _, _)| *kind == entity) {
                let Some(row) = row else { continue };
                statement.execute(params![
                    row.id,
                    org,
                    row.external_id,
                    json_text(&row.fields),
                    json_text(&row.custom),
                    row.email_key(),
                    row.filled_by_employee,
                    row.filled_by_contractor,
                    row.parent_team_id,
                    row.created_at,
                    row.updated_at,
                ])?;
            }
        }
        let mut statement = connection.prepare_cached(
            "INSERT INTO assignments (id, org_id, external_id, resource_type, resource_id, target_type, target_id, fte, start_date, end_date, source_system, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
             ON CONFLICT (id) DO UPDATE SET resource_type = excluded.resource_type, resource_id = excluded.resource_id,
               target_type = excluded.target_type, target_id = excluded.target_id, fte = excluded.fte, start_date = excluded.start_date,
               end_date = excluded.end_date, updated_at = excluded.updated_at",
        )?;
        for row in changes.assignments.iter().filter_map(|(_, row)| *row) {
            statement.execute(params![
                row.id,
                org,
                row.external_id,
                row.resource_type.as_str(),
                row.resource_id,
                row.target_type.as_str(),
                row.target_id,
                row.fte,
                row.start_date,
                row.end_date,
                row.source_system,
                row.created_at,
                row.updated_at
            ])?;
        }
        for (kind, _, row) in &changes.adjustments {
            let Some(row) = row else { continue };
            // Adjustments are never updated in place: a changed one is a new row.
            let sql = if *kind == NestedKind::SalaryAdjustments {
                "INSERT INTO salary_adjustments (id, org_id, employee_id, effective_date, salary, bonus, currency_code, reason, source_system, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?8, ?9, ?10, ?11, ?12)"
            } else {
                "INSERT INTO rate_adjustments (id, org_id, contractor_id, effective_date, rate, rate_type, currency_code, reason, source_system, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?7, ?8, ?9, ?10, ?11, ?12)"
            };
            connection.prepare_cached(sql)?.execute(params![
                row.id,
                org,
                row.resource_id,
                row.effective_date,
                row.amount,
                row.bonus,
                row.rate_type,
                row.currency_code,
                row.reason,
                row.source_system,
                row.created_at,
                row.updated_at
            ])?;
        }
        let mut statement = connection.prepare_cached(
            "INSERT INTO sync_state (org_id, source_system, entity_type, external_id, entity_id, fingerprint, last_synced_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (org_id, source_system, entity_type, external_id)
             DO UPDATE SET entity_id = excluded.entity_id, fingerprint = excluded.fingerprint, last_synced_at = excluded.last_synced_at",
        )?;
        for row in changes.sync_states.iter().filter_map(|(_, row)| *row) {
            statement.execute(params![
                org,
                scope.source,
                scope.entity.as_str(),
                row.external_id,
                row.entity_id,
                row.fingerprint,
                row.last_synced_at
            ])?;
        }
        if !changes.touched.is_empty() {
            connection
                .prepare_cached(
                    "UPDATE sync_state SET last_synced_at = ?1
                     WHERE org_id = ?2 AND source_system = ?3 AND entity_type = ?4 AND external_id IN (SELECT value FROM json_each(?5))",
                )?
                .execute(params![scope.now, org, scope.source, scope.entity.as_str(), list(changes.touched)])?;
        }
        let source = scope.event_source;
        let mut statement = connection.prepare_cached(
            "INSERT INTO change_events (org_id, entity_type, entity_id, change_type, before, after, source, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for event in changes.events {
            statement.execute(params![
                org,
                event.entity_type.as_str(),
                event.entity_id,
                event.change_type.as_str(),
                event_json(&event.before),
                event_json(&event.after),
                source,
                scope.now
            ])?;
        }
        Ok(())
    }
}

/// `$1`-style parameters (the SQL both backends share) as SQLite's `?1`; a `$` not followed
/// by a digit (a JSON path such as `'$.endDate'`) stays.
fn positional(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

/// A real number as `Display` writes it (the shortest spelling that reads back as the same
/// number, never in exponent form: `0.6`, `130500`), by `ryu`, which is faster.
fn write_real(text: &mut String, buffer: &mut ryu::Buffer, number: f64) {
    let spelled = buffer.format(number);
    if spelled.contains(['e', 'E']) {
        text.push_str(&number.to_string());
    } else {
        text.push_str(spelled.strip_suffix(".0").unwrap_or(spelled));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn parameters_become_positional_and_json_paths_stay() {
        assert_eq!(
            super::positional("SELECT json_extract(f, '$.endDate') FROM t WHERE a = $1 AND b = $12"),
            "SELECT json_extract(f, '$.endDate') FROM t WHERE a = ?1 AND b = ?12"
        );
    }
    #[test]
    fn reals_are_spelled_as_display_spells_them() {
        let mut buffer = ryu::Buffer::new();
        for number in
            [0.6, 130500.0, 0.1 + 0.2, 1e-7, 1e16, 1e21, -2.5, 0.0, -0.0, 340.605, f64::MAX, f64::INFINITY, f64::NAN]
        {
            let mut text = String::new();
            super::write_real(&mut text, &mut buffer, number);
            assert_eq!(text, number.to_string(), "{number:?}");
        }
    }
}
