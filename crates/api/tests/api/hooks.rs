//! Integrations and hooks over the API, in-process. (PULL runs through a server's workers
//! into the store are tested against the built binary: `crates/flowstate/tests/cli/server`.)

use serde_json::{Value, json};

use crate::app::{TestApp, assert_error, call, create_hook, create_integration, send};

/// Hooks and integrations change field by field and go away over the API; every refusal
/// names its field.
#[tokio::test(flavor = "multi_thread")]
async fn hooks_and_integrations_change_and_go_over_the_api() {
    let server = TestApp::spawn().await;
    let (org, key) = (server.org.clone(), server.key.clone());
    let a = |path: &str| format!("/api/v1/org/{org}{path}");
    let integration = create_integration(&server, &a(""), &key, json!({ "name": "HR", "sourceSystem": "hr" })).await;
    let code = "async function run(ctx) { return { records: [] }; }";
    let hook = create_hook(&server, &a(""), &key, &integration, json!({ "name": "nightly", "type": "PULL", "entityType": "employee", "code": code, "schedule": "24h", "preferredHour": 2 })).await;
    let hook_path = a(&format!("/hooks/{hook}"));
    let patch = |body: Value| send(&server, reqwest::Method::PATCH, &hook_path, Some(&key), Some(body));

    let (status, body) = patch(json!({ "enabled": false, "preferredHour": null, "name": "nightly sync" })).await;
    assert_eq!(status, 200, "{body}");
    let data = &body["data"];
    assert_eq!(
        (data["enabled"].clone(), data["preferredHour"].clone(), data["name"].clone()),
        (json!(false), Value::Null, json!("nightly sync"))
    );
    assert_eq!((data["schedule"].clone(), data["code"].clone()), (json!("24h"), json!(code)), "absent fields stay");
    assert!(data.get("retryPolicy").is_none(), "PULL hooks have none");
    let (status, body) =
        send(&server, reqwest::Method::POST, &a(&format!("/hooks/{hook}/run")), Some(&key), None).await;
    assert_eq!(status, 409, "a disabled hook does not run: {body}");
    assert_error(&body, "CONFLICT");

    for (change, field) in [
        (json!({ "type": "PUSH" }), "type"),
        (json!({ "entityType": "vacancy" }), "entityType"),
        (json!({ "enabled": "yes" }), "enabled"),
        (json!({ "preferredHour": 24 }), "preferredHour"),
        (json!({ "retryPolicy": 3 }), "retryPolicy"),
    ] {
        let (status, body) = patch(change.clone()).await;
        assert_eq!(status, 400, "{change}: {body}");
        assert_error(&body, "VALIDATION_ERROR");
        assert_eq!(body["error"]["details"][0]["field"], field, "{change}: {body}");
    }
    for (change, words) in [
        (json!({ "schedule": "2h" }), "schedule must be one of"),
        (json!({ "retryPolicy": { "maxAttempts": 2 } }), "retryPolicy applies to PUSH hooks only"),
        (json!({ "code": " " }), "code must not be blank"),
    ] {
        let (status, body) = patch(change.clone()).await;
        assert_eq!(status, 400, "{change}: {body}");
        // In the message, or in the details naming the field.
        assert!(body["error"].to_string().contains(words), "{change}: {body}");
    }
    let (status, body) = patch(json!({ "type": "PULL", "enabled": true })).await;
    assert_eq!((status, body["data"]["enabled"].clone()), (200, json!(true)), "the same type may be restated: {body}");

    let integration_path = a(&format!("/integrations/{integration}"));
    let (status, body) =
        send(&server, reqwest::Method::PATCH, &integration_path, Some(&key), Some(json!({ "sourceSystem": "x" })))
            .await;
    assert_eq!((status, body["error"]["details"][0]["field"].clone()), (400, json!("sourceSystem")), "{body}");
    // A name cannot be cleared: null is refused (as a wrong type), while a description can.
    let (status, body) =
        send(&server, reqwest::Method::PATCH, &integration_path, Some(&key), Some(json!({ "name": null }))).await;
    assert_eq!((status, body["error"]["details"][0]["field"].clone()), (400, json!("name")), "{body}");
    let (status, body) =
        send(&server, reqwest::Method::PATCH, &integration_path, Some(&key), Some(json!({ "description": null })))
            .await;
    assert_eq!((status, body["data"]["description"].clone()), (200, Value::Null), "{body}");
    let (status, body) = send(
        &server,
        reqwest::Method::PATCH,
        &integration_path,
        Some(&key),
        Some(json!({ "name": "Workday", "description": "HR" })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["data"]["name"].clone(), body["data"]["sourceSystem"].clone()), (json!("Workday"), json!("hr")));

    assert_eq!(send(&server, reqwest::Method::DELETE, &hook_path, Some(&key), None).await.0, 204);
    assert_eq!(call(&server, &hook_path, Some(&key)).await.0, 404);
    assert_eq!(send(&server, reqwest::Method::DELETE, &hook_path, Some(&key), None).await.0, 404, "gone already");
    assert_eq!(send(&server, reqwest::Method::DELETE, &integration_path, Some(&key), None).await.0, 204);
    let (_, integrations) = call(&server, &a("/integrations"), Some(&key)).await;
    assert_eq!(integrations["meta"]["total"], 0);
}

