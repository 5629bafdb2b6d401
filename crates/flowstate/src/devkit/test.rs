//! `flowstate hook test`: the hook run offline against its recorded exchanges, and what it
//! returned (PULL: its records; PUSH: the requests it sent) compared with `expected.json`.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow};
use flowstate_devkit::recording::{RECORDING_FILE, RecordedRequest};
use flowstate_runtime::ExecutionRecord;
use serde_json::{Value, json};

use crate::{
    Outcome, UsageError,
    cli::{HookKind, HookTestArgs, SandboxArgs},
    devkit::tape::Tape,
    hook_run,
};

/// The file a hook's test expects, in its fixtures folder.
pub const EXPECTED_FILE: &str = "expected.json";

pub fn run(args: HookTestArgs) -> Result<Outcome, UsageError> {
    let fixtures = args.fixtures.clone().unwrap_or_else(|| beside(&args.file, "fixtures"));
    if !fixtures.join(RECORDING_FILE).is_file() {
        return Err(UsageError(anyhow!(
            "no recording at {}: make one with `flowstate hook run {} … --record {}`",
            fixtures.join(RECORDING_FILE).display(),
            args.file.display(),
            fixtures.display()
        )));
    }
    let mut sandbox = hook_run::sandbox(SandboxArgs {
        secrets: args.secrets,
        secret: args.secret,
        kv_file: None,
        connect_to: Vec::new(),
        cacert: Vec::new(),
        limits: args.limits,
        record: None,
        replay: Some(fixtures.clone()),
    })?;
    let event = match args.kind {
        HookKind::Push => Some(hook_run::read_json::<Value>(&fixtures.join("event.json"), "event file")?),
        HookKind::Pull => None,
    };
    let invocation = hook_run::invocation(&args.file, sandbox.secrets.clone(), hook_run::local_org())?;
    let engine = sandbox.engine().map_err(UsageError)?;
    let runtime = crate::async_runtime().context("starting the async runtime")?;
    let actual = runtime.block_on(async {
        match &event {
            Some(event) => {
                let record = engine.run_push(&invocation, event).await;
                let Tape::Replay { replayer: Some(replayer), .. } = &sandbox.tape else {
                    unreachable!("a test replays")
                };
                let requests: Vec<Value> = replayer.asked().iter().map(sent).collect();
                with_ending(&record, json!({ "requests": requests }))
            }
            None => {
                let mut pull = engine.start_pull(&invocation);
                let mut records = Vec::new();
                while let Some(page) = pull.next_page().await {
                    records.extend(
                        page.records
                            .into_iter()
                            .map(|record| json!({ "externalId": record.external_id.as_str(), "data": record.data })),
                    );
                }
                with_ending(&pull.finish(), json!({ "records": records }))
            }
        }
    });
    let expected_file = fixtures.join(EXPECTED_FILE);
    let written = format!("{}\n", serde_json::to_string_pretty(&actual).expect("json"));
    if args.update {
        std::fs::write(&expected_file, &written).with_context(|| format!("writing {}", expected_file.display()))?;
        println!("wrote {}", expected_file.display());
        return Ok(Outcome::Succeeded);
    }
    let expected: Value = match std::fs::read_to_string(&expected_file) {
        Ok(text) => {
            serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", expected_file.display()))?
        }
        Err(_) => {
            return Err(UsageError(anyhow!(
                "no {} yet: write it from this run with --update",
                expected_file.display()
            )));
        }
    };
    if expected == actual {
        println!("ok: {} matches {}", args.file.display(), expected_file.display());
        return Ok(Outcome::Succeeded);
    }
    let expected_text = format!("{}\n", serde_json::to_string_pretty(&expected).expect("json"));
    let diff = similar::TextDiff::from_lines(&expected_text, &written);
    println!("FAILED: {} does not match {}", args.file.display(), expected_file.display());
    print!("{}", diff.unified_diff().context_radius(3).header(&expected_file.display().to_string(), "this run"));
    println!("(if this run is right: --update)");
    Ok(Outcome::Failed)
}

/// `name` in the hook file's folder.
fn beside(file: &Path, name: &str) -> PathBuf {
    file.parent().map_or_else(|| PathBuf::from(name), |folder| folder.join(name))
}

/// How the run ended, and what it gave: `{ status, error?, … }`.
fn with_ending(record: &ExecutionRecord, mut output: Value) -> Value {
    output["status"] = serde_json::to_value(record.status).expect("a status serializes");
    if let Some(error) = &record.error {
        output["error"] = json!(error.message);
    }
    output
}

/// A request the hook sent, as its test compares it: method, URL and body (headers carry
/// credentials and clients' details).
fn sent(request: &RecordedRequest) -> Value {
    let mut sent = json!({ "method": request.method, "url": request.url });
    if let Some(body) = &request.body.json {
        sent["json"] = body.clone();
    } else if let Some(body) = &request.body.body {
        sent["body"] = json!(body);
    }
    sent
}
