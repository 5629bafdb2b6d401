//! The hook devkit (issue 14): `hook init`, and the typings it writes, checked by the
//! TypeScript compiler against the guide's examples.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use serde_json::json;

use crate::{Api, args, examples, flowstate, stderr, stdout};

#[tokio::test(flavor = "multi_thread")]
async fn hook_init_writes_a_hook_that_runs_and_refuses_to_overwrite() {
    let api = Api::start().await;
    let directory = tempfile::tempdir().unwrap();
    let dir = directory.path().display().to_string();
    let output =
        flowstate(args(&["hook", "init", "people", "--type", "pull", "--entity", "employee", "--dir", &dir])).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let folder = directory.path().join("people");
    for file in ["people.js", "flowstate.d.ts", "jsconfig.json", "fixtures/README.md"] {
        assert!(folder.join(file).is_file(), "{file}: {}", stdout(&output));
    }
    assert!(stdout(&output).contains("flowstate hook run"), "it says how to run it: {}", stdout(&output));
    // The starter runs as it is against a page-based API (the example API's `/employees`).
    let hook = folder.join("people.js").display().to_string();
    let ran =
        flowstate(api.run_args(&hook, &["--type", "pull", "--entity", "employee", "--secret", "api_key=cli-test-key"]))
            .await;
    assert_eq!(ran.status.code(), Some(0), "{}\n{}", stdout(&ran), stderr(&ran));
    assert!(stdout(&ran).contains("records: 250"), "{}", stdout(&ran));
    // So does its TypeScript twin.
    let typed = flowstate(args(&[
        "hook",
        "init",
        "typed",
        "--type",
        "pull",
        "--entity",
        "employee",
        "--typescript",
        "--dir",
        &dir,
    ]))
    .await;
    assert_eq!(typed.status.code(), Some(0), "{}", stderr(&typed));
    let typed_hook = directory.path().join("typed/typed.ts").display().to_string();
    let ran = flowstate(
        api.run_args(&typed_hook, &["--type", "pull", "--entity", "employee", "--secret", "api_key=cli-test-key"]),
    )
    .await;
    assert_eq!(ran.status.code(), Some(0), "{}\n{}", stdout(&ran), stderr(&ran));
    assert!(stdout(&ran).contains("records: 250"), "{}", stdout(&ran));

    // Never over a folder with something in it; a name that is not a file name is refused.
    let again =
        flowstate(args(&["hook", "init", "people", "--type", "push", "--entity", "vacancy", "--dir", &dir])).await;
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("is not empty"), "{}", stderr(&again));
    assert!(std::fs::read_to_string(&hook).unwrap().contains("PULL hook"), "unchanged");
    let bad = flowstate(args(&["hook", "init", "../up", "--type", "pull", "--entity", "team", "--dir", &dir])).await;
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("letters, digits"), "{}", stderr(&bad));

    // A PUSH hook comes with an event to run it with.
    let push =
        flowstate(args(&["hook", "init", "notify", "--type", "push", "--entity", "vacancy", "--dir", &dir])).await;
    assert_eq!(push.status.code(), Some(0), "{}", stderr(&push));
    let event: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(directory.path().join("notify/fixtures/event.json")).unwrap())
            .unwrap();
    assert_eq!(event["entityType"], "vacancy");
}

/// The TypeScript compiler, installed from the npm registry into the target directory (once),
/// or `None` (having said why) without Node.js; under `CI` its absence fails.
fn tsc() -> Option<PathBuf> {
    const VERSION: &str = "5.9.3";
    let prefix = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("typescript-{VERSION}"));
    let tsc = prefix.join("node_modules/.bin/tsc");
    if tsc.exists() {
        return Some(tsc);
    }
    let npm = Command::new("npm").arg("--version").output();
    if !npm.is_ok_and(|output| output.status.success()) {
        let message = "the typings check needs Node.js and npm (to install the TypeScript compiler)";
        assert!(std::env::var_os("CI").is_none(), "{message}; CI is set, so this fails");
        eprintln!("\n######## SKIPPED: {message} ########\n");
        return None;
    }
    std::fs::create_dir_all(&prefix).unwrap();
    let installed = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--prefix"])
        .arg(&prefix)
        .arg(format!("typescript@{VERSION}"))
        .output()
        .unwrap();
    assert!(installed.status.success(), "npm install typescript: {}", String::from_utf8_lossy(&installed.stderr));
    Some(tsc)
}

