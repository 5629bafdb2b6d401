//! Starting with no configuration, restarting (data, `ctx.kv` and interrupted runs), and
//! rotating the master key.

use std::process::Command;

use serde_json::{Value, json};

use super::*;
use crate::{args, flowstate, postgres_url, stdout, sync_apply_args};

async fn first_start_then_api_then_restart(db: &str) {
    let directory = tempfile::tempdir().unwrap();
    let server = start(db, directory.path());
    let (org, key) = server.first_start.clone().expect("a new database prints its first organisation and key");
    assert!(org.starts_with("org_") && key.starts_with("private_"), "{org} {key}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(directory.path().join("flowstate.key")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the master key file is the owner's only");
    }

    assert_eq!(call(&server, "/healthz", None).await, (200, json!({ "status": "ok" })));
    let employees = format!("/api/v1/org/{org}/employees");
    let (status, body) = call(&server, &employees, None).await;
    assert_eq!(status, 401);
    assert_error(&body, "UNAUTHORIZED");
    let (status, body) = call(&server, &employees, Some("private_0_0")).await;
    assert_eq!(status, 401);
    assert_error(&body, "UNAUTHORIZED");

    // A sync next to the running server; the API shows what it made.
    let output = flowstate(sync_apply_args(db, &org, "employee", &people(directory.path()))).await;
    assert_eq!(output.status.code(), Some(0));
    let (status, body) = call(&server, &employees, Some(&key)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["meta"], json!({ "page": 1, "limit": 50, "total": 2, "hasNextPage": false }));
    assert_eq!(body["data"][0]["externalId"], "EMP-1");
    let (_, page) =
        call(&server, &format!("{employees}?limit=1&page=1&sortBy=lastName&sortDir=desc"), Some(&key)).await;
    assert_eq!(
        (page["data"][0]["externalId"].as_str(), page["meta"]["hasNextPage"].as_bool()),
        (Some("EMP-1"), Some(true))
    );
    let (_, found) = call(&server, &format!("{employees}?search=HOPPER"), Some(&key)).await;
    assert_eq!(found["meta"]["total"], 1);
    // U+0000 is in no stored text (PostgreSQL cannot store it): refused as input, never found.
    let nul = json!({ "externalId": "E\u{0}1", "firstName": "N", "lastName": "U", "email": "nul@example.com" });
    let (status, refused) = send(&server, reqwest::Method::POST, &employees, Some(&key), Some(nul)).await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["error"]["details"][0]["field"], "externalId", "{refused}");
    let (status, _) = call(&server, &format!("{employees}/E%001"), Some(&key)).await;
    assert_eq!(status, 404);

    // Lists ordered by a column page in the database; with a search they are sorted in
    // memory. Both give the same pages: absent externalIds last, text bytewise, ties by id.
    // Fields sort in the database too: text bytewise ("Émile" after "b"), ties by id, absent
    // start dates last.
    for (external_id, email, last_name, start_date) in [
        (None, "n1@example.com", "b", None),
        (None, "n2@example.com", "Émile", Some("2024-02-01")),
        (Some("emp-3"), "l@example.com", "B", Some("2023-12-31")),
        (Some("Émile"), "e@example.com", "b", None),
        (Some("EMP-10"), "t@example.com", "Y", Some("2024-02-01")),
    ] {
        let mut body = json!({ "firstName": "X", "lastName": last_name, "email": email });
        if let Some(external_id) = external_id {
            body["externalId"] = json!(external_id);
        }
        if let Some(start_date) = start_date {
            body["startDate"] = json!(start_date);
        }
        let (status, created) = send(&server, reqwest::Method::POST, &employees, Some(&key), Some(body)).await;
        assert_eq!(status, 201, "{created}");
    }
    for sort in ["externalId", "id", "createdAt", "updatedAt", "lastName", "email", "startDate", "firstName"] {
        for direction in ["asc", "desc"] {
            for page in 1..=3 {
                let query = format!("limit=3&page={page}&sortBy={sort}&sortDir={direction}");
                let (_, in_database) = call(&server, &format!("{employees}?{query}"), Some(&key)).await;
                let (_, in_memory) = call(&server, &format!("{employees}?{query}&search=@"), Some(&key)).await;
                let ids = |body: &Value| -> Vec<Value> {
                    let rows = body["data"].as_array().unwrap_or_else(|| panic!("{query}: {body}"));
                    rows.iter().map(|row| row["id"].clone()).collect()
                };
                assert_eq!(ids(&in_database), ids(&in_memory), "{query}");
                assert_eq!(in_database["meta"], in_memory["meta"], "{query}");
                assert_eq!(in_database["meta"]["total"], 7);
            }
        }
    }
    // Vacancies hide those currently filled in the database too: a filler whose end date has
    // passed leaves the vacancy open again.
    let vacancies = format!("/api/v1/org/{org}/vacancies");
    for (external_id, fill) in [
        (
            Some("VAC-A"),
            Some(
                json!({ "firstName": "P", "lastName": "Q", "email": "past@example.com", "startDate": "2019-01-01", "endDate": "2020-01-31" }),
            ),
        ),
        (
            Some("VAC-B"),
            Some(json!({ "firstName": "P", "lastName": "Q", "email": "now@example.com", "startDate": "2019-01-01" })),
        ),
        (
            Some("VAC-C"),
            Some(
                json!({ "fillerType": "contractor", "name": "Studio", "rate": 500, "rateType": "daily", "currencyCode": "GBP", "endDate": "2099-01-01" }),
            ),
        ),
        (Some("VAC-D"), None),
        (None, None),
    ] {
        // Numbers sort as numbers in the database too; absent salaries last.
        let (fte, salary_min) = match external_id {
            Some("VAC-A") => (0.5, Some(50000.0)),
            Some("VAC-B") => (1.0, None),
            Some("VAC-C") => (0.25, Some(70000.5)),
            Some(_) => (0.5, Some(9000.0)),
            None => (1.0, None),
        };
        let mut body = json!({ "role": "Role", "fte": fte });
        if let Some(salary_min) = salary_min {
            body["salaryMin"] = json!(salary_min);
        }
        if let Some(external_id) = external_id {
            body["externalId"] = json!(external_id);
        }
        let (status, created) = send(&server, reqwest::Method::POST, &vacancies, Some(&key), Some(body)).await;
        assert_eq!(status, 201, "{created}");
        if let Some(fill) = fill {
            let path = format!("{vacancies}/{}/fill", created["data"]["id"].as_str().unwrap());
            let (status, filled) = send(&server, reqwest::Method::POST, &path, Some(&key), Some(fill)).await;
            assert_eq!(status, 201, "{filled}");
        }
    }
    for (filled, sort) in ["", "&excludeFilled=false"].into_iter().flat_map(|filled| {
        ["externalId", "fte", "salaryMin", "role", "status"].into_iter().map(move |sort| (filled, sort))
    }) {
        for direction in ["asc", "desc"] {
            for page in 1..=3 {
                let query = format!("limit=2&page={page}&sortBy={sort}&sortDir={direction}{filled}");
                let (_, in_database) = call(&server, &format!("{vacancies}?{query}"), Some(&key)).await;
                let (_, in_memory) = call(&server, &format!("{vacancies}?{query}&search=role"), Some(&key)).await;
                let ids = |body: &Value| -> Vec<Value> {
                    let rows = body["data"].as_array().unwrap_or_else(|| panic!("{query}: {body}"));
                    rows.iter().map(|row| row["id"].clone()).collect()
                };
                assert_eq!(ids(&in_database), ids(&in_memory), "{query}");
                assert_eq!(in_database["meta"], in_memory["meta"], "{query}");
            }
        }
    }
    let (_, open) = call(&server, &format!("{vacancies}?limit=10"), Some(&key)).await;
    let open: Vec<Value> = open["data"].as_array().unwrap().iter().map(|row| row["externalId"].clone()).collect();
    assert_eq!(open, [json!("VAC-A"), json!("VAC-D"), Value::Null], "B and C are filled");

    let (_, first) = call(&server, &format!("{employees}?limit=7"), Some(&key)).await;
    let order: Vec<Value> = first["data"].as_array().unwrap().iter().map(|row| row["externalId"].clone()).collect();
    assert_eq!(
        order,
        [json!("EMP-1"), json!("EMP-10"), json!("EMP-2"), json!("emp-3"), json!("Émile"), Value::Null, Value::Null]
    );
    let internal_id = body["data"][1]["id"].as_str().unwrap().to_string();
    for id in [internal_id.as_str(), "EMP-2"] {
        let (status, one) = call(&server, &format!("{employees}/{id}"), Some(&key)).await;
        assert_eq!((status, one["data"]["email"].as_str()), (200, Some("grace@example.com")), "{id}");
    }
    let (status, body) = call(&server, &format!("{employees}/EMP-404"), Some(&key)).await;
    assert_eq!(status, 404);
    assert_error(&body, "NOT_FOUND");
    let (status, body) = call(&server, &format!("{employees}?limit=201"), Some(&key)).await;
    assert_eq!(status, 400);
    assert_error(&body, "VALIDATION_ERROR");
    assert_eq!(body["error"]["details"][0]["field"], "limit");

    // The OpenAPI document lists every route exercised here.
    let (_, document) = call(&server, "/api/v1/openapi.json", None).await;
    for path in [
        "/healthz",
        "/api/v1/org/{orgId}/employees",
        "/api/v1/org/{orgId}/employees/{id}",
        "/api/v1/org/{orgId}/vacancies",
    ] {
        assert!(document["paths"].get(path).is_some(), "{path} is documented");
    }
    // And every documented route exists: without a key each answers 401, never 404 or 405.
    let mut tried = 0;
    for (path, operations) in document["paths"].as_object().unwrap() {
        if !path.starts_with("/api/v1/org/") {
            continue;
        }
        let concrete = path
            .replace("{orgId}", &org)
            .replace("{id}", "x")
            .replace("{integrationId}", "x")
            .replace("{hookId}", "x")
            .replace("{executionId}", "x")
            .replace("{name}", "x")
            .replace("{rateId}", "x")
            .replace("{workTypeId}", "x");
        assert!(!concrete.contains('{'), "a path parameter this test does not know: {path}");
        for method in operations.as_object().unwrap().keys() {
            let method: reqwest::Method = method.to_uppercase().parse().unwrap();
            let (status, body) = send(&server, method.clone(), &concrete, None, Some(json!({}))).await;
            assert_eq!(status, 401, "{method} {path}: {body}");
            tried += 1;
        }
    }
    assert!(tried > 40, "{tried} documented operations");
    drop(server);

    // A second start on the same database creates nothing and prints no key.
    let server = start(db, directory.path());
    assert!(server.first_start.is_none(), "the key is shown once, on the first start only");
    assert_eq!(call(&server, &employees, Some(&key)).await.0, 200);

    // SIGTERM stops it cleanly.
    let mut server = server;
    let pid = server.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = server.child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "a clean stop on SIGTERM");
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_starts_with_no_configuration_and_serves_the_api() {
    let directory = tempfile::tempdir().unwrap();
    let db = directory.path().join("flowstate.db").display().to_string();
    first_start_then_api_then_restart(&db).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_starts_with_no_configuration_and_serves_the_api_on_postgres() {
    // A schema of its own, so this server's first start sees a new database.
    let Some(db) = postgres_url() else { return };
    first_start_then_api_then_restart(&db).await;
}

/// `ctx.kv` is persistent (002 "ctx.kv"): what a run stored, the next run reads, also after
/// the server restarted.
#[tokio::test(flavor = "multi_thread")]
async fn ctx_kv_survives_a_restart() {
    let directory = tempfile::tempdir().unwrap();
    let db = directory.path().join("flowstate.db").display().to_string();
    let server = start(&db, directory.path());
    let (org, key) = server.first_start.clone().unwrap();
    let a = |path: &str| format!("/api/v1/org/{org}{path}");
    let integration = create_integration(&server, &a(""), &key, json!({ "name": "HR", "sourceSystem": "hr" })).await;
    let code = "async function run(ctx) {
        const runs = Number((await ctx.kv.get('runs')) || '0') + 1;
        await ctx.kv.set('runs', String(runs));
        ctx.log.info('counted', { runs });
        return { records: [] };
    }";
    let hook = create_hook(
        &server,
        &a(""),
        &key,
        &integration,
        json!({ "name": "counter", "type": "PULL", "entityType": "employee", "code": code }),
    )
    .await;
    let runs = |execution: &Value| execution["record"]["logs"][0]["data"]["runs"].clone();
    let first = run_and_wait(&server, &org, &key, &hook).await;
    assert_eq!((first["status"].clone(), runs(&first)), (json!("succeeded"), json!(1)), "{first}");
    drop(server);
    let server = start(&db, directory.path());
    let second = run_and_wait(&server, &org, &key, &hook).await;
    assert_eq!(runs(&second), json!(2), "{second}");
}

