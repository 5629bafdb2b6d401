//! Issue 11: the vacancies guide's position lifecycle, synced one step after another, each
//! followed by the forecast of the months involved (on both backends).

use flowstate_forecast::{Detail, Forecast, GroupBy, MonthRange};
use flowstate_sync::EntityType;
use serde_json::json;

use crate::helpers::TestStore;

fn forecast(test: &TestStore, from: &str, to: &str) -> Forecast {
    let rows = test.store.forecast_rows(&test.org).unwrap();
    flowstate_forecast::forecast(&rows, MonthRange::parse(from, to).unwrap(), GroupBy::Team, None, Detail::Lines)
}

/// A group's total (or one line's amounts) by the group's and line's externalIds.
fn amounts(result: &Forecast, group: &str, line: Option<&str>) -> Vec<String> {
    let group = result
        .groups
        .iter()
        .find(|candidate| candidate.external_id.as_deref() == Some(group) || candidate.name == group)
        .unwrap_or_else(|| panic!("no group {group}"));
    let values = match line {
        None => group.total.clone(),
        Some(line) => group
            .lines
            .iter()
            .find(|candidate| candidate.external_id.as_deref() == Some(line))
            .map(|line| line.amounts.clone())
            .unwrap_or_else(|| vec![flowstate_forecast::Decimal::new(0, 2); result.months.len()]),
    };
    values.iter().map(ToString::to_string).collect()
}

fn position_lifecycle_costs_hand_over_and_come_back(test: TestStore) {
    // Teams: Platform under Engineering; Growth at the top.
    test.apply(
        EntityType::Team,
        &[
            ("TEAM-eng", json!({ "name": "Engineering" })),
            ("TEAM-platform", json!({ "name": "Platform", "parentTeamExternalId": "TEAM-eng" })),
            ("TEAM-growth", json!({ "name": "Growth" })),
        ],
    );
    // Ada: 130,500 a year (500.00 a working day), on Platform from 2 March.
    test.apply(
        EntityType::Employee,
        &[(
            "EMP-ada-001",
            json!({ "firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com", "startDate": "2026-03-02",
                "salaryAdjustments": [{ "effectiveDate": "2026-01-01", "salary": 130500, "currencyCode": "GBP" }],
                "teamAllocations": [{ "teamId": "TEAM-platform", "fte": 1.0, "startDate": "2026-03-02" }] }),
        )],
    );
    let position = |extra: serde_json::Value| {
        let mut data = json!({ "role": "Staff Engineer", "targetStartDate": "2026-03-01", "salaryMin": 120000, "salaryMax": 141000,
            "currencyCode": "GBP", "teamAllocations": [{ "teamId": "TEAM-platform", "fte": 1.0, "startDate": "2026-03-01" }] });
        for (key, value) in extra.as_object().unwrap() {
            data[key] = value.clone();
        }
        data
    };

    // 1. Open: the vacancy costs Platform (and Engineering above it) from its target start.
    let outcome = test.apply(EntityType::Vacancy, &[("POS-001", position(json!({})))]);
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    let march = forecast(&test, "2026-03", "2026-03");
    assert_eq!(amounts(&march, "TEAM-platform", Some("POS-001")), ["11000.00"], "22 working days × 500.00");
    assert_eq!(amounts(&march, "TEAM-platform", None), ["22000.00"], "the vacancy and Ada");
    assert_eq!(amounts(&march, "TEAM-eng", None), ["22000.00"], "the parent holds its child's");

    // 2. Filled by Ada: the vacancy is suppressed; her salary carries the cost.
    test.apply(EntityType::Vacancy, &[("POS-001", position(json!({ "filledByExternalId": "EMP-ada-001" })))]);
    let march = forecast(&test, "2026-03", "2026-03");
    assert_eq!(amounts(&march, "TEAM-platform", Some("POS-001")), ["0.00"]);
    assert_eq!(amounts(&march, "TEAM-platform", None), ["11000.00"]);

    // 3. The position follows her to Growth from June: still filled, still suppressed.
    let moved = json!({ "role": "Staff Engineer", "filledByExternalId": "EMP-ada-001",
        "teamAllocations": [{ "teamId": "TEAM-growth", "fte": 1.0, "startDate": "2026-06-01" }] });
    test.apply(EntityType::Vacancy, &[("POS-001", moved)]);
    let summer = forecast(&test, "2026-05", "2026-06");
    assert_eq!(amounts(&summer, "TEAM-growth", None), ["0.00", "0.00"], "suppressed while Ada fills it");
    assert_eq!(amounts(&summer, "TEAM-platform", None), ["10500.00", "11000.00"], "Ada alone");

    // 4. The fill is cleared and the position stays on Platform: both cost again.
    let reopened = json!({ "role": "Staff Engineer", "filledBy": null,
        "teamAllocations": [{ "teamId": "TEAM-platform", "fte": 1.0, "startDate": "2026-03-01" }] });
    let outcome = test.apply(EntityType::Vacancy, &[("POS-001", reopened)]);
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    let july = forecast(&test, "2026-07", "2026-07");
    assert_eq!(amounts(&july, "TEAM-platform", None), ["23000.00"], "23 working days × 500.00, twice");

    // Filled again, and Ada leaves on 15 June: the vacancy costs from the 16th (11 working
    // days of June, split by days), and all of July.
    test.apply(EntityType::Vacancy, &[("POS-001", position(json!({ "filledByExternalId": "EMP-ada-001" })))]);
    test.apply(
        EntityType::Employee,
        &[(
            "EMP-ada-001",
            json!({ "firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com", "startDate": "2026-03-02", "endDate": "2026-06-15" }),
        )],
    );
    let handback = forecast(&test, "2026-06", "2026-07");
    assert_eq!(amounts(&handback, "TEAM-platform", Some("POS-001")), ["5500.00", "11500.00"]);
    assert_eq!(amounts(&handback, "TEAM-platform", Some("EMP-ada-001")), ["5500.00", "0.00"]);

    // 5. The position is deleted: it leaves the forecast.
    test.apply(EntityType::Vacancy, &[("POS-001", json!({ "deletedAt": "2026-08-01" }))]);
    let after = forecast(&test, "2026-06", "2026-07");
    assert!(
        after.groups.iter().all(|group| group.lines.iter().all(|line| line.external_id.as_deref() != Some("POS-001"))),
        "no line of the deleted position"
    );
    assert_eq!(amounts(&after, "TEAM-platform", None), ["5500.00", "0.00"]);
}

