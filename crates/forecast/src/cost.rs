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
    let groups: HashMap<&str, GroupIndex> = match group_by {
        GroupBy::Team => {
            org.teams.iter().enumerate().map(|(index, team)| (team.id.as_str(), index as GroupIndex)).collect()
        }
        GroupBy::Project => {
            org.projects.iter().enumerate().map(|(index, project)| (project.id.as_str(), index as GroupIndex)).collect()
        }
    };
    let mut ledger = Ledger {
        first: months[0],
        count: months.len(),
        groups,
        amounts: HashMap::new(),
        missing: BTreeMap::new(),
        current: Vec::new(),
    };
    let rates = Rates::new(org);
    for (index, employee) in org.employees.iter().enumerate() {
        employee_cost(&mut ledger, &rates, range, group_by, (ResourceType::Employee, index), employee);
        ledger.finish((ResourceType::Employee, index));
    }
    for (index, contractor) in org.contractors.iter().enumerate() {
        contractor_cost(&mut ledger, &rates, range, group_by, (ResourceType::Contractor, index), contractor);
        ledger.finish((ResourceType::Contractor, index));
    }
    for (index, vacancy) in org.vacancies.iter().enumerate() {
        vacancy_cost(&mut ledger, &rates, range, group_by, (ResourceType::Vacancy, index), vacancy);
        ledger.finish((ResourceType::Vacancy, index));
    }
    table(org, months, group_by, team, ledger)
}

/// A resource: its type and its index in the organisation's list of that type.
type Resource = (ResourceType, usize);

/// A group: a team's or project's place in the organisation's list; [`UNALLOCATED`] for
/// `Unallocated`.
type GroupIndex = u32;
const UNALLOCATED: GroupIndex = GroupIndex::MAX;

/// Exact amounts per (group, resource) and month, and what could not be costed.
///
/// Amounts are kept over a common denominator per month, `wdy(year) × wdm(month)` (working
/// days of the year and of the month): every rule divides by one or both, so each piece adds a
/// numerator made by multiplications only, and each line-month is divided once, when it is
/// rounded. Decimal multiplications of these small numbers are exact; a division early on
/// would carry 28 digits into every later step (and cost far more).
struct Ledger<'a> {
    first: Month,
    count: usize,
    /// The groups by id (teams or projects, as the forecast groups).
    groups: HashMap<&'a str, GroupIndex>,
    amounts: HashMap<(GroupIndex, Resource), Vec<Decimal>>,
    missing: BTreeMap<(Resource, String), BTreeSet<Month>>,
    /// The resource being costed: its amounts per group, until [`Ledger::finish`].
    current: Vec<(GroupIndex, Vec<Decimal>)>,
}

