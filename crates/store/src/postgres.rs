//! The PostgreSQL backend (for installations that outgrow one machine). Every statement is a
//! round trip, so a page is read with a dozen `= ANY($n)` queries and written with one
//! statement per table, its rows passed as arrays and spread by `UNNEST`. Statements are
//! prepared once per connection.

use std::collections::HashMap;

use flowstate_sync::{EntityType, NestedKind};
use postgres::{Client, NoTls, Row, Statement, types::ToSql};
use serde_json::{Map, Value};

use crate::{
    ChangeEvent, StoreError,
    db::{
        AssignmentFilter, DbError, DbResult, DefinitionRow, EntityFilter, Transaction, WRITE_ORDER, WriteScope,
        adjustment_columns, adjustment_owner, adjustment_table, entity_columns, entity_insert, event_json, json_text,
    },
    keys::ApiKeyRow,
    migrate::migrate_postgres,
    model::table,
    world::{AdjustmentRow, AssignmentRow, Changes, EntityRow, JobRoleRow, SetDelete, SyncStateRow},
};

pub(crate) struct PostgresDb {
    client: Client,
    statements: HashMap<String, Statement>,
    statistics: Statistics,
}

/// A table is analyzed again once it has taken, through this connection, as many rows as the
/// planner believed it held, and never for fewer than this many.
const ANALYZE_AFTER_ROWS: u64 = 1_000;

/// Keeps the planner's statistics of the tables a sync fills in step with their size.
///
/// PostgreSQL plans the loads' `key = ANY($n)` lookups from table statistics, which
/// autovacuum refreshes once a minute at best (and never where it is off, as on the machine
/// these numbers come from). A table filled faster than that still looks nearly empty to the
/// planner: it then reads the whole organisation's range of `sync_state` and filters it,
/// for every page. Over a first sync of 100,000 employees, loading grew from 4 ms to 54 ms a
/// page. So, after a commit, each table that has taken as many rows as the planner believed
/// it held (its `reltuples`, read when this connection first wrote to it and after each
/// ANALYZE), and at least [`ANALYZE_AFTER_ROWS`], is analyzed again: a handful of ANALYZEs
/// over an import, each at twice the size of the one before.
#[derive(Default)]
struct Statistics {
    /// Rows written per table by the open transaction.
    pending: HashMap<&'static str, u64>,
    /// Per table: rows written (committed) through this connection since the planner's
    /// size was read, and that size.
    tables: HashMap<&'static str, (u64, u64)>,
}

impl Statistics {
    fn wrote(&mut self, table: &'static str, rows: usize) {
        if rows > 0 {
            *self.pending.entry(table).or_default() += rows as u64;
        }
    }

    /// The transaction committed: counts its rows. `size` gives the planner's size of a
    /// table seen for the first time.
    fn committed(&mut self, mut size: impl FnMut(&str) -> u64) {
        for (table, rows) in self.pending.drain() {
            self.tables.entry(table).or_insert_with(|| (0, size(table))).0 += rows;
        }
    }

    /// The tables due for an ANALYZE.
    fn due(&self) -> Vec<&'static str> {
        self.tables
            .iter()
            .filter(|(_, (written, size))| *written >= ANALYZE_AFTER_ROWS.max(*size))
            .map(|(table, _)| *table)
            .collect()
    }

    fn analyzed(&mut self, table: &'static str, size: u64) {
        self.tables.insert(table, (0, size));
    }
}

impl From<postgres::Error> for DbError {
    fn from(error: postgres::Error) -> DbError {
        // Class 23: integrity constraint violations (unique, foreign key, check, not null).
        let message = match error.as_db_error() {
            Some(db) => format!("{}: {}", db.severity(), db.message()),
            None => error.to_string(),
        };
        match error.code() {
            Some(code) if code.code().starts_with("23") => DbError::Constraint(message),
            _ => DbError::Other(message),
        }
    }
}

type Params<'a> = [&'a (dyn ToSql + Sync)];

const ASSIGNMENT_COLUMNS: &str = "id, external_id, resource_type, resource_id, target_type, target_id, fte, start_date, end_date, source_system, created_at, updated_at";

impl PostgresDb {
    /// Connects (`postgres://user[:password]@host[:port]/database[?options=…]`) and applies
    /// pending migrations.
    pub fn connect(url: &str) -> Result<PostgresDb, StoreError> {
        let mut db = PostgresDb::session(url)?;
        migrate_postgres(&mut db.client)?;
        Ok(db)
    }

