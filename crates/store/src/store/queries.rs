//! Reads: entities as the API shows them (lists, finds, exports and searches), and change
//! events.

use chrono::Utc;
use flowstate_sync::EntityType;
use serde_json::Value;

use super::Store;
use crate::{
    OrgId, StoreError,
    db::{Db, EntityFilter},
    load::load_entities,
    represent::represent,
};

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
pub(super) const MAX_SEARCHED_TEXT: usize = 1_000;

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

impl Store {
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

    pub(super) fn export_where(
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
