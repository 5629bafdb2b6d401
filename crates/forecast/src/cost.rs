//! The cost rules of forecast.md, per resource and piece of time, and the table they make.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::{
    calendar::{Month, working_days, working_days_in_month, working_days_in_year},
    model::{
        Allocation, Contractor, CurrencyCode, Detail, Employee, Forecast, Group, GroupBy, Line, MonthRange, NotCosted,
        Organisation, RateType, ResourceType, Vacancy, VacancyStatus,
    },
};

/// The forecast of `org` over `range`, grouped by team or project. With `team` (a team's
/// id), only that team and its descendants, and the total is that team's. With
/// [`Detail::Lines`], each group lists the lines its amounts add up.
pub fn forecast(
    org: &Organisation,
    range: MonthRange,
    group_by: GroupBy,
    team: Option<&str>,
    detail: Detail,
) -> Forecast {
    let calendar = Calendar::new(range);
    let groups: HashMap<&str, GroupIndex> = match group_by {
        GroupBy::Team => {
            org.teams.iter().enumerate().map(|(index, team)| (team.id.as_str(), index as GroupIndex)).collect()
        }
        GroupBy::Project => {
            org.projects.iter().enumerate().map(|(index, project)| (project.id.as_str(), index as GroupIndex)).collect()
        }
    };
    let mut ledger = Ledger {
        count: calendar.months.len(),
        calendar,
        groups,
        entries: Vec::new(),
        amounts: Vec::new(),
        missing: BTreeMap::new(),
        current: Vec::new(),
        current_amounts: Vec::new(),
    };
    let rates = Rates::new(org);
    for (index, employee) in org.employees.iter().enumerate() {
        employee_cost(&mut ledger, &rates, group_by, (ResourceType::Employee, index), employee);
        ledger.finish((ResourceType::Employee, index));
    }
    for (index, contractor) in org.contractors.iter().enumerate() {
        contractor_cost(&mut ledger, &rates, group_by, (ResourceType::Contractor, index), contractor);
        ledger.finish((ResourceType::Contractor, index));
    }
    for (index, vacancy) in org.vacancies.iter().enumerate() {
        vacancy_cost(&mut ledger, &rates, group_by, (ResourceType::Vacancy, index), vacancy);
        ledger.finish((ResourceType::Vacancy, index));
    }
    table(org, group_by, team, detail, ledger)
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
    calendar: Calendar,
    /// The months of the range.
    count: usize,
    /// The groups by id (teams or projects, as the forecast groups).
    groups: HashMap<&'a str, GroupIndex>,
    /// Each costed (group, resource), once; its `count` amounts are at the same place in
    /// `amounts` (entry `i` holds `amounts[i × count ..][.. count]`).
    entries: Vec<(GroupIndex, Resource)>,
    amounts: Vec<Decimal>,
    missing: BTreeMap<(Resource, String), BTreeSet<Month>>,
    /// The resource being costed, until [`Ledger::finish`]: its groups, and their amounts laid
    /// out as in `amounts`.
    current: Vec<GroupIndex>,
    current_amounts: Vec<Decimal>,
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

    /// Adds to the current resource's amount in a group (`None`: nowhere) in the month at
    /// `place`.
    fn add(&mut self, group: Option<GroupIndex>, place: usize, amount: Decimal) {
        let Some(group) = group else { return };
        let slot = match self.current.iter().position(|candidate| *candidate == group) {
            Some(slot) => slot,
            None => {
                self.current.push(group);
                self.current_amounts.resize(self.current.len() * self.count, Decimal::ZERO);
                self.current.len() - 1
            }
        };
        self.current_amounts[slot * self.count + place] += amount;
    }

    /// The current resource is costed: its amounts go into the table.
    fn finish(&mut self, resource: Resource) {
        self.entries.extend(self.current.drain(..).map(|group| (group, resource)));
        self.amounts.append(&mut self.current_amounts);
    }

    /// One unit of `currency` in the reporting currency on `day`; `None`, with the resource
    /// listed as not costed that month, when there is no rate.
    fn exchange(
        &mut self,
        rates: &Rates,
        resource: Resource,
        currency: CurrencyCode,
        piece: &Piece,
    ) -> Option<Decimal> {
        match rates.on(currency, piece.start) {
            Ok(exchange) => Some(exchange),
            Err(reason) => {
                self.not_costed(resource, reason, piece);
                None
            }
        }
    }

    /// `resource` is not costed (for `reason`) in the month of `piece`.
    fn not_costed(&mut self, resource: Resource, reason: String, piece: &Piece) {
        let month = self.calendar.months[piece.place];
        self.missing.entry((resource, reason)).or_default().insert(month);
    }
}

