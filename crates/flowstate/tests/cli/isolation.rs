//! Issue 10: no organisation can stall or starve another. Two organisations on one
//! `flowstate serve`: one's computing hooks hold at most its share of the workers, and the
//! other's runs and deliveries go on; the PULL queue is in the database.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{
    args, flowstate,
    server::{
        FORWARD_TO_RECEIVER, Server, accepting_receiver, call, create_hook, create_integration, routed_to, send,
        start_with, wait_for_status,
    },
    stdout,
};

const SPIN_PULL: &str = "async function run(ctx) { while (true) {} }";
const TRIVIAL_PULL: &str = "async function run(ctx) { return { records: [] }; }";

/// A second organisation on the server's database, with an admin key.
async fn second_org(db: &str) -> (String, String) {
    let output =
        flowstate(args(&["org", "create", "--db", db, "--name", "B", "--timezone", "UTC", "--currency", "EUR"])).await;
    assert_eq!(output.status.code(), Some(0), "{}", crate::stderr(&output));
    let org = stdout(&output).trim().to_string();
    let output = flowstate(args(&["key", "create", "--db", db, "--org", &org, "--name", "b", "--scope", "all"])).await;
    assert_eq!(output.status.code(), Some(0), "{}", crate::stderr(&output));
    (org, stdout(&output).trim().to_string())
}

/// Queues a run of the hook: the execution's path.
async fn run(server: &Server, org: &str, key: &str, hook: &str) -> String {
    let (status, body) =
        send(server, reqwest::Method::POST, &format!("/api/v1/org/{org}/hooks/{hook}/run"), Some(key), None).await;
    assert_eq!(status, 202, "{body}");
    format!("/api/v1/org/{org}/executions/{}", body["data"]["id"].as_str().unwrap())
}

async fn pull_hook(server: &Server, org: &str, key: &str, integration: &str, name: &str, code: &str) -> String {
    let body = json!({ "name": name, "type": "PULL", "entityType": "employee", "code": code });
    create_hook(server, &format!("/api/v1/org/{org}"), key, integration, body).await
}

/// Two workers, one of which an organisation may hold (the default on two cores, spelled
/// out so the test does not depend on the machine).
fn two_workers(extra: &[String]) -> Vec<String> {
    extra.iter().cloned().chain(["--workers", "2", "--org-max-concurrency", "1"].map(String::from)).collect()
}

/// Four PULL hooks of organisation A compute forever (until their 30 s page deadline);
/// organisation B's trivial run, queued behind them, finishes within 2 s of its trigger.
#[tokio::test(flavor = "multi_thread")]
async fn four_spinning_pull_hooks_do_not_hold_up_another_organisations_run() {
    let directory = tempfile::tempdir().unwrap();
    let db = directory.path().join("flowstate.db").display().to_string();
    let server = start_with(&db, directory.path(), &two_workers(&[]));
    let (org_a, key_a) = server.first_start.clone().unwrap();
    let (org_b, key_b) = second_org(&db).await;
    let integration_a = create_integration(
        &server,
        &format!("/api/v1/org/{org_a}"),
        &key_a,
        json!({ "name": "A", "sourceSystem": "a" }),
    )
    .await;
    let mut spinning = Vec::new();
    for n in 0..4 {
        let hook = pull_hook(&server, &org_a, &key_a, &integration_a, &format!("spin {n}"), SPIN_PULL).await;
        spinning.push(run(&server, &org_a, &key_a, &hook).await);
    }
    wait_for_status(&server, &spinning[0], &key_a, "running").await;
    let integration_b = create_integration(
        &server,
        &format!("/api/v1/org/{org_b}"),
        &key_b,
        json!({ "name": "B", "sourceSystem": "b" }),
    )
    .await;
    let trivial = pull_hook(&server, &org_b, &key_b, &integration_b, "trivial", TRIVIAL_PULL).await;

    let triggered = Instant::now();
    let execution = run(&server, &org_b, &key_b, &trivial).await;
    let done = wait_for_status(&server, &execution, &key_b, "succeeded").await;
    let took = triggered.elapsed();
    assert!(took < Duration::from_secs(2), "B's run took {took:?} behind A's spinning hooks: {done}");
    // A holds one worker: one of its runs computes, the other three wait their turn.
    let mut statuses = Vec::new();
    for path in &spinning {
        let (_, body) = call(&server, path, Some(&key_a)).await;
        statuses.push(body["data"]["status"].as_str().unwrap_or_default().to_string());
    }
    statuses.sort();
    assert_eq!(statuses, ["queued", "queued", "queued", "running"], "A holds at most its share");
}

