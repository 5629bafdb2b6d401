//! Integrations, their hooks and (sealed) secrets, and hook executions: the server's own
//! records. These tables are all text and their SQL is shared by both backends.

use chrono::Utc;
use flowstate_sync::EntityType;
use serde::Serialize;
use serde_json::Value;

use crate::{
    OrgId, Store, StoreError,
    db::{DbError, first_number, limit_offset},
    kinds::{ChangeType, ExecutionStatus, HookType, Interval, Trigger},
    model::new_id,
};

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

/// What a new hook is made of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewHook {
    pub name: String,
    pub hook_type: HookType,
    pub entity_type: EntityType,
    /// PUSH: the change types it receives (none: all of them).
    pub event_types: Vec<ChangeType>,
    pub code: String,
    /// PULL: an [`Interval`]'s text, or none (manual runs only).
    pub schedule: Option<String>,
    /// 0–23, in the organisation's time zone (intervals above an hour).
    pub preferred_hour: Option<u8>,
    pub enabled: bool,
    /// PUSH: attempts per change event; `None` for PULL hooks.
    pub retry_policy: Option<RetryPolicy>,
}

/// How often a PUSH hook's delivery of one change event is attempted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryPolicy {
    /// 1 to [`RetryPolicy::MAX_ATTEMPTS`]; the first attempt counts.
    pub max_attempts: u32,
}

impl RetryPolicy {
    pub const DEFAULT_ATTEMPTS: u32 = 3;
    pub const MAX_ATTEMPTS: u32 = 10;
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy { max_attempts: RetryPolicy::DEFAULT_ATTEMPTS }
    }
}

/// Changes to a hook: `None` keeps a setting; `Some(None)` clears an optional one. A hook's
/// type and entity type are fixed once it exists.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HookUpdate {
    pub name: Option<String>,
    pub event_types: Option<Vec<ChangeType>>,
    pub code: Option<String>,
    pub schedule: Option<Option<String>>,
    pub preferred_hour: Option<Option<u8>>,
    pub enabled: Option<bool>,
    pub retry_policy: Option<RetryPolicy>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Hook {
    pub id: String,
    pub integration_id: String,
    pub name: String,
    pub hook_type: HookType,
    pub entity_type: EntityType,
    pub event_types: Vec<ChangeType>,
    pub code: String,
    pub schedule: Option<String>,
    pub preferred_hour: Option<u8>,
    pub enabled: bool,
    /// PUSH hooks only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_policy: Option<RetryPolicy>,
    pub created_at: String,
    pub updated_at: String,
}

/// A secret as the store keeps it: sealed by the server with the master key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedSecret {
    pub name: String,
    pub nonce: String,
    pub ciphertext: String,
    pub updated_at: String,
}

/// One execution of a hook.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Execution {
    pub id: String,
    pub hook_id: String,
    pub status: ExecutionStatus,
    /// `manual` or `schedule` (PUSH: `event`).
    pub trigger: Trigger,
    pub started_at: String,
    pub finished_at: Option<String>,
    /// Per page: what the hook returned and what the sync made of it.
    pub pages: Value,
    /// The execution record (logs, HTTP requests, error, warnings) once finished.
    pub record: Option<Value>,
    pub error: Option<String>,
    /// PUSH: the change event delivered (`evt_<seq>`).
    pub event_id: Option<String>,
}

fn text(row: &[Option<String>], index: usize) -> String {
    row.get(index).cloned().flatten().unwrap_or_default()
}

fn optional(row: &[Option<String>], index: usize) -> Option<String> {
    row.get(index).cloned().flatten()
}

const INTEGRATION_COLUMNS: &str = "id, name, description, source_system, created_at, updated_at";
const HOOK_COLUMNS: &str = "id, integration_id, name, hook_type, entity_type, event_types, code, schedule, preferred_hour, enabled, created_at, updated_at, max_attempts";
const EXECUTION_COLUMNS: &str = "id, hook_id, status, trigger, started_at, finished_at, pages, record, error, event_id";

fn integration(row: &[Option<String>]) -> Integration {
    Integration {
        id: text(row, 0),
        name: text(row, 1),
        description: optional(row, 2),
        source_system: text(row, 3),
        created_at: text(row, 4),
        updated_at: text(row, 5),
    }
}

fn hook(row: &[Option<String>]) -> Result<Hook, StoreError> {
    Ok(Hook {
        id: text(row, 0),
        integration_id: text(row, 1),
        name: text(row, 2),
        hook_type: spelled(row, 3, HookType::parse)?,
        entity_type: text(row, 4).parse().map_err(StoreError::Database)?,
        event_types: serde_json::from_str(&text(row, 5)).unwrap_or_default(),
        code: text(row, 6),
        schedule: optional(row, 7),
        preferred_hour: optional(row, 8).and_then(|hour| hour.parse().ok()),
        enabled: text(row, 9) == "true",
        created_at: text(row, 10),
        updated_at: text(row, 11),
        retry_policy: (HookType::parse(&text(row, 3)) == Some(HookType::Push)).then(|| RetryPolicy {
            max_attempts: optional(row, 12)
                .and_then(|attempts| attempts.parse().ok())
                .unwrap_or(RetryPolicy::DEFAULT_ATTEMPTS),
        }),
    })
}

