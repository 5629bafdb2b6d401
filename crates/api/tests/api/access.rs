//! Every operation the document lists, tried without a key, with another organisation's key
//! and with a key of no scopes: refused each time, before anything is read or found, and the
//! scope the refusal names is the one the document gives.

use flowstate_store::keys::ALL_SCOPES;
use serde_json::{Value, json};

use crate::app::{TestApp, assert_error, send};

#[tokio::test(flavor = "multi_thread")]
async fn every_documented_operation_is_refused_without_its_key_and_scope() {
    let app = TestApp::spawn().await;
    let other_org = app.store.create_org("Other", "UTC", "EUR").unwrap();
    let other_key = app.store.create_api_key(&other_org, "other", ALL_SCOPES).unwrap().token;
    let no_scopes = app.store.create_api_key(&app.org_id(), "none", &[]).unwrap().token;
    let document = app.document().await;
    let mut tried = 0;
    for (template, operations) in document["paths"].as_object().unwrap() {
        let Some(rest) = template.strip_prefix("/api/v1/org/{orgId}") else { continue };
        // Every other path parameter names nothing that exists: the refusal comes first.
        let mut path = format!("/api/v1/org/{}", app.org);
        let mut inside = false;
        for character in rest.chars() {
            match character {
                '{' => inside = true,
                '}' => {
                    inside = false;
                    path.push_str("missing");
                }
                _ if inside => {}
                _ => path.push(character),
            }
        }
        for (method, operation) in operations.as_object().unwrap() {
            let method: reqwest::Method = method.to_uppercase().parse().unwrap();
            let body = operation.get("requestBody").map(|_| json!({}));
            let name = format!("{method} {template}");
            let description = operation["description"].as_str().unwrap_or_default();
            let scope = description
                .split("Requires the scope `")
                .nth(1)
                .and_then(|rest| rest.split('`').next())
                .unwrap_or_else(|| panic!("{name} names no scope: {description}"));

            let (status, answer) = send(&app, method.clone(), &path, None, body.clone()).await;
            assert_eq!(status, 401, "{name} without a key: {answer}");
            assert_error(&answer, "UNAUTHORIZED");
            let (status, answer) = send(&app, method.clone(), &path, Some(&other_key), body.clone()).await;
            assert_eq!(status, 403, "{name} with another organisation's key: {answer}");
            assert_error(&answer, "FORBIDDEN");
            let (status, answer) = send(&app, method.clone(), &path, Some(&no_scopes), body.clone()).await;
            assert_eq!(status, 403, "{name} with a key of no scopes: {answer}");
            assert_eq!(answer["error"]["details"]["requiredScope"], Value::from(scope), "{name}: {answer}");
            for status in ["401", "403"] {
                assert!(operation["responses"].get(status).is_some(), "{name} does not document {status}");
            }
            tried += 1;
        }
    }
    assert!(tried >= 60, "only {tried} operations were tried");
}

/// A fill needs the filler's write scope too; a key with neither `employees:write` nor
/// `contractors:write` is refused before its body is read (a body that is not JSON is not
/// even looked at).
#[tokio::test(flavor = "multi_thread")]
async fn a_fill_without_a_fillers_scope_is_refused_before_its_body() {
    use flowstate_store::keys::Scope;
    let app = TestApp::spawn().await;
    let vacancies_only = app.store.create_api_key(&app.org_id(), "v", &[Scope::VacanciesWrite]).unwrap().token;
    let path = format!("/api/v1/org/{}/vacancies/V-1/fill", app.org);
    let (status, answer) =
        send(&app, reqwest::Method::POST, &path, Some(&vacancies_only), Some(Value::String("{ not json".into()))).await;
    assert_eq!(status, 403, "{answer}");
    assert_eq!(answer["error"]["details"]["requiredScope"], "employees:write or contractors:write", "{answer}");
}

/// `Authorization: bearer …` is the same as `Bearer …` (the scheme is case-insensitive).
#[tokio::test(flavor = "multi_thread")]
async fn the_authorization_scheme_is_case_insensitive() {
    let app = TestApp::spawn().await;
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/org/{}/employees", app.base, app.org))
        .header("authorization", format!("bearer {}", app.key))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
}