/// A PUSH hook of organisation A that computes on every change does not delay organisation
/// B's deliveries: B's change reaches its receiver within 2 s.
#[tokio::test(flavor = "multi_thread")]
async fn a_spinning_push_hook_does_not_hold_up_another_organisations_delivery() {
    let (router, received) = accepting_receiver(Duration::ZERO);
    let directory = tempfile::tempdir().unwrap();
    let (_receiver, extra) = routed_to(router, "hooks.example.com", directory.path()).await;
    let db = directory.path().join("flowstate.db").display().to_string();
    let server = start_with(&db, directory.path(), &two_workers(&extra));
    let (org_a, key_a) = server.first_start.clone().unwrap();
    let (org_b, key_b) = second_org(&db).await;
    let (a, b) = (format!("/api/v1/org/{org_a}"), format!("/api/v1/org/{org_b}"));
    let integration_a = create_integration(&server, &a, &key_a, json!({ "name": "A", "sourceSystem": "a" })).await;
    let integration_b = create_integration(&server, &b, &key_b, json!({ "name": "B", "sourceSystem": "b" })).await;
    for n in 0..2 {
        let spin = json!({ "name": format!("spin {n}"), "type": "PUSH", "entityType": "employee", "code": "async function run(ctx) { while (true) {} }" });
        create_hook(&server, &a, &key_a, &integration_a, spin).await;
    }
    let forward = json!({ "name": "forward", "type": "PUSH", "entityType": "employee", "code": FORWARD_TO_RECEIVER });
    create_hook(&server, &b, &key_b, &integration_b, forward).await;

    // A's changes start A's two hooks spinning (10 s per attempt, three attempts each).
    for n in 0..3 {
        let person = json!({ "firstName": "A", "lastName": format!("L{n}"), "email": format!("a{n}@example.com") });
        assert_eq!(
            send(&server, reqwest::Method::POST, &format!("{a}/employees"), Some(&key_a), Some(person)).await.0,
            201
        );
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let triggered = Instant::now();
    let person = json!({ "firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com" });
    assert_eq!(
        send(&server, reqwest::Method::POST, &format!("{b}/employees"), Some(&key_b), Some(person)).await.0,
        201
    );
    while received.lock().unwrap().is_empty() && triggered.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let took = triggered.elapsed();
    let delivered: Vec<Value> = received.lock().unwrap().clone();
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    assert_eq!(delivered[0]["after"]["lastName"], "Lovelace");
    assert!(took < Duration::from_secs(2), "B's change took {took:?} to arrive behind A's spinning hook");
}

/// A run queued while the server's one worker is busy is in the database: after the server
/// is killed and started again, it runs (and the run the kill cut off is failed as
/// interrupted).
#[tokio::test(flavor = "multi_thread")]
async fn a_queued_run_survives_a_restart() {
    let directory = tempfile::tempdir().unwrap();
    let db = directory.path().join("flowstate.db").display().to_string();
    let one_worker = ["--workers", "1"].map(String::from);
    let mut server = start_with(&db, directory.path(), &one_worker);
    let (org, key) = server.first_start.clone().unwrap();
    let integration =
        create_integration(&server, &format!("/api/v1/org/{org}"), &key, json!({ "name": "A", "sourceSystem": "a" }))
            .await;
    let spinning = pull_hook(&server, &org, &key, &integration, "spin", SPIN_PULL).await;
    let trivial = pull_hook(&server, &org, &key, &integration, "trivial", TRIVIAL_PULL).await;
    let cut_off = run(&server, &org, &key, &spinning).await;
    wait_for_status(&server, &cut_off, &key, "running").await;
    let queued = run(&server, &org, &key, &trivial).await;
    let (_, body) = call(&server, &queued, Some(&key)).await;
    assert_eq!(body["data"]["status"], "queued", "the one worker is busy: {body}");

    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let server = start_with(&db, directory.path(), &one_worker);
    let done = wait_for_status(&server, &queued, &key, "succeeded").await;
    assert_eq!(done["data"]["trigger"], "manual");
    let (_, body) = call(&server, &cut_off, Some(&key)).await;
    assert_eq!(
        (body["data"]["status"].as_str(), body["data"]["error"].as_str()),
        (Some("failed"), Some("interrupted"))
    );
}

/// `ctx.kv` has a quota per hook (here 5 keys): the sixth key throws `kv quota exceeded`
/// naming the limit, and what the hook stored stays.
#[tokio::test(flavor = "multi_thread")]
async fn a_hook_over_its_kv_quota_gets_an_error_naming_the_limit() {
    let directory = tempfile::tempdir().unwrap();
    let db = directory.path().join("flowstate.db").display().to_string();
    let server = start_with(&db, directory.path(), &["--kv-max-keys", "5"].map(String::from));
    let (org, key) = server.first_start.clone().unwrap();
    let integration =
        create_integration(&server, &format!("/api/v1/org/{org}"), &key, json!({ "name": "A", "sourceSystem": "a" }))
            .await;
    let code = "async function run(ctx) {
        for (let i = 0; i < 5; i++) await ctx.kv.set('k' + i, 'v' + i);
        try { await ctx.kv.set('k5', 'v5'); ctx.log.info('stored'); } catch (error) { ctx.log.info(error.message); }
        await ctx.kv.set('k0', 'replaced');
        ctx.log.info('k4 is ' + await ctx.kv.get('k4') + ', k0 is ' + await ctx.kv.get('k0'));
        return { records: [] };
    }";
    let hook = pull_hook(&server, &org, &key, &integration, "kv", code).await;
    let execution = run(&server, &org, &key, &hook).await;
    let done = wait_for_status(&server, &execution, &key, "succeeded").await;
    let messages: Vec<&str> = done["data"]["record"]["logs"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|entry| entry["message"].as_str())
        .collect();
    assert_eq!(
        messages,
        [
            "kv quota exceeded: at most 5 keys per hook (expired ones do not count); this set would make 6",
            "k4 is v4, k0 is replaced"
        ],
        "{done}"
    );
}

