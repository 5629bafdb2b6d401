use chrono::NaiveDate;
use flowstate_sync::nested::{Allocation, NestedCounts, NestedRow, StoredRow, diff};

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

fn allocation(team: &str, fte: f64, start: &str, end: Option<&str>) -> NestedRow {
    NestedRow::Allocation(Allocation {
        target_external_id: team.into(),
        target_name: None,
        fte,
        start_date: date(start),
        end_date: end.map(date),
    })
}

fn stored(rows: &[(u32, NestedRow)]) -> Vec<StoredRow<u32>> {
    rows.iter().map(|(id, row)| StoredRow { id: *id, row: row.clone() }).collect()
}

/// One case: stored rows, incoming rows, the day of the sync, and the expected
/// (created targets, updated ids, unchanged ids, deleted ids, ended (id, date), counts).
#[allow(clippy::type_complexity)]
fn check(
    before: &[(u32, NestedRow)],
    incoming: &[NestedRow],
    today: &str,
    expect: (Vec<&str>, Vec<u32>, Vec<u32>, Vec<u32>, Vec<(u32, &str)>),
    counts: NestedCounts,
) {
    let plan = diff(&stored(before), incoming, date(today));
    let created: Vec<String> = plan.create.iter().map(|row| row.identity().0).collect();
    assert_eq!(created, expect.0, "created");
    assert_eq!(plan.update.iter().map(|(id, _)| *id).collect::<Vec<_>>(), expect.1, "updated");
    assert_eq!(plan.unchanged, expect.2, "unchanged");
    assert_eq!(plan.delete, expect.3, "deleted");
    let ended: Vec<(u32, NaiveDate)> = expect.4.iter().map(|(id, day)| (*id, date(day))).collect();
    assert_eq!(plan.end, ended, "ended");
    assert_eq!(plan.counts(), counts);
}

fn counts(created: usize, updated: usize, deleted: usize, unchanged: usize) -> NestedCounts {
    NestedCounts { created, updated, deleted, unchanged }
}

#[test]
fn first_sync_creates_and_a_rerun_is_unchanged() {
    let platform = allocation("TEAM-platform", 1.0, "2026-03-01", None);
    check(
        &[],
        std::slice::from_ref(&platform),
        "2026-02-01",
        (vec!["TEAM-platform"], vec![], vec![], vec![], vec![]),
        counts(1, 0, 0, 0),
    );
    check(
        &[(1, platform.clone())],
        &[platform],
        "2026-02-01",
        (vec![], vec![], vec![1], vec![], vec![]),
        counts(0, 0, 0, 1),
    );
}

#[test]
fn a_changed_fte_or_end_is_an_update_of_the_same_row() {
    let before = [(1, allocation("T", 1.0, "2026-01-01", None))];
    check(
        &before,
        &[allocation("T", 0.5, "2026-01-01", None)],
        "2026-02-01",
        (vec![], vec![1], vec![], vec![], vec![]),
        counts(0, 1, 0, 0),
    );
    check(
        &before,
        &[allocation("T", 1.0, "2026-01-01", Some("2026-06-30"))],
        "2026-02-01",
        (vec![], vec![1], vec![], vec![], vec![]),
        counts(0, 1, 0, 0),
    );
}

#[test]
fn moving_teams_ends_the_started_orphan_before_the_new_start() {
    // Lifecycle example 3: the position moves from platform to growth on 2026-06-01.
    let before = [(1, allocation("TEAM-platform", 1.0, "2026-03-01", None))];
    let incoming = [allocation("TEAM-growth", 1.0, "2026-06-01", None)];
    check(
        &before,
        &incoming,
        "2026-05-15",
        (vec!["TEAM-growth"], vec![], vec![], vec![], vec![(1, "2026-05-31")]),
        counts(1, 0, 1, 0),
    );
}

#[test]
fn an_orphan_is_ended_the_day_before_the_sync_when_the_new_start_is_not_after_it() {
    let before = [(1, allocation("A", 1.0, "2026-03-01", None))];
    let incoming = [allocation("B", 1.0, "2026-01-01", None)];
    check(
        &before,
        &incoming,
        "2026-05-15",
        (vec!["B"], vec![], vec![], vec![], vec![(1, "2026-05-14")]),
        counts(1, 0, 1, 0),
    );
}

#[test]
fn an_orphan_that_has_not_started_is_deleted() {
    let before = [(1, allocation("A", 1.0, "2026-09-01", None)), (2, allocation("A", 1.0, "2026-05-15", None))];
    let incoming = [allocation("B", 1.0, "2026-10-01", None)];
    check(&before, &incoming, "2026-05-15", (vec!["B"], vec![], vec![], vec![1, 2], vec![]), counts(1, 0, 2, 0));
}

#[test]
fn an_orphan_already_over_is_left_alone_and_never_extended() {
    let before = [
        (1, allocation("A", 1.0, "2026-01-01", Some("2026-02-28"))),
        (2, allocation("C", 1.0, "2026-01-01", Some("2026-12-31"))),
    ];
    let incoming = [allocation("B", 1.0, "2026-06-01", None)];
    check(
        &before,
        &incoming,
        "2026-05-15",
        (vec!["B"], vec![], vec![1], vec![], vec![(2, "2026-05-31")]),
        counts(1, 0, 1, 1),
    );
}

#[test]
fn an_empty_list_deletes_every_row_this_source_owns() {
    let before = [(1, allocation("A", 1.0, "2026-01-01", None)), (2, allocation("B", 0.5, "2027-01-01", None))];
    check(&before, &[], "2026-05-15", (vec![], vec![], vec![], vec![1, 2], vec![]), counts(0, 0, 2, 0));
}