/// `tsc` on one hook file beside the typings, with the settings `hook init`'s `jsconfig.json`
/// gives an editor; its output on failure.
fn check(tsc: &Path, folder: &Path, file: &str) -> Result<(), String> {
    let output = Command::new(tsc)
        .current_dir(folder)
        .args(["--noEmit", "--allowJs", "--checkJs", "--strict", "--noImplicitAny", "false", "--target", "es2022"])
        .args(["--lib", "es2022"])
        .args(["--module", "es2022", "--moduleResolution", "bundler", file, "flowstate.d.ts"])
        .output()
        .unwrap();
    if output.status.success() { Ok(()) } else { Err(String::from_utf8_lossy(&output.stdout).into_owned()) }
}

/// The typings take the guide's examples (each typed by one JSDoc line, as `hook init`
/// writes), and refuse a wrong method and a wrong field type.
#[tokio::test(flavor = "multi_thread")]
async fn the_typings_take_the_guides_examples_and_refuse_mistakes() {
    let Some(tsc) = tsc() else { return };
    let directory = tempfile::tempdir().unwrap();
    let dir = directory.path().display().to_string();
    let output =
        flowstate(args(&["hook", "init", "typed", "--type", "pull", "--entity", "employee", "--dir", &dir])).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let folder = directory.path().join("typed");
    // Every starter checks as written.
    for kind in ["pull", "push"] {
        for entity in ["employee", "contractor", "vacancy", "team", "project", "assignment"] {
            let name = format!("{kind}-{entity}");
            let made =
                flowstate(args(&["hook", "init", &name, "--type", kind, "--entity", entity, "--dir", &dir])).await;
            assert_eq!(made.status.code(), Some(0), "{}", stderr(&made));
            let starter = directory.path().join(&name);
            check(&tsc, &starter, &format!("{name}.js")).unwrap_or_else(|errors| panic!("{name}: {errors}"));
        }
    }
    // The TypeScript starters check too (one of each kind: they share the JavaScript's text).
    for (kind, entity) in [("pull", "employee"), ("push", "vacancy")] {
        let name = format!("ts-{kind}-{entity}");
        let made = flowstate(
            args(&["hook", "init", &name, "--type", kind, "--entity", entity, "--typescript"])
                .into_iter()
                .chain(args(&["--dir", &dir]))
                .collect(),
        )
        .await;
        assert_eq!(made.status.code(), Some(0), "{}", stderr(&made));
        let starter = directory.path().join(&name);
        assert!(starter.join("tsconfig.json").is_file());
        check(&tsc, &starter, &format!("{name}.ts")).unwrap_or_else(|errors| panic!("{name}: {errors}"));
    }
    let pull = |data: &str| {
        format!(
            "/** @param {{import('./flowstate').PullContext}} ctx @returns {{Promise<import('./flowstate').PullResult<import('./flowstate').{data}>>}} */"
        )
    };
    let cases = [
        ("employees-cursor.js", pull("EmployeeData")),
        ("contractors-offset.js", pull("ContractorData")),
        ("notify-contractor.js", "/** @param {import('./flowstate').PushContext} ctx */".to_string()),
        ("demo/teams.js", pull("TeamData")),
        ("demo/employees.js", pull("EmployeeData")),
        ("demo/contractors.js", pull("ContractorData")),
        ("demo/positions.js", pull("VacancyData")),
        ("demo/vacancy-changes.js", "/** @param {import('./flowstate').PushContext} ctx */".to_string()),
    ];
    for (example, typed) in cases {
        let code = std::fs::read_to_string(examples(example)).unwrap();
        let typed_code = code.replacen("async function run(ctx)", &format!("{typed}\nasync function run(ctx)"), 1);
        std::fs::write(folder.join("typed.js"), format!("// @ts-check\n{typed_code}")).unwrap();
        check(&tsc, &folder, "typed.js").unwrap_or_else(|errors| panic!("{example} does not check:\n{errors}"));
    }
    // Mistakes an editor should catch.
    for (mistake, expected) in [
        ("const resp = await ctx.http.gett('https://a.example');", "gett"),
        (
            "return { records: [{ externalId: 'x', data: { firstName: 1 } }] };",
            "Type 'number' is not assignable to type 'string'",
        ),
        ("return { records: [{ externalId: 'x', data: { startDate: '2026-01-01', fte: 1 } }] };", "fte"),
        ("ctx.kv.set('k', 1);", "number"),
    ] {
        let code = format!(
            "// @ts-check\n{}\nasync function run(ctx) {{\n  {mistake}\n  return {{ records: [] }};\n}}\n",
            pull("EmployeeData")
        );
        std::fs::write(folder.join("typed.js"), code).unwrap();
        let errors = check(&tsc, &folder, "typed.js").expect_err(mistake);
        assert!(errors.contains(expected), "{mistake}: {errors}");
    }
}

