//! `cargo bench -p flowstate-forecast --bench compute`: the pure computation alone (no
//! database, no HTTP), over the organisation of the API's forecast benchmark: 10,000
//! employees (a salary change with a bonus), 2,000 contractors and 2,000 vacancies, each with
//! two team allocations, 50 teams three levels deep; 12 months.

use std::time::Instant;

use chrono::NaiveDate;
use flowstate_forecast::{
    Allocation, Contractor, CurrencyCode, Decimal, Detail, Employee, GroupBy, MonthRange, Organisation, Rate, RateType,
    SalaryAdjustment, Team, Vacancy, VacancyStatus, forecast,
};

fn currency(code: &str) -> CurrencyCode {
    CurrencyCode::parse(code).unwrap()
}

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn allocations(n: usize) -> Vec<Allocation> {
    let to = |team: usize, fte: Decimal, start: &str| Allocation {
        kind: GroupBy::Team,
        target: format!("team_{team:026}"),
        fte,
        start: date(start),
        end: None,
    };
    vec![to(n % 50, Decimal::new(6, 1), "2025-06-01"), to((n + 17) % 50, Decimal::new(4, 1), "2026-03-01")]
}

fn organisation() -> Organisation {
    let teams = (0..50)
        .map(|n| Team {
            id: format!("team_{n:026}"),
            external_id: Some(format!("T-{n}")),
            name: format!("Team {n}"),
            parent_id: match n {
                0..5 => None,
                5..20 => Some(format!("team_{:026}", n % 5)),
                _ => Some(format!("team_{:026}", 5 + n % 15)),
            },
        })
        .collect();
    let employees = (0..10_000)
        .map(|n| Employee {
            id: format!("emp_{n:026}"),
            external_id: Some(format!("E-{n}")),
            name: format!("Ada L{n}"),
            start: Some(date("2025-01-01")),
            end: None,
            overhead_percentage: Decimal::ZERO,
            salaries: vec![
                SalaryAdjustment {
                    effective: date("2025-01-01"),
                    salary: Decimal::from(50_000 + n % 40_000),
                    bonus: None,
                    currency: currency("GBP"),
                },
                SalaryAdjustment {
                    effective: date("2026-04-01"),
                    salary: Decimal::from(52_000 + n % 40_000),
                    bonus: Some(Decimal::from(5000)),
                    currency: currency("GBP"),
                },
            ],
            allocations: allocations(n),
        })
        .collect();
    let contractors = (0..2_000)
        .map(|n| Contractor {
            id: format!("con_{n:026}"),
            external_id: Some(format!("C-{n}")),
            name: format!("Contractor {n}"),
            start: None,
            end: None,
            rates: vec![Rate {
                effective: None,
                rate: Decimal::from(400 + n % 300),
                rate_type: RateType::Daily,
                currency: currency("GBP"),
            }],
            allocations: allocations(n),
        })
        .collect();
    let vacancies = (0..2_000)
        .map(|n| Vacancy {
            id: format!("vac_{n:026}"),
            external_id: Some(format!("V-{n}")),
            name: format!("Engineer {n}"),
            status: VacancyStatus::Open,
            fte: Decimal::ONE,
            target_start: Some(date("2026-02-01")),
            salary_min: Some(Decimal::from(60_000)),
            salary_max: Some(Decimal::from(80_000)),
            currency: None,
            overhead_percentage: Decimal::ZERO,
            filler_end: None,
            allocations: allocations(n),
        })
        .collect();
    Organisation {
        currency: currency("GBP"),
        teams,
        projects: Vec::new(),
        employees,
        contractors,
        vacancies,
        exchange_rates: Vec::new(),
    }
}

fn main() {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!("flowstate-forecast benchmark: the computation alone ({cores} cores)\n");
    println!("| {:<52} | {:>9} |", "case (14,000 resources, 12 months)", "ms, p50");
    println!("|{:-<54}|{:-<11}|", "", "");
    let org = organisation();
    let range = MonthRange::parse("2026-01", "2026-12").unwrap();
    for (name, detail) in [("totals", Detail::Totals), ("with lines", Detail::Lines)] {
        let mut times: Vec<f64> = (0..11)
            .map(|_| {
                let started = Instant::now();
                std::hint::black_box(forecast(&org, range, GroupBy::Team, None, detail));
                started.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        times.sort_by(f64::total_cmp);
        println!("| {:<52} | {:>9.1} |", name, times[5]);
    }
}
