//! What a database backend does for the store: bulk reads by key lists, one write of a
//! page's [`Changes`], transactions. SQLite (`sqlite.rs`) and PostgreSQL (`postgres.rs`)
//! implement it; everything above it (loading, planning, representing) is shared, so the
//! two behave the same by construction.

use flowstate_sync::{EntityType, NestedKind};

use crate::{
    ChangeEvent,
    keys::ApiKeyRow,
    model::table,
    world::{AdjustmentRow, AssignmentRow, Changes, EntityRow, JobRoleRow, SyncStateRow},
};

/// Which entities to read.
#[derive(Clone, Copy, Debug)]
pub(crate) enum EntityFilter<'a> {
    Ids(&'a [String]),
    ExternalIds(&'a [String]),
    /// Employees by lowercased email.
    EmailKeys(&'a [String]),
    /// Vacancies filled by these employees (or contractors, by the entity type given).
    FilledBy(EntityType, &'a [String]),
    All,
}

/// Which assignment rows to read.
#[derive(Clone, Copy, Debug)]
pub(crate) enum AssignmentFilter<'a> {
    Ids(&'a [String]),
    ExternalIds(&'a [String]),
    /// Every row whose resource is one of these (of this type).
    Resources(EntityType, &'a [String]),
    /// Every row allocating to one of these teams or projects.
    Targets(EntityType, &'a [String]),
    All,
}

/// A custom attribute definition as stored.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct DefinitionRow {
    pub id: String,
    pub name: String,
    pub attribute_key: String,
    /// `STRING|NUMBER|DATE|DATE_RANGE`.
    pub field_type: String,
    /// Upper-case entity type names.
    pub entity_types: Vec<String>,
    pub created_at: String,
}

/// The page a write belongs to.
pub(crate) struct WriteScope<'a> {
    pub org: &'a str,
    /// The source system whose sync state is written; `None` for REST writes (none is).
    pub source: Option<&'a str>,
    /// Change events' `source`: `sync:{sourceSystem}` or `api`.
    pub event_source: &'a str,
    pub entity: EntityType,
    pub now: &'a str,
}

#[derive(Debug)]
pub(crate) enum DbError {
    /// A constraint refused a row (unique, foreign key, check).
    Constraint(String),
    Other(String),
}

impl From<DbError> for crate::StoreError {
    fn from(error: DbError) -> crate::StoreError {
        match error {
            DbError::Constraint(message) | DbError::Other(message) => crate::StoreError::Database(message),
        }
    }
}

pub(crate) type DbResult<T> = Result<T, DbError>;

pub(crate) trait Db: Send {
    /// Whether the connection is gone for good (the pool then drops it and opens another).
    fn is_broken(&self) -> bool {
        false
    }
    /// The organisation's IANA time zone, or `None` when there is no such organisation.
    fn org_timezone(&mut self, org: &str) -> DbResult<Option<String>>;
    fn insert_org(&mut self, id: &str, name: &str, timezone: &str, currency: &str, created_at: &str) -> DbResult<()>;
    fn insert_definition(&mut self, org: &str, definition: &DefinitionRow) -> DbResult<()>;
    fn definitions(&mut self, org: &str) -> DbResult<Vec<DefinitionRow>>;
    fn sync_states(
        &mut self,
        org: &str,
        source: &str,
        entity: EntityType,
        external_ids: &[String],
    ) -> DbResult<Vec<SyncStateRow>>;
    fn entities(&mut self, org: &str, entity: EntityType, filter: EntityFilter<'_>) -> DbResult<Vec<EntityRow>>;
    fn assignments(&mut self, org: &str, filter: AssignmentFilter<'_>) -> DbResult<Vec<AssignmentRow>>;
    fn adjustments(&mut self, org: &str, kind: NestedKind, resource_ids: &[String]) -> DbResult<Vec<AdjustmentRow>>;
    fn job_roles(&mut self, org: &str, external_ids: &[String], titles: &[String]) -> DbResult<Vec<JobRoleRow>>;
    /// The organisation's change events after `after_seq`, oldest first, at most `limit`.
    fn change_events(&mut self, org: &str, after_seq: i64, limit: i64) -> DbResult<Vec<ChangeEvent>>;
    fn org_count(&mut self) -> DbResult<i64>;
    fn insert_api_key(&mut self, key: &ApiKeyRow) -> DbResult<()>;
    /// A key by its id, whatever its organisation: the key names the organisation.
    fn api_key(&mut self, id: &str) -> DbResult<Option<ApiKeyRow>>;
    /// Marks the organisation's key revoked; whether there was such a key not yet revoked.
    fn revoke_api_key(&mut self, org: &str, id: &str, at: &str) -> DbResult<bool>;

    /// A statement over text values (`$1`, `$2`, …), for the all-text tables; rows changed.
    fn execute_text(&mut self, sql: &str, params: &[Option<&str>]) -> DbResult<u64>;
    /// Locks one row of `table` until the transaction ends, so that what this transaction
    /// reads of it next is not changed meanwhile by another (SQLite: every write
    /// transaction already holds the database's write lock).
    fn lock_row(&mut self, table: &str, org: &str, id: &str) -> DbResult<()>;
    /// An SQL expression for the text of `field` in the JSON text column `column`.
    fn json_field(&self, column: &str, field: &str) -> String;
    /// An SQL expression for the number in `field` of the JSON text column `column` (NULL
    /// where it holds no number).
    fn json_number(&self, column: &str, field: &str) -> String;
    /// An SQL expression for numeric `column` as `query_text` reads it: the number's shortest
    /// decimal spelling.
    fn number_text(&self, column: &str) -> String;
    /// An SQL expression for the length in bytes (UTF-8) of text `column`.
    fn byte_length(&self, column: &str) -> String;
    /// What makes a text comparison bytewise in `ORDER BY` (PostgreSQL's default collation
    /// follows the locale).
    fn bytewise(&self) -> &'static str;
    /// An SQL condition: text `column` matches the `LIKE` pattern `pattern` (lowercase, `!`
    /// its escape), the case of ASCII letters ignored, whatever the database's locale.
    fn like_ascii_lowercase(&self, column: &str, pattern: &str) -> String;
    /// A query over text values returning text columns.
    fn query_text(&mut self, sql: &str, params: &[Option<&str>]) -> DbResult<Vec<Vec<Option<String>>>> {
        let mut rows = Vec::new();
        self.each_text_row(sql, params, &mut |row| {
            rows.push(row.iter().map(|cell| cell.map(str::to_string)).collect());
        })?;
        Ok(rows)
    }
    /// [`Db::query_text`] without collecting: each row is handed to `visit` as borrowed text,
    /// for reads too large to copy cell by cell. At most [`MAX_TEXT_COLUMNS`] columns.
    fn each_text_row(
        &mut self,
        sql: &str,
        params: &[Option<&str>],
        visit: &mut dyn FnMut(&[Option<&str>]),
    ) -> DbResult<()>;

    /// `BEGIN`, `COMMIT`, `ROLLBACK`, `SAVEPOINT record`, `RELEASE record`, `ROLLBACK TO record`.
    fn run(&mut self, statement: Transaction) -> DbResult<()>;

    /// Writes a page's changes, in this order: deletes by other keys, deletes by id, job
    /// roles, entities (employees, contractors, teams, projects, vacancies; each in
    /// first-change order), assignments, adjustments, sync state, events.
    fn write(&mut self, scope: &WriteScope<'_>, changes: &Changes<'_>) -> DbResult<()>;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Transaction {
    Begin,
    /// A read-only transaction that sees one committed state throughout.
    BeginSnapshot,
    Commit,
    Rollback,
    Savepoint,
    Release,
    RollbackToSavepoint,
}

impl Transaction {
    pub fn sql(self) -> &'static str {
        match self {
            Transaction::Begin => "BEGIN",
            Transaction::BeginSnapshot => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
            Transaction::Commit => "COMMIT",
            Transaction::Rollback => "ROLLBACK",
            Transaction::Savepoint => "SAVEPOINT record",
            Transaction::Release => "RELEASE SAVEPOINT record",
            Transaction::RollbackToSavepoint => "ROLLBACK TO SAVEPOINT record",
        }
    }
}

/// Entity tables in the order their rows are written (a vacancy's filler first).
pub(crate) const WRITE_ORDER: [EntityType; 5] =
    [EntityType::Employee, EntityType::Contractor, EntityType::Team, EntityType::Project, EntityType::Vacancy];

/// Runs `work` in a write transaction: committed when it returns `Ok`; rolled back when it
/// returns `Err`, when the commit fails, or when it panics. The one place a write
/// transaction begins and ends, so a connection never goes back to the pool inside one.
pub(crate) fn in_transaction<T, E: From<DbError>>(
    db: &mut dyn Db,
    work: impl FnOnce(&mut dyn Db) -> Result<T, E>,
) -> Result<T, E> {
    transaction(db, Ending::Commit, work)
}

/// Runs `work` in a write transaction that is always rolled back: what it wrote is seen by
/// its own later statements and by nobody else, ever (a sync's plan).
pub(crate) fn in_rolled_back_transaction<T, E: From<DbError>>(
    db: &mut dyn Db,
    work: impl FnOnce(&mut dyn Db) -> Result<T, E>,
) -> Result<T, E> {
    transaction(db, Ending::Rollback, work)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Ending {
    Commit,
    Rollback,
}

fn transaction<T, E: From<DbError>>(
    db: &mut dyn Db,
    ending: Ending,
    work: impl FnOnce(&mut dyn Db) -> Result<T, E>,
) -> Result<T, E> {
    /// Rolls back on the way out unless the transaction was ended.
    struct Open<'a> {
        db: &'a mut dyn Db,
        ended: bool,
    }
    impl Drop for Open<'_> {
        fn drop(&mut self) {
            if !self.ended {
                let _ = self.db.run(Transaction::Rollback);
            }
        }
    }
    db.run(Transaction::Begin)?;
    let mut open = Open { db, ended: false };
    let value = work(&mut *open.db)?;
    open.db.run(match ending {
        Ending::Commit => Transaction::Commit,
        Ending::Rollback => Transaction::Rollback,
    })?;
    open.ended = true;
    Ok(value)
}

/// The most columns [`Db::each_text_row`] reads.
pub(crate) const MAX_TEXT_COLUMNS: usize = 24;

pub(crate) fn adjustment_table(kind: NestedKind) -> &'static str {
    if kind == NestedKind::SalaryAdjustments { "salary_adjustments" } else { "rate_adjustments" }
}

/// The first column of the first row of a text query as a number (a count, a sequence
/// number); `None` when there is no row or it is not one.
pub(crate) fn first_number<T: std::str::FromStr>(rows: &[Vec<Option<String>>]) -> Option<T> {
    rows.first().and_then(|row| row.first().cloned().flatten()).and_then(|text| text.parse().ok())
}

/// `LIMIT … OFFSET …` for a 1-based page. The numbers are ours and written into the SQL:
/// text parameters cannot bind to `LIMIT` on PostgreSQL.
pub(crate) fn limit_offset(page: usize, limit: usize) -> String {
    let offset = page.saturating_sub(1).saturating_mul(limit).min(i64::MAX as usize);
    format!("LIMIT {limit} OFFSET {offset}")
}

/// A JSON object as stored in a text column.
pub(crate) fn json_text(object: &serde_json::Map<String, serde_json::Value>) -> String {
    serde_json::to_string(object).expect("JSON values serialize")
}

/// An event's `before` or `after` as stored. (`serde_json::to_string` writes bytes straight
/// into a buffer; `Value`'s `Display` goes through the formatter, about twice as slow.)
pub(crate) fn event_json(value: &Option<serde_json::Value>) -> Option<String> {
    value.as_ref().map(|value| serde_json::to_string(value).expect("JSON values serialize"))
}

// SQL that both backends share.

/// The columns every entity table is read with (absent ones as typed NULLs, which both databases read).
pub(crate) fn entity_columns(entity: EntityType) -> &'static str {
    match entity {
        EntityType::Vacancy => {
            "id, external_id, fields, custom_attributes, filled_by_employee_id, filled_by_contractor_id, CAST(NULL AS TEXT) AS parent_team_id, created_at, updated_at"
        }
        EntityType::Team => {
            "id, external_id, fields, custom_attributes, CAST(NULL AS TEXT) AS filled_by_employee_id, CAST(NULL AS TEXT) AS filled_by_contractor_id, parent_team_id, created_at, updated_at"
        }
        _ => {
            "id, external_id, fields, custom_attributes, CAST(NULL AS TEXT) AS filled_by_employee_id, CAST(NULL AS TEXT) AS filled_by_contractor_id, CAST(NULL AS TEXT) AS parent_team_id, created_at, updated_at"
        }
    }
}

/// Salary and rate adjustments read as one shape.
pub(crate) fn adjustment_columns(kind: NestedKind) -> &'static str {
    if kind == NestedKind::SalaryAdjustments {
        "id, employee_id AS resource_id, effective_date, salary AS amount, bonus, CAST(NULL AS TEXT) AS rate_type, currency_code, reason, source_system, created_at, updated_at"
    } else {
        "id, contractor_id AS resource_id, effective_date, rate AS amount, CAST(NULL AS DOUBLE PRECISION) AS bonus, rate_type, currency_code, reason, source_system, created_at, updated_at"
    }
}

pub(crate) fn adjustment_owner(kind: NestedKind) -> &'static str {
    if kind == NestedKind::SalaryAdjustments { "employee_id" } else { "contractor_id" }
}

/// `INSERT` (with `upsert`: `… ON CONFLICT (id) DO UPDATE`) of an entity table, over the values `id`, `org_id`,
/// `external_id`, `fields`, `custom_attributes`, `email_key`, `filled_by_employee_id`,
/// `filled_by_contractor_id`, `parent_team_id`, `created_at`, `updated_at` (numbered 1 to 11
/// in that order, whatever the table uses of them); `rows` spells the row source for the
/// numbers of the columns used (`VALUES (…)`, or a `SELECT` from arrays).
pub(crate) fn entity_insert(entity: EntityType, upsert: bool, rows: impl Fn(&[usize]) -> String) -> String {
    let extra: &[(&str, usize)] = match entity {
        EntityType::Employee => &[("email_key", 6)],
        EntityType::Vacancy => &[("filled_by_employee_id", 7), ("filled_by_contractor_id", 8)],
        EntityType::Team => &[("parent_team_id", 9)],
        _ => &[],
    };
    let mut columns = vec![
        ("id", 1),
        ("org_id", 2),
        ("external_id", 3),
        ("fields", 4),
        ("custom_attributes", 5),
        ("created_at", 10),
        ("updated_at", 11),
    ];
    columns.extend_from_slice(extra);
    let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
    let numbers: Vec<usize> = columns.iter().map(|(_, n)| *n).collect();
    let updates: Vec<String> = ["fields", "custom_attributes", "updated_at"]
        .iter()
        .chain(extra.iter().map(|(name, _)| name))
        .map(|name| format!("{name} = excluded.{name}"))
        .collect();
    let insert = format!("INSERT INTO {} ({}) {}", table(entity), names.join(", "), rows(&numbers));
    if upsert { format!("{insert} ON CONFLICT (id) DO UPDATE SET {}", updates.join(", ")) } else { insert }
}

/// A row read as `SELECT {columns}`, its cells by column name: each table's row becomes a
/// value in one place, by name, so a column added to or moved in a list cannot shift
/// another. A name not in the list is a defect, and panics (every decoder has tests).
pub(crate) struct Named<'a> {
    columns: &'a str,
    cells: &'a [Option<String>],
}

impl<'a> Named<'a> {
    pub(crate) fn new(columns: &'a str, cells: &'a [Option<String>]) -> Named<'a> {
        Named { columns, cells }
    }

    fn cell(&self, name: &str) -> Option<&'a String> {
        let place = self
            .columns
            .split(',')
            .map(|column| column.trim().rsplit('.').next().unwrap_or_default())
            .position(|column| column == name)
            .unwrap_or_else(|| panic!("no column {name} in {}", self.columns));
        self.cells.get(place).and_then(Option::as_ref)
    }

    pub(crate) fn text(&self, name: &str) -> String {
        self.cell(name).cloned().unwrap_or_default()
    }

    pub(crate) fn optional(&self, name: &str) -> Option<String> {
        self.cell(name).cloned()
    }

    /// The cell read as one of a closed set of values; anything else in the database is an
    /// error naming it.
    pub(crate) fn spelled<T>(&self, name: &str, parse: fn(&str) -> Option<T>) -> Result<T, crate::StoreError> {
        let cell = self.text(name);
        parse(&cell).ok_or_else(|| crate::StoreError::Database(format!("unexpected {name} {cell:?} in a stored row")))
    }
}
