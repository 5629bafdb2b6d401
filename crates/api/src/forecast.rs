//! `GET /api/v1/org/{orgId}/forecast`: the team cost forecast (forecast.md). The store reads
//! the organisation's rows and `flowstate_forecast` computes (`Store::forecast`, on the
//! blocking pool); this handler parses the query and renders the answer.

use std::collections::HashMap;

use axum::{
    Json,
    extract::{Query, State},
};
use flowstate_forecast::{Detail, Forecast, GroupBy, MonthRange};
use serde_json::Value;

use crate::{AppState, auth::Org, error::ApiError, execution::blocking};

/// The query parameters the forecast takes.
const PARAMETERS: [&str; 5] = ["from", "to", "groupBy", "teamId", "lines"];

pub(crate) async fn forecast(
    State(state): State<AppState>,
    Org(org): Org,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<crate::reply::Data<crate::contract::forecast::Forecast>>, ApiError> {
    if let Some(unknown) = params.keys().find(|name| !PARAMETERS.contains(&name.as_str())) {
        return Err(ApiError::invalid_field(
            unknown,
            format!("unknown query parameter {unknown:?}; the forecast takes {}", PARAMETERS.join(", ")),
        ));
    }
    let required = |name: &'static str| {
        params
            .get(name)
            .ok_or_else(|| ApiError::invalid_field(name, format!("{name} is required (a month as YYYY-MM)")))
    };
    let range = MonthRange::parse(required("from")?, required("to")?)
        .map_err(|error| ApiError::invalid_field(error.parameter, error.message))?;
    let group_by = match params.get("groupBy").map(String::as_str) {
        None | Some("team") => GroupBy::Team,
        Some("project") => GroupBy::Project,
        Some(other) => {
            return Err(ApiError::invalid_field("groupBy", format!("groupBy must be team or project, got {other:?}")));
        }
    };
    let with_lines = match params.get("lines").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::invalid_field("lines", format!("lines must be true or false, got {other:?}")));
        }
    };
    let team = params.get("teamId").cloned();
    if team.is_some() && group_by == GroupBy::Project {
        return Err(ApiError::invalid_field("teamId", "teamId narrows a forecast grouped by team"));
    }
    let detail = if with_lines { Detail::Lines } else { Detail::Totals };
    let forecast =
        blocking(&state.store, move |store| store.forecast(&org, range, group_by, team.as_deref(), detail)).await?;
    // Serialized straight from the typed answer (a large one with lines is megabytes).
    Ok(Json(crate::reply::Data { data: crate::contract::forecast::Forecast::from(&forecast) }))
}

/// The `data` of the answer (also what `flowstate forecast --json` prints); `lines` in each
/// group when the forecast was computed with [`Detail::Lines`].
pub fn render(forecast: &Forecast) -> Value {
    serde_json::to_value(crate::contract::forecast::Forecast::from(forecast)).expect("a forecast serializes")
}
