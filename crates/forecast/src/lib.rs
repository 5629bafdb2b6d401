//! The team cost forecast, exactly as `forecast.md` states it: a pure function from an
//! organisation's rows ([`Organisation`]) and a month range to the cost per group and month
//! ([`Forecast`]).
//!
//! Costs accrue per working day. Rather than walking every day of every allocation, each
//! resource's time is cut where anything it depends on changes (a month or year boundary, its
//! own window, an allocation's, a salary or rate adjustment, an exchange rate, a vacancy's
//! target start or its filler's end); within a piece every day costs the same, so a piece
//! costs its working days (counted by arithmetic) times one day's amount. Amounts are exact
//! decimals until each line-month is rounded to cents, half to even; totals add rounded lines,
//! so the table always adds up.
//!
//! **Architecture Invariant:** pure: no IO, no async, no clock (the range is an argument), no
//! database. The store reads the rows; the API renders the answer.

pub mod calendar;
mod cost;
mod model;

pub use calendar::{Month, working_days, working_days_in_month, working_days_in_year};
pub use cost::forecast;
pub use model::{
    Allocation, Contractor, CurrencyCode, Detail, Employee, ExchangeRate, Forecast, Group, GroupBy, Line, MonthRange,
    NotCosted, Organisation, Project, RangeError, Rate, RateType, ResourceType, SalaryAdjustment, Team, Vacancy,
    VacancyStatus,
};
pub use rust_decimal::Decimal;