impl Ledger<'_> {
    /// Where each of a resource's allocations counts: its group, or `None` (another kind of
    /// group, or a team or project that is not the organisation's: it counts nowhere).
    fn targets(&self, allocations: &[Allocation], kind: GroupBy) -> Vec<Option<GroupIndex>> {
        allocations
            .iter()
            .map(
                |allocation| {
                    if allocation.kind == kind { self.groups.get(allocation.target.as_str()).copied() } else { None }
                },
            )
            .collect()
    }

    /// Adds to the current resource's amount in a group (`None`: nowhere).
    fn add(&mut self, group: Option<GroupIndex>, month: Month, amount: Decimal) {
        let Some(group) = group else { return };
        let place = self.first.months_until(month) as usize;
        match self.current.iter_mut().find(|(candidate, _)| *candidate == group) {
            Some((_, amounts)) => amounts[place] += amount,
            None => {
                let mut amounts = vec![Decimal::ZERO; self.count];
                amounts[place] = amount;
                self.current.push((group, amounts));
            }
        }
    }

    /// The current resource is costed: its amounts go into the table.
    fn finish(&mut self, resource: Resource) {
        for (group, amounts) in self.current.drain(..) {
            self.amounts.insert((group, resource), amounts);
        }
    }

    /// One unit of `currency` in the reporting currency on `day`; `None`, with the resource
    /// listed as not costed that month, when there is no rate.
    fn exchange(&mut self, rates: &Rates<'_>, resource: Resource, currency: &str, day: NaiveDate) -> Option<Decimal> {
        match rates.on(currency, day) {
            Ok(exchange) => Some(exchange),
            Err(reason) => {
                self.not_costed(resource, reason, Month::of(day));
                None
            }
        }
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
    let mut points: Vec<NaiveDate> = Vec::with_capacity(16);
    points.extend(
        std::iter::successors(Some(Month::of(first)), |month| Some(month.next()))
            .map(Month::first_day)
            .take_while(|day| *day < end),
    );
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

/// The allocations of `kind` active on `day`, with their places in `allocations`.
fn active_allocations(allocations: &[Allocation], kind: GroupBy, day: NaiveDate) -> Vec<(usize, &Allocation)> {
    allocations
        .iter()
        .enumerate()
        .filter(|(_, allocation)| allocation.kind == kind && within(Some(allocation.start), allocation.end, day))
        .collect()
}

fn overhead(percentage: Decimal) -> Decimal {
    Decimal::ONE + percentage / Decimal::ONE_HUNDRED
}

fn employee_cost(
    ledger: &mut Ledger<'_>,
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
    let targets = ledger.targets(&employee.allocations, group_by);
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
        let Some(exchange) = ledger.exchange(rates, resource, &salary.currency, start) else { continue };
        // Per working day: salary / wdy × fte × (1 + overhead); bonus / wdy split by FTE. In
        // the month's common denominator wdy × wdm (see `Ledger`): × wdm, no division.
        let factor = days * exchange * Decimal::from(working_days_in_month(month));
        let (loaded, bonus) = (salary.salary * loading, salary.bonus.unwrap_or_default());
        let allocations = active_allocations(&employee.allocations, group_by, start);
        if allocations.is_empty() {
            ledger.add(Some(UNALLOCATED), month, (loaded + bonus) * factor);
            continue;
        }
        let total_fte: Decimal = allocations.iter().map(|(_, allocation)| allocation.fte).sum();
        for (place, allocation) in &allocations {
            let bonus_part = if bonus.is_zero() {
                Decimal::ZERO
            } else if total_fte.is_zero() {
                bonus / Decimal::from(allocations.len())
            } else {
                bonus * allocation.fte / total_fte
            };
            ledger.add(targets[*place], month, (loaded * allocation.fte + bonus_part) * factor);
        }
    }
}

fn contractor_cost(
    ledger: &mut Ledger<'_>,
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
    let targets = ledger.targets(&contractor.allocations, group_by);
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
        let Some(exchange) = ledger.exchange(rates, resource, &rate.currency, start) else { continue };
        // The piece's amount at FTE 1: the day amount times its working days.
        // In the month's common denominator wdy × wdm (see `Ledger`).
        let (year, in_month) =
            (Decimal::from(working_days_in_year(start.year())), Decimal::from(working_days_in_month(month)));
        let full = match rate.rate_type {
            RateType::Hourly => rate.rate * Decimal::from(8) * days * year * in_month,
            RateType::Daily => rate.rate * days * year * in_month,
            RateType::Monthly => rate.rate * days * year,
        } * exchange;
        let allocations = active_allocations(&contractor.allocations, group_by, start);
        if allocations.is_empty() {
            ledger.add(Some(UNALLOCATED), month, full);
        }
        for (place, allocation) in allocations {
            ledger.add(targets[place], month, full * allocation.fte);
        }
    }
}

fn vacancy_cost(
    ledger: &mut Ledger<'_>,
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
    let targets = ledger.targets(&vacancy.allocations, group_by);
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
        let Some(exchange) = ledger.exchange(rates, resource, currency, start) else { continue };
        // In the month's common denominator wdy × wdm (see `Ledger`).
        let per_fte = annual * loading * days * exchange * Decimal::from(working_days_in_month(month));
        if allocations.is_empty() {
            ledger.add(Some(UNALLOCATED), month, per_fte * vacancy.fte);
        }
        for (place, allocation) in allocations {
            ledger.add(targets[place], month, per_fte * allocation.fte);
        }
    }
}

