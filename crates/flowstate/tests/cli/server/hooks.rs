//! PULL runs through the server into the store. (Integrations and hooks over the API are
//! tested in-process: `crates/api/tests/api/hooks.rs`.)

use serde_json::{Value, json};

use super::*;

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
                "code": include_str!("../../../../../examples/hooks/employees-cursor.js") }),
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
    // Every problem at once, each naming its field (in the order of the fields' names).
    assert_eq!(fields, ["code", "entityType", "preferredHour"], "{body}");

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
    let changed = CHANGING_HOOK;
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

/// The HR system's employees as the cursor example reads them, but the first changes its
/// last name and the second is deleted.
const CHANGING_HOOK: &str = "async function run(ctx) {
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

/// A dry run over the API: the hook runs for real, nothing is written and no execution is
/// stored; an unsaved edit can be planned; the run that follows does what the plan said.
#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_plans_without_writing_and_the_run_that_follows_agrees() {
    let directory = tempfile::tempdir().unwrap();
    let dataset = flowstate_example_api::HrDataset::new(120, 0, HR_KEY);
    let (_hr, routing) = routed_to(flowstate_example_api::hr_router(dataset), "hr.example.com", directory.path()).await;
    let db = directory.path().join("flowstate.db").display().to_string();
    let server = start_with(&db, directory.path(), &routing);
    let (org, key) = server.first_start.clone().unwrap();
    let org_path = format!("/api/v1/org/{org}");
    let integration = create_integration(&server, &org_path, &key, json!({ "name": "HR", "sourceSystem": "hr" })).await;
    let (status, _) = send(
        &server,
        reqwest::Method::PUT,
        &format!("{org_path}/integrations/{integration}/secrets/api_key"),
        Some(&key),
        Some(json!({ "value": HR_KEY })),
    )
    .await;
    assert_eq!(status, 200);
    let cursor = include_str!("../../../../../examples/hooks/employees-cursor.js");
    let hook = create_hook(
        &server,
        &org_path,
        &key,
        &integration,
        json!({ "name": "employees", "type": "PULL", "entityType": "employee", "code": cursor }),
    )
    .await;
    let plan = |body: Value| {
        let (server, key, path) = (&server, key.clone(), format!("{org_path}/hooks/{hook}/plan"));
        async move { send(server, reqwest::Method::POST, &path, Some(&key), Some(body)).await }
    };

    let (status, first) = plan(json!({})).await;
    assert_eq!(status, 200, "{first}");
    let first = &first["data"];
    assert_eq!(first["totals"]["created"], 120, "{}", first["totals"]);
    assert_eq!(first["records"].as_array().unwrap().len(), 120);
    assert_eq!(first["execution"]["status"], "succeeded");
    assert!(first["execution"]["httpRequests"].as_array().is_some_and(|calls| calls.len() > 1), "it ran for real");
    assert!(!first.to_string().contains(HR_KEY), "the secret is not in the plan");
    let (_, employees) = call(&server, &format!("{org_path}/employees?limit=1"), Some(&key)).await;
    assert_eq!(employees["meta"]["total"], 0, "a plan writes nothing");
    let (_, executions) = call(&server, &format!("{org_path}/hooks/{hook}/executions"), Some(&key)).await;
    assert_eq!(executions["meta"]["total"], 0, "nor stores an execution");

    let ran = run_and_wait(&server, &org, &key, &hook).await;
    assert_eq!(total(&ran, "created"), 120);

    // An unsaved edit, planned: the saved code stays.
    let (status, edited) = plan(json!({ "code": CHANGING_HOOK })).await;
    assert_eq!(status, 200, "{edited}");
    let edited = &edited["data"];
    let counts = ["created", "updated", "deleted", "unchanged"].map(|count| edited["totals"][count].as_u64().unwrap());
    assert_eq!(counts, [0, 1, 1, 118], "{}", edited["totals"]);
    let updated = edited["records"].as_array().unwrap().iter().find(|record| record["action"] == "update").unwrap();
    assert_eq!(updated["changes"].as_array().unwrap().len(), 1, "{updated}");
    assert_eq!(
        (&updated["changes"][0]["field"], &updated["changes"][0]["after"]),
        (&json!("lastName"), &json!("Changed"))
    );
    let (_, saved) = call(&server, &format!("{org_path}/hooks/{hook}"), Some(&key)).await;
    assert_eq!(saved["data"]["code"], cursor);

    // Saved and run: what the plan said.
    let (status, _) = send(
        &server,
        reqwest::Method::PATCH,
        &format!("{org_path}/hooks/{hook}"),
        Some(&key),
        Some(json!({ "code": CHANGING_HOOK })),
    )
    .await;
    assert_eq!(status, 200);
    let ran = run_and_wait(&server, &org, &key, &hook).await;
    assert_eq!(["created", "updated", "deleted", "unchanged"].map(|count| total(&ran, count)), counts);

    // Refusals, by name: code that does not compile, an unknown field, a PUSH hook.
    let (status, body) = plan(json!({ "code": "async function run(ctx) {\n  return {;\n}" })).await;
    assert_eq!((status, &body["error"]["details"]["line"]), (400, &json!(2)), "{body}");
    let (status, body) = plan(json!({ "cod": "x" })).await;
    assert_eq!(status, 400);
    assert!(body.to_string().contains("cod"), "{body}");
    let push = create_hook(
        &server,
        &org_path,
        &key,
        &integration,
        json!({ "name": "out", "type": "PUSH", "entityType": "employee", "code": "async function run(ctx) {}" }),
    )
    .await;
    let (status, body) =
        send(&server, reqwest::Method::POST, &format!("{org_path}/hooks/{push}/plan"), Some(&key), Some(json!({})))
            .await;
    assert_eq!(status, 400, "{body}");
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

