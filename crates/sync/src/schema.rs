//! Which fields each entity's `data` may carry, and of what kind (data-model.md).

use crate::{EntityType, NestedKind};

/// How a field's JSON value is checked and normalised.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FieldKind {
    /// A string of at most `max` characters (blank is "no value" only where not required).
    Text { max: usize },
    /// An identifier or code: a non-blank string of at most 255 characters.
    Id,
    /// An email address (at most 254 characters).
    Email,
    /// `YYYY-MM-DD`.
    Date,
    /// One of the listed strings.
    Enum(&'static [&'static str]),
    /// A number in `min..=max`.
    Number { min: f64, max: f64 },
    /// An amount of money: a number ≥ 0, rounded to 2 decimals.
    Money,
    /// A whole number in `min..=max`.
    Integer { min: i64, max: i64 },
    /// An ISO 4217 code: three upper-case letters.
    Currency,
    /// A job role: a title string, or `{ title, externalId? }`.
    JobRole,
}

/// One field of an entity.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FieldSpec {
    pub name: &'static str,
    pub kind: FieldKind,
    /// Must be present (and not null) when the record creates the entity.
    pub required: bool,
}

const fn field(name: &'static str, kind: FieldKind) -> FieldSpec {
    FieldSpec { name, kind, required: false }
}

const fn required(name: &'static str, kind: FieldKind) -> FieldSpec {
    FieldSpec { name, kind, required: true }
}

const NAME: FieldKind = FieldKind::Text { max: 255 };
const LONG_TEXT: FieldKind = FieldKind::Text { max: 10_000 };
const ID_TEXT: FieldKind = FieldKind::Id;
const RATE_TYPE: FieldKind = FieldKind::Enum(&["hourly", "daily", "monthly"]);

const EMPLOYEE: &[FieldSpec] = &[
    required("firstName", NAME),
    required("lastName", NAME),
    required("email", FieldKind::Email),
    field("internalEmployeeId", ID_TEXT),
    field("startDate", FieldKind::Date),
    field("endDate", FieldKind::Date),
    field("noticeDate", FieldKind::Date),
    field("jobRole", FieldKind::JobRole),
    field("defaultCurrencyCode", FieldKind::Currency),
    // A work type by externalId, else name (forecast.md "Work types").
    field("workType", NAME),
];

const CONTRACTOR: &[FieldSpec] = &[
    required("name", NAME),
    field("email", FieldKind::Email),
    field("contractorType", NAME),
    field("companyExternalId", ID_TEXT),
    field("startDate", FieldKind::Date),
    field("endDate", FieldKind::Date),
    field("rateType", RATE_TYPE),
    field("rate", FieldKind::Money),
    field("currencyCode", FieldKind::Currency),
];

const VACANCY: &[FieldSpec] = &[
    required("role", NAME),
    field("description", LONG_TEXT),
    field("status", FieldKind::Enum(&["open", "filled", "cancelled", "on_hold"])),
    field("fte", FieldKind::Number { min: 0.0, max: 1.0 }),
    field("targetStartDate", FieldKind::Date),
    field("targetFillDate", FieldKind::Date),
    field("salaryMin", FieldKind::Money),
    field("salaryMax", FieldKind::Money),
    field("currencyCode", FieldKind::Currency),
    field("jobRole", FieldKind::JobRole),
    field("workType", NAME),
];

const PROJECT: &[FieldSpec] = &[
    required("name", NAME),
    field("description", LONG_TEXT),
    field("projectCode", ID_TEXT),
    field("startDate", FieldKind::Date),
    field("endDate", FieldKind::Date),
    field("status", FieldKind::Enum(&["planning", "active", "completed", "on_hold", "cancelled"])),
    field("priority", FieldKind::Integer { min: i32::MIN as i64, max: i32::MAX as i64 }),
    field("estimatedCost", FieldKind::Money),
];

