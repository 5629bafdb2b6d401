//! The cost rules of forecast.md, per resource and piece of time, and the table they make.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Datelike, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};

use crate::{
    calendar::{Month, working_days, working_days_in_month, working_days_in_year},
    model::{
        Allocation, Contractor, Employee, Forecast, Group, GroupBy, Line, MonthRange, NotCosted, Organisation,
        RateType, ResourceType, Vacancy, VacancyStatus,
    },
};

/// The forecast of `org` over `range`, grouped by team or project. With `team` (a team's
/// id), only that team and its descendants, and the total is that team's.
pub fn forecast(org: &Organisation, range: MonthRange, group_by: GroupBy, team: Option<&str>) -> Forecast {
    let months = range.months();
    let mut ledger =
        Ledger { first: months[0], count: months.len(), amounts: BTreeMap::new(), missing: BTreeMap::new() };
    let rates = Rates::new(org);
    for (index, employee) in org.employees.iter().enumerate() {
        employee_cost(&mut ledger, &rates, range, group_by, (ResourceType::Employee, index), employee);
    }
    for (index, contractor) in org.contractors.iter().enumerate() {
        contractor_cost(&mut ledger, &rates, range, group_by, (ResourceType::Contractor, index), contractor);
    }
    for (index, vacancy) in org.vacancies.iter().enumerate() {
        vacancy_cost(&mut ledger, &rates, range, group_by, (ResourceType::Vacancy, index), vacancy);
    }
    table(org, months, group_by, team, ledger)
}

/// A resource: its type and its index in the organisation's list of that type.
type Resource = (ResourceType, usize);

/// Exact amounts per (group, resource) and month, and what could not be costed.
struct Ledger {
    first: Month,
    count: usize,
    /// Group `None`: Unallocated.
    amounts: BTreeMap<(Option<String>, Resource), Vec<Decimal>>,
    missing: BTreeMap<(Resource, String), BTreeSet<Month>>,
}

impl Ledger {
    fn add(&mut self, group: Option<&str>, resource: Resource, month: Month, amount: Decimal) {
        let count = self.count;
        let amounts =
            self.amounts.entry((group.map(str::to_string), resource)).or_insert_with(|| vec![Decimal::ZERO; count]);
        amounts[self.first.months_until(month) as usize] += amount;
    }

    fn not_costed(&mut self, resource: Resource, reason: String, month: Month) {
        self.missing.entry((resource, reason)).or_default().insert(month);
    }
}

/// Exchange rates into the reporting currency, by source currency, oldest first.
struct Rates<'a> {
    reporting: &'a str,
    by_currency: HashMap<&'a str, Vec<(NaiveDate, Decimal)>>,
}

impl<'a> Rates<'a> {
    fn new(org: &'a Organisation) -> Rates<'a> {
        let mut by_currency: HashMap<&str, Vec<(NaiveDate, Decimal)>> = HashMap::new();
        for rate in org.exchange_rates.iter().filter(|rate| rate.to == org.currency) {
            by_currency.entry(rate.from.as_str()).or_default().push((rate.effective, rate.rate));
        }
        for rates in by_currency.values_mut() {
            rates.sort_by_key(|(effective, _)| *effective);
        }
        Rates { reporting: &org.currency, by_currency }
    }

    /// One unit of `currency` in the reporting currency on `day` (the rate with the latest
    /// effective date not after it); `Err(reason)` when there is none.
    fn on(&self, currency: &str, day: NaiveDate) -> Result<Decimal, String> {
        if currency == self.reporting {
            return Ok(Decimal::ONE);
        }
        self.by_currency
            .get(currency)
            .and_then(|rates| rates.iter().rev().find(|(effective, _)| *effective <= day))
            .map(|(_, rate)| *rate)
            .ok_or_else(|| format!("no exchange rate {currency}→{}", self.reporting))
    }

    /// The days a rate of `currency` takes effect (where a piece of time must end).
    fn changes(&self, currency: &str) -> impl Iterator<Item = NaiveDate> + '_ {
        self.by_currency.get(currency).into_iter().flatten().map(|(effective, _)| *effective)
    }
}

/// The range cut at every month start and at `cuts` (days on which something changes):
/// pieces `[start, end)` over which nothing changes.
fn pieces(range: MonthRange, cuts: impl IntoIterator<Item = NaiveDate>) -> Vec<(NaiveDate, NaiveDate)> {
    let (first, end) = (range.first_day(), range.end());
    let mut points: Vec<NaiveDate> = range.months().iter().map(|month| month.first_day()).collect();
    points.push(end);
    points.extend(cuts.into_iter().filter(|day| *day > first && *day < end));
    points.sort();
    points.dedup();
    points.windows(2).map(|pair| (pair[0], pair[1])).collect()
}

