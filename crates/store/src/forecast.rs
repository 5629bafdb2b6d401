//! The rows the team cost forecast reads (`flowstate_forecast`), in one query per table of
//! one organisation, all in one read-only snapshot.
//!
//! Amounts are kept as numbers in the database; each becomes a decimal through its shortest
//! decimal spelling (`340.605`, as it was written: the database's text of the number, or the
//! JSON number's), so no binary floating point arithmetic happens on the way from a salary
//! to a total.

use std::collections::HashMap;

use chrono::NaiveDate;
use flowstate_forecast::{
    Allocation, Contractor, Decimal, Employee, ExchangeRate, Forecast, GroupBy, MonthRange, Organisation, Project,
    Rate, RateType, SalaryAdjustment, Team, Vacancy, VacancyStatus,
};

use crate::{OrgId, Store, StoreError};

fn decimal(number: f64) -> Decimal {
    // `Display` writes the shortest spelling that reads back as the same number.
    number.to_string().parse().unwrap_or_default()
}

/// `YYYY-MM-DD` (as the store writes dates), read without chrono's general parser.
fn date(text: &str) -> Option<NaiveDate> {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        bytes[range]
            .iter()
            .try_fold(0u32, |value, byte| byte.is_ascii_digit().then(|| value * 10 + u32::from(byte - b'0')))
    };
    NaiveDate::from_ymd_opt(digits(0..4)? as i32, digits(5..7)?, digits(8..10)?)
}

fn rate_type(text: &str) -> Option<RateType> {
    match text {
        "hourly" => Some(RateType::Hourly),
        "daily" => Some(RateType::Daily),
        "monthly" => Some(RateType::Monthly),
        _ => None,
    }
}

/// A number as the database spells it (`CAST(… AS TEXT)`: the shortest spelling that reads
/// back as the stored number).
fn number(text: Option<&String>) -> Option<Decimal> {
    text.and_then(|text| text.parse().ok())
}

type Rows = Vec<Vec<Option<String>>>;

/// The fields of an entity's JSON the forecast reads (the rest is skipped while parsing).
#[derive(Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Fields {
    name: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    role: Option<String>,
    start_date: Option<String>,
    end_date: Option<String>,
    work_type: Option<String>,
    rate: Option<f64>,
    rate_type: Option<String>,
    currency_code: Option<String>,
    status: Option<String>,
    fte: Option<f64>,
    target_start_date: Option<String>,
    salary_min: Option<f64>,
    salary_max: Option<f64>,
}

impl Fields {
    fn parse(text: Option<&String>) -> Fields {
        text.and_then(|text| serde_json::from_str(text).ok()).unwrap_or_default()
    }
}

fn column(row: &[Option<String>], index: usize) -> Option<&String> {
    row.get(index).and_then(Option::as_ref)
}

impl Store {
    /// The team cost forecast of `org` over `range`; with `team` (a team's id or externalId),
    /// that team and its descendants only (`NotFound` when there is no such team).
    pub fn forecast(
        &self,
        org: &OrgId,
        range: MonthRange,
        group_by: GroupBy,
        team: Option<&str>,
    ) -> Result<Forecast, StoreError> {
        let team_id = match team {
            Some(key) => Some(
                self.find(org, flowstate_sync::EntityType::Team, key)?
                    .and_then(|found| found["id"].as_str().map(str::to_string))
                    .ok_or_else(|| StoreError::NotFound(format!("team {key:?}")))?,
            ),
            None => None,
        };
        let rows = self.forecast_rows(org)?;
        Ok(flowstate_forecast::forecast(&rows, range, group_by, team_id.as_deref()))
    }

