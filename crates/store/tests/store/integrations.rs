use flowstate_store::integrations::{NewHook, SealedSecret};
use flowstate_sync::EntityType;

use crate::helpers::TestStore;

fn new_hook(hook_type: &str, schedule: Option<&str>) -> NewHook {
    NewHook {
        name: "h".into(),
        hook_type: hook_type.into(),
        entity_type: EntityType::Employee,
        event_types: vec!["create".into()],
        code: "async function run(ctx) {}".into(),
        schedule: schedule.map(str::to_string),
        preferred_hour: Some(2),
        enabled: true,
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
    let old = store.start_execution_at(&test.org, &pull.id, "schedule", "2026-01-01T00:00:00.000000Z").unwrap();
    let mut done = old.clone();
    done.status = "succeeded".into();
    store.save_execution(&test.org, &done).unwrap();
    let running = store.start_execution_at(&test.org, &pull.id, "manual", "2026-01-01T00:30:00.000000Z").unwrap();
    assert!(store.has_running_execution(&test.org, &pull.id).unwrap());
    let second = store.start_execution_at(&test.org, &pull.id, "manual", "2026-01-01T00:31:00.000000Z").unwrap_err();
    assert!(matches!(second, flowstate_store::StoreError::Conflict(_)), "one running execution per hook: {second}");
    store.record_skipped_execution(&test.org, &pull.id, "schedule", "2026-01-01T00:40:00.000000Z", "busy").unwrap();
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
    let left: Vec<String> =
        store.executions(&test.org, &pull.id).unwrap().into_iter().map(|execution| execution.status).collect();
    assert_eq!(left, ["skipped", "running"]);
    // Its lease runs two minutes from its start (00:30).
    let inside_lease = "2026-01-01T00:31:00.000000Z";
    assert_eq!(store.fail_interrupted_executions_at(inside_lease, false).unwrap(), 0, "alive: another node may run it");
    assert_eq!(
        store.fail_interrupted_executions_at(inside_lease, true).unwrap(),
        1,
        "this node restarted: its runs are over"
    );
    assert_eq!(store.execution(&test.org, &running.id).unwrap().unwrap().error.as_deref(), Some("interrupted"));
    let other_node = store.start_execution_at(&test.org, &pull.id, "manual", "2026-01-01T01:00:00.000000Z").unwrap();
    assert_eq!(store.fail_interrupted_executions_at("2026-01-01T01:01:59.000000Z", false).unwrap(), 0);
    assert_eq!(
        store.fail_interrupted_executions_at("2026-01-01T01:02:01.000000Z", false).unwrap(),
        1,
        "its lease passed"
    );
    assert_eq!(store.execution(&test.org, &other_node.id).unwrap().unwrap().status, "failed");
}

crate::on_both_backends!(integrations_hooks_secrets_and_executions_are_kept_per_organisation);
