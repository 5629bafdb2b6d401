//! `flowstate serve`, black-box: the real binary on a random port, driven over HTTP.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
};

use serde_json::{Value, json};

use crate::{args, flowstate, postgres_url, stdout, sync_apply_args};

/// A running `flowstate serve`, killed when dropped.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) base: String,
    /// The first-start lines: organisation id and admin key (None on a later start).
    pub(crate) first_start: Option<(String, String)>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn start(db: &str, directory: &std::path::Path) -> Server {
    start_with(db, directory, &[])
}

pub(crate) fn start_with(db: &str, directory: &std::path::Path, extra: &[String]) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_flowstate"))
        .args(["serve", "--listen", "127.0.0.1:0", "--db", db, "--master-key-file"])
        .arg(directory.join("flowstate.key"))
        .args(extra)
        .env_remove("FLOWSTATE_MASTER_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Killed and waited for on drop, also when reading its output fails.
    let mut server = Server { child, base: String::new(), first_start: None };
    let mut lines = BufReader::new(server.child.stdout.take().unwrap()).lines();
    let (mut org, mut key) = (None, None);
    loop {
        let line = lines.next().expect("the server prints where it listens").unwrap();
        if let Some(value) = line.trim().strip_prefix("organisation id:") {
            org = Some(value.trim().to_string());
        } else if let Some(value) = line.trim().strip_prefix("admin API key:") {
            key = Some(value.trim().to_string());
        } else if let Some(address) = line.strip_prefix("listening on ") {
            server.base = address.trim().to_string();
            server.first_start = org.take().zip(key.take());
            return server;
        }
    }
}

pub(crate) async fn call(server: &Server, path: &str, key: Option<&str>) -> (u16, Value) {
    send(server, reqwest::Method::GET, path, key, None).await
}