/// A server killed (SIGKILL) in the middle of an execution: on the next start that execution
/// is `failed` with the reason `interrupted`; nothing stays `running`.
#[tokio::test(flavor = "multi_thread")]
async fn an_execution_cut_off_by_a_crash_is_failed_as_interrupted_on_restart() {
    let directory = tempfile::tempdir().unwrap();
    let db = directory.path().join("flowstate.db").display().to_string();
    let mut server = start(&db, directory.path());
    let (org, key) = server.first_start.clone().unwrap();
    let a = |path: &str| format!("/api/v1/org/{org}{path}");
    let integration =
        create_integration(&server, &a(""), &key, json!({ "name": "Slow", "sourceSystem": "slow" })).await;
    let slow = "async function run(ctx) { await new Promise((resolve) => setTimeout(resolve, 20000)); return { records: [] }; }";
    let hook = create_hook(
        &server,
        &a(""),
        &key,
        &integration,
        json!({ "name": "slow", "type": "PULL", "entityType": "employee", "code": slow }),
    )
    .await;
    let (status, body) =
        send(&server, reqwest::Method::POST, &a(&format!("/hooks/{hook}/run")), Some(&key), None).await;
    assert_eq!(status, 202);
    let execution = body["data"]["id"].as_str().unwrap().to_string();
    // Queued, then claimed by a worker: the crash must cut it off while it runs.
    wait_for_status(&server, &a(&format!("/executions/{execution}")), &key, "running").await;
    let (status, body) =
        send(&server, reqwest::Method::POST, &a(&format!("/hooks/{hook}/run")), Some(&key), None).await;
    assert_eq!(status, 409, "one execution of a hook at a time: {body}");
    assert_error(&body, "CONFLICT");
    server.child.kill().unwrap();
    server.child.wait().unwrap();

    let server = start(&db, directory.path());
    let (_, body) = call(&server, &a(&format!("/executions/{execution}")), Some(&key)).await;
    assert_eq!(
        (body["data"]["status"].as_str(), body["data"]["error"].as_str()),
        (Some("failed"), Some("interrupted"))
    );
    assert!(body["data"]["finishedAt"].is_string());
}