/// An enabled scheduled PULL hook says when it runs next: the schedule's next slot, at the
/// preferred hour in the organisation's time zone (Europe/London here); the rest say null.
#[tokio::test(flavor = "multi_thread")]
async fn a_hook_says_when_it_runs_next_in_the_organisations_time_zone() {
    use chrono::{DateTime, Timelike, Utc};
    let server = TestApp::spawn().await;
    let (org, key) = (server.org.clone(), server.key.clone());
    let a = |path: &str| format!("/api/v1/org/{org}{path}");
    let integration = create_integration(&server, &a(""), &key, json!({ "name": "HR", "sourceSystem": "hr" })).await;
    let pull = "async function run(ctx) { return { records: [] }; }";
    let hook = |name: &str, extra: Value| {
        let mut body = json!({ "name": name, "type": "PULL", "entityType": "employee", "code": pull });
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        body
    };
    let before = Utc::now();
    let nightly = create_hook(
        &server,
        &a(""),
        &key,
        &integration,
        hook("nightly", json!({ "schedule": "24h", "preferredHour": 6 })),
    )
    .await;
    let (_, body) = call(&server, &a(&format!("/hooks/{nightly}")), Some(&key)).await;
    let next: DateTime<Utc> = body["data"]["nextRunAt"].as_str().unwrap().parse().unwrap();
    assert!(next > before && next <= before + chrono::Duration::hours(24), "within the interval: {next}");
    let local = next.with_timezone(&chrono_tz::Europe::London);
    assert_eq!((local.hour(), local.minute()), (6, 0), "06:00 in London: {next}");

    let quarterly = create_hook(&server, &a(""), &key, &integration, hook("often", json!({ "schedule": "15m" }))).await;
    let (_, body) = call(&server, &a(&format!("/hooks/{quarterly}")), Some(&key)).await;
    let next: DateTime<Utc> = body["data"]["nextRunAt"].as_str().unwrap().parse().unwrap();
    assert!(next > before && next <= Utc::now() + chrono::Duration::minutes(15), "{next}");
    assert_eq!(next.minute() % 15, 0, "on the clock's quarter: {next}");

    let by_hand = create_hook(&server, &a(""), &key, &integration, hook("by hand", json!({}))).await;
    let off =
        create_hook(&server, &a(""), &key, &integration, hook("off", json!({ "schedule": "1h", "enabled": false })))
            .await;
    let push = json!({ "name": "out", "type": "PUSH", "entityType": "employee", "code": "async function run(ctx) {}" });
    let push = create_hook(&server, &a(""), &key, &integration, push).await;
    let (_, list) = call(&server, &a(&format!("/integrations/{integration}/hooks")), Some(&key)).await;
    for id in [by_hand, off, push] {
        let shown = list["data"].as_array().unwrap().iter().find(|hook| hook["id"] == json!(id)).unwrap();
        assert_eq!(shown["nextRunAt"], Value::Null, "no schedule, disabled, or PUSH: {shown}");
    }
    assert!(list["data"].as_array().unwrap().iter().all(|hook| hook.get("type").is_some()), "spelled `type`: {list}");
}