/// A line-month in cents, half to even.
fn cents(amount: Decimal) -> Decimal {
    let mut rounded = amount.round_dp_with_strategy(2, RoundingStrategy::MidpointNearestEven);
    rounded.rescale(2);
    rounded
}

/// `numerator / denominator` in cents, half to even: one integer division (the same result as
/// dividing as decimals and rounding, without 28-digit intermediates). Falls back to decimal
/// arithmetic where the integers would not fit.
fn cents_of(numerator: Decimal, denominator: u32) -> Decimal {
    let (mantissa, scale) = (numerator.mantissa(), numerator.scale());
    let divisor = 10i128.checked_pow(scale).and_then(|power| power.checked_mul(i128::from(denominator)));
    match (mantissa.checked_mul(100), divisor) {
        (Some(dividend), Some(divisor)) if divisor > 0 => {
            let (quotient, remainder) = (dividend / divisor, dividend % divisor);
            // Round half to even, away from zero past the half.
            let twice = remainder.abs() * 2;
            let up = twice > divisor || (twice == divisor && quotient % 2 != 0);
            let rounded = if up { quotient + remainder.signum() } else { quotient };
            Decimal::try_from_i128_with_scale(rounded, 2)
                .unwrap_or_else(|_| cents(numerator / Decimal::from(denominator)))
        }
        _ => cents(numerator / Decimal::from(denominator)),
    }
}

fn add_into(total: &mut [Decimal], amounts: &[Decimal]) {
    for (sum, amount) in total.iter_mut().zip(amounts) {
        *sum += *amount;
    }
}

fn table(
    org: &Organisation,
    months: Vec<Month>,
    group_by: GroupBy,
    team: Option<&str>,
    ledger: Ledger<'_>,
) -> Forecast {
    let zero = || vec![cents(Decimal::ZERO); months.len()];
    // Rounded lines per group.
    let denominators: Vec<u32> =
        months.iter().map(|month| working_days_in_year(month.year()) * working_days_in_month(*month)).collect();
    let group_id = |index: GroupIndex| -> Option<String> {
        if index == UNALLOCATED {
            return None;
        }
        Some(match group_by {
            GroupBy::Team => org.teams[index as usize].id.clone(),
            GroupBy::Project => org.projects[index as usize].id.clone(),
        })
    };
    let mut lines: HashMap<Option<String>, Vec<Line>> = HashMap::new();
    for ((group, (resource_type, index)), amounts) in ledger.amounts {
        let (id, external_id, name) = describe(org, resource_type, index);
        let amounts = amounts
            .into_iter()
            .zip(&denominators)
            .map(|(amount, denominator)| cents_of(amount, *denominator))
            .collect();
        let line = Line { resource_type, id, external_id, name, amounts };
        lines.entry(group_id(group)).or_default().push(line);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cents_by_integer_division_agree_with_decimal_rounding() {
        let cases = [
            ("340.605", 1),
            ("2.625", 1),
            ("2.635", 1),
            ("-2.625", 1),
            ("0.005", 1),
            ("0.015", 1),
            ("11000", 261),
            ("130500.1234567", 5743),
            ("2871000", 5742),
            ("-17.5", 7),
        ];
        for (numerator, denominator) in cases {
            let numerator: Decimal = numerator.parse().unwrap();
            let expected = cents(numerator / Decimal::from(denominator));
            assert_eq!(cents_of(numerator, denominator), expected, "{numerator} / {denominator}");
        }
        assert_eq!(cents_of("2.625".parse().unwrap(), 1).to_string(), "2.62", "half to even");
        assert_eq!(cents_of("2.635".parse().unwrap(), 1).to_string(), "2.64", "half to even");
    }
}
