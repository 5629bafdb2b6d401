//! Hooks: PULL and PUSH code with its settings, the rules every hook obeys, and the
//! scheduler's view of them (due slots claimed once across servers).

use flowstate_sync::EntityType;
use serde::Serialize;

use super::Named;
use crate::{
    OrgId, Store, StoreError,
    kinds::{ChangeType, HookType, Interval, Language},
    model::new_id,
};

/// What a new hook is made of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewHook {
    pub name: String,
    pub hook_type: HookType,
    pub entity_type: EntityType,
    /// PUSH: the change types it receives (none: all of them).
    pub event_types: Vec<ChangeType>,
    pub language: Language,
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
    pub language: Option<Language>,
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
    pub language: Language,
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

impl Hook {
    /// The name its code runs under (stack traces show it): its name and its language's
    /// extension, `people.ts`.
    pub fn file_name(&self) -> String {
        self.language.file_name(&self.name)
    }
}

pub(super) const HOOK_COLUMNS: &str = "id, integration_id, name, hook_type, entity_type, event_types, code, schedule, preferred_hour, enabled, created_at, updated_at, max_attempts, language";

pub(super) fn hook(row: &Named<'_>) -> Result<Hook, StoreError> {
    let hook_type = row.spelled("hook_type", HookType::parse)?;
    Ok(Hook {
        id: row.text("id"),
        integration_id: row.text("integration_id"),
        name: row.text("name"),
        hook_type,
        entity_type: row
            .text("entity_type")
            .parse()
            .map_err(|error: flowstate_sync::UnknownEntityType| StoreError::Database(error.to_string()))?,
        event_types: serde_json::from_str(&row.text("event_types")).unwrap_or_default(),
        language: row.spelled("language", Language::parse)?,
        code: row.text("code"),
        schedule: row.optional("schedule"),
        preferred_hour: row.optional("preferred_hour").and_then(|hour| hour.parse().ok()),
        enabled: row.text("enabled") == "true",
        created_at: row.text("created_at"),
        updated_at: row.text("updated_at"),
        retry_policy: (hook_type == HookType::Push).then(|| RetryPolicy {
            max_attempts: row
                .optional("max_attempts")
                .and_then(|attempts| attempts.parse().ok())
                .unwrap_or(RetryPolicy::DEFAULT_ATTEMPTS),
        }),
    })
}

/// The rules every hook obeys, on creation and after each update.
pub(super) fn validate_hook(new: &NewHook) -> Result<(), StoreError> {
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

/// An enabled PULL hook with a schedule, for the scheduler.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduledHook {
    pub org: OrgId,
    pub timezone: String,
    pub hook: Hook,
    /// The last slot claimed (RFC 3339), if any.
    pub last_scheduled_at: Option<String>,
}

impl Store {
    pub fn create_hook(&self, org: &OrgId, integration_id: &str, mut new: NewHook) -> Result<Hook, StoreError> {
        validate_hook(&new)?;
        if new.hook_type == HookType::Push {
            new.retry_policy = Some(new.retry_policy.unwrap_or_default());
        }
        self.require_integration(org, integration_id)?;
        let now = flowstate_time::now();
        let hook = Hook {
            id: new_id("hook"),
            integration_id: integration_id.to_string(),
            name: new.name,
            hook_type: new.hook_type,
            entity_type: new.entity_type,
            event_types: new.event_types,
            language: new.language,
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
            &format!("INSERT INTO hooks (org_id, {HOOK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"),
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
                Some(hook.language.as_str()),
            ],
        )?;
        if hook.hook_type == HookType::Push {
            // A PUSH hook receives the changes made after it exists.
            self.start_push_cursor(org, &hook.id)?;
            self.announce_change();
        }
        Ok(hook)
    }

    pub fn hooks(&self, org: &OrgId, integration_id: &str) -> Result<Vec<Hook>, StoreError> {
        self.require_integration(org, integration_id)?;
        let mut db = self.reader()?;
        Self::check_org(db.as_mut(), org)?;
        let sql = format!(
            "SELECT {HOOK_COLUMNS} FROM hooks WHERE org_id = $1 AND integration_id = $2 ORDER BY created_at, id"
        );
        db.query_text(&sql, &[Some(org.as_str()), Some(integration_id)])?
            .iter()
            .map(|row| hook(&Named::new(HOOK_COLUMNS, row)))
            .collect()
    }

    pub fn hook(&self, org: &OrgId, id: &str) -> Result<Option<Hook>, StoreError> {
        let mut db = self.reader()?;
        Self::check_org(db.as_mut(), org)?;
        let sql = format!("SELECT {HOOK_COLUMNS} FROM hooks WHERE org_id = $1 AND id = $2");
        db.query_text(&sql, &[Some(org.as_str()), Some(id)])?
            .first()
            .map(|row| hook(&Named::new(HOOK_COLUMNS, row)))
            .transpose()
    }

    /// Applies `update` to the hook; `NotFound` when the organisation has no such hook.
    pub fn update_hook(&self, org: &OrgId, id: &str, update: HookUpdate) -> Result<Hook, StoreError> {
        let stored = self.hook(org, id)?.ok_or_else(|| StoreError::NotFound(format!("hook {id:?}")))?;
        let merged = NewHook {
            name: update.name.unwrap_or(stored.name),
            hook_type: stored.hook_type,
            entity_type: stored.entity_type,
            event_types: update.event_types.unwrap_or(stored.event_types),
            language: update.language.unwrap_or(stored.language),
            code: update.code.unwrap_or(stored.code),
            schedule: update.schedule.unwrap_or(stored.schedule),
            preferred_hour: update.preferred_hour.unwrap_or(stored.preferred_hour),
            enabled: update.enabled.unwrap_or(stored.enabled),
            retry_policy: update.retry_policy.or(stored.retry_policy),
        };
        validate_hook(&merged)?;
        let now = flowstate_time::now();
        let event_types = serde_json::to_string(&merged.event_types).expect("strings serialize");
        let hour = merged.preferred_hour.map(|hour| hour.to_string());
        let enabled = merged.enabled.to_string();
        let attempts = merged.retry_policy.map(|policy| policy.max_attempts.to_string());
        self.db()?.execute_text(
            "UPDATE hooks SET name = $3, event_types = $4, code = $5, schedule = $6, preferred_hour = $7, enabled = $8,
             max_attempts = $9, updated_at = $10, language = $11 WHERE org_id = $1 AND id = $2",
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
                Some(merged.language.as_str()),
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

    /// Every enabled PULL hook with a schedule, of every organisation (the scheduler's view).
    pub fn scheduled_hooks(&self) -> Result<Vec<ScheduledHook>, StoreError> {
        let columns: Vec<String> = HOOK_COLUMNS.split(", ").map(|column| format!("h.{column}")).collect();
        let select = format!("{}, h.org_id, o.timezone, h.last_scheduled_at", columns.join(", "));
        let sql = format!(
            "SELECT {select} FROM hooks h JOIN organizations o ON o.id = h.org_id
             WHERE h.hook_type = 'PULL' AND h.enabled = 'true' AND h.schedule IS NOT NULL ORDER BY h.id"
        );
        let rows = self.reader()?.query_text(&sql, &[])?;
        rows.iter()
            .map(|row| {
                let row = Named::new(&select, row);
                Ok(ScheduledHook {
                    hook: hook(&row)?,
                    org: OrgId(row.text("org_id")),
                    timezone: row.text("timezone"),
                    last_scheduled_at: row.optional("last_scheduled_at"),
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
}