/// `hook deploy` creates the hook through the REST API, updates it on the next deploy (same
/// id), reports a syntax error with its line, and the server runs what was deployed.
#[tokio::test(flavor = "multi_thread")]
async fn hook_deploy_creates_then_updates_and_the_server_runs_it() {
    use crate::server::{create_integration, start, wait_for_status};
    let directory = tempfile::tempdir().unwrap();
    let db = directory.path().join("flowstate.db").display().to_string();
    let server = start(&db, directory.path());
    let (org, key) = server.first_start.clone().unwrap();
    let org_path = format!("/api/v1/org/{org}");
    let integration =
        create_integration(&server, &org_path, &key, serde_json::json!({ "name": "HR", "sourceSystem": "hr" })).await;
    let file = directory.path().join("people.js");
    let deploy = |extra: &[&str]| {
        let mut all = args(&["hook", "deploy", &file.display().to_string(), "--server", &server.base, "--key", &key]);
        all.extend(args(&["--integration", &integration]));
        all.extend(args(extra));
        flowstate(all)
    };
    std::fs::write(&file, "async function run(ctx) {\n  ctx.log.info('first');\n  return { records: [] };\n}\n")
        .unwrap();
    let without_type = deploy(&[]).await;
    assert_eq!(without_type.status.code(), Some(2), "creating needs --type and --entity");
    assert!(stderr(&without_type).contains("--type and --entity"), "{}", stderr(&without_type));
    let created =
        deploy(&["--type", "pull", "--entity", "employee", "--schedule", "24h", "--preferred-hour", "3"]).await;
    assert_eq!(created.status.code(), Some(0), "{}", stderr(&created));
    assert!(stdout(&created).contains("created hook \"people\""), "{}", stdout(&created));
    assert!(stdout(&created).contains("/#/hooks/hook_"), "where it is in the console: {}", stdout(&created));
    let (_, hooks) =
        crate::server::call(&server, &format!("{org_path}/integrations/{integration}/hooks"), Some(&key)).await;
    let id = hooks["data"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        (hooks["data"][0]["schedule"].clone(), hooks["data"][0]["preferredHour"].clone()),
        (serde_json::json!("24h"), serde_json::json!(3))
    );

    std::fs::write(&file, "async function run(ctx) {\n  ctx.log.info('second');\n  return { records: [] };\n}\n")
        .unwrap();
    let updated = deploy(&[]).await;
    assert_eq!(updated.status.code(), Some(0), "{}", stderr(&updated));
    assert!(stdout(&updated).contains(&format!("updated hook \"people\" ({id})")), "{}", stdout(&updated));
    std::fs::write(&file, "async function run(ctx) {\n  const broken = {;\n}\n").unwrap();
    let refused = deploy(&[]).await;
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("line 2"), "{}", stderr(&refused));

    // The server runs the second version.
    let (status, run) =
        crate::server::send(&server, reqwest::Method::POST, &format!("{org_path}/hooks/{id}/run"), Some(&key), None)
            .await;
    assert_eq!(status, 202, "{run}");
    let execution = run["data"]["id"].as_str().unwrap();
    let finished = wait_for_status(&server, &format!("{org_path}/executions/{execution}"), &key, "succeeded").await;
    assert!(finished.to_string().contains("second"), "{finished}");
    let wrong_key = flowstate(args(&[
        "hook",
        "deploy",
        &file.display().to_string(),
        "--server",
        &server.base,
        "--key",
        "private_0_0",
        "--integration",
        &integration,
    ]))
    .await;
    assert_eq!(wrong_key.status.code(), Some(2));
    assert!(stderr(&wrong_key).contains("refused the key"), "{}", stderr(&wrong_key));

    // A `.ts` file is deployed as TypeScript.
    let typed = directory.path().join("typed.ts");
    std::fs::write(
        &typed,
        "async function run(ctx: unknown): Promise<{ records: [] }> {\n  return { records: [] };\n}\n",
    )
    .unwrap();
    let mut typed_args =
        args(&["hook", "deploy", &typed.display().to_string(), "--server", &server.base, "--key", &key]);
    typed_args.extend(args(&["--integration", &integration, "--type", "pull", "--entity", "team"]));
    let deployed = flowstate(typed_args).await;
    assert_eq!(deployed.status.code(), Some(0), "{}", stderr(&deployed));
    let (_, hooks) =
        crate::server::call(&server, &format!("{org_path}/integrations/{integration}/hooks"), Some(&key)).await;
    let typed_hook = hooks["data"].as_array().unwrap().iter().find(|hook| hook["name"] == "typed").unwrap();
    assert_eq!(typed_hook["language"], "typescript", "{typed_hook}");
}

