//! The forecast's rules, each with amounts worked out by hand (forecast.md).

use chrono::NaiveDate;
use flowstate_forecast::{
    Allocation, Contractor, CurrencyCode, Decimal, Detail, Employee, ExchangeRate, Forecast, GroupBy, MonthRange,
    Organisation, Project, Rate, RateType, SalaryAdjustment, Team, Vacancy, VacancyStatus, forecast,
};

fn code(text: &str) -> CurrencyCode {
    CurrencyCode::parse(text).unwrap()
}

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn money(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn range(from: &str, to: &str) -> MonthRange {
    MonthRange::parse(from, to).unwrap()
}

fn team(id: &str, parent: Option<&str>) -> Team {
    Team {
        id: id.into(),
        external_id: Some(format!("TEAM-{id}")),
        name: id.into(),
        parent_id: parent.map(str::to_string),
    }
}

fn to_team(target: &str, fte: &str, start: &str, end: Option<&str>) -> Allocation {
    Allocation { kind: GroupBy::Team, target: target.into(), fte: money(fte), start: date(start), end: end.map(date) }
}

fn salary(effective: &str, amount: &str, bonus: Option<&str>, currency: &str) -> SalaryAdjustment {
    SalaryAdjustment {
        effective: date(effective),
        salary: money(amount),
        bonus: bonus.map(money),
        currency: code(currency),
    }
}

fn employee(
    id: &str,
    start: Option<&str>,
    end: Option<&str>,
    salaries: Vec<SalaryAdjustment>,
    allocations: Vec<Allocation>,
) -> Employee {
    Employee {
        id: id.into(),
        external_id: Some(id.to_uppercase()),
        name: id.into(),
        start: start.map(date),
        end: end.map(date),
        overhead_percentage: Decimal::ZERO,
        salaries,
        allocations,
    }
}

fn vacancy(id: &str, min: Option<&str>, max: Option<&str>, allocations: Vec<Allocation>) -> Vacancy {
    Vacancy {
        id: id.into(),
        external_id: Some(id.to_uppercase()),
        name: id.into(),
        status: VacancyStatus::Open,
        fte: Decimal::ONE,
        target_start: None,
        salary_min: min.map(money),
        salary_max: max.map(money),
        currency: None,
        overhead_percentage: Decimal::ZERO,
        filler_end: None,
        allocations,
    }
}

fn gbp() -> Organisation {
    Organisation { teams: vec![team("platform", None)], ..Organisation::new(code("GBP")) }
}

/// The group's `total` (or, with a name of a line, that line's amounts), as text.
fn amounts(result: &Forecast, group: &str, line: Option<&str>) -> Vec<String> {
    let group =
        result.groups.iter().find(|candidate| candidate.name == group).unwrap_or_else(|| panic!("no group {group}"));
    let values = match line {
        None => &group.total,
        Some(name) => {
            &group
                .lines
                .iter()
                .find(|candidate| candidate.name == name)
                .unwrap_or_else(|| panic!("no line {name}"))
                .amounts
        }
    };
    values.iter().map(Decimal::to_string).collect()
}

/// forecast.md's worked example, to the cent.
#[test]
fn the_worked_example() {
    let ada = |end: Option<&str>| {
        employee(
            "ada",
            Some("2026-03-02"),
            end,
            vec![salary("2026-01-01", "130500", None, "GBP")],
            vec![to_team("platform", "1.0", "2026-03-02", None)],
        )
    };
    let mut org = gbp();
    org.employees.push(ada(None));
    let march = forecast(&org, range("2026-03", "2026-03"), GroupBy::Team, None, Detail::Lines);
    assert_eq!(amounts(&march, "platform", Some("ada")), ["11000.00"], "22 working days × 500.00");

    org.employees[0] = ada(Some("2026-06-15"));
    let mut position =
        vacancy("pos-001", Some("120000"), Some("141000"), vec![to_team("platform", "1.0", "2026-03-02", None)]);
    position.status = VacancyStatus::Filled;
    position.filler_end = Some(Some(date("2026-06-15")));
    org.vacancies.push(position);
    let result = forecast(&org, range("2026-03", "2026-07"), GroupBy::Team, None, Detail::Lines);
    // April has 22 working days, May 21.
    assert_eq!(amounts(&result, "platform", Some("ada")), ["11000.00", "11000.00", "10500.00", "5500.00", "0.00"]);
    assert_eq!(amounts(&result, "platform", Some("pos-001")), ["0.00", "0.00", "0.00", "5500.00", "11500.00"]);
    assert_eq!(amounts(&result, "platform", None), ["11000.00", "11000.00", "10500.00", "11000.00", "11500.00"]);
    assert_eq!(result.total, result.groups[0].total, "one team, nothing unallocated");
}

/// A salary change mid-month, a bonus split between two allocations by FTE, and overhead on
/// salary but not on the bonus.
#[test]
fn salary_changes_bonuses_and_overhead() {
    let mut org = gbp();
    org.teams.push(team("data", None));
    let mut bea = employee(
        "bea",
        None,
        None,
        // 52,200 / 261 = 200 a day; from 16 March 104,400 / 261 = 400 a day. Bonus 26,100 /
        // 261 = 100 a day, split 0.75 : 0.25 between the allocations.
        vec![salary("2026-01-01", "52200", None, "GBP"), salary("2026-03-16", "104400", Some("26100"), "GBP")],
        vec![to_team("platform", "0.6", "2026-01-01", None), to_team("data", "0.2", "2026-01-01", None)],
    );
    bea.overhead_percentage = money("25");
    org.employees.push(bea);
    // Cy: 200 a day and a bonus of 100 a day, split evenly (FTEs adding up to 1); Dee: the
    // same on one allocation of FTE 0.5, which takes all of the bonus.
    let yearly = || vec![salary("2026-01-01", "52200", Some("26100"), "GBP")];
    org.employees.push(employee(
        "cy",
        None,
        None,
        yearly(),
        vec![to_team("platform", "0.5", "2026-01-01", None), to_team("data", "0.5", "2026-01-01", None)],
    ));
    org.employees.push(employee("dee", None, None, yearly(), vec![to_team("platform", "0.5", "2026-01-01", None)]));
    let result = forecast(&org, range("2026-03", "2026-03"), GroupBy::Team, None, Detail::Lines);
    // Cy, in each team: 22 × (200 × 0.5 + 100 × 0.5) = 3300. Dee: 22 × (200 × 0.5 + 100) = 4400.
    assert_eq!(amounts(&result, "platform", Some("cy")), ["3300.00"]);
    assert_eq!(amounts(&result, "data", Some("cy")), ["3300.00"]);
    assert_eq!(amounts(&result, "platform", Some("dee")), ["4400.00"]);
    // March: 2–13 March, 10 working days at the old salary; 16–31, 12 at the new.
    // platform: 10 × 200 × 0.6 × 1.25 + 12 × (400 × 0.6 × 1.25 + 100 × 0.75) = 1500 + 12 × 375 = 6000.
    // data:     10 × 200 × 0.2 × 1.25 + 12 × (400 × 0.2 × 1.25 + 100 × 0.25) = 500 + 12 × 125 = 2000.
    assert_eq!(amounts(&result, "platform", Some("bea")), ["6000.00"]);
    assert_eq!(amounts(&result, "data", Some("bea")), ["2000.00"]);
    assert_eq!(result.total.iter().map(Decimal::to_string).collect::<Vec<_>>(), ["19000.00"]);
}

/// Hourly, daily and monthly contractors, one in another currency with two exchange rates in
/// the month; no overhead.
#[test]
fn contractors_by_rate_type_and_currency() {
    let mut org = gbp();
    let rate = |rate: &str, rate_type, currency: &str| Rate {
        effective: None,
        rate: money(rate),
        rate_type,
        currency: code(currency),
    };
    let contractor = |id: &str, rates: Vec<Rate>| Contractor {
        id: id.into(),
        external_id: None,
        name: id.into(),
        start: None,
        end: None,
        rates,
        allocations: vec![to_team("platform", "0.5", "2026-01-01", None)],
    };
    org.contractors.push(contractor("hourly", vec![rate("50", RateType::Hourly, "GBP")]));
    org.contractors.push(contractor("monthly", vec![rate("8800", RateType::Monthly, "GBP")]));
    org.contractors.push(contractor("daily-eur", vec![rate("400", RateType::Daily, "EUR")]));
    org.exchange_rates.push(ExchangeRate {
        from: code("EUR"),
        to: code("GBP"),
        rate: money("0.8"),
        effective: date("2025-12-01"),
    });
    org.exchange_rates.push(ExchangeRate {
        from: code("EUR"),
        to: code("GBP"),
        rate: money("0.9"),
        effective: date("2026-03-16"),
    });
    let result = forecast(&org, range("2026-03", "2026-03"), GroupBy::Team, None, Detail::Lines);
    // 22 working days at FTE 0.5: hourly 50 × 8 × 22 × 0.5 = 4400; monthly 8800 × 0.5 = 4400;
    // daily 400 EUR: 10 days at 0.8 and 12 at 0.9, × 0.5 = 1600 + 2160 = 3760.
    assert_eq!(amounts(&result, "platform", Some("hourly")), ["4400.00"]);
    assert_eq!(amounts(&result, "platform", Some("monthly")), ["4400.00"]);
    assert_eq!(amounts(&result, "platform", Some("daily-eur")), ["3760.00"]);
}

/// Unallocated resources cost in `Unallocated` at FTE 1 (a vacancy at its own FTE); on-hold
/// and cancelled vacancies cost nothing; what cannot be costed is listed with its months.
#[test]
fn unallocated_not_costing_and_not_costed() {
    let mut org = gbp();
    org.employees.push(employee("free", None, None, vec![salary("2026-01-01", "52200", None, "GBP")], Vec::new()));
    org.employees.push(employee("unpaid", None, None, Vec::new(), Vec::new()));
    org.employees.push(employee("in-euros", None, None, vec![salary("2026-01-01", "52200", None, "EUR")], Vec::new()));
    let mut half = vacancy("half", Some("52200"), None, Vec::new());
    half.fte = money("0.5");
    half.target_start = Some(date("2026-03-01"));
    org.vacancies.push(half);
    let mut on_hold =
        vacancy("on-hold", Some("52200"), Some("52200"), vec![to_team("platform", "1", "2026-01-01", None)]);
    on_hold.status = VacancyStatus::OnHold;
    org.vacancies.push(on_hold);
    let mut cancelled =
        vacancy("cancelled", Some("52200"), Some("52200"), vec![to_team("platform", "1", "2026-01-01", None)]);
    cancelled.status = VacancyStatus::Cancelled;
    org.vacancies.push(cancelled);
    org.vacancies.push(vacancy("no-range", None, None, vec![to_team("platform", "1", "2026-03-01", None)]));
    let result = forecast(&org, range("2026-02", "2026-03"), GroupBy::Team, None, Detail::Lines);
    // free: 200 a day, February 20 days, March 22. half: 200 × 0.5 from March.
    assert_eq!(amounts(&result, "Unallocated", Some("free")), ["4000.00", "4400.00"]);
    assert_eq!(amounts(&result, "Unallocated", Some("half")), ["0.00", "2200.00"]);
    assert_eq!(amounts(&result, "platform", None), ["0.00", "0.00"], "on hold, cancelled, no range: nothing");
    let listed: Vec<(String, String, Vec<String>)> = result
        .not_costed
        .iter()
        .map(|missing| {
            (missing.id.clone(), missing.reason.clone(), missing.months.iter().map(ToString::to_string).collect())
        })
        .collect();
    assert_eq!(
        listed,
        [
            ("unpaid".to_string(), "no salary".to_string(), vec!["2026-02".to_string(), "2026-03".to_string()]),
            (
                "in-euros".to_string(),
                "no exchange rate EUR→GBP".to_string(),
                vec!["2026-02".to_string(), "2026-03".to_string()]
            ),
            ("no-range".to_string(), "no salary range".to_string(), vec!["2026-03".to_string()]),
        ]
    );
}

/// Three levels of teams: a parent's total holds its descendants'; parents come before their
/// children; a team filter keeps that team's subtree, and zeros are listed.
#[test]
fn teams_roll_up_and_filter() {
    let mut org = gbp();
    org.teams =
        vec![team("grandchild", Some("child")), team("child", Some("root")), team("root", None), team("other", None)];
    org.employees.push(employee(
        "deep",
        None,
        None,
        vec![salary("2026-01-01", "52200", None, "GBP")],
        vec![to_team("grandchild", "1", "2026-01-01", None)],
    ));
    org.employees.push(employee(
        "top",
        None,
        None,
        vec![salary("2026-01-01", "26100", None, "GBP")],
        vec![to_team("root", "1", "2026-01-01", None)],
    ));
    let result = forecast(&org, range("2026-03", "2026-03"), GroupBy::Team, None, Detail::Lines);
    let names: Vec<&str> = result.groups.iter().map(|group| group.name.as_str()).collect();
    assert_eq!(names, ["other", "root", "child", "grandchild", "Unallocated"]);
    assert_eq!(amounts(&result, "grandchild", None), ["4400.00"]);
    assert_eq!(amounts(&result, "child", None), ["4400.00"]);
    assert_eq!(amounts(&result, "root", None), ["6600.00"], "own 2200 + descendants 4400");
    assert_eq!(amounts(&result, "other", None), ["0.00"]);
    assert_eq!(result.total.iter().map(Decimal::to_string).collect::<Vec<_>>(), ["6600.00"]);
    let own: Vec<String> = result.groups[1].own.iter().map(Decimal::to_string).collect();
    assert_eq!(own, ["2200.00"]);

    let child = forecast(&org, range("2026-03", "2026-03"), GroupBy::Team, Some("child"), Detail::Lines);
    let names: Vec<&str> = child.groups.iter().map(|group| group.name.as_str()).collect();
    assert_eq!(names, ["child", "grandchild"]);
    assert_eq!(child.total.iter().map(Decimal::to_string).collect::<Vec<_>>(), ["4400.00"]);
}

/// Grouped by project: project allocations count, team allocations do not (a person with
/// only team allocations is unallocated by project).
#[test]
fn grouped_by_project() {
    let mut org = gbp();
    org.projects.push(Project { id: "apollo".into(), external_id: None, name: "Apollo".into() });
    let mut mixed = employee(
        "mixed",
        None,
        None,
        vec![salary("2026-01-01", "52200", None, "GBP")],
        vec![to_team("platform", "1", "2026-01-01", None)],
    );
    mixed.allocations.push(Allocation {
        kind: GroupBy::Project,
        target: "apollo".into(),
        fte: money("0.5"),
        start: date("2026-03-16"),
        end: None,
    });
    org.employees.push(mixed);
    let result = forecast(&org, range("2026-03", "2026-03"), GroupBy::Project, None, Detail::Lines);
    // 200 a day: 10 days unallocated by project at FTE 1, then 12 days on Apollo at 0.5.
    assert_eq!(amounts(&result, "Apollo", Some("mixed")), ["1200.00"]);
    assert_eq!(amounts(&result, "Unallocated", Some("mixed")), ["2000.00"]);
    assert_eq!(result.total.iter().map(Decimal::to_string).collect::<Vec<_>>(), ["3200.00"]);
}

/// Each line-month is rounded half to even, and totals add the rounded lines.
#[test]
fn lines_round_half_to_even_and_totals_add_them() {
    let mut org = gbp();
    // 1.305 a day for one day (Monday 2 March): 340.605 / 261 = 1.305 → 1.30 (half to even),
    // twice, in two teams: the total is 2.60, not round(2.61) = 2.61.
    org.teams.push(team("data", None));
    for target in ["platform", "data"] {
        org.employees.push(employee(
            target,
            Some("2026-03-02"),
            Some("2026-03-02"),
            vec![salary("2026-01-01", "340.605", None, "GBP")],
            vec![to_team(target, "1", "2026-01-01", None)],
        ));
    }
    let result = forecast(&org, range("2026-03", "2026-03"), GroupBy::Team, None, Detail::Lines);
    assert_eq!(amounts(&result, "platform", None), ["1.30"]);
    assert_eq!(amounts(&result, "data", None), ["1.30"]);
    assert_eq!(result.total.iter().map(Decimal::to_string).collect::<Vec<_>>(), ["2.60"]);
    // Totals only: the same rounded sums, without the lines.
    let totals = forecast(&org, range("2026-03", "2026-03"), GroupBy::Team, None, Detail::Totals);
    assert!(totals.groups.iter().all(|group| group.lines.is_empty()));
    let sums = |result: &Forecast| {
        result.groups.iter().map(|group| (group.total.clone(), group.own.clone())).collect::<Vec<_>>()
    };
    assert_eq!(sums(&totals), sums(&result));
    assert_eq!(totals.total, result.total);
}

#[test]
fn ranges_are_checked() {
    assert_eq!(range("2026-01", "2026-12").months().len(), 12);
    assert_eq!(MonthRange::parse("2026-13", "2027-01").unwrap_err().parameter, "from");
    assert_eq!(MonthRange::parse("2026-05", "2026-04").unwrap_err().parameter, "to");
    assert!(MonthRange::parse("2026-01", "2030-12").is_ok(), "60 months");
    assert!(MonthRange::parse("2026-01", "2031-01").unwrap_err().message.contains("at most 60 months"));
}