    /// Connects and sets the session up, without migrating (a pool's further connections:
    /// the first one migrated).
    pub fn session(url: &str) -> Result<PostgresDb, StoreError> {
        let (driver_url, mode, root) = crate::pg_tls::parse(url)?;
        let connected = match mode {
            crate::pg_tls::SslMode::Disable => Client::connect(&driver_url, NoTls),
            mode => Client::connect(&driver_url, crate::pg_tls::connector(&mode, root.as_deref())?),
        };
        let mut client = connected.map_err(|error| {
            // The URL may carry a password: say where, not how.
            StoreError::Database(format!("connecting to PostgreSQL at {}: {error}", redact_url(url)))
        })?;
        let fail = |error: postgres::Error| StoreError::Database(error.to_string());
        // A generic plan cannot see how many keys an `= ANY($n)` list holds and, on tables
        // whose statistics lag a sync that is filling them, picks sequential scans: plan each
        // execution for its values.
        client.batch_execute("SET plan_cache_mode = force_custom_plan").map_err(fail)?;
        // A page's loads probe an index once per key (1,000 of them). At the default
        // random_page_cost of 4, a cost meant for spinning disks, PostgreSQL reads a table of
        // fewer than ~50,000 rows whole instead: 6–8 ms a lookup against 1–1.5 ms, measured.
        // Where an operator has set it (server, database, role or connection) it stays.
        let source: String = client
            .query_one("SELECT source FROM pg_settings WHERE name = 'random_page_cost'", &[])
            .map_err(fail)?
            .get(0);
        if source == "default" {
            client.batch_execute("SET random_page_cost = 1.1").map_err(fail)?;
        }
        Ok(PostgresDb { client, statements: HashMap::new(), statistics: Statistics::default() })
    }

    fn statement(&mut self, sql: &str) -> DbResult<Statement> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql)?;
        self.statements.insert(sql.to_string(), statement.clone());
        Ok(statement)
    }

    fn query(&mut self, sql: &str, params: &Params<'_>) -> DbResult<Vec<Row>> {
        let statement = self.statement(sql)?;
        Ok(self.client.query(&statement, params)?)
    }

    fn execute(&mut self, sql: &str, params: &Params<'_>) -> DbResult<u64> {
        let statement = self.statement(sql)?;
        Ok(self.client.execute(&statement, params)?)
    }

    /// ANALYZEs the tables [`Statistics`] finds due. A failure is logged, not returned: the
    /// page is committed, and autovacuum may still do it.
    fn refresh_statistics(&mut self) {
        /// The planner's idea of a table's size (0 where it has none).
        fn believed(client: &mut Client, table: &str) -> Result<u64, postgres::Error> {
            let row =
                client.query_one("SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass($1)", &[&table])?;
            // -1: never analyzed.
            Ok(row.get::<_, i64>(0).max(0) as u64)
        }
        let client = &mut self.client;
        self.statistics.committed(|table| believed(client, table).unwrap_or(0));
        for table in self.statistics.due() {
            let analyzed = client.batch_execute(&format!("ANALYZE {table}")).and_then(|()| believed(client, table));
            match analyzed {
                Ok(size) => {
                    tracing::debug!(table, rows = size, "analyzed");
                    self.statistics.analyzed(table, size);
                }
                Err(error) => {
                    tracing::warn!(table, %error, "ANALYZE failed; the planner keeps the statistics it has");
                    self.statistics.analyzed(table, 0);
                }
            }
        }
    }

    /// One statement for a table's rows: new ones inserted, stored ones (`upsert`) updated.
    fn put_entities(&mut self, org: &str, entity: EntityType, rows: &[&EntityRow], upsert: bool) -> DbResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let ids: Vec<&str> = rows.iter().map(|row| row.id.as_str()).collect();
        let external_ids: Vec<Option<&str>> = rows.iter().map(|row| row.external_id.as_deref()).collect();
        let fields: Vec<String> = rows.iter().map(|row| json_text(&row.fields)).collect();
        let custom: Vec<String> = rows.iter().map(|row| json_text(&row.custom)).collect();
        let emails: Vec<Option<String>> = rows.iter().map(|row| row.email_key()).collect();
        let by_employee: Vec<Option<&str>> = rows.iter().map(|row| row.filled_by_employee.as_deref()).collect();
        let by_contractor: Vec<Option<&str>> = rows.iter().map(|row| row.filled_by_contractor.as_deref()).collect();
        let parents: Vec<Option<&str>> = rows.iter().map(|row| row.parent_team_id.as_deref()).collect();
        let created: Vec<&str> = rows.iter().map(|row| row.created_at.as_str()).collect();
        let updated: Vec<&str> = rows.iter().map(|row| row.updated_at.as_str()).collect();
        // Value 2 is the org ($1); the others come from the arrays $2…$11 as t.c1…t.c11.
        let sql = entity_insert(entity, upsert, |numbers| {
            let values: Vec<String> =
                numbers.iter().map(|n| if *n == 2 { "$1".to_string() } else { format!("t.c{n}") }).collect();
            format!(
                "SELECT {} FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
                 AS t(c1, c3, c4, c5, c6, c7, c8, c9, c10, c11)",
                values.join(", ")
            )
        });
        self.execute(
            &sql,
            &[
                &org,
                &ids,
                &external_ids,
                &fields,
                &custom,
                &emails,
                &by_employee,
                &by_contractor,
                &parents,
                &created,
                &updated,
            ],
        )?;
        Ok(())
    }

    /// New rows by binary `COPY`, the fastest way in.
    fn copy_assignments(&mut self, org: &str, rows: &[&AssignmentRow]) -> DbResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        use postgres::{binary_copy::BinaryCopyInWriter, types::Type};
        let sink = self.client.copy_in(
            "COPY assignments (id, org_id, external_id, resource_type, resource_id, target_type, target_id, fte, start_date, end_date, source_system, created_at, updated_at) FROM STDIN BINARY",
        )?;
        let types = [
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::FLOAT8,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
        ];
        let mut writer = BinaryCopyInWriter::new(sink, &types);
        for row in rows {
            writer.write(&[
                &row.id,
                &org,
                &row.external_id,
                &row.resource_type.as_str(),
                &row.resource_id,
                &row.target_type.as_str(),
                &row.target_id,
                &row.fte,
                &row.start_date,
                &row.end_date,
                &row.source_system,
                &row.created_at,
                &row.updated_at,
            ])?;
        }
        writer.finish()?;
        Ok(())
    }

    /// Rows that were stored: an upsert by id (new ones go by `COPY`).
    fn upsert_assignments(&mut self, org: &str, rows: &[&AssignmentRow]) -> DbResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let ids: Vec<&str> = rows.iter().map(|row| row.id.as_str()).collect();
        let external_ids: Vec<Option<&str>> = rows.iter().map(|row| row.external_id.as_deref()).collect();
        let resource_types: Vec<&str> = rows.iter().map(|row| row.resource_type.as_str()).collect();
        let resource_ids: Vec<&str> = rows.iter().map(|row| row.resource_id.as_str()).collect();
        let target_types: Vec<&str> = rows.iter().map(|row| row.target_type.as_str()).collect();
        let target_ids: Vec<&str> = rows.iter().map(|row| row.target_id.as_str()).collect();
        let fte: Vec<f64> = rows.iter().map(|row| row.fte).collect();
        let starts: Vec<&str> = rows.iter().map(|row| row.start_date.as_str()).collect();
        let ends: Vec<Option<&str>> = rows.iter().map(|row| row.end_date.as_deref()).collect();
        let sources: Vec<Option<&str>> = rows.iter().map(|row| row.source_system.as_deref()).collect();
        let created: Vec<&str> = rows.iter().map(|row| row.created_at.as_str()).collect();
        let updated: Vec<&str> = rows.iter().map(|row| row.updated_at.as_str()).collect();
        const INSERT: &str = "INSERT INTO assignments (id, org_id, external_id, resource_type, resource_id, target_type, target_id, fte, start_date, end_date, source_system, created_at, updated_at)
             SELECT t.id, $1, t.external_id, t.resource_type, t.resource_id, t.target_type, t.target_id, t.fte, t.start_date, t.end_date, t.source_system, t.created_at, t.updated_at
             FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::float8[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[])
             AS t(id, external_id, resource_type, resource_id, target_type, target_id, fte, start_date, end_date, source_system, created_at, updated_at)";
        let sql = format!(
                "{INSERT} ON CONFLICT (id) DO UPDATE SET resource_type = excluded.resource_type, resource_id = excluded.resource_id,
                   target_type = excluded.target_type, target_id = excluded.target_id, fte = excluded.fte, start_date = excluded.start_date,
                   end_date = excluded.end_date, updated_at = excluded.updated_at"
        );
        self.execute(
            &sql,
            &[
                &org,
                &ids,
                &external_ids,
                &resource_types,
                &resource_ids,
                &target_types,
                &target_ids,
                &fte,
                &starts,
                &ends,
                &sources,
                &created,
                &updated,
            ],
        )?;
        Ok(())
    }
}