fn day_after(day: NaiveDate) -> NaiveDate {
    day.succ_opt().unwrap_or(day)
}

/// Active on `day`: started (or no start) and not ended (or no end); dates inclusive.
fn within(start: Option<NaiveDate>, end: Option<NaiveDate>, day: NaiveDate) -> bool {
    start.is_none_or(|start| start <= day) && end.is_none_or(|end| day <= end)
}

/// Where an allocation's window starts and ends (the day after its end).
fn allocation_cuts(allocations: &[Allocation]) -> impl Iterator<Item = NaiveDate> + '_ {
    allocations.iter().flat_map(|allocation| [Some(allocation.start), allocation.end.map(day_after)]).flatten()
}

fn active_allocations(allocations: &[Allocation], kind: GroupBy, day: NaiveDate) -> Vec<&Allocation> {
    allocations
        .iter()
        .filter(|allocation| allocation.kind == kind && within(Some(allocation.start), allocation.end, day))
        .collect()
}

fn overhead(percentage: Decimal) -> Decimal {
    Decimal::ONE + percentage / Decimal::ONE_HUNDRED
}

fn employee_cost(
    ledger: &mut Ledger,
    rates: &Rates<'_>,
    range: MonthRange,
    group_by: GroupBy,
    resource: Resource,
    employee: &Employee,
) {
    let currencies: BTreeSet<&str> = employee.salaries.iter().map(|salary| salary.currency.as_str()).collect();
    let cuts = [employee.start, employee.end.map(day_after)]
        .into_iter()
        .flatten()
        .chain(allocation_cuts(&employee.allocations))
        .chain(employee.salaries.iter().map(|salary| salary.effective))
        .chain(currencies.iter().flat_map(|currency| rates.changes(currency)));
    let loading = overhead(employee.overhead_percentage);
    for (start, end) in pieces(range, cuts) {
        let days = Decimal::from(working_days(start, end));
        if days.is_zero() || !within(employee.start, employee.end, start) {
            continue;
        }
        let month = Month::of(start);
        let Some(salary) =
            employee.salaries.iter().filter(|salary| salary.effective <= start).max_by_key(|salary| salary.effective)
        else {
            ledger.not_costed(resource, "no salary".into(), month);
            continue;
        };
        let exchange = match rates.on(&salary.currency, start) {
            Ok(exchange) => exchange,
            Err(reason) => {
                ledger.not_costed(resource, reason, month);
                continue;
            }
        };
        let year = Decimal::from(working_days_in_year(start.year()));
        // Per working day: salary / wdy × fte × (1 + overhead); bonus / wdy split by FTE.
        let bonus = salary.bonus.unwrap_or_default();
        let allocations = active_allocations(&employee.allocations, group_by, start);
        if allocations.is_empty() {
            let amount = (salary.salary * loading + bonus) * days * exchange / year;
            ledger.add(None, resource, month, amount);
            continue;
        }
        let total_fte: Decimal = allocations.iter().map(|allocation| allocation.fte).sum();
        for allocation in &allocations {
            let share = if total_fte.is_zero() {
                Decimal::ONE / Decimal::from(allocations.len())
            } else {
                allocation.fte / total_fte
            };
            let amount = (salary.salary * allocation.fte * loading + bonus * share) * days * exchange / year;
            ledger.add(Some(&allocation.target), resource, month, amount);
        }
    }
}

