//! The rows the team cost forecast reads (`flowstate_forecast`), in one query per table of
//! one organisation, all in one read-only snapshot.
//!
//! Amounts are kept as numbers in the database; each becomes a decimal through its shortest
//! decimal spelling (`340.605`, as it was written: the database's text of the number, or the
//! JSON number's), so no binary floating point arithmetic happens on the way from a salary
//! to a total.

use std::borrow::Cow;

use rustc_hash::FxHashMap as HashMap;

use chrono::NaiveDate;
use flowstate_forecast::{
    Allocation, Contractor, CurrencyCode, Decimal, Detail, Employee, ExchangeRate, Forecast, GroupBy, MonthRange,
    Organisation, Project, Rate, RateType, SalaryAdjustment, Team, Vacancy, VacancyStatus,
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

/// A number as the database spells it (the shortest spelling that reads back as the stored
/// number).
fn number(text: Option<&str>) -> Option<Decimal> {
    text.and_then(|text| text.parse().ok())
}

/// The fields of an entity's JSON the forecast reads (the rest is skipped while parsing;
/// text is borrowed from the row where it has no escapes).
#[derive(Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Fields<'a> {
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    first_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    last_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    role: Option<Cow<'a, str>>,
    #[serde(borrow)]
    start_date: Option<Cow<'a, str>>,
    #[serde(borrow)]
    end_date: Option<Cow<'a, str>>,
    #[serde(borrow)]
    work_type: Option<Cow<'a, str>>,
    rate: Option<f64>,
    #[serde(borrow)]
    rate_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    currency_code: Option<Cow<'a, str>>,
    #[serde(borrow)]
    status: Option<Cow<'a, str>>,
    fte: Option<f64>,
    #[serde(borrow)]
    target_start_date: Option<Cow<'a, str>>,
    salary_min: Option<f64>,
    salary_max: Option<f64>,
}