fn execution(row: &[Option<String>]) -> Result<Execution, StoreError> {
    let json = |index| optional(row, index).and_then(|text| serde_json::from_str(&text).ok());
    Ok(Execution {
        id: text(row, 0),
        hook_id: text(row, 1),
        status: spelled(row, 2, ExecutionStatus::parse)?,
        trigger: spelled(row, 3, Trigger::parse)?,
        started_at: text(row, 4),
        finished_at: optional(row, 5),
        pages: json(6).unwrap_or(Value::Array(Vec::new())),
        record: json(7),
        error: optional(row, 8),
        event_id: optional(row, 9),
    })
}

/// Cell `index` read as one of a closed set of values; anything else in the database is an
/// error naming it.
fn spelled<T>(row: &[Option<String>], index: usize, parse: fn(&str) -> Option<T>) -> Result<T, StoreError> {
    let cell = text(row, index);
    parse(&cell).ok_or_else(|| StoreError::Database(format!("unexpected value {cell:?} in a stored row")))
}

/// The rules every hook obeys, on creation and after each update.
fn validate_hook(new: &NewHook) -> Result<(), StoreError> {
    if new.name.trim().is_empty() {
        return Err(StoreError::Invalid("name must not be blank".into()));
    }
    if let Some(schedule) = &new.schedule
        && Interval::parse(schedule).is_none()
    {
        return Err(StoreError::Invalid(format!("schedule must be one of {}, got {schedule:?}", Interval::listed())));
    }
    if new.preferred_hour.is_some_and(|hour| hour > 23) {
        return Err(StoreError::Invalid("preferredHour must be 0 to 23".into()));
    }
    if new.code.trim().is_empty() {
        return Err(StoreError::Invalid("code must not be blank".into()));
    }
    if new.hook_type == HookType::Pull && new.retry_policy.is_some() {
        return Err(StoreError::Invalid("retryPolicy applies to PUSH hooks only".into()));
    }
    if let Some(policy) = new.retry_policy
        && !(1..=RetryPolicy::MAX_ATTEMPTS).contains(&policy.max_attempts)
    {
        return Err(StoreError::Invalid(format!(
            "retryPolicy.maxAttempts must be 1 to {}, got {}",
            RetryPolicy::MAX_ATTEMPTS,
            policy.max_attempts
        )));
    }
    Ok(())
}

fn conflict_as(error: DbError, message: String) -> StoreError {
    match error {
        DbError::Constraint(_) => StoreError::Conflict(message),
        other => other.into(),
    }
}

/// How long a running execution is known alive after it last saved.
pub const EXECUTION_LEASE_SECONDS: i64 = 120;

fn lease_from(at: chrono::DateTime<Utc>) -> String {
    crate::timestamp(at + chrono::Duration::seconds(EXECUTION_LEASE_SECONDS))
}

/// How much `ctx.kv` one hook may hold (expired values do not count).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KvQuota {
    pub max_keys: usize,
    /// Bytes of values (UTF-8).
    pub max_bytes: usize,
}

impl Default for KvQuota {
    fn default() -> KvQuota {
        KvQuota { max_keys: 10_000, max_bytes: 10 * 1024 * 1024 }
    }
}

impl KvQuota {
    /// Whether a hook holding `keys` keys and `bytes` bytes of values is within the quota.
    pub fn admits(self, keys: usize, bytes: usize) -> Result<(), StoreError> {
        if keys > self.max_keys {
            return Err(StoreError::Quota(format!(
                "at most {} keys per hook (expired ones do not count); this set would make {keys}",
                self.max_keys
            )));
        }
        if bytes > self.max_bytes {
            return Err(StoreError::Quota(format!(
                "at most {} bytes of values per hook (expired ones do not count); this set would make {bytes}",
                self.max_bytes
            )));
        }
        Ok(())
    }
}

/// A PULL run waiting in the queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueuedExecution {
    pub org: OrgId,
    pub id: String,
    pub hook_id: String,
}

