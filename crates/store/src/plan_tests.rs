//! The planner on its own, data-driven: each case is a series of pages planned into one
//! in-memory world (no database), and what each page should come to: its counts and the
//! errors it reports, by externalId and field.

use std::collections::HashMap;

use chrono::NaiveDate;
use flowstate_sync::{EntityType, Fingerprint, parse_record};
use serde_json::{Value, json};

use super::{Page, Prepared, Writer, plan_page};
use crate::{
    IncomingRecord, PageOutcome,
    world::{SyncStateRow, World},
};

/// One page: who writes it, of what, and its records.
struct Step {
    source: &'static str,
    entity: EntityType,
    records: Vec<(&'static str, Value)>,
    /// (created, updated, unchanged, deleted).
    counts: (usize, usize, usize, usize),
    /// (externalId, field, a part of the message).
    errors: Vec<(&'static str, &'static str, &'static str)>,
}

fn step(source: &'static str, entity: EntityType, records: Vec<(&'static str, Value)>) -> Step {
    Step { source, entity, records, counts: (0, 0, 0, 0), errors: Vec::new() }
}

impl Step {
    fn counts(mut self, created: usize, updated: usize, unchanged: usize, deleted: usize) -> Step {
        self.counts = (created, updated, unchanged, deleted);
        self
    }