/// `POST /vacancies/{id}/fill` (the store's fill): the filler takes the vacancy's allocations
/// and costs through them; when the filler leaves, the vacancy costs again the next day, in
/// `Unallocated` (its allocations went to the filler) at its own FTE. A contractor filler in
/// another currency costs at the day's exchange rate.
fn a_fill_hands_the_cost_to_the_filler_and_back(test: TestStore) {
    test.apply(EntityType::Team, &[("TEAM-platform", json!({ "name": "Platform" }))]);
    let vacancy = |fte: f64| {
        json!({ "role": "Engineer", "targetStartDate": "2026-03-01", "salaryMin": 130500, "salaryMax": 130500, "currencyCode": "GBP",
            "fte": fte, "teamAllocations": [{ "teamId": "TEAM-platform", "fte": 1.0, "startDate": "2026-03-01" }] })
    };
    test.apply(EntityType::Vacancy, &[("POS-1", vacancy(1.0)), ("POS-2", vacancy(0.5))]);
    let body = |value: serde_json::Value| value.as_object().unwrap().clone();
    let filled = test
        .store
        .fill_vacancy(
            &test.org,
            "POS-1",
            EntityType::Employee,
            &body(
                json!({ "externalId": "EMP-7", "firstName": "Grace", "lastName": "Hopper", "email": "grace@example.com",
                "startDate": "2026-03-02", "endDate": "2026-06-15",
                "salary": { "effectiveDate": "2026-01-01", "salary": 130500, "currencyCode": "GBP" } }),
            ),
        )
        .unwrap();
    assert!(matches!(filled, flowstate_store::Filled::Done { .. }), "{filled:?}");
    let result = forecast(&test, "2026-03", "2026-07");
    // Grace costs Platform through the allocation she took over, until 15 June.
    assert_eq!(
        amounts(&result, "TEAM-platform", Some("EMP-7")),
        ["11000.00", "11000.00", "10500.00", "5500.00", "0.00"]
    );
    assert_eq!(amounts(&result, "TEAM-platform", Some("POS-1")), ["0.00", "0.00", "0.00", "0.00", "0.00"]);
    // From 16 June the vacancy costs again, unallocated: its allocation went to Grace.
    assert_eq!(amounts(&result, "Unallocated", Some("POS-1")), ["0.00", "0.00", "0.00", "5500.00", "11500.00"]);

    // A contractor at 400 EUR a day fills the half-time position; EUR→GBP is 0.8, then 0.9
    // from 16 March.
    for (rate, effective) in [(0.8, "2026-01-01"), (0.9, "2026-03-16")] {
        test.store.put_exchange_rate(&test.org, "EUR", "GBP", rate, effective).unwrap();
    }
    test.store
        .fill_vacancy(
            &test.org,
            "POS-2",
            EntityType::Contractor,
            &body(json!({ "externalId": "CON-1", "name": "Acme Ltd", "rate": 400, "rateType": "daily", "currencyCode": "EUR",
                "startDate": "2026-03-02" })),
        )
        .unwrap();
    let march = forecast(&test, "2026-03", "2026-03");
    // The allocation it took over is FTE 1.0: 10 days × 400 × 0.8 + 12 days × 400 × 0.9.
    assert_eq!(amounts(&march, "TEAM-platform", Some("CON-1")), ["7520.00"]);
    assert_eq!(amounts(&march, "TEAM-platform", Some("POS-2")), ["0.00"], "suppressed: an active filler");
}

