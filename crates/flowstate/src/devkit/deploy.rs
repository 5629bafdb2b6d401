//! `flowstate hook deploy FILE --server URL --key KEY --integration ID`: the hook of the
//! integration with the file's name is updated, or created, through the REST API (what the
//! console does, from a terminal or a CI job).

use anyhow::Context as _;
use flowstate_egress::{Method, operator::ServerClient};
use flowstate_store::kinds::Language;
use serde_json::{Map, Value, json};

use crate::{Outcome, UsageError, cli::HookDeployArgs};

pub async fn run(args: HookDeployArgs) -> Result<Outcome, UsageError> {
    let code = std::fs::read_to_string(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let name = match &args.name {
        Some(name) => name.clone(),
        None => args
            .file
            .file_stem()
            .and_then(|stem| stem.to_str())
            .map(str::to_string)
            .context("the file has no name to give the hook: say --name")?,
    };
    let server = ServerClient::new(&args.server, &args.key)?;
    let call = |method: Method, path: String, body: Option<Value>| {
        let server = &server;
        async move {
            let (status, text) = server.send(method, &path, body.map(|body| body.to_string())).await?;
            let answer: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            Ok::<_, anyhow::Error>((status, answer))
        }
    };
    let (status, who) = call(Method::Get, "/api/v1/key".into(), None).await?;
    if status != 200 {
        return Err(UsageError(anyhow::anyhow!("the server refused the key: {}", message(&who))));
    }
    let org = who["data"]["organization"]["id"].as_str().context("the server did not say the key's organisation")?;
    let base = format!("/api/v1/org/{org}");
    let integration = &args.integration;
    let (status, hooks) = call(Method::Get, format!("{base}/integrations/{integration}/hooks"), None).await?;
    if status != 200 {
        return Err(UsageError(anyhow::anyhow!("integration {integration}: {}", message(&hooks))));
    }
    let existing = hooks["data"].as_array().into_iter().flatten().find(|hook| hook["name"] == json!(name)).cloned();
    let mut body = Map::new();
    body.insert("code".into(), json!(code));
    // The file says the language, as it does to `hook run`.
    let language = if flowstate_runtime::typescript::is_typescript(&args.file.to_string_lossy()) {
        Language::TypeScript
    } else {
        Language::JavaScript
    };
    body.insert("language".into(), json!(language.as_str()));
    if let Some(schedule) = &args.schedule {
        body.insert("schedule".into(), json!(schedule));
    }
    if let Some(hour) = args.preferred_hour {
        body.insert("preferredHour".into(), json!(hour));
    }
    if !args.events.is_empty() {
        body.insert("eventTypes".into(), json!(args.events));
    }
    let (verb, status, answer) = match existing {
        Some(hook) => {
            let id = hook["id"].as_str().context("a hook without an id")?.to_string();
            let (status, answer) = call(Method::Patch, format!("{base}/hooks/{id}"), Some(Value::Object(body))).await?;
            ("updated", status, answer)
        }
        None => {
            let (Some(kind), Some(entity)) = (args.kind, args.entity) else {
                return Err(UsageError(anyhow::anyhow!(
                    "integration {integration} has no hook named {name:?}: say --type and --entity to create it"
                )));
            };
            body.insert("name".into(), json!(name));
            body.insert("type".into(), json!(kind.as_str()));
            body.insert("entityType".into(), json!(entity.as_str()));
            let path = format!("{base}/integrations/{integration}/hooks");
            let (status, answer) = call(Method::Post, path, Some(Value::Object(body))).await?;
            ("created", status, answer)
        }
    };
    if !(200..300).contains(&status) {
        eprintln!("the server refused the hook: {}", message(&answer));
        return Ok(Outcome::Failed);
    }
    let hook = &answer["data"];
    let id = hook["id"].as_str().unwrap_or_default();
    println!(
        "{verb} hook {name:?} ({id}), {} {}",
        hook["type"].as_str().unwrap_or_default(),
        hook["entityType"].as_str().unwrap_or_default()
    );
    if let Some(next) = hook["nextRunAt"].as_str() {
        println!("  next scheduled run: {next}");
    }
    println!("  in the console: {}/#/hooks/{id}", args.server.trim_end_matches('/'));
    println!("  over the API:   {}{base}/hooks/{id}", args.server.trim_end_matches('/'));
    Ok(Outcome::Succeeded)
}

/// The API's error message, with where a syntax error is.
fn message(answer: &Value) -> String {
    let error = &answer["error"];
    let mut text = error["message"].as_str().map_or_else(|| answer.to_string(), str::to_string);
    let details = &error["details"];
    if let (Some(line), Some(column)) = (details["line"].as_u64(), details["column"].as_u64()) {
        text.push_str(&format!(" (line {line}, column {column})"));
    } else if let Some(list) = details.as_array() {
        for detail in list {
            text.push_str(&format!(
                "; {}: {}",
                detail["field"].as_str().unwrap_or("?"),
                detail["message"].as_str().unwrap_or("")
            ));
        }
    }
    text
}