/// `hook plan` runs the hook for real and writes nothing; the sync that follows does what it
/// said; planned again afterwards, everything is unchanged.
#[tokio::test(flavor = "multi_thread")]
async fn hook_plan_shows_what_a_sync_would_do_and_writes_nothing() {
    let api = Api::start().await;
    let directory = tempfile::tempdir().unwrap();
    let db = directory.path().join("flowstate.db").display().to_string();
    let created =
        flowstate(args(&["org", "create", "--db", &db, "--name", "Acme", "--timezone", "UTC", "--currency", "GBP"]))
            .await;
    let org = stdout(&created).trim().to_string();
    let hook = examples("employees-cursor.js");
    let plan_args = |extra: &[&str]| {
        let mut all = args(&["hook", "plan", &hook, "--db", &db, "--org", &org, "--source", "workday"]);
        all.extend(args(&["--entity", "employee", "--secret", "api_key=cli-test-key"]));
        all.extend(api.route_args());
        all.extend(args(extra));
        all
    };
    let planned = flowstate(plan_args(&["--json"])).await;
    assert_eq!(planned.status.code(), Some(0), "{}", stderr(&planned));
    let answer: serde_json::Value = serde_json::from_str(&stdout(&planned)).unwrap();
    let plan = &answer["plan"];
    assert_eq!(plan["totals"]["created"], 250, "{}", plan["totals"]);
    assert_eq!(plan["records"].as_array().unwrap().len(), 250);
    assert_eq!(plan["records"][0]["action"], "create");
    assert!(plan["records"][0]["changes"].to_string().contains("\"field\":\"email\""), "{}", plan["records"][0]);
    assert_eq!(answer["execution"]["status"], "succeeded");
    assert!(stderr(&planned).contains("page 0:"), "progress per page: {}", stderr(&planned));
    let export =
        |db: String, org: String| flowstate(args(&["export", "--db", &db, "--org", &org, "--entity", "employee"]));
    assert_eq!(stdout(&export(db.clone(), org.clone()).await), "", "a plan writes nothing");

    // The sync that follows: what the plan said.
    let out = directory.path().join("records.ndjson");
    let ran = flowstate(api.run_args(
        &hook,
        &[
            "--type",
            "pull",
            "--entity",
            "employee",
            "--secret",
            "api_key=cli-test-key",
            "--out",
            &out.display().to_string(),
        ],
    ))
    .await;
    assert_eq!(ran.status.code(), Some(0), "{}", stderr(&ran));
    let applied = flowstate(crate::sync_apply_args(&db, &org, "employee", &out)).await;
    let applied: serde_json::Value = serde_json::from_str(&stdout(&applied)).unwrap();
    for count in ["created", "updated", "unchanged", "deleted"] {
        assert_eq!(applied[count], plan["totals"][count], "{count}");
    }
    assert_eq!(stdout(&export(db.clone(), org.clone()).await).lines().count(), 250);

    // Planned again, as a person reads it: nothing to do.
    let again = flowstate(plan_args(&[])).await;
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    let text = stdout(&again);
    assert!(text.contains("nothing was written"), "{text}");
    assert!(text.contains("Totals: 0 to create, 0 to update, 250 unchanged, 0 to delete, 0 refused"), "{text}");
    assert!(!text.contains(" ~ "), "unchanged records are counted, not listed: {text}");

    // A record the sync would refuse: exit 1, the record and field named.
    let refusing = directory.path().join("refusing.js");
    std::fs::write(
        &refusing,
        "async function run(ctx) {\n  return { records: [{ externalId: 'x-1', data: { firstName: 'A', lastName: 'B', email: 'not an email' } }] };\n}\n",
    )
    .unwrap();
    let mut refused_args = args(&["hook", "plan", &refusing.display().to_string(), "--db", &db, "--org", &org]);
    refused_args.extend(args(&["--source", "workday", "--entity", "employee"]));
    let refused = flowstate(refused_args).await;
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(stdout(&refused).contains("! x-1 refused"), "{}", stdout(&refused));
    assert!(stdout(&refused).contains("email:"), "{}", stdout(&refused));

    // ctx.kv: a plan reads the hook's store and writes nothing to it.
    let kv_file = directory.path().join("kv.json");
    std::fs::write(&kv_file, r#"{ "scope-unused": {} }"#).unwrap();
    let kept = std::fs::read_to_string(&kv_file).unwrap();
    let counting = directory.path().join("counting.js");
    std::fs::write(
        &counting,
        "async function run(ctx) {\n  await ctx.kv.set('cursor', 'moved');\n  return { records: [] };\n}\n",
    )
    .unwrap();
    let mut kv_args = args(&["hook", "plan", &counting.display().to_string(), "--db", &db, "--org", &org]);
    kv_args.extend(args(&["--source", "workday", "--entity", "employee", "--kv-file", &kv_file.display().to_string()]));
    let planned = flowstate(kv_args).await;
    assert_eq!(planned.status.code(), Some(0), "{}", stderr(&planned));
    assert_eq!(std::fs::read_to_string(&kv_file).unwrap(), kept, "the kv file is untouched");
}

/// `hook init people` (a PULL hook of employees) in `directory`: the hook file and its
/// fixtures folder.
async fn init_people(directory: &Path) -> (String, String) {
    let dir = directory.display().to_string();
    let init =
        flowstate(args(&["hook", "init", "people", "--type", "pull", "--entity", "employee", "--dir", &dir])).await;
    assert_eq!(init.status.code(), Some(0), "{}", stderr(&init));
    let hook = directory.join("people/people.js").display().to_string();
    (hook, directory.join("people/fixtures").display().to_string())
}

/// `--record` keeps every exchange with no secret in it; `--replay` runs the hook offline
/// from it (a request with no recording fails, naming it); `hook test` compares with the
/// expected file, and a changed expectation fails with a diff.
#[tokio::test(flavor = "multi_thread")]
async fn a_run_is_recorded_replayed_offline_and_tested() {
    let api = Api::start().await;
    let directory = tempfile::tempdir().unwrap();
    let (hook, fixtures) = init_people(directory.path()).await;
    let pull = ["--type", "pull", "--entity", "employee", "--secret", "api_key=cli-test-key"];

    let mut recording = pull.to_vec();
    recording.extend(["--record", &fixtures, "--json"]);
    let recorded = flowstate(api.run_args(&hook, &recording)).await;
    assert_eq!(recorded.status.code(), Some(0), "{}", stderr(&recorded));
    assert!(stderr(&recorded).contains("recorded 3 HTTP exchanges"), "{}", stderr(&recorded));
    let live: serde_json::Value = serde_json::from_str(&stdout(&recorded)).unwrap();
    let saved = std::fs::read_to_string(directory.path().join("people/fixtures/http.json")).unwrap();
    assert!(!saved.contains(crate::KEY), "the secret's value is not in the recording");
    assert!(saved.contains("[REDACTED:api_key]"), "its place is marked: {saved}");
    assert!(saved.contains("\"json\": {"), "JSON bodies are kept as JSON");
    drop(api);

    // Offline: the API is gone, the recording answers.
    let mut replaying = args(&["hook", "run", &hook]);
    replaying.extend(args(&pull));
    replaying.extend(args(&["--replay", &fixtures, "--json"]));
    let replayed = flowstate(replaying.clone()).await;
    assert_eq!(replayed.status.code(), Some(0), "{}", stderr(&replayed));
    let replayed: serde_json::Value = serde_json::from_str(&stdout(&replayed)).unwrap();
    assert_eq!((replayed["recordCount"].clone(), live["recordCount"].clone()), (json!(250), json!(250)));
    assert_eq!(replayed["pages"].as_array().unwrap().len(), live["pages"].as_array().unwrap().len());
    let elsewhere = directory.path().join("elsewhere.js");
    std::fs::write(
        &elsewhere,
        "async function run(ctx) {\n  await ctx.http.get('https://hr.example.com/api/v1/teams');\n  return { records: [] };\n}\n",
    )
    .unwrap();
    replaying[2] = elsewhere.display().to_string();
    let unrecorded = flowstate(replaying).await;
    assert_eq!(unrecorded.status.code(), Some(1));
    assert!(
        stdout(&unrecorded).contains("no recorded answer for GET https://hr.example.com/api/v1/teams"),
        "{}",
        stdout(&unrecorded)
    );

    // The test: no expectation yet, then written, then met, then a changed one fails.
    let test = |extra: &[&str]| {
        let mut all = args(&["hook", "test", &hook]);
        all.extend(args(&pull));
        all.extend(args(extra));
        flowstate(all)
    };
    let missing = test(&[]).await;
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("--update"), "{}", stderr(&missing));
    assert_eq!(test(&["--update"]).await.status.code(), Some(0));
    let expected_file = directory.path().join("people/fixtures/expected.json");
    let expected: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&expected_file).unwrap()).unwrap();
    assert_eq!((expected["status"].clone(), expected["records"].as_array().unwrap().len()), (json!("succeeded"), 250));
    let passed = test(&[]).await;
    assert_eq!(passed.status.code(), Some(0), "{}", stdout(&passed));
    assert!(stdout(&passed).starts_with("ok: "), "{}", stdout(&passed));
    let first = expected["records"][0]["data"]["firstName"].as_str().unwrap().to_string();
    let changed = std::fs::read_to_string(&expected_file).unwrap().replacen(&format!("\"{first}\""), "\"Changed\"", 1);
    std::fs::write(&expected_file, changed).unwrap();
    let failed = test(&[]).await;
    assert_eq!(failed.status.code(), Some(1));
    let diff = stdout(&failed);
    assert!(diff.contains("FAILED"), "{diff}");
    assert!(diff.contains("-        \"firstName\": \"Changed\""), "{diff}");
    assert!(diff.contains(&format!("+        \"firstName\": \"{first}\"")), "{diff}");
}

