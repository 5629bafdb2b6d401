//! An organisation's reference data over the REST API: job roles, custom attribute
//! definitions and exchange rates. These tables are read and written with SQL both backends
//! share.

use serde::Serialize;
use serde_json::Value;

use crate::{
    OrgId, Store, StoreError,
    db::{DbError, Named},
    model::new_id,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobRole {
    pub id: String,
    pub external_id: Option<String>,
    pub title: String,
    pub created_at: String,
    pub updated_at: String,
}

/// A custom attribute's key (data-model.md "Common"): lowercase letters, digits and `_`,
/// starting with a letter, at most 100 characters. The one place that rule is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttributeKey(String);

impl AttributeKey {
    const MAX: usize = 100;

    pub fn parse(text: &str) -> Result<AttributeKey, StoreError> {
        let valid = text.len() <= Self::MAX
            && text.starts_with(|c: char| c.is_ascii_lowercase())
            && text.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            return Err(StoreError::Invalid(format!(
                "attributeKey {text:?} must be lowercase letters, digits and _, start with a letter, at most 100 characters"
            )));
        }
        Ok(AttributeKey(text.to_string()))
    }

    /// The key made from a definition's name when none is given: lowercased, each run of
    /// other characters one `_`, `attr_` in front when it would not start with a letter.
    pub fn from_name(name: &str) -> AttributeKey {
        let mut key = String::new();
        for c in name.trim().chars().flat_map(char::to_lowercase) {
            if c.is_ascii_alphanumeric() {
                key.push(c);
            } else if !key.ends_with('_') && !key.is_empty() {
                key.push('_');
            }
        }
        let key = key.trim_end_matches('_');
        let key =
            if key.starts_with(|c: char| c.is_ascii_lowercase()) { key.to_string() } else { format!("attr_{key}") };
        AttributeKey(key.chars().take(Self::MAX).collect())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A custom attribute definition (data-model.md "Common").
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomAttributeDefinitionInfo {
    pub id: String,
    pub name: String,
    pub attribute_key: String,
    /// `STRING|NUMBER|DATE|DATE_RANGE`.
    pub field_type: String,
    /// Upper-case: `EMPLOYEE`, `CONTRACTOR`, `VACANCY`, `TEAM`, `PROJECT`.
    pub entity_types: Vec<String>,
    pub is_required: bool,
    pub is_active: bool,
    pub created_at: String,
}

/// 1 `fromCurrency` = `rate` `toCurrency`, from `effectiveDate` on.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExchangeRate {
    pub id: String,
    pub from_currency: String,
    pub to_currency: String,
    pub rate: f64,
    pub effective_date: String,
    pub created_at: String,
    pub updated_at: String,
}

fn job_role(row: &[Option<String>]) -> JobRole {
    let row = Named::new(JOB_ROLE_COLUMNS, row);
    JobRole {
        id: row.text("id"),
        external_id: row.optional("external_id"),
        title: row.text("title"),
        created_at: row.text("created_at"),
        updated_at: row.text("updated_at"),
    }
}

fn exchange_rate(row: &[Option<String>]) -> ExchangeRate {
    let row = Named::new(RATE_COLUMNS, row);
    ExchangeRate {
        id: row.text("id"),
        from_currency: row.text("from_currency"),
        to_currency: row.text("to_currency"),
        rate: row.text("rate").parse().unwrap_or(f64::NAN),
        effective_date: row.text("effective_date"),
        created_at: row.text("created_at"),
        updated_at: row.text("updated_at"),
    }
}

/// An ISO 4217 code's shape: three capital letters ([`flowstate_sync::CurrencyCode`]).
pub const CURRENCY_PATTERN: &str = flowstate_sync::CurrencyCode::PATTERN;

fn is_currency(code: &str) -> bool {
    flowstate_sync::CurrencyCode::parse(code).is_some()
}

const JOB_ROLE_COLUMNS: &str = "id, external_id, title, created_at, updated_at";
const RATE_COLUMNS: &str = "id, from_currency, to_currency, rate, effective_date, created_at, updated_at";

impl Store {
    /// The organisation's job roles, by title.
    pub fn job_roles(&self, org: &OrgId) -> Result<Vec<JobRole>, StoreError> {
        let mut db = self.reader()?;
        Self::check_org(db.as_mut(), org)?;
        let sql = format!("SELECT {JOB_ROLE_COLUMNS} FROM job_roles WHERE org_id = $1 ORDER BY title, id");
        Ok(db.query_text(&sql, &[Some(org.as_str())])?.iter().map(|row| job_role(row)).collect())
    }

    /// A new job role. Syncs upsert roles by externalId, else by title, so both must be free:
    /// a taken externalId, or a taken title for a role without one, is a `Conflict`.
    pub fn create_job_role(&self, org: &OrgId, title: &str, external_id: Option<&str>) -> Result<JobRole, StoreError> {
        if title.trim().is_empty() {
            return Err(StoreError::Invalid("title must not be blank".into()));
        }
        if external_id.is_some_and(|id| id.trim().is_empty()) {
            return Err(StoreError::Invalid("externalId must not be blank".into()));
        }
        let existing = self.job_roles(org)?;
        if let Some(taken) =
            external_id.and_then(|id| existing.iter().find(|role| role.external_id.as_deref() == Some(id)))
        {
            return Err(StoreError::Conflict(format!(
                "job role {:?} has externalId {:?}",
                taken.title,
                external_id.unwrap_or_default()
            )));
        }
        if external_id.is_none() && existing.iter().any(|role| role.title == title) {
            return Err(StoreError::Conflict(format!("a job role titled {title:?} exists")));
        }
        let now = flowstate_time::now();
        let role = JobRole {
            id: new_id("role"),
            external_id: external_id.map(str::to_string),
            title: title.to_string(),
            created_at: now.clone(),
            updated_at: now,
        };
        self.db()?
            .execute_text(
                &format!("INSERT INTO job_roles (org_id, {JOB_ROLE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"),
                &[
                    Some(org.as_str()),
                    Some(&role.id),
                    role.external_id.as_deref(),
                    Some(&role.title),
                    Some(&role.created_at),
                    Some(&role.updated_at),
                ],
            )
            .map_err(|error| match error {
                DbError::Constraint(_) => StoreError::Conflict("that externalId was taken meanwhile".into()),
                other => other.into(),
            })?;
        Ok(role)
    }

    /// The organisation's active custom attribute definitions, by attributeKey.
    pub fn custom_attribute_definitions(&self, org: &OrgId) -> Result<Vec<CustomAttributeDefinitionInfo>, StoreError> {
        let mut db = self.reader()?;
        Self::check_org(db.as_mut(), org)?;
        Ok(db
            .definitions(org.as_str())?
            .into_iter()
            .map(|row| CustomAttributeDefinitionInfo {
                id: row.id,
                name: row.name,
                attribute_key: row.attribute_key,
                field_type: row.field_type,
                entity_types: row.entity_types,
                // Not settable yet: every definition is optional and active.
                is_required: false,
                is_active: true,
                created_at: row.created_at,
            })
            .collect())
    }

    /// The organisation's exchange rates, by pair then date.
    pub fn exchange_rates(&self, org: &OrgId) -> Result<Vec<ExchangeRate>, StoreError> {
        let mut db = self.reader()?;
        Self::check_org(db.as_mut(), org)?;
        let sql = format!(
            "SELECT {RATE_COLUMNS} FROM exchange_rates WHERE org_id = $1 ORDER BY from_currency, to_currency, effective_date"
        );
        Ok(db.query_text(&sql, &[Some(org.as_str())])?.iter().map(|row| exchange_rate(row)).collect())
    }

    /// Sets the rate of a currency pair from a date on (replacing the rate of that pair and
    /// date, if any).
    pub fn put_exchange_rate(
        &self,
        org: &OrgId,
        from: &str,
        to: &str,
        rate: f64,
        effective_date: &str,
    ) -> Result<ExchangeRate, StoreError> {
        for (field, code) in [("fromCurrency", from), ("toCurrency", to)] {
            if !is_currency(code) {
                return Err(StoreError::Invalid(format!("{field} must be an ISO 4217 code such as GBP, got {code:?}")));
            }
        }
        if from == to {
            return Err(StoreError::Invalid("fromCurrency and toCurrency must differ".into()));
        }
        if !(rate.is_finite() && rate > 0.0) {
            return Err(StoreError::Invalid(format!("rate must be a positive number, got {rate}")));
        }
        if flowstate_sync::parse_date(effective_date).is_none() {
            return Err(StoreError::Invalid(format!(
                "effectiveDate must be a date YYYY-MM-DD, got {effective_date:?}"
            )));
        }
        let now = flowstate_time::now();
        let mut db = self.db()?;
        Self::check_org(db.as_mut(), org)?;
        let rate_text = Value::from(rate).to_string();
        db.execute_text(
            "INSERT INTO exchange_rates (id, org_id, from_currency, to_currency, rate, effective_date, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
             ON CONFLICT (org_id, from_currency, to_currency, effective_date) DO UPDATE SET rate = excluded.rate, updated_at = excluded.updated_at",
            &[Some(&new_id("fx")), Some(org.as_str()), Some(from), Some(to), Some(&rate_text), Some(effective_date), Some(&now)],
        )?;
        let sql = format!(
            "SELECT {RATE_COLUMNS} FROM exchange_rates WHERE org_id = $1 AND from_currency = $2 AND to_currency = $3 AND effective_date = $4"
        );
        let rows = db.query_text(&sql, &[Some(org.as_str()), Some(from), Some(to), Some(effective_date)])?;
        rows.first()
            .map(|row| exchange_rate(row))
            .ok_or_else(|| StoreError::Database("the rate just written is missing".into()))
    }

    /// Whether the organisation had such a rate.
    pub fn delete_exchange_rate(&self, org: &OrgId, id: &str) -> Result<bool, StoreError> {
        let mut db = self.db()?;
        Self::check_org(db.as_mut(), org)?;
        Ok(db.execute_text(
            "DELETE FROM exchange_rates WHERE org_id = $1 AND id = $2",
            &[Some(org.as_str()), Some(id)],
        )? == 1)
    }
}

/// A work type: its overhead loads the cost of the employees and vacancies that name it
/// (forecast.md "Work types").
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkType {
    pub id: String,
    pub name: String,
    pub external_id: Option<String>,
    /// `30` is 30 %; a decimal as written.
    pub overhead_percentage: f64,
    pub created_at: String,
    pub updated_at: String,
}

/// What a `PATCH` changes: `None` keeps a field; `Some(None)` clears the externalId.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkTypeUpdate {
    pub name: Option<String>,
    pub external_id: Option<Option<String>>,
    pub overhead_percentage: Option<f64>,
}

