//! `flowstate demo`: the first command shows the whole product working. It prepares a fresh
//! folder, runs the PULL hooks once, prints the console's address and a key, and serves.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
};

use serde_json::json;

/// A running `flowstate demo`, killed when dropped.
pub(crate) struct Demo {
    child: Child,
    /// `http://127.0.0.1:PORT` (the console is at `/`).
    pub(crate) base: String,
    pub(crate) key: String,
    /// What it printed up to the key.
    pub(crate) printed: String,
    pub(crate) directory: tempfile::TempDir,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Demo {
    pub(crate) fn start() -> Demo {
        let directory = tempfile::tempdir().unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_flowstate"))
            .args(["demo", "--listen", "127.0.0.1:0", "--dir"])
            .arg(directory.path().join("demo"))
            .env_remove("FLOWSTATE_MASTER_KEY")
            .env_remove("FLOWSTATE_DB")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut demo = Demo { child, base: String::new(), key: String::new(), printed: String::new(), directory };
        let mut lines = BufReader::new(demo.child.stdout.take().unwrap()).lines();
        loop {
            let line = lines.next().unwrap_or_else(|| panic!("the demo stopped early:\n{}", demo.printed)).unwrap();
            demo.printed.push_str(&line);
            demo.printed.push('\n');
            if let Some(address) = line.strip_prefix("Open the console:") {
                demo.base = address.trim().trim_end_matches('/').to_string();
            } else if let Some(key) = line.trim().strip_prefix("API key:") {
                demo.key = key.trim().to_string();
                return demo;
            }
        }
    }

    pub(crate) async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        flowstate_test_support::http::send(&self.base, reqwest::Method::GET, path, Some(&self.key), None).await
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_prepares_a_company_runs_its_pulls_and_serves_the_console() {
    let demo = Demo::start();
    for line in [
        "teams        succeeded: 7 created",
        "employees    succeeded: 24 created",
        "contractors  succeeded: 6 created",
        "positions    succeeded: 8 created",
    ] {
        assert!(demo.printed.contains(line), "{line:?} in:\n{}", demo.printed);
    }
    assert!(demo.printed.contains(", 0 failed"), "{}", demo.printed);
    let (status, page) = flowstate_test_support::http::send(&demo.base, reqwest::Method::GET, "/", None, None).await;
    assert_eq!(status, 200, "the console at /: {page}");
    let (status, who) = demo.get("/api/v1/key").await;
    assert_eq!(status, 200, "{who}");
    let organization = &who["data"]["organization"];
    assert_eq!((&organization["timezone"], &organization["currency"]), (&json!("Europe/London"), &json!("GBP")));
    let org = format!("/api/v1/org/{}", organization["id"].as_str().unwrap());
    let (_, employees) = demo.get(&format!("{org}/employees?limit=1")).await;
    assert_eq!(employees["meta"]["total"], 24);
    let (_, position) = demo.get(&format!("{org}/vacancies/P-001")).await;
    assert_eq!(position["data"]["filledBy"]["externalId"], "E-003", "filled by the employee who leaves: {position}");
    let (_, integrations) = demo.get(&format!("{org}/integrations")).await;
    let integration = integrations["data"][0]["id"].as_str().unwrap().to_string();
    let (_, secrets) = demo.get(&format!("{org}/integrations/{integration}/secrets")).await;
    assert_eq!(secrets["data"][0]["name"], "api_key", "the secret is set: {secrets}");
    let (_, hooks) = demo.get(&format!("{org}/integrations/{integration}/hooks")).await;
    let kinds: Vec<String> = hooks["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hook| format!("{} {}", hook["type"], hook["entityType"]))
        .collect();
    assert!(kinds.contains(&"\"PUSH\" \"vacancy\"".to_string()), "{kinds:?}");
    assert_eq!(kinds.len(), 5, "{kinds:?}");
    // The leaver's position costs again after they go; one position has no salary range.
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    let (status, forecast) = demo.get(&format!("{org}/forecast?from={month}&to={month}")).await;
    assert_eq!(status, 200, "{forecast}");
    assert_ne!(forecast["data"]["total"][0], "0.00", "{forecast}");
    let not_costed = forecast["data"]["notCosted"].to_string();
    assert!(not_costed.contains("P-008") && not_costed.contains("no salary range"), "{not_costed}");

    // A folder that already holds a demo is refused (exit 2), never overwritten.
    let again = Command::new(env!("CARGO_BIN_EXE_flowstate"))
        .args(["demo", "--listen", "127.0.0.1:0", "--dir"])
        .arg(demo.directory.path().join("demo"))
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds a demo database"));
}