pub(crate) async fn send(
    server: &Server,
    method: reqwest::Method,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new().request(method, format!("{}{path}", server.base));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    if let Some(body) = body {
        request = request.header("content-type", "application/json").body(body.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body = response.text().await.unwrap();
    (status, serde_json::from_str(&body).unwrap_or(Value::String(body)))
}

/// Creates an integration under `org_path` (`/api/v1/org/{orgId}`); its id.
pub(crate) async fn create_integration(server: &Server, org_path: &str, key: &str, body: Value) -> String {
    let (status, created) =
        send(server, reqwest::Method::POST, &format!("{org_path}/integrations"), Some(key), Some(body)).await;
    assert_eq!(status, 201, "{created}");
    created["data"]["id"].as_str().unwrap().to_string()
}

/// Creates a hook of the integration; its id.
pub(crate) async fn create_hook(server: &Server, org_path: &str, key: &str, integration: &str, body: Value) -> String {
    let path = format!("{org_path}/integrations/{integration}/hooks");
    let (status, created) = send(server, reqwest::Method::POST, &path, Some(key), Some(body)).await;
    assert_eq!(status, 201, "{created}");
    created["data"]["id"].as_str().unwrap().to_string()
}

pub(crate) fn assert_error(body: &Value, code: &str) {
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert!(body["error"]["errorId"].as_str().is_some_and(|id| id.starts_with("err_")), "{body}");
}

fn people(directory: &std::path::Path) -> std::path::PathBuf {
    let file = directory.join("people.ndjson");
    let lines = [
        json!({ "externalId": "EMP-1", "data": { "firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com" } }),
        json!({ "externalId": "EMP-2", "data": { "firstName": "Grace", "lastName": "Hopper", "email": "grace@example.com" } }),
    ];
    std::fs::write(&file, lines.iter().map(Value::to_string).collect::<Vec<_>>().join("\n")).unwrap();
    file
}

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

/// Workforce entities are created, changed and deleted over the API with the sync's rules:
/// every refusal names its field, externalIds are unique, and `{id}` is either id.
#[tokio::test(flavor = "multi_thread")]
async fn workforce_entities_are_written_over_the_api() {
    let directory = tempfile::tempdir().unwrap();
    let db = directory.path().join("flowstate.db").display().to_string();
    let server = start(&db, directory.path());
    let (org, key) = server.first_start.clone().unwrap();
    let a = |path: &str| format!("/api/v1/org/{org}{path}");
    let write = |method: reqwest::Method, path: String, body: Option<Value>| {
        let key = key.clone();
        let server = &server;
        async move { send(server, method, &path, Some(&key), body).await }
    };

    let (status, body) = write(
        reqwest::Method::POST,
        a("/employees"),
        Some(json!({ "firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com",
        "teamAllocations": [{ "teamId": "T-1", "teamName": "Core", "fte": 0.5, "startDate": "2026-01-01" }] })),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let id = body["data"]["id"].as_str().unwrap().to_string();
    assert_eq!(
        (body["data"]["externalId"].clone(), body["data"]["teamAllocations"][0]["sourceSystem"].clone()),
        (Value::Null, Value::Null)
    );
    let (status, teams) = call(&server, &a("/teams/T-1"), Some(&key)).await;
    assert_eq!(
        (status, teams["data"]["name"].clone()),
        (200, json!("Core")),
        "the team named by the allocation exists"
    );

    let (status, body) = write(
        reqwest::Method::POST,
        a("/employees"),
        Some(
            json!({ "externalId": "EMP-9", "firstName": "Grace", "lastName": "Hopper", "email": "grace@example.com" }),
        ),
    )
    .await;
    assert_eq!((status, body["data"]["externalId"].clone()), (201, json!("EMP-9")), "{body}");
    let (status, body) = write(
        reqwest::Method::POST,
        a("/employees"),
        Some(json!({ "externalId": "EMP-9", "firstName": "G", "lastName": "H", "email": "g@example.com" })),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_error(&body, "CONFLICT");
    let (status, body) = write(
        reqwest::Method::POST,
        a("/employees"),
        Some(json!({ "firstName": "X", "email": "grace@example.com",
        "teamAllocations": [{ "teamId": "T-1", "fte": 12, "startDate": "2026-01-01" }] })),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_error(&body, "VALIDATION_ERROR");
    let fields: Vec<&str> =
        body["error"]["details"].as_array().unwrap().iter().filter_map(|problem| problem["field"].as_str()).collect();
    assert!(fields.contains(&"teamAllocations[0].fte"), "{body}");
    let (status, body) = write(
        reqwest::Method::POST,
        a("/employees"),
        Some(json!({ "firstName": "X", "lastName": "Y", "email": "GRACE@example.com" })),
    )
    .await;
    assert_eq!(
        (status, body["error"]["details"][0]["field"].clone()),
        (400, json!("email")),
        "emails are unique: {body}"
    );
    let (status, body) = write(reqwest::Method::POST, a("/employees"), Some(json!([1]))).await;
    assert_eq!(status, 400, "{body}");

    let (status, body) = write(
        reqwest::Method::PATCH,
        a("/employees/EMP-9"),
        Some(json!({ "lastName": "Murray Hopper", "endDate": "2027-01-31" })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["data"]["lastName"].clone(), body["data"]["firstName"].clone()),
        (json!("Murray Hopper"), json!("Grace"))
    );
    let (status, body) =
        write(reqwest::Method::PATCH, a(&format!("/employees/{id}")), Some(json!({ "externalId": "EMP-1" }))).await;
    assert_eq!((status, body["error"]["details"][0]["field"].clone()), (400, json!("externalId")), "{body}");
    let (status, body) =
        write(reqwest::Method::PATCH, a(&format!("/employees/{id}")), Some(json!({ "startDate": "2026-02-30" }))).await;
    assert_eq!((status, body["error"]["details"][0]["field"].clone()), (400, json!("startDate")), "{body}");
    let (status, _) = write(reqwest::Method::PATCH, a("/employees/nobody"), Some(json!({ "lastName": "Z" }))).await;
    assert_eq!(status, 404);

    assert_eq!(write(reqwest::Method::DELETE, a("/employees/EMP-9"), None).await.0, 204);
    assert_eq!(call(&server, &a("/employees/EMP-9"), Some(&key)).await.0, 404);
    assert_eq!(write(reqwest::Method::DELETE, a("/employees/EMP-9"), None).await.0, 404, "gone already");
    let (_, list) = call(&server, &a("/employees"), Some(&key)).await;
    assert_eq!(list["meta"]["total"], 1);

    // Filling a vacancy over the API: the filler is created and takes the vacancy's
    // allocations; the vacancy leaves the default listing.
    let (status, body) = write(
        reqwest::Method::POST,
        a("/vacancies"),
        Some(json!({ "externalId": "VAC-1", "role": "Engineer",
        "teamAllocations": [{ "teamId": "T-1", "fte": 1, "startDate": "2026-01-01" }] })),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let fill = a("/vacancies/VAC-1/fill");
    let (status, body) = write(reqwest::Method::POST, fill.clone(), Some(json!({ "fillerType": "robot" }))).await;
    assert_eq!((status, body["error"]["details"][0]["field"].clone()), (400, json!("fillerType")), "{body}");
    let (status, body) =
        write(reqwest::Method::POST, fill.clone(), Some(json!({ "fillerType": "contractor", "name": "Studio" }))).await;
    assert_eq!((status, body["error"]["details"][0]["field"].clone()), (400, json!("rate")), "{body}");
    let (status, body) = write(
        reqwest::Method::POST,
        fill.clone(),
        Some(json!({ "firstName": "Lin", "lastName": "Chen", "email": "lin@example.com", "startDate": "2026-05-01" })),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        (body["data"]["vacancy"]["status"].clone(), body["data"]["vacancy"]["isFilled"].clone()),
        (json!("filled"), json!(true))
    );
    assert_eq!(body["data"]["employee"]["teamAllocations"][0]["teamId"], "T-1");
    assert_eq!(body["data"]["vacancy"]["filledBy"]["id"], body["data"]["employee"]["id"]);
    let (status, body) = write(
        reqwest::Method::POST,
        fill,
        Some(json!({ "firstName": "X", "lastName": "Y", "email": "x@example.com", "startDate": "2026-05-01" })),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    let (_, open) = call(&server, &a("/vacancies"), Some(&key)).await;
    let (_, all) = call(&server, &a("/vacancies?excludeFilled=false"), Some(&key)).await;
    assert_eq!((open["meta"]["total"].clone(), all["meta"]["total"].clone()), (json!(0), json!(1)));
    assert_eq!(write(reqwest::Method::POST, a("/vacancies/VAC-404/fill"), Some(json!({}))).await.0, 404);
}

/// Job roles, custom attribute definitions, exchange rates and adjustment histories over the
/// API: created, listed, refused with the field named, and a definition usable at once.
#[tokio::test(flavor = "multi_thread")]
async fn reference_data_and_adjustments_over_the_api() {
    let directory = tempfile::tempdir().unwrap();
    let db = directory.path().join("flowstate.db").display().to_string();
    let server = start(&db, directory.path());
    let (org, key) = server.first_start.clone().unwrap();
    let a = |path: &str| format!("/api/v1/org/{org}{path}");
    let post = |path: String, body: Value| {
        let key = key.clone();
        let server = &server;
        async move { send(server, reqwest::Method::POST, &path, Some(&key), Some(body)).await }
    };

    let (status, body) = post(a("/job-roles"), json!({ "title": "Engineer", "externalId": "JR-1" })).await;
    assert_eq!((status, body["data"]["title"].clone()), (201, json!("Engineer")), "{body}");
    assert_eq!(post(a("/job-roles"), json!({ "title": "Other", "externalId": "JR-1" })).await.0, 409);
    let (status, body) = post(a("/job-roles"), json!({ "externalId": "JR-2" })).await;
    assert_eq!((status, body["error"]["details"][0]["field"].clone()), (400, json!("title")), "{body}");

    let (status, body) = post(
        a("/custom-attribute-definitions"),
        json!({ "name": "Cost Centre", "fieldType": "STRING", "entityTypes": ["EMPLOYEE"] }),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        (body["data"]["attributeKey"].clone(), body["data"]["entityTypes"].clone()),
        (json!("cost_centre"), json!(["EMPLOYEE"]))
    );
    let (status, body) = post(
        a("/custom-attribute-definitions"),
        json!({ "name": "X", "fieldType": "COLOUR", "entityTypes": ["SHIP"] }),
    )
    .await;
    let fields: Vec<&str> =
        body["error"]["details"].as_array().unwrap().iter().filter_map(|problem| problem["field"].as_str()).collect();
    assert_eq!((status, fields), (400, vec!["fieldType", "entityTypes"]), "{body}");
    let (status, body) = post(
        a("/custom-attribute-definitions"),
        json!({ "name": "Cost Centre", "fieldType": "NUMBER", "entityTypes": ["EMPLOYEE"] }),
    )
    .await;
    assert_eq!(status, 400, "a name is defined once: {body}");
    let (status, body) = post(a("/employees"), json!({ "externalId": "EMP-1", "firstName": "Ada", "lastName": "L", "email": "ada@example.com", "customAttributes": { "cost_centre": "CC-7" } })).await;
    assert_eq!((status, body["data"]["customAttributes"]["cost_centre"].clone()), (201, json!("CC-7")), "{body}");
    let (_, definitions) = call(&server, &a("/custom-attribute-definitions"), Some(&key)).await;
    assert_eq!(definitions["meta"]["total"], 1);

    let rate = json!({ "fromCurrency": "EUR", "toCurrency": "GBP", "rate": 0.85, "effectiveDate": "2026-01-01" });
    let (status, body) = post(a("/exchange-rates"), rate).await;
    assert_eq!((status, body["data"]["rate"].clone()), (201, json!(0.85)), "{body}");
    let rate_id = body["data"]["id"].as_str().unwrap().to_string();
    let (status, body) = post(
        a("/exchange-rates"),
        json!({ "fromCurrency": "EUR", "toCurrency": "GBP", "rate": "high", "effectiveDate": "2026-01-01" }),
    )
    .await;
    assert_eq!((status, body["error"]["details"][0]["field"].clone()), (400, json!("rate")), "{body}");
    let (status, body) = post(
        a("/exchange-rates"),
        json!({ "fromCurrency": "EUR", "toCurrency": "EUR", "rate": 1, "effectiveDate": "2026-01-01" }),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (_, rates) = call(&server, &a("/exchange-rates"), Some(&key)).await;
    assert_eq!(rates["meta"]["total"], 1);
    let rate_path = a(&format!("/exchange-rates/{rate_id}"));
    assert_eq!(send(&server, reqwest::Method::DELETE, &rate_path, Some(&key), None).await.0, 204);
    assert_eq!(send(&server, reqwest::Method::DELETE, &rate_path, Some(&key), None).await.0, 404);

    let salary = json!({ "effectiveDate": "2026-01-01", "salary": 80000, "currencyCode": "GBP" });
    let (status, body) = post(a("/employees/EMP-1/salary-adjustments"), salary).await;
    assert_eq!((status, body["data"]["salaryAdjustments"][0]["salary"].clone()), (201, json!(80000.0)), "{body}");
    let raise = json!({ "effectiveDate": "2026-07-01", "salary": 85000, "currencyCode": "GBP", "reason": "review" });
    assert_eq!(post(a("/employees/EMP-1/salary-adjustments"), raise).await.0, 201);
    let (status, history) = call(&server, &a("/employees/EMP-1/salary-adjustments"), Some(&key)).await;
    assert_eq!((status, history["meta"]["total"].clone()), (200, json!(2)), "{history}");
    let (status, body) = post(
        a("/employees/EMP-1/salary-adjustments"),
        json!({ "effectiveDate": "2026-08-01", "salary": -5, "currencyCode": "GBP" }),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(post(a("/employees/EMP-1/rate-adjustments"), json!({})).await.0, 404, "employees have salaries");
    assert_eq!(post(a("/employees/EMP-404/salary-adjustments"), json!({})).await.0, 404);
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

/// Hooks and integrations change field by field and go away over the API; every refusal
/// names its field.
#[tokio::test(flavor = "multi_thread")]
async fn hooks_and_integrations_change_and_go_over_the_api() {
    let directory = tempfile::tempdir().unwrap();
    let db = directory.path().join("flowstate.db").display().to_string();
    let server = start(&db, directory.path());
    let (org, key) = server.first_start.clone().unwrap();
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
        assert!(body["error"]["message"].as_str().unwrap().contains(words), "{change}: {body}");
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

const HR_KEY: &str = "hr-secret-key-7f3a";

/// Waits (up to 30 s) until the execution at `path` has `status`.
pub(crate) async fn wait_for_status(server: &Server, path: &str, key: &str, status: &str) -> Value {
    for _ in 0..600 {
        let (_, body) = call(server, path, Some(key)).await;
        if body["data"]["status"] == status {
            return body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{path} never reached {status}");
}

/// Runs the hook through the API and waits for its execution to end.
/// Every timestamp in `value` (any string that starts like one, `YYYY-MM-DDT`) has the one
/// format: RFC 3339, UTC, `Z`, microseconds (`2026-12-02T00:40:03.902228Z`). Returns how
/// many it checked.
pub(crate) fn assert_one_timestamp_format(value: &Value) -> usize {
    match value {
        Value::String(text) => {
            let bytes = text.as_bytes();
            let starts_like_one = bytes.len() > 11
                && bytes[..4].iter().all(u8::is_ascii_digit)
                && bytes[4] == b'-'
                && bytes[7] == b'-'
                && bytes[10] == b'T';
            if !starts_like_one {
                return 0;
            }
            let shape_ok = bytes.len() == 27
                && bytes[19] == b'.'
                && bytes[20..26].iter().all(u8::is_ascii_digit)
                && bytes[26] == b'Z'
                && chrono::DateTime::parse_from_rfc3339(text).is_ok();
            assert!(shape_ok, "{text:?} is not in the one timestamp format (2026-12-02T00:40:03.902228Z)");
            1
        }
        Value::Array(items) => items.iter().map(assert_one_timestamp_format).sum(),
        Value::Object(fields) => fields.values().map(assert_one_timestamp_format).sum(),
        _ => 0,
    }
}

async fn run_and_wait(server: &Server, org: &str, key: &str, hook: &str) -> Value {
    let (status, started) =
        send(server, reqwest::Method::POST, &format!("/api/v1/org/{org}/hooks/{hook}/run"), Some(key), None).await;
    assert_eq!(status, 202, "{started}");
    assert_eq!(started["data"]["status"], "queued");
    let execution = started["data"]["id"].as_str().unwrap().to_string();
    for _ in 0..300 {
        let (status, body) = call(server, &format!("/api/v1/org/{org}/executions/{execution}"), Some(key)).await;
        assert_eq!(status, 200, "{body}");
        if !["queued", "running"].contains(&body["data"]["status"].as_str().unwrap_or_default()) {
            return body["data"].clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the execution did not end");
}

fn total(execution: &Value, count: &str) -> u64 {
    execution["pages"].as_array().unwrap().iter().map(|page| page[count].as_u64().unwrap()).sum()
}

/// The spec's PULL flow through the server: an integration with a secret, a hook, a manual
/// run against a local HTTPS HR API (pages applied and committed as they come), then the
/// same run again changing nothing; the secret's value never comes back.
#[tokio::test(flavor = "multi_thread")]
async fn a_pull_hook_runs_through_the_server_into_the_store() {
    let directory = tempfile::tempdir().unwrap();
    let dataset = flowstate_example_api::HrDataset::new(120, 0, HR_KEY);
    let (_hr, routing) = routed_to(flowstate_example_api::hr_router(dataset), "hr.example.com", directory.path()).await;
    let db = directory.path().join("flowstate.db").display().to_string();
    let server = start_with(&db, directory.path(), &routing);
    let (org, key) = server.first_start.clone().unwrap();
    let post = |path: String, body: Value| {
        let (server, key) = (&server, key.clone());
        async move { send(server, reqwest::Method::POST, &path, Some(&key), Some(body)).await }
    };

    let (status, integration) =
        post(format!("/api/v1/org/{org}/integrations"), json!({ "name": "HR system", "sourceSystem": "hr" })).await;
    assert_eq!(status, 201, "{integration}");
    let integration = integration["data"]["id"].as_str().unwrap().to_string();
    let (status, body) = send(
        &server,
        reqwest::Method::PUT,
        &format!("/api/v1/org/{org}/integrations/{integration}/secrets/api_key"),
        Some(&key),
        Some(json!({ "value": HR_KEY })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(assert_one_timestamp_format(&body), 1, "the secret's updatedAt: {body}");
    let (status, body) = post(
        format!("/api/v1/org/{org}/integrations/{integration}/hooks"),
        json!({ "name": "employees", "type": "PULL", "entityType": "employee", "schedule": "1h",
                "code": include_str!("../../../../examples/hooks/employees-cursor.js") }),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let hook = body["data"]["id"].as_str().unwrap().to_string();
    let (status, body) = post(
        format!("/api/v1/org/{org}/integrations/{integration}/hooks"),
        json!({ "name": "x", "type": "PULL", "entityType": "people", "preferredHour": 24 }),
    )
    .await;
    assert_eq!(status, 400);
    let fields: Vec<&str> =
        body["error"]["details"].as_array().unwrap().iter().map(|p| p["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["entityType", "preferredHour", "code"], "{body}");

    // A body that is not JSON gets the one error shape too.
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/org/{org}/integrations", server.base))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body("{ not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_error(&body, "VALIDATION_ERROR");

    let first = run_and_wait(&server, &org, &key, &hook).await;
    assert_eq!(first["status"], "succeeded", "{first}");
    // Its times, its record's and every log line's and HTTP call's: one format.
    assert!(assert_one_timestamp_format(&first) > 4, "{first}");
    assert_eq!((total(&first, "recordCount"), total(&first, "created")), (120, 120));
    assert!(first["pages"].as_array().unwrap().len() > 1, "the HR API pages");
    let (_, employees) = call(&server, &format!("/api/v1/org/{org}/employees?limit=1"), Some(&key)).await;
    assert_eq!(employees["meta"]["total"], 120);

    let again = run_and_wait(&server, &org, &key, &hook).await;
    assert_eq!(again["status"], "succeeded");
    assert_eq!((total(&again, "created"), total(&again, "updated"), total(&again, "unchanged")), (0, 0, 120));

    // The secret's value appears in no response: executions, hook, secrets list.
    let mut seen = Vec::new();
    for path in [
        format!("/api/v1/org/{org}/hooks/{hook}/executions"),
        format!("/api/v1/org/{org}/hooks/{hook}"),
        format!("/api/v1/org/{org}/integrations/{integration}/secrets"),
        format!("/api/v1/org/{org}/integrations/{integration}"),
    ] {
        let (status, body) = call(&server, &path, Some(&key)).await;
        assert_eq!(status, 200, "{path}: {body}");
        seen.push(body.to_string());
    }
    assert!(seen.iter().all(|body| !body.contains(HR_KEY)), "the secret leaked");
    assert!(seen[2].contains("api_key"), "the secret is listed by name");
    let (_, executions) = call(&server, &format!("/api/v1/org/{org}/hooks/{hook}/executions"), Some(&key)).await;
    assert_eq!(executions["meta"]["total"], 2);

    // Prometheus metrics count what happened.
    let metrics = reqwest::get(format!("{}/metrics", server.base)).await.unwrap().text().await.unwrap();
    for line in [
        "flowstate_executions{status=\"succeeded\"} 2",
        "flowstate_records_applied_total{result=\"created\"} 120",
        "flowstate_records_applied_total{result=\"unchanged\"} 120",
        "flowstate_execution_queue_depth 0",
    ] {
        assert!(metrics.lines().any(|got| got == line), "{line} in\n{metrics}");
    }
    let pages: u64 = metrics
        .lines()
        .find_map(|line| line.strip_prefix("flowstate_pull_page_duration_seconds_count "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(pages >= 4, "{pages} pages timed");
    assert!(!metrics.contains(HR_KEY) && !metrics.contains(&org), "totals only");
    assert!(executions["data"][0]["record"]["httpRequests"].as_array().is_some_and(|calls| !calls.is_empty()));

    // The HR system changes one person and deletes another (the hook's new code says so):
    // the next run updates one, deletes one and leaves the rest.
    let changed = "async function run(ctx) {
        const cursor = ctx.meta?.cursor ?? null;
        const query = { limit: '100' };
        if (cursor) query.after = cursor;
        const resp = await ctx.http.get('https://hr.example.com/api/v1/employees', {
            headers: { Authorization: `Bearer ${ctx.secrets.api_key}` }, query });
        const records = resp.body.data.map((emp, index) => {
            if (!cursor && index === 1) return { externalId: emp.id, data: { deletedAt: '2026-06-01' } };
            return { externalId: emp.id, data: { firstName: emp.first_name,
                lastName: !cursor && index === 0 ? 'Changed' : emp.last_name, email: emp.email,
                internalEmployeeId: emp.employee_number, startDate: emp.hire_date, endDate: emp.termination_date } };
        });
        return { records, more: resp.body.pagination.has_more, meta: { cursor: resp.body.pagination.next_cursor } };
    }";
    let (status, body) = send(
        &server,
        reqwest::Method::PATCH,
        &format!("/api/v1/org/{org}/hooks/{hook}"),
        Some(&key),
        Some(json!({ "code": changed })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let third = run_and_wait(&server, &org, &key, &hook).await;
    assert_eq!(third["status"], "succeeded", "{third}");
    let counts = ["created", "updated", "deleted", "unchanged"].map(|count| total(&third, count));
    assert_eq!(counts, [0, 1, 1, 118], "{third}");
    let (_, employees) = call(&server, &format!("/api/v1/org/{org}/employees?search=Changed"), Some(&key)).await;
    assert_eq!(employees["meta"]["total"], 1);
    let (_, employees) = call(&server, &format!("/api/v1/org/{org}/employees?limit=1"), Some(&key)).await;
    assert_eq!(employees["meta"]["total"], 119);
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

/// Five executions per hook per rolling hour: the sixth manual run is refused with 429.
#[tokio::test(flavor = "multi_thread")]
async fn a_sixth_manual_run_within_the_hour_is_rate_limited() {
    let directory = tempfile::tempdir().unwrap();
    let db = directory.path().join("flowstate.db").display().to_string();
    let server = start(&db, directory.path());
    let (org, key) = server.first_start.clone().unwrap();
    let a = |path: &str| format!("/api/v1/org/{org}{path}");
    let integration = create_integration(&server, &a(""), &key, json!({ "name": "HR", "sourceSystem": "hr" })).await;
    let hook = create_hook(&server, &a(""), &key, &integration, json!({ "name": "quick", "type": "PULL", "entityType": "employee", "code": "async function run(ctx) { return { records: [] }; }" })).await;
    for _ in 0..5 {
        assert_eq!(run_and_wait(&server, &org, &key, &hook).await["status"], "succeeded");
    }
    let (status, body) =
        send(&server, reqwest::Method::POST, &a(&format!("/hooks/{hook}/run")), Some(&key), None).await;
    assert_eq!(status, 429, "{body}");
    assert_error(&body, "RATE_LIMITED");

    // The executions list pages in the database, newest first.
    let executions = a(&format!("/hooks/{hook}/executions"));
    let (_, all) = call(&server, &executions, Some(&key)).await;
    let ids: Vec<Value> = all["data"].as_array().unwrap().iter().map(|execution| execution["id"].clone()).collect();
    assert_eq!((ids.len(), all["meta"]["total"].clone()), (5, json!(5)));
    let (_, first) = call(&server, &format!("{executions}?limit=2"), Some(&key)).await;
    assert_eq!((first["data"][0]["id"].clone(), first["meta"]["hasNextPage"].clone()), (ids[0].clone(), json!(true)));
    let (_, last) = call(&server, &format!("{executions}?limit=2&page=3"), Some(&key)).await;
    assert_eq!(last["data"].as_array().unwrap().len(), 1);
    assert_eq!((last["data"][0]["id"].clone(), last["meta"]["hasNextPage"].clone()), (ids[4].clone(), json!(false)));
    let (status, body) = call(&server, &format!("{executions}?limit=500"), Some(&key)).await;
    assert_eq!((status, body["error"]["details"][0]["field"].clone()), (400, json!("limit")));
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

fn received_count(received: &std::sync::Mutex<Vec<Value>>) -> usize {
    received.lock().unwrap().len()
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

/// A PUSH hook sending each change to the tests' receiver (`hooks.example.com`); an answer
/// other than 200 fails the attempt.
pub(crate) const FORWARD_TO_RECEIVER: &str = "async function run(ctx) {
    const resp = await ctx.http.post('https://hooks.example.com/events', ctx.event);
    if (resp.status !== 200) throw new Error(`receiver answered ${resp.status}`);
}";

/// A receiver of PUSH deliveries that takes `delay` to answer 200 to each, recording them.
pub(crate) fn accepting_receiver(
    delay: std::time::Duration,
) -> (axum::Router, std::sync::Arc<std::sync::Mutex<Vec<Value>>>) {
    use std::sync::{Arc, Mutex};
    let received: Arc<Mutex<Vec<Value>>> = Arc::new(Mutex::new(Vec::new()));
    let seen = received.clone();
    let router = axum::Router::new().route(
        "/events",
        axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
            let seen = seen.clone();
            async move {
                tokio::time::sleep(delay).await;
                seen.lock().unwrap().push(body);
                axum::http::StatusCode::OK
            }
        }),
    );
    (router, received)
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

/// PULL executions of different hooks run at once, up to the organisation's share of the
/// workers: a quick hook is not held up behind one waiting on a slow HR API.
#[tokio::test(flavor = "multi_thread")]
async fn a_quick_pull_run_is_not_held_up_by_a_slow_one() {
    let router = axum::Router::new()
        .route(
            "/slow",
            axum::routing::get(|| async {
                tokio::time::sleep(std::time::Duration::from_millis(2000)).await;
                axum::Json(json!({ "ok": true }))
            }),
        )
        .route("/fast", axum::routing::get(|| async { axum::Json(json!({ "ok": true })) }));
    let directory = tempfile::tempdir().unwrap();
    let (_hr, extra) = routed_to(router, "hr.example.com", directory.path()).await;
    // Two workers, both of which this one organisation may hold.
    let extra: Vec<String> =
        extra.into_iter().chain(["--workers", "2", "--org-max-concurrency", "2"].map(String::from)).collect();
    let db = directory.path().join("flowstate.db").display().to_string();
    let server = start_with(&db, directory.path(), &extra);
    let (org, key) = server.first_start.clone().unwrap();
    let a = |path: &str| format!("/api/v1/org/{org}{path}");
    let integration = create_integration(&server, &a(""), &key, json!({ "name": "HR", "sourceSystem": "hr" })).await;
    let code = |path: &str| {
        format!(
            "async function run(ctx) {{ await ctx.http.get('https://hr.example.com{path}'); return {{ records: [] }}; }}"
        )
    };
    let slow = create_hook(
        &server,
        &a(""),
        &key,
        &integration,
        json!({ "name": "slow", "type": "PULL", "entityType": "employee", "code": code("/slow") }),
    )
    .await;
    let fast = create_hook(
        &server,
        &a(""),
        &key,
        &integration,
        json!({ "name": "fast", "type": "PULL", "entityType": "employee", "code": code("/fast") }),
    )
    .await;

    let (status, started) =
        send(&server, reqwest::Method::POST, &a(&format!("/hooks/{slow}/run")), Some(&key), None).await;
    assert_eq!(status, 202, "{started}");
    let slow_execution = started["data"]["id"].as_str().unwrap().to_string();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await; // the slow run is waiting on its request
    let quick = run_and_wait(&server, &org, &key, &fast).await;
    assert_eq!(quick["status"], "succeeded", "{quick}");
    let (_, slow_now) = call(&server, &a(&format!("/executions/{slow_execution}")), Some(&key)).await;
    assert_eq!(slow_now["data"]["status"], "running", "the quick run finished first: {slow_now}");
    let done = loop {
        let (_, body) = call(&server, &a(&format!("/executions/{slow_execution}")), Some(&key)).await;
        if !["queued", "running"].contains(&body["data"]["status"].as_str().unwrap_or_default()) {
            break body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(done["data"]["status"], "succeeded", "{done}");
}

/// A PULL run whose second page throws, or returns output that is not records, ends as
/// `failed` with the reason; what the first page brought stays saved.
#[tokio::test(flavor = "multi_thread")]
async fn a_failing_page_ends_the_run_and_earlier_pages_stay_saved() {
    let directory = tempfile::tempdir().unwrap();
    let db = directory.path().join("flowstate.db").display().to_string();
    let server = start(&db, directory.path());
    let (org, key) = server.first_start.clone().unwrap();
    let a = |path: &str| format!("/api/v1/org/{org}{path}");
    let integration = create_integration(&server, &a(""), &key, json!({ "name": "HR", "sourceSystem": "hr" })).await;
    for (name, second_page, reason) in [
        ("throws", "throw new Error('the HR API broke');", "the HR API broke"),
        ("bad-output", "return { records: 'not a list' };", "records"),
    ] {
        let code = format!(
            "async function run(ctx) {{
                if (ctx.meta?.next) {{ {second_page} }}
                const prefix = '{name}';
                return {{ records: [
                    {{ externalId: prefix + '-1', data: {{ firstName: 'A', lastName: 'B', email: prefix + '1@example.com' }} }},
                    {{ externalId: prefix + '-2', data: {{ firstName: 'C', lastName: 'D', email: prefix + '2@example.com' }} }},
                ], more: true, meta: {{ next: true }} }};
            }}"
        );
        let hook = create_hook(
            &server,
            &a(""),
            &key,
            &integration,
            json!({ "name": name, "type": "PULL", "entityType": "employee", "code": code }),
        )
        .await;
        let execution = run_and_wait(&server, &org, &key, &hook).await;
        assert_eq!(execution["status"], "failed", "{name}: {execution}");
        assert!(execution["error"].as_str().is_some_and(|error| error.contains(reason)), "{name}: {execution}");
        assert_eq!(execution["pages"][0]["created"], 2, "{name}: the first page was applied: {execution}");
        let (_, saved) = call(&server, &a(&format!("/employees?search={name}")), Some(&key)).await;
        assert_eq!(saved["meta"]["total"], 2, "{name}: {saved}");
    }
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

/// A local HTTPS server answering as `host`, and the `serve` arguments that send hooks'
/// requests for `host` to it (its CA certificate written into `directory`).
pub(crate) async fn routed_to(
    router: axum::Router,
    host: &str,
    directory: &std::path::Path,
) -> (flowstate_example_api::TlsServer, Vec<String>) {
    let target = flowstate_example_api::TlsServer::start(router, &[host]).await.unwrap();
    let ca = directory.join("ca.pem");
    std::fs::write(&ca, target.ca_pem()).unwrap();
    let arguments = vec![
        "--connect-to".to_string(),
        format!("{host}:443:127.0.0.1:{}", target.addr().port()),
        "--cacert".to_string(),
        ca.display().to_string(),
    ];
    (target, arguments)
}