const WORK_TYPE_COLUMNS: &str = "id, name, external_id, overhead_percentage, created_at, updated_at";

fn work_type(row: &[Option<String>]) -> WorkType {
    let row = Named::new(WORK_TYPE_COLUMNS, row);
    WorkType {
        id: row.text("id"),
        name: row.text("name"),
        external_id: row.optional("external_id"),
        overhead_percentage: row.text("overhead_percentage").parse().unwrap_or(0.0),
        created_at: row.text("created_at"),
        updated_at: row.text("updated_at"),
    }
}

fn check_work_type(name: &str, external_id: Option<&str>, overhead: f64) -> Result<(), StoreError> {
    if name.trim().is_empty() {
        return Err(StoreError::Invalid("name must not be blank".into()));
    }
    if external_id.is_some_and(|id| id.trim().is_empty()) {
        return Err(StoreError::Invalid("externalId must not be blank".into()));
    }
    if !(overhead.is_finite() && overhead >= 0.0) {
        return Err(StoreError::Invalid(format!("overheadPercentage must be a number ≥ 0, got {overhead}")));
    }
    Ok(())
}

fn work_type_conflict(error: DbError) -> StoreError {
    match error {
        DbError::Constraint(_) => StoreError::Conflict("a work type with that name or externalId exists".into()),
        other => other.into(),
    }
}