/// The URL without its password.
pub(crate) fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.find(':') {
                Some(colon) => format!("{}{}:***{}", &url[..scheme + 3], &credentials[..colon], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

fn json_map(text: String) -> Map<String, Value> {
    serde_json::from_str(&text).unwrap_or_default()
}

fn entity_type(text: &str) -> DbResult<EntityType> {
    text.parse().map_err(|error: flowstate_sync::UnknownEntityType| DbError::Other(error.to_string()))
}

fn entity_row(entity: EntityType, row: &Row) -> EntityRow {
    EntityRow {
        entity,
        id: row.get("id"),
        external_id: row.get("external_id"),
        fields: json_map(row.get("fields")),
        custom: json_map(row.get("custom_attributes")),
        filled_by_employee: row.get("filled_by_employee_id"),
        filled_by_contractor: row.get("filled_by_contractor_id"),
        parent_team_id: row.get("parent_team_id"),
        created_at: row.get("created_at"),
        updated_at: row.get("updated_at"),
    }
}

fn assignment_row(row: &Row) -> DbResult<AssignmentRow> {
    Ok(AssignmentRow {
        id: row.get("id"),
        external_id: row.get("external_id"),
        resource_type: entity_type(row.get("resource_type"))?,
        resource_id: row.get("resource_id"),
        target_type: entity_type(row.get("target_type"))?,
        target_id: row.get("target_id"),
        fte: row.get("fte"),
        start_date: row.get("start_date"),
        end_date: row.get("end_date"),
        source_system: row.get("source_system"),
        created_at: row.get("created_at"),
        updated_at: row.get("updated_at"),
    })
}

impl crate::db::Db for PostgresDb {
    fn is_broken(&self) -> bool {
        self.client.is_closed()
    }

    fn org_timezone(&mut self, org: &str) -> DbResult<Option<String>> {
        let rows = self.query("SELECT timezone FROM organizations WHERE id = $1", &[&org])?;
        Ok(rows.first().map(|row| row.get(0)))
    }

    fn insert_org(&mut self, id: &str, name: &str, timezone: &str, currency: &str, created_at: &str) -> DbResult<()> {
        self.execute(
            "INSERT INTO organizations (id, name, timezone, currency, created_at) VALUES ($1, $2, $3, $4, $5)",
            &[&id, &name, &timezone, &currency, &created_at],
        )?;
        Ok(())
    }

    fn insert_definition(&mut self, org: &str, definition: &DefinitionRow) -> DbResult<()> {
        let entity_types = serde_json::to_string(&definition.entity_types).expect("strings serialize");
        self.execute(
            "INSERT INTO custom_attribute_definitions (id, org_id, name, attribute_key, field_type, entity_types, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
            &[
                &definition.id,
                &org,
                &definition.name,
                &definition.attribute_key,
                &definition.field_type,
                &entity_types,
                &definition.created_at,
            ],
        )?;
        Ok(())
    }

    fn definitions(&mut self, org: &str) -> DbResult<Vec<DefinitionRow>> {
        let rows = self.query(
            "SELECT id, name, attribute_key, field_type, entity_types, created_at FROM custom_attribute_definitions
             WHERE org_id = $1 AND is_active ORDER BY attribute_key",
            &[&org],
        )?;
        Ok(rows
            .iter()
            .map(|row| DefinitionRow {
                id: row.get("id"),
                name: row.get("name"),
                attribute_key: row.get("attribute_key"),
                field_type: row.get("field_type"),
                entity_types: serde_json::from_str(row.get("entity_types")).unwrap_or_default(),
                created_at: row.get("created_at"),
            })
            .collect())
    }

    fn sync_states(
        &mut self,
        org: &str,
        source: &str,
        entity: EntityType,
        external_ids: &[String],
    ) -> DbResult<Vec<SyncStateRow>> {
        let rows = self.query(
            "SELECT external_id, entity_id, fingerprint, last_synced_at FROM sync_state
             WHERE org_id = $1 AND source_system = $2 AND entity_type = $3 AND external_id = ANY($4)",
            &[&org, &source, &entity.as_str(), &external_ids],
        )?;
        Ok(rows
            .iter()
            .map(|row| SyncStateRow {
                external_id: row.get("external_id"),
                entity_id: row.get("entity_id"),
                fingerprint: row.get("fingerprint"),
                last_synced_at: row.get("last_synced_at"),
            })
            .collect())
    }

    fn entities(&mut self, org: &str, entity: EntityType, filter: EntityFilter<'_>) -> DbResult<Vec<EntityRow>> {
        let columns = entity_columns(entity);
        let (column, keys) = match filter {
            EntityFilter::Ids(keys) => ("id", keys),
            EntityFilter::ExternalIds(keys) => ("external_id", keys),
            EntityFilter::EmailKeys(keys) => ("email_key", keys),
            EntityFilter::FilledBy(EntityType::Employee, keys) => ("filled_by_employee_id", keys),
            EntityFilter::FilledBy(_, keys) => ("filled_by_contractor_id", keys),
            EntityFilter::All => {
                let sql = format!("SELECT {columns} FROM {} WHERE org_id = $1", table(entity));
                let rows = self.query(&sql, &[&org])?;
                return Ok(rows.iter().map(|row| entity_row(entity, row)).collect());
            }
        };
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!("SELECT {columns} FROM {} WHERE org_id = $1 AND {column} = ANY($2)", table(entity));
        let rows = self.query(&sql, &[&org, &keys])?;
        Ok(rows.iter().map(|row| entity_row(entity, row)).collect())
    }

    fn assignments(&mut self, org: &str, filter: AssignmentFilter<'_>) -> DbResult<Vec<AssignmentRow>> {
        let rows = match filter {
            AssignmentFilter::Ids(keys)
            | AssignmentFilter::ExternalIds(keys)
            | AssignmentFilter::Resources(_, keys)
            | AssignmentFilter::Targets(_, keys)
                if keys.is_empty() =>
            {
                return Ok(Vec::new());
            }
            AssignmentFilter::Ids(keys) => self.query(
                &format!("SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE org_id = $1 AND id = ANY($2)"),
                &[&org, &keys],
            )?,
            AssignmentFilter::ExternalIds(keys) => self.query(
                &format!("SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE org_id = $1 AND external_id = ANY($2)"),
                &[&org, &keys],
            )?,
            AssignmentFilter::Resources(resource_type, keys) => self.query(
                &format!(
                    "SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE org_id = $1 AND resource_type = $2 AND resource_id = ANY($3)"
                ),
                &[&org, &resource_type.as_str(), &keys],
            )?,
            AssignmentFilter::Targets(target_type, keys) => self.query(
                &format!(
                    "SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE org_id = $1 AND target_type = $2 AND target_id = ANY($3)"
                ),
                &[&org, &target_type.as_str(), &keys],
            )?,
            AssignmentFilter::All => {
                self.query(&format!("SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE org_id = $1"), &[&org])?
            }
        };
        rows.iter().map(assignment_row).collect()
    }

    fn adjustments(&mut self, org: &str, kind: NestedKind, resource_ids: &[String]) -> DbResult<Vec<AdjustmentRow>> {
        if resource_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {} FROM {} WHERE org_id = $1 AND {} = ANY($2)",
            adjustment_columns(kind),
            adjustment_table(kind),
            adjustment_owner(kind)
        );
        let rows = self.query(&sql, &[&org, &resource_ids])?;
        Ok(rows
            .iter()
            .map(|row| AdjustmentRow {
                kind,
                id: row.get("id"),
                resource_id: row.get("resource_id"),
                effective_date: row.get("effective_date"),
                amount: row.get("amount"),
                bonus: row.get("bonus"),
                rate_type: row.get("rate_type"),
                currency_code: row.get("currency_code"),
                reason: row.get("reason"),
                source_system: row.get("source_system"),
                created_at: row.get("created_at"),
                updated_at: row.get("updated_at"),
            })
            .collect())
    }

    fn job_roles(&mut self, org: &str, external_ids: &[String], titles: &[String]) -> DbResult<Vec<JobRoleRow>> {
        let rows = self.query(
            "SELECT id, external_id, title, created_at, updated_at FROM job_roles
             WHERE org_id = $1 AND (external_id = ANY($2) OR title = ANY($3))",
            &[&org, &external_ids, &titles],
        )?;
        Ok(rows
            .iter()
            .map(|row| JobRoleRow {
                id: row.get("id"),
                external_id: row.get("external_id"),
                title: row.get("title"),
                created_at: row.get("created_at"),
                updated_at: row.get("updated_at"),
            })
            .collect())
    }

    fn change_events(&mut self, org: &str, after_seq: i64, limit: i64) -> DbResult<Vec<ChangeEvent>> {
        let rows = self.query(
            "SELECT seq, entity_type, entity_id, change_type, before, after, source FROM change_events
             WHERE org_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            &[&org, &after_seq, &limit],
        )?;
        rows.iter()
            .map(|row| {
                let (entity_type, change_type): (String, String) = (row.get("entity_type"), row.get("change_type"));
                ChangeEvent::from_columns(
                    row.get("seq"),
                    &entity_type,
                    row.get("entity_id"),
                    &change_type,
                    row.get("before"),
                    row.get("after"),
                    row.get("source"),
                )
            })
            .collect()
    }

    fn org_count(&mut self) -> DbResult<i64> {
        let rows = self.query("SELECT COUNT(*) FROM organizations", &[])?;
        Ok(rows.first().map_or(0, |row| row.get(0)))
    }

    fn insert_api_key(&mut self, key: &ApiKeyRow) -> DbResult<()> {
        let scopes = serde_json::to_string(&key.scopes).expect("strings serialize");
        self.execute(
            "INSERT INTO api_keys (id, org_id, name, secret_sha256, scopes, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            &[&key.id, &key.org_id, &key.name, &key.secret_sha256, &scopes, &key.created_at],
        )?;
        Ok(())
    }

    fn api_key(&mut self, id: &str) -> DbResult<Option<ApiKeyRow>> {
        let rows = self.query(
            "SELECT id, org_id, name, secret_sha256, scopes, created_at, revoked_at FROM api_keys WHERE id = $1",
            &[&id],
        )?;
        Ok(rows.first().map(|row| ApiKeyRow {
            id: row.get("id"),
            org_id: row.get("org_id"),
            name: row.get("name"),
            secret_sha256: row.get("secret_sha256"),
            scopes: serde_json::from_str(row.get("scopes")).unwrap_or_default(),
            created_at: row.get("created_at"),
            revoked_at: row.get("revoked_at"),
        }))
    }

    fn revoke_api_key(&mut self, org: &str, id: &str, at: &str) -> DbResult<bool> {
        let changed = self.execute(
            "UPDATE api_keys SET revoked_at = $3 WHERE org_id = $1 AND id = $2 AND revoked_at IS NULL",
            &[&org, &id, &at],
        )?;
        Ok(changed == 1)
    }

    fn execute_text(&mut self, sql: &str, params: &[Option<&str>]) -> DbResult<u64> {
        let params: Vec<&(dyn ToSql + Sync)> = params.iter().map(|param| param as &(dyn ToSql + Sync)).collect();
        self.execute(sql, &params)
    }

    fn each_text_row(
        &mut self,
        sql: &str,
        params: &[Option<&str>],
        visit: &mut dyn FnMut(&[Option<&str>]),
    ) -> DbResult<()> {
        let params: Vec<&(dyn ToSql + Sync)> = params.iter().map(|param| param as &(dyn ToSql + Sync)).collect();
        for row in self.query(sql, &params)? {
            let columns = row.len();
            assert!(columns <= crate::db::MAX_TEXT_COLUMNS, "each_text_row reads at most MAX_TEXT_COLUMNS columns");
            let mut cells = [None; crate::db::MAX_TEXT_COLUMNS];
            for (index, cell) in cells.iter_mut().enumerate().take(columns) {
                *cell = row.get::<_, Option<&str>>(index);
            }
            visit(&cells[..columns]);
        }
        Ok(())
    }

    fn lock_row(&mut self, table: &str, org: &str, id: &str) -> DbResult<()> {
        self.client.query(&format!("SELECT id FROM {table} WHERE org_id = $1 AND id = $2 FOR UPDATE"), &[&org, &id])?;
        Ok(())
    }

    fn number_text(&self, column: &str) -> String {
        format!("CAST({column} AS TEXT)")
    }

    fn byte_length(&self, column: &str) -> String {
        format!("octet_length({column})")
    }

    fn json_field(&self, column: &str, field: &str) -> String {
        format!("(CAST({column} AS jsonb) ->> '{field}')")
    }

    fn json_number(&self, column: &str, field: &str) -> String {
        let value = format!("(CAST({column} AS jsonb) -> '{field}')");
        format!("(CASE WHEN jsonb_typeof({value}) = 'number' THEN CAST({value} AS double precision) END)")
    }

    fn bytewise(&self) -> &'static str {
        r#" COLLATE "C""#
    }

    fn like_ascii_lowercase(&self, column: &str, pattern: &str) -> String {
        // Not ILIKE or lower(): they follow the locale (in Turkish, `I` is not `i`).
        format!(
            "translate({column}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') LIKE {pattern} ESCAPE '!'"
        )
    }

    fn run(&mut self, statement: Transaction) -> DbResult<()> {
        self.client.batch_execute(statement.sql())?;
        match statement {
            Transaction::Commit => self.refresh_statistics(),
            Transaction::Rollback => self.statistics.pending.clear(),
            _ => {}
        }
        Ok(())
    }

    fn write(&mut self, scope: &WriteScope<'_>, changes: &Changes<'_>) -> DbResult<()> {
        let org = scope.org;
        for (entity, _, _) in &changes.entities {
            self.statistics.wrote(table(*entity), 1);
        }
        for (kind, _, _) in &changes.adjustments {
            self.statistics.wrote(adjustment_table(*kind), 1);
        }
        self.statistics.wrote("assignments", changes.assignments.len());
        self.statistics.wrote("sync_state", changes.sync_states.len() + changes.touched.len());
        // Deletes by other keys.
        let mut to_target: (Vec<&str>, Vec<&str>) = (Vec::new(), Vec::new());
        let mut states_of: (Vec<&str>, Vec<&str>) = (Vec::new(), Vec::new());
        for delete in changes.set_deletes {
            match delete {
                SetDelete::AssignmentsToTarget(entity, id) => {
                    to_target.0.push(entity.as_str());
                    to_target.1.push(id);
                }
                SetDelete::SyncStatesOf(entity, id) => {
                    states_of.0.push(entity.as_str());
                    states_of.1.push(id);
                }
            }
        }
        if !to_target.0.is_empty() {
            self.execute(
                "DELETE FROM assignments WHERE org_id = $1 AND (target_type, target_id) IN (SELECT * FROM UNNEST($2::text[], $3::text[]))",
                &[&org, &to_target.0, &to_target.1],
            )?;
        }
        if !states_of.0.is_empty() {
            self.execute(
                "DELETE FROM sync_state WHERE org_id = $1 AND (entity_type, entity_id) IN (SELECT * FROM UNNEST($2::text[], $3::text[]))",
                &[&org, &states_of.0, &states_of.1],
            )?;
        }

        // Deletes by id.
        let gone: Vec<&str> =
            changes.assignments.iter().filter(|(_, row)| row.is_none()).map(|(id, _)| id.as_str()).collect();
        if !gone.is_empty() {
            self.execute("DELETE FROM assignments WHERE org_id = $1 AND id = ANY($2)", &[&org, &gone])?;
        }
        for kind in [NestedKind::SalaryAdjustments, NestedKind::RateAdjustments] {
            let gone: Vec<&str> = changes
                .adjustments
                .iter()
                .filter(|(row_kind, _, row)| *row_kind == kind && row.is_none())
                .map(|(_, id, _)| id.as_str())
                .collect();
            if !gone.is_empty() {
                let sql = format!("DELETE FROM {} WHERE org_id = $1 AND id = ANY($2)", adjustment_table(kind));
                self.execute(&sql, &[&org, &gone])?;
            }
        }
        let gone: Vec<&str> =
            changes.sync_states.iter().filter(|(_, row)| row.is_none()).map(|(id, _)| id.as_str()).collect();
        if !gone.is_empty() {
            self.execute(
                "DELETE FROM sync_state WHERE org_id = $1 AND source_system = $2 AND entity_type = $3 AND external_id = ANY($4)",
                &[&org, &scope.source, &scope.entity.as_str(), &gone],
            )?;
        }
        for entity in EntityType::ALL {
            let gone: Vec<&str> = changes
                .entities
                .iter()
                .filter(|(kind, _, row)| *kind == entity && row.is_none())
                .map(|(_, id, _)| id.as_str())
                .collect();
            if !gone.is_empty() {
                let sql = format!("DELETE FROM {} WHERE org_id = $1 AND id = ANY($2)", table(entity));
                self.execute(&sql, &[&org, &gone])?;
            }
        }

        // Upserts, one statement per table.
        if !changes.job_roles.is_empty() {
            let roles = &changes.job_roles;
            let ids: Vec<&str> = roles.iter().map(|role| role.id.as_str()).collect();
            let external_ids: Vec<Option<&str>> = roles.iter().map(|role| role.external_id.as_deref()).collect();
            let titles: Vec<&str> = roles.iter().map(|role| role.title.as_str()).collect();
            let created: Vec<&str> = roles.iter().map(|role| role.created_at.as_str()).collect();
            let updated: Vec<&str> = roles.iter().map(|role| role.updated_at.as_str()).collect();
            self.execute(
                "INSERT INTO job_roles (id, org_id, external_id, title, created_at, updated_at)
                 SELECT t.id, $1, t.external_id, t.title, t.created_at, t.updated_at
                 FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS t(id, external_id, title, created_at, updated_at)
                 ON CONFLICT (id) DO UPDATE SET title = excluded.title, updated_at = excluded.updated_at",
                &[&org, &ids, &external_ids, &titles, &created, &updated],
            )?;
        }
        for entity in WRITE_ORDER {
            let rows: Vec<&EntityRow> =
                changes.entities.iter().filter(|(kind, _, _)| *kind == entity).filter_map(|(_, _, row)| *row).collect();
            let (stored, new): (Vec<&EntityRow>, Vec<&EntityRow>) =
                rows.into_iter().partition(|row| changes.is_stored(&row.id));
            self.put_entities(org, entity, &new, false)?;
            self.put_entities(org, entity, &stored, true)?;
        }
        let rows: Vec<&AssignmentRow> = changes.assignments.iter().filter_map(|(_, row)| *row).collect();
        let (stored, new): (Vec<&AssignmentRow>, Vec<&AssignmentRow>) =
            rows.into_iter().partition(|row| changes.is_stored(&row.id));
        self.copy_assignments(org, &new)?;
        self.upsert_assignments(org, &stored)?;
        for kind in [NestedKind::SalaryAdjustments, NestedKind::RateAdjustments] {
            let rows: Vec<&AdjustmentRow> = changes
                .adjustments
                .iter()
                .filter(|(row_kind, _, _)| *row_kind == kind)
                .filter_map(|(_, _, row)| *row)
                .collect();
            if rows.is_empty() {
                continue;
            }
            let ids: Vec<&str> = rows.iter().map(|row| row.id.as_str()).collect();
            let owners: Vec<&str> = rows.iter().map(|row| row.resource_id.as_str()).collect();
            let effective: Vec<&str> = rows.iter().map(|row| row.effective_date.as_str()).collect();
            let amounts: Vec<f64> = rows.iter().map(|row| row.amount).collect();
            let bonuses: Vec<Option<f64>> = rows.iter().map(|row| row.bonus).collect();
            let rate_types: Vec<Option<&str>> = rows.iter().map(|row| row.rate_type.as_deref()).collect();
            let currencies: Vec<&str> = rows.iter().map(|row| row.currency_code.as_str()).collect();
            let reasons: Vec<Option<&str>> = rows.iter().map(|row| row.reason.as_deref()).collect();
            let sources: Vec<Option<&str>> = rows.iter().map(|row| row.source_system.as_deref()).collect();
            let created: Vec<&str> = rows.iter().map(|row| row.created_at.as_str()).collect();
            let updated: Vec<&str> = rows.iter().map(|row| row.updated_at.as_str()).collect();
            // Adjustments are never updated in place: a changed one is a new row.
            let sql = if kind == NestedKind::SalaryAdjustments {
                "INSERT INTO salary_adjustments (id, org_id, employee_id, effective_date, salary, bonus, currency_code, reason, source_system, created_at, updated_at)
                 SELECT t.id, $1, t.owner, t.effective, t.amount, t.bonus, t.currency, t.reason, t.source, t.created, t.updated
                 FROM UNNEST($2::text[], $3::text[], $4::text[], $5::float8[], $6::float8[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])
                 AS t(id, owner, effective, amount, bonus, rate_type, currency, reason, source, created, updated)"
            } else {
                "INSERT INTO rate_adjustments (id, org_id, contractor_id, effective_date, rate, rate_type, currency_code, reason, source_system, created_at, updated_at)
                 SELECT t.id, $1, t.owner, t.effective, t.amount, t.rate_type, t.currency, t.reason, t.source, t.created, t.updated
                 FROM UNNEST($2::text[], $3::text[], $4::text[], $5::float8[], $6::float8[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])
                 AS t(id, owner, effective, amount, bonus, rate_type, currency, reason, source, created, updated)"
            };
            self.execute(
                sql,
                &[
                    &org,
                    &ids,
                    &owners,
                    &effective,
                    &amounts,
                    &bonuses,
                    &rate_types,
                    &currencies,
                    &reasons,
                    &sources,
                    &created,
                    &updated,
                ],
            )?;
        }
        let rows: Vec<&SyncStateRow> = changes.sync_states.iter().filter_map(|(_, row)| *row).collect();
        let (stored, new): (Vec<&SyncStateRow>, Vec<&SyncStateRow>) =
            rows.into_iter().partition(|row| changes.is_stored_sync_state(&row.external_id));
        for (rows, sql) in [
            (
                new,
                "INSERT INTO sync_state (org_id, source_system, entity_type, external_id, entity_id, fingerprint, last_synced_at)
                 SELECT $1, $2, $3, t.external_id, t.entity_id, t.fingerprint, t.last_synced_at
                 FROM UNNEST($4::text[], $5::text[], $6::text[], $7::text[]) AS t(external_id, entity_id, fingerprint, last_synced_at)",
            ),
            // An upsert rather than UPDATE … FROM: its conflict check walks the primary key row
            // by row, where a join may be planned as a scan of the whole table.
            (
                stored,
                "INSERT INTO sync_state (org_id, source_system, entity_type, external_id, entity_id, fingerprint, last_synced_at)
                 SELECT $1, $2, $3, t.external_id, t.entity_id, t.fingerprint, t.last_synced_at
                 FROM UNNEST($4::text[], $5::text[], $6::text[], $7::text[]) AS t(external_id, entity_id, fingerprint, last_synced_at)
                 ON CONFLICT (org_id, source_system, entity_type, external_id)
                 DO UPDATE SET entity_id = excluded.entity_id, fingerprint = excluded.fingerprint, last_synced_at = excluded.last_synced_at",
            ),
        ] {
            if rows.is_empty() {
                continue;
            }
            let external_ids: Vec<&str> = rows.iter().map(|row| row.external_id.as_str()).collect();
            let entity_ids: Vec<&str> = rows.iter().map(|row| row.entity_id.as_str()).collect();
            let fingerprints: Vec<&str> = rows.iter().map(|row| row.fingerprint.as_str()).collect();
            let synced: Vec<&str> = rows.iter().map(|row| row.last_synced_at.as_str()).collect();
            self.execute(
                sql,
                &[&org, &scope.source, &scope.entity.as_str(), &external_ids, &entity_ids, &fingerprints, &synced],
            )?;
        }
        if !changes.touched.is_empty() {
            self.execute(
                "UPDATE sync_state SET last_synced_at = $1
                 WHERE org_id = $2 AND source_system = $3 AND entity_type = $4 AND external_id = ANY($5)",
                &[&scope.now, &org, &scope.source, &scope.entity.as_str(), &changes.touched],
            )?;
        }
        if !changes.events.is_empty() {
            // Sequence numbers are taken at insert; holding this lock until commit makes
            // event-writing transactions commit in sequence order, so a reader of `seq > n`
            // (the PUSH dispatcher) never passes a smaller number that commits later.
            self.execute("SELECT pg_advisory_xact_lock(7345911083)", &[])?;
            let events = changes.events;
            let types: Vec<&str> = events.iter().map(|event| event.entity_type.as_str()).collect();
            let ids: Vec<&str> = events.iter().map(|event| event.entity_id.as_str()).collect();
            let changes_: Vec<&str> = events.iter().map(|event| event.change_type.as_str()).collect();
            let before: Vec<Option<String>> = events.iter().map(|event| event_json(&event.before)).collect();
            let after: Vec<Option<String>> = events.iter().map(|event| event_json(&event.after)).collect();
            let source = scope.event_source;
            // WITH ORDINALITY: the events take their sequence numbers in page order.
            self.execute(
                "INSERT INTO change_events (org_id, entity_type, entity_id, change_type, before, after, source, created_at)
                 SELECT $1, t.entity_type, t.entity_id, t.change_type, t.before, t.after, $2, $3
                 FROM UNNEST($4::text[], $5::text[], $6::text[], $7::text[], $8::text[]) WITH ORDINALITY
                   AS t(entity_type, entity_id, change_type, before, after, n)
                 ORDER BY t.n",
                &[&org, &source, &scope.now, &types, &ids, &changes_, &before, &after],
            )?;
        }
        Ok(())
    }
}