impl<'a> Fields<'a> {
    fn parse(text: Option<&'a str>) -> Fields<'a> {
        text.and_then(|text| serde_json::from_str(text).ok()).unwrap_or_default()
    }

    fn date(field: &Option<Cow<'a, str>>) -> Option<NaiveDate> {
        field.as_deref().and_then(date)
    }
}

/// Frees a large organisation's rows (some 150,000 allocations for 14,000 people and
/// positions: a fifth of a forecast's time) on a thread of its own, after the answer is
/// made, so the caller does not wait for it. Small ones are freed here.
fn drop_in_background(rows: Organisation) {
    const LARGE: usize = 1_000;
    if rows.employees.len() + rows.contractors.len() + rows.vacancies.len() >= LARGE {
        // Where no thread can be started, `spawn` drops the closure, and the rows, here.
        let _ = std::thread::Builder::new().name("forecast-drop".into()).spawn(move || drop(rows));
    }
}

/// Appends `value` to `key`'s list (the key is copied only the first time).
fn push_to<T>(lists: &mut HashMap<String, Vec<T>>, key: &str, value: T) {
    match lists.get_mut(key) {
        Some(list) => list.push(value),
        None => {
            lists.insert(key.to_string(), vec![value]);
        }
    }
}

/// Cell `index` of a row, owned.
fn owned(row: &[Option<&str>], index: usize) -> Option<String> {
    row.get(index).copied().flatten().map(str::to_string)
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
        detail: Detail,
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
        let forecast = flowstate_forecast::forecast(&rows, range, group_by, team_id.as_deref(), detail);
        drop_in_background(rows);
        Ok(forecast)
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
        let mut read = |sql: &str, visit: &mut dyn FnMut(&[Option<&str>])| -> Result<(), StoreError> {
            Ok(db.each_text_row(sql, &params, visit)?)
        };
        let mut currency = None;
        read("SELECT currency FROM organizations WHERE id = $1", &mut |row| {
            currency = row[0].and_then(CurrencyCode::parse);
        })?;
        let currency = currency
            .ok_or_else(|| StoreError::Database(format!("organisation {org} has no ISO 4217 currency stored")))?;
        let mut rows = Organisation::new(currency);
        // Work types' overhead by externalId, and by name.
        let (mut overhead_by_external_id, mut overhead_by_name) = (HashMap::default(), HashMap::default());
        read(
            "SELECT name, external_id, CAST(overhead_percentage AS TEXT) FROM work_types WHERE org_id = $1",
            &mut |row| {
                let overhead = number(row[2]).unwrap_or_default();
                if let Some(name) = owned(row, 0) {
                    overhead_by_name.insert(name, overhead);
                }
                if let Some(external_id) = owned(row, 1) {
                    overhead_by_external_id.insert(external_id, overhead);
                }
            },
        )?;
        let overhead = |work_type: Option<&str>| -> Decimal {
            work_type
                .and_then(|key| overhead_by_external_id.get(key).or_else(|| overhead_by_name.get(key)))
                .copied()
                .unwrap_or_default()
        };
        // Allocations and adjustments by resource id.
        let mut allocations_of: HashMap<String, Vec<Allocation>> = HashMap::default();
        read(
            &format!(
                "SELECT resource_id, target_type, target_id, {fte}, start_date, end_date FROM assignments WHERE org_id = $1"
            ),
            &mut |row| {
                let kind = match row[1] {
                    Some("team") => GroupBy::Team,
                    Some("project") => GroupBy::Project,
                    _ => return,
                };
                let (Some(resource), Some(target), Some(fte), Some(start)) =
                    (row[0], row[2], number(row[3]), row[4].and_then(date))
                else {
                    return;
                };
                let allocation =
                    Allocation { kind, target: target.to_string(), fte, start, end: row[5].and_then(date) };
                push_to(&mut allocations_of, resource, allocation);
            },
        )?;
        let mut salaries_of: HashMap<String, Vec<SalaryAdjustment>> = HashMap::default();
        read(
            &format!(
                "SELECT employee_id, effective_date, {salary}, {bonus}, currency_code FROM salary_adjustments WHERE org_id = $1"
            ),
            &mut |row| {
                let (Some(employee), Some(effective), Some(salary), Some(currency)) =
                    (row[0], row[1].and_then(date), number(row[2]), row[4].and_then(CurrencyCode::parse))
                else {
                    return;
                };
                let adjustment = SalaryAdjustment { effective, salary, bonus: number(row[3]), currency };
                push_to(&mut salaries_of, employee, adjustment);
            },
        )?;
        let mut rates_of: HashMap<String, Vec<Rate>> = HashMap::default();
        read(
            &format!(
                "SELECT contractor_id, effective_date, rate_type, {rate}, currency_code FROM rate_adjustments WHERE org_id = $1"
            ),
            &mut |row| {
                let (Some(contractor), Some(effective), Some(rate_type), Some(rate), Some(currency)) = (
                    row[0],
                    row[1].and_then(date),
                    row[2].and_then(rate_type),
                    number(row[3]),
                    row[4].and_then(CurrencyCode::parse),
                ) else {
                    return;
                };
                let adjustment = Rate { effective: Some(effective), rate, rate_type, currency };
                push_to(&mut rates_of, contractor, adjustment);
            },
        )?;
        read("SELECT id, external_id, fields, parent_team_id FROM teams WHERE org_id = $1", &mut |row| {
            rows.teams.push(Team {
                id: owned(row, 0).unwrap_or_default(),
                external_id: owned(row, 1),
                name: Fields::parse(row[2]).name.unwrap_or_default().into_owned(),
                parent_id: owned(row, 3),
            });
        })?;
        read("SELECT id, external_id, fields FROM projects WHERE org_id = $1", &mut |row| {
            rows.projects.push(Project {
                id: owned(row, 0).unwrap_or_default(),
                external_id: owned(row, 1),
                name: Fields::parse(row[2]).name.unwrap_or_default().into_owned(),
            });
        })?;
        // Each person's end date, for the vacancies they fill.
        let mut ends: HashMap<String, Option<NaiveDate>> = HashMap::default();
        read("SELECT id, external_id, fields FROM employees WHERE org_id = $1", &mut |row| {
            let id = owned(row, 0).unwrap_or_default();
            let fields = Fields::parse(row[2]);
            let end = Fields::date(&fields.end_date);
            let name = match (fields.first_name.as_deref(), fields.last_name.as_deref()) {
                (Some(first), Some(last)) => format!("{first} {last}"),
                (one, other) => one.or(other).unwrap_or_default().to_string(),
            };
            rows.employees.push(Employee {
                external_id: owned(row, 1),
                name,
                start: Fields::date(&fields.start_date),
                end,
                overhead_percentage: overhead(fields.work_type.as_deref()),
                salaries: salaries_of.remove(&id).unwrap_or_default(),
                allocations: allocations_of.remove(&id).unwrap_or_default(),
                id,
            });
        })?;
        read("SELECT id, external_id, fields FROM contractors WHERE org_id = $1", &mut |row| {
            let id = owned(row, 0).unwrap_or_default();
            let fields = Fields::parse(row[2]);
            let mut rates = rates_of.remove(&id).unwrap_or_default();
            // The contractor's own rate, when no adjustment is in force.
            if let (Some(rate), Some(rate_type), Some(currency)) = (
                fields.rate.map(decimal),
                fields.rate_type.as_deref().and_then(rate_type),
                fields.currency_code.as_deref().and_then(CurrencyCode::parse),
            ) {
                rates.push(Rate { effective: None, rate, rate_type, currency });
            }
            rows.contractors.push(Contractor {
                external_id: owned(row, 1),
                name: fields.name.unwrap_or_default().into_owned(),
                start: Fields::date(&fields.start_date),
                end: Fields::date(&fields.end_date),
                rates,
                allocations: allocations_of.remove(&id).unwrap_or_default(),
                id,
            });
        })?;
        for employee in &rows.employees {
            ends.insert(employee.id.clone(), employee.end);
        }
        for contractor in &rows.contractors {
            ends.insert(contractor.id.clone(), contractor.end);
        }
        read(
            "SELECT id, external_id, fields, filled_by_employee_id, filled_by_contractor_id FROM vacancies WHERE org_id = $1",
            &mut |row| {
                let id = owned(row, 0).unwrap_or_default();
                let fields = Fields::parse(row[2]);
                let filler = row[3].or(row[4]);
                rows.vacancies.push(Vacancy {
                    external_id: owned(row, 1),
                    name: fields.role.unwrap_or_default().into_owned(),
                    status: match fields.status.as_deref() {
                        Some("filled") => VacancyStatus::Filled,
                        Some("cancelled") => VacancyStatus::Cancelled,
                        Some("on_hold") => VacancyStatus::OnHold,
                        _ => VacancyStatus::Open,
                    },
                    fte: fields.fte.map(decimal).unwrap_or(Decimal::ONE),
                    target_start: Fields::date(&fields.target_start_date),
                    salary_min: fields.salary_min.map(decimal),
                    salary_max: fields.salary_max.map(decimal),
                    currency: fields.currency_code.as_deref().and_then(CurrencyCode::parse),
                    overhead_percentage: overhead(fields.work_type.as_deref()),
                    filler_end: filler.map(|filler| ends.get(filler).copied().flatten()),
                    allocations: allocations_of.remove(&id).unwrap_or_default(),
                    id,
                });
            },
        )?;
        read(
            "SELECT from_currency, to_currency, rate, effective_date FROM exchange_rates WHERE org_id = $1",
            &mut |row| {
                if let (Some(from), Some(to), Some(rate), Some(effective)) = (
                    row[0].and_then(CurrencyCode::parse),
                    row[1].and_then(CurrencyCode::parse),
                    number(row[2]),
                    row[3].and_then(date),
                ) {
                    rows.exchange_rates.push(ExchangeRate { from, to, rate, effective });
                }
            },
        )?;
        Ok(rows)
    }
}
