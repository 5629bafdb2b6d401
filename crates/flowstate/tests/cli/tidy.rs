//! Tidy tests: the architecture's invariants (ARCHITECTURE.md), checked over the source
//! tree. Each names the file and line that breaks it.

use std::path::{Path, PathBuf};

/// The workspace's `crates/*/src/**/*.rs`, with their text.
fn sources() -> Vec<(PathBuf, String)> {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut found = Vec::new();
    let mut pending: Vec<PathBuf> = std::fs::read_dir(&crates)
        .unwrap()
        .map(|entry| entry.unwrap().path().join("src"))
        .filter(|path| path.is_dir())
        .collect();
    while let Some(directory) = pending.pop() {
        for entry in std::fs::read_dir(&directory).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|extension| extension == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                found.push((path.canonicalize().unwrap(), text));
            }
        }
    }
    assert!(found.len() > 50, "the source tree was found ({} files)", found.len());
    found
}

/// `crates/NAME/src/…` → `NAME`.
fn crate_of(path: &Path) -> String {
    let parts: Vec<_> = path.components().map(|part| part.as_os_str().to_string_lossy().to_string()).collect();
    let at = parts.iter().rposition(|part| part == "src").expect("under src");
    parts[at - 1].clone()
}

/// Each line of `text` (1-based) that contains one of `needles`, outside comments.
fn offending_lines(path: &Path, text: &str, needles: &[&str]) -> Vec<String> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim_start().starts_with("//"))
        .filter_map(|(index, line)| {
            needles
                .iter()
                .find(|needle| line.contains(*needle))
                .map(|needle| format!("{}:{}: {needle}", path.display(), index + 1))
        })
        .collect()
}

/// SQL and the database drivers stay in `crates/store` (and the test support that makes a
/// schema per test run).
#[test]
fn no_sql_or_database_driver_outside_the_store() {
    let needles =
        ["rusqlite", "postgres::", "tokio_postgres", "\"SELECT ", "\"INSERT INTO", "\"UPDATE ", "\"DELETE FROM"];
    let offending: Vec<String> = sources()
        .iter()
        .filter(|(path, _)| !["store", "test-support"].contains(&crate_of(path).as_str()))
        .flat_map(|(path, text)| offending_lines(path, text, &needles))
        .collect();
    assert!(offending.is_empty(), "SQL or a database driver outside crates/store:\n{}", offending.join("\n"));
}

/// Outgoing connections go through `crates/egress` (its policy cannot be bypassed); the
/// server's listeners live at the HTTP edge (`api`, `flowstate serve`, the example API).
#[test]
fn no_outgoing_socket_outside_egress() {
    let needles = ["TcpStream", "UdpSocket", "reqwest::", "hyper_util::client", "std::net::TcpStream"];
    let offending: Vec<String> = sources()
        .iter()
        .filter(|(path, _)| !["egress", "test-support"].contains(&crate_of(path).as_str()))
        .flat_map(|(path, text)| offending_lines(path, text, &needles))
        .collect();
    assert!(offending.is_empty(), "an outgoing connection outside crates/egress:\n{}", offending.join("\n"));
}

/// Hook types and execution statuses are enums (`flowstate_store::kinds`, and the runtime's
/// `HookType` and `Status` in `record.rs`), never compared or written as text elsewhere.
#[test]
fn no_hook_type_or_status_literal_outside_its_type() {
    let needles =
        ["\"PULL\"", "\"PUSH\"", "\"queued\"", "\"running\"", "\"succeeded\"", "\"timed_out\"", "\"skipped\""];
    let offending: Vec<String> = sources()
        .iter()
        .filter(|(path, _)| !path.ends_with("store/src/kinds.rs") && !path.ends_with("runtime/src/record.rs"))
        // A migration test writes raw rows on purpose.
        .filter(|(path, _)| !path.ends_with("store/src/migrate.rs"))
        .flat_map(|(path, text)| offending_lines(path, text, &needles))
        .collect();
    assert!(offending.is_empty(), "a hook type or status spelled as text:\n{}", offending.join("\n"));
}

/// Scopes are `flowstate_store::kinds::Scope`: no `"…:read"` or `"…:write"` literal elsewhere
/// (the document's descriptions are made from the route table's scopes, and a test holds
/// them together).
#[test]
fn no_scope_literal_outside_its_type() {
    let offending: Vec<String> = sources()
        .iter()
        .filter(|(path, _)| !path.ends_with("store/src/kinds.rs") && !path.ends_with("api/src/openapi.rs"))
        .flat_map(|(path, text)| {
            text.lines()
                .enumerate()
                .filter(|(_, line)| !line.trim_start().starts_with("//"))
                .filter(|(_, line)| {
                    line.split('"').skip(1).step_by(2).any(|literal| {
                        (literal.ends_with(":read") || literal.ends_with(":write")) && !literal.contains(' ')
                    })
                })
                .map(|(index, _)| format!("{}:{}", path.display(), index + 1))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(offending.is_empty(), "a scope spelled as text:\n{}", offending.join("\n"));
}