fn contractor_cost(
    ledger: &mut Ledger,
    rates: &Rates<'_>,
    range: MonthRange,
    group_by: GroupBy,
    resource: Resource,
    contractor: &Contractor,
) {
    let currencies: BTreeSet<&str> = contractor.rates.iter().map(|rate| rate.currency.as_str()).collect();
    let cuts = [contractor.start, contractor.end.map(day_after)]
        .into_iter()
        .flatten()
        .chain(allocation_cuts(&contractor.allocations))
        .chain(contractor.rates.iter().filter_map(|rate| rate.effective))
        .chain(currencies.iter().flat_map(|currency| rates.changes(currency)));
    for (start, end) in pieces(range, cuts) {
        let days = Decimal::from(working_days(start, end));
        if days.is_zero() || !within(contractor.start, contractor.end, start) {
            continue;
        }
        let month = Month::of(start);
        // The adjustment in force, else the contractor's own rate.
        let in_force = contractor
            .rates
            .iter()
            .filter(|rate| rate.effective.is_some_and(|effective| effective <= start))
            .max_by_key(|rate| rate.effective)
            .or_else(|| contractor.rates.iter().find(|rate| rate.effective.is_none()));
        let Some(rate) = in_force else {
            ledger.not_costed(resource, "no rate".into(), month);
            continue;
        };
        let exchange = match rates.on(&rate.currency, start) {
            Ok(exchange) => exchange,
            Err(reason) => {
                ledger.not_costed(resource, reason, month);
                continue;
            }
        };
        // The piece's amount at FTE 1: the day amount times its working days.
        let full = match rate.rate_type {
            RateType::Hourly => rate.rate * Decimal::from(8) * days,
            RateType::Daily => rate.rate * days,
            RateType::Monthly => rate.rate * days / Decimal::from(working_days_in_month(month)),
        } * exchange;
        let allocations = active_allocations(&contractor.allocations, group_by, start);
        if allocations.is_empty() {
            ledger.add(None, resource, month, full);
        }
        for allocation in allocations {
            ledger.add(Some(&allocation.target), resource, month, full * allocation.fte);
        }
    }
}

fn vacancy_cost(
    ledger: &mut Ledger,
    rates: &Rates<'_>,
    range: MonthRange,
    group_by: GroupBy,
    resource: Resource,
    vacancy: &Vacancy,
) {
    if matches!(vacancy.status, VacancyStatus::Cancelled | VacancyStatus::OnHold) {
        return;
    }
    let currency = vacancy.currency.as_deref().unwrap_or(rates.reporting);
    let filler_end = vacancy.filler_end.flatten();
    let cuts = [vacancy.target_start, filler_end.map(day_after)]
        .into_iter()
        .flatten()
        .chain(allocation_cuts(&vacancy.allocations))
        .chain(rates.changes(currency));
    let annual = match (vacancy.salary_min, vacancy.salary_max) {
        (Some(min), Some(max)) => Some((min + max) / Decimal::TWO),
        (one, other) => one.or(other),
    };
    let loading = overhead(vacancy.overhead_percentage);
    for (start, end) in pieces(range, cuts) {
        let days = Decimal::from(working_days(start, end));
        // Costs from its target start; suppressed while its filler is active.
        let suppressed = match vacancy.filler_end {
            None => false,
            Some(None) => true,
            Some(Some(end)) => start <= end,
        };
        if days.is_zero() || suppressed || vacancy.target_start.is_some_and(|target| start < target) {
            continue;
        }
        let allocations = active_allocations(&vacancy.allocations, group_by, start);
        // Without a target start it costs from each allocation's start only: never
        // unallocated.
        if allocations.is_empty() && vacancy.target_start.is_none() {
            continue;
        }
        let month = Month::of(start);
        let Some(annual) = annual else {
            ledger.not_costed(resource, "no salary range".into(), month);
            continue;
        };
        let exchange = match rates.on(currency, start) {
            Ok(exchange) => exchange,
            Err(reason) => {
                ledger.not_costed(resource, reason, month);
                continue;
            }
        };
        let year = Decimal::from(working_days_in_year(start.year()));
        let per_fte = annual * loading * days * exchange / year;
        if allocations.is_empty() {
            ledger.add(None, resource, month, per_fte * vacancy.fte);
        }
        for allocation in allocations {
            ledger.add(Some(&allocation.target), resource, month, per_fte * allocation.fte);
        }
    }
}

/// A line-month in cents, half to even.
fn cents(amount: Decimal) -> Decimal {
    let mut rounded = amount.round_dp_with_strategy(2, RoundingStrategy::MidpointNearestEven);
    rounded.rescale(2);
    rounded
}

fn add_into(total: &mut [Decimal], amounts: &[Decimal]) {
    for (sum, amount) in total.iter_mut().zip(amounts) {
        *sum += *amount;
    }
}

