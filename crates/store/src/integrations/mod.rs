//! Integrations and what hangs off them, the server's own records: the integrations
//! themselves (here), their hooks (`hooks`), sealed secrets (`secrets`), executions and
//! their leases and queue (`executions`), PUSH cursors (`push`) and hooks' `ctx.kv` (`kv`).
//! These tables are all text and their SQL is shared by both backends.

mod executions;
mod hooks;
mod kv;
mod push;
mod secrets;

pub use executions::{EXECUTION_LEASE_SECONDS, Execution, ExecutionFilter, QueuedExecution};
pub use hooks::{Hook, HookUpdate, NewHook, RetryPolicy, ScheduledHook};
pub use kv::KvQuota;
pub use secrets::SealedSecret;

use serde::Serialize;

use crate::{OrgId, Store, StoreError, db::DbError, model::new_id};

/// The shape of a key people write and programs match (an integration's `sourceSystem`, a
/// secret's name): letters, digits, `-` and `_`, 1 to 100. [`is_key`] checks it.
pub const KEY_PATTERN: &str = "^[A-Za-z0-9_-]{1,100}$";

/// Whether `text` has the shape [`KEY_PATTERN`] states.
pub fn is_key(text: &str) -> bool {
    (1..=100).contains(&text.len()) && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// A connection to one external system; its `sourceSystem` key marks what its hooks sync.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Integration {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub source_system: String,
    pub created_at: String,
    pub updated_at: String,
}

pub(super) fn optional(row: &[Option<String>], index: usize) -> Option<String> {
    row.get(index).cloned().flatten()
}

pub(super) use crate::db::Named;

pub(super) const INTEGRATION_COLUMNS: &str = "id, name, description, source_system, created_at, updated_at";

pub(super) fn integration(row: &Named<'_>) -> Integration {
    Integration {
        id: row.text("id"),
        name: row.text("name"),
        description: row.optional("description"),
        source_system: row.text("source_system"),
        created_at: row.text("created_at"),
        updated_at: row.text("updated_at"),
    }
}

pub(super) fn conflict_as(error: DbError, message: String) -> StoreError {
    match error {
        DbError::Constraint(_) => StoreError::Conflict(message),
        other => other.into(),
    }
}

/// An organisation's settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Organization {
    pub id: String,
    pub name: String,
    pub timezone: String,
    pub currency: String,
}

impl Store {
    pub fn organization(&self, org: &OrgId) -> Result<Organization, StoreError> {
        let mut db = self.reader()?;
        Self::check_org(db.as_mut(), org)?;
        const COLUMNS: &str = "id, name, timezone, currency";
        let rows =
            db.query_text(&format!("SELECT {COLUMNS} FROM organizations WHERE id = $1"), &[Some(org.as_str())])?;
        let row = Named::new(COLUMNS, rows.first().ok_or_else(|| StoreError::UnknownOrg(org.clone()))?);
        Ok(Organization {
            id: row.text("id"),
            name: row.text("name"),
            timezone: row.text("timezone"),
            currency: row.text("currency"),
        })
    }

    pub fn create_integration(
        &self,
        org: &OrgId,
        name: &str,
        description: Option<&str>,
        source_system: &str,
    ) -> Result<Integration, StoreError> {
        if name.trim().is_empty() {
            return Err(StoreError::Invalid("name must not be blank".into()));
        }
        if !is_key(source_system) {
            return Err(StoreError::Invalid(format!(
                "sourceSystem must be letters, digits, - and _ (at most 100), got {source_system:?}"
            )));
        }
        let now = flowstate_time::now();
        let row = Integration {
            id: new_id("int"),
            name: name.to_string(),
            description: description.map(str::to_string),
            source_system: source_system.to_string(),
            created_at: now.clone(),
            updated_at: now,
        };
        let mut db = self.db()?;
        Self::check_org(db.as_mut(), org)?;
        db.execute_text(
            "INSERT INTO integrations (id, org_id, name, description, source_system, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                Some(&row.id),
                Some(org.as_str()),
                Some(&row.name),
                row.description.as_deref(),
                Some(&row.source_system),
                Some(&row.created_at),
                Some(&row.updated_at),
            ],
        )
        .map_err(|error| conflict_as(error, format!("an integration with sourceSystem {source_system:?} exists")))?;
        Ok(row)
    }

    pub fn integrations(&self, org: &OrgId) -> Result<Vec<Integration>, StoreError> {
        let mut db = self.reader()?;
        Self::check_org(db.as_mut(), org)?;
        let sql = format!("SELECT {INTEGRATION_COLUMNS} FROM integrations WHERE org_id = $1 ORDER BY created_at, id");
        Ok(db
            .query_text(&sql, &[Some(org.as_str())])?
            .iter()
            .map(|row| integration(&Named::new(INTEGRATION_COLUMNS, row)))
            .collect())
    }

    pub fn integration(&self, org: &OrgId, id: &str) -> Result<Option<Integration>, StoreError> {
        let mut db = self.reader()?;
        Self::check_org(db.as_mut(), org)?;
        let sql = format!("SELECT {INTEGRATION_COLUMNS} FROM integrations WHERE org_id = $1 AND id = $2");
        Ok(db
            .query_text(&sql, &[Some(org.as_str()), Some(id)])?
            .first()
            .map(|row| integration(&Named::new(INTEGRATION_COLUMNS, row))))
    }

    pub(super) fn require_integration(&self, org: &OrgId, integration_id: &str) -> Result<(), StoreError> {
        match self.integration(org, integration_id)? {
            Some(_) => Ok(()),
            None => Err(StoreError::NotFound(format!("integration {integration_id:?}"))),
        }
    }

    /// Renames or re-describes an integration (`Some(None)` clears the description). Its
    /// `sourceSystem` is fixed: synced records remember which source wrote them by it.
    pub fn update_integration(
        &self,
        org: &OrgId,
        id: &str,
        name: Option<&str>,
        description: Option<Option<&str>>,
    ) -> Result<Integration, StoreError> {
        let stored = self.integration(org, id)?.ok_or_else(|| StoreError::NotFound(format!("integration {id:?}")))?;
        let name = name.unwrap_or(&stored.name);
        if name.trim().is_empty() {
            return Err(StoreError::Invalid("name must not be blank".into()));
        }
        let description = description.unwrap_or(stored.description.as_deref());
        let now = flowstate_time::now();
        self.db()?.execute_text(
            "UPDATE integrations SET name = $3, description = $4, updated_at = $5 WHERE org_id = $1 AND id = $2",
            &[Some(org.as_str()), Some(id), Some(name), description, Some(&now)],
        )?;
        self.integration(org, id)?.ok_or_else(|| StoreError::NotFound(format!("integration {id:?}")))
    }

    /// Deletes an integration with its hooks, secrets and executions; `Conflict` while one of
    /// its hooks runs. Records it synced stay. Whether there was such an integration.
    pub fn delete_integration(&self, org: &OrgId, id: &str) -> Result<bool, StoreError> {
        if self.integration(org, id)?.is_none() {
            return Ok(false);
        }
        for hook in self.hooks(org, id)? {
            if self.has_running_execution(org, &hook.id)? {
                return Err(StoreError::Conflict(format!(
                    "hook {:?} of this integration is running; delete it once it ends",
                    hook.name
                )));
            }
        }
        let deleted = self
            .db()?
            .execute_text("DELETE FROM integrations WHERE org_id = $1 AND id = $2", &[Some(org.as_str()), Some(id)])?;
        Ok(deleted == 1)
    }
}
