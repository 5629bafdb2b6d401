//! The team cost forecast's answer on the wire (forecast.md): amounts are decimal strings
//! with two decimals, months `YYYY-MM`.

use flowstate_forecast::{Decimal, Detail, Forecast as Computed, GroupBy};
use serde::Serialize;
use utoipa::ToSchema;

/// A month's amount: a decimal string with two decimals.
fn amounts(values: &[Decimal]) -> Vec<String> {
    values.iter().map(ToString::to_string).collect()
}

/// The `data` of `GET /forecast` (and what `flowstate forecast --json` prints).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Forecast {
    /// The reporting currency (the organisation's).
    #[schema(example = "GBP")]
    pub currency: String,
    #[schema(pattern = "^(team|project)$")]
    pub group_by: &'static str,
    #[schema(value_type = Vec<String>, example = json!(["2026-01", "2026-02"]))]
    pub months: Vec<String>,
    /// The organisation's (or with `teamId`, that team's) cost per month.
    #[schema(value_type = Vec<String>, example = json!(["1234.50", "1300.00"]))]
    pub total: Vec<String>,
    /// Teams parents first (or projects by name), then `Unallocated`.
    pub groups: Vec<Group>,
    pub not_costed: Vec<NotCosted>,
}

/// A team, a project, or `Unallocated` (`id` null).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Group {
    pub id: Option<String>,
    pub external_id: Option<String>,
    pub name: String,
    /// Teams only: the parent team's id (null at the top).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<Option<String>>,
    /// Own lines and, for a team, every descendant team's.
    pub total: Vec<String>,
    /// Own lines only.
    pub own: Vec<String>,
    /// With `lines=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lines: Option<Vec<Line>>,
}

/// One resource's cost in one group, per month.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Line {
    #[schema(pattern = "^(employee|contractor|vacancy)$")]
    pub resource_type: &'static str,
    pub id: String,
    pub external_id: Option<String>,
    pub name: String,
    pub amounts: Vec<String>,
}

/// A resource some of whose cost is left out, why, and in which months.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NotCosted {
    #[schema(pattern = "^(employee|contractor|vacancy)$")]
    pub resource_type: &'static str,
    pub id: String,
    pub external_id: Option<String>,
    /// `no salary`, `no rate`, `no salary range` or `no exchange rate EUR→GBP`.
    pub reason: String,
    pub months: Vec<String>,
}

impl From<&Computed> for Forecast {
    fn from(forecast: &Computed) -> Forecast {
        let teams = forecast.group_by == GroupBy::Team;
        let with_lines = forecast.detail == Detail::Lines;
        Forecast {
            currency: forecast.currency.to_string(),
            group_by: match forecast.group_by {
                GroupBy::Team => "team",
                GroupBy::Project => "project",
            },
            months: forecast.months.iter().map(ToString::to_string).collect(),
            total: amounts(&forecast.total),
            groups: forecast
                .groups
                .iter()
                .map(|group| Group {
                    id: group.id.clone(),
                    external_id: group.external_id.clone(),
                    name: group.name.clone(),
                    parent_id: teams.then(|| group.parent_id.clone()),
                    total: amounts(&group.total),
                    own: amounts(&group.own),
                    lines: with_lines.then(|| {
                        group
                            .lines
                            .iter()
                            .map(|line| Line {
                                resource_type: line.resource_type.as_str(),
                                id: line.id.clone(),
                                external_id: line.external_id.clone(),
                                name: line.name.clone(),
                                amounts: amounts(&line.amounts),
                            })
                            .collect()
                    }),
                })
                .collect(),
            not_costed: forecast
                .not_costed
                .iter()
                .map(|missing| NotCosted {
                    resource_type: missing.resource_type.as_str(),
                    id: missing.id.clone(),
                    external_id: missing.external_id.clone(),
                    reason: missing.reason.clone(),
                    months: missing.months.iter().map(ToString::to_string).collect(),
                })
                .collect(),
        }
    }
}