impl Store {
    /// The organisation's work types, by name.
    pub fn work_types(&self, org: &OrgId) -> Result<Vec<WorkType>, StoreError> {
        let mut db = self.reader()?;
        Self::check_org(db.as_mut(), org)?;
        let sql = format!("SELECT {WORK_TYPE_COLUMNS} FROM work_types WHERE org_id = $1 ORDER BY name, id");
        Ok(db.query_text(&sql, &[Some(org.as_str())])?.iter().map(|row| work_type(row)).collect())
    }

    /// A work type by its id or externalId.
    pub fn work_type(&self, org: &OrgId, id_or_external_id: &str) -> Result<Option<WorkType>, StoreError> {
        Ok(self.work_types(org)?.into_iter().find(|candidate| {
            candidate.id == id_or_external_id || candidate.external_id.as_deref() == Some(id_or_external_id)
        }))
    }

    /// A new work type; a taken name or externalId is a `Conflict`.
    pub fn create_work_type(
        &self,
        org: &OrgId,
        name: &str,
        external_id: Option<&str>,
        overhead_percentage: f64,
    ) -> Result<WorkType, StoreError> {
        check_work_type(name, external_id, overhead_percentage)?;
        let now = flowstate_time::now();
        let row = WorkType {
            id: new_id("wt"),
            name: name.to_string(),
            external_id: external_id.map(str::to_string),
            overhead_percentage,
            created_at: now.clone(),
            updated_at: now,
        };
        let mut db = self.db()?;
        Self::check_org(db.as_mut(), org)?;
        let overhead = Value::from(overhead_percentage).to_string();
        db.execute_text(
            &format!("INSERT INTO work_types (org_id, {WORK_TYPE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"),
            &[
                Some(org.as_str()),
                Some(&row.id),
                Some(&row.name),
                row.external_id.as_deref(),
                Some(&overhead),
                Some(&row.created_at),
                Some(&row.updated_at),
            ],
        )
        .map_err(work_type_conflict)?;
        Ok(row)
    }

