//! PUSH delivery: every change, in order, once, with retries, across restarts and servers.

use serde_json::{Value, json};

use super::*;
use crate::{flowstate, postgres_url, sync_apply_args};

/// A PUSH hook receives create, update and delete of an employee made by a sync, in order,
/// with `before`/`after`; a failing delivery is retried (each attempt an execution) until it
/// succeeds.
#[tokio::test(flavor = "multi_thread")]
async fn a_push_hook_receives_every_change_in_order_with_retries() {
    let (router, received) = receiver();
    let directory = tempfile::tempdir().unwrap();
    let (_target, mut extra) = routed_to(router, "hooks.example.com", directory.path()).await;
    extra.extend(["--push-retry-backoff-ms".to_string(), "20".to_string()]);
    let db = directory.path().join("flowstate.db").display().to_string();
    let server = start_with(&db, directory.path(), &extra);
    let (org, key) = server.first_start.clone().unwrap();
    let a = |path: &str| format!("/api/v1/org/{org}{path}");
    let integration =
        create_integration(&server, &a(""), &key, json!({ "name": "Payroll", "sourceSystem": "payroll" })).await;
    let code = FORWARD_TO_RECEIVER;
    let (status, body) = send(
        &server,
        reqwest::Method::POST,
        &a(&format!("/integrations/{integration}/hooks")),
        Some(&key),
        Some(json!({ "name": "to-payroll", "type": "PUSH", "entityType": "employee", "eventTypes": ["create", "update", "delete"], "code": code })),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let hook = body["data"]["id"].as_str().unwrap().to_string();

    let file = directory.path().join("change.ndjson");
    let changes = [
        json!({ "firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com" }),
        json!({ "firstName": "Ada", "lastName": "King", "email": "ada@example.com" }),
        json!({ "deletedAt": "2026-06-01" }),
    ];
    for data in changes {
        std::fs::write(&file, json!({ "externalId": "EMP-1", "data": data }).to_string()).unwrap();
        let output = flowstate(sync_apply_args(&db, &org, "employee", &file)).await;
        assert_eq!(output.status.code(), Some(0), "{}", crate::stderr(&output));
    }
    for _ in 0..300 {
        if received.lock().unwrap().len() >= 5 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let received_handle = received.clone();
    let received = received.lock().unwrap().clone();
    assert_eq!(received.len(), 5, "two refused attempts, then three deliveries: {received:?}");
    assert_eq!(received[0], received[2], "the first event, attempted three times");
    let delivered = &received[2..];
    let kinds: Vec<&str> = delivered.iter().map(|event| event["changeType"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["create", "update", "delete"]);
    assert!(
        delivered.iter().all(|event| event["entityType"] == "employee" && event["source"] == "sync:workday"),
        "{delivered:?}"
    );
    assert!(delivered.iter().all(|event| event["id"].as_str().is_some_and(|id| id.starts_with("evt_"))));
    assert_eq!(
        (delivered[0]["before"].clone(), delivered[0]["after"]["lastName"].clone()),
        (Value::Null, json!("Lovelace"))
    );
    assert_eq!(
        (delivered[1]["before"]["lastName"].clone(), delivered[1]["after"]["lastName"].clone()),
        (json!("Lovelace"), json!("King"))
    );
    assert_eq!(
        (delivered[2]["before"]["lastName"].clone(), delivered[2]["after"].clone()),
        (json!("King"), Value::Null)
    );

    let (_, executions) = call(&server, &a(&format!("/hooks/{hook}/executions")), Some(&key)).await;
    let mut executions = executions["data"].as_array().unwrap().clone();
    executions.reverse(); // oldest first
    let statuses: Vec<&str> = executions.iter().map(|execution| execution["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["failed", "failed", "succeeded", "succeeded", "succeeded"]);
    assert!(executions.iter().all(|execution| execution["trigger"] == "event"));
    assert_eq!(executions[0]["eventId"], executions[2]["eventId"], "retries of one event");
    assert_eq!(executions[0]["eventId"], delivered[0]["id"]);

    // Disabled, the hook receives nothing; enabled again, it receives what changed meanwhile,
    // in order, each event attempted as often as its retry policy says (here once).
    let hook_path = a(&format!("/hooks/{hook}"));
    let patch = json!({ "enabled": false, "retryPolicy": { "maxAttempts": 1 } });
    let (status, body) = send(&server, reqwest::Method::PATCH, &hook_path, Some(&key), Some(patch)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["data"]["enabled"].clone(), body["data"]["retryPolicy"]["maxAttempts"].clone()),
        (json!(false), json!(1))
    );
    for (id, last_name) in [("EMP-2", "Refused"), ("EMP-3", "Okafor")] {
        let data = json!({ "firstName": "B", "lastName": last_name, "email": format!("{id}@example.com") });
        std::fs::write(&file, json!({ "externalId": id, "data": data }).to_string()).unwrap();
        let output = flowstate(sync_apply_args(&db, &org, "employee", &file)).await;
        assert_eq!(output.status.code(), Some(0), "{}", crate::stderr(&output));
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(received_count(&received_handle), 5, "nothing while disabled");
    let (status, body) =
        send(&server, reqwest::Method::PATCH, &hook_path, Some(&key), Some(json!({ "enabled": true }))).await;
    assert_eq!(status, 200, "{body}");
    for _ in 0..300 {
        if received_count(&received_handle) >= 7 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await; // room for a wrong retry
    let later: Vec<Value> = received_handle.lock().unwrap()[5..].to_vec();
    let last_names: Vec<&str> = later.iter().map(|event| event["after"]["lastName"].as_str().unwrap()).collect();
    assert_eq!(last_names, ["Refused", "Okafor"], "one attempt of the refused change, then the next one");
    let (_, executions) = call(&server, &a(&format!("/hooks/{hook}/executions")), Some(&key)).await;
    let statuses: Vec<&str> = executions["data"]
        .as_array()
        .unwrap()
        .iter()
        .take(2)
        .map(|execution| execution["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["succeeded", "failed"], "newest first");

    // A change made over the REST API reaches the hook too, marked as such.
    let (status, body) = send(
        &server,
        reqwest::Method::PATCH,
        &a("/employees/EMP-3"),
        Some(&key),
        Some(json!({ "lastName": "Okafor-Smith" })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    for _ in 0..300 {
        if received_count(&received_handle) >= 8 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let last = received_handle.lock().unwrap().last().cloned().unwrap();
    assert_eq!((last["source"].clone(), last["changeType"].clone()), (json!("api"), json!("update")), "{last}");
    assert_eq!(
        (last["before"]["lastName"].clone(), last["after"]["lastName"].clone()),
        (json!("Okafor"), json!("Okafor-Smith"))
    );
}

/// Two `flowstate serve` processes on one PostgreSQL database: changes written through
/// either reach a PUSH hook exactly once each, in commit order, whichever server delivers.
#[tokio::test(flavor = "multi_thread")]
async fn two_server_processes_on_postgres_deliver_each_change_once() {
    let Some(db) = postgres_url() else { return };
    // Slower than a dispatcher's poll: without a lease both servers would take the same event.
    let (router, received) = accepting_receiver(std::time::Duration::from_millis(150));
    let (first_dir, second_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (_target, extra) = routed_to(router, "hooks.example.com", first_dir.path()).await;
    let first = start_with(&db, first_dir.path(), &extra);
    let (org, key) = first.first_start.clone().unwrap();
    // The same master key, but a key file (and so a node id) of its own: another node.
    std::fs::copy(first_dir.path().join("flowstate.key"), second_dir.path().join("flowstate.key")).unwrap();
    let second = start_with(&db, second_dir.path(), &extra);
    assert!(second.first_start.is_none(), "the second server joins the first one's database");

    let a = |path: &str| format!("/api/v1/org/{org}{path}");
    let integration =
        create_integration(&first, &a(""), &key, json!({ "name": "Payroll", "sourceSystem": "payroll" })).await;
    let code = FORWARD_TO_RECEIVER;
    create_hook(
        &second,
        &a(""),
        &key,
        &integration,
        json!({ "name": "to-payroll", "type": "PUSH", "entityType": "employee", "code": code }),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await; // both dispatchers see the hook

    let total = 10;
    for index in 0..total {
        let server = if index % 2 == 0 { &first } else { &second };
        let body = json!({ "externalId": format!("EMP-{index}"), "firstName": "A", "lastName": format!("N{index}"), "email": format!("e{index}@example.com") });
        let (status, answer) = send(server, reqwest::Method::POST, &a("/employees"), Some(&key), Some(body)).await;
        assert_eq!(status, 201, "{answer}");
    }
    for _ in 0..500 {
        if received.lock().unwrap().len() >= total {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await; // room for a duplicate
    let received = received.lock().unwrap().clone();
    let sequence: Vec<u64> = received
        .iter()
        .map(|event| event["id"].as_str().unwrap().trim_start_matches("evt_").parse().unwrap())
        .collect();
    assert_eq!(received.len(), total, "each change once: {sequence:?}");
    assert!(sequence.windows(2).all(|pair| pair[0] < pair[1]), "in commit order: {sequence:?}");
    let names: std::collections::BTreeSet<&str> =
        received.iter().map(|event| event["after"]["lastName"].as_str().unwrap()).collect();
    assert_eq!(names.len(), total, "every change, none twice");
}

/// A change committed while no server runs (the last one was killed) is delivered when a
/// server starts again: the outbox and the hook's cursor are in the database.
#[tokio::test(flavor = "multi_thread")]
async fn a_change_committed_while_the_server_is_down_is_delivered_after_restart() {
    let (router, received) = accepting_receiver(std::time::Duration::ZERO);
    let directory = tempfile::tempdir().unwrap();
    let (_target, extra) = routed_to(router, "hooks.example.com", directory.path()).await;
    let db = directory.path().join("flowstate.db").display().to_string();
    let server = start_with(&db, directory.path(), &extra);
    let (org, key) = server.first_start.clone().unwrap();
    let a = |path: &str| format!("/api/v1/org/{org}{path}");
    let integration =
        create_integration(&server, &a(""), &key, json!({ "name": "Payroll", "sourceSystem": "payroll" })).await;
    let code = FORWARD_TO_RECEIVER;
    create_hook(
        &server,
        &a(""),
        &key,
        &integration,
        json!({ "name": "to-payroll", "type": "PUSH", "entityType": "employee", "code": code }),
    )
    .await;
    drop(server); // SIGKILL

    let file = directory.path().join("change.ndjson");
    let data = json!({ "firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com" });
    std::fs::write(&file, json!({ "externalId": "EMP-1", "data": data }).to_string()).unwrap();
    let output = flowstate(sync_apply_args(&db, &org, "employee", &file)).await;
    assert_eq!(output.status.code(), Some(0), "{}", crate::stderr(&output));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(received.lock().unwrap().is_empty(), "no server, no delivery");

    let _server = start_with(&db, directory.path(), &extra);
    for _ in 0..300 {
        if !received.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let received = received.lock().unwrap().clone();
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(
        (received[0]["changeType"].clone(), received[0]["after"]["lastName"].clone()),
        (json!("create"), json!("Lovelace"))
    );
}

/// PUSH deliveries have a thread of their own: a PULL run computing for seconds does not
/// hold them up.
#[tokio::test(flavor = "multi_thread")]
async fn a_busy_pull_run_does_not_hold_up_push_delivery() {
    let (router, received) = accepting_receiver(std::time::Duration::ZERO);
    let directory = tempfile::tempdir().unwrap();
    let (_target, extra) = routed_to(router, "hooks.example.com", directory.path()).await;
    let db = directory.path().join("flowstate.db").display().to_string();
    let server = start_with(&db, directory.path(), &extra);
    let (org, key) = server.first_start.clone().unwrap();
    let a = |path: &str| format!("/api/v1/org/{org}{path}");
    let integration = create_integration(&server, &a(""), &key, json!({ "name": "HR", "sourceSystem": "hr" })).await;
    let busy = "async function run(ctx) { const end = Date.now() + 3000; while (Date.now() < end) {} return { records: [] }; }";
    let busy = create_hook(
        &server,
        &a(""),
        &key,
        &integration,
        json!({ "name": "busy", "type": "PULL", "entityType": "employee", "code": busy }),
    )
    .await;
    let forward = FORWARD_TO_RECEIVER;
    create_hook(
        &server,
        &a(""),
        &key,
        &integration,
        json!({ "name": "forward", "type": "PUSH", "entityType": "employee", "code": forward }),
    )
    .await;

    let (status, started) =
        send(&server, reqwest::Method::POST, &a(&format!("/hooks/{busy}/run")), Some(&key), None).await;
    assert_eq!(status, 202, "{started}");
    let execution = a(&format!("/executions/{}", started["data"]["id"].as_str().unwrap()));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await; // the busy run holds its thread
    let body = json!({ "firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com" });
    assert_eq!(send(&server, reqwest::Method::POST, &a("/employees"), Some(&key), Some(body)).await.0, 201);
    for _ in 0..100 {
        if !received.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(received.lock().unwrap().len(), 1, "delivered while the PULL run computes");
    let (_, busy_now) = call(&server, &execution, Some(&key)).await;
    assert_eq!(busy_now["data"]["status"], "running", "{busy_now}");
}

/// The receiver of PUSH deliveries: records every body, answers 500 to the first two and to
/// any change whose `after.lastName` is "Refused".
fn receiver() -> (axum::Router, std::sync::Arc<std::sync::Mutex<Vec<Value>>>) {
    use std::sync::{Arc, Mutex};
    let received: Arc<Mutex<Vec<Value>>> = Arc::new(Mutex::new(Vec::new()));
    let seen = received.clone();
    let router = axum::Router::new().route(
        "/events",
        axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
            let seen = seen.clone();
            async move {
                let mut seen = seen.lock().unwrap();
                let refused = body["after"]["lastName"] == "Refused";
                seen.push(body);
                if seen.len() <= 2 || refused {
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    axum::http::StatusCode::OK
                }
            }
        }),
    );
    (router, received)
}

fn received_count(received: &std::sync::Mutex<Vec<Value>>) -> usize {
    received.lock().unwrap().len()
}