/// The cost chain end to end, from synced records through `Store::forecast` (what the REST
/// handler and `flowstate forecast` call): a salary change mid-month with a bonus split by
/// FTE, a work type's overhead, hourly, daily (in euros) and monthly contractors,
/// unallocated people and positions, `on_hold` and `cancelled` positions costing nothing,
/// each reason for `notCosted`, a three-level roll-up, the `teamId` filter and grouping by
/// project. March 2026: 22 working days; 2026: 261.
fn the_cost_chain_from_synced_records(test: TestStore) {
    let org = &test.org;
    test.store.create_work_type(org, "Engineering", Some("WT-ENG"), 20.0).unwrap();
    test.store.put_exchange_rate(org, "EUR", "GBP", 0.8, "2026-01-01").unwrap();
    test.apply(
        EntityType::Team,
        &[
            ("TEAM-eng", json!({ "name": "Engineering" })),
            ("TEAM-plat", json!({ "name": "Platform", "parentTeamExternalId": "TEAM-eng" })),
            ("TEAM-core", json!({ "name": "Core", "parentTeamExternalId": "TEAM-plat" })),
            ("TEAM-ops", json!({ "name": "Operations" })),
        ],
    );
    let to = |team: &str, fte: f64| json!([{ "teamId": team, "fte": fte, "startDate": "2026-01-01" }]);
    let person = |first: &str, extra: serde_json::Value| {
        let mut data = json!({ "firstName": first, "lastName": "Test", "email": format!("{first}@example.com"), "startDate": "2025-01-01" });
        for (key, value) in extra.as_object().unwrap() {
            data[key] = value.clone();
        }
        data
    };
    let outcome = test.apply(
        EntityType::Employee,
        &[
            // 200 a day, then from 16 March 400 and a bonus of 100 a day; 20 % overhead on the
            // salary; three quarters on Core, a quarter on Operations.
            ("E-1", person("ann", json!({ "workType": "WT-ENG",
                "salaryAdjustments": [
                    { "effectiveDate": "2026-01-01", "salary": 52200, "currencyCode": "GBP" },
                    { "effectiveDate": "2026-03-16", "salary": 104400, "bonus": 26100, "currencyCode": "GBP" }],
                "teamAllocations": [{ "teamId": "TEAM-core", "fte": 0.75, "startDate": "2026-01-01" },
                                    { "teamId": "TEAM-ops", "fte": 0.25, "startDate": "2026-01-01" }] }))),
            // 100 a day, on no team; on project Apollo.
            ("E-2", person("bob", json!({
                "salaryAdjustments": [{ "effectiveDate": "2026-01-01", "salary": 26100, "currencyCode": "GBP" }],
                "projectAllocations": [{ "projectId": "P-apollo", "projectName": "Apollo", "fte": 1, "startDate": "2026-01-01" }] }))),
            // No salary.
            ("E-3", person("cat", json!({ "teamAllocations": to("TEAM-plat", 1.0) }))),
        ],
    );
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    let contractor = |name: &str, rate: serde_json::Value, fte: f64| {
        let mut data = json!({ "name": name, "startDate": "2025-01-01", "teamAllocations": to("TEAM-plat", fte) });
        for (key, value) in rate.as_object().unwrap() {
            data[key] = value.clone();
        }
        data
    };
    let outcome = test.apply(
        EntityType::Contractor,
        &[
            ("C-hourly", contractor("Hourly", json!({ "rate": 50, "rateType": "hourly", "currencyCode": "GBP" }), 1.0)),
            ("C-daily", contractor("Daily", json!({ "rate": 300, "rateType": "daily", "currencyCode": "EUR" }), 1.0)),
            (
                "C-monthly",
                contractor("Monthly", json!({ "rate": 4400, "rateType": "monthly", "currencyCode": "GBP" }), 0.5),
            ),
            ("C-norate", contractor("No rate", json!({}), 1.0)),
            ("C-usd", contractor("Dollars", json!({ "rate": 100, "rateType": "daily", "currencyCode": "USD" }), 1.0)),
        ],
    );
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    let position = |extra: serde_json::Value| {
        let mut data = json!({ "role": "Engineer", "targetStartDate": "2026-03-01", "currencyCode": "GBP" });
        for (key, value) in extra.as_object().unwrap() {
            data[key] = value.clone();
        }
        data
    };
    let outcome = test.apply(
        EntityType::Vacancy,
        &[
            // Mid-range 52,200: 200 a day, with 20 % overhead.
            ("V-open", position(json!({ "salaryMin": 47000, "salaryMax": 57400, "workType": "Engineering", "teamAllocations": to("TEAM-core", 1.0) }))),
            // 100 a day at FTE 0.5, on no team.
            ("V-unallocated", position(json!({ "salaryMin": 26100, "salaryMax": 26100, "fte": 0.5 }))),
            ("V-hold", position(json!({ "status": "on_hold", "salaryMin": 52200, "salaryMax": 52200, "teamAllocations": to("TEAM-core", 1.0) }))),
            ("V-cancelled", position(json!({ "status": "cancelled", "salaryMin": 52200, "salaryMax": 52200, "teamAllocations": to("TEAM-core", 1.0) }))),
            ("V-norange", position(json!({ "teamAllocations": to("TEAM-ops", 1.0) }))),
        ],
    );
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);

    let march = MonthRange::parse("2026-03", "2026-03").unwrap();
    let result = test.store.forecast(org, march, GroupBy::Team, None, Detail::Lines).unwrap();
    // Ann on Core: 10 days × 200 × 0.75 × 1.2 + 12 × (400 × 0.75 × 1.2 + 100 × 0.75) = 1800 + 5220.
    assert_eq!(amounts(&result, "TEAM-core", Some("E-1")), ["7020.00"]);
    // On Operations: 10 × 200 × 0.25 × 1.2 + 12 × (400 × 0.25 × 1.2 + 100 × 0.25) = 600 + 1740.
    assert_eq!(amounts(&result, "TEAM-ops", Some("E-1")), ["2340.00"]);
    assert_eq!(amounts(&result, "TEAM-core", Some("V-open")), ["5280.00"], "22 × 200 × 1.2");
    for (line, expected) in [("C-hourly", "8800.00"), ("C-daily", "5280.00"), ("C-monthly", "2200.00")] {
        // 50 × 8 × 22; 300 × 22 × 0.8 EUR→GBP; 4400 for the month × 0.5.
        assert_eq!(amounts(&result, "TEAM-plat", Some(line)), [expected], "{line}");
    }
    assert_eq!(amounts(&result, "Unallocated", Some("E-2")), ["2200.00"]);
    assert_eq!(amounts(&result, "Unallocated", Some("V-unallocated")), ["1100.00"], "22 × 100 × 0.5");
    for line in ["V-hold", "V-cancelled", "E-3", "C-norate", "C-usd", "V-norange"] {
        assert!(
            result
                .groups
                .iter()
                .all(|group| group.lines.iter().all(|candidate| candidate.external_id.as_deref() != Some(line))),
            "{line} costs nothing"
        );
    }
    // The roll-up: Core 12,300 (own); Platform 16,280 own and 28,580 with Core; Engineering
    // holds both.
    let own = |team: &str| {
        let group = result.groups.iter().find(|group| group.external_id.as_deref() == Some(team)).unwrap();
        group.own.iter().map(ToString::to_string).collect::<Vec<_>>()
    };
    assert_eq!(
        (own("TEAM-core"), amounts(&result, "TEAM-core", None)),
        (vec!["12300.00".to_string()], vec!["12300.00".to_string()])
    );
    assert_eq!(
        (own("TEAM-plat"), amounts(&result, "TEAM-plat", None)),
        (vec!["16280.00".to_string()], vec!["28580.00".to_string()])
    );
    assert_eq!(
        (own("TEAM-eng"), amounts(&result, "TEAM-eng", None)),
        (vec!["0.00".to_string()], vec!["28580.00".to_string()])
    );
    assert_eq!(amounts(&result, "TEAM-ops", None), ["2340.00"]);
    assert_eq!(amounts(&result, "Unallocated", None), ["3300.00"]);
    let order: Vec<_> = result.groups.iter().map(|group| group.name.as_str()).collect();
    assert_eq!(order, ["Engineering", "Platform", "Core", "Operations", "Unallocated"], "parents before children");
    assert_eq!(result.total.iter().map(ToString::to_string).collect::<Vec<_>>(), ["34220.00"]);
    // Not costed, each with its reason and month.
    let mut missing: Vec<(String, String, Vec<String>)> = result
        .not_costed
        .iter()
        .map(|missing| {
            let months = missing.months.iter().map(ToString::to_string).collect();
            (missing.external_id.clone().unwrap_or_default(), missing.reason.clone(), months)
        })
        .collect();
    missing.sort();
    let march_only = || vec!["2026-03".to_string()];
    assert_eq!(
        missing,
        [
            ("C-norate".into(), "no rate".into(), march_only()),
            ("C-usd".into(), "no exchange rate USD→GBP".into(), march_only()),
            ("E-3".into(), "no salary".into(), march_only()),
            ("V-norange".into(), "no salary range".into(), march_only()),
        ]
    );

    // teamId (an externalId): Platform and Core only, and the total is Platform's.
    let platform = test.store.forecast(org, march, GroupBy::Team, Some("TEAM-plat"), Detail::Totals).unwrap();
    let names: Vec<_> = platform.groups.iter().map(|group| group.name.as_str()).collect();
    assert_eq!(names, ["Platform", "Core"]);
    assert_eq!(platform.total.iter().map(ToString::to_string).collect::<Vec<_>>(), ["28580.00"]);
    assert!(matches!(
        test.store.forecast(org, march, GroupBy::Team, Some("TEAM-nope"), Detail::Totals),
        Err(flowstate_store::StoreError::NotFound(_))
    ));

    // By project: Bob on Apollo; everyone else has no project allocation and costs in
    // `Unallocated` at FTE 1.0 (forecast.md "Unallocated"): the same as by team, except the
    // half-time monthly contractor, now at full time (4400, not 2200).
    let projects = test.store.forecast(org, march, GroupBy::Project, None, Detail::Lines).unwrap();
    let names: Vec<_> = projects.groups.iter().map(|group| group.name.as_str()).collect();
    assert_eq!(names, ["Apollo", "Unallocated"]);
    assert_eq!(amounts(&projects, "Apollo", None), ["2200.00"]);
    assert_eq!(amounts(&projects, "Unallocated", Some("E-1")), ["9360.00"], "7020 + 2340");
    assert_eq!(amounts(&projects, "Unallocated", Some("C-monthly")), ["4400.00"]);
    assert_eq!(projects.total.iter().map(ToString::to_string).collect::<Vec<_>>(), ["36420.00"], "34,220 + 2,200");
}

crate::on_both_backends!(
    position_lifecycle_costs_hand_over_and_come_back,
    a_fill_hands_the_cost_to_the_filler_and_back,
    the_cost_chain_from_synced_records
);
