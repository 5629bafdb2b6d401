//! [`Store`]: the store's API over either backend.

use std::{path::Path, sync::Mutex, time::Instant};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use flowstate_sync::{CustomAttributeDefinition, CustomFieldType, EntityType, RecordError};
use serde_json::Value;

use crate::{
    IncomingRecord, OrgId, PageOutcome, StoreError,
    db::{Db, DbError, DefinitionRow, EntityFilter, Transaction, WriteScope, in_transaction},
    keys::{ALL_SCOPES, ApiKey, ApiKeyRow, NewApiKey, new_secret, parse_token, same_secret, sha256_hex},
    load::{load_entities, load_page},
    model::new_id,
    plan::{FillRefused, Page, Prepared, Writer, plan_fill, plan_page},
    pool::{Connection, Connections, PoolSettings, Snapshot},
    represent::represent,
};

/// The workforce store, on SQLite or PostgreSQL.
pub struct Store {
    connections: crate::pool::Connections,
    /// Called after a page that changed something commits (the PUSH dispatcher wakes up).
    change_listeners: Mutex<Vec<ChangeListener>>,
    /// Which server this is, in the executions it runs (see [`Store::set_node_id`]).
    node_id: std::sync::OnceLock<String>,
}

type ChangeListener = Box<dyn Fn() + Send + Sync>;

/// What a REST call does to one entity ([`Store::write_entity`]).
#[derive(Clone, Debug, PartialEq)]
pub enum EntityWrite {
    /// A new entity from `data` (the fields a PULL record's `data` carries).
    Create { external_id: Option<String>, data: serde_json::Map<String, Value> },
    /// Changes the fields `data` names on the entity with this internal id.
    Update { id: String, data: serde_json::Map<String, Value> },
    /// As `Update`, but nested arrays add rows (a row of the same identity, such as an
    /// adjustment's `effectiveDate`, is replaced) and never remove any.
    Append { id: String, data: serde_json::Map<String, Value> },
    /// Hard-deletes the entity with this internal id, as `deletedAt` does in a sync.
    Delete { id: String },
}

/// The result of [`Store::write_entity`].
#[derive(Clone, Debug, PartialEq)]
pub enum Written {
    /// The entity as it is now.
    Entity(Value),
    Deleted,
    /// The write broke a rule: one error per field, nothing written.
    Rejected(Vec<RecordError>),
}

/// Which page [`Store::list_page`] reads, in which order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListPageQuery {
    pub order: ListOrder,
    /// Reversed: absent values first.
    pub descending: bool,
    /// Vacancies only: leave out those currently filled.
    pub exclude_filled: bool,
    /// 1-based.
    pub page: usize,
    pub limit: usize,
}

/// Searched text longer than this is looked for in every row rather than by the database
/// (SQLite refuses `LIKE` patterns over 50,000 bytes).
const MAX_SEARCHED_TEXT: usize = 1_000;

/// What [`Store::list_page`] can order by in the database: the columns every entity has, and
/// the scalar fields of its type that hold text or a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListOrder {
    ExternalId,
    Id,
    CreatedAt,
    UpdatedAt,
    /// A field holding text: names, codes, emails, dates (`YYYY-MM-DD`) and enums.
    TextField(&'static str),
    /// A field holding a number.
    NumberField(&'static str),
}

impl ListOrder {
    /// The order a list of `entity` sorted by `name` takes, if the database can sort by it.
    /// (A job role may be text or an object: not this way.)
    pub fn for_field(entity: EntityType, name: &str) -> Option<ListOrder> {
        use flowstate_sync::schema::FieldKind;
        match name {
            "externalId" => Some(ListOrder::ExternalId),
            "id" => Some(ListOrder::Id),
            "createdAt" => Some(ListOrder::CreatedAt),
            "updatedAt" => Some(ListOrder::UpdatedAt),
            _ => {
                let spec = flowstate_sync::schema::fields(entity).iter().find(|spec| spec.name == name)?;
                match spec.kind {
                    FieldKind::Text { .. }
                    | FieldKind::Id
                    | FieldKind::Email
                    | FieldKind::Date
                    | FieldKind::Enum(_)
                    | FieldKind::Currency => Some(ListOrder::TextField(spec.name)),
                    FieldKind::Number { .. } | FieldKind::Money | FieldKind::Integer { .. } => {
                        Some(ListOrder::NumberField(spec.name))
                    }
                    FieldKind::JobRole => None,
                }
            }
        }
    }

    /// The SQL value to order by, and whether it is text (compared bytewise).
    fn expression(self, db: &dyn Db) -> (String, bool) {
        match self {
            ListOrder::ExternalId => ("external_id".into(), true),
            ListOrder::Id => ("id".into(), true),
            ListOrder::CreatedAt => ("created_at".into(), true),
            ListOrder::UpdatedAt => ("updated_at".into(), true),
            ListOrder::TextField(name) => (db.json_field("fields", name), true),
            ListOrder::NumberField(name) => (db.json_number("fields", name), false),
        }
    }
}

/// The result of [`Store::fill_vacancy`].
#[derive(Clone, Debug, PartialEq)]
pub enum Filled {
    /// The vacancy and its new filler, as they are now.
    Done { vacancy: Value, filler: Value },
    /// The body broke a rule: one error per field, nothing written.
    Rejected(Vec<RecordError>),
}

/// One change event of the outbox.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeEvent {
    pub seq: i64,
    pub id: String,
    pub entity_type: EntityType,
    pub entity_id: String,
    pub change_type: crate::kinds::ChangeType,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub source: String,
}

