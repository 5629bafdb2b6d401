//! Workforce entities, reference data and adjustment histories over the API (in-process).

use serde_json::{Value, json};

use crate::app::{TestApp, assert_error, call, send};

/// Workforce entities are created, changed and deleted over the API with the sync's rules:
/// every refusal names its field, externalIds are unique, and `{id}` is either id.
#[tokio::test(flavor = "multi_thread")]
async fn workforce_entities_are_written_over_the_api() {
    let server = TestApp::spawn().await;
    let (org, key) = (server.org.clone(), server.key.clone());
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
    let server = TestApp::spawn().await;
    let (org, key) = (server.org.clone(), server.key.clone());
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
    assert_eq!((status, fields), (400, vec!["entityTypes[0]", "fieldType"]), "{body}");
    let (status, body) = post(
        a("/custom-attribute-definitions"),
        json!({ "name": "Cost Centre", "fieldType": "NUMBER", "entityTypes": ["EMPLOYEE"] }),
    )
    .await;
    assert_eq!(status, 409, "a name is defined once: {body}");
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

/// Creates racing for one externalId: one is created, the others are told it is taken (409),
/// never a 400 that quotes the database.
#[tokio::test(flavor = "multi_thread")]
async fn creates_racing_for_one_external_id_get_one_created_and_conflicts() {
    let server = TestApp::spawn().await;
    let path = format!("/api/v1/org/{}/teams", server.org);
    let racers = (0..24).map(|_| {
        let (path, key, server) = (path.clone(), server.key.clone(), &server);
        async move {
            send(server, reqwest::Method::POST, &path, Some(&key), Some(json!({ "externalId": "R-1", "name": "Race" })))
                .await
        }
    });
    let answers = futures_util::future::join_all(racers).await;
    let created = answers.iter().filter(|(status, _)| *status == 201).count();
    assert_eq!(created, 1, "{answers:?}");
    for (status, body) in &answers {
        if *status != 201 {
            assert_eq!(*status, 409, "{body}");
            assert_error(body, "CONFLICT");
            assert!(!body.to_string().contains("UNIQUE"), "{body}");
        }
    }
}

/// An assignment changed to the other target type, keeping its target's externalId, moves
/// to the entity of that externalId in the new type (found by schemathesis: it used to try
/// to create a second team of that externalId).
#[tokio::test(flavor = "multi_thread")]
async fn an_assignment_switched_to_the_other_target_type_keeps_the_external_id() {
    let server = TestApp::spawn().await;
    let a = |path: &str| format!("/api/v1/org/{}{path}", server.org);
    let post = |path: String, body: Value| {
        let (server, key) = (&server, server.key.clone());
        async move { send(server, reqwest::Method::POST, &path, Some(&key), Some(body)).await }
    };
    for (path, body) in [
        ("/teams", json!({ "externalId": "X", "name": "Team X" })),
        ("/projects", json!({ "externalId": "X", "name": "Project X" })),
        ("/employees", json!({ "externalId": "E", "firstName": "A", "lastName": "L", "email": "a@example.com" })),
        (
            "/assignments",
            json!({ "externalId": "A", "resourceType": "employee", "resourceExternalId": "E", "targetType": "project",
                "targetExternalId": "X", "fte": 0.5, "startDate": "2026-01-01" }),
        ),
    ] {
        let (status, answer) = post(a(path), body).await;
        assert_eq!(status, 201, "{answer}");
    }
    let (status, answer) = send(
        &server,
        reqwest::Method::PATCH,
        &a("/assignments/A"),
        Some(&server.key),
        Some(json!({ "targetType": "team" })),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let (_, team) = call(&server, &a("/teams/X"), Some(&server.key)).await;
    assert_eq!(answer["data"]["targetId"], team["data"]["id"], "{answer}");
    let (_, teams) = call(&server, &a("/teams"), Some(&server.key)).await;
    assert_eq!(teams["meta"]["total"], 1, "no second team X: {teams}");
}