const TEAM: &[FieldSpec] = &[
    required("name", NAME),
    field("teamType", NAME),
    field("description", LONG_TEXT),
    field("parentTeamExternalId", ID_TEXT),
];

const ASSIGNMENT: &[FieldSpec] = &[
    required("resourceType", FieldKind::Enum(&["employee", "contractor", "vacancy", "team"])),
    required("resourceExternalId", ID_TEXT),
    required("targetType", FieldKind::Enum(&["team", "project"])),
    required("targetExternalId", ID_TEXT),
    required("fte", FieldKind::Number { min: 0.0, max: 10.0 }),
    required("startDate", FieldKind::Date),
    field("endDate", FieldKind::Date),
];

/// The scalar fields of an entity type (nested arrays, `customAttributes`, `deletedAt` and
/// the vacancy fill are handled apart).
pub fn fields(entity: EntityType) -> &'static [FieldSpec] {
    match entity {
        EntityType::Employee => EMPLOYEE,
        EntityType::Contractor => CONTRACTOR,
        EntityType::Vacancy => VACANCY,
        EntityType::Project => PROJECT,
        EntityType::Team => TEAM,
        EntityType::Assignment => ASSIGNMENT,
    }
}

const TEAM_ALLOCATION: &[FieldSpec] = &[
    required("teamId", ID_TEXT),
    field("teamName", NAME),
    required("fte", FieldKind::Number { min: 0.0, max: 10.0 }),
    required("startDate", FieldKind::Date),
    field("endDate", FieldKind::Date),
];

const PROJECT_ALLOCATION: &[FieldSpec] = &[
    required("projectId", ID_TEXT),
    field("projectName", NAME),
    required("fte", FieldKind::Number { min: 0.0, max: 10.0 }),
    required("startDate", FieldKind::Date),
    field("endDate", FieldKind::Date),
];

const REASON: FieldKind = FieldKind::Text { max: 1000 };

const SALARY_ADJUSTMENT: &[FieldSpec] = &[
    required("effectiveDate", FieldKind::Date),
    required("salary", FieldKind::Money),
    field("bonus", FieldKind::Money),
    required("currencyCode", FieldKind::Currency),
    field("reason", REASON),
];

const RATE_ADJUSTMENT: &[FieldSpec] = &[
    required("effectiveDate", FieldKind::Date),
    required("rate", FieldKind::Money),
    required("rateType", RATE_TYPE),
    required("currencyCode", FieldKind::Currency),
    field("reason", REASON),
];

/// The fields of one row of a nested array (data-model.md "Nested arrays on resource
/// records"), in the order they are checked. Optional ones may also be `null`.
pub fn row_fields(kind: NestedKind) -> &'static [FieldSpec] {
    match kind {
        NestedKind::TeamAllocations => TEAM_ALLOCATION,
        NestedKind::ProjectAllocations => PROJECT_ALLOCATION,
        NestedKind::SalaryAdjustments => SALARY_ADJUSTMENT,
        NestedKind::RateAdjustments => RATE_ADJUSTMENT,
    }
}

/// Pairs of date fields where the first may not be after the second.
pub fn date_order(entity: EntityType) -> &'static [(&'static str, &'static str)] {
    match entity {
        EntityType::Employee | EntityType::Contractor | EntityType::Project | EntityType::Assignment => {
            &[("startDate", "endDate")]
        }
        EntityType::Vacancy | EntityType::Team => &[],
    }
}

/// Values a created entity takes when its record leaves the field out (data-model.md:
/// a vacancy is `open` with `fte` 1.0; a project's `priority` is 0).
pub fn defaults(entity: EntityType) -> Vec<(&'static str, crate::FieldValue)> {
    use crate::FieldValue;
    match entity {
        EntityType::Vacancy => vec![("status", FieldValue::Text("open".into())), ("fte", FieldValue::Number(1.0))],
        EntityType::Project => vec![("priority", FieldValue::Integer(0))],
        _ => Vec::new(),
    }
}
