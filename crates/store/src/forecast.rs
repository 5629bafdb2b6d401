//! The rows the team cost forecast reads (`flowstate_forecast`), in a few bulk reads of one
//! organisation, all in one read-only snapshot.
//!
//! Amounts are kept as numbers in the database; each becomes a decimal through its shortest
//! decimal spelling (`340.605`, as it was written), so no binary floating point arithmetic
//! happens on the way from a salary to a total.

use chrono::NaiveDate;
use flowstate_forecast::{
    Allocation, Contractor, Decimal, Employee, ExchangeRate, GroupBy, Organisation, Project, Rate, RateType,
    SalaryAdjustment, Team, Vacancy, VacancyStatus,
};
use flowstate_sync::{EntityType, NestedKind};
use serde_json::{Map, Value};

use crate::{
    OrgId, Store, StoreError,
    db::EntityFilter,
    load::load_entities,
    world::{AdjustmentRow, World},
};

fn decimal(number: f64) -> Decimal {
    // `Display` writes the shortest spelling that reads back as the same number.
    number.to_string().parse().unwrap_or_default()
}

fn field_decimal(fields: &Map<String, Value>, name: &str) -> Option<Decimal> {
    fields.get(name).and_then(Value::as_f64).map(decimal)
}

fn field_text<'a>(fields: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    fields.get(name).and_then(Value::as_str)
}

fn field_date(fields: &Map<String, Value>, name: &str) -> Option<NaiveDate> {
    field_text(fields, name).and_then(|text| text.parse().ok())
}

fn date(text: &str) -> Option<NaiveDate> {
    text.parse().ok()
}

fn rate_type(text: &str) -> Option<RateType> {
    match text {
        "hourly" => Some(RateType::Hourly),
        "daily" => Some(RateType::Daily),
        "monthly" => Some(RateType::Monthly),
        _ => None,
    }
}

fn allocations(world: &World, resource_id: &str) -> Vec<Allocation> {
    world
        .assignments_of(resource_id)
        .into_iter()
        .filter_map(|row| {
            let kind = match row.target_type {
                EntityType::Team => GroupBy::Team,
                EntityType::Project => GroupBy::Project,
                _ => return None,
            };
            Some(Allocation {
                kind,
                target: row.target_id.clone(),
                fte: decimal(row.fte),
                start: date(&row.start_date)?,
                end: row.end_date.as_deref().and_then(date),
            })
        })
        .collect()
}

fn adjustments(world: &World, resource_id: &str, kind: NestedKind) -> Vec<AdjustmentRow> {
    world.adjustments_of(resource_id).into_iter().filter(|row| row.kind == kind).cloned().collect()
}

