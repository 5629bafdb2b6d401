//! Writes through the REST API: one entity created, changed or deleted, and a vacancy filled.

use chrono::Utc;
use flowstate_sync::{EntityType, RecordError};
use serde_json::Value;

use super::Store;
use crate::{
    IncomingRecord, OrgId, StoreError,
    db::{DbError, WriteScope, in_transaction},
    load::load_page,
    plan::{FillRefused, Page, Prepared, Writer, plan_fill},
};

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

/// The result of [`Store::fill_vacancy`].
#[derive(Clone, Debug, PartialEq)]
pub enum Filled {
    /// The vacancy and its new filler, as they are now.
    Done { vacancy: Value, filler: Value },
    /// The body broke a rule: one error per field, nothing written.
    Rejected(Vec<RecordError>),
}

impl Store {
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
}