impl ChangeEvent {
    /// The columns `SELECT seq, entity_type, entity_id, change_type, before, after, source`
    /// read (both backends), decoded: the one place a change event is made from a row.
    pub(crate) fn from_columns(
        seq: i64,
        entity_type: &str,
        entity_id: String,
        change_type: &str,
        before: Option<String>,
        after: Option<String>,
        source: String,
    ) -> Result<ChangeEvent, crate::db::DbError> {
        let unexpected =
            |what: &str, value: &str| crate::db::DbError::Other(format!("event {seq}: unexpected {what} {value:?}"));
        let parse = |text: Option<String>| text.and_then(|text| serde_json::from_str(&text).ok());
        Ok(ChangeEvent {
            seq,
            id: format!("evt_{seq}"),
            entity_type: entity_type.parse().map_err(|_| unexpected("entity type", entity_type))?,
            entity_id,
            change_type: crate::kinds::ChangeType::parse(change_type)
                .ok_or_else(|| unexpected("change type", change_type))?,
            before: parse(before),
            after: parse(after),
            source,
        })
    }
}

/// Whether `location` names a PostgreSQL database rather than a SQLite file.
pub fn is_postgres_url(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

impl Store {
    /// Opens the store at `location`: a `postgres://` URL, or else a SQLite file path.
    pub fn open(location: &str) -> Result<Store, StoreError> {
        Store::open_with(location, PoolSettings::default())
    }

    /// [`Store::open`] with connection settings.
    pub fn open_with(location: &str, settings: PoolSettings) -> Result<Store, StoreError> {
        let connections = if is_postgres_url(location) {
            Connections::postgres(location, settings)?
        } else {
            Connections::sqlite(Path::new(location), settings)?
        };
        Ok(Store::with(connections))
    }

    /// Opens (creating if needed) a SQLite database file and applies pending migrations.
    pub fn open_sqlite(path: &Path) -> Result<Store, StoreError> {
        Ok(Store::with(Connections::sqlite(path, PoolSettings::default())?))
    }

    /// Connects to PostgreSQL (`postgres://user@host:port/database`) and applies pending
    /// migrations.
    pub fn open_postgres(url: &str) -> Result<Store, StoreError> {
        Ok(Store::with(Connections::postgres(url, PoolSettings::default())?))
    }

    fn with(connections: Connections) -> Store {
        Store { connections, change_listeners: Mutex::new(Vec::new()), node_id: std::sync::OnceLock::new() }
    }

    /// Names this server in the executions it starts (once; by default `local`).
    pub fn set_node_id(&self, node_id: &str) {
        let _ = self.node_id.set(node_id.to_string());
    }

    pub fn node_id(&self) -> &str {
        self.node_id.get().map(String::as_str).unwrap_or("local")
    }

    /// Calls `listener` after every page applied by this process that wrote a change event.
    /// (Changes written by other processes are not announced: read the outbox too.)
    pub fn on_change(&self, listener: impl Fn() + Send + Sync + 'static) {
        self.change_listeners.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(Box::new(listener));
    }

    /// Tells the listeners (this process's PUSH dispatcher) that changes or PUSH hooks
    /// changed.
    pub(crate) fn announce_change(&self) {
        for listener in self.change_listeners.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).iter() {
            listener();
        }
    }

    /// A connection that may write (see `pool.rs`).
    pub(crate) fn db(&self) -> Result<Connection<'_>, StoreError> {
        self.connections.writer()
    }

    /// A connection for a read on its own: never waits behind a write.
    pub(crate) fn reader(&self) -> Result<Snapshot<'_>, StoreError> {
        self.connections.reader()
    }

    /// The organisation's time zone; an error if there is no such organisation.
    pub(crate) fn check_org(db: &mut dyn Db, org: &OrgId) -> Result<Tz, StoreError> {
        let Some(timezone) = db.org_timezone(org.as_str())? else { return Err(StoreError::UnknownOrg(org.clone())) };
        timezone
            .parse()
            .map_err(|_| StoreError::Database(format!("organisation {org} has an unknown time zone {timezone:?}")))
    }

    /// Creates an organisation and returns its id.
    pub fn create_org(&self, name: &str, timezone: &str, currency: &str) -> Result<OrgId, StoreError> {
        if name.trim().is_empty() {
            return Err(StoreError::Invalid("the organisation name must not be blank".into()));
        }
        if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(StoreError::Invalid(format!(
                "currency must be an ISO 4217 code such as GBP, got {currency:?}"
            )));
        }
        if timezone.parse::<Tz>().is_err() {
            return Err(StoreError::Invalid(format!(
                "timezone must be an IANA name such as Europe/London, got {timezone:?}"
            )));
        }
        let id = new_id("org");
        self.db()?.insert_org(&id, name, timezone, currency, &crate::timestamp(Utc::now()))?;
        Ok(OrgId(id))
    }

    /// Defines a custom attribute (`attributeKey`, `fieldType`, the entity types it applies to).
    pub fn define_custom_attribute(
        &self,
        org: &OrgId,
        name: &str,
        key: &str,
        field_type: CustomFieldType,
        entities: &[EntityType],
    ) -> Result<(), StoreError> {
        crate::reference::AttributeKey::parse(key)?;
        if name.trim().is_empty() {
            return Err(StoreError::Invalid("a custom attribute needs a name".into()));
        }
        if entities.is_empty() || entities.contains(&EntityType::Assignment) {
            return Err(StoreError::Invalid(
                "entityTypes must be some of employee, contractor, vacancy, team and project".into(),
            ));
        }
        let mut db = self.db()?;
        Self::check_org(db.as_mut(), org)?;
        let definition = DefinitionRow {
            id: new_id("cad"),
            name: name.to_string(),
            attribute_key: key.to_string(),
            field_type: serde_json::to_value(field_type).expect("serializes").as_str().unwrap_or_default().to_string(),
            entity_types: entities.iter().map(|entity| entity.as_str().to_uppercase()).collect(),
            created_at: crate::timestamp(Utc::now()),
        };
        match db.insert_definition(org.as_str(), &definition) {
            Err(DbError::Constraint(_)) => Err(StoreError::Invalid(format!(
                "a custom attribute named {name:?} or keyed {key:?} is already defined"
            ))),
            other => Ok(other?),
        }
    }

    fn custom_definitions(
        db: &mut dyn Db,
        org: &OrgId,
        entity: EntityType,
    ) -> Result<Vec<CustomAttributeDefinition>, StoreError> {
        let wanted = entity.as_str().to_uppercase();
        let mut definitions = Vec::new();
        for row in db.definitions(org.as_str())? {
            if !row.entity_types.contains(&wanted) {
                continue;
            }
            let field_type: CustomFieldType = serde_json::from_value(Value::String(row.field_type))
                .map_err(|error| StoreError::Database(error.to_string()))?;
            definitions.push(CustomAttributeDefinition { attribute_key: row.attribute_key, field_type });
        }
        Ok(definitions)
    }

    /// Applies one page of records from `source` (the integration's source system key).
    pub fn apply_page(
        &self,
        org: &OrgId,
        source: &str,
        entity: EntityType,
        records: &[IncomingRecord],
    ) -> Result<PageOutcome, StoreError> {
        self.apply_page_at(org, source, entity, records, Utc::now())
    }

    /// [`Store::apply_page`] at a given time: `now` stamps rows and decides which orphaned
    /// allocations have started.
    pub fn apply_page_at(
        &self,
        org: &OrgId,
        source: &str,
        entity: EntityType,
        records: &[IncomingRecord],
        now: DateTime<Utc>,
    ) -> Result<PageOutcome, StoreError> {
        if source.trim().is_empty() {
            return Err(StoreError::Invalid("the source system key must not be blank".into()));
        }
        self.apply(org, Writer::Sync(source), entity, records, now)
    }

    /// A REST write of one entity through the same rules as a synced record: the fields of
    /// a PULL record's `data` (absent: kept, null: cleared), custom attributes, nested
    /// arrays (acting on hand-made rows only) and `deletedAt`. Its change event's `source`
    /// is `api`, so PUSH hooks receive it. No sync state is written: a sync may later adopt
    /// the entity by its externalId.
    pub fn write_entity(&self, org: &OrgId, entity: EntityType, write: EntityWrite) -> Result<Written, StoreError> {
        let append = matches!(write, EntityWrite::Append { .. });
        let (entity_id, create, external_id, data) = match write {
            EntityWrite::Create { external_id, data } => {
                if entity == EntityType::Assignment && external_id.is_none() {
                    // Assignment rows without one are resources' nested allocations.
                    return Err(StoreError::Invalid("externalId is required to create an assignment".into()));
                }
                if let Some(external_id) = &external_id {
                    if external_id.trim().is_empty() {
                        return Err(StoreError::Invalid("externalId must not be blank".into()));
                    }
                    if self.find_by_external_id(org, entity, external_id)?.is_some() {
                        return Err(StoreError::Conflict(format!("{entity} with externalId {external_id:?} exists")));
                    }
                }
                (crate::model::new_id(crate::model::id_prefix(entity)), true, external_id, data)
            }
            EntityWrite::Update { id, data } | EntityWrite::Append { id, data } => (id, false, None, data),
            EntityWrite::Delete { id } => {
                let mut data = serde_json::Map::new();
                data.insert("deletedAt".into(), Value::String(Utc::now().date_naive().to_string()));
                (id, false, None, data)
            }
        };
        let deleting = data.get("deletedAt").is_some_and(|value| !value.is_null());
        // The planner's key for the record: what errors name.
        let key = external_id.clone().unwrap_or_else(|| entity_id.clone());
        let record = IncomingRecord { external_id: key, data };
        let writer = Writer::Api { entity_id: entity_id.clone(), create, external_id, append };
        let outcome = self.apply(org, writer, entity, std::slice::from_ref(&record), Utc::now())?;
        if !outcome.errors.is_empty() {
            if !create && self.find(org, entity, &entity_id)?.is_none() {
                // Deleted (or never there) by the time the write planned: not a bad field.
                return Err(StoreError::NotFound(format!("{entity} {entity_id:?}")));
            }
            return Ok(Written::Rejected(outcome.errors));
        }
        if deleting {
            return Ok(Written::Deleted);
        }
        let found = self.find(org, entity, &entity_id)?;
        found.map(Written::Entity).ok_or_else(|| StoreError::NotFound(format!("{entity} {entity_id:?}")))
    }

    /// `POST /vacancies/{id}/fill` (data-model.md "Vacancy fill"), all in one transaction:
    /// creates the filler (`filler` is `Employee` or `Contractor`) from `body`, moves the
    /// vacancy's allocations to it, links it and sets the vacancy's status to `filled`.
    /// `NotFound` for no such vacancy, `Conflict` when it is filled already or the filler's
    /// externalId is taken.
    pub fn fill_vacancy(
        &self,
        org: &OrgId,
        vacancy: &str,
        filler: EntityType,
        body: &serde_json::Map<String, Value>,
    ) -> Result<Filled, StoreError> {
        if !matches!(filler, EntityType::Employee | EntityType::Contractor) {
            return Err(StoreError::Invalid("fillerType must be employee or contractor".into()));
        }
        let found = self
            .find(org, EntityType::Vacancy, vacancy)?
            .ok_or_else(|| StoreError::NotFound(format!("vacancy {vacancy:?}")))?;
        if found["isFilled"] == Value::Bool(true) {
            return Err(StoreError::Conflict("the vacancy is already filled".into()));
        }
        let vacancy_id = found["id"].as_str().unwrap_or_default().to_string();
        let timezone = Self::check_org(self.db()?.as_mut(), org)?;
        let now = Utc::now();
        let today = now.with_timezone(&timezone).date_naive().to_string();
        let crate::fill::FillerRecord { external_id, data } = match crate::fill::filler_record(filler, body, &today) {
            Ok(record) => record,
            Err(errors) => return Ok(Filled::Rejected(errors)),
        };
        if let Some(external_id) = &external_id
            && self.find_by_external_id(org, filler, external_id)?.is_some()
        {
            return Err(StoreError::Conflict(format!("{filler} with externalId {external_id:?} exists")));
        }
        let filler_id = crate::model::new_id(crate::model::id_prefix(filler));
        let record = IncomingRecord { external_id: external_id.clone().unwrap_or_else(|| filler_id.clone()), data };
        let mut guard = self.db()?;
        let db = guard.as_mut();
        let page = Page {
            org: org.as_str(),
            writer: Writer::Api { entity_id: filler_id.clone(), create: true, external_id, append: false },
            entity: filler,
            today: now.with_timezone(&timezone).date_naive(),
            now: crate::timestamp(now),
            definitions: Self::custom_definitions(db, org, filler)?,
        };
        /// Why a fill's transaction is rolled back.
        enum Undone {
            Refused(FillRefused),
            Db(DbError),
        }
        impl From<DbError> for Undone {
            fn from(error: DbError) -> Undone {
                Undone::Db(error)
            }
        }
        let planned = in_transaction(db, |db| -> Result<(), Undone> {
            // Two fills of one vacancy wait for each other; the second then finds it filled.
            db.lock_row("vacancies", page.org, &vacancy_id)?;
            let (mut world, mut prepared) = load_page(db, &page, std::slice::from_ref(&record))?;
            crate::load::load_more(db, page.org, &mut world, EntityType::Vacancy, std::slice::from_ref(&vacancy_id))?;
            let (parsed, fingerprint) = match prepared.pop() {
                Some(Prepared::Parsed(parsed, fingerprint)) => (parsed, fingerprint),
                Some(Prepared::Invalid(errors)) => return Err(Undone::Refused(FillRefused::Invalid(errors))),
                _ => unreachable!("an API write has no sync state to be unchanged against"),
            };
            plan_fill(&mut world, &page, &parsed, &fingerprint, &vacancy_id).map_err(Undone::Refused)?;
            let event_source = page.writer.event_source();
            let scope =
                WriteScope { org: page.org, source: None, event_source: &event_source, entity: filler, now: &page.now };
            db.write(&scope, &world.changes())?;
            Ok(())
        });
        match planned {
            Ok(()) => {}
            Err(Undone::Refused(FillRefused::Invalid(errors))) => return Ok(Filled::Rejected(errors)),
            Err(Undone::Refused(FillRefused::AlreadyFilled)) => {
                return Err(StoreError::Conflict("the vacancy is already filled".into()));
            }
            Err(Undone::Refused(FillRefused::NotFound)) => {
                return Err(StoreError::NotFound(format!("vacancy {vacancy:?}")));
            }
            Err(Undone::Db(DbError::Constraint(message))) => {
                return Err(StoreError::Conflict(format!(
                    "the fill conflicts with a change made meanwhile: {message}"
                )));
            }
            Err(Undone::Db(error)) => return Err(error.into()),
        }
        drop(guard);
        self.announce_change();
        let vacancy = self.find(org, EntityType::Vacancy, &vacancy_id)?;
        let filler = self.find(org, filler, &filler_id)?;
        match (vacancy, filler) {
            (Some(vacancy), Some(filler)) => Ok(Filled::Done { vacancy, filler }),
            _ => Err(StoreError::NotFound("the vacancy or its filler, deleted meanwhile".into())),
        }
    }

    fn apply(
        &self,
        org: &OrgId,
        writer: Writer<'_>,
        entity: EntityType,
        records: &[IncomingRecord],
        now: DateTime<Utc>,
    ) -> Result<PageOutcome, StoreError> {
        let mut guard = self.db()?;
        let db = guard.as_mut();
        let timezone = Self::check_org(db, org)?;
        let page = Page {
            org: org.as_str(),
            writer,
            entity,
            // "Today" (which allocations have started) is the organisation's date.
            today: now.with_timezone(&timezone).date_naive(),
            now: crate::timestamp(now),
            definitions: Self::custom_definitions(db, org, entity)?,
        };
        let outcome = match in_transaction(db, |db| apply_records(db, &page, records)) {
            Ok(outcome) => outcome,
            // The database refused a row the plan thought fine: another writer changed what
            // this page read. Again, one record at a time, each loaded afresh.
            Err(DbError::Constraint(_)) => apply_record_by_record(db, &page, records)?,
            Err(error) => return Err(error.into()),
        };
        drop(guard);
        if outcome.created + outcome.updated + outcome.deleted > 0 {
            self.announce_change();
        }
        Ok(outcome)
    }

    /// Every entity of a type, as change events show them (nested rows included), ordered by
    /// externalId.
    pub fn export(&self, org: &OrgId, entity: EntityType) -> Result<Vec<Value>, StoreError> {
        let mut db = self.reader()?;
        Self::export_where(db.as_mut(), org, entity, EntityFilter::All)
    }

    /// What [`Store::export`] gives, narrowed in the database to the entities that may
    /// mention `text` in a top-level text value, ignoring case: every one whose id,
    /// externalId, createdAt, updatedAt or a text field contains it, and perhaps others (a
    /// field's name or a number may contain it too). The caller checks each; this saves
    /// reading every row when few match.
    ///
    /// Text the database cannot look for exactly as Rust lowercases it (non-ASCII, or a
    /// character JSON escapes) or longer than 1,000 bytes gets every entity, as do
    /// assignments. An unknown organisation is `NotFound`, as for `export`.
    pub fn export_mentioning(&self, org: &OrgId, entity: EntityType, text: &str) -> Result<Vec<Value>, StoreError> {
        let mut db = self.reader()?;
        let searchable = |c: char| c.is_ascii() && !c.is_ascii_control() && c != '"' && c != '\\';
        let narrowed = entity != EntityType::Assignment
            && !text.is_empty()
            && text.len() <= MAX_SEARCHED_TEXT
            && text.chars().all(searchable);
        if !narrowed {
            return Self::export_where(db.as_mut(), org, entity, EntityFilter::All);
        }
        let text = text.to_ascii_lowercase();
        let pattern = format!("%{}%", text.replace('!', "!!").replace('%', "!%").replace('_', "!_"));
        let mentions = |column: &str| db.like_ascii_lowercase(column, "$2");
        // Two letters outside ASCII lowercase to ASCII in Rust (U+0130 to "i\u{307}", the
        // Kelvin sign to "k"): rows with them are candidates for any text.
        let exotic = |column: &str| format!("{column} LIKE $3 OR {column} LIKE $4");
        let sql = format!(
            "SELECT id FROM {} WHERE org_id = $1 AND ({} OR {} OR {} OR {} OR {} OR {} OR {})",
            crate::model::table(entity),
            mentions("id"),
            mentions("external_id"),
            mentions("fields"),
            mentions("created_at"),
            mentions("updated_at"),
            exotic("external_id"),
            exotic("fields"),
        );
        let params = [Some(org.as_str()), Some(pattern.as_str()), Some("%\u{130}%"), Some("%\u{212a}%")];
        let ids: Vec<String> =
            db.query_text(&sql, &params)?.into_iter().filter_map(|row| row.into_iter().next().flatten()).collect();
        Self::export_where(db.as_mut(), org, entity, EntityFilter::Ids(&ids))
    }

    fn export_where(
        db: &mut dyn Db,
        org: &OrgId,
        entity: EntityType,
        filter: EntityFilter<'_>,
    ) -> Result<Vec<Value>, StoreError> {
        let timezone = Self::check_org(db, org)?;
        let (world, ids) = load_entities(db, org.as_str(), entity, filter)?;
        let today = Utc::now().with_timezone(&timezone).date_naive();
        let mut entities: Vec<Value> = ids.iter().filter_map(|id| represent(&world, entity, id, today)).collect();
        // Bytewise, whatever the database's collation; entities without an externalId last.
        let key = |value: &Value| {
            let external_id = value.get("externalId").and_then(Value::as_str).map(str::to_string);
            let id = value.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
            (external_id.is_none(), external_id, id)
        };
        entities.sort_by_cached_key(key);
        Ok(entities)
    }

    /// The organisation's change events after `after_seq`, oldest first.
    pub fn change_events(&self, org: &OrgId, after_seq: i64) -> Result<Vec<ChangeEvent>, StoreError> {
        self.change_events_page(org, after_seq, i64::MAX)
    }

    /// How many organisations exist (none: the database is new).
    pub fn organization_count(&self) -> Result<i64, StoreError> {
        Ok(self.reader()?.org_count()?)
    }

    /// Creates an API key of the organisation with these scopes (each one of
    /// [`ALL_SCOPES`]). The returned token is the only copy of its secret.
    pub fn create_api_key(&self, org: &OrgId, name: &str, scopes: &[&str]) -> Result<NewApiKey, StoreError> {
        if name.trim().is_empty() {
            return Err(StoreError::Invalid("an API key needs a name".into()));
        }
        if let Some(unknown) = scopes.iter().find(|scope| !ALL_SCOPES.contains(scope)) {
            return Err(StoreError::Invalid(format!(
                "unknown scope {unknown:?}; scopes are {}",
                ALL_SCOPES.join(", ")
            )));
        }
        let mut db = self.db()?;
        Self::check_org(db.as_mut(), org)?;
        let id = uuid::Uuid::now_v7().simple().to_string();
        let secret = new_secret();
        let row = ApiKeyRow {
            id: id.clone(),
            org_id: org.as_str().to_string(),
            name: name.to_string(),
            secret_sha256: sha256_hex(&secret),
            scopes: scopes.iter().map(|scope| scope.to_string()).collect(),
            created_at: crate::timestamp(Utc::now()),
            revoked_at: None,
        };
        db.insert_api_key(&row)?;
        let key =
            ApiKey { id: row.id, org: org.clone(), name: row.name, scopes: row.scopes, created_at: row.created_at };
        Ok(NewApiKey { key, token: crate::keys::token(&id, &secret) })
    }

    /// The key a bearer token stands for, if the token is one of ours and not revoked.
    pub fn authenticate(&self, token: &str) -> Result<Option<ApiKey>, StoreError> {
        let Some((id, secret)) = parse_token(token) else { return Ok(None) };
        let Some(row) = self.reader()?.api_key(id)? else { return Ok(None) };
        if row.revoked_at.is_some() || !same_secret(&row.secret_sha256, &sha256_hex(secret)) {
            return Ok(None);
        }
        Ok(Some(ApiKey {
            id: row.id,
            org: OrgId(row.org_id),
            name: row.name,
            scopes: row.scopes,
            created_at: row.created_at,
        }))
    }

    /// Revokes one of the organisation's keys; whether it was live.
    pub fn revoke_api_key(&self, org: &OrgId, id: &str) -> Result<bool, StoreError> {
        let mut db = self.db()?;
        Self::check_org(db.as_mut(), org)?;
        Ok(db.revoke_api_key(org.as_str(), id, &crate::timestamp(Utc::now()))?)
    }

    /// At most `limit` of the organisation's change events after `after_seq`, oldest first.
    pub fn change_events_page(&self, org: &OrgId, after_seq: i64, limit: i64) -> Result<Vec<ChangeEvent>, StoreError> {
        let mut db = self.reader()?;
        Self::check_org(db.as_mut(), org)?;
        Ok(db.change_events(org.as_str(), after_seq, limit)?)
    }

    /// When `source` last applied the record with this externalId (RFC 3339), if it did.
    pub fn last_synced_at(
        &self,
        org: &OrgId,
        source: &str,
        entity: EntityType,
        external_id: &str,
    ) -> Result<Option<String>, StoreError> {
        let mut db = self.reader()?;
        Self::check_org(db.as_mut(), org)?;
        let states = db.sync_states(org.as_str(), source, entity, &[external_id.to_string()])?;
        Ok(states.into_iter().next().map(|state| state.last_synced_at))
    }

    /// One page (1-based) of the organisation's entities of a type, ordered in the database
    /// by `order` (absent values last, reversed when `descending`; ties by id), and how many
    /// there are. The same order a list sorted in memory has, without reading every row.
    pub fn list_page(
        &self,
        org: &OrgId,
        entity: EntityType,
        query: &ListPageQuery,
    ) -> Result<(Vec<Value>, usize), StoreError> {
        let ListPageQuery { order, descending, exclude_filled, page, limit } = *query;
        if entity == EntityType::Assignment {
            return Err(StoreError::Invalid("assignments are listed whole".into()));
        }
        let mut db = self.reader()?;
        let timezone = Self::check_org(db.as_mut(), org)?;
        let today = Utc::now().with_timezone(&timezone).date_naive();
        let today_text = today.to_string();
        let table = crate::model::table(entity);
        // Vacancies currently filled (`isFilled`: a filler linked whose endDate is not past)
        // left out, as represent.rs decides it.
        let filter = if entity == EntityType::Vacancy && exclude_filled {
            let collate = db.bytewise();
            let ended = |filler: &str, column: &str| {
                let end = db.json_field("f.fields", "endDate");
                format!(
                    "({column} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {filler} f WHERE f.org_id = $1 AND f.id = {column} AND {end} IS NOT NULL AND {end}{collate} < $2{collate}))"
                )
            };
            format!(
                " AND NOT ({} OR {})",
                ended("employees", "filled_by_employee_id"),
                ended("contractors", "filled_by_contractor_id")
            )
        } else {
            // The same parameters either way: $2 is always bound.
            " AND CAST($2 AS TEXT) IS NOT NULL".to_string()
        };
        let params = [Some(org.as_str()), Some(today_text.as_str())];
        let total =
            db.query_text(&format!("SELECT CAST(COUNT(*) AS TEXT) FROM {table} WHERE org_id = $1{filter}"), &params)?;
        let total = crate::db::first_number(&total).unwrap_or(0);
        let (value, is_text) = order.expression(db.as_ref());
        let (collate, direction) = (db.bytewise(), if descending { "DESC" } else { "ASC" });
        let value_collate = if is_text { collate } else { "" };
        let sql = format!(
            "SELECT id FROM {table} WHERE org_id = $1{filter}
             ORDER BY ({value} IS NULL) {direction}, {value}{value_collate} {direction}, id{collate} ASC {}",
            crate::db::limit_offset(page, limit)
        );
        let ids: Vec<String> =
            db.query_text(&sql, &params)?.into_iter().filter_map(|row| row.into_iter().next().flatten()).collect();
        let (world, _) = load_entities(db.as_mut(), org.as_str(), entity, EntityFilter::Ids(&ids))?;
        let rows = ids.iter().filter_map(|id| represent(&world, entity, id, today)).collect();
        Ok((rows, total))
    }

    /// The entity with this id or, failing that, this externalId, as export shows it.
    pub fn find(&self, org: &OrgId, entity: EntityType, id_or_external_id: &str) -> Result<Option<Value>, StoreError> {
        if id_or_external_id.contains('\0') {
            return Ok(None); // never stored (PostgreSQL could not even be asked)
        }
        let mut db = self.reader()?;
        let timezone = Self::check_org(db.as_mut(), org)?;
        let keys = [id_or_external_id.to_string()];
        let today = Utc::now().with_timezone(&timezone).date_naive();
        for filter in [EntityFilter::Ids(&keys), EntityFilter::ExternalIds(&keys)] {
            let (world, ids) = load_entities(db.as_mut(), org.as_str(), entity, filter)?;
            // An assignment row without an externalId is a resource's nested allocation, not
            // an Assignment entity: it is found (and changed) through its resource only.
            let entity_row = |id: &&String| {
                entity != EntityType::Assignment || world.assignment(id).is_some_and(|row| row.external_id.is_some())
            };
            if let Some(found) = ids.first().filter(entity_row).and_then(|id| represent(&world, entity, id, today)) {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }

    /// The entity with this externalId, as export shows it.
    pub fn find_by_external_id(
        &self,
        org: &OrgId,
        entity: EntityType,
        external_id: &str,
    ) -> Result<Option<Value>, StoreError> {
        if external_id.contains('\0') {
            return Ok(None); // never stored (PostgreSQL could not even be asked)
        }
        let mut db = self.reader()?;
        let timezone = Self::check_org(db.as_mut(), org)?;
        let keys = [external_id.to_string()];
        let (world, ids) = load_entities(db.as_mut(), org.as_str(), entity, EntityFilter::ExternalIds(&keys))?;
        let today = Utc::now().with_timezone(&timezone).date_naive();
        Ok(ids.first().and_then(|id| represent(&world, entity, id, today)))
    }
}

/// Load, plan, write: the page in one go.
fn apply_records(db: &mut dyn Db, page: &Page<'_>, records: &[IncomingRecord]) -> Result<PageOutcome, DbError> {
    let started = Instant::now();
    let (mut world, prepared) = load_page(db, page, records)?;
    let loaded = Instant::now();
    let outcome = plan_page(&mut world, page, records, prepared);
    let planned = Instant::now();
    let event_source = page.writer.event_source();
    let scope = WriteScope {
        org: page.org,
        source: page.writer.owner(),
        event_source: &event_source,
        entity: page.entity,
        now: &page.now,
    };
    db.write(&scope, &world.changes())?;
    let millis = |from: Instant, to: Instant| (to - from).as_secs_f64() * 1e3;
    tracing::debug!(
        records = records.len(),
        load_ms = millis(started, loaded),
        plan_ms = millis(loaded, planned),
        write_ms = millis(planned, Instant::now()),
        "page applied"
    );
    Ok(outcome)
}

/// The slow path: each record loaded, planned and written in its own savepoint; a record
/// the database refuses is reported with the database's reason.
fn apply_record_by_record(
    db: &mut dyn Db,
    page: &Page<'_>,
    records: &[IncomingRecord],
) -> Result<PageOutcome, StoreError> {
    let mut outcome = PageOutcome::default();
    in_transaction(db, |db| -> Result<(), DbError> {
        for record in records {
            db.run(Transaction::Savepoint)?;
            match apply_records(db, page, std::slice::from_ref(record)) {
                Ok(applied) => {
                    db.run(Transaction::Release)?;
                    outcome.absorb(applied);
                }
                Err(DbError::Constraint(message)) => {
                    db.run(Transaction::RollbackToSavepoint)?;
                    db.run(Transaction::Release)?;
                    outcome.errors.push(RecordError {
                        external_id: record.external_id.clone(),
                        field: None,
                        message: format!("the database refused this record: {message}"),
                    });
                }
                Err(error) => return Err(error),
            }
        }
        Ok(())
    })?;
    Ok(outcome)
}