    /// Everything the forecast of `org` reads: its reporting currency, teams, projects,
    /// employees, contractors and vacancies with their allocations and adjustments (and each
    /// vacancy's filler's end date), work types and exchange rates. One query per table,
    /// each reading only the columns the forecast needs.
    pub fn forecast_rows(&self, org: &OrgId) -> Result<Organisation, StoreError> {
        let mut db = self.reader()?;
        Self::check_org(db.as_mut(), org)?;
        let params = [Some(org.as_str())];
        let numeric = |column: &str| db.number_text(column);
        let (fte, salary, bonus, rate) = (numeric("fte"), numeric("salary"), numeric("bonus"), numeric("rate"));
        let mut read = |sql: &str| -> Result<Rows, StoreError> { Ok(db.query_text(sql, &params)?) };
        let currency =
            crate::db::first_text(&read("SELECT currency FROM organizations WHERE id = $1")?).unwrap_or_default();
        let work_types =
            read("SELECT name, external_id, CAST(overhead_percentage AS TEXT) FROM work_types WHERE org_id = $1")?;
        // Allocations and adjustments by resource id.
        let mut allocations_of: HashMap<String, Vec<Allocation>> = HashMap::new();
        for row in read(&format!(
            "SELECT resource_id, target_type, target_id, {fte}, start_date, end_date FROM assignments WHERE org_id = $1"
        ))? {
            let kind = match column(&row, 1).map(String::as_str) {
                Some("team") => GroupBy::Team,
                Some("project") => GroupBy::Project,
                _ => continue,
            };
            let (Some(resource), Some(target), Some(fte), Some(start)) = (
                column(&row, 0),
                column(&row, 2),
                number(column(&row, 3)),
                column(&row, 4).and_then(|text| date(text)),
            ) else {
                continue;
            };
            let end = column(&row, 5).and_then(|text| date(text));
            allocations_of.entry(resource.clone()).or_default().push(Allocation {
                kind,
                target: target.clone(),
                fte,
                start,
                end,
            });
        }
        let mut salaries_of: HashMap<String, Vec<SalaryAdjustment>> = HashMap::new();
        for row in read(&format!(
            "SELECT employee_id, effective_date, {salary}, {bonus}, currency_code FROM salary_adjustments WHERE org_id = $1"
        ))? {
            let (Some(employee), Some(effective), Some(salary), Some(currency)) = (
                column(&row, 0),
                column(&row, 1).and_then(|text| date(text)),
                number(column(&row, 2)),
                column(&row, 4),
            ) else {
                continue;
            };
            let adjustment =
                SalaryAdjustment { effective, salary, bonus: number(column(&row, 3)), currency: currency.clone() };
            salaries_of.entry(employee.clone()).or_default().push(adjustment);
        }
        let mut rates_of: HashMap<String, Vec<Rate>> = HashMap::new();
        for row in read(&format!(
            "SELECT contractor_id, effective_date, rate_type, {rate}, currency_code FROM rate_adjustments WHERE org_id = $1"
        ))? {
            let (Some(contractor), Some(effective), Some(rate_type), Some(rate), Some(currency)) = (
                column(&row, 0),
                column(&row, 1).and_then(|text| date(text)),
                column(&row, 2).and_then(|text| rate_type(text)),
                number(column(&row, 3)),
                column(&row, 4),
            ) else {
                continue;
            };
            let adjustment = Rate { effective: Some(effective), rate, rate_type, currency: currency.clone() };
            rates_of.entry(contractor.clone()).or_default().push(adjustment);
        }
        // Work types by externalId, else by name: their overhead.
        let overhead = |work_type: Option<&str>| -> Decimal {
            let Some(key) = work_type else { return Decimal::ZERO };
            work_types
                .iter()
                .find(|row| column(row, 1).map(String::as_str) == Some(key))
                .or_else(|| work_types.iter().find(|row| column(row, 0).map(String::as_str) == Some(key)))
                .and_then(|row| number(column(row, 2)))
                .unwrap_or_default()
        };
        let mut rows = Organisation { currency, ..Organisation::default() };
        rows.teams = read("SELECT id, external_id, fields, parent_team_id FROM teams WHERE org_id = $1")?
            .into_iter()
            .map(|row| Team {
                id: column(&row, 0).cloned().unwrap_or_default(),
                external_id: column(&row, 1).cloned(),
                name: Fields::parse(column(&row, 2)).name.unwrap_or_default(),
                parent_id: column(&row, 3).cloned(),
            })
            .collect();
        rows.projects = read("SELECT id, external_id, fields FROM projects WHERE org_id = $1")?
            .into_iter()
            .map(|row| Project {
                id: column(&row, 0).cloned().unwrap_or_default(),
                external_id: column(&row, 1).cloned(),
                name: Fields::parse(column(&row, 2)).name.unwrap_or_default(),
            })
            .collect();
        // Each person's end date, for the vacancies they fill.
        let mut ends: HashMap<String, Option<NaiveDate>> = HashMap::new();
        for row in read("SELECT id, external_id, fields FROM employees WHERE org_id = $1")? {
            let id = column(&row, 0).cloned().unwrap_or_default();
            let fields = Fields::parse(column(&row, 2));
            let end = fields.end_date.as_deref().and_then(date);
            ends.insert(id.clone(), end);
            let name = [fields.first_name.as_deref(), fields.last_name.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            rows.employees.push(Employee {
                external_id: column(&row, 1).cloned(),
                name,
                start: fields.start_date.as_deref().and_then(date),
                end,
                overhead_percentage: overhead(fields.work_type.as_deref()),
                salaries: salaries_of.remove(&id).unwrap_or_default(),
                allocations: allocations_of.remove(&id).unwrap_or_default(),
                id,
            });
        }
        for row in read("SELECT id, external_id, fields FROM contractors WHERE org_id = $1")? {
            let id = column(&row, 0).cloned().unwrap_or_default();
            let fields = Fields::parse(column(&row, 2));
            let end = fields.end_date.as_deref().and_then(date);
            ends.insert(id.clone(), end);
            let mut rates = rates_of.remove(&id).unwrap_or_default();
            // The contractor's own rate, when no adjustment is in force.
            if let (Some(rate), Some(rate_type), Some(currency)) =
                (fields.rate.map(decimal), fields.rate_type.as_deref().and_then(rate_type), fields.currency_code)
            {
                rates.push(Rate { effective: None, rate, rate_type, currency });
            }
            rows.contractors.push(Contractor {
                external_id: column(&row, 1).cloned(),
                name: fields.name.unwrap_or_default(),
                start: fields.start_date.as_deref().and_then(date),
                end,
                rates,
                allocations: allocations_of.remove(&id).unwrap_or_default(),
                id,
            });
        }
        for row in read(
            "SELECT id, external_id, fields, filled_by_employee_id, filled_by_contractor_id FROM vacancies WHERE org_id = $1",
        )? {
            let id = column(&row, 0).cloned().unwrap_or_default();
            let fields = Fields::parse(column(&row, 2));
            let filler = column(&row, 3).or(column(&row, 4));
            rows.vacancies.push(Vacancy {
                external_id: column(&row, 1).cloned(),
                name: fields.role.unwrap_or_default(),
                status: match fields.status.as_deref() {
                    Some("filled") => VacancyStatus::Filled,
                    Some("cancelled") => VacancyStatus::Cancelled,
                    Some("on_hold") => VacancyStatus::OnHold,
                    _ => VacancyStatus::Open,
                },
                fte: fields.fte.map(decimal).unwrap_or(Decimal::ONE),
                target_start: fields.target_start_date.as_deref().and_then(date),
                salary_min: fields.salary_min.map(decimal),
                salary_max: fields.salary_max.map(decimal),
                currency: fields.currency_code,
                overhead_percentage: overhead(fields.work_type.as_deref()),
                filler_end: filler.map(|filler| ends.get(filler).copied().flatten()),
                allocations: allocations_of.remove(&id).unwrap_or_default(),
                id,
            });
        }
        rows.exchange_rates =
            read("SELECT from_currency, to_currency, rate, effective_date FROM exchange_rates WHERE org_id = $1")?
                .iter()
                .filter_map(|row| {
                    Some(ExchangeRate {
                        from: column(row, 0)?.clone(),
                        to: column(row, 1)?.clone(),
                        rate: number(column(row, 2))?,
                        effective: date(column(row, 3)?)?,
                    })
                })
                .collect();
        Ok(rows)
    }
}
