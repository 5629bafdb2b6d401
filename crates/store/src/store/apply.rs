//! Applying a page of synced records: planned in one pass and written in one transaction,
//! or, when the database refuses a row another writer made stale, again record by record.

use std::time::Instant;

use chrono::{DateTime, Utc};
use flowstate_sync::{EntityType, RecordError};

use super::Store;
use crate::{
    IncomingRecord, OrgId, PageOutcome, StoreError,
    db::{Db, DbError, Transaction, WriteScope, in_rolled_back_transaction, in_transaction},
    load::load_page,
    plan::{Page, Writer, plan_page},
    sync_plan::{self, PlannedRecord, SyncPlan},
};

/// Load, plan, write: the page in one go. With a `trace`, each record's fate is added to it
/// (a plan), also when the write then fails: the caller cuts it back.
pub(super) fn apply_records(
    db: &mut dyn Db,
    page: &Page<'_>,
    records: &[IncomingRecord],
    trace: Option<&mut Vec<PlannedRecord>>,
) -> Result<PageOutcome, DbError> {
    let started = Instant::now();
    let (mut world, prepared) = load_page(db, page, records)?;
    let loaded = Instant::now();
    let outcome = plan_page(&mut world, page, records, prepared, trace);
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
pub(super) fn apply_record_by_record(
    db: &mut dyn Db,
    page: &Page<'_>,
    records: &[IncomingRecord],
) -> Result<PageOutcome, StoreError> {
    Ok(in_transaction(db, |db| apply_each_record(db, page, records, None))?)
}

/// [`apply_record_by_record`] inside a transaction already open.
fn apply_each_record(
    db: &mut dyn Db,
    page: &Page<'_>,
    records: &[IncomingRecord],
    mut trace: Option<&mut Vec<PlannedRecord>>,
) -> Result<PageOutcome, DbError> {
    let mut outcome = PageOutcome::default();
    for record in records {
        db.run(Transaction::Savepoint)?;
        let traced = trace.as_ref().map_or(0, |trace| trace.len());
        match apply_records(db, page, std::slice::from_ref(record), trace.as_deref_mut()) {
            Ok(applied) => {
                db.run(Transaction::Release)?;
                outcome.absorb(applied);
            }
            Err(DbError::Constraint(message)) => {
                db.run(Transaction::RollbackToSavepoint)?;
                db.run(Transaction::Release)?;
                let error = RecordError {
                    external_id: record.external_id.clone(),
                    field: None,
                    message: format!("the database refused this record: {message}"),
                };
                if let Some(trace) = trace.as_deref_mut() {
                    trace.truncate(traced);
                    trace.push(sync_plan::refused(&record.external_id, vec![error.clone()]));
                }
                outcome.errors.push(error);
            }
            Err(error) => return Err(error),
        }
    }
    Ok(outcome)
}

/// Plans pages in order, each seeing what the earlier ones did, in a transaction that is
/// then rolled back.
fn plan_pages(db: &mut dyn Db, page: &Page<'_>, pages: &[Vec<IncomingRecord>]) -> Result<SyncPlan, DbError> {
    let mut plan = SyncPlan::default();
    for (index, records) in pages.iter().enumerate() {
        let traced = plan.records.len();
        db.run(Transaction::Savepoint)?;
        let outcome = match apply_records(db, page, records, Some(&mut plan.records)) {
            Ok(outcome) => {
                db.run(Transaction::Release)?;
                outcome
            }
            // As a sync would: again, one record at a time.
            Err(DbError::Constraint(_)) => {
                db.run(Transaction::RollbackToSavepoint)?;
                db.run(Transaction::Release)?;
                plan.records.truncate(traced);
                apply_each_record(db, page, records, Some(&mut plan.records))?
            }
            Err(error) => return Err(error),
        };
        for record in &mut plan.records[traced..] {
            record.page = index;
        }
        plan.totals.absorb(outcome.clone());
        plan.pages.push(outcome);
    }
    Ok(plan)
}

/// The writer of a sync of `source` (a source system key, which must not be blank).
fn sync_writer(source: &str) -> Result<Writer<'_>, StoreError> {
    if source.trim().is_empty() {
        return Err(StoreError::Invalid("the source system key must not be blank".into()));
    }
    Ok(Writer::Sync(source))
}

impl Store {
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
        self.apply(org, sync_writer(source)?, entity, records, now)
    }

    /// What applying these pages from `source` would do, record by record, pages in order
    /// and each seeing the earlier ones: the sync's own load, plan and write, in a
    /// transaction rolled back at the end. Nothing is kept: no entity, sync state or change
    /// event (so no PUSH), and no listener is told.
    pub fn plan_sync(
        &self,
        org: &OrgId,
        source: &str,
        entity: EntityType,
        pages: &[Vec<IncomingRecord>],
        now: DateTime<Utc>,
    ) -> Result<SyncPlan, StoreError> {
        let writer = sync_writer(source)?;
        let mut guard = self.db()?;
        let db = guard.as_mut();
        let page = self.page(db, org, writer, entity, now)?;
        Ok(in_rolled_back_transaction(db, |db| plan_pages(db, &page, pages))?)
    }

    /// What every record of a page applied by `writer` at `now` shares.
    fn page<'a>(
        &self,
        db: &mut dyn Db,
        org: &'a OrgId,
        writer: Writer<'a>,
        entity: EntityType,
        now: DateTime<Utc>,
    ) -> Result<Page<'a>, StoreError> {
        let timezone = Self::check_org(db, org)?;
        Ok(Page {
            org: org.as_str(),
            writer,
            entity,
            // "Today" (which allocations have started) is the organisation's date.
            today: now.with_timezone(&timezone).date_naive(),
            now: crate::timestamp(now),
            definitions: Self::custom_definitions(db, org, entity)?,
        })
    }

    pub(super) fn apply(
        &self,
        org: &OrgId,
        writer: Writer<'_>,
        entity: EntityType,
        records: &[IncomingRecord],
        now: DateTime<Utc>,
    ) -> Result<PageOutcome, StoreError> {
        let mut guard = self.db()?;
        let db = guard.as_mut();
        let page = self.page(db, org, writer, entity, now)?;
        let outcome = match in_transaction(db, |db| apply_records(db, &page, records, None)) {
            Ok(outcome) => outcome,
            // A REST write is one record: loaded afresh and tried again. Refused again, a
            // unique key (an externalId, an email) was taken by a write committed between
            // this one's check and its insert: the conflict it would have been a moment
            // later, not a bad field (and the database's words stay in the log).
            Err(DbError::Constraint(_)) if matches!(page.writer, Writer::Api { .. }) => {
                match in_transaction(db, |db| apply_records(db, &page, records, None)) {
                    Ok(outcome) => outcome,
                    Err(DbError::Constraint(message)) => {
                        tracing::info!(%entity, %message, "an API write was refused by a unique key");
                        return Err(StoreError::Conflict(format!(
                            "the {entity} conflicts with one stored meanwhile (its externalId or email is taken)"
                        )));
                    }
                    Err(error) => return Err(error.into()),
                }
            }
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
}
