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
