//! The SQLite store (the embedded default): one connection, WAL, a transaction per page
//! with a savepoint per record.

use std::{path::Path, sync::Mutex};

use chrono::{DateTime, Utc};
use flowstate_sync::{CustomAttributeDefinition, CustomFieldType, EntityType, Fingerprint};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use crate::{
    IncomingRecord, OrgId, PageOutcome, StoreError,
    apply::{PageContext, RecordFailure, apply_record, find_existing, touch},
    migrate::migrate_sqlite,
    model::{new_id, represent, table},
};

/// The workforce store on SQLite.
pub struct Store {
    connection: Mutex<Connection>,
}

/// One change event of the outbox.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeEvent {
    pub seq: i64,
    pub id: String,
    pub entity_type: String,
    pub entity_id: String,
    pub change_type: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub source: String,
}

impl Store {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub fn open_sqlite(path: &Path) -> Result<Store, StoreError> {
        let mut connection = Connection::open(path)?;
        // temp_store: the per-record savepoints' sub-journals stay in memory rather than in a
        // temporary file; cache_size: 64 MB of page cache; wal_autocheckpoint: checkpoint
        // every ~40 MB of WAL rather than 4 MB, so index pages rewritten by many records of
        // a sync are copied back once.
        connection.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;
             PRAGMA temp_store = MEMORY; PRAGMA cache_size = -65536; PRAGMA wal_autocheckpoint = 10000;",
        )?;
        migrate_sqlite(&mut connection)?;
        Ok(Store { connection: Mutex::new(connection) })
    }

    fn connection(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.connection.lock().expect("store lock")
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
        if timezone.trim().is_empty() || timezone.contains(' ') {
            return Err(StoreError::Invalid(format!(
                "timezone must be an IANA name such as Europe/London, got {timezone:?}"
            )));
        }
        let id = new_id("org");
        self.connection().execute(
            "INSERT INTO organizations (id, name, timezone, currency, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, name, timezone, currency, Utc::now().to_rfc3339()],
        )?;
        Ok(OrgId(id))
    }

    fn check_org(connection: &Connection, org: &OrgId) -> Result<(), StoreError> {
        let exists: bool = connection.query_row(
            "SELECT EXISTS (SELECT 1 FROM organizations WHERE id = ?1)",
            [org.as_str()],
            |row| row.get(0),
        )?;
        if exists { Ok(()) } else { Err(StoreError::UnknownOrg(org.clone())) }
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
        // data-model.md: lowercase letters, digits and `_`, starting with a letter, at most 100.
        let key_ok = key.len() <= 100
            && key.starts_with(|c: char| c.is_ascii_lowercase())
            && key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !key_ok {
            return Err(StoreError::Invalid(format!(
                "attributeKey {key:?} must be lowercase letters, digits and _, start with a letter, at most 100 characters"
            )));
        }
        if name.trim().is_empty() {
            return Err(StoreError::Invalid("a custom attribute needs a name".into()));
        }
        if entities.is_empty() || entities.contains(&EntityType::Assignment) {
            return Err(StoreError::Invalid(
                "entityTypes must be some of employee, contractor, vacancy, team and project".into(),
            ));
        }
        let connection = self.connection();
        Self::check_org(&connection, org)?;
        let field_type = serde_json::to_value(field_type).expect("serializes").as_str().unwrap_or_default().to_string();
        let entities: Vec<String> = entities.iter().map(|entity| entity.as_str().to_uppercase()).collect();
        let now = Utc::now().to_rfc3339();
        let inserted = connection.execute(
            "INSERT INTO custom_attribute_definitions (id, org_id, name, attribute_key, field_type, entity_types, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
            params![new_id("cad"), org.as_str(), name, key, field_type, serde_json::to_string(&entities).expect("serializes"), now],
        );
        match inserted {
            Err(rusqlite::Error::SqliteFailure(failure, _))
                if failure.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Err(StoreError::Invalid(format!(
                    "a custom attribute named {name:?} or keyed {key:?} is already defined"
                )))
            }
            other => other.map(|_| ()).map_err(StoreError::from),
        }
    }

    fn custom_definitions(
        connection: &Connection,
        org: &OrgId,
        entity: EntityType,
    ) -> Result<Vec<CustomAttributeDefinition>, StoreError> {
        let mut statement = connection.prepare_cached(
            "SELECT attribute_key, field_type, entity_types FROM custom_attribute_definitions WHERE org_id = ?1 AND is_active = 1",
        )?;
        let rows = statement.query_map([org.as_str()], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?, row.get::<_, String>(2)?))
        })?;
        let wanted = entity.as_str().to_uppercase();
        let mut definitions = Vec::new();
        for row in rows {
            let (key, field_type, entities) = row?;
            let entities: Vec<String> = serde_json::from_str(&entities).unwrap_or_default();
            if !entities.contains(&wanted) {
                continue;
            }
            let field_type: CustomFieldType = serde_json::from_value(Value::String(field_type))
                .map_err(|error| StoreError::Database(error.to_string()))?;
            definitions.push(CustomAttributeDefinition { attribute_key: key, field_type });
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
        let mut connection = self.connection();
        Self::check_org(&connection, org)?;
        let page = PageContext {
            org: org.as_str(),
            source,
            entity,
            today: now.date_naive(),
            now: now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            custom_definitions: Self::custom_definitions(&connection, org, entity)?,
            targets: Default::default(),
        };
        let mut outcome = PageOutcome::default();
        let mut transaction = connection.transaction()?;
        for record in records {
            let fingerprint = Fingerprint::of(&record.data);
            let existing = find_existing(&transaction, &page, &record.external_id)?;
            if existing.as_ref().and_then(|existing| existing.fingerprint.as_deref()) == Some(fingerprint.as_str()) {
                // A re-run of what this source last applied: no validation, no write but
                // lastSyncedAt, no event.
                touch(&transaction, &page, &record.external_id)?;
                outcome.unchanged += 1;
                continue;
            }
            let savepoint = transaction.savepoint()?;
            match apply_record(&savepoint, &page, record, existing, &fingerprint) {
                Ok(applied) => {
                    savepoint.commit()?;
                    outcome.absorb(applied);
                }
                Err(RecordFailure::Rejected(errors)) => {
                    drop(savepoint); // rolls back this record only
                    page.targets.borrow_mut().clear();
                    outcome.errors.extend(errors);
                }
                Err(RecordFailure::Store(error)) => return Err(error),
            }
        }
        transaction.commit()?;
        Ok(outcome)
    }

    /// Every entity of a type, as change events show them (nested rows included), ordered by
    /// externalId.
    pub fn export(&self, org: &OrgId, entity: EntityType) -> Result<Vec<Value>, StoreError> {
        let connection = self.connection();
        Self::check_org(&connection, org)?;
        let today = Utc::now().date_naive();
        let mut statement = connection
            .prepare(&format!("SELECT id FROM {} WHERE org_id = ?1 ORDER BY external_id, id", table(entity)))?;
        let ids: Vec<String> =
            statement.query_map([org.as_str()], |row| row.get(0))?.collect::<rusqlite::Result<_>>()?;
        let mut entities = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(value) = represent(&connection, org.as_str(), entity, &id, today)? {
                entities.push(value);
            }
        }
        Ok(entities)
    }

    /// The organisation's change events after `after_seq`, oldest first.
    pub fn change_events(&self, org: &OrgId, after_seq: i64) -> Result<Vec<ChangeEvent>, StoreError> {
        let connection = self.connection();
        Self::check_org(&connection, org)?;
        let mut statement = connection.prepare(
            "SELECT seq, entity_type, entity_id, change_type, before, after, source FROM change_events WHERE org_id = ?1 AND seq > ?2 ORDER BY seq",
        )?;
        let parse = |text: Option<String>| text.and_then(|text| serde_json::from_str(&text).ok());
        let events = statement.query_map(params![org.as_str(), after_seq], |row| {
            let seq: i64 = row.get(0)?;
            Ok(ChangeEvent {
                seq,
                id: format!("evt_{seq}"),
                entity_type: row.get(1)?,
                entity_id: row.get(2)?,
                change_type: row.get(3)?,
                before: parse(row.get(4)?),
                after: parse(row.get(5)?),
                source: row.get(6)?,
            })
        })?;
        Ok(events.collect::<rusqlite::Result<_>>()?)
    }

    /// The entity with this externalId, as export shows it.
    pub fn find_by_external_id(
        &self,
        org: &OrgId,
        entity: EntityType,
        external_id: &str,
    ) -> Result<Option<Value>, StoreError> {
        let connection = self.connection();
        Self::check_org(&connection, org)?;
        let id: Option<String> = connection
            .query_row(
                &format!("SELECT id FROM {} WHERE org_id = ?1 AND external_id = ?2", table(entity)),
                params![org.as_str(), external_id],
                |row| row.get(0),
            )
            .optional()?;
        match id {
            Some(id) => Ok(represent(&connection, org.as_str(), entity, &id, Utc::now().date_naive())?),
            None => Ok(None),
        }
    }
}
