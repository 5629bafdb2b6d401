//! `flowstate hook plan`: a PULL hook run for real, its pages planned by the sync with
//! nothing written (`flowstate_api::dry_run`), and the plan printed.

use std::{fmt::Write as _, sync::Arc};

use anyhow::Context as _;
use flowstate_runtime::Status;
use flowstate_store::OrgId;
use serde_json::{Value, json};

use crate::{Outcome, UsageError, cli::HookPlanArgs, hook_run, store_cmd, summary};

pub fn run(args: HookPlanArgs) -> Result<Outcome, UsageError> {
    let mut sandbox = hook_run::sandbox(args.sandbox)?;
    // The store first, outside any async runtime (its PostgreSQL client runs its own).
    let store = Arc::new(store_cmd::open(&args.target.db)?);
    let org = OrgId::new(&args.target.org);
    let organization = store.organization(&org).with_context(|| format!("reading organisation {org}"))?;
    let invocation = hook_run::invocation(&args.file, sandbox.secrets.clone(), flowstate_api::hook_org(organization))?;
    let file_name = &invocation.file_name;
    let engine = sandbox.engine().map_err(UsageError)?;
    let runtime = crate::async_runtime().context("starting the async runtime")?;
    let mut announced = 0;
    let dry_run = runtime.block_on(flowstate_api::dry_run::dry_run(
        &engine,
        &store,
        &invocation,
        &org,
        &args.target.source,
        args.target.entity,
        |pages| {
            for page in &pages[announced..] {
                eprintln!("{}", summary::progress_line(page));
            }
            announced = pages.len();
        },
    ));
    drop(runtime);
    sandbox.tape.finish()?;
    let plan = match dry_run.plan {
        Ok(plan) => plan,
        Err(error) => {
            eprintln!("error: the plan could not be made: {error}");
            return Ok(Outcome::Failed);
        }
    };
    let record = dry_run.record;
    if args.json {
        println!("{}", json!({ "plan": plan, "execution": record }));
    } else {
        print!("{}", render(&plan, file_name, &args.target.source, args.all));
        print!("{}", summary::render(&record, file_name, args.target.entity));
    }
    let refused = plan["totals"]["errors"].as_array().is_some_and(|errors| !errors.is_empty());
    Ok(if record.status == Status::Succeeded && !refused { Outcome::Succeeded } else { Outcome::Failed })
}

/// The plan, as a person reads it: each record that would change (or be refused), what
/// changes, and the totals.
fn render(plan: &Value, file_name: &str, source: &str, all: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Plan of {file_name} as a sync of source {source:?}; nothing was written.");
    let records = plan["records"].as_array().map(Vec::as_slice).unwrap_or_default();
    for (index, page) in plan["pages"].as_array().map(Vec::as_slice).unwrap_or_default().iter().enumerate() {
        let _ = writeln!(out, "page {index}: {}", counts(page));
        for record in records.iter().filter(|record| record["page"] == json!(index)) {
            let action = record["action"].as_str().unwrap_or_default();
            if action == "unchanged" && !all {
                continue;
            }
            let (mark, verb) = match action {
                "create" => ('+', "create"),
                "update" => ('~', "update"),
                "delete" => ('-', "delete"),
                "error" => ('!', "refused"),
                _ => ('=', "unchanged"),
            };
            let _ = writeln!(out, "  {mark} {} {verb}", text(&record["externalId"]));
            for change in record["changes"].as_array().map(Vec::as_slice).unwrap_or_default() {
                let field = change["field"].as_str().unwrap_or_default();
                let _ = match action {
                    "create" => writeln!(out, "      {field}: {}", shown(&change["after"])),
                    _ => writeln!(out, "      {field}: {} -> {}", shown(&change["before"]), shown(&change["after"])),
                };
            }
            if let Some(nested) = record["nested"].as_object() {
                for (kind, counts) in nested {
                    let _ = writeln!(out, "      {kind} rows: {}", nested_counts(counts));
                }
            }
            for also in record["also"].as_array().map(Vec::as_slice).unwrap_or_default() {
                let _ = writeln!(
                    out,
                    "      and {} {} {}",
                    also["changeType"].as_str().unwrap_or_default(),
                    also["entityType"].as_str().unwrap_or_default(),
                    text(&also["externalId"])
                );
            }
            for error in record["errors"].as_array().map(Vec::as_slice).unwrap_or_default() {
                let message = error["message"].as_str().unwrap_or_default();
                let _ = match error["field"].as_str() {
                    Some(field) => writeln!(out, "      {field}: {message}"),
                    None => writeln!(out, "      {message}"),
                };
            }
        }
    }
    let _ = writeln!(out, "Totals: {}", counts(&plan["totals"]));
    out
}

/// `2 to create, 1 to update, 3 unchanged, 0 to delete, 1 refused`, and nested rows.
fn counts(outcome: &Value) -> String {
    let number = |name: &str| outcome[name].as_u64().unwrap_or(0);
    let mut line = format!(
        "{} to create, {} to update, {} unchanged, {} to delete, {} refused",
        number("created"),
        number("updated"),
        number("unchanged"),
        number("deleted"),
        outcome["errors"].as_array().map_or(0, Vec::len)
    );
    if let Some(nested) = outcome["nested"].as_object() {
        for (kind, counts) in nested {
            let _ = write!(line, "; {kind} rows: {}", nested_counts(counts));
        }
    }
    line
}

fn nested_counts(counts: &Value) -> String {
    let number = |name: &str| counts[name].as_u64().unwrap_or(0);
    format!(
        "{} to create, {} to update, {} unchanged, {} to delete",
        number("created"),
        number("updated"),
        number("unchanged"),
        number("deleted")
    )
}

fn text(value: &Value) -> String {
    value.as_str().map_or_else(|| value.to_string(), str::to_string)
}

/// A value in a line: JSON, an array by its length, cut at 80 characters.
fn shown(value: &Value) -> String {
    let written = match value {
        Value::Null => "(none)".to_string(),
        Value::Array(items) => format!("{} row{}", items.len(), if items.len() == 1 { "" } else { "s" }),
        other => other.to_string(),
    };
    if written.chars().count() > 80 { format!("{}…", written.chars().take(79).collect::<String>()) } else { written }
}