fn table(org: &Organisation, months: Vec<Month>, group_by: GroupBy, team: Option<&str>, ledger: Ledger) -> Forecast {
    let zero = || vec![cents(Decimal::ZERO); months.len()];
    // Rounded lines per group.
    let mut lines: HashMap<Option<String>, Vec<Line>> = HashMap::new();
    for ((group, (resource_type, index)), amounts) in ledger.amounts {
        let (id, external_id, name) = describe(org, resource_type, index);
        let line = Line { resource_type, id, external_id, name, amounts: amounts.into_iter().map(cents).collect() };
        lines.entry(group).or_default().push(line);
    }
    for group_lines in lines.values_mut() {
        group_lines.sort_by(|a, b| (a.resource_type, &a.name, &a.id).cmp(&(b.resource_type, &b.name, &b.id)));
    }
    let own = |lines: &[Line]| {
        let mut own = zero();
        for line in lines {
            add_into(&mut own, &line.amounts);
        }
        own
    };
    let mut groups = Vec::new();
    let mut total = zero();
    match group_by {
        GroupBy::Team => {
            let mut children: BTreeMap<Option<&str>, Vec<&crate::model::Team>> = BTreeMap::new();
            let known: BTreeSet<&str> = org.teams.iter().map(|team| team.id.as_str()).collect();
            for candidate in &org.teams {
                let parent = candidate.parent_id.as_deref().filter(|parent| known.contains(parent));
                children.entry(parent).or_default().push(candidate);
            }
            for siblings in children.values_mut() {
                siblings.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
            }
            let roots: Vec<&crate::model::Team> = match team {
                Some(id) => org.teams.iter().filter(|candidate| candidate.id == id).collect(),
                None => children.get(&None).cloned().unwrap_or_default(),
            };
            for root in roots {
                let root_total = team_groups(root, &children, &mut lines, &own, &mut groups);
                add_into(&mut total, &root_total);
            }
        }
        GroupBy::Project => {
            let mut projects: Vec<&crate::model::Project> = org.projects.iter().collect();
            projects.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
            for project in projects {
                let project_lines = lines.remove(&Some(project.id.clone())).unwrap_or_default();
                let project_own = own(&project_lines);
                add_into(&mut total, &project_own);
                groups.push(Group {
                    id: Some(project.id.clone()),
                    external_id: project.external_id.clone(),
                    name: project.name.clone(),
                    parent_id: None,
                    total: project_own.clone(),
                    own: project_own,
                    lines: project_lines,
                });
            }
        }
    }
    if team.is_none() {
        let unallocated = lines.remove(&None).unwrap_or_default();
        let unallocated_own = own(&unallocated);
        add_into(&mut total, &unallocated_own);
        groups.push(Group {
            id: None,
            external_id: None,
            name: "Unallocated".into(),
            parent_id: None,
            total: unallocated_own.clone(),
            own: unallocated_own,
            lines: unallocated,
        });
    }
    let not_costed = ledger
        .missing
        .into_iter()
        .map(|(((resource_type, index), reason), months)| {
            let (id, external_id, _) = describe(org, resource_type, index);
            NotCosted { resource_type, id, external_id, reason, months: months.into_iter().collect() }
        })
        .collect();
    Forecast { currency: org.currency.clone(), group_by, months, total, groups, not_costed }
}

/// Appends `team` and its descendants (parents first) to `groups`; returns its total.
fn team_groups(
    team: &crate::model::Team,
    children: &BTreeMap<Option<&str>, Vec<&crate::model::Team>>,
    lines: &mut HashMap<Option<String>, Vec<Line>>,
    own: &dyn Fn(&[Line]) -> Vec<Decimal>,
    groups: &mut Vec<Group>,
) -> Vec<Decimal> {
    let team_lines = lines.remove(&Some(team.id.clone())).unwrap_or_default();
    let team_own = own(&team_lines);
    let position = groups.len();
    groups.push(Group {
        id: Some(team.id.clone()),
        external_id: team.external_id.clone(),
        name: team.name.clone(),
        parent_id: team.parent_id.clone(),
        total: Vec::new(),
        own: team_own.clone(),
        lines: team_lines,
    });
    let mut total = team_own;
    for child in children.get(&Some(team.id.as_str())).into_iter().flatten() {
        let child_total = team_groups(child, children, lines, own, groups);
        add_into(&mut total, &child_total);
    }
    groups[position].total = total.clone();
    total
}

fn describe(org: &Organisation, resource_type: ResourceType, index: usize) -> (String, Option<String>, String) {
    match resource_type {
        ResourceType::Employee => {
            let employee = &org.employees[index];
            (employee.id.clone(), employee.external_id.clone(), employee.name.clone())
        }
        ResourceType::Contractor => {
            let contractor = &org.contractors[index];
            (contractor.id.clone(), contractor.external_id.clone(), contractor.name.clone())
        }
        ResourceType::Vacancy => {
            let vacancy = &org.vacancies[index];
            (vacancy.id.clone(), vacancy.external_id.clone(), vacancy.name.clone())
        }
    }
}
