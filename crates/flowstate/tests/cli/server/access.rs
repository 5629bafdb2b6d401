//! Every route refuses another organisation's key, whether or not the thing exists.

use serde_json::json;

use super::*;
use crate::{args, flowstate, stdout, sync_apply_args};

/// Every route, with a key of another organisation and with a key lacking the scope.
#[tokio::test(flavor = "multi_thread")]
async fn another_organisations_key_is_refused_on_every_route() {
    let directory = tempfile::tempdir().unwrap();
    let db = directory.path().join("flowstate.db").display().to_string();
    let server = start(&db, directory.path());
    let (org_a, key_a) = server.first_start.clone().unwrap();
    let output =
        flowstate(args(&["org", "create", "--db", &db, "--name", "B", "--timezone", "UTC", "--currency", "EUR"])).await;
    let org_b = stdout(&output).trim().to_string();
    let output =
        flowstate(args(&["key", "create", "--db", &db, "--org", &org_b, "--name", "b", "--scope", "all"])).await;
    assert_eq!(output.status.code(), Some(0), "{}", crate::stderr(&output));
    let key_b = stdout(&output).trim().to_string();
    let output = flowstate(args(&[
        "key",
        "create",
        "--db",
        &db,
        "--org",
        &org_a,
        "--name",
        "narrow",
        "--scope",
        "employees:read",
    ]))
    .await;
    let narrow = stdout(&output).trim().to_string();
    let output = flowstate(sync_apply_args(&db, &org_a, "employee", &people(directory.path()))).await;
    assert_eq!(output.status.code(), Some(0));

    for resource in ["employees", "contractors", "vacancies", "teams", "projects", "assignments"] {
        for path in [format!("/api/v1/org/{org_a}/{resource}"), format!("/api/v1/org/{org_a}/{resource}/EMP-1")] {
            let (status, body) = call(&server, &path, Some(&key_b)).await;
            assert_eq!(status, 403, "{path}: {body}");
            assert_error(&body, "FORBIDDEN");
            assert!(body.get("data").is_none(), "{path}");
        }
        let (status, _) = call(&server, &format!("/api/v1/org/{org_b}/{resource}"), Some(&key_a)).await;
        assert_eq!(status, 403, "A's key on B's {resource}");
        let (status, body) = call(&server, &format!("/api/v1/org/{org_a}/{resource}"), Some(&narrow)).await;
        if resource == "employees" {
            assert_eq!(status, 200);
        } else {
            assert_eq!(status, 403, "{resource}: {body}");
            assert_eq!(body["error"]["details"]["requiredScope"], format!("{resource}:read"));
        }
    }
    let (status, body) = call(&server, &format!("/api/v1/org/{org_b}/employees"), Some(&key_b)).await;
    assert_eq!((status, body["meta"]["total"].as_u64()), (200, Some(0)), "B sees none of A's employees");
    // Writes: B's key on A's employees is refused; A's narrow key lacks the write scope;
    // A's employee ids under B's org are not found.
    let new_employee = json!({ "firstName": "Eve", "lastName": "B", "email": "eve@example.com" });
    let writes = [
        (reqwest::Method::POST, format!("/api/v1/org/{org_a}/employees"), Some(new_employee.clone())),
        (reqwest::Method::PATCH, format!("/api/v1/org/{org_a}/employees/EMP-1"), Some(json!({ "lastName": "X" }))),
        (reqwest::Method::DELETE, format!("/api/v1/org/{org_a}/employees/EMP-1"), None),
    ];
    for (method, path, body) in &writes {
        let (status, answer) = send(&server, method.clone(), path, Some(&key_b), body.clone()).await;
        assert_eq!(status, 403, "B's key: {method} {path}: {answer}");
        let (status, answer) = send(&server, method.clone(), path, Some(&narrow), body.clone()).await;
        assert_eq!(status, 403, "read-only key: {method} {path}: {answer}");
        assert_eq!(answer["error"]["details"]["requiredScope"], "employees:write");
        if *method != reqwest::Method::POST {
            let path = path.replace(&org_a, &org_b);
            let (status, answer) = send(&server, method.clone(), &path, Some(&key_b), body.clone()).await;
            assert_eq!(status, 404, "A's employee under B's org: {method} {path}: {answer}");
        }
    }
    let (_, employee) = call(&server, &format!("/api/v1/org/{org_a}/employees/EMP-1"), Some(&key_a)).await;
    assert_ne!(employee["data"]["lastName"], "X", "B changed nothing");
    // Reference data and adjustment histories: B's key on A's organisation is refused, and
    // A's ids under B's organisation are not found.
    let rate = json!({ "fromCurrency": "EUR", "toCurrency": "GBP", "rate": 0.8, "effectiveDate": "2026-01-01" });
    let (_, rate) =
        send(&server, reqwest::Method::POST, &format!("/api/v1/org/{org_a}/exchange-rates"), Some(&key_a), Some(rate))
            .await;
    let rate_path = format!("/exchange-rates/{}", rate["data"]["id"].as_str().unwrap());
    let (_, vacancy) = send(
        &server,
        reqwest::Method::POST,
        &format!("/api/v1/org/{org_a}/vacancies"),
        Some(&key_a),
        Some(json!({ "externalId": "VAC-1", "role": "R" })),
    )
    .await;
    assert!(vacancy["data"]["id"].is_string(), "{vacancy}");
    let reference = [
        (reqwest::Method::GET, "/job-roles", None),
        (reqwest::Method::POST, "/job-roles", Some(json!({ "title": "T" }))),
        (reqwest::Method::GET, "/custom-attribute-definitions", None),
        (
            reqwest::Method::POST,
            "/custom-attribute-definitions",
            Some(json!({ "name": "N", "fieldType": "STRING", "entityTypes": ["EMPLOYEE"] })),
        ),
        (reqwest::Method::GET, "/exchange-rates", None),
        (
            reqwest::Method::POST,
            "/exchange-rates",
            Some(json!({ "fromCurrency": "EUR", "toCurrency": "GBP", "rate": 1, "effectiveDate": "2026-01-01" })),
        ),
        (reqwest::Method::DELETE, rate_path.as_str(), None),
        (reqwest::Method::GET, "/employees/EMP-1/salary-adjustments", None),
        (
            reqwest::Method::POST,
            "/employees/EMP-1/salary-adjustments",
            Some(json!({ "effectiveDate": "2026-01-01", "salary": 1, "currencyCode": "GBP" })),
        ),
        (reqwest::Method::POST, "/vacancies/VAC-1/fill", Some(json!({}))),
    ];
    for (method, path, body) in &reference {
        let on_a = format!("/api/v1/org/{org_a}{path}");
        let (status, answer) = send(&server, method.clone(), &on_a, Some(&key_b), body.clone()).await;
        assert_eq!(status, 403, "B's key: {method} {on_a}: {answer}");
        if path.matches('/').count() > 1 {
            let on_b = format!("/api/v1/org/{org_b}{path}");
            let (status, answer) = send(&server, method.clone(), &on_b, Some(&key_b), body.clone()).await;
            assert_eq!(status, 404, "A's id under B's organisation: {method} {on_b}: {answer}");
        }
    }
    let (_, rates) = call(&server, &format!("/api/v1/org/{org_a}/exchange-rates"), Some(&key_a)).await;
    assert_eq!(rates["meta"]["total"], 1, "B deleted nothing of A's");
    let (_, vacancy) = call(&server, &format!("/api/v1/org/{org_a}/vacancies/VAC-1"), Some(&key_a)).await;
    assert_eq!(vacancy["data"]["isFilled"], false, "B filled nothing of A's");

    // A's integration, secret, hook and execution, tried with B's key: on A's paths 403; on
    // B's own paths with A's ids, 404 (nothing of A's is found from B).
    let a = |path: &str| format!("/api/v1/org/{org_a}{path}");
    let integration = create_integration(&server, &a(""), &key_a, json!({ "name": "HR", "sourceSystem": "hr" })).await;
    send(
        &server,
        reqwest::Method::PUT,
        &a(&format!("/integrations/{integration}/secrets/token")),
        Some(&key_a),
        Some(json!({ "value": "a-secret" })),
    )
    .await;
    let hook = create_hook(&server, &a(""), &key_a, &integration, json!({ "name": "h", "type": "PULL", "entityType": "employee", "code": "async function run(ctx) { return { records: [] }; }" })).await;
    let (status, body) =
        send(&server, reqwest::Method::POST, &a(&format!("/hooks/{hook}/run")), Some(&key_a), None).await;
    assert_eq!(status, 202, "{body}");
    let execution = body["data"]["id"].as_str().unwrap().to_string();
    let routes = [
        (reqwest::Method::GET, "/integrations".to_string(), None),
        (reqwest::Method::POST, "/integrations".to_string(), Some(json!({ "name": "X", "sourceSystem": "x" }))),
        (reqwest::Method::GET, format!("/integrations/{integration}"), None),
        (reqwest::Method::GET, format!("/integrations/{integration}/secrets"), None),
        (reqwest::Method::PUT, format!("/integrations/{integration}/secrets/token"), Some(json!({ "value": "bbbb" }))),
        (reqwest::Method::DELETE, format!("/integrations/{integration}/secrets/token"), None),
        (reqwest::Method::GET, format!("/integrations/{integration}/hooks"), None),
        (
            reqwest::Method::POST,
            format!("/integrations/{integration}/hooks"),
            Some(json!({ "name": "h", "type": "PULL", "entityType": "employee", "code": "x" })),
        ),
        (reqwest::Method::GET, format!("/hooks/{hook}"), None),
        (reqwest::Method::POST, format!("/hooks/{hook}/run"), None),
        (reqwest::Method::GET, format!("/hooks/{hook}/executions"), None),
        (reqwest::Method::GET, format!("/executions/{execution}"), None),
        (reqwest::Method::PATCH, format!("/integrations/{integration}"), Some(json!({ "name": "Mine" }))),
        (reqwest::Method::PATCH, format!("/hooks/{hook}"), Some(json!({ "enabled": false }))),
        (reqwest::Method::DELETE, format!("/hooks/{hook}"), None),
        (reqwest::Method::DELETE, format!("/integrations/{integration}"), None),
    ];
    for (method, path, body) in &routes {
        let (status, answer) = send(&server, method.clone(), &a(path), Some(&key_b), body.clone()).await;
        assert_eq!(status, 403, "B's key on A's {method} {path}: {answer}");
        assert_error(&answer, "FORBIDDEN");
        if path == "/integrations" {
            continue; // B's own list and create are B's business
        }
        let (status, answer) =
            send(&server, method.clone(), &format!("/api/v1/org/{org_b}{path}"), Some(&key_b), body.clone()).await;
        assert_eq!(status, 404, "A's ids under B's org, {method} {path}: {answer}");
    }
    let (_, secrets) = call(&server, &a(&format!("/integrations/{integration}/secrets")), Some(&key_a)).await;
    assert_eq!(secrets["meta"]["total"], 1, "B deleted nothing of A's");
    // A revoked key opens nothing any more.
    let employees = format!("/api/v1/org/{org_a}/employees");
    let output = flowstate(args(&["key", "revoke", "--db", &db, "--org", &org_b, "--id", &narrow])).await;
    assert_ne!(output.status.code(), Some(0), "not B's key to revoke");
    assert_eq!(call(&server, &employees, Some(&narrow)).await.0, 200);
    let output = flowstate(args(&["key", "revoke", "--db", &db, "--org", &org_a, "--id", &narrow])).await;
    assert_eq!(output.status.code(), Some(0), "{}", crate::stderr(&output));
    let (status, body) = call(&server, &employees, Some(&narrow)).await;
    assert_eq!(status, 401, "{body}");
    assert_error(&body, "UNAUTHORIZED");
    let (_, found) = call(&server, &a(&format!("/hooks/{hook}")), Some(&key_a)).await;
    assert_eq!(
        (found["data"]["enabled"].clone(), found["data"]["name"].clone()),
        (json!(true), json!("h")),
        "B changed nothing of A's"
    );
}
