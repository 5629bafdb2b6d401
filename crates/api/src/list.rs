//! List queries (`page`, `limit`, `search`, `sortBy`, `sortDir`, `excludeFilled`), parsed and
//! applied to represented entities. Pure.

use std::{cmp::Ordering, collections::HashMap};

use serde_json::{Value, json};

use crate::error::{ApiError, ErrorCode};

pub(crate) const MAX_LIMIT: usize = 200;
/// The highest page number asked for (any page past the last is empty; this bound only
/// keeps the number a plain integer everywhere, the document included).
pub(crate) const MAX_PAGE: usize = 1_000_000_000;
const DEFAULT_LIMIT: usize = 50;

/// A checked list query.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ListQuery {
    pub page: usize,
    pub limit: usize,
    pub search: Option<String>,
    pub sort_by: String,
    pub descending: bool,
    /// Vacancies only: leave out the filled ones (the default, as the product's list does).
    pub exclude_filled: bool,
}

impl ListQuery {
    /// Every problem at once, each naming its parameter.
    pub fn parse(params: &HashMap<String, String>) -> Result<ListQuery, ApiError> {
        let mut problems = Vec::new();
        let mut number = |name: &str, default: usize, max: usize| match params.get(name) {
            None => default,
            Some(text) => match text.parse::<usize>() {
                Ok(value) if (1..=max).contains(&value) => value,
                _ => {
                    problems.push(json!({ "field": name, "message": format!("{name} must be a whole number from 1 to {max}, got {text:?}") }));
                    default
                }
            },
        };
        let page = number("page", 1, MAX_PAGE);
        let limit = number("limit", DEFAULT_LIMIT, MAX_LIMIT);
        let descending = match params.get("sortDir").map(String::as_str) {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(other) => {
                problems.push(
                    json!({ "field": "sortDir", "message": format!("sortDir must be asc or desc, got {other:?}") }),
                );
                false
            }
        };
        let exclude_filled = match params.get("excludeFilled").map(String::as_str) {
            None | Some("true") => true,
            Some("false") => false,
            Some(other) => {
                problems.push(json!({ "field": "excludeFilled", "message": format!("excludeFilled must be true or false, got {other:?}") }));
                true
            }
        };
        if !problems.is_empty() {
            return Err(ApiError::new(ErrorCode::ValidationError, "the query parameters are invalid")
                .with_details(Value::Array(problems)));
        }
        Ok(ListQuery {
            page,
            limit,
            search: params.get("search").map(|search| search.to_lowercase()).filter(|search| !search.is_empty()),
            sort_by: params.get("sortBy").cloned().unwrap_or_else(|| "externalId".to_string()),
            descending,
            exclude_filled,
        })
    }

    /// The page of `entities` this query asks for, and how many matched in all.
    pub fn apply(&self, entities: Vec<Value>, is_vacancy: bool) -> (Vec<Value>, usize) {
        let mut matching: Vec<Value> = entities
            .into_iter()
            .filter(|entity| !(is_vacancy && self.exclude_filled && entity["isFilled"] == Value::Bool(true)))
            .filter(|entity| self.search.as_deref().is_none_or(|search| mentions(entity, search)))
            .collect();
        matching.sort_by(|a, b| {
            let order = compare(a.get(&self.sort_by), b.get(&self.sort_by));
            let order = if self.descending { order.reverse() } else { order };
            // Ties keep a stable, documented order.
            order.then_with(|| compare(a.get("id"), b.get("id")))
        });
        let total = matching.len();
        let start = self.page.saturating_sub(1).saturating_mul(self.limit).min(total);
        let data = matching.into_iter().skip(start).take(self.limit).collect();
        (data, total)
    }
}

/// Whether a top-level text value of the entity contains `search` (lowercase), ignoring case.
fn mentions(entity: &Value, search: &str) -> bool {
    entity.as_object().is_some_and(|object| {
        object.values().any(|value| value.as_str().is_some_and(|text| text.to_lowercase().contains(search)))
    })
}

/// Numbers by value, text bytewise, anything else after them; absent or null last.
fn compare(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    let rank = |value: Option<&Value>| match value {
        Some(Value::Number(_)) => 0,
        Some(Value::String(_)) => 1,
        Some(Value::Bool(_)) => 2,
        None | Some(Value::Null) => 4,
        Some(_) => 3,
    };
    match (a, b) {
        (Some(Value::Number(a)), Some(Value::Number(b))) => {
            a.as_f64().unwrap_or(0.0).partial_cmp(&b.as_f64().unwrap_or(0.0)).unwrap_or(Ordering::Equal)
        }
        (Some(Value::String(a)), Some(Value::String(b))) => a.cmp(b),
        (Some(Value::Bool(a)), Some(Value::Bool(b))) => a.cmp(b),
        _ => rank(a).cmp(&rank(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> Result<ListQuery, ApiError> {
        ListQuery::parse(&pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn limits_and_directions_are_checked_together() {
        let error = query(&[("limit", "201"), ("sortDir", "up"), ("page", "0")]).unwrap_err();
        assert_eq!(error.code, ErrorCode::ValidationError);
        let fields: Vec<&str> =
            error.details.as_ref().unwrap().as_array().unwrap().iter().map(|p| p["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["page", "limit", "sortDir"]);
        assert_eq!(query(&[("limit", "200")]).unwrap().limit, 200);
        assert_eq!(query(&[]).unwrap().limit, 50);
    }

    #[test]
    fn pages_sort_search_and_hide_filled_vacancies() {
        let entities: Vec<Value> = (1..=5)
            .map(|n| json!({ "id": format!("v{n}"), "externalId": format!("POS-{n}"), "role": if n % 2 == 0 { "Engineer" } else { "Designer" }, "fte": n, "isFilled": n == 5 }))
            .collect();
        let (data, total) = query(&[("limit", "2"), ("page", "2")]).unwrap().apply(entities.clone(), true);
        assert_eq!(total, 4, "POS-5 is filled and hidden by default");
        assert_eq!(data.iter().map(|v| v["externalId"].as_str().unwrap()).collect::<Vec<_>>(), ["POS-3", "POS-4"]);
        let (data, total) = query(&[("search", "ENGINEER"), ("sortBy", "fte"), ("sortDir", "desc")])
            .unwrap()
            .apply(entities.clone(), true);
        assert_eq!((total, data[0]["externalId"].as_str()), (2, Some("POS-4")));
        let (_, total) = query(&[("excludeFilled", "false")]).unwrap().apply(entities, true);
        assert_eq!(total, 5);
    }
}