/// Exchange rates into the reporting currency, by source currency, oldest first.
struct Rates {
    reporting: CurrencyCode,
    by_currency: HashMap<CurrencyCode, Vec<(NaiveDate, Decimal)>>,
}

impl Rates {
    fn new(org: &Organisation) -> Rates {
        let mut by_currency: HashMap<CurrencyCode, Vec<(NaiveDate, Decimal)>> = HashMap::new();
        for rate in org.exchange_rates.iter().filter(|rate| rate.to == org.currency) {
            by_currency.entry(rate.from).or_default().push((rate.effective, rate.rate));
        }
        for rates in by_currency.values_mut() {
            rates.sort_by_key(|(effective, _)| *effective);
        }
        Rates { reporting: org.currency, by_currency }
    }

    /// One unit of `currency` in the reporting currency on `day` (the rate with the latest
    /// effective date not after it); `Err(reason)` when there is none.
    fn on(&self, currency: CurrencyCode, day: NaiveDate) -> Result<Decimal, String> {
        if currency == self.reporting {
            return Ok(Decimal::ONE);
        }
        self.by_currency
            .get(&currency)
            .and_then(|rates| rates.iter().rev().find(|(effective, _)| *effective <= day))
            .map(|(_, rate)| *rate)
            .ok_or_else(|| format!("no exchange rate {currency}→{}", self.reporting))
    }

    /// The days a rate of `currency` takes effect (where a piece of time must end).
    fn changes(&self, currency: CurrencyCode) -> impl Iterator<Item = NaiveDate> + '_ {
        self.by_currency.get(&currency).into_iter().flatten().map(|(effective, _)| *effective)
    }
}

/// The months of a forecast's range and their working days, worked out once.
struct Calendar {
    months: Vec<Month>,
    /// Each month's first day, then the day after the range.
    starts: Vec<NaiveDate>,
    /// `wdm`: each month's working days.
    in_month: Vec<u32>,
    /// `wdy`: the working days of each month's year.
    in_year: Vec<u32>,
}

/// Days `[start, end)` within one month (at `place` in the range) over which nothing a
/// resource's cost depends on changes; `days` of them are working days.
struct Piece {
    start: NaiveDate,
    place: usize,
    days: u32,
}

impl Calendar {
    fn new(range: MonthRange) -> Calendar {
        let months = range.months();
        let starts = months.iter().map(|month| month.first_day()).chain([range.end()]).collect();
        let in_month = months.iter().map(|month| working_days_in_month(*month)).collect();
        let in_year = months.iter().map(|month| working_days_in_year(month.year())).collect();
        Calendar { months, starts, in_month, in_year }
    }

    /// The range cut at every month start and at `cuts` (days on which something changes).
    fn pieces(&self, cuts: impl IntoIterator<Item = NaiveDate>) -> Vec<Piece> {
        let (first, end) = (self.starts[0], self.starts[self.months.len()]);
        let mut cuts: Vec<NaiveDate> = cuts.into_iter().filter(|day| *day > first && *day < end).collect();
        cuts.sort_unstable();
        cuts.dedup();
        let mut pieces = Vec::with_capacity(self.months.len() + cuts.len());
        let mut cuts = cuts.into_iter().peekable();
        for place in 0..self.months.len() {
            let (mut start, month_end) = (self.starts[place], self.starts[place + 1]);
            while let Some(cut) = cuts.next_if(|cut| *cut < month_end) {
                if cut > start {
                    pieces.push(Piece { start, place, days: working_days(start, cut) });
                    start = cut;
                }
            }
            let days = if start == self.starts[place] { self.in_month[place] } else { working_days(start, month_end) };
            pieces.push(Piece { start, place, days });
        }
        pieces
    }
}

/// `amount × factor`, skipping the multiplication by one (same-currency amounts, no overhead).
fn times(amount: Decimal, factor: Decimal) -> Decimal {
    if is_one(factor) { amount } else { amount * factor }
}