    /// Changes a work type (by id or externalId); `NotFound` when there is none.
    pub fn update_work_type(&self, org: &OrgId, id: &str, update: WorkTypeUpdate) -> Result<WorkType, StoreError> {
        let stored = self.work_type(org, id)?.ok_or_else(|| StoreError::NotFound(format!("work type {id:?}")))?;
        let name = update.name.unwrap_or(stored.name);
        let external_id = update.external_id.unwrap_or(stored.external_id);
        let overhead_percentage = update.overhead_percentage.unwrap_or(stored.overhead_percentage);
        check_work_type(&name, external_id.as_deref(), overhead_percentage)?;
        let now = flowstate_time::now();
        let overhead = Value::from(overhead_percentage).to_string();
        self.db()?
            .execute_text(
                "UPDATE work_types SET name = $3, external_id = $4, overhead_percentage = $5, updated_at = $6 WHERE org_id = $1 AND id = $2",
                &[Some(org.as_str()), Some(&stored.id), Some(&name), external_id.as_deref(), Some(&overhead), Some(&now)],
            )
            .map_err(work_type_conflict)?;
        self.work_type(org, &stored.id)?.ok_or_else(|| StoreError::NotFound(format!("work type {id:?}")))
    }

    /// Deletes a work type (by id or externalId): whether there was one. Employees and
    /// vacancies that name it keep the name and cost without overhead from then on.
    pub fn delete_work_type(&self, org: &OrgId, id: &str) -> Result<bool, StoreError> {
        let Some(stored) = self.work_type(org, id)? else { return Ok(false) };
        let mut db = self.db()?;
        Self::check_org(db.as_mut(), org)?;
        Ok(db.execute_text(
            "DELETE FROM work_types WHERE org_id = $1 AND id = $2",
            &[Some(org.as_str()), Some(&stored.id)],
        )? == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::AttributeKey;

    #[test]
    fn keys_made_from_names_obey_the_key_rule() {
        for (name, key) in [
            ("Cost Centre", "cost_centre"),
            ("  Région / Zone (EU)  ", "r_gion_zone_eu"),
            ("2nd manager", "attr_2nd_manager"),
            ("2nd line", "attr_2nd_line"),
            ("!!!", "attr_"),
            ("", "attr_"),
        ] {
            assert_eq!(AttributeKey::from_name(name).as_str(), key, "{name:?}");
            assert!(AttributeKey::parse(key).is_ok(), "{key:?}");
        }
        for long in ["x".repeat(150), "a ".repeat(80)] {
            let key = AttributeKey::from_name(&long);
            assert!(key.as_str().len() <= 100 && AttributeKey::parse(key.as_str()).is_ok(), "{key:?}");
        }
        assert_eq!(AttributeKey::from_name(&"x".repeat(150)).as_str().len(), 100);
        for bad in ["Cost", "1st", "_a", "a-b", ""] {
            assert!(AttributeKey::parse(bad).is_err(), "{bad:?}");
        }
    }
}
