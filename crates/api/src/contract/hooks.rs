//! Hooks and their executions on the wire.

use flowstate_store::kinds::{ChangeType, ExecutionStatus, HookType, Interval, Language, PlannedAction, Trigger};
use flowstate_sync::EntityType;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{
    ToSchema,
    openapi::{ObjectBuilder, Type},
};

/// A string schema whose values are `values` (from the kinds: one place each).
fn one_of(values: impl IntoIterator<Item = &'static str>) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String).enum_values(Some(values.into_iter()))
}

fn hook_type() -> utoipa::openapi::Object {
    one_of(HookType::ALL.iter().map(|value| value.as_str())).build()
}

fn entity_type() -> utoipa::openapi::Object {
    one_of(EntityType::ALL.iter().map(|value| value.as_str())).build()
}

fn change_types() -> utoipa::openapi::Array {
    utoipa::openapi::ArrayBuilder::new().items(one_of(ChangeType::ALL.iter().map(|value| value.as_str()))).build()
}

fn nullable_change_types() -> utoipa::openapi::Array {
    utoipa::openapi::ArrayBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([Type::Array, Type::Null]))
        .items(one_of(ChangeType::ALL.iter().map(|value| value.as_str())))
        .build()
}

fn interval() -> utoipa::openapi::Object {
    one_of(Interval::ALL.iter().map(|value| value.as_str())).build()
}

fn nullable_interval() -> utoipa::openapi::Object {
    ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([Type::String, Type::Null]))
        .enum_values(Some(Interval::ALL.iter().map(|value| Value::from(value.as_str())).chain([Value::Null])))
        .build()
}

fn execution_status() -> utoipa::openapi::Object {
    one_of(ExecutionStatus::ALL.iter().map(|value| value.as_str())).build()
}

fn language() -> utoipa::openapi::Object {
    one_of(Language::ALL.iter().map(|value| value.as_str())).build()
}

fn planned_action() -> utoipa::openapi::Object {
    one_of(PlannedAction::ALL.iter().map(|value| value.as_str())).build()
}

fn change_type() -> utoipa::openapi::Object {
    one_of(ChangeType::ALL.iter().map(|value| value.as_str())).build()
}

fn trigger() -> utoipa::openapi::Object {
    one_of(Trigger::ALL.iter().map(|value| value.as_str())).build()
}

/// PUSH hooks: how often one change event's delivery is attempted (the first included).
#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RetryPolicy {
    #[serde(deserialize_with = "super::whole")]
    #[schema(minimum = 1, maximum = 10, example = 3)]
    pub max_attempts: u32,
}

/// `POST /integrations/{id}/hooks`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct NewHook {
    #[schema(min_length = 1, max_length = 200, pattern = r"\S", example = "employees")]
    pub name: String,
    #[serde(rename = "type")]
    #[schema(schema_with = hook_type)]
    pub hook_type: HookType,
    #[schema(schema_with = entity_type)]
    pub entity_type: EntityType,
    /// PUSH: the change types it receives (none: all of them).
    #[schema(schema_with = change_types)]
    pub event_types: Option<Vec<ChangeType>>,
    /// The code's language (default `javascript`): `typescript` code has its types blanked
    /// before it runs, so lines and columns stay the source's.
    #[schema(schema_with = language, default = "javascript")]
    pub language: Option<Language>,
    /// JavaScript (or TypeScript) defining `async function run(ctx)`; it must compile.
    #[schema(min_length = 1, pattern = r"\S")]
    pub code: String,
    /// PULL: how often it runs on its own (none: on demand only).
    #[schema(schema_with = interval)]
    pub schedule: Option<Interval>,
    /// The hour (0–23, the organisation's time zone) intervals above an hour start from.
    #[serde(default, deserialize_with = "super::optional_whole")]
    #[schema(nullable = false, minimum = 0, maximum = 23)]
    pub preferred_hour: Option<u8>,
    #[schema(nullable = false, default = true)]
    pub enabled: Option<bool>,
    /// PUSH hooks only.
    #[schema(nullable = false)]
    pub retry_policy: Option<RetryPolicy>,
}

/// `PATCH /hooks/{id}`: the fields given change; `null` clears `schedule`, `preferredHour`
/// or `eventTypes`. `type` and `entityType` are fixed (restating them is allowed).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct HookChange {
    #[schema(nullable = false, min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: Option<String>,
    #[serde(rename = "type")]
    #[schema(schema_with = hook_type)]
    pub hook_type: Option<HookType>,
    #[schema(schema_with = entity_type)]
    pub entity_type: Option<EntityType>,
    #[serde(default, deserialize_with = "super::present")]
    #[schema(schema_with = nullable_change_types)]
    pub event_types: Option<Option<Vec<ChangeType>>>,
    /// A change of language recompiles the code (given or stored) as the new one.
    #[schema(schema_with = language)]
    pub language: Option<Language>,
    #[schema(nullable = false, min_length = 1, pattern = r"\S")]
    pub code: Option<String>,
    #[serde(default, deserialize_with = "super::present")]
    #[schema(schema_with = nullable_interval)]
    pub schedule: Option<Option<Interval>>,
    #[serde(default, deserialize_with = "super::present_whole")]
    #[schema(value_type = Option<u8>, minimum = 0, maximum = 23)]
    pub preferred_hour: Option<Option<u8>>,
    #[schema(nullable = false)]
    pub enabled: Option<bool>,
    #[schema(nullable = false)]
    pub retry_policy: Option<RetryPolicy>,
}

