//! Nested arrays (`teamAllocations`, …): parsing, and the diff against the rows this source
//! owns (data-model.md, "Nested arrays on resource records").

use chrono::{Days, NaiveDate};
use serde_json::Value;

use crate::{
    NestedKind, schema,
    value::{FieldValue, check, type_name},
};

/// One row of a nested array, checked.
#[derive(Clone, Debug, PartialEq)]
pub enum NestedRow {
    Allocation(Allocation),
    Adjustment(Adjustment),
}

/// A team or project allocation: `{ teamId|projectId, teamName|projectName?, fte, startDate, endDate? }`.
#[derive(Clone, Debug, PartialEq)]
pub struct Allocation {
    /// The team's or project's externalId.
    pub target_external_id: String,
    /// The name to create an unknown target with (defaults to its id).
    pub target_name: Option<String>,
    pub fte: f64,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
}

/// A salary or rate adjustment.
#[derive(Clone, Debug, PartialEq)]
pub struct Adjustment {
    pub effective_date: NaiveDate,
    /// Annual salary, or the rate.
    pub amount: f64,
    /// Salary only.
    pub bonus: Option<f64>,
    /// Rate only: `hourly|daily|monthly`.
    pub rate_type: Option<String>,
    pub currency_code: String,
    pub reason: Option<String>,
}

impl NestedRow {
    /// The row's identity inside one resource: (target, startDate) for allocations,
    /// effectiveDate for adjustments.
    pub fn identity(&self) -> (String, NaiveDate) {
        match self {
            NestedRow::Allocation(allocation) => (allocation.target_external_id.clone(), allocation.start_date),
            NestedRow::Adjustment(adjustment) => (String::new(), adjustment.effective_date),
        }
    }

    fn start(&self) -> NaiveDate {
        self.identity().1
    }
}

/// Parses every row; problems come as `(field path, message)`.
pub(crate) fn parse_rows(kind: NestedKind, items: &[Value]) -> Result<Vec<NestedRow>, Vec<(String, String)>> {
    let mut rows = Vec::with_capacity(items.len());
    let mut problems = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let place = format!("{}[{index}]", kind.key());
        match parse_row(kind, item) {
            Ok(row) => {
                if let Some(first) = rows.iter().position(|existing: &NestedRow| existing.identity() == row.identity())
                {
                    let what = match kind {
                        NestedKind::TeamAllocations => "the same teamId and startDate",
                        NestedKind::ProjectAllocations => "the same projectId and startDate",
                        _ => "the same effectiveDate",
                    };
                    problems.push((place, format!("duplicates {}[{first}] ({what})", kind.key())));
                }
                rows.push(row);
            }
            Err(row_problems) => problems.extend(row_problems.into_iter().map(|(field, message)| {
                let path = if field.is_empty() { place.clone() } else { format!("{place}.{field}") };
                (path, message)
            })),
        }
    }
    if problems.is_empty() { Ok(rows) } else { Err(problems) }
}

fn parse_row(kind: NestedKind, item: &Value) -> Result<NestedRow, Vec<(String, String)>> {
    let Value::Object(row) = item else {
        return Err(vec![(String::new(), format!("must be an object, got {}", type_name(item)))]);
    };
    let mut problems = Vec::new();
    let specs = schema::row_fields(kind);
    for key in row.keys().filter(|key| !specs.iter().any(|spec| spec.name == key.as_str())) {
        problems.push((key.clone(), format!("is not a field of {} rows", kind.key())));
    }
    // Every field checked in the table's order, so each problem is reported.
    let mut values: Vec<Option<FieldValue>> = Vec::with_capacity(specs.len());
    for spec in specs {
        values.push(match row.get(spec.name) {
            None | Some(Value::Null) if spec.required => {
                problems.push((spec.name.to_string(), "is required".to_string()));
                None
            }
            None | Some(Value::Null) => None,
            Some(value) => match check(spec.kind, value) {
                Ok(value) => Some(value),
                Err(problem) => {
                    problems.push((spec.name.to_string(), problem.to_string()));
                    None
                }
            },
        });
    }
    let get = |name: &str| -> Option<FieldValue> {
        let index = specs.iter().position(|spec| spec.name == name).expect("a field of the row's table");
        values[index].clone()
    };
    let row = match kind {
        NestedKind::TeamAllocations | NestedKind::ProjectAllocations => {
            let (id, name) =
                if kind == NestedKind::TeamAllocations { ("teamId", "teamName") } else { ("projectId", "projectName") };
            let target = get(id);
            let target_name = get(name);
            let fte = get("fte");
            let start = get("startDate");
            let end = get("endDate");
            match (target, fte, start) {
                (Some(target), Some(fte), Some(start)) => {
                    let end_date = end.and_then(|end| end.as_date());
                    if end_date.is_some_and(|end| end < start.as_date().expect("date")) {
                        problems.push(("endDate".to_string(), "is before startDate".to_string()));
                    }
                    // Blank ids were refused by `FieldKind::Id` above.
                    let target_external_id = target.as_text().unwrap_or_default().to_string();
                    Some(NestedRow::Allocation(Allocation {
                        target_external_id,
                        // A blank name is no name: the target is then named by its id.
                        target_name: target_name
                            .and_then(|name| name.as_text().map(str::to_string))
                            .filter(|name| !name.trim().is_empty()),
                        fte: fte.as_number().expect("number"),
                        start_date: start.as_date().expect("date"),
                        end_date,
                    }))
                }
                _ => None,
            }
        }
        NestedKind::SalaryAdjustments | NestedKind::RateAdjustments => {
            let salary = kind == NestedKind::SalaryAdjustments;
            let effective = get("effectiveDate");
            let amount = get(if salary { "salary" } else { "rate" });
            let bonus = if salary { get("bonus") } else { None };
            let rate_type = if salary { None } else { get("rateType") };
            let currency = get("currencyCode");
            let reason = get("reason");
            match (effective, amount, currency) {
                (Some(effective), Some(amount), Some(currency)) if salary || rate_type.is_some() => {
                    Some(NestedRow::Adjustment(Adjustment {
                        effective_date: effective.as_date().expect("date"),
                        amount: amount.as_number().expect("number"),
                        bonus: bonus.and_then(|bonus| bonus.as_number()),
                        rate_type: rate_type.and_then(|rate_type| rate_type.as_text().map(str::to_string)),
                        currency_code: currency.as_text().unwrap_or_default().to_string(),
                        reason: reason.and_then(|reason| reason.as_text().map(str::to_string)),
                    }))
                }
                _ => None,
            }
        }
    };
    match row {
        Some(row) if problems.is_empty() => Ok(row),
        _ => Err(problems),
    }
}

