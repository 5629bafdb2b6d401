//! What the forecast reads and what it answers.

use chrono::NaiveDate;
pub use flowstate_sync::CurrencyCode;
use rust_decimal::Decimal;

use crate::calendar::Month;

/// The most months one forecast covers.
pub const MAX_MONTHS: i64 = 60;

/// The months a forecast covers, `from` to `to` inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MonthRange {
    from: Month,
    to: Month,
}

/// Why a range was refused, naming the parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RangeError {
    /// `from` or `to`.
    pub parameter: &'static str,
    pub message: String,
}

impl MonthRange {
    /// `from` and `to` as `YYYY-MM`; `to` not before `from`, at most [`MAX_MONTHS`] months.
    pub fn parse(from: &str, to: &str) -> Result<MonthRange, RangeError> {
        let month = |parameter: &'static str, text: &str| {
            Month::parse(text).ok_or_else(|| RangeError {
                parameter,
                message: format!("{parameter} must be a month as YYYY-MM, got {text:?}"),
            })
        };
        let (first, last) = (month("from", from)?, month("to", to)?);
        let count = first.months_until(last) + 1;
        if count < 1 {
            return Err(RangeError { parameter: "to", message: format!("to ({last}) is before from ({first})") });
        }
        if count > MAX_MONTHS {
            return Err(RangeError {
                parameter: "to",
                message: format!("a forecast covers at most {MAX_MONTHS} months; {first} to {last} is {count}"),
            });
        }
        Ok(MonthRange { from: first, to: last })
    }

    /// The months, in order.
    pub fn months(&self) -> Vec<Month> {
        std::iter::successors(Some(self.from), |month| Some(month.next()))
            .take_while(|month| *month <= self.to)
            .collect()
    }

    pub fn first_day(&self) -> NaiveDate {
        self.from.first_day()
    }

    /// The day after the range.
    pub fn end(&self) -> NaiveDate {
        self.to.next().first_day()
    }
}

/// What a forecast groups by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupBy {
    Team,
    Project,
}

/// How much of the table a forecast answers: group totals only, or also the lines (one per
/// resource and group) they add up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detail {
    Totals,
    Lines,
}

/// A resource's allocation to a team or a project (dates inclusive).
#[derive(Clone, Debug, PartialEq)]
pub struct Allocation {
    pub kind: GroupBy,
    /// The team's or project's id.
    pub target: String,
    pub fte: Decimal,
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
}

/// An annual salary (and bonus) from its effective date.
#[derive(Clone, Debug, PartialEq)]
pub struct SalaryAdjustment {
    pub effective: NaiveDate,
    pub salary: Decimal,
    pub bonus: Option<Decimal>,
    pub currency: CurrencyCode,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateType {
    Hourly,
    Daily,
    Monthly,
}

/// A contractor's rate: an adjustment (from `effective`) or the contractor's own fields
/// (`effective` `None`: the fallback when no adjustment is in force).
#[derive(Clone, Debug, PartialEq)]
pub struct Rate {
    pub effective: Option<NaiveDate>,
    pub rate: Decimal,
    pub rate_type: RateType,
    pub currency: CurrencyCode,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Employee {
    pub id: String,
    pub external_id: Option<String>,
    pub name: String,
    pub start: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
    /// The work type's `overheadPercentage` (`30` = 30 %); 0 without one.
    pub overhead_percentage: Decimal,
    pub salaries: Vec<SalaryAdjustment>,
    pub allocations: Vec<Allocation>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Contractor {
    pub id: String,
    pub external_id: Option<String>,
    pub name: String,
    pub start: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
    /// Adjustments, and the contractor's own rate (with no effective date) if it has one.
    pub rates: Vec<Rate>,
    pub allocations: Vec<Allocation>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VacancyStatus {
    Open,
    Filled,
    Cancelled,
    OnHold,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Vacancy {
    pub id: String,
    pub external_id: Option<String>,
    /// The role.
    pub name: String,
    pub status: VacancyStatus,
    pub fte: Decimal,
    pub target_start: Option<NaiveDate>,
    pub salary_min: Option<Decimal>,
    pub salary_max: Option<Decimal>,
    /// The vacancy's `currencyCode`; `None`: the organisation's.
    pub currency: Option<CurrencyCode>,
    pub overhead_percentage: Decimal,
    /// `None`: not filled. `Some(end)`: filled by someone whose `endDate` is `end`.
    pub filler_end: Option<Option<NaiveDate>>,
    pub allocations: Vec<Allocation>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Team {
    pub id: String,
    pub external_id: Option<String>,
    pub name: String,
    pub parent_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Project {
    pub id: String,
    pub external_id: Option<String>,
    pub name: String,
}

/// The rate from `from` to `to` (1 `from` = `rate` `to`), from `effective`.
#[derive(Clone, Debug, PartialEq)]
pub struct ExchangeRate {
    pub from: CurrencyCode,
    pub to: CurrencyCode,
    pub rate: Decimal,
    pub effective: NaiveDate,
}

/// Everything a forecast reads of one organisation.
#[derive(Clone, Debug, PartialEq)]
pub struct Organisation {
    /// The reporting currency.
    pub currency: CurrencyCode,
    pub teams: Vec<Team>,
    pub projects: Vec<Project>,
    pub employees: Vec<Employee>,
    pub contractors: Vec<Contractor>,
    pub vacancies: Vec<Vacancy>,
    pub exchange_rates: Vec<ExchangeRate>,
}

impl Organisation {
    /// An organisation reporting in `currency`, with nothing in it yet.
    pub fn new(currency: CurrencyCode) -> Organisation {
        Organisation {
            currency,
            teams: Vec::new(),
            projects: Vec::new(),
            employees: Vec::new(),
            contractors: Vec::new(),
            vacancies: Vec::new(),
            exchange_rates: Vec::new(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResourceType {
    Employee,
    Contractor,
    Vacancy,
}

impl ResourceType {
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceType::Employee => "employee",
            ResourceType::Contractor => "contractor",
            ResourceType::Vacancy => "vacancy",
        }
    }
}

/// One resource's cost in one group, per month (rounded to cents).
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    pub resource_type: ResourceType,
    pub id: String,
    pub external_id: Option<String>,
    pub name: String,
    pub amounts: Vec<Decimal>,
}

/// A team, a project, or `Unallocated` (`id` `None`).
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    pub id: Option<String>,
    pub external_id: Option<String>,
    pub name: String,
    pub parent_id: Option<String>,
    /// Own lines and, for a team, every descendant team's.
    pub total: Vec<Decimal>,
    /// Own lines only.
    pub own: Vec<Decimal>,
    /// With [`Detail::Lines`]; empty otherwise.
    pub lines: Vec<Line>,
}

/// A resource some of whose cost is left out, why, and in which months.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotCosted {
    pub resource_type: ResourceType,
    pub id: String,
    pub external_id: Option<String>,
    /// `no salary`, `no rate`, `no salary range` or `no exchange rate EUR→GBP`.
    pub reason: String,
    pub months: Vec<Month>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Forecast {
    pub currency: CurrencyCode,
    pub group_by: GroupBy,
    /// Whether the groups list their lines.
    pub detail: Detail,
    pub months: Vec<Month>,
    /// The organisation (or, with a team filter, that team), per month.
    pub total: Vec<Decimal>,
    /// Teams parents first (or projects by name), then `Unallocated`.
    pub groups: Vec<Group>,
    pub not_costed: Vec<NotCosted>,
}