/// A hook's executions can be listed by status and by trigger; a value not in the set is
/// refused naming the parameter.
#[tokio::test(flavor = "multi_thread")]
async fn executions_are_listed_by_status_and_trigger() {
    let server = TestApp::spawn().await;
    let (org, key) = (server.org.clone(), server.key.clone());
    let a = |path: &str| format!("/api/v1/org/{org}{path}");
    let integration = create_integration(&server, &a(""), &key, json!({ "name": "HR", "sourceSystem": "hr" })).await;
    let body = json!({ "name": "pull", "type": "PULL", "entityType": "employee", "code": "async function run(ctx) { return { records: [] }; }" });
    let hook = create_hook(&server, &a(""), &key, &integration, body).await;
    // No workers in this server: a manual run stays queued.
    let (status, _) = send(&server, reqwest::Method::POST, &a(&format!("/hooks/{hook}/run")), Some(&key), None).await;
    assert_eq!(status, 202);
    let list = |query: &'static str| {
        let path = a(&format!("/hooks/{hook}/executions{query}"));
        let key = key.clone();
        let server = &server;
        async move { call(server, &path, Some(&key)).await }
    };
    for (query, total) in [
        ("", 1),
        ("?status=queued", 1),
        ("?status=failed", 0),
        ("?trigger=manual", 1),
        ("?trigger=schedule", 0),
        ("?status=queued&trigger=manual&page=1&limit=5", 1),
    ] {
        let (status, body) = list(query).await;
        assert_eq!((status, body["meta"]["total"].clone()), (200, json!(total)), "{query}: {body}");
        assert_eq!(body["data"].as_array().unwrap().len(), total, "{query}");
    }
    for (query, field) in [("?status=done", "status"), ("?trigger=cron", "trigger")] {
        let (status, body) = list(query).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_error(&body, "VALIDATION_ERROR");
        assert_eq!(body["error"]["details"][0]["field"], field, "{query}: {body}");
    }
}

/// `GET /api/v1/key` tells a key's holder who it is: its organisation, time zone and scopes;
/// no key, or a revoked one, is refused.
#[tokio::test(flavor = "multi_thread")]
async fn a_key_finds_its_organisation() {
    let server = TestApp::spawn().await;
    let (status, body) = call(&server, "/api/v1/key", Some(&server.key)).await;
    assert_eq!(status, 200, "{body}");
    let data = &body["data"];
    assert_eq!(
        (&data["organization"]["id"], &data["organization"]["timezone"], &data["organization"]["currency"]),
        (&json!(server.org), &json!("Europe/London"), &json!("GBP"))
    );
    assert_eq!(data["name"], "admin");
    assert!(data["scopes"].as_array().unwrap().contains(&json!("integrations:write")), "{body}");
    assert!(!body.to_string().contains(server.key.rsplit('_').next().unwrap()), "never the secret: {body}");
    let (status, body) = call(&server, "/api/v1/key", None).await;
    assert_eq!(status, 401, "{body}");
    assert_error(&body, "UNAUTHORIZED");
    let id = data["id"].as_str().unwrap().to_string();
    assert!(server.store.revoke_api_key(&server.org_id(), &id).unwrap());
    let (status, body) = call(&server, "/api/v1/key", Some(&server.key)).await;
    assert_eq!(status, 401, "a revoked key: {body}");
}

/// A new hook's starting code comes from the server (the one `flowstate hook init` writes),
/// for each type and entity; both are required and spelled as the API spells them.
#[tokio::test(flavor = "multi_thread")]
async fn a_new_hook_starts_from_the_guides_example_for_its_type_and_entity() {
    let server = TestApp::spawn().await;
    let (org, key) = (server.org.clone(), server.key.clone());
    let path = |query: &str| format!("/api/v1/org/{org}/hook-starters{query}");
    let (status, body) = call(&server, &path("?type=PULL&entity=contractor"), Some(&key)).await;
    assert_eq!(status, 200, "{body}");
    let code = body["data"]["code"].as_str().unwrap();
    assert!(code.contains("async function run(ctx)") && code.contains("contractors"), "{code}");
    assert_eq!(flowstate_runtime::check_syntax("starter.js", code), Ok(()), "it compiles");
    let (_, push) = call(&server, &path("?type=PUSH&entity=vacancy"), Some(&key)).await;
    assert!(push["data"]["code"].as_str().unwrap().contains("ctx.event"), "{push}");
    for (query, field) in
        [("?type=pull&entity=employee", "type"), ("?type=PULL&entity=person", "entity"), ("?type=PULL", "entity")]
    {
        let (status, body) = call(&server, &path(query), Some(&key)).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_error(&body, "VALIDATION_ERROR");
        assert_eq!(body["error"]["details"][0]["field"], field, "{query}: {body}");
    }
}
