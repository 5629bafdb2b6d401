//! The `flowstate` binary, driven as a user would: exit codes, stdout/stderr, files.

mod console;
mod demo;
mod devkit;
mod edge;
mod forecast;
mod isolation;
mod server;
mod tidy;

use std::{path::Path, process::Output};

use flowstate_example_api::{HrDataset, TlsServer, hr_router};
use serde_json::Value;

const KEY: &str = "cli-test-key";

async fn flowstate(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_flowstate")).args(args).output().expect("runs")
    })
    .await
    .unwrap()
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|arg| arg.to_string()).collect()
}

/// `flowstate sync apply --json` of `file` into `db`, as source `workday`.
fn sync_apply_args(db: &str, org: &str, entity: &str, file: &Path) -> Vec<String> {
    args(&[
        "sync",
        "apply",
        "--db",
        db,
        "--org",
        org,
        "--source",
        "workday",
        "--entity",
        entity,
        "--json",
        &file.display().to_string(),
    ])
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn examples(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/hooks").join(name).display().to_string()
}

/// A fake HR API and the routing/trust arguments that reach it.
struct Api {
    server: TlsServer,
    directory: tempfile::TempDir,
}

impl Api {
    async fn start() -> Api {
        let server = TlsServer::start(hr_router(HrDataset::new(250, 450, KEY)), &["hr.example.com", "api.example.com"])
            .await
            .unwrap();
        let directory = tempfile::tempdir().unwrap();
        std::fs::write(directory.path().join("ca.pem"), server.ca_pem()).unwrap();
        Api { server, directory }
    }

    fn path(&self, name: &str) -> String {
        self.directory.path().join(name).display().to_string()
    }

    fn write(&self, name: &str, text: &str) -> String {
        std::fs::write(self.directory.path().join(name), text).unwrap();
        self.path(name)
    }

    fn route_args(&self) -> Vec<String> {
        let port = self.server.addr().port();
        args(&[
            "--connect-to",
            &format!("hr.example.com:443:127.0.0.1:{port}"),
            "--connect-to",
            &format!("api.example.com:443:127.0.0.1:{port}"),
            "--cacert",
            &self.path("ca.pem"),
        ])
    }

    fn run_args(&self, file: &str, rest: &[&str]) -> Vec<String> {
        let mut all = args(&["hook", "run", file]);
        all.extend(args(rest));
        all.extend(self.route_args());
        all
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pull_run_prints_one_json_record_and_writes_ndjson() {
    let api = Api::start().await;
    let secrets = api.write("secrets.json", r#"{ "api_key": "wrong", "other": "xyzw" }"#);
    let out = api.path("records.ndjson");
    let output = flowstate(api.run_args(
        &examples("contractors-offset.js"),
        &[
            "--type",
            "pull",
            "--entity",
            "contractor",
            "--secrets",
            &secrets,
            "--secret",
            &format!("api_key={KEY}"),
            "--out",
            &out,
            "--json",
        ],
    ))
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let record: Value = serde_json::from_str(&stdout(&output)).expect("stdout is exactly one JSON object");
    assert_eq!(record["status"], "succeeded");
    assert_eq!(record["recordCount"], 450);
    assert_eq!(record["pages"].as_array().unwrap().len(), 3);
    let text = stdout(&output);
    assert!(!text.contains(KEY), "the secret leaked into the record");
    let lines: Vec<Value> =
        std::fs::read_to_string(&out).unwrap().lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(lines.len(), 450);
    assert_eq!(
        lines[0],
        serde_json::json!({ "externalId": "ctr-0001", "data": { "name": "Contractor 1", "email": "contractor1@example.com", "rate": 55, "currencyCode": "GBP" } })
    );
    assert!(stderr(&output).contains("page 0: 200 records, more (1 request"), "{}", stderr(&output));
}

#[tokio::test(flavor = "multi_thread")]
async fn failures_and_timeouts_exit_1_with_their_status() {
    let api = Api::start().await;
    let failing = api.write("failing.js", "async function run(ctx) { throw new Error('nope'); }");
    let output = flowstate(api.run_args(&failing, &["--type", "pull", "--entity", "employee", "--json"])).await;
    assert_eq!(output.status.code(), Some(1));
    let record: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!((record["status"].as_str(), record["error"]["message"].as_str()), (Some("failed"), Some("Error: nope")));

    let stuck = api.write("stuck.js", "async function run(ctx) { while (true) {} }");
    let limits = api.write("limits.json", r#"{ "pullPageTimeMs": 200 }"#);
    let output =
        flowstate(api.run_args(&stuck, &["--type", "pull", "--entity", "employee", "--limits", &limits, "--json"]))
            .await;
    assert_eq!(output.status.code(), Some(1));
    let record: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(record["status"], "timed_out");

    let output = flowstate(api.run_args(&failing, &["--type", "pull", "--entity", "employee"])).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).contains("FAILED") && stdout(&output).contains("Error on page 0: Error: nope"),
        "{}",
        stdout(&output)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn usage_errors_exit_2_and_say_what_is_wrong() {
    let api = Api::start().await;
    let hook = examples("employees-cursor.js");
    let bad_limits = api.write("bad-limits.json", r#"{ "maxPagez": 1 }"#);
    let cases: Vec<(Vec<String>, &str)> = vec![
        (args(&["hook", "run", "missing.js", "--type", "pull", "--entity", "employee"]), "reading hook missing.js"),
        (
            args(&["hook", "run", &hook, "--type", "pull", "--entity", "employee", "--secret", "novalue"]),
            "is not NAME=VALUE",
        ),
        (
            args(&["hook", "run", &hook, "--type", "pull", "--entity", "employee", "--secret", "pin=123"]),
            "secret \"pin\" is shorter than 4 characters",
        ),
        (args(&["hook", "run", &hook, "--type", "push", "--entity", "employee"]), "--type push needs --event"),
        (
            args(&["hook", "run", &hook, "--type", "pull", "--entity", "employee", "--event", &hook]),
            "--event is for PUSH hooks",
        ),
        (
            args(&["hook", "run", &hook, "--type", "pull", "--entity", "employee", "--connect-to", "a:b"]),
            "invalid connect-to rule",
        ),
        (
            args(&["hook", "run", &hook, "--type", "pull", "--entity", "employee", "--limits", &bad_limits]),
            "limits file",
        ),
        (args(&["hook", "run", &hook, "--type", "pull", "--entity", "people"]), "invalid value 'people'"),
        (args(&["hook", "run", &hook, "--entity", "employee"]), "--type"),
    ];
    for (arguments, expected) in cases {
        let output = flowstate(arguments.clone()).await;
        assert_eq!(output.status.code(), Some(2), "{arguments:?}: {}", stderr(&output));
        assert!(stderr(&output).contains(expected), "{arguments:?}: {}", stderr(&output));
        assert!(stdout(&output).is_empty());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_push_run_gets_the_event_and_kv_persists_in_its_file() {
    let api = Api::start().await;
    let hook = api.write(
        "push.js",
        "async function run(ctx) { const runs = Number(await ctx.kv.get('runs') ?? 0) + 1; await ctx.kv.set('runs', String(runs)); ctx.log.info(`${ctx.event.changeType} ${ctx.event.after.name} run ${runs}`); }",
    );
    let kv = api.path("kv.json");
    let event = examples("contractor-created.json");
    for expected in ["create Ada Lovelace run 1", "create Ada Lovelace run 2"] {
        let output = flowstate(api.run_args(
            &hook,
            &["--type", "push", "--entity", "contractor", "--event", &event, "--kv-file", &kv, "--json"],
        ))
        .await;
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let record: Value = serde_json::from_str(&stdout(&output)).unwrap();
        assert_eq!(record["logs"][0]["message"], expected);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn help_explains_the_commands() {
    let output = flowstate(args(&["hook", "run", "--help"])).await;
    assert_eq!(output.status.code(), Some(0));
    let help = stdout(&output);
    for needle in ["--connect-to", "--cacert", "--secrets", "--kv-file", "--out", "--json", "Exit status", "--limits"] {
        assert!(help.contains(needle), "{needle} missing from:\n{help}");
    }
    let output = flowstate(args(&["--help"])).await;
    assert!(stdout(&output).contains("demo"));
}

#[tokio::test(flavor = "multi_thread")]
async fn org_create_sync_apply_and_export_work_together() {
    let directory = tempfile::tempdir().unwrap();
    let db = directory.path().join("flowstate.db").display().to_string();
    create_sync_apply_export(&directory, &db).await;

    for (arguments, expected) in [
        (
            args(&["export", "--db", &db, "--org", "org_missing", "--entity", "vacancy"]),
            "organisation org_missing does not exist",
        ),
        (
            args(&[
                "export",
                "--db",
                "postgres://flowstate:hunter2@127.0.0.1:1/x",
                "--org",
                "org_x",
                "--entity",
                "vacancy",
            ]),
            "connecting to PostgreSQL at postgres://flowstate:***@127.0.0.1:1/x",
        ),
        (args(&["export", "--db", &db, "--org", "org_x", "--entity", "people"]), "unknown entity type"),
        (args(&["org", "create", "--db", &db, "--name", "X", "--timezone", "UTC", "--currency", "pounds"]), "ISO 4217"),
    ] {
        let output = flowstate(arguments.clone()).await;
        assert_eq!(output.status.code(), Some(2), "{arguments:?}");
        assert!(stderr(&output).contains(expected), "{arguments:?}: {}", stderr(&output));
        assert!(!stderr(&output).contains("hunter2"), "a database password never shows: {}", stderr(&output));
    }
}

/// The same against PostgreSQL (`FLOWSTATE_TEST_DATABASE_URL`, in a schema of this run's own).
#[tokio::test(flavor = "multi_thread")]
async fn org_create_sync_apply_and_export_work_on_postgres() {
    let Some(db) = postgres_url() else { return };
    let directory = tempfile::tempdir().unwrap();
    create_sync_apply_export(&directory, &db).await;
}

async fn create_sync_apply_export(directory: &tempfile::TempDir, db: &str) {
    let db = db.to_string();
    let output = flowstate(args(&[
        "org",
        "create",
        "--db",
        &db,
        "--name",
        "Acme",
        "--timezone",
        "Europe/London",
        "--currency",
        "GBP",
    ]))
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let org = stdout(&output).trim().to_string();
    assert!(org.starts_with("org_"), "{org}");

    let people = directory.path().join("people.ndjson");
    std::fs::write(
        &people,
        [
            r#"{"externalId":"EMP-1","data":{"firstName":"Ada","lastName":"Lovelace","email":"ada@example.com","teamAllocations":[{"teamId":"T-1","fte":1,"startDate":"2026-01-01"}]}}"#,
            r#"{"externalId":"EMP-2","data":{"firstName":"Bad","lastName":"Email","email":"nope"}}"#,
            "not json",
        ]
        .join("\n"),
    )
    .unwrap();
    let apply = |file: &Path, entity: &str| sync_apply_args(&db, &org, entity, file);
    let output = flowstate(apply(&people, "employee")).await;
    assert_eq!(output.status.code(), Some(1), "some records failed: {}", stderr(&output));
    let outcome: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(
        (outcome["created"].as_u64(), outcome["nested"]["teamAllocations"]["created"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(
        outcome["errors"],
        serde_json::json!([
            { "externalId": "line 3", "field": null, "message": "not JSON: expected ident at line 1 column 2" },
            { "externalId": "EMP-2", "field": "email", "message": "email must be an email address, got \"nope\"" },
        ])
    );

    let positions = directory.path().join("positions.ndjson");
    std::fs::write(
        &positions,
        r#"{"externalId":"POS-1","data":{"role":"Staff Engineer","filledByExternalId":"EMP-1"}}"#,
    )
    .unwrap();
    for expected in [(1, 0), (0, 1)] {
        let output = flowstate(apply(&positions, "vacancy")).await;
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let outcome: Value = serde_json::from_str(&stdout(&output)).unwrap();
        assert_eq!((outcome["created"].as_u64(), outcome["unchanged"].as_u64()), (Some(expected.0), Some(expected.1)));
    }

    let output = flowstate(args(&["export", "--db", &db, "--org", &org, "--entity", "vacancy"])).await;
    assert_eq!(output.status.code(), Some(0));
    let exported: Vec<Value> = stdout(&output).lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(exported.len(), 1);
    assert_eq!(
        (exported[0]["isFilled"].as_bool(), exported[0]["filledBy"]["externalId"].as_str()),
        (Some(true), Some("EMP-1"))
    );
}

/// A `sync apply` killed with SIGKILL in the middle of a page leaves every record either
/// fully written (entity, both allocations, sync state, event) or not at all, and the
/// re-run finishes the job without duplicating anything.
#[tokio::test(flavor = "multi_thread")]
async fn a_sync_killed_mid_page_leaves_no_half_written_record() {
    let directory = tempfile::tempdir().unwrap();
    let db = directory.path().join("flowstate.db").display().to_string();
    kill_mid_page_then_rerun(&directory, &db).await;
}

/// The same against PostgreSQL: the server rolls back the page of the killed client.
#[tokio::test(flavor = "multi_thread")]
async fn a_sync_killed_mid_page_leaves_no_half_written_record_on_postgres() {
    let Some(db) = postgres_url() else { return };
    let directory = tempfile::tempdir().unwrap();
    kill_mid_page_then_rerun(&directory, &db).await;
}

async fn kill_mid_page_then_rerun(directory: &tempfile::TempDir, db: &str) {
    use std::io::{BufRead, BufReader};

    let db = db.to_string();
    let org = stdout(
        &flowstate(args(&["org", "create", "--db", &db, "--name", "Acme", "--timezone", "UTC", "--currency", "GBP"]))
            .await,
    )
    .trim()
    .to_string();
    let file = directory.path().join("people.ndjson");
    let total = 8_000;
    let lines: Vec<String> = (0..total)
        .map(|n| {
            serde_json::json!({ "externalId": format!("EMP-{n}"), "data": {
                "firstName": "Ada", "lastName": format!("L{n}"), "email": format!("ada{n}@example.com"),
                "teamAllocations": [
                    { "teamId": format!("T-{}", n % 50), "fte": 0.5, "startDate": "2026-01-01" },
                    { "teamId": format!("T-{}", (n + 1) % 50), "fte": 0.5, "startDate": "2026-01-01" },
                ],
            } })
            .to_string()
        })
        .collect();
    std::fs::write(&file, lines.join("\n")).unwrap();
    let apply_args = sync_apply_args(&db, &org, "employee", &file);

    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_flowstate"))
        .args(&apply_args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Kill it while it works on the third page: two pages are committed by then.
    let mut progress = BufReader::new(child.stderr.take().unwrap()).lines();
    for _ in 0..2 {
        let line = progress.next().expect("progress line").unwrap();
        assert!(line.starts_with("page "), "{line}");
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let output = flowstate(args(&["export", "--db", &db, "--org", &org, "--entity", "employee"])).await;
    let stored: Vec<Value> = stdout(&output).lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert!(stored.len() >= 2000 && stored.len() < total, "killed mid-run: {} stored", stored.len());
    for employee in &stored {
        assert_eq!(employee["teamAllocations"].as_array().map(Vec::len), Some(2), "{employee}");
    }

    let output = flowstate(apply_args).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let outcome: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(
        outcome["unchanged"].as_u64(),
        Some(stored.len() as u64),
        "what survived is exactly what the store knows it applied"
    );
    assert_eq!(outcome["created"].as_u64(), Some((total - stored.len()) as u64));
    let output = flowstate(args(&["export", "--db", &db, "--org", &org, "--entity", "employee"])).await;
    assert_eq!(stdout(&output).lines().count(), total);
}

/// `FLOWSTATE_TEST_DATABASE_URL` with `search_path` set to a schema made for this run; `None`
/// (said on the terminal) when unset, and a failure under `CI`.
fn postgres_url() -> Option<String> {
    flowstate_test_support::postgres_schema("cli")
}