/// `value == 1`, answered without rescaling for the common spelling `1` (and `1.0`, `1.00`, …
/// by the full comparison).
fn is_one(value: Decimal) -> bool {
    (value.scale() == 0 && value.mantissa() == 1) || value == Decimal::ONE
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
fn active_allocations(
    allocations: &[Allocation],
    kind: GroupBy,
    day: NaiveDate,
) -> impl Iterator<Item = (usize, &Allocation)> + Clone {
    allocations
        .iter()
        .enumerate()
        .filter(move |(_, allocation)| allocation.kind == kind && within(Some(allocation.start), allocation.end, day))
}

fn overhead(percentage: Decimal) -> Decimal {
    Decimal::ONE + percentage / Decimal::ONE_HUNDRED
}

fn employee_cost(ledger: &mut Ledger<'_>, rates: &Rates, group_by: GroupBy, resource: Resource, employee: &Employee) {
    let currencies: BTreeSet<CurrencyCode> = employee.salaries.iter().map(|salary| salary.currency).collect();
    let cuts = [employee.start, employee.end.map(day_after)]
        .into_iter()
        .flatten()
        .chain(allocation_cuts(&employee.allocations))
        .chain(employee.salaries.iter().map(|salary| salary.effective))
        .chain(currencies.iter().flat_map(|currency| rates.changes(*currency)));
    let loading = overhead(employee.overhead_percentage);
    let targets = ledger.targets(&employee.allocations, group_by);
    for piece in ledger.calendar.pieces(cuts) {
        if piece.days == 0 || !within(employee.start, employee.end, piece.start) {
            continue;
        }
        let Some(salary) = employee
            .salaries
            .iter()
            .filter(|salary| salary.effective <= piece.start)
            .max_by_key(|salary| salary.effective)
        else {
            ledger.not_costed(resource, "no salary".into(), &piece);
            continue;
        };
        let Some(exchange) = ledger.exchange(rates, resource, salary.currency, &piece) else { continue };
        // Per working day: salary / wdy × fte × (1 + overhead); bonus / wdy split by FTE. In
        // the month's common denominator wdy × wdm (see `Ledger`): × wdm, no division.
        let factor = times(Decimal::from(piece.days * ledger.calendar.in_month[piece.place]), exchange);
        let (loaded, bonus) = (times(salary.salary, loading), salary.bonus.unwrap_or_default());
        let allocations = active_allocations(&employee.allocations, group_by, piece.start);
        let (count, total_fte) = allocations
            .clone()
            .fold((0usize, Decimal::ZERO), |(count, fte), (_, allocation)| (count + 1, fte + allocation.fte));
        if count == 0 {
            ledger.add(Some(UNALLOCATED), piece.place, (loaded + bonus) * factor);
            continue;
        }
        for (place, allocation) in allocations {
            // The bonus split by FTE: bonus × fte / total (the divisions that cannot change
            // the amount skipped).
            let bonus_part = if bonus.is_zero() {
                Decimal::ZERO
            } else if count == 1 {
                bonus
            } else if total_fte.is_zero() {
                bonus / Decimal::from(count)
            } else if is_one(total_fte) {
                bonus * allocation.fte
            } else {
                bonus * allocation.fte / total_fte
            };
            ledger.add(targets[place], piece.place, (loaded * allocation.fte + bonus_part) * factor);
        }
    }
}

fn contractor_cost(
    ledger: &mut Ledger<'_>,
    rates: &Rates,
    group_by: GroupBy,
    resource: Resource,
    contractor: &Contractor,
) {
    let currencies: BTreeSet<CurrencyCode> = contractor.rates.iter().map(|rate| rate.currency).collect();
    let cuts = [contractor.start, contractor.end.map(day_after)]
        .into_iter()
        .flatten()
        .chain(allocation_cuts(&contractor.allocations))
        .chain(contractor.rates.iter().filter_map(|rate| rate.effective))
        .chain(currencies.iter().flat_map(|currency| rates.changes(*currency)));
    let targets = ledger.targets(&contractor.allocations, group_by);
    for piece in ledger.calendar.pieces(cuts) {
        if piece.days == 0 || !within(contractor.start, contractor.end, piece.start) {
            continue;
        }
        // The adjustment in force, else the contractor's own rate.
        let in_force = contractor
            .rates
            .iter()
            .filter(|rate| rate.effective.is_some_and(|effective| effective <= piece.start))
            .max_by_key(|rate| rate.effective)
            .or_else(|| contractor.rates.iter().find(|rate| rate.effective.is_none()));
        let Some(rate) = in_force else {
            ledger.not_costed(resource, "no rate".into(), &piece);
            continue;
        };
        let Some(exchange) = ledger.exchange(rates, resource, rate.currency, &piece) else { continue };
        // The piece's amount at FTE 1: the day amount times its working days.
        // In the month's common denominator wdy × wdm (see `Ledger`).
        let (days, year, in_month) = (
            u64::from(piece.days),
            u64::from(ledger.calendar.in_year[piece.place]),
            u64::from(ledger.calendar.in_month[piece.place]),
        );
        let multiple = match rate.rate_type {
            RateType::Hourly => 8 * days * year * in_month,
            RateType::Daily => days * year * in_month,
            RateType::Monthly => days * year,
        };
        let full = times(rate.rate * Decimal::from(multiple), exchange);
        let mut allocations = active_allocations(&contractor.allocations, group_by, piece.start).peekable();
        if allocations.peek().is_none() {
            ledger.add(Some(UNALLOCATED), piece.place, full);
        }
        for (place, allocation) in allocations {
            ledger.add(targets[place], piece.place, full * allocation.fte);
        }
    }
}

fn vacancy_cost(ledger: &mut Ledger<'_>, rates: &Rates, group_by: GroupBy, resource: Resource, vacancy: &Vacancy) {
    if matches!(vacancy.status, VacancyStatus::Cancelled | VacancyStatus::OnHold) {
        return;
    }
    let currency = vacancy.currency.unwrap_or(rates.reporting);
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
    let loaded = annual.map(|annual| times(annual, overhead(vacancy.overhead_percentage)));
    let targets = ledger.targets(&vacancy.allocations, group_by);
    for piece in ledger.calendar.pieces(cuts) {
        // Costs from its target start; suppressed while its filler is active.
        let suppressed = match vacancy.filler_end {
            None => false,
            Some(None) => true,
            Some(Some(end)) => piece.start <= end,
        };
        if piece.days == 0 || suppressed || vacancy.target_start.is_some_and(|target| piece.start < target) {
            continue;
        }
        let mut allocations = active_allocations(&vacancy.allocations, group_by, piece.start).peekable();
        let unallocated = allocations.peek().is_none();
        // Without a target start it costs from each allocation's start only: never
        // unallocated.
        if unallocated && vacancy.target_start.is_none() {
            continue;
        }
        let Some(loaded) = loaded else {
            ledger.not_costed(resource, "no salary range".into(), &piece);
            continue;
        };
        let Some(exchange) = ledger.exchange(rates, resource, currency, &piece) else { continue };
        // In the month's common denominator wdy × wdm (see `Ledger`).
        let per_fte = times(loaded * Decimal::from(piece.days * ledger.calendar.in_month[piece.place]), exchange);
        if unallocated {
            ledger.add(Some(UNALLOCATED), piece.place, per_fte * vacancy.fte);
        }
        for (place, allocation) in allocations {
            ledger.add(targets[place], piece.place, per_fte * allocation.fte);
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
    let dividend = mantissa.unsigned_abs().checked_mul(100);
    let divisor = 10u128.checked_pow(scale).and_then(|power| power.checked_mul(u128::from(denominator)));
    if let (Some(dividend), Some(divisor)) = (dividend, divisor)
        && divisor > 0
        && let Ok(magnitude) = i128::try_from(divide_half_even(dividend, divisor))
        && let Ok(cents) = Decimal::try_from_i128_with_scale(if mantissa < 0 { -magnitude } else { magnitude }, 2)
    {
        return cents;
    }
    cents(numerator / Decimal::from(denominator))
}

/// `dividend / divisor` rounded half to even (magnitudes; the sign is the caller's).
fn divide_half_even(dividend: u128, divisor: u128) -> u128 {
    // Most amounts fit 64 bits, where division is one instruction.
    let (quotient, remainder) = match (u64::try_from(dividend), u64::try_from(divisor)) {
        (Ok(dividend), Ok(divisor)) => (u128::from(dividend / divisor), u128::from(dividend % divisor)),
        _ => (dividend / divisor, dividend % divisor),
    };
    // Past the half, or on it with an odd quotient (compared without doubling: no overflow).
    let rest = divisor - remainder;
    quotient + u128::from(remainder > rest || (remainder == rest && quotient % 2 != 0))
}

fn add_into(total: &mut [Decimal], amounts: &[Decimal]) {
    for (sum, amount) in total.iter_mut().zip(amounts) {
        *sum += *amount;
    }
}

fn table(org: &Organisation, group_by: GroupBy, team: Option<&str>, detail: Detail, ledger: Ledger<'_>) -> Forecast {
    let count = ledger.count;
    let zero = || vec![cents(Decimal::ZERO); count];
    let calendar = &ledger.calendar;
    let denominators: Vec<u32> =
        calendar.in_year.iter().zip(&calendar.in_month).map(|(year, month)| year * month).collect();
    // Per group (teams or projects by index, `Unallocated` last): the sum of its rounded
    // line-months, and with `Detail::Lines` the lines themselves.
    let group_count = match group_by {
        GroupBy::Team => org.teams.len(),
        GroupBy::Project => org.projects.len(),
    };
    let slot = |group: GroupIndex| if group == UNALLOCATED { group_count } else { group as usize };
    let mut own: Vec<Vec<Decimal>> = vec![zero(); group_count + 1];
    let mut lines: Vec<Vec<Line>> = vec![Vec::new(); group_count + 1];
    let mut rounded = Vec::with_capacity(count);
    for (&(group, (resource_type, index)), amounts) in ledger.entries.iter().zip(ledger.amounts.chunks_exact(count)) {
        rounded.clear();
        rounded.extend(amounts.iter().zip(&denominators).map(|(amount, denominator)| cents_of(*amount, *denominator)));
        add_into(&mut own[slot(group)], &rounded);
        if detail == Detail::Lines {
            let (id, external_id, name) = describe(org, resource_type, index);
            lines[slot(group)].push(Line { resource_type, id, external_id, name, amounts: rounded.clone() });
        }
    }
    for group_lines in &mut lines {
        group_lines.sort_by(|a, b| (a.resource_type, &a.name, &a.id).cmp(&(b.resource_type, &b.name, &b.id)));
    }
    let mut groups = Vec::new();
    let mut total = zero();
    match group_by {
        GroupBy::Team => {
            let tree = TeamTree::new(org, &ledger.groups);
            let roots: Vec<usize> = match team {
                Some(id) => ledger.groups.get(id).map(|index| *index as usize).into_iter().collect(),
                None => tree.roots.clone(),
            };
            for root in roots {
                let root_total = tree.append(org, root, &mut own, &mut lines, &mut groups);
                add_into(&mut total, &root_total);
            }
        }
        GroupBy::Project => {
            let mut projects: Vec<usize> = (0..org.projects.len()).collect();
            projects.sort_by_key(|index| (&org.projects[*index].name, &org.projects[*index].id));
            for index in projects {
                let project = &org.projects[index];
                add_into(&mut total, &own[index]);
                groups.push(Group {
                    id: Some(project.id.clone()),
                    external_id: project.external_id.clone(),
                    name: project.name.clone(),
                    parent_id: None,
                    total: own[index].clone(),
                    own: std::mem::take(&mut own[index]),
                    lines: std::mem::take(&mut lines[index]),
                });
            }
        }
    }
    if team.is_none() {
        add_into(&mut total, &own[group_count]);
        groups.push(Group {
            id: None,
            external_id: None,
            name: "Unallocated".into(),
            parent_id: None,
            total: own[group_count].clone(),
            own: std::mem::take(&mut own[group_count]),
            lines: std::mem::take(&mut lines[group_count]),
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
    Forecast { currency: org.currency, group_by, detail, months: ledger.calendar.months, total, groups, not_costed }
}

/// The organisation's teams as a tree, by their places in `org.teams`: a team whose parent is
/// not one of them is a root. Siblings by name, then id.
struct TeamTree {
    roots: Vec<usize>,
    children: Vec<Vec<usize>>,
}

impl TeamTree {
    fn new(org: &Organisation, index_of: &HashMap<&str, GroupIndex>) -> TeamTree {
        let mut tree = TeamTree { roots: Vec::new(), children: vec![Vec::new(); org.teams.len()] };
        for (index, team) in org.teams.iter().enumerate() {
            match team.parent_id.as_deref().and_then(|parent| index_of.get(parent)) {
                Some(parent) => tree.children[*parent as usize].push(index),
                None => tree.roots.push(index),
            }
        }
        let order = |index: &usize| (&org.teams[*index].name, &org.teams[*index].id);
        tree.roots.sort_by_key(order);
        for siblings in &mut tree.children {
            siblings.sort_by_key(order);
        }
        tree
    }

    /// Appends team `index` and its descendants (parents first) to `groups`, taking their own
    /// amounts and lines; returns its total.
    fn append(
        &self,
        org: &Organisation,
        index: usize,
        own: &mut [Vec<Decimal>],
        lines: &mut [Vec<Line>],
        groups: &mut Vec<Group>,
    ) -> Vec<Decimal> {
        let team = &org.teams[index];
        let position = groups.len();
        let mut total = own[index].clone();
        groups.push(Group {
            id: Some(team.id.clone()),
            external_id: team.external_id.clone(),
            name: team.name.clone(),
            parent_id: team.parent_id.clone(),
            total: Vec::new(),
            own: std::mem::take(&mut own[index]),
            lines: std::mem::take(&mut lines[index]),
        });
        for child in &self.children[index] {
            let child_total = self.append(org, *child, own, lines, groups);
            add_into(&mut total, &child_total);
        }
        groups[position].total = total.clone();
        total
    }
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
            // Past 64 bits: the wide division.
            ("123456789012345678901.25", 3),
            ("-123456789012345678901.255", 1),
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
