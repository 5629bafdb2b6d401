use flowstate_store::integrations::{HookUpdate, KvQuota, NewHook, RetryPolicy, SealedSecret};
use flowstate_sync::EntityType;

use crate::helpers::TestStore;

fn new_hook(hook_type: &str, schedule: Option<&str>) -> NewHook {
    NewHook {
        name: "h".into(),
        hook_type: hook_type.parse().unwrap(),
        entity_type: EntityType::Employee,
        event_types: vec![flowstate_store::kinds::ChangeType::Create],
        language: flowstate_store::kinds::Language::JavaScript,
        code: "async function run(ctx) {}".into(),
        schedule: schedule.map(str::to_string),
        preferred_hour: Some(2),
        enabled: true,
        retry_policy: None,
    }
}

fn sealed(name: &str, ciphertext: &str) -> SealedSecret {
    SealedSecret {
        name: name.into(),
        nonce: "00".repeat(12),
        ciphertext: ciphertext.into(),
        updated_at: "2026-01-01T00:00:00Z".into(),
    }
}

/// The server's records: integrations (sourceSystem unique per organisation), hooks,
/// sealed secrets, executions with their retention, schedule slots and PUSH cursors claimed
/// by compare-and-set — all scoped to their organisation.
fn integrations_hooks_secrets_and_executions_are_kept_per_organisation(test: TestStore) {
    let store = &test.store;
    let integration = store.create_integration(&test.org, "HR", Some("the HR system"), "hr").unwrap();
    let error = store.create_integration(&test.org, "HR again", None, "hr").unwrap_err().to_string();
    assert!(error.contains(r#"sourceSystem "hr" exists"#), "{error}");
    let other = store.create_org("Other", "UTC", "USD").unwrap();
    assert!(store.create_integration(&other, "HR", None, "hr").is_ok(), "another organisation may use the key");
    assert_eq!(store.integration(&other, &integration.id).unwrap(), None);

    let pull = store.create_hook(&test.org, &integration.id, new_hook("PULL", Some("6h"))).unwrap();
    let bad = store.create_hook(&test.org, &integration.id, new_hook("PULL", Some("2h"))).unwrap_err().to_string();
    assert!(bad.contains("schedule must be one of"), "{bad}");
    assert!(
        store.create_hook(&other, &integration.id, new_hook("PULL", None)).is_err(),
        "not another organisation's integration"
    );
    assert_eq!(store.hook(&test.org, &pull.id).unwrap().as_ref(), Some(&pull));
    assert_eq!(store.hook(&other, &pull.id).unwrap(), None);

    store.put_secret(&test.org, &integration.id, &sealed("api_key", "aa")).unwrap();
    store.put_secret(&test.org, &integration.id, &sealed("api_key", "bb")).unwrap();
    let secrets = store.secrets(&test.org, &integration.id).unwrap();
    assert_eq!((secrets.len(), secrets[0].ciphertext.as_str()), (1, "bb"), "replaced, not added");
    assert!(store.secrets(&other, &integration.id).is_err());
    assert!(!store.delete_secret(&test.org, &integration.id, "nope").unwrap());
    assert!(store.delete_secret(&test.org, &integration.id, "api_key").unwrap());

    // Schedule slots: compare-and-set.
    let scheduled = store.scheduled_hooks().unwrap();
    assert!(scheduled.iter().any(|entry| entry.hook.id == pull.id && entry.timezone == "Europe/London"));
    assert!(store.claim_slot(&test.org, &pull.id, None, "2026-01-01T02:00:00.000000Z").unwrap());
    assert!(!store.claim_slot(&test.org, &pull.id, None, "2026-01-01T02:00:00.000000Z").unwrap(), "claimed once");
    assert!(
        store
            .claim_slot(&test.org, &pull.id, Some("2026-01-01T02:00:00.000000Z"), "2026-01-01T08:00:00.000000Z")
            .unwrap()
    );
    assert!(
        !store.claim_slot(&other, &pull.id, Some("2026-01-01T08:00:00.000000Z"), "x").unwrap(),
        "not from another organisation"
    );

    // PUSH cursors start at the newest event and move by compare-and-set.
    test.apply(
        EntityType::Employee,
        &[("emp-1", serde_json::json!({ "firstName": "A", "lastName": "B", "email": "a@example.com" }))],
    );
    let push = store.create_hook(&test.org, &integration.id, new_hook("PUSH", None)).unwrap();
    let start = store.push_cursor(&test.org, &push.id).unwrap().expect("a PUSH hook's cursor starts on creation");
    assert_eq!(start, store.change_events(&test.org, 0).unwrap().last().unwrap().seq);
    assert!(store.advance_push_cursor(&test.org, &push.id, start, start + 1).unwrap());
    assert!(!store.advance_push_cursor(&test.org, &push.id, start, start + 2).unwrap(), "moved once");
    assert_eq!(store.push_hooks().unwrap().iter().filter(|(_, hook)| hook.id == push.id).count(), 1);

    // Executions, their limit window and their retention.
    let old = store
        .start_execution_at(
            &test.org,
            &pull.id,
            flowstate_store::kinds::Trigger::Schedule,
            "2026-01-01T00:00:00.000000Z",
        )
        .unwrap();
    let mut done = old.clone();
    done.status = flowstate_store::kinds::ExecutionStatus::Succeeded;
    store.save_execution(&test.org, &done).unwrap();
    let running = store
        .start_execution_at(&test.org, &pull.id, flowstate_store::kinds::Trigger::Manual, "2026-01-01T00:30:00.000000Z")
        .unwrap();
    assert!(store.has_running_execution(&test.org, &pull.id).unwrap());
    let second = store
        .start_execution_at(&test.org, &pull.id, flowstate_store::kinds::Trigger::Manual, "2026-01-01T00:31:00.000000Z")
        .unwrap_err();
    assert!(matches!(second, flowstate_store::StoreError::Conflict(_)), "one running execution per hook: {second}");
    store
        .record_skipped_execution(
            &test.org,
            &pull.id,
            flowstate_store::kinds::Trigger::Schedule,
            "2026-01-01T00:40:00.000000Z",
            "busy",
        )
        .unwrap();
    assert_eq!(
        store.executions_since(&test.org, &pull.id, "2026-01-01T00:00:00.000000Z").unwrap(),
        2,
        "skipped ones do not count"
    );
    assert_eq!(store.execution(&other, &running.id).unwrap(), None);
    assert_eq!(
        store.prune_executions("2026-01-01T00:35:00.000000Z").unwrap(),
        1,
        "the finished old one; never a running one"
    );
    let left: Vec<String> = store
        .executions(&test.org, &pull.id)
        .unwrap()
        .into_iter()
        .map(|execution| execution.status.to_string())
        .collect();
    assert_eq!(left, ["skipped", "running"]);
    let (page, total) = store.executions_page(&test.org, &pull.id, Default::default(), 2, 1).unwrap();
    assert_eq!((page.len(), page[0].status.as_str(), total), (1, "running", 2), "paged in SQL, newest first");
    assert!(store.executions_page(&test.org, &pull.id, Default::default(), 3, 1).unwrap().0.is_empty());
    use flowstate_store::{
        integrations::ExecutionFilter,
        kinds::{ExecutionStatus, Trigger},
    };
    let statuses = |filter: ExecutionFilter| {
        let (page, total) = store.executions_page(&test.org, &pull.id, filter, 1, 10).unwrap();
        (page.into_iter().map(|execution| execution.status.to_string()).collect::<Vec<_>>(), total)
    };
    let skipped = ExecutionFilter { status: Some(ExecutionStatus::Skipped), trigger: None };
    assert_eq!(statuses(skipped), (vec!["skipped".to_string()], 1), "by status, the total too");
    let scheduled = ExecutionFilter { status: None, trigger: Some(Trigger::Schedule) };
    assert_eq!(statuses(scheduled), (vec!["skipped".to_string()], 1), "by trigger");
    let manual = ExecutionFilter { status: None, trigger: Some(Trigger::Manual) };
    assert_eq!(statuses(manual), (vec!["running".to_string()], 1));
    let none = ExecutionFilter { status: Some(ExecutionStatus::Skipped), trigger: Some(Trigger::Manual) };
    assert_eq!(statuses(none), (vec![], 0), "both at once");
    // Its lease runs two minutes from its start (00:30).
    let inside_lease = "2026-01-01T00:31:00.000000Z";
    assert_eq!(store.fail_interrupted_executions_at(inside_lease, false).unwrap(), 0, "alive: another node may run it");
    assert_eq!(
        store.fail_interrupted_executions_at(inside_lease, true).unwrap(),
        1,
        "this node restarted: its runs are over"
    );
    assert_eq!(store.execution(&test.org, &running.id).unwrap().unwrap().error.as_deref(), Some("interrupted"));
    let other_node = store
        .start_execution_at(&test.org, &pull.id, flowstate_store::kinds::Trigger::Manual, "2026-01-01T01:00:00.000000Z")
        .unwrap();
    assert_eq!(store.fail_interrupted_executions_at("2026-01-01T01:01:59.000000Z", false).unwrap(), 0);
    assert_eq!(
        store.fail_interrupted_executions_at("2026-01-01T01:02:01.000000Z", false).unwrap(),
        1,
        "its lease passed"
    );
    assert_eq!(
        store.execution(&test.org, &other_node.id).unwrap().unwrap().status,
        flowstate_store::kinds::ExecutionStatus::Failed
    );
}

/// Hooks change field by field (type and entity fixed, every rule checked again), PUSH hooks
/// carry a retry policy, and deleting takes the hook's executions along — never while one
/// runs, never another organisation's.
fn hooks_and_integrations_update_and_delete(test: TestStore) {
    let store = &test.store;
    let integration = store.create_integration(&test.org, "HR", None, "hr").unwrap();
    let pull = store.create_hook(&test.org, &integration.id, new_hook("PULL", Some("6h"))).unwrap();
    let push = store.create_hook(&test.org, &integration.id, new_hook("PUSH", None)).unwrap();
    assert_eq!(pull.retry_policy, None, "PULL hooks have no retry policy");
    assert_eq!(push.retry_policy, Some(RetryPolicy { max_attempts: 3 }), "the default policy");
    let refused = NewHook { retry_policy: Some(RetryPolicy { max_attempts: 2 }), ..new_hook("PULL", None) };
    let error = store.create_hook(&test.org, &integration.id, refused).unwrap_err().to_string();
    assert!(error.contains("retryPolicy applies to PUSH hooks only"), "{error}");

    let update = HookUpdate {
        enabled: Some(false),
        schedule: Some(None),
        preferred_hour: Some(Some(5)),
        ..HookUpdate::default()
    };
    let updated = store.update_hook(&test.org, &pull.id, update).unwrap();
    assert_eq!((updated.enabled, updated.schedule, updated.preferred_hour), (false, None, Some(5)));
    assert_eq!((updated.name, updated.code), (pull.name.clone(), pull.code.clone()), "absent fields stay");
    assert!(updated.updated_at > pull.updated_at);
    assert_eq!(store.hook(&test.org, &pull.id).unwrap().map(|hook| hook.enabled), Some(false), "stored");
    assert!(
        !store.scheduled_hooks().unwrap().iter().any(|entry| entry.hook.id == pull.id),
        "a disabled hook is not scheduled"
    );
    let bad = HookUpdate { schedule: Some(Some("2h".into())), ..HookUpdate::default() };
    assert!(store.update_hook(&test.org, &pull.id, bad).unwrap_err().to_string().contains("schedule must be one of"));
    let policy = HookUpdate { retry_policy: Some(RetryPolicy { max_attempts: 11 }), ..HookUpdate::default() };
    let error = store.update_hook(&test.org, &push.id, policy).unwrap_err().to_string();
    assert!(error.contains("maxAttempts must be 1 to 10, got 11"), "{error}");
    let policy = HookUpdate { retry_policy: Some(RetryPolicy { max_attempts: 1 }), ..HookUpdate::default() };
    assert_eq!(
        store.update_hook(&test.org, &push.id, policy).unwrap().retry_policy,
        Some(RetryPolicy { max_attempts: 1 })
    );

    let other = store.create_org("Other", "UTC", "USD").unwrap();
    assert!(matches!(
        store.update_hook(&other, &pull.id, HookUpdate::default()),
        Err(flowstate_store::StoreError::NotFound(_))
    ));
    assert!(!store.delete_hook(&other, &pull.id).unwrap(), "not another organisation's hook");

    let running = store.start_execution(&test.org, &pull.id, flowstate_store::kinds::Trigger::Manual).unwrap();
    assert!(matches!(store.delete_hook(&test.org, &pull.id), Err(flowstate_store::StoreError::Conflict(_))));
    assert!(matches!(
        store.delete_integration(&test.org, &integration.id),
        Err(flowstate_store::StoreError::Conflict(_))
    ));
    let finished = flowstate_store::integrations::Execution {
        status: flowstate_store::kinds::ExecutionStatus::Succeeded,
        ..running.clone()
    };
    store.save_execution(&test.org, &finished).unwrap();
    assert!(store.delete_hook(&test.org, &pull.id).unwrap());
    assert_eq!(store.hook(&test.org, &pull.id).unwrap(), None);
    assert_eq!(store.execution(&test.org, &running.id).unwrap(), None, "executions go with their hook");
    assert!(!store.delete_hook(&test.org, &pull.id).unwrap(), "already gone");

    let renamed = store.update_integration(&test.org, &integration.id, Some("Workday"), Some(Some("HR"))).unwrap();
    assert_eq!((renamed.name.as_str(), renamed.description.as_deref()), ("Workday", Some("HR")));
    assert_eq!(renamed.source_system, "hr");
    assert!(store.update_integration(&test.org, &integration.id, Some(" "), None).is_err());
    assert!(!store.delete_integration(&other, &integration.id).unwrap());
    assert!(store.delete_integration(&test.org, &integration.id).unwrap());
    assert_eq!(store.hook(&test.org, &push.id).unwrap(), None, "hooks go with their integration");
    assert!(store.create_integration(&test.org, "HR", None, "hr").is_ok(), "the key is free again");
}

/// `ctx.kv` on the server: per hook, expiring, pruned, gone with the hook, never another
/// organisation's.
fn hook_kv_values_expire_and_stay_with_their_hook(test: TestStore) {
    let store = &test.store;
    let integration = store.create_integration(&test.org, "HR", None, "hr").unwrap();
    let hook = store.create_hook(&test.org, &integration.id, new_hook("PULL", None)).unwrap();
    let other_hook = store.create_hook(&test.org, &integration.id, new_hook("PULL", None)).unwrap();
    let (now, later, much_later) =
        ("2026-01-01T00:00:00.000000Z", "2026-01-02T00:00:00.000000Z", "2026-02-01T00:00:00.000000Z");
    store.kv_set(&test.org, &hook.id, "cursor", "abc", later, now, KvQuota::default()).unwrap();
    store.kv_set(&test.org, &hook.id, "cursor", "def", much_later, now, KvQuota::default()).unwrap();
    store.kv_set(&test.org, &hook.id, "short", "x", later, now, KvQuota::default()).unwrap();
    assert_eq!(store.kv_get(&test.org, &hook.id, "cursor", now).unwrap().as_deref(), Some("def"), "replaced");
    assert_eq!(store.kv_get(&test.org, &other_hook.id, "cursor", now).unwrap(), None, "per hook");
    assert_eq!(store.kv_get(&test.org, &hook.id, "short", later).unwrap(), None, "expired at its time");
    let other = store.create_org("Other", "UTC", "USD").unwrap();
    assert_eq!(store.kv_get(&other, &hook.id, "cursor", now).unwrap(), None);
    assert!(matches!(
        store.kv_set(&other, &hook.id, "cursor", "evil", much_later, now, KvQuota::default()),
        Err(flowstate_store::StoreError::NotFound(_))
    ));
    assert_eq!(store.kv_get(&test.org, &hook.id, "cursor", now).unwrap().as_deref(), Some("def"));
    assert_eq!(store.prune_kv(later).unwrap(), 1, "only the expired value");
    assert!(store.delete_hook(&test.org, &hook.id).unwrap());
    assert_eq!(store.kv_get(&test.org, &hook.id, "cursor", now).unwrap(), None, "gone with the hook");
}

/// Issue 10: a hook's `ctx.kv` is held to a quota of keys and bytes. A set over it is
/// refused naming the limit and keeps everything stored; replacing a value counts it once;
/// expired values do not count.
fn hook_kv_holds_a_hook_to_its_quota(test: TestStore) {
    let store = &test.store;
    let integration = store.create_integration(&test.org, "HR", None, "hr").unwrap();
    let hook = store.create_hook(&test.org, &integration.id, new_hook("PULL", None)).unwrap();
    // Years after the other kv test's times: its prune of every organisation leaves these.
    let (now, soon, later) =
        ("2030-01-01T00:00:00.000000Z", "2030-01-01T00:01:00.000000Z", "2030-02-01T00:00:00.000000Z");
    let quota = KvQuota { max_keys: 3, max_bytes: 10 };
    let set = |key: &str, value: &str, expires: &str, at: &str| {
        store.kv_set(&test.org, &hook.id, key, value, expires, at, quota)
    };
    set("a", "1234", later, now).unwrap();
    set("b", "12", later, now).unwrap();
    set("c", "1", soon, now).unwrap();
    let refused = set("d", "1", later, now).unwrap_err();
    assert!(matches!(refused, flowstate_store::StoreError::Quota(_)), "{refused:?}");
    assert!(refused.to_string().starts_with("kv quota exceeded: at most 3 keys"), "{refused}");
    set("a", "123456", later, now).unwrap(); // replaced: still 3 keys, 9 bytes
    let refused = set("b", "1234", later, now).unwrap_err(); // 6 + 4 + 1 bytes
    assert!(refused.to_string().contains("at most 10 bytes"), "{refused}");
    for (key, value) in [("a", "123456"), ("b", "12"), ("c", "1")] {
        assert_eq!(store.kv_get(&test.org, &hook.id, key, now).unwrap().as_deref(), Some(value), "{key} kept");
    }
    // Once `c` has expired it no longer counts.
    let after = "2030-01-01T00:02:00.000000Z";
    set("d", "1", later, after).unwrap();
    assert_eq!(store.kv_get(&test.org, &hook.id, "d", after).unwrap().as_deref(), Some("1"));
}

/// Issue 10: the PULL queue in the database. A hook has one execution queued or running; the
/// queue is read oldest first with a bound per organisation; a queued run is claimed once;
/// neither the interrupted-lease sweep nor pruning touches queued runs.
fn queued_runs_are_claimed_once_and_read_fairly(test: TestStore) {
    let store = &test.store;
    // Another node than the other tests' stores (which share a PostgreSQL schema with this
    // one): their "this node restarted" sweep must not fail the run claimed here.
    store.set_node_id("queue-test");
    let other = store.create_org("Other", "UTC", "USD").unwrap();
    let hooks = |org: &flowstate_store::OrgId, count: usize| -> Vec<String> {
        let integration = store.create_integration(org, "HR", None, &format!("hr_{org}")).unwrap();
        (0..count).map(|_| store.create_hook(org, &integration.id, new_hook("PULL", None)).unwrap().id).collect()
    };
    let (mine, theirs) = (hooks(&test.org, 3), hooks(&other, 1));
    // Queued in 2025: the sweep and the prune below (mid-2025) reach no other test's rows,
    // which share a PostgreSQL schema with these.
    let at = |minute: u32| format!("2025-01-01T00:{minute:02}:00.000000Z");
    for (minute, hook) in mine.iter().enumerate() {
        let queued = store
            .queue_execution(&test.org, hook, flowstate_store::kinds::Trigger::Manual, &at(minute as u32))
            .unwrap();
        assert_eq!((queued.status.as_str(), queued.finished_at.as_deref()), ("queued", None));
    }
    store.queue_execution(&other, &theirs[0], flowstate_store::kinds::Trigger::Schedule, &at(10)).unwrap();
    assert!(matches!(
        store.queue_execution(&test.org, &mine[0], flowstate_store::kinds::Trigger::Manual, &at(11)),
        Err(flowstate_store::StoreError::Conflict(_))
    ));
    assert!(store.has_unfinished_execution(&test.org, &mine[0]).unwrap());
    // Two of each organisation at most: the other's run is not hidden behind mine.
    let queued: Vec<(String, String)> = store
        .queued_executions(2, 100)
        .unwrap()
        .into_iter()
        .filter(|queued| queued.org == test.org || queued.org == other)
        .map(|queued| (queued.org.to_string(), queued.hook_id))
        .collect();
    let expected = vec![
        (test.org.to_string(), mine[0].clone()),
        (test.org.to_string(), mine[1].clone()),
        (other.to_string(), theirs[0].clone()),
    ];
    assert_eq!(queued, expected);
    let id = store.executions(&test.org, &mine[0]).unwrap()[0].id.clone();
    let claimed = store.claim_execution(&test.org, &id, chrono::Utc::now()).unwrap().expect("claimed");
    assert_eq!(claimed.status, flowstate_store::kinds::ExecutionStatus::Running);
    assert_eq!(store.claim_execution(&test.org, &id, chrono::Utc::now()).unwrap(), None, "claimed once");
    assert_eq!(store.claim_execution(&other, &id, chrono::Utc::now()).unwrap(), None, "never by another organisation");
    assert!(store.renew_execution_lease(&test.org, &id, "2099-01-01T00:00:00.000000Z").unwrap());
    // A sweep after the queued runs' leases would have passed fails nothing queued, and
    // pruning keeps queued runs.
    store.fail_interrupted_executions_at("2025-06-01T00:00:00.000000Z", false).unwrap();
    store.prune_executions("2025-06-01T00:00:00.000000Z").unwrap();
    let second = &store.executions(&test.org, &mine[1]).unwrap()[0];
    assert_eq!(second.status, flowstate_store::kinds::ExecutionStatus::Queued);
    assert_eq!(
        store.execution(&test.org, &id).unwrap().unwrap().status,
        flowstate_store::kinds::ExecutionStatus::Running,
        "its lease was renewed"
    );
}

/// A run failed as interrupted (its lease passed) stays failed: its server's late save does
/// not bring it back to `running`.
fn a_late_save_does_not_revive_an_interrupted_run(test: TestStore) {
    let store = &test.store;
    store.set_node_id("late-save-test");
    let integration = store.create_integration(&test.org, "HR", None, "hr").unwrap();
    let hook = store.create_hook(&test.org, &integration.id, new_hook("PULL", None)).unwrap();
    // Other tests share a PostgreSQL schema with this one and prune finished executions
    // started before 2026: this one starts later, and the sweep below (at a time before every
    // lease) fails only this node's.
    let running = store
        .start_execution_at(&test.org, &hook.id, flowstate_store::kinds::Trigger::Manual, "2099-01-01T00:00:00.000000Z")
        .unwrap();
    assert!(store.save_execution(&test.org, &running).unwrap(), "its own running execution saves");
    // Failed as interrupted (as when this node restarts, or another server sees the lease
    // pass) while its worker still holds it.
    let mut stale = running.clone();
    stale.pages = serde_json::json!([{ "index": 0 }]);
    store.fail_interrupted_executions_at("2020-01-01T00:00:00.000000Z", true).unwrap();
    let finished = flowstate_store::integrations::Execution {
        status: flowstate_store::kinds::ExecutionStatus::Succeeded,
        ..stale
    };
    assert!(!store.save_execution(&test.org, &finished).unwrap(), "dropped");
    let stored = store.execution(&test.org, &running.id).unwrap().unwrap();
    assert_eq!((stored.status.as_str(), stored.error.as_deref()), ("failed", Some("interrupted")));
}

crate::on_both_backends!(
    a_late_save_does_not_revive_an_interrupted_run,
    queued_runs_are_claimed_once_and_read_fairly,
    integrations_hooks_secrets_and_executions_are_kept_per_organisation,
    hooks_and_integrations_update_and_delete,
    hook_kv_values_expire_and_stay_with_their_hook,
    hook_kv_holds_a_hook_to_its_quota
);
