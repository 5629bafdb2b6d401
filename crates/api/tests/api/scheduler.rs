use std::sync::Arc;

use chrono::{DateTime, Utc};
use flowstate_api::{runner::Runner, scheduler::tick, vault::Vault};
use flowstate_store::{OrgId, Store, integrations::NewHook};
use flowstate_sync::EntityType;

struct Setup {
    store: Arc<Store>,
    runner: Runner,
    org: OrgId,
    hook: String,
    _directory: tempfile::TempDir,
}

fn setup(timezone: &str, schedule: &str, preferred_hour: u8) -> Setup {
    let directory = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open_sqlite(&directory.path().join("flowstate.db")).unwrap());
    let org = store.create_org("Acme", timezone, "GBP").unwrap();
    let integration = store.create_integration(&org, "HR", None, "hr").unwrap();
    let hook = store
        .create_hook(
            &org,
            &integration.id,
            NewHook {
                name: "nightly".into(),
                hook_type: flowstate_store::kinds::HookType::Pull,
                entity_type: EntityType::Employee,
                event_types: Vec::new(),
                language: flowstate_store::kinds::Language::JavaScript,
                code: "async function run(ctx) { return { records: [] }; }".into(),
                schedule: Some(schedule.into()),
                preferred_hour: Some(preferred_hour),
                enabled: true,
                retry_policy: None,
            },
        )
        .unwrap();
    let runner =
        Runner::start(store.clone(), Vault::new([1; 32]), Default::default(), Default::default(), crate::engine)
            .unwrap();
    Setup { store, runner, org, hook: hook.id, _directory: directory }
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
}

impl Setup {
    /// Ticks at `now`; returns how many executions it started, after they finished.
    fn tick(&self, now: &str) -> usize {
        let report = tick(&self.store, &self.runner, at(now)).unwrap();
        for _ in 0..400 {
            if !self.store.has_unfinished_execution(&self.org, &self.hook).unwrap() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        report.started.len()
    }
}

/// A daily hook at 01:00 London time, driven across the spring DST change (29 March 2026,
/// when 01:00 local does not exist) and then after a week of downtime.
#[test]
fn a_daily_hook_runs_at_its_local_hour_across_dst_and_once_after_downtime() {
    let setup = setup("Europe/London", "24h", 1);
    let ticks = [
        ("2026-03-27T12:00:00Z", 0, "first sight: the schedule starts from here"),
        ("2026-03-28T00:59:00Z", 0, "before 01:00 GMT"),
        ("2026-03-28T01:00:00Z", 1, "01:00 GMT"),
        ("2026-03-28T01:05:00Z", 0, "the same slot again"),
        ("2026-03-29T00:30:00Z", 0, "the day of the change, 00:30 GMT"),
        ("2026-03-29T01:00:00Z", 1, "01:00 local is skipped by the clocks: 02:00 BST"),
        ("2026-03-29T23:30:00Z", 0, "00:30 BST"),
        ("2026-03-30T00:00:00Z", 1, "01:00 BST is 00:00 UTC"),
        ("2026-04-06T12:00:00Z", 1, "a week down: one run, not seven"),
        ("2026-04-06T13:00:00Z", 0, "and no more until the next slot"),
    ];
    for (now, expected, why) in ticks {
        assert_eq!(setup.tick(now), expected, "{now}: {why}");
    }
    let executions = setup.store.executions(&setup.org, &setup.hook).unwrap();
    assert_eq!(executions.len(), 4);
    assert!(executions.iter().all(|execution| execution.trigger == flowstate_store::kinds::Trigger::Schedule
        && execution.status == flowstate_store::kinds::ExecutionStatus::Succeeded));
}

/// Five executions in the last hour (any trigger): the next scheduled run is recorded as
/// skipped with the reason, and runs again once the hour has rolled on.
#[test]
fn a_scheduled_run_over_the_hourly_limit_is_recorded_as_skipped() {
    let setup = setup("UTC", "15m", 0);
    assert_eq!(setup.tick("2026-05-01T09:50:00Z"), 0, "first sight");
    for minute in [0, 5, 10, 15, 20] {
        let started = format!("2026-05-01T09:{minute:02}:00.000000Z");
        let mut execution = setup
            .store
            .start_execution_at(&setup.org, &setup.hook, flowstate_store::kinds::Trigger::Manual, &started)
            .unwrap();
        execution.status = flowstate_store::kinds::ExecutionStatus::Succeeded;
        setup.store.save_execution(&setup.org, &execution).unwrap();
    }
    assert_eq!(setup.tick("2026-05-01T10:00:00Z"), 0, "over the limit");
    let latest = setup.store.executions(&setup.org, &setup.hook).unwrap().remove(0);
    assert_eq!((latest.status.as_str(), latest.trigger.as_str()), ("skipped", "schedule"));
    assert!(latest.error.as_deref().unwrap_or_default().contains("5 executions per hour"), "{:?}", latest.error);
    assert_eq!(setup.tick("2026-05-01T10:30:00Z"), 1, "09:00-09:20 have left the rolling hour");
}