/// An enabled PULL hook with a schedule, for the scheduler.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduledHook {
    pub org: OrgId,
    pub timezone: String,
    pub hook: Hook,
    /// The last slot claimed (RFC 3339), if any.
    pub last_scheduled_at: Option<String>,
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
        let rows = db.query_text(
            "SELECT id, name, timezone, currency FROM organizations WHERE id = $1",
            &[Some(org.as_str())],
        )?;
        let row = rows.first().ok_or_else(|| StoreError::UnknownOrg(org.clone()))?;
        Ok(Organization { id: text(row, 0), name: text(row, 1), timezone: text(row, 2), currency: text(row, 3) })
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
        let key_ok = !source_system.is_empty()
            && source_system.len() <= 100
            && source_system.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !key_ok {
            return Err(StoreError::Invalid(format!(
                "sourceSystem must be letters, digits, - and _ (at most 100), got {source_system:?}"
            )));
        }
        let now = crate::timestamp(Utc::now());
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
        Ok(db.query_text(&sql, &[Some(org.as_str())])?.iter().map(|row| integration(row)).collect())
    }

    pub fn integration(&self, org: &OrgId, id: &str) -> Result<Option<Integration>, StoreError> {
        let mut db = self.reader()?;
        Self::check_org(db.as_mut(), org)?;
        let sql = format!("SELECT {INTEGRATION_COLUMNS} FROM integrations WHERE org_id = $1 AND id = $2");
        Ok(db.query_text(&sql, &[Some(org.as_str()), Some(id)])?.first().map(|row| integration(row)))
    }

    pub fn create_hook(&self, org: &OrgId, integration_id: &str, mut new: NewHook) -> Result<Hook, StoreError> {
        validate_hook(&new)?;
        if new.hook_type == HookType::Push {
            new.retry_policy = Some(new.retry_policy.unwrap_or_default());
        }
        self.require_integration(org, integration_id)?;
        let now = crate::timestamp(Utc::now());
        let hook = Hook {
            id: new_id("hook"),
            integration_id: integration_id.to_string(),
            name: new.name,
            hook_type: new.hook_type,
            entity_type: new.entity_type,
            event_types: new.event_types,
            code: new.code,
            schedule: new.schedule,
            preferred_hour: new.preferred_hour,
            enabled: new.enabled,
            retry_policy: new.retry_policy,
            created_at: now.clone(),
            updated_at: now,
        };
        let event_types = serde_json::to_string(&hook.event_types).expect("strings serialize");
        let hour = hook.preferred_hour.map(|hour| hour.to_string());
        let enabled = hook.enabled.to_string();
        let attempts = hook.retry_policy.map(|policy| policy.max_attempts.to_string());
        self.db()?.execute_text(
            &format!("INSERT INTO hooks (org_id, {HOOK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"),
            &[
                Some(org.as_str()),
                Some(&hook.id),
                Some(&hook.integration_id),
                Some(&hook.name),
                Some(hook.hook_type.as_str()),
                Some(hook.entity_type.as_str()),
                Some(&event_types),
                Some(&hook.code),
                hook.schedule.as_deref(),
                hour.as_deref(),
                Some(&enabled),
                Some(&hook.created_at),
                Some(&hook.updated_at),
                attempts.as_deref(),
            ],
        )?;
        if hook.hook_type == HookType::Push {
            // A PUSH hook receives the changes made after it exists.
            self.start_push_cursor(org, &hook.id)?;
            self.announce_change();
        }
        Ok(hook)
    }

    fn require_integration(&self, org: &OrgId, integration_id: &str) -> Result<(), StoreError> {
        match self.integration(org, integration_id)? {
            Some(_) => Ok(()),
            None => Err(StoreError::NotFound(format!("integration {integration_id:?}"))),
        }
    }

    pub fn hooks(&self, org: &OrgId, integration_id: &str) -> Result<Vec<Hook>, StoreError> {
        self.require_integration(org, integration_id)?;
        let mut db = self.reader()?;
        Self::check_org(db.as_mut(), org)?;
        let sql = format!(
            "SELECT {HOOK_COLUMNS} FROM hooks WHERE org_id = $1 AND integration_id = $2 ORDER BY created_at, id"
        );
        db.query_text(&sql, &[Some(org.as_str()), Some(integration_id)])?.iter().map(|row| hook(row)).collect()
    }

    pub fn hook(&self, org: &OrgId, id: &str) -> Result<Option<Hook>, StoreError> {
        let mut db = self.reader()?;
        Self::check_org(db.as_mut(), org)?;
        let sql = format!("SELECT {HOOK_COLUMNS} FROM hooks WHERE org_id = $1 AND id = $2");
        db.query_text(&sql, &[Some(org.as_str()), Some(id)])?.first().map(|row| hook(row)).transpose()
    }

    /// Applies `update` to the hook; `NotFound` when the organisation has no such hook.
    pub fn update_hook(&self, org: &OrgId, id: &str, update: HookUpdate) -> Result<Hook, StoreError> {
        let stored = self.hook(org, id)?.ok_or_else(|| StoreError::NotFound(format!("hook {id:?}")))?;
        let merged = NewHook {
            name: update.name.unwrap_or(stored.name),
            hook_type: stored.hook_type,
            entity_type: stored.entity_type,
            event_types: update.event_types.unwrap_or(stored.event_types),
            code: update.code.unwrap_or(stored.code),
            schedule: update.schedule.unwrap_or(stored.schedule),
            preferred_hour: update.preferred_hour.unwrap_or(stored.preferred_hour),
            enabled: update.enabled.unwrap_or(stored.enabled),
            retry_policy: update.retry_policy.or(stored.retry_policy),
        };
        validate_hook(&merged)?;
        let now = crate::timestamp(Utc::now());
        let event_types = serde_json::to_string(&merged.event_types).expect("strings serialize");
        let hour = merged.preferred_hour.map(|hour| hour.to_string());
        let enabled = merged.enabled.to_string();
        let attempts = merged.retry_policy.map(|policy| policy.max_attempts.to_string());
        self.db()?.execute_text(
            "UPDATE hooks SET name = $3, event_types = $4, code = $5, schedule = $6, preferred_hour = $7, enabled = $8,
             max_attempts = $9, updated_at = $10 WHERE org_id = $1 AND id = $2",
            &[
                Some(org.as_str()),
                Some(id),
                Some(&merged.name),
                Some(&event_types),
                Some(&merged.code),
                merged.schedule.as_deref(),
                hour.as_deref(),
                Some(&enabled),
                attempts.as_deref(),
                Some(&now),
            ],
        )?;
        let hook = self.hook(org, id)?.ok_or_else(|| StoreError::NotFound(format!("hook {id:?}")))?;
        if hook.hook_type == HookType::Push {
            self.announce_change(); // enabled again: its backlog is due
        }
        Ok(hook)
    }

    /// Deletes the hook with its executions and PUSH cursor; `Conflict` while it runs.
    /// Whether there was such a hook.
    pub fn delete_hook(&self, org: &OrgId, id: &str) -> Result<bool, StoreError> {
        if self.has_running_execution(org, id)? {
            return Err(StoreError::Conflict("an execution of this hook is running; delete it once it ends".into()));
        }
        let mut db = self.db()?;
        Self::check_org(db.as_mut(), org)?;
        let deleted =
            db.execute_text("DELETE FROM hooks WHERE org_id = $1 AND id = $2", &[Some(org.as_str()), Some(id)])?;
        Ok(deleted == 1)
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
        let now = crate::timestamp(Utc::now());
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

    /// A hook's `ctx.kv` value, unless absent or expired at `now` (RFC 3339, as
    /// [`crate::timestamp`] writes).
    pub fn kv_get(&self, org: &OrgId, hook_id: &str, key: &str, now: &str) -> Result<Option<String>, StoreError> {
        let rows = self.reader()?.query_text(
            "SELECT value FROM hook_kv WHERE org_id = $1 AND hook_id = $2 AND key = $3 AND expires_at > $4",
            &[Some(org.as_str()), Some(hook_id), Some(key), Some(now)],
        )?;
        Ok(rows.first().and_then(|row| optional(row, 0)))
    }

    /// Sets a hook's `ctx.kv` value until `expires_at`, replacing any previous one, if the
    /// hook stays within `quota` (values not expired at `now`, this key's old value left
    /// out): otherwise [`StoreError::Quota`], and nothing changes. `NotFound` when the
    /// organisation has no such hook. Two sets at once are counted one after the other (the
    /// hook's row is locked).
    #[allow(clippy::too_many_arguments)]
    pub fn kv_set(
        &self,
        org: &OrgId,
        hook_id: &str,
        key: &str,
        value: &str,
        expires_at: &str,
        now: &str,
        quota: KvQuota,
    ) -> Result<(), StoreError> {
        let mut db = self.db()?;
        db.run(crate::db::Transaction::Begin)?;
        let outcome = (|| {
            db.lock_row("hooks", org.as_str(), hook_id)?;
            let bytes = db.byte_length("value");
            let rows = db.query_text(
                &format!(
                    "SELECT CAST(COUNT(*) AS TEXT), CAST(COALESCE(SUM({bytes}), 0) AS TEXT) FROM hook_kv
                     WHERE org_id = $1 AND hook_id = $2 AND key <> $3 AND expires_at > $4"
                ),
                &[Some(org.as_str()), Some(hook_id), Some(key), Some(now)],
            )?;
            let kept_keys: usize =
                rows.first().and_then(|row| optional(row, 0)).and_then(|n| n.parse().ok()).unwrap_or(0);
            let kept_bytes: usize =
                rows.first().and_then(|row| optional(row, 1)).and_then(|n| n.parse().ok()).unwrap_or(0);
            quota.admits(kept_keys + 1, kept_bytes + value.len())?;
            let written = db.execute_text(
                "INSERT INTO hook_kv (org_id, hook_id, key, value, expires_at)
                 SELECT $1, id, $3, $4, $5 FROM hooks WHERE org_id = $1 AND id = $2
                 ON CONFLICT (hook_id, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
                &[Some(org.as_str()), Some(hook_id), Some(key), Some(value), Some(expires_at)],
            )?;
            if written == 0 {
                return Err(StoreError::NotFound(format!("hook {hook_id:?}")));
            }
            Ok(())
        })();
        match outcome {
            Ok(()) => Ok(crate::store::commit(db.as_mut())?),
            Err(error) => {
                let _ = db.run(crate::db::Transaction::Rollback);
                Err(error)
            }
        }
    }

    /// Deletes `ctx.kv` values expired at `now`, of every organisation; how many.
    pub fn prune_kv(&self, now: &str) -> Result<u64, StoreError> {
        Ok(self.db()?.execute_text("DELETE FROM hook_kv WHERE expires_at <= $1", &[Some(now)])?)
    }

    /// Sets (or replaces) a sealed secret of the integration.
    pub fn put_secret(&self, org: &OrgId, integration_id: &str, secret: &SealedSecret) -> Result<(), StoreError> {
        let valid_name = !secret.name.is_empty()
            && secret.name.len() <= 100
            && secret.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid_name {
            return Err(StoreError::Invalid(format!(
                "a secret name is letters, digits, - and _ (at most 100), got {:?}",
                secret.name
            )));
        }
        self.require_integration(org, integration_id)?;
        self.db()?.execute_text(
            "INSERT INTO integration_secrets (integration_id, org_id, name, nonce, ciphertext, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (integration_id, name) DO UPDATE SET nonce = excluded.nonce, ciphertext = excluded.ciphertext, updated_at = excluded.updated_at",
            &[
                Some(integration_id),
                Some(org.as_str()),
                Some(&secret.name),
                Some(&secret.nonce),
                Some(&secret.ciphertext),
                Some(&secret.updated_at),
            ],
        )?;
        Ok(())
    }

    pub fn delete_secret(&self, org: &OrgId, integration_id: &str, name: &str) -> Result<bool, StoreError> {
        self.require_integration(org, integration_id)?;
        let mut db = self.db()?;
        Self::check_org(db.as_mut(), org)?;
        let deleted = db.execute_text(
            "DELETE FROM integration_secrets WHERE integration_id = $1 AND org_id = $2 AND name = $3",
            &[Some(integration_id), Some(org.as_str()), Some(name)],
        )?;
        Ok(deleted == 1)
    }

    /// The integration's secrets, sealed, by name.
    pub fn secrets(&self, org: &OrgId, integration_id: &str) -> Result<Vec<SealedSecret>, StoreError> {
        self.require_integration(org, integration_id)?;
        let mut db = self.reader()?;
        Self::check_org(db.as_mut(), org)?;
        let rows = db.query_text(
            "SELECT name, nonce, ciphertext, updated_at FROM integration_secrets WHERE integration_id = $1 AND org_id = $2 ORDER BY name",
            &[Some(integration_id), Some(org.as_str())],
        )?;
        Ok(rows
            .iter()
            .map(|row| SealedSecret {
                name: text(row, 0),
                nonce: text(row, 1),
                ciphertext: text(row, 2),
                // Sealed before timestamps had one format (`…+00:00`, nanoseconds): rewritten.
                updated_at: flowstate_time::normalise(&text(row, 3)),
            })
            .collect())
    }

    /// Every enabled PULL hook with a schedule, of every organisation (the scheduler's view).
    pub fn scheduled_hooks(&self) -> Result<Vec<ScheduledHook>, StoreError> {
        let columns: Vec<String> = HOOK_COLUMNS.split(", ").map(|column| format!("h.{column}")).collect();
        let sql = format!(
            "SELECT {}, h.org_id, o.timezone, h.last_scheduled_at FROM hooks h JOIN organizations o ON o.id = h.org_id
             WHERE h.hook_type = 'PULL' AND h.enabled = 'true' AND h.schedule IS NOT NULL ORDER BY h.id",
            columns.join(", ")
        );
        let rows = self.reader()?.query_text(&sql, &[])?;
        rows.iter()
            .map(|row| {
                Ok(ScheduledHook {
                    hook: hook(row)?,
                    org: OrgId(text(row, 13)),
                    timezone: text(row, 14),
                    last_scheduled_at: optional(row, 15),
                })
            })
            .collect()
    }

    /// Claims a schedule slot for the hook if the last claimed slot is still `previous`
    /// (compare-and-set): whether this caller got it.
    pub fn claim_slot(
        &self,
        org: &OrgId,
        hook_id: &str,
        previous: Option<&str>,
        slot: &str,
    ) -> Result<bool, StoreError> {
        let changed = match previous {
            Some(previous) => self.db()?.execute_text(
                "UPDATE hooks SET last_scheduled_at = $4 WHERE org_id = $1 AND id = $2 AND last_scheduled_at = $3",
                &[Some(org.as_str()), Some(hook_id), Some(previous), Some(slot)],
            )?,
            None => self.db()?.execute_text(
                "UPDATE hooks SET last_scheduled_at = $3 WHERE org_id = $1 AND id = $2 AND last_scheduled_at IS NULL",
                &[Some(org.as_str()), Some(hook_id), Some(slot)],
            )?,
        };
        Ok(changed == 1)
    }

    /// Executions of the hook (not counting skipped ones) started at or after `since`
    /// (RFC 3339 with microseconds, as executions are stamped).
    pub fn executions_since(&self, org: &OrgId, hook_id: &str, since: &str) -> Result<usize, StoreError> {
        let rows = self.reader()?.query_text(
            "SELECT id FROM executions WHERE org_id = $1 AND hook_id = $2 AND status <> 'skipped' AND started_at >= $3",
            &[Some(org.as_str()), Some(hook_id), Some(since)],
        )?;
        Ok(rows.len())
    }

    /// The newest change event's number, of every organisation (the dispatcher's cue that
    /// something changed); `Some(0)` before the first.
    pub fn latest_event_seq(&self) -> Result<Option<i64>, StoreError> {
        let rows = self.reader()?.query_text("SELECT CAST(COALESCE(MAX(seq), 0) AS TEXT) FROM change_events", &[])?;
        Ok(first_number(&rows))
    }

    /// Every enabled PUSH hook, of every organisation (the dispatcher's view).
    pub fn push_hooks(&self) -> Result<Vec<(OrgId, Hook)>, StoreError> {
        let sql = format!(
            "SELECT {HOOK_COLUMNS}, org_id FROM hooks WHERE hook_type = 'PUSH' AND enabled = 'true' ORDER BY created_at, id"
        );
        let rows = self.reader()?.query_text(&sql, &[])?;
        rows.iter().map(|row| Ok((OrgId(text(row, 13)), hook(row)?))).collect()
    }

    /// The last change event (seq) the PUSH hook is done with; `None` before its first use.
    pub fn push_cursor(&self, org: &OrgId, hook_id: &str) -> Result<Option<i64>, StoreError> {
        let rows = self.reader()?.query_text(
            "SELECT last_seq FROM push_cursors WHERE org_id = $1 AND hook_id = $2",
            &[Some(org.as_str()), Some(hook_id)],
        )?;
        Ok(first_number(&rows))
    }

    /// Starts the hook's cursor at the organisation's newest event (history is not
    /// replayed); returns where it starts. A cursor that exists is left as it is.
    pub fn start_push_cursor(&self, org: &OrgId, hook_id: &str) -> Result<i64, StoreError> {
        let mut db = self.db()?;
        let rows = db.query_text(
            "SELECT CAST(COALESCE(MAX(seq), 0) AS TEXT) FROM change_events WHERE org_id = $1",
            &[Some(org.as_str())],
        )?;
        let newest = first_number(&rows).unwrap_or(0i64);
        let now = crate::timestamp(Utc::now());
        let started = db.execute_text(
            "INSERT INTO push_cursors (hook_id, org_id, last_seq, updated_at) VALUES ($1, $2, $3, $4)",
            &[Some(hook_id), Some(org.as_str()), Some(&newest.to_string()), Some(&now)],
        );
        drop(db);
        match started {
            Ok(_) => Ok(newest),
            Err(DbError::Constraint(_)) => Ok(self.push_cursor(org, hook_id)?.unwrap_or(newest)),
            Err(error) => Err(error.into()),
        }
    }

    /// Takes (or renews) the lease on delivering the hook's events until `until`, if no other
    /// server holds a lease that is still running at `now`: whether this server holds it.
    pub fn lease_push_cursor(&self, org: &OrgId, hook_id: &str, now: &str, until: &str) -> Result<bool, StoreError> {
        let taken = self.db()?.execute_text(
            "UPDATE push_cursors SET lease_owner = $3, lease_until = $5
             WHERE org_id = $1 AND hook_id = $2 AND (lease_owner IS NULL OR lease_owner = $3 OR lease_until < $4)",
            &[Some(org.as_str()), Some(hook_id), Some(self.node_id()), Some(now), Some(until)],
        )?;
        Ok(taken == 1)
    }

    /// Moves the cursor from `from` to `to` (compare-and-set): whether this caller moved it.
    pub fn advance_push_cursor(&self, org: &OrgId, hook_id: &str, from: i64, to: i64) -> Result<bool, StoreError> {
        let changed = self.db()?.execute_text(
            "UPDATE push_cursors SET last_seq = $4, updated_at = $5 WHERE org_id = $1 AND hook_id = $2 AND last_seq = $3",
            &[Some(org.as_str()), Some(hook_id), Some(&from.to_string()), Some(&to.to_string()), Some(&crate::timestamp(Utc::now()))],
        )?;
        Ok(changed == 1)
    }

    /// One sealed secret of any organisation (to tell which master key is in use), with its
    /// integration id.
    pub fn any_sealed_secret(&self) -> Result<Option<(String, SealedSecret)>, StoreError> {
        let rows = self.reader()?.query_text(
            "SELECT integration_id, name, nonce, ciphertext, updated_at FROM integration_secrets ORDER BY integration_id, name LIMIT 1",
            &[],
        )?;
        Ok(rows.first().map(|row| {
            let secret = SealedSecret {
                name: text(row, 1),
                nonce: text(row, 2),
                ciphertext: text(row, 3),
                updated_at: text(row, 4),
            };
            (text(row, 0), secret)
        }))
    }

    /// Re-seals every secret of every organisation in one transaction (key rotation):
    /// `reseal` gets the integration id and the sealed secret and returns it sealed anew, or
    /// `None` if it cannot open it, which rolls everything back. How many were re-sealed.
    pub fn reseal_secrets(
        &self,
        reseal: impl Fn(&str, &SealedSecret) -> Option<SealedSecret>,
    ) -> Result<usize, StoreError> {
        let mut db = self.db()?;
        db.run(crate::db::Transaction::Begin)?;
        let outcome = (|| {
            let rows = db.query_text(
                "SELECT integration_id, org_id, name, nonce, ciphertext, updated_at FROM integration_secrets ORDER BY integration_id, name",
                &[],
            )?;
            for row in &rows {
                let (integration_id, org_id) = (text(row, 0), text(row, 1));
                let secret = SealedSecret {
                    name: text(row, 2),
                    nonce: text(row, 3),
                    ciphertext: text(row, 4),
                    updated_at: text(row, 5),
                };
                let Some(resealed) = reseal(&integration_id, &secret) else {
                    return Err(StoreError::Invalid(format!(
                        "secret {:?} of integration {integration_id} cannot be opened with the current master key; nothing was changed",
                        secret.name
                    )));
                };
                db.execute_text(
                    "UPDATE integration_secrets SET nonce = $4, ciphertext = $5 WHERE integration_id = $1 AND org_id = $2 AND name = $3",
                    &[Some(&integration_id), Some(&org_id), Some(&secret.name), Some(&resealed.nonce), Some(&resealed.ciphertext)],
                )?;
            }
            Ok(rows.len())
        })();
        match outcome {
            Ok(count) => {
                crate::store::commit(db.as_mut())?;
                Ok(count)
            }
            Err(error) => {
                let _ = db.run(crate::db::Transaction::Rollback);
                Err(error)
            }
        }
    }

    /// How many executions are kept, by status (every organisation; for metrics).
    pub fn execution_counts(&self) -> Result<Vec<(ExecutionStatus, u64)>, StoreError> {
        let rows = self
            .reader()?
            .query_text("SELECT status, CAST(COUNT(*) AS TEXT) FROM executions GROUP BY status ORDER BY status", &[])?;
        rows.iter()
            .map(|row| Ok((spelled(row, 0, ExecutionStatus::parse)?, text(row, 1).parse().unwrap_or(0))))
            .collect()
    }

    /// Deletes the executions (of every organisation) that started before `before` and are
    /// finished (not queued, not running); how many.
    pub fn prune_executions(&self, before: &str) -> Result<u64, StoreError> {
        Ok(self.db()?.execute_text(
            "DELETE FROM executions WHERE status <> 'running' AND status <> 'queued' AND started_at < $1",
            &[Some(before)],
        )?)
    }

    /// Whether an execution of the hook is queued or running (a hook has one at a time).
    pub fn has_unfinished_execution(&self, org: &OrgId, hook_id: &str) -> Result<bool, StoreError> {
        let rows = self.reader()?.query_text(
            "SELECT id FROM executions WHERE org_id = $1 AND hook_id = $2 AND (status = 'queued' OR status = 'running')",
            &[Some(org.as_str()), Some(hook_id)],
        )?;
        Ok(!rows.is_empty())
    }

    /// Queues a PULL run of the hook (`manual` or `schedule`), asked for at `at`: any server
    /// may claim it ([`Store::claim_execution`]); it waits in the database, so a server that
    /// stops loses nothing queued. A hook has one execution queued or running at most: a
    /// second is a [`StoreError::Conflict`].
    pub fn queue_execution(
        &self,
        org: &OrgId,
        hook_id: &str,
        trigger: Trigger,
        at: &str,
    ) -> Result<Execution, StoreError> {
        self.insert_execution(org, hook_id, trigger, at, ExecutionStatus::Queued, None)
    }

    /// Queued executions of every organisation, oldest first: at most `per_org` of each
    /// organisation (so one with a long queue cannot hide another's), `limit` in all.
    pub fn queued_executions(&self, per_org: usize, limit: usize) -> Result<Vec<QueuedExecution>, StoreError> {
        let sql = format!(
            "SELECT org_id, id, hook_id FROM (
                 SELECT org_id, id, hook_id, started_at,
                        ROW_NUMBER() OVER (PARTITION BY org_id ORDER BY started_at, id) AS place
                 FROM executions WHERE status = 'queued'
             ) queued WHERE place <= {per_org} ORDER BY started_at, id {}",
            limit_offset(1, limit)
        );
        let rows = self.reader()?.query_text(&sql, &[])?;
        Ok(rows
            .iter()
            .map(|row| QueuedExecution { org: OrgId(text(row, 0)), id: text(row, 1), hook_id: text(row, 2) })
            .collect())
    }

    /// Claims a queued execution for this server (compare-and-set from `queued` to
    /// `running`, with a lease from `now`): the execution if this caller got it.
    pub fn claim_execution(
        &self,
        org: &OrgId,
        id: &str,
        now: chrono::DateTime<Utc>,
    ) -> Result<Option<Execution>, StoreError> {
        let claimed = self.db()?.execute_text(
            "UPDATE executions SET status = 'running', node_id = $3, lease_until = $4
             WHERE org_id = $1 AND id = $2 AND status = 'queued'",
            &[Some(org.as_str()), Some(id), Some(self.node_id()), Some(&lease_from(now))],
        )?;
        if claimed != 1 {
            return Ok(None);
        }
        self.execution(org, id)
    }

    /// Puts an execution this server claimed but could not start back in the queue (another
    /// pass, or another server, takes it): whether it was still this server's.
    pub fn requeue_execution(&self, org: &OrgId, id: &str) -> Result<bool, StoreError> {
        let requeued = self.db()?.execute_text(
            "UPDATE executions SET status = 'queued' WHERE org_id = $1 AND id = $2 AND node_id = $3 AND status = 'running'",
            &[Some(org.as_str()), Some(id), Some(self.node_id())],
        )?;
        Ok(requeued == 1)
    }

    /// Renews the lease of one execution this server runs, to `until`: whether it is still
    /// running here.
    pub fn renew_execution_lease(&self, org: &OrgId, id: &str, until: &str) -> Result<bool, StoreError> {
        let renewed = self.db()?.execute_text(
            "UPDATE executions SET lease_until = $4 WHERE org_id = $1 AND id = $2 AND node_id = $3 AND status = 'running'",
            &[Some(org.as_str()), Some(id), Some(self.node_id()), Some(until)],
        )?;
        Ok(renewed == 1)
    }

    /// Whether an execution of the hook is running.
    pub fn has_running_execution(&self, org: &OrgId, hook_id: &str) -> Result<bool, StoreError> {
        let rows = self.reader()?.query_text(
            "SELECT id FROM executions WHERE org_id = $1 AND hook_id = $2 AND status = 'running'",
            &[Some(org.as_str()), Some(hook_id)],
        )?;
        Ok(!rows.is_empty())
    }

    /// Records an execution that did not run, with the reason.
    pub fn record_skipped_execution(
        &self,
        org: &OrgId,
        hook_id: &str,
        trigger: Trigger,
        at: &str,
        reason: &str,
    ) -> Result<Execution, StoreError> {
        self.insert_execution(org, hook_id, trigger, at, ExecutionStatus::Skipped, Some(reason))
    }

    /// Marks as `failed` with the error `interrupted` every `running` execution whose lease
    /// has passed (its server stopped saving it) and, when `this_node_restarted`, every one
    /// this node was running (it cannot be running any more). Spans organisations.
    pub fn fail_interrupted_executions(&self, this_node_restarted: bool) -> Result<u64, StoreError> {
        self.fail_interrupted_executions_at(&crate::timestamp(Utc::now()), this_node_restarted)
    }

    /// [`Store::fail_interrupted_executions`] at a given time (RFC 3339 with microseconds).
    pub fn fail_interrupted_executions_at(&self, now: &str, this_node_restarted: bool) -> Result<u64, StoreError> {
        let now = now.to_string();
        let mine = if this_node_restarted { Some(self.node_id()) } else { None };
        Ok(self.db()?.execute_text(
            "UPDATE executions SET status = 'failed', error = 'interrupted', finished_at = $1
             WHERE status = 'running' AND (lease_until IS NULL OR lease_until < $1 OR node_id = $2)",
            &[Some(&now), mine],
        )?)
    }

    /// Records a new execution of the hook, `running`.
    pub fn start_execution(&self, org: &OrgId, hook_id: &str, trigger: Trigger) -> Result<Execution, StoreError> {
        self.start_execution_at(org, hook_id, trigger, &crate::timestamp(Utc::now()))
    }

    /// [`Store::start_execution`] at a given time (RFC 3339 with microseconds). A hook has one
    /// running execution at most: a second is a [`StoreError::Conflict`].
    pub fn start_execution_at(
        &self,
        org: &OrgId,
        hook_id: &str,
        trigger: Trigger,
        at: &str,
    ) -> Result<Execution, StoreError> {
        self.insert_execution(org, hook_id, trigger, at, ExecutionStatus::Running, None)
    }

    fn insert_execution(
        &self,
        org: &OrgId,
        hook_id: &str,
        trigger: Trigger,
        at: &str,
        status: ExecutionStatus,
        error: Option<&str>,
    ) -> Result<Execution, StoreError> {
        let finished = (!status.is_unfinished()).then(|| at.to_string());
        let execution = Execution {
            id: new_id("exec"),
            hook_id: hook_id.to_string(),
            status,
            trigger,
            started_at: at.to_string(),
            finished_at: finished,
            pages: Value::Array(Vec::new()),
            record: None,
            error: error.map(str::to_string),
            event_id: None,
        };
        let mut db = self.db()?;
        Self::check_org(db.as_mut(), org)?;
        db.execute_text(
            &format!(
                "INSERT INTO executions (org_id, {EXECUTION_COLUMNS}, node_id, lease_until) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
            ),
            &[
                Some(org.as_str()),
                Some(&execution.id),
                Some(hook_id),
                Some(execution.status.as_str()),
                Some(trigger.as_str()),
                Some(&execution.started_at),
                execution.finished_at.as_deref(),
                Some("[]"),
                None,
                execution.error.as_deref(),
                None,
                Some(self.node_id()),
                Some(&lease_from(chrono::DateTime::parse_from_rfc3339(at).map_or_else(|_| Utc::now(), |at| at.with_timezone(&Utc)))),
            ],
        )
        .map_err(|error| conflict_as(error, "an execution of this hook is queued or running; one at a time".into()))?;
        Ok(execution)
    }

    /// Saves an execution's progress or outcome.
    /// Saves the progress or outcome of an execution this server is running: whether it was
    /// saved. An execution that another server has meanwhile failed as `interrupted` (its
    /// lease passed) stays so: a late save must not bring it back to `running`, beside the
    /// hook's next run.
    pub fn save_execution(&self, org: &OrgId, execution: &Execution) -> Result<bool, StoreError> {
        let pages = execution.pages.to_string();
        let record = execution.record.as_ref().map(Value::to_string);
        let saved = self.db()?.execute_text(
            "UPDATE executions SET status = $3, finished_at = $4, pages = $5, record = $6, error = $7, event_id = $8, lease_until = $9
             WHERE org_id = $1 AND id = $2 AND status = 'running' AND node_id = $10",
            &[
                Some(org.as_str()),
                Some(&execution.id),
                Some(execution.status.as_str()),
                execution.finished_at.as_deref(),
                Some(&pages),
                record.as_deref(),
                execution.error.as_deref(),
                execution.event_id.as_deref(),
                Some(&lease_from(Utc::now())),
                Some(self.node_id()),
            ],
        )?;
        Ok(saved == 1)
    }

    pub fn execution(&self, org: &OrgId, id: &str) -> Result<Option<Execution>, StoreError> {
        let mut db = self.reader()?;
        Self::check_org(db.as_mut(), org)?;
        let sql = format!("SELECT {EXECUTION_COLUMNS} FROM executions WHERE org_id = $1 AND id = $2");
        db.query_text(&sql, &[Some(org.as_str()), Some(id)])?.first().map(|row| execution(row)).transpose()
    }

    /// The hook's executions, newest first.
    /// One page (1-based) of the hook's executions, newest first, and how many there are.
    pub fn executions_page(
        &self,
        org: &OrgId,
        hook_id: &str,
        page: usize,
        limit: usize,
    ) -> Result<(Vec<Execution>, usize), StoreError> {
        let mut db = self.reader()?;
        Self::check_org(db.as_mut(), org)?;
        let total = db.query_text(
            "SELECT CAST(COUNT(*) AS TEXT) FROM executions WHERE org_id = $1 AND hook_id = $2",
            &[Some(org.as_str()), Some(hook_id)],
        )?;
        let total = first_number(&total).unwrap_or(0);
        let sql = format!(
            "SELECT {EXECUTION_COLUMNS} FROM executions WHERE org_id = $1 AND hook_id = $2 ORDER BY started_at DESC, id DESC {}",
            limit_offset(page, limit)
        );
        let rows = db.query_text(&sql, &[Some(org.as_str()), Some(hook_id)])?;
        Ok((rows.iter().map(|row| execution(row)).collect::<Result<_, _>>()?, total))
    }

    pub fn executions(&self, org: &OrgId, hook_id: &str) -> Result<Vec<Execution>, StoreError> {
        let mut db = self.reader()?;
        Self::check_org(db.as_mut(), org)?;
        let sql = format!(
            "SELECT {EXECUTION_COLUMNS} FROM executions WHERE org_id = $1 AND hook_id = $2 ORDER BY started_at DESC, id DESC"
        );
        db.query_text(&sql, &[Some(org.as_str()), Some(hook_id)])?.iter().map(|row| execution(row)).collect()
    }
}