    fn error(mut self, external_id: &'static str, field: &'static str, message: &'static str) -> Step {
        self.errors.push((external_id, field, message));
        self
    }
}

fn plan(world: &mut World, step: &Step) -> PageOutcome {
    let page = Page {
        org: "org_1",
        writer: Writer::Sync(step.source),
        entity: step.entity,
        today: NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
        now: "2026-06-01T00:00:00.000000Z".into(),
        definitions: Vec::new(),
    };
    let records: Vec<IncomingRecord> = step
        .records
        .iter()
        .map(|(external_id, data)| IncomingRecord {
            external_id: external_id.to_string(),
            data: data.as_object().expect("data is an object").clone(),
        })
        .collect();
    // What the loader does: parse each record (a stored fingerprint is the planner's own
    // business, in the world).
    let prepared = records
        .iter()
        .map(|record| match parse_record(step.entity, &record.external_id, &record.data, &page.definitions) {
            Ok(parsed) => Prepared::Parsed(Box::new(parsed), Fingerprint::of(&record.data)),
            Err(errors) => Prepared::Invalid(errors),
        })
        .collect();
    plan_page(world, &page, &records, prepared, None)
}

fn check(name: &str, steps: Vec<Step>) {
    let mut world = World::default();
    // Each source's sync states per entity type, as the loader would read them.
    let mut states: HashMap<(&str, EntityType), HashMap<String, SyncStateRow>> = HashMap::new();
    for (index, step) in steps.iter().enumerate() {
        world.swap_sync_states(states.remove(&(step.source, step.entity)).unwrap_or_default());
        let outcome = plan(&mut world, step);
        states.insert((step.source, step.entity), world.swap_sync_states(HashMap::new()));
        let counts = (outcome.created, outcome.updated, outcome.unchanged, outcome.deleted);
        assert_eq!(counts, step.counts, "{name}, page {index}: (created, updated, unchanged, deleted); {outcome:?}");
        assert_eq!(outcome.errors.len(), step.errors.len(), "{name}, page {index}: {:?}", outcome.errors);
        for ((external_id, field, message), error) in step.errors.iter().zip(&outcome.errors) {
            assert_eq!(error.external_id, *external_id, "{name}, page {index}: {error:?}");
            assert_eq!(error.field.as_deref(), Some(*field), "{name}, page {index}: {error:?}");
            assert!(error.message.contains(message), "{name}, page {index}: {:?} lacks {message:?}", error.message);
        }
    }
}

fn ada() -> Value {
    json!({ "firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com" })
}

#[test]
fn the_planner_applies_the_sync_rules() {
    use EntityType::*;
    let cases: Vec<(&str, Vec<Step>)> = vec![
        (
            "a new record creates, the same again is unchanged, a changed one updates",
            vec![
                step("hr", Employee, vec![("E-1", ada())]).counts(1, 0, 0, 0),
                step("hr", Employee, vec![("E-1", ada())]).counts(0, 0, 1, 0),
                step(
                    "hr",
                    Employee,
                    vec![("E-1", json!({ "firstName": "Ada", "lastName": "King", "email": "ada@example.com" }))],
                )
                .counts(0, 1, 0, 0),
            ],
        ),
        (
            "the same record twice in one page: the second is a re-run",
            vec![step("hr", Employee, vec![("E-1", ada()), ("E-1", ada())]).counts(1, 0, 1, 0)],
        ),
        (
            "a bad record is reported by field, and the records around it still apply",
            vec![
                step(
                    "hr",
                    Employee,
                    vec![
                        ("E-1", ada()),
                        ("E-2", json!({ "firstName": "Bad", "lastName": "Mail", "email": "not-an-email" })),
                        ("E-3", json!({ "firstName": "Grace", "lastName": "Hopper", "email": "grace@example.com" })),
                    ],
                )
                .counts(2, 0, 0, 0)
                .error("E-2", "email", "must be an email address"),
            ],
        ),
        (
            "deletedAt deletes; deleting what does not exist is a no-op",
            vec![
                step("hr", Employee, vec![("E-1", ada())]).counts(1, 0, 0, 0),
                step("hr", Employee, vec![("E-1", json!({ "deletedAt": "2026-05-31" }))]).counts(0, 0, 0, 1),
                step("hr", Employee, vec![("E-9", json!({ "deletedAt": "2026-05-31" }))]).counts(0, 0, 1, 0),
            ],
        ),
        (
            "another source's record is adopted by externalId, not created twice",
            vec![
                step("payroll", Employee, vec![("E-1", ada())]).counts(1, 0, 0, 0),
                step(
                    "hr",
                    Employee,
                    vec![("E-1", json!({ "firstName": "Ada", "lastName": "King", "email": "ada@example.com" }))],
                )
                .counts(0, 1, 0, 0),
            ],
        ),
        (
            "a second employee with a taken email is refused",
            vec![
                step("hr", Employee, vec![("E-1", ada())]).counts(1, 0, 0, 0),
                step("hr", Employee, vec![("E-2", ada())]).error("E-2", "email", "ada@example.com"),
            ],
        ),
        (
            "a team tree may not have a cycle",
            vec![
                step(
                    "hr",
                    Team,
                    vec![("T-1", json!({ "name": "Top" })), ("T-2", json!({ "name": "Child", "parentTeamExternalId": "T-1" }))],
                )
                .counts(2, 0, 0, 0),
                step("hr", Team, vec![("T-1", json!({ "name": "Top", "parentTeamExternalId": "T-2" }))])
                    .error("T-1", "parentTeamExternalId", "cycle"),
            ],
        ),
        (
            "a fill names an employee or a contractor; nobody is an error containing \"not found\"",
            vec![
                step("hr", Employee, vec![("E-1", ada())]).counts(1, 0, 0, 0),
                step(
                    "hr",
                    Vacancy,
                    vec![
                        ("V-1", json!({ "role": "Engineer", "filledByExternalId": "E-1" })),
                        ("V-2", json!({ "role": "Engineer", "filledBy": { "externalId": "E-404" } })),
                    ],
                )
                .counts(1, 0, 0, 0)
                .error("V-2", "filledBy", "not found"),
            ],
        ),
        (
            "a fill that matches an employee and a contractor is ambiguous",
            vec![
                step("hr", Employee, vec![("P-1", ada())]).counts(1, 0, 0, 0),
                step("hr", Contractor, vec![("P-1", json!({ "name": "Ada Ltd" }))]).counts(1, 0, 0, 0),
                step("hr", Vacancy, vec![("V-1", json!({ "role": "Engineer", "filledByExternalId": "P-1" }))])
                    .error("V-1", "filledByExternalId", "ambiguous"),
            ],
        ),
        (
            "rules between fields: an end before its start, salaryMin above salaryMax",
            vec![
                step(
                    "hr",
                    Employee,
                    vec![(
                        "E-1",
                        json!({ "firstName": "Ada", "lastName": "L", "email": "ada@example.com", "startDate": "2026-02-01", "endDate": "2026-01-01" }),
                    )],
                )
                .error("E-1", "endDate", "is before startDate"),
                step("hr", Vacancy, vec![("V-1", json!({ "role": "Engineer", "salaryMin": 90000, "salaryMax": 80000 }))])
                    .error("V-1", "salaryMax", "less than salaryMin"),
            ],
        ),
        (
            "an assignment names its resource and target; an unknown one is an error",
            vec![
                step("hr", Team, vec![("T-1", json!({ "name": "Platform" }))]).counts(1, 0, 0, 0),
                step("hr", Project, vec![("P-1", json!({ "name": "Apollo" }))]).counts(1, 0, 0, 0),
                step(
                    "hr",
                    Assignment,
                    vec![
                        (
                            "A-1",
                            json!({ "resourceType": "team", "resourceExternalId": "T-1", "targetType": "project", "targetExternalId": "P-1", "fte": 1, "startDate": "2026-01-01" }),
                        ),
                        (
                            "A-2",
                            json!({ "resourceType": "team", "resourceExternalId": "T-404", "targetType": "project", "targetExternalId": "P-1", "fte": 1, "startDate": "2026-01-01" }),
                        ),
                    ],
                )
                .counts(1, 0, 0, 0)
                .error("A-2", "resourceExternalId", "not found"),
            ],
        ),
    ];
    for (name, steps) in cases {
        check(name, steps);
    }
}