/// A TypeScript hook over the API: a type-only syntax error is refused at its line and
/// column; a hook with interfaces and generics is saved and runs; its error names the `.ts`
/// line; changing the language recompiles the code.
#[tokio::test(flavor = "multi_thread")]
async fn a_typescript_hook_is_checked_saved_and_run() {
    let directory = tempfile::tempdir().unwrap();
    let db = directory.path().join("flowstate.db").display().to_string();
    let server = start_with(&db, directory.path(), &[]);
    let (org, key) = server.first_start.clone().unwrap();
    let org_path = format!("/api/v1/org/{org}");
    let integration = create_integration(&server, &org_path, &key, json!({ "name": "HR", "sourceSystem": "hr" })).await;
    let hooks = format!("{org_path}/integrations/{integration}/hooks");
    let post = |body: Value| {
        let (server, key, path) = (&server, key.clone(), hooks.clone());
        async move { send(server, reqwest::Method::POST, &path, Some(&key), Some(body)).await }
    };
    let broken =
        "async function run(ctx: unknown) {\n  const rows: Array<string = [];\n  return { records: rows };\n}\n";
    let (status, body) = post(
        json!({ "name": "typed", "type": "PULL", "entityType": "team", "language": "typescript", "code": broken }),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["details"]["line"], 2, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("TypeScript"), "{body}");

    let typed = "interface Team { id: string; name: string }\n\
        function named<T extends { name: string }>(items: T[]): T[] {\n  return items.filter((item) => item.name !== '');\n}\n\
        async function run(ctx: { meta?: { failing?: boolean } }): Promise<unknown> {\n\
        \x20 const teams: Team[] = [{ id: 'T-1', name: 'Platform' }];\n\
        \x20 if (ctx.meta?.failing) throw new Error('typed failure');\n\
        \x20 return { records: named<Team>(teams).map((team) => ({ externalId: team.id, data: { name: team.name } })), meta: { failing: true }, more: true };\n}\n";
    let (status, body) =
        post(json!({ "name": "typed", "type": "PULL", "entityType": "team", "language": "typescript", "code": typed }))
            .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["data"]["language"], "typescript");
    let hook = body["data"]["id"].as_str().unwrap().to_string();
    let ran = run_and_wait(&server, &org, &key, &hook).await;
    assert_eq!(ran["status"], "failed", "the second page throws: {ran}");
    assert_eq!(total(&ran, "created"), 1, "the first page was saved: {ran}");
    let stack = ran["record"]["error"]["stack"].as_str().unwrap_or_default();
    assert!(stack.contains("typed.ts:7"), "the TypeScript line: {stack}");

    // As JavaScript, the same code does not compile: the language is checked on change.
    let (status, body) = send(
        &server,
        reqwest::Method::PATCH,
        &format!("{org_path}/hooks/{hook}"),
        Some(&key),
        Some(json!({ "language": "javascript" })),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["details"]["line"], 1, "{body}");
}
