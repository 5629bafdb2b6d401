//! Reference data on the wire: job roles, work types, exchange rates and custom attribute
//! definitions.

use flowstate_sync::{CustomFieldType, EntityType};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /job-roles`: a job role (409 when its externalId, or without one its title, is taken).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct NewJobRole {
    #[schema(min_length = 1, max_length = 200, pattern = r"\S", example = "Staff Engineer")]
    pub title: String,
    #[schema(nullable = false, min_length = 1, max_length = 200, pattern = r"\S")]
    pub external_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct JobRole {
    pub id: String,
    pub external_id: Option<String>,
    pub title: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl From<flowstate_store::reference::JobRole> for JobRole {
    fn from(stored: flowstate_store::reference::JobRole) -> JobRole {
        let flowstate_store::reference::JobRole { id, external_id, title, created_at, updated_at } = stored;
        JobRole { id, external_id, title, created_at, updated_at }
    }
}

/// `POST /work-types`: overhead that loads the cost of employees and vacancies naming it
/// (`30` is 30 %). 409 when its name or externalId is taken.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct NewWorkType {
    #[schema(min_length = 1, max_length = 200, pattern = r"\S", example = "Engineering")]
    pub name: String,
    #[schema(nullable = false, min_length = 1, max_length = 200, pattern = r"\S")]
    pub external_id: Option<String>,
    #[schema(minimum = 0, example = 30)]
    pub overhead_percentage: f64,
}

/// `PATCH /work-types/{id}`: the fields given change; `externalId: null` clears it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct WorkTypeChange {
    #[schema(nullable = false, min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "super::present")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 200, pattern = r"\S")]
    pub external_id: Option<Option<String>>,
    #[schema(nullable = false, minimum = 0)]
    pub overhead_percentage: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WorkType {
    pub id: String,
    pub name: String,
    pub external_id: Option<String>,
    pub overhead_percentage: f64,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl From<flowstate_store::reference::WorkType> for WorkType {
    fn from(stored: flowstate_store::reference::WorkType) -> WorkType {
        let flowstate_store::reference::WorkType { id, name, external_id, overhead_percentage, created_at, updated_at } =
            stored;
        WorkType { id, name, external_id, overhead_percentage, created_at, updated_at }
    }
}

/// `POST /exchange-rates`: 1 `fromCurrency` = `rate` `toCurrency` from `effectiveDate` on (a
/// rate of the same pair and date is replaced). The two currencies differ.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct NewExchangeRate {
    /// ISO 4217.
    #[schema(pattern = "^[A-Z]{3}$", example = "EUR")]
    pub from_currency: String,
    #[schema(pattern = "^[A-Z]{3}$", example = "GBP")]
    pub to_currency: String,
    #[schema(exclusive_minimum = 0, example = 0.86)]
    pub rate: f64,
    #[schema(format = Date, example = "2026-01-01")]
    pub effective_date: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ExchangeRate {
    pub id: String,
    pub from_currency: String,
    pub to_currency: String,
    pub rate: f64,
    #[schema(format = Date)]
    pub effective_date: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl From<flowstate_store::reference::ExchangeRate> for ExchangeRate {
    fn from(stored: flowstate_store::reference::ExchangeRate) -> ExchangeRate {
        let flowstate_store::reference::ExchangeRate {
            id,
            from_currency,
            to_currency,
            rate,
            effective_date,
            created_at,
            updated_at,
        } = stored;
        ExchangeRate { id, from_currency, to_currency, rate, effective_date, created_at, updated_at }
    }
}

/// The entity types a custom attribute may be defined for (data-model.md "Common").
#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum DefinableEntity {
    Employee,
    Contractor,
    Vacancy,
    Team,
    Project,
}

impl DefinableEntity {
    pub fn entity(self) -> EntityType {
        match self {
            DefinableEntity::Employee => EntityType::Employee,
            DefinableEntity::Contractor => EntityType::Contractor,
            DefinableEntity::Vacancy => EntityType::Vacancy,
            DefinableEntity::Team => EntityType::Team,
            DefinableEntity::Project => EntityType::Project,
        }
    }
}

fn field_type() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some(["STRING", "NUMBER", "DATE", "DATE_RANGE"]))
        .description(Some("DATE_RANGE values are { start, end } with end null or not before start"))
        .build()
}

/// `POST /custom-attribute-definitions` (409 when its name or attributeKey is taken).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct NewAttributeDefinition {
    #[schema(min_length = 1, max_length = 200, pattern = r"\S", example = "Cost Centre")]
    pub name: String,
    /// Generated from the name when omitted (`Cost Centre` is `cost_centre`); fixed.
    #[schema(nullable = false, pattern = "^[a-z][a-z0-9_]{0,99}$", example = "cost_centre")]
    pub attribute_key: Option<String>,
    #[schema(schema_with = field_type)]
    pub field_type: CustomFieldType,
    #[schema(min_items = 1, example = json!(["EMPLOYEE"]))]
    pub entity_types: Vec<DefinableEntity>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AttributeDefinition {
    pub id: String,
    pub name: String,
    pub attribute_key: String,
    #[schema(schema_with = field_type)]
    pub field_type: String,
    #[schema(value_type = Vec<DefinableEntity>)]
    pub entity_types: Vec<String>,
    pub is_required: bool,
    pub is_active: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<flowstate_store::reference::CustomAttributeDefinitionInfo> for AttributeDefinition {
    fn from(stored: flowstate_store::reference::CustomAttributeDefinitionInfo) -> AttributeDefinition {
        let flowstate_store::reference::CustomAttributeDefinitionInfo {
            id,
            name,
            attribute_key,
            field_type,
            entity_types,
            is_required,
            is_active,
            created_at,
        } = stored;
        AttributeDefinition { id, name, attribute_key, field_type, entity_types, is_required, is_active, created_at }
    }
}