impl Store {
    /// Everything the forecast of `org` reads: its reporting currency, teams, projects,
    /// employees, contractors and vacancies with their allocations and adjustments (and each
    /// vacancy's filler's end date), and its exchange rates.
    pub fn forecast_rows(&self, org: &OrgId) -> Result<Organisation, StoreError> {
        let mut db = self.reader()?;
        Self::check_org(db.as_mut(), org)?;
        let currency = crate::db::first_text(
            &db.query_text("SELECT currency FROM organizations WHERE id = $1", &[Some(org.as_str())])?,
        )
        .unwrap_or_default();
        let mut rows = Organisation { currency, ..Organisation::default() };
        // Work types by externalId, else by name: their overhead.
        let work_types = db.query_text(
            "SELECT name, external_id, overhead_percentage FROM work_types WHERE org_id = $1",
            &[Some(org.as_str())],
        )?;
        let overhead = |fields: &Map<String, Value>| -> Decimal {
            let Some(key) = field_text(fields, "workType") else { return Decimal::ZERO };
            let percentage =
                |row: &Vec<Option<String>>| row.get(2).cloned().flatten().and_then(|text| text.parse().ok());
            work_types
                .iter()
                .find(|row| row.get(1).cloned().flatten().as_deref() == Some(key))
                .or_else(|| work_types.iter().find(|row| row.first().cloned().flatten().as_deref() == Some(key)))
                .and_then(percentage)
                .unwrap_or_default()
        };
        let (world, _) = load_entities(db.as_mut(), org.as_str(), EntityType::Team, EntityFilter::All)?;
        rows.teams = world
            .entities_of(EntityType::Team)
            .map(|row| Team {
                id: row.id.clone(),
                external_id: row.external_id.clone(),
                name: field_text(&row.fields, "name").unwrap_or_default().to_string(),
                parent_id: row.parent_team_id.clone(),
            })
            .collect();
        let (world, _) = load_entities(db.as_mut(), org.as_str(), EntityType::Project, EntityFilter::All)?;
        rows.projects = world
            .entities_of(EntityType::Project)
            .map(|row| Project {
                id: row.id.clone(),
                external_id: row.external_id.clone(),
                name: field_text(&row.fields, "name").unwrap_or_default().to_string(),
            })
            .collect();
        let (world, _) = load_entities(db.as_mut(), org.as_str(), EntityType::Employee, EntityFilter::All)?;
        rows.employees = world
            .entities_of(EntityType::Employee)
            .map(|row| {
                let name = [field_text(&row.fields, "firstName"), field_text(&row.fields, "lastName")]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                Employee {
                    id: row.id.clone(),
                    external_id: row.external_id.clone(),
                    name,
                    start: field_date(&row.fields, "startDate"),
                    end: field_date(&row.fields, "endDate"),
                    overhead_percentage: overhead(&row.fields),
                    salaries: adjustments(&world, &row.id, NestedKind::SalaryAdjustments)
                        .into_iter()
                        .filter_map(|adjustment| {
                            Some(SalaryAdjustment {
                                effective: date(&adjustment.effective_date)?,
                                salary: decimal(adjustment.amount),
                                bonus: adjustment.bonus.map(decimal),
                                currency: adjustment.currency_code,
                            })
                        })
                        .collect(),
                    allocations: allocations(&world, &row.id),
                }
            })
            .collect();
        let (world, _) = load_entities(db.as_mut(), org.as_str(), EntityType::Contractor, EntityFilter::All)?;
        rows.contractors = world
            .entities_of(EntityType::Contractor)
            .map(|row| {
                let mut rates: Vec<Rate> = adjustments(&world, &row.id, NestedKind::RateAdjustments)
                    .into_iter()
                    .filter_map(|adjustment| {
                        Some(Rate {
                            effective: Some(date(&adjustment.effective_date)?),
                            rate: decimal(adjustment.amount),
                            rate_type: rate_type(adjustment.rate_type.as_deref()?)?,
                            currency: adjustment.currency_code,
                        })
                    })
                    .collect();
                // The contractor's own rate, when no adjustment is in force.
                let own = (
                    field_decimal(&row.fields, "rate"),
                    field_text(&row.fields, "rateType").and_then(rate_type),
                    field_text(&row.fields, "currencyCode"),
                );
                if let (Some(rate), Some(rate_type), Some(currency)) = own {
                    rates.push(Rate { effective: None, rate, rate_type, currency: currency.to_string() });
                }
                Contractor {
                    id: row.id.clone(),
                    external_id: row.external_id.clone(),
                    name: field_text(&row.fields, "name").unwrap_or_default().to_string(),
                    start: field_date(&row.fields, "startDate"),
                    end: field_date(&row.fields, "endDate"),
                    rates,
                    allocations: allocations(&world, &row.id),
                }
            })
            .collect();
        // The world of vacancies holds their fillers too (what a vacancy points at is loaded).
        let (world, _) = load_entities(db.as_mut(), org.as_str(), EntityType::Vacancy, EntityFilter::All)?;
        rows.vacancies = world
            .entities_of(EntityType::Vacancy)
            .map(|row| {
                let filler = row.filled_by_employee.as_deref().or(row.filled_by_contractor.as_deref());
                let filler_end =
                    filler.map(|filler| world.entity(filler).and_then(|filler| field_date(&filler.fields, "endDate")));
                Vacancy {
                    id: row.id.clone(),
                    external_id: row.external_id.clone(),
                    name: field_text(&row.fields, "role").unwrap_or_default().to_string(),
                    status: match field_text(&row.fields, "status") {
                        Some("filled") => VacancyStatus::Filled,
                        Some("cancelled") => VacancyStatus::Cancelled,
                        Some("on_hold") => VacancyStatus::OnHold,
                        _ => VacancyStatus::Open,
                    },
                    fte: field_decimal(&row.fields, "fte").unwrap_or(Decimal::ONE),
                    target_start: field_date(&row.fields, "targetStartDate"),
                    salary_min: field_decimal(&row.fields, "salaryMin"),
                    salary_max: field_decimal(&row.fields, "salaryMax"),
                    currency: field_text(&row.fields, "currencyCode").map(str::to_string),
                    overhead_percentage: overhead(&row.fields),
                    filler_end,
                    allocations: allocations(&world, &row.id),
                }
            })
            .collect();
        let rates = db.query_text(
            "SELECT from_currency, to_currency, rate, effective_date FROM exchange_rates WHERE org_id = $1",
            &[Some(org.as_str())],
        )?;
        rows.exchange_rates = rates
            .iter()
            .filter_map(|row| {
                let text = |index: usize| row.get(index).cloned().flatten();
                Some(ExchangeRate {
                    from: text(0)?,
                    to: text(1)?,
                    rate: decimal(text(2)?.parse().ok()?),
                    effective: date(&text(3)?)?,
                })
            })
            .collect();
        Ok(rows)
    }
}