/// A hook as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Hook {
    pub id: String,
    pub integration_id: String,
    pub name: String,
    /// Spelled as the request spells it.
    #[serde(rename = "type")]
    #[schema(schema_with = hook_type)]
    pub hook_type: HookType,
    #[schema(schema_with = entity_type)]
    pub entity_type: EntityType,
    #[schema(schema_with = change_types)]
    pub event_types: Vec<ChangeType>,
    #[schema(schema_with = language)]
    pub language: Language,
    pub code: String,
    #[schema(schema_with = nullable_interval)]
    pub schedule: Option<Interval>,
    #[schema(minimum = 0, maximum = 23)]
    pub preferred_hour: Option<u8>,
    pub enabled: bool,
    /// PUSH hooks only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_policy: Option<RetryPolicy>,
    /// An enabled PULL hook with a schedule: when its next scheduled run is due (the
    /// schedule's next slot in the organisation's time zone); otherwise null.
    #[schema(format = DateTime)]
    pub next_run_at: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl From<flowstate_store::integrations::Hook> for Hook {
    fn from(stored: flowstate_store::integrations::Hook) -> Hook {
        Hook {
            schedule: stored.schedule.as_deref().and_then(Interval::parse),
            retry_policy: stored.retry_policy.map(|policy| RetryPolicy { max_attempts: policy.max_attempts }),
            id: stored.id,
            integration_id: stored.integration_id,
            name: stored.name,
            hook_type: stored.hook_type,
            entity_type: stored.entity_type,
            event_types: stored.event_types,
            language: stored.language,
            code: stored.code,
            preferred_hour: stored.preferred_hour,
            enabled: stored.enabled,
            next_run_at: None,
            created_at: stored.created_at,
            updated_at: stored.updated_at,
        }
    }
}

/// A new hook's starting code: the hook guide's example for a type and entity.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct HookStarter {
    pub code: String,
}

/// One execution of a hook.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Execution {
    pub id: String,
    pub hook_id: String,
    #[schema(schema_with = execution_status)]
    pub status: ExecutionStatus,
    #[schema(schema_with = trigger)]
    pub trigger: Trigger,
    #[schema(format = DateTime)]
    pub started_at: String,
    #[schema(format = DateTime)]
    pub finished_at: Option<String>,
    /// PULL, per page: what the hook returned (records, requests, duration) and what the
    /// sync made of it (created, updated, unchanged, deleted, errors, nested counts).
    #[schema(value_type = Vec<Object>)]
    pub pages: Value,
    /// Once finished: logs, HTTP requests, the error with its stack, warnings.
    #[schema(value_type = Option<Object>)]
    pub record: Option<Value>,
    pub error: Option<String>,
    /// PUSH: the change event delivered (`evt_<seq>`).
    pub event_id: Option<String>,
}

impl From<flowstate_store::integrations::Execution> for Execution {
    fn from(stored: flowstate_store::integrations::Execution) -> Execution {
        let flowstate_store::integrations::Execution {
            id,
            hook_id,
            status,
            trigger,
            started_at,
            finished_at,
            pages,
            record,
            error,
            event_id,
        } = stored;
        Execution { id, hook_id, status, trigger, started_at, finished_at, pages, record, error, event_id }
    }
}

/// `POST …/hooks/{hookId}/plan`: what to plan.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct PlanRequest {
    /// The code to run instead of the hook's saved code (an unsaved edit); it must compile
    /// (a 400 gives the line and column). Absent: the saved code.
    #[schema(nullable = false, min_length = 1, pattern = r"\S")]
    pub code: Option<String>,
}

/// A dry run: what a sync of the hook's records would do, with nothing written.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct HookPlan {
    /// The sum of the pages: created, updated, unchanged, deleted, nested (per array:
    /// created, updated, unchanged, deleted) and errors (externalId, field, message).
    #[schema(value_type = Object)]
    pub totals: Value,
    /// Each page's counts, as an execution's pages show them.
    #[schema(value_type = Vec<Object>)]
    pub pages: Value,
    /// Every record the hook returned, in order.
    pub records: Vec<PlannedRecord>,
    /// The run, as an execution records it: status, pages, logs, HTTP requests, error,
    /// warnings (secrets redacted). It is not stored among the hook's executions.
    #[schema(value_type = Object)]
    pub execution: Value,
}

/// What the sync would do with one record.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PlannedRecord {
    /// The page it came in (0-based).
    pub page: u32,
    pub external_id: String,
    #[schema(schema_with = planned_action)]
    pub action: PlannedAction,
    /// create: the fields it sets; update: the fields that change (nested arrays whole).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldDiff>,
    /// Its nested rows, per array (teamAllocations, …): created, updated, unchanged, deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub nested: Option<Value>,
    /// Other entities it changes (a team it names that does not exist yet, a vacancy it fills).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<SideEffect>,
    /// Why it would be refused: each with the field, when one is to blame.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<PlannedError>,
}

/// A field's value before and after (`null`: none).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct FieldDiff {
    pub field: String,
    #[schema(value_type = Object, nullable)]
    pub before: Value,
    #[schema(value_type = Object, nullable)]
    pub after: Value,
}

/// Another entity a record changes.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SideEffect {
    #[schema(schema_with = entity_type)]
    pub entity_type: EntityType,
    pub external_id: Option<String>,
    #[schema(schema_with = change_type)]
    pub change_type: ChangeType,
    pub changes: Vec<FieldDiff>,
}

/// A reason a record would be refused.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PlannedError {
    pub external_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message: String,
}
