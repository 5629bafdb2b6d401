//! Issue 11 (in progress): the team cost forecast over the REST API, on SQLite and PostgreSQL.

use serde_json::{Value, json};

use crate::{
    postgres_url,
    server::{assert_error, call, send, start_with},
};

/// forecast.md's worked example, written through the REST API: Ada costs Platform 500.00 a
/// working day; the vacancy she fills costs nothing until the day after she leaves.
async fn the_worked_example_over_the_api(db: &str, directory: &std::path::Path) {
    let server = start_with(db, directory, &["--org-currency", "GBP"].map(String::from));
    let (org, key) = server.first_start.clone().unwrap();
    let a = |path: &str| format!("/api/v1/org/{org}{path}");
    let ada = json!({
        "externalId": "ADA", "firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com", "startDate": "2026-03-02",
        "salaryAdjustments": [{ "effectiveDate": "2026-01-01", "salary": 130500, "currencyCode": "GBP" }],
        "teamAllocations": [{ "teamId": "TEAM-platform", "teamName": "Platform", "fte": 1.0, "startDate": "2026-03-02" }],
    });
    let (status, body) = send(&server, reqwest::Method::POST, &a("/employees"), Some(&key), Some(ada)).await;
    assert_eq!(status, 201, "{body}");
    let (status, march) = call(&server, &a("/forecast?from=2026-03&to=2026-03&lines=true"), Some(&key)).await;
    assert_eq!(status, 200, "{march}");
    let platform = &march["data"]["groups"][0];
    assert_eq!(
        (platform["name"].clone(), platform["total"].clone()),
        (json!("Platform"), json!(["11000.00"])),
        "{march}"
    );
    assert_eq!(platform["lines"][0]["amounts"], json!(["11000.00"]));
    assert_eq!(march["data"]["currency"], "GBP");

    let (status, body) = send(
        &server,
        reqwest::Method::PATCH,
        &a("/employees/ADA"),
        Some(&key),
        Some(json!({ "endDate": "2026-06-15" })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let position = json!({
        "externalId": "POS-001", "role": "Engineer", "status": "filled", "salaryMin": 120000, "salaryMax": 141000, "currencyCode": "GBP",
        "teamAllocations": [{ "teamId": "TEAM-platform", "fte": 1.0, "startDate": "2026-03-02" }],
        "filledBy": { "externalId": "ADA" },
    });
    let (status, body) = send(&server, reqwest::Method::POST, &a("/vacancies"), Some(&key), Some(position)).await;
    assert_eq!(status, 201, "{body}");
    let (status, spring) = call(&server, &a("/forecast?from=2026-03&to=2026-07&lines=true"), Some(&key)).await;
    assert_eq!(status, 200, "{spring}");
    let data = &spring["data"];
    assert_eq!(data["months"], json!(["2026-03", "2026-04", "2026-05", "2026-06", "2026-07"]));
    let lines: Vec<(Value, Value)> = data["groups"][0]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| (line["externalId"].clone(), line["amounts"].clone()))
        .collect();
    assert_eq!(
        lines,
        [
            (json!("ADA"), json!(["11000.00", "11000.00", "10500.00", "5500.00", "0.00"])),
            (json!("POS-001"), json!(["0.00", "0.00", "0.00", "5500.00", "11500.00"])),
        ],
        "{spring}"
    );
    assert_eq!(data["total"], json!(["11000.00", "11000.00", "10500.00", "11000.00", "11500.00"]));
    assert_eq!(data["groups"][1]["name"], "Unallocated");
    assert!(data["groups"][0].get("lines").is_some() && data["notCosted"] == json!([]));
    let (_, totals) = call(&server, &a("/forecast?from=2026-03&to=2026-07"), Some(&key)).await;
    assert!(totals["data"]["groups"][0].get("lines").is_none(), "lines only when asked: {totals}");
    let (status, narrowed) =
        call(&server, &a("/forecast?from=2026-07&to=2026-07&teamId=TEAM-platform"), Some(&key)).await;
    assert_eq!((status, narrowed["data"]["total"].clone()), (200, json!(["11500.00"])), "{narrowed}");

    // Bad queries name their parameter.
    for (query, parameter) in [
        ("from=2026-13&to=2027-01", "from"),
        ("from=2026-05&to=2026-04", "to"),
        ("from=2026-01&to=2031-01", "to"),
        ("to=2026-04", "from"),
        ("from=2026-01&to=2026-02&groupBy=person", "groupBy"),
        ("from=2026-01&to=2026-02&lines=yes", "lines"),
        ("from=2026-01&to=2026-02&form=2026-01", "form"),
    ] {
        let (status, body) = call(&server, &a(&format!("/forecast?{query}")), Some(&key)).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_error(&body, "VALIDATION_ERROR");
        assert_eq!(body["error"]["details"][0]["field"], parameter, "{query}: {body}");
    }
    let (status, body) = call(&server, &a("/forecast?from=2026-01&to=2026-02&teamId=NOPE"), Some(&key)).await;
    assert_eq!(status, 404, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_worked_example_over_the_api_on_sqlite() {
    let directory = tempfile::tempdir().unwrap();
    let db = directory.path().join("flowstate.db").display().to_string();
    the_worked_example_over_the_api(&db, directory.path()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_worked_example_over_the_api_on_postgres() {
    let Some(db) = postgres_url() else { return };
    let directory = tempfile::tempdir().unwrap();
    the_worked_example_over_the_api(&db, directory.path()).await;
}

/// Work types over the REST API: their overhead loads the cost of the employees that name
/// them (by externalId or name); an unknown one is refused naming the field; a change of
/// overhead shows in the next forecast, and a deleted work type loads nothing.
#[tokio::test(flavor = "multi_thread")]
async fn work_types_load_the_cost_with_their_overhead() {
    let directory = tempfile::tempdir().unwrap();
    let db = directory.path().join("flowstate.db").display().to_string();
    let server = start_with(&db, directory.path(), &["--org-currency", "GBP"].map(String::from));
    let (org, key) = server.first_start.clone().unwrap();
    let a = |path: &str| format!("/api/v1/org/{org}{path}");
    let engineering = json!({ "name": "Engineering", "externalId": "WT-ENG", "overheadPercentage": 20 });
    let (status, body) =
        send(&server, reqwest::Method::POST, &a("/work-types"), Some(&key), Some(engineering.clone())).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = send(&server, reqwest::Method::POST, &a("/work-types"), Some(&key), Some(engineering)).await;
    assert_eq!(status, 409, "{body}");
    let bad = json!({ "name": "Ops", "overheadPercentage": -1 });
    assert_eq!(send(&server, reqwest::Method::POST, &a("/work-types"), Some(&key), Some(bad)).await.0, 400);
    let typo = json!({ "name": "Ops", "overheadPercentage": 1, "overhead": 1 });
    assert_eq!(send(&server, reqwest::Method::POST, &a("/work-types"), Some(&key), Some(typo)).await.0, 400);
    let (_, listed) = call(&server, &a("/work-types"), Some(&key)).await;
    assert_eq!(listed["data"][0]["overheadPercentage"], 20.0, "{listed}");

    let person = |external_id: &str, email: &str, work_type: &str| {
        json!({
            "externalId": external_id, "firstName": "Ada", "lastName": "Lovelace", "email": email, "startDate": "2026-03-02",
            "workType": work_type,
            "salaryAdjustments": [{ "effectiveDate": "2026-01-01", "salary": 130500, "currencyCode": "GBP" }],
            "teamAllocations": [{ "teamId": "TEAM-platform", "teamName": "Platform", "fte": 1.0, "startDate": "2026-03-02" }],
        })
    };
    let (status, body) = send(
        &server,
        reqwest::Method::POST,
        &a("/employees"),
        Some(&key),
        Some(person("ADA", "ada@example.com", "WT-ENG")),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = send(
        &server,
        reqwest::Method::POST,
        &a("/employees"),
        Some(&key),
        Some(person("BOB", "bob@example.com", "Sales")),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let named = body["error"]["details"].as_array().is_some_and(|details| {
        details.iter().any(|detail| {
            detail["field"] == "workType" && detail["message"].as_str().unwrap_or("").contains("not found")
        })
    });
    assert!(named, "{body}");

    let path = a("/forecast?from=2026-03&to=2026-03");
    let march = || async { call(&server, &path, Some(&key)).await.1["data"]["total"].clone() };
    // 22 working days × 500.00 × 1.20.
    assert_eq!(march().await, json!(["13200.00"]));
    let (status, body) = send(
        &server,
        reqwest::Method::PATCH,
        &a("/work-types/WT-ENG"),
        Some(&key),
        Some(json!({ "overheadPercentage": 50 })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(march().await, json!(["16500.00"]));
    assert_eq!(send(&server, reqwest::Method::DELETE, &a("/work-types/WT-ENG"), Some(&key), None).await.0, 204);
    assert_eq!(march().await, json!(["11000.00"]), "no work type: no overhead");
    assert_eq!(send(&server, reqwest::Method::DELETE, &a("/work-types/WT-ENG"), Some(&key), None).await.0, 404);
}

/// `flowstate forecast` prints the table (the team tree indented, a total row) or, with
/// `--json`, the API's `data` object; a bad month is a usage error naming the option.
#[tokio::test(flavor = "multi_thread")]
async fn the_command_prints_the_forecast() {
    use crate::{args, flowstate, stderr, stdout, sync_apply_args};
    let directory = tempfile::tempdir().unwrap();
    let db = directory.path().join("flowstate.db").display().to_string();
    let output =
        flowstate(args(&["org", "create", "--db", &db, "--name", "Acme", "--timezone", "UTC", "--currency", "GBP"]))
            .await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let org = stdout(&output).trim().to_string();
    let teams = directory.path().join("teams.ndjson");
    std::fs::write(
        &teams,
        [
            r#"{"externalId":"T-ENG","data":{"name":"Engineering"}}"#,
            r#"{"externalId":"T-PLAT","data":{"name":"Platform","parentTeamExternalId":"T-ENG"}}"#,
        ]
        .join("\n"),
    )
    .unwrap();
    let output = flowstate(sync_apply_args(&db, &org, "team", &teams)).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let people = directory.path().join("people.ndjson");
    std::fs::write(
        &people,
        r#"{"externalId":"ADA","data":{"firstName":"Ada","lastName":"Lovelace","email":"ada@example.com","startDate":"2026-03-02","salaryAdjustments":[{"effectiveDate":"2026-01-01","salary":130500,"currencyCode":"GBP"}],"teamAllocations":[{"teamId":"T-PLAT","fte":1,"startDate":"2026-03-02"}]}}"#,
    )
    .unwrap();
    let output = flowstate(sync_apply_args(&db, &org, "employee", &people)).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

    let forecast = |extra: &[&str]| {
        let mut list = vec!["forecast", "--db", &db, "--org", &org, "--from", "2026-03", "--to", "2026-04"];
        list.extend_from_slice(extra);
        flowstate(args(&list))
    };
    let output = forecast(&[]).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let table = stdout(&output);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("Team") && lines[0].contains("2026-03") && lines[0].contains("2026-04"), "{table}");
    assert!(lines[1].starts_with("Engineering ") && lines[1].ends_with("11000.00  11000.00"), "{table}");
    assert!(
        lines[2].starts_with("  Platform ") && lines[2].ends_with("11000.00  11000.00"),
        "indented under its parent: {table}"
    );
    assert!(lines[3].starts_with("Unallocated ") && lines[3].ends_with("0.00      0.00"), "{table}");
    assert!(lines[4].starts_with("Total (GBP) ") && lines[4].ends_with("11000.00  11000.00"), "{table}");

    let output = forecast(&["--json", "--team", "T-PLAT"]).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let data: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(data["total"], json!(["11000.00", "11000.00"]), "{data}");
    assert_eq!(data["groups"][0]["externalId"], "T-PLAT");

    let output =
        flowstate(args(&["forecast", "--db", &db, "--org", &org, "--from", "2026-3", "--to", "2026-04"])).await;
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("--from"), "{}", stderr(&output));
}
