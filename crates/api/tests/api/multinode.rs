//! Two servers on one PostgreSQL database, as two stores with their own connections and
//! runners: PostgreSQL is the only coordinator.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use flowstate_api::{runner::Runner, scheduler::tick, vault::Vault};
use flowstate_store::{OrgId, Store, integrations::NewHook};
use flowstate_sync::EntityType;

/// `FLOWSTATE_TEST_DATABASE_URL` with a schema of its own; `None` (said on the terminal)
/// when unset, and a failure under `CI`.
fn database() -> Option<String> {
    flowstate_test_support::postgres_schema("api_nodes")
}

fn node(url: &str, name: &str) -> (Arc<Store>, Runner) {
    node_with(url, name, None)
}

fn node_with(url: &str, name: &str, push: Option<flowstate_api::dispatcher::PushSettings>) -> (Arc<Store>, Runner) {
    let store = Arc::new(Store::open_postgres(url).unwrap());
    store.set_node_id(name);
    let settings = flowstate_api::runner::RunnerSettings { push, ..Default::default() };
    let runner =
        Runner::start(store.clone(), Vault::new([5; 32]), settings, Default::default(), crate::engine).unwrap();
    (store, runner)
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
}

fn wait_idle(store: &Store, org: &OrgId, hooks: &[String]) {
    for _ in 0..1000 {
        if hooks.iter().all(|hook| !store.has_unfinished_execution(org, hook).unwrap()) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("executions did not finish");
}

#[test]
fn two_servers_run_each_due_hook_once_and_take_over_a_dead_ones_work() {
    let Some(url) = database() else { return };
    let (a, runner_a) = node(&url, "node-a");
    let (b, runner_b) = node(&url, "node-b");
    let org = a.create_org("Acme", "UTC", "GBP").unwrap();
    let integration = a.create_integration(&org, "HR", None, "hr").unwrap();
    let hooks: Vec<String> = (0..20)
        .map(|n| {
            let new = NewHook {
                name: format!("hook {n}"),
                hook_type: flowstate_store::kinds::HookType::Pull,
                entity_type: EntityType::Employee,
                event_types: Vec::new(),
                language: flowstate_store::kinds::Language::JavaScript,
                code: "async function run(ctx) { return { records: [] }; }".into(),
                schedule: Some("15m".into()),
                preferred_hour: None,
                enabled: true,
                retry_policy: None,
            };
            a.create_hook(&org, &integration.id, new).unwrap().id
        })
        .collect();

    // Both see the hooks first at 10:05 (the schedule starts), then both tick at 10:15 at
    // the same moment: 20 hooks due, 20 runs between them.
    tick(&a, &runner_a, at("2026-05-01T10:05:00Z")).unwrap();
    tick(&b, &runner_b, at("2026-05-01T10:05:00Z")).unwrap();
    let (ticked_a, ticked_b) = std::thread::scope(|scope| {
        let on_a = scope.spawn(|| tick(&a, &runner_a, at("2026-05-01T10:15:00Z")).unwrap());
        let on_b = scope.spawn(|| tick(&b, &runner_b, at("2026-05-01T10:15:00Z")).unwrap());
        (on_a.join().unwrap(), on_b.join().unwrap())
    });
    assert_eq!(
        ticked_a.started.len() + ticked_b.started.len(),
        20,
        "each due hook exactly once: {ticked_a:?} {ticked_b:?}"
    );
    wait_idle(&a, &org, &hooks);
    for hook in &hooks {
        assert_eq!(a.executions(&org, hook).unwrap().len(), 1, "{hook}");
    }

    // Node A starts a run and dies before finishing it. Its lease passes; at the next slot
    // node B fails the cut-off run as interrupted and runs the hook itself.
    let hook = &hooks[0];
    let stranded = a
        .start_execution_at(&org, hook, flowstate_store::kinds::Trigger::Schedule, "2026-05-01T10:20:00.000000Z")
        .unwrap();
    drop((a, runner_a));
    let later = "2026-05-01T10:30:00.000000Z";
    assert!(b.fail_interrupted_executions_at(later, false).unwrap() >= 1);
    let ticked = tick(&b, &runner_b, at(later)).unwrap();
    assert!(ticked.started.contains(hook), "{ticked:?}");
    wait_idle(&b, &org, &hooks);
    let executions = b.executions(&org, hook).unwrap();
    let cut_off = executions.iter().find(|execution| execution.id == stranded.id).unwrap();
    assert_eq!((cut_off.status.as_str(), cut_off.error.as_deref()), ("failed", Some("interrupted")));
    assert_eq!(executions[0].status, flowstate_store::kinds::ExecutionStatus::Succeeded, "the next run, on node B");
}

/// Two servers dispatching PUSH on one database: each change is delivered once, by the server
/// holding the hook's lease.
#[test]
fn two_servers_deliver_each_push_event_once() {
    let Some(url) = database() else { return };
    let fast = Some(flowstate_api::dispatcher::PushSettings {
        poll: std::time::Duration::from_millis(20),
        ..Default::default()
    });
    let (a, _runner_a) = node_with(&url, "node-a", fast);
    let (b, _runner_b) = node_with(&url, "node-b", fast);
    let org = a.create_org("Acme", "UTC", "GBP").unwrap();
    let integration = a.create_integration(&org, "Out", None, "out").unwrap();
    let hook = a
        .create_hook(
            &org,
            &integration.id,
            NewHook {
                name: "log".into(),
                hook_type: flowstate_store::kinds::HookType::Push,
                entity_type: EntityType::Employee,
                event_types: Vec::new(),
                language: flowstate_store::kinds::Language::JavaScript,
                code: "async function run(ctx) { ctx.log.info('delivered', { id: ctx.event.id }); }".into(),
                schedule: None,
                preferred_hour: None,
                enabled: true,
                retry_policy: None,
            },
        )
        .unwrap()
        .id;
    for n in 0..20 {
        let data =
            serde_json::json!({ "firstName": "A", "lastName": format!("L{n}"), "email": format!("a{n}@example.com") });
        let record = flowstate_store::IncomingRecord {
            external_id: format!("EMP-{n}"),
            data: data.as_object().unwrap().clone(),
        };
        // Changes written on both servers.
        let writer = if n % 2 == 0 { &a } else { &b };
        writer.apply_page(&org, "hr", EntityType::Employee, &[record]).unwrap();
    }
    for _ in 0..500 {
        let executions = a.executions(&org, &hook).unwrap();
        if executions.len() >= 20
            && executions.iter().all(|execution| execution.status != flowstate_store::kinds::ExecutionStatus::Running)
        {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(300)); // a duplicate would show by now
    let executions = a.executions(&org, &hook).unwrap();
    let mut events: Vec<String> = executions.iter().filter_map(|execution| execution.event_id.clone()).collect();
    events.sort();
    let delivered = events.len();
    events.dedup();
    assert_eq!((delivered, events.len()), (20, 20), "each of 20 events delivered exactly once");
    assert!(executions.iter().all(|execution| execution.status == flowstate_store::kinds::ExecutionStatus::Succeeded));
}