/// A PUSH hook's test compares the requests it sent; its recording can be written by hand.
#[tokio::test(flavor = "multi_thread")]
async fn a_push_hook_is_tested_by_the_requests_it_sends() {
    let directory = tempfile::tempdir().unwrap();
    let fixtures = directory.path().join("fixtures");
    std::fs::create_dir_all(&fixtures).unwrap();
    std::fs::copy(examples("contractor-created.json"), fixtures.join("event.json")).unwrap();
    let recording = json!({ "exchanges": [{
        "request": { "method": "POST", "url": "https://billing.example.com/api/vendors", "json": {
            "name": "Ada Lovelace", "email": "ada@example.com", "rate": 95, "currency": "GBP", "type": "individual" } },
        "response": { "status": 201, "json": { "id": "v-1" } }
    }] });
    std::fs::write(fixtures.join("http.json"), recording.to_string()).unwrap();
    let hook = directory.path().join("notify.js");
    std::fs::copy(examples("notify-contractor.js"), &hook).unwrap();
    let test = |extra: &[&str]| {
        let mut all = args(&["hook", "test", &hook.display().to_string(), "--type", "push", "--entity", "contractor"]);
        all.extend(args(&["--secret", "billing_token=tok-123456"]));
        all.extend(args(extra));
        flowstate(all)
    };
    assert_eq!(test(&["--update"]).await.status.code(), Some(0));
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures.join("expected.json")).unwrap()).unwrap();
    assert_eq!(expected["status"], "succeeded", "{expected}");
    assert_eq!(expected["requests"][0]["json"]["email"], "ada@example.com", "{expected}");
    assert_eq!(test(&[]).await.status.code(), Some(0));
    // The hook changes what it sends: the test says so.
    let changed = std::fs::read_to_string(&hook).unwrap().replace("email: contractor.email", "email: 'someone@else'");
    std::fs::write(&hook, changed).unwrap();
    let failed = test(&[]).await;
    assert_eq!(failed.status.code(), Some(1), "{}", stdout(&failed));
    assert!(stdout(&failed).contains("+        \"email\": \"someone@else\""), "{}", stdout(&failed));
}