/// `flowstate secrets rotate-key` re-seals the secrets under a new key: a hook still reads
/// them after a restart with the new key file; with a key that cannot open them, nothing
/// changes.
#[tokio::test(flavor = "multi_thread")]
async fn rotating_the_master_key_keeps_secrets_readable() {
    let directory = tempfile::tempdir().unwrap();
    let db = directory.path().join("flowstate.db").display().to_string();
    let key_file = directory.path().join("flowstate.key");
    let server = start(&db, directory.path());
    let (org, key) = server.first_start.clone().unwrap();
    let a = |path: &str| format!("/api/v1/org/{org}{path}");
    let integration = create_integration(&server, &a(""), &key, json!({ "name": "HR", "sourceSystem": "hr" })).await;
    send(
        &server,
        reqwest::Method::PUT,
        &a(&format!("/integrations/{integration}/secrets/token")),
        Some(&key),
        Some(json!({ "value": "abc-123" })),
    )
    .await;
    let code = "async function run(ctx) { if (ctx.secrets.token !== 'abc-123') throw new Error('wrong secret'); return { records: [] }; }";
    let hook = create_hook(
        &server,
        &a(""),
        &key,
        &integration,
        json!({ "name": "check", "type": "PULL", "entityType": "employee", "code": code }),
    )
    .await;
    assert_eq!(run_and_wait(&server, &org, &key, &hook).await["status"], "succeeded");
    drop(server);

    let before = std::fs::read_to_string(&key_file).unwrap();
    let rotate = |file: &std::path::Path| {
        args(&["secrets", "rotate-key", "--db", &db, "--master-key-file", &file.display().to_string()])
    };
    let output = flowstate(rotate(&key_file)).await;
    assert_eq!(output.status.code(), Some(0), "{}", crate::stderr(&output));
    assert!(stdout(&output).contains("re-sealed 1 secret(s)"), "{}", stdout(&output));
    let after = std::fs::read_to_string(&key_file).unwrap();
    assert_ne!(before, after);
    assert!(!directory.path().join("flowstate.key.new").exists());

    let wrong = directory.path().join("wrong.key");
    std::fs::write(&wrong, "11".repeat(32)).unwrap();
    let output = flowstate(rotate(&wrong)).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(
        crate::stderr(&output).contains("cannot be opened with the current master key"),
        "{}",
        crate::stderr(&output)
    );
    assert!(!crate::stderr(&output).contains("abc-123"));

    let server = start(&db, directory.path());
    assert_eq!(
        run_and_wait(&server, &org, &key, &hook).await["status"],
        "succeeded",
        "the secret opens with the new key"
    );
    drop(server);

    // A rotation cut off after re-sealing, before the new key moved into place: the next start
    // keeps the staged key (it opens the secrets) ...
    let staged = directory.path().join("flowstate.key.new");
    std::fs::rename(&key_file, &staged).unwrap();
    std::fs::write(&key_file, &before).unwrap();
    let server = start(&db, directory.path());
    assert!(!staged.exists());
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), after);
    assert_eq!(run_and_wait(&server, &org, &key, &hook).await["status"], "succeeded");
    drop(server);
    // ... and one cut off before re-sealing leaves the current key in place.
    std::fs::write(&staged, "22".repeat(32)).unwrap();
    let server = start(&db, directory.path());
    assert!(!staged.exists());
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), after);
    assert_eq!(run_and_wait(&server, &org, &key, &hook).await["status"], "succeeded");
}
