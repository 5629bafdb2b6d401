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

crate::on_both_backends!(
    position_lifecycle_costs_hand_over_and_come_back,
    a_fill_hands_the_cost_to_the_filler_and_back
);