/// A per-record sync error quotes the record (its externalId, the value refused): a secret a
/// hook put there is redacted in the execution like everything else the execution records.
#[tokio::test(flavor = "multi_thread")]
async fn a_secret_in_a_refused_record_is_redacted_in_the_execution() {
    let directory = tempfile::tempdir().unwrap();
    let db = directory.path().join("flowstate.db").display().to_string();
    let server = start_with(&db, directory.path(), &[]);
    let (org, key) = server.first_start.clone().unwrap();
    let a = format!("/api/v1/org/{org}");
    let integration = create_integration(&server, &a, &key, json!({ "name": "A", "sourceSystem": "a" })).await;
    let secret = "s3cret-Token-91";
    let (status, body) = send(
        &server,
        reqwest::Method::PUT,
        &format!("{a}/integrations/{integration}/secrets/token"),
        Some(&key),
        Some(json!({ "value": secret })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let code = "async function run(ctx) {
        const token = ctx.secrets.token;
        return { records: [
            { externalId: 'EMP-' + token, data: { firstName: 'A', lastName: 'B', email: 'not an email ' + token } },
            { externalId: 'EMP-2', data: { firstName: 'C', lastName: 'D', email: 'c@example.com', startDate: token } },
        ] };
    }";
    let hook = pull_hook(&server, &org, &key, &integration, "leaky", code).await;
    let execution = run(&server, &org, &key, &hook).await;
    let done = wait_for_status(&server, &execution, &key, "succeeded").await;
    let errors = &done["data"]["pages"][0]["errors"];
    assert_eq!(errors.as_array().map(Vec::len), Some(2), "both records refused: {done}");
    let text = done.to_string();
    assert!(!text.contains(secret), "the secret reached the execution: {text}");
    assert!(errors.to_string().contains("[REDACTED:token]"), "{errors}");
}