/// The devkit's whole loop, one hook through every command against a local HTTPS fake API:
/// init → plan (nothing written) → record → replay → test → deploy → the server runs it,
/// and its run does what the plan said.
#[tokio::test(flavor = "multi_thread")]
async fn one_hook_through_the_whole_devkit_loop() {
    use crate::server::{create_integration, run_and_wait, send, start_with, total};
    let api = Api::start().await;
    let directory = tempfile::tempdir().unwrap();
    let (hook, fixtures) = init_people(directory.path()).await;
    let secret = ["--secret", "api_key=cli-test-key"];

    // Plan against a store of its own: all 250 would be created, nothing is.
    let planning = directory.path().join("plan.db").display().to_string();
    let org =
        flowstate(args(&["org", "create", "--db", &planning, "--name", "A", "--timezone", "UTC", "--currency", "GBP"]))
            .await;
    let org = stdout(&org).trim().to_string();
    let mut plan =
        args(&["hook", "plan", &hook, "--db", &planning, "--org", &org, "--source", "hr", "--entity", "employee"]);
    plan.extend(args(&secret));
    plan.extend(api.route_args());
    plan.push("--json".into());
    let planned = flowstate(plan).await;
    assert_eq!(planned.status.code(), Some(0), "{}", stderr(&planned));
    let planned: serde_json::Value = serde_json::from_str(&stdout(&planned)).unwrap();
    assert_eq!(planned["plan"]["totals"]["created"], 250);

    // Record, replay, test.
    let mut pull = vec!["--type", "pull", "--entity", "employee"];
    pull.extend(secret);
    let mut record = pull.clone();
    record.extend(["--record", &fixtures]);
    assert_eq!(flowstate(api.run_args(&hook, &record)).await.status.code(), Some(0));
    let mut replay = args(&["hook", "run", &hook]);
    replay.extend(args(&pull));
    replay.extend(args(&["--replay", &fixtures]));
    let replayed = flowstate(replay).await;
    assert!(stdout(&replayed).contains("records: 250"), "{}", stdout(&replayed));
    let mut test = args(&["hook", "test", &hook]);
    test.extend(args(&pull));
    let mut update = test.clone();
    update.push("--update".into());
    assert_eq!(flowstate(update).await.status.code(), Some(0));
    let tested = flowstate(test).await;
    assert_eq!(tested.status.code(), Some(0), "{}", stdout(&tested));

    // Deploy to a server that reaches the same API, which runs it: what the plan said.
    let served = directory.path().join("server");
    std::fs::create_dir_all(&served).unwrap();
    let db = served.join("flowstate.db").display().to_string();
    let server = start_with(&db, &served, &api.route_args());
    let (server_org, key) = server.first_start.clone().unwrap();
    let org_path = format!("/api/v1/org/{server_org}");
    let integration = create_integration(&server, &org_path, &key, json!({ "name": "HR", "sourceSystem": "hr" })).await;
    let path = format!("{org_path}/integrations/{integration}/secrets/api_key");
    let (status, _) =
        send(&server, reqwest::Method::PUT, &path, Some(&key), Some(json!({ "value": crate::KEY }))).await;
    assert_eq!(status, 200);
    let mut deploy = args(&["hook", "deploy", &hook, "--server", &server.base, "--key", &key]);
    deploy.extend(args(&["--integration", &integration, "--type", "pull", "--entity", "employee"]));
    let deployed = flowstate(deploy).await;
    assert_eq!(deployed.status.code(), Some(0), "{}", stderr(&deployed));
    let (_, hooks) =
        crate::server::call(&server, &format!("{org_path}/integrations/{integration}/hooks"), Some(&key)).await;
    let id = hooks["data"][0]["id"].as_str().unwrap().to_string();
    let ran = run_and_wait(&server, &server_org, &key, &id).await;
    assert_eq!(ran["status"], "succeeded", "{ran}");
    assert_eq!(json!(total(&ran, "created")), planned["plan"]["totals"]["created"]);
}