/// A nested row already stored and owned by the syncing source.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredRow<Id> {
    pub id: Id,
    pub row: NestedRow,
}

/// What to do with one kind of nested rows of one resource.
#[derive(Clone, Debug, PartialEq)]
pub struct NestedPlan<Id> {
    pub create: Vec<NestedRow>,
    /// Rows whose identity matched but whose other values changed: the new values.
    pub update: Vec<(Id, NestedRow)>,
    pub unchanged: Vec<Id>,
    pub delete: Vec<Id>,
    /// Orphans that had started: set their `endDate` to this.
    pub end: Vec<(Id, NaiveDate)>,
}

impl<Id> NestedPlan<Id> {
    /// Counts as reported per page: ended orphans count as deleted.
    pub fn counts(&self) -> NestedCounts {
        NestedCounts {
            created: self.create.len(),
            updated: self.update.len(),
            deleted: self.delete.len() + self.end.len(),
            unchanged: self.unchanged.len(),
        }
    }
}

/// Per-kind counts of nested changes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct NestedCounts {
    pub created: usize,
    pub updated: usize,
    pub deleted: usize,
    pub unchanged: usize,
}

impl std::ops::AddAssign for NestedCounts {
    fn add_assign(&mut self, other: NestedCounts) {
        self.created += other.created;
        self.updated += other.updated;
        self.deleted += other.deleted;
        self.unchanged += other.unchanged;
    }
}

/// Diffs the incoming rows of one kind against the rows this source owns.
///
/// - a stored row whose identity is incoming: unchanged, or updated to the incoming values;
/// - an incoming row with no stored twin: created;
/// - a stored row not incoming (an orphan): if it started before `today`, it is ended the day
///   before the earliest incoming start (or, when that would not be after the orphan's own
///   start, the day before `today`), never later than an end it already has; an orphan that
///   starts today or later is deleted. With `[]` incoming, every stored row is deleted.
///   Adjustments are history: an orphan adjustment is deleted.
pub fn diff<Id: Clone>(stored: &[StoredRow<Id>], incoming: &[NestedRow], today: NaiveDate) -> NestedPlan<Id> {
    let mut plan = NestedPlan {
        create: Vec::new(),
        update: Vec::new(),
        unchanged: Vec::new(),
        delete: Vec::new(),
        end: Vec::new(),
    };
    for row in incoming {
        match stored.iter().find(|existing| existing.row.identity() == row.identity()) {
            Some(existing) if same_values(&existing.row, row) => plan.unchanged.push(existing.id.clone()),
            Some(existing) => plan.update.push((existing.id.clone(), row.clone())),
            None => plan.create.push(row.clone()),
        }
    }
    let earliest_incoming = incoming.iter().map(NestedRow::start).min();
    let day_before = |date: NaiveDate| date.checked_sub_days(Days::new(1)).unwrap_or(date);
    for existing in
        stored.iter().filter(|existing| !incoming.iter().any(|row| row.identity() == existing.row.identity()))
    {
        let NestedRow::Allocation(allocation) = &existing.row else {
            plan.delete.push(existing.id.clone());
            continue;
        };
        if incoming.is_empty() || allocation.start_date >= today {
            plan.delete.push(existing.id.clone());
            continue;
        }
        let mut end = match earliest_incoming.map(day_before) {
            Some(candidate) if candidate > allocation.start_date => candidate,
            _ => day_before(today),
        };
        if let Some(existing_end) = allocation.end_date {
            if existing_end <= end {
                // Already over by then: nothing to change, and ending it again is no news.
                plan.unchanged.push(existing.id.clone());
                continue;
            }
            end = end.min(existing_end);
        }
        plan.end.push((existing.id.clone(), end));
    }
    plan
}

/// Equal apart from the name used only to create an unknown target.
fn same_values(stored: &NestedRow, incoming: &NestedRow) -> bool {
    match (stored, incoming) {
        (NestedRow::Allocation(a), NestedRow::Allocation(b)) => a.fte == b.fte && a.end_date == b.end_date,
        (a, b) => a == b,
    }
}
