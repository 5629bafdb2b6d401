//! A small company for `flowstate demo`: teams in a tree, employees with salaries and team
//! allocations (some split, one leaving soon, one gone), contractors with rates in two
//! currencies, and positions (open ones, one filled by the employee who is leaving, one by a
//! contractor). Dates are relative to the month the demo starts in, so the forecast always
//! shows a vacancy's cost coming back after its filler leaves.
//!
//! Served (behind the dataset's API key) as:
//! - `GET /v2/teams`: every team, parents before children.
//! - `GET /v2/employees?page=&per_page=`: page-based (`{ data, has_next_page }`).
//! - `GET /v2/contractors?offset=&limit=`: offset-based (`{ items, total }`).
//! - `GET /v2/positions?page=&per_page=`: page-based.
//! - `POST /v2/webhooks/flowstate`: a receiver for PUSH hooks, which keeps what it gets;
//!   `GET` lists it.

use std::sync::{Arc, Mutex};

use axum::{
    Json, Router,
    extract::{Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{parse_number, unauthorized};

/// A calendar month, `(year, month 1-12)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    /// `offset` months later (or earlier).
    fn plus(self, offset: i32) -> Month {
        let index = self.year * 12 + self.month as i32 - 1 + offset;
        Month { year: index.div_euclid(12), month: index.rem_euclid(12) as u32 + 1 }
    }

    fn first(self) -> String {
        format!("{:04}-{:02}-01", self.year, self.month)
    }

    fn last(self) -> String {
        let leap = (self.year % 4 == 0 && self.year % 100 != 0) || self.year % 400 == 0;
        let days = match self.month {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        format!("{:04}-{:02}-{days:02}", self.year, self.month)
    }
}

/// The company, as of `today`'s month.
#[derive(Clone)]
pub struct Company {
    teams: Arc<Vec<Value>>,
    employees: Arc<Vec<Value>>,
    contractors: Arc<Vec<Value>>,
    positions: Arc<Vec<Value>>,
    received: Arc<Mutex<Vec<Value>>>,
    api_key: Arc<str>,
}

const TEAMS: [(&str, &str, Option<&str>); 7] = [
    ("T-eng", "Engineering", None),
    ("T-ops", "Operations", None),
    ("T-platform", "Platform", Some("T-eng")),
    ("T-product", "Product", Some("T-eng")),
    ("T-data", "Data", Some("T-eng")),
    ("T-support", "Support", Some("T-ops")),
    ("T-finance", "Finance", Some("T-ops")),
];

/// The teams people work in (the two top-level ones hold no one directly).
const WORK_TEAMS: [usize; 5] = [2, 3, 4, 5, 6];

const FIRST: [&str; 12] =
    ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Radia", "Tim", "Frances", "John", "Hedy", "Dennis"];
const LAST: [&str; 12] = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Dijkstra",
    "Liskov",
    "Thompson",
    "Perlman",
    "Berners-Lee",
    "Allen",
    "Backus",
    "Lamarr",
    "Ritchie",
];
const TITLES: [&str; 6] =
    ["Software Engineer", "Senior Engineer", "Product Manager", "Data Analyst", "Support Specialist", "Accountant"];

impl Company {
    /// 24 employees, 6 contractors, 8 positions; every request must carry `api_key`.
    pub fn new(today: Month, api_key: &str) -> Company {
        let team = |index: usize| TEAMS[index];
        let teams =
            TEAMS.iter().map(|(id, name, parent)| json!({ "id": id, "name": name, "parent_id": parent })).collect();
        let allocation = |index: usize, fte: f64, from: &str| {
            let (id, name, _) = team(index);
            json!({ "team_id": id, "team_name": name, "fte": fte, "from": from })
        };
        let employees = (1..=24usize)
            .map(|n| {
                let (first, last) = (FIRST[n % 12], LAST[(n * 5) % 12]);
                let hired = today.plus(-(6 + (n as i32 * 7) % 40));
                let home = WORK_TEAMS[n % WORK_TEAMS.len()];
                // Every sixth works half in a second team.
                let allocations = if n % 6 == 0 {
                    let other = WORK_TEAMS[(n + 1) % WORK_TEAMS.len()];
                    vec![allocation(home, 0.5, &hired.first()), allocation(other, 0.5, &hired.first())]
                } else {
                    vec![allocation(home, 1.0, &hired.first())]
                };
                let termination = match n {
                    // Leaves at the end of the month after next: the position they fill
                    // costs again from the day after.
                    3 => json!(today.plus(2).last()),
                    // Left last month.
                    17 => json!(today.plus(-1).last()),
                    _ => Value::Null,
                };
                json!({
                    "id": format!("E-{n:03}"),
                    "first_name": first,
                    "last_name": last,
                    "email": format!("{}.{}{n}@acme.example", first.to_lowercase(), last.to_lowercase().replace('-', "")),
                    "employee_number": format!("A{n:04}"),
                    "job_title": TITLES[(home - 1) % TITLES.len()],
                    "hire_date": hired.first(),
                    "termination_date": termination,
                    "salary": {
                        "annual": 42_000 + (n as u64 * 3_700) % 60_000,
                        "bonus": if n % 4 == 0 { json!(5_000) } else { Value::Null },
                        "currency": "GBP",
                        "effective_date": hired.first(),
                    },
                    "allocations": allocations,
                })
            })
            .collect();
        let contractors = (1..=6usize)
            .map(|n| {
                let start = today.plus(-(n as i32 * 2));
                let (rate_type, amount, currency) = match n % 3 {
                    0 => ("hourly", 70 + n as u64 * 5, "GBP"),
                    1 => ("daily", 450 + n as u64 * 25, "EUR"),
                    _ => ("monthly", 9_000 + n as u64 * 500, "GBP"),
                };
                json!({
                    "id": format!("C-{n:03}"),
                    "full_name": format!("{} {}", FIRST[(n + 5) % 12], LAST[(n + 7) % 12]),
                    "email": format!("contractor{n}@partners.example"),
                    "kind": if n % 2 == 0 { "agency" } else { "individual" },
                    "start_date": start.first(),
                    "end_date": if n == 4 { json!(today.plus(4).last()) } else { Value::Null },
                    "rate": { "type": rate_type, "amount": amount, "currency": currency },
                    "allocations": [allocation(WORK_TEAMS[n % WORK_TEAMS.len()], 1.0, &start.first())],
                })
            })
            .collect();
        let positions = (1..=8usize)
            .map(|n| {
                // A filled position's budget sits in its filler's team.
                let home = match n {
                    1 => WORK_TEAMS[3],
                    2 => WORK_TEAMS[2],
                    _ => WORK_TEAMS[n % WORK_TEAMS.len()],
                };
                let start = today.plus(if n <= 2 { -3 } else { n as i32 % 4 });
                let filled_by = match n {
                    1 => json!("E-003"),
                    2 => json!("C-002"),
                    _ => Value::Null,
                };
                let minimum = 50_000 + n as u64 * 4_000;
                json!({
                    "id": format!("P-{n:03}"),
                    "title": TITLES[(home + n) % TITLES.len()],
                    "status": if filled_by.is_null() { "open" } else { "filled" },
                    "fte": if n == 6 { 0.5 } else { 1.0 },
                    "target_start": start.first(),
                    // The last one's range is not agreed yet: the forecast lists it as not costed.
                    "salary_min": if n == 8 { Value::Null } else { json!(minimum) },
                    "salary_max": if n == 8 { Value::Null } else { json!(minimum + 12_000) },
                    "currency": if n == 7 { "EUR" } else { "GBP" },
                    "team_id": team(home).0,
                    "filled_by": filled_by,
                })
            })
            .collect();
        Company {
            teams: Arc::new(teams),
            employees: Arc::new(employees),
            contractors: Arc::new(contractors),
            positions: Arc::new(positions),
            received: Arc::default(),
            api_key: api_key.into(),
        }
    }

    /// What the PUSH receiver has been sent, oldest first.
    pub fn received(&self) -> Vec<Value> {
        self.received.lock().expect("not poisoned").clone()
    }

    fn authorized(&self, headers: &HeaderMap) -> bool {
        super::bearer(headers) == Some(&*self.api_key)
    }
}

/// The company's API (see the module's documentation).
pub fn company_router(company: Company) -> Router {
    Router::new()
        .route("/v2/teams", get(teams))
        .route("/v2/employees", get(employees))
        .route("/v2/contractors", get(contractors))
        .route("/v2/positions", get(positions))
        .route("/v2/webhooks/flowstate", get(received).post(receive))
        .with_state(company)
}

#[derive(Deserialize)]
struct Paging {
    page: Option<String>,
    per_page: Option<String>,
    offset: Option<String>,
    limit: Option<String>,
}

fn by_page(items: &[Value], query: &Paging) -> Response {
    let page = parse_number(query.page.as_ref(), 1).max(1);
    let per_page = parse_number(query.per_page.as_ref(), 10).clamp(1, 100);
    let start = (page - 1) * per_page;
    let data: Vec<&Value> = items.iter().skip(start).take(per_page).collect();
    Json(json!({ "data": data, "has_next_page": start + per_page < items.len() })).into_response()
}

async fn teams(State(company): State<Company>, headers: HeaderMap) -> Response {
    if !company.authorized(&headers) {
        return unauthorized();
    }
    Json(json!({ "data": *company.teams })).into_response()
}

async fn employees(State(company): State<Company>, headers: HeaderMap, Query(query): Query<Paging>) -> Response {
    if !company.authorized(&headers) {
        return unauthorized();
    }
    by_page(&company.employees, &query)
}

async fn positions(State(company): State<Company>, headers: HeaderMap, Query(query): Query<Paging>) -> Response {
    if !company.authorized(&headers) {
        return unauthorized();
    }
    by_page(&company.positions, &query)
}

async fn contractors(State(company): State<Company>, headers: HeaderMap, Query(query): Query<Paging>) -> Response {
    if !company.authorized(&headers) {
        return unauthorized();
    }
    let offset = parse_number(query.offset.as_ref(), 0);
    let limit = parse_number(query.limit.as_ref(), 50).clamp(1, 100);
    let items: Vec<&Value> = company.contractors.iter().skip(offset).take(limit).collect();
    Json(json!({ "items": items, "total": company.contractors.len() })).into_response()
}

async fn receive(State(company): State<Company>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if !company.authorized(&headers) {
        return unauthorized();
    }
    company.received.lock().expect("not poisoned").push(body);
    (StatusCode::CREATED, Json(json!({ "received": true }))).into_response()
}

async fn received(State(company): State<Company>, headers: HeaderMap) -> Response {
    if !company.authorized(&headers) {
        return unauthorized();
    }
    Json(json!({ "data": company.received() })).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_roll_over_years() {
        let december = Month { year: 2026, month: 12 };
        assert_eq!(december.plus(2).last(), "2027-02-28");
        assert_eq!(december.plus(-12).first(), "2025-12-01");
        assert_eq!(Month { year: 2028, month: 1 }.plus(1).last(), "2028-02-29");
    }

    #[test]
    fn the_leaver_fills_the_first_position_and_leaves_after_next_month() {
        let company = Company::new(Month { year: 2026, month: 12 }, "k");
        let leaver = company.employees.iter().find(|e| e["id"] == "E-003").unwrap();
        assert_eq!(leaver["termination_date"], "2027-02-28");
        assert_eq!(company.positions[0]["filled_by"], "E-003");
        // Parents come before their children.
        let ids: Vec<&str> = company.teams.iter().map(|t| t["id"].as_str().unwrap()).collect();
        for team in company.teams.iter() {
            if let Some(parent) = team["parent_id"].as_str() {
                let (at, parent_at) =
                    (ids.iter().position(|id| *id == team["id"]), ids.iter().position(|id| *id == parent));
                assert!(parent_at < at, "{team}");
            }
        }
    }
}
