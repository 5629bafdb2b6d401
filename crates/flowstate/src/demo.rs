//! `flowstate demo` and `flowstate example-api`: the product working end to end on one
//! machine, against the bundled fake HR API.
//!
//! The demo prepares a fresh SQLite database in a folder of its own (an organisation, an
//! integration whose secret is set, PULL hooks for teams, employees, contractors and
//! positions, a PUSH hook for vacancy changes, an exchange rate), then serves it like
//! `flowstate serve` does, runs the PULL hooks once in order (a position names the person
//! filling it, so people come first) and prints the console's address and a key.

use std::{io::Write as _, sync::Arc, time::Duration};

use anyhow::Context as _;
use clap::Parser;
use flowstate_api::vault::Vault;
use flowstate_example_api::{Company, HrDataset, Month, TlsServer, company_router, hr_router};
use flowstate_store::{
    OrgId, Store,
    integrations::{NewHook, RetryPolicy},
    keys::ALL_SCOPES,
    kinds::{ChangeType, ExecutionStatus, HookType, Trigger},
};
use flowstate_sync::EntityType;

use crate::{
    Outcome, UsageError,
    cli::{DemoArgs, ExampleApiArgs, ServeArgs},
    serve::{Listening, OnListening},
};

/// The example API's key: the integration's secret `api_key`.
const API_KEY: &str = "acme-demo-key-5f2c";
const HOST: &str = "hr.example.com";

/// The demo's hooks: name, type, entity, code (the PULL ones run once at start, in this order).
const HOOKS: [(&str, HookType, EntityType, &str); 5] = [
    ("teams", HookType::Pull, EntityType::Team, include_str!("../../../examples/hooks/demo/teams.js")),
    ("employees", HookType::Pull, EntityType::Employee, include_str!("../../../examples/hooks/demo/employees.js")),
    (
        "contractors",
        HookType::Pull,
        EntityType::Contractor,
        include_str!("../../../examples/hooks/demo/contractors.js"),
    ),
    ("positions", HookType::Pull, EntityType::Vacancy, include_str!("../../../examples/hooks/demo/positions.js")),
    (
        "vacancy changes",
        HookType::Push,
        EntityType::Vacancy,
        include_str!("../../../examples/hooks/demo/vacancy-changes.js"),
    ),
];

/// `ServeArgs` as the command line would make them (its defaults, its environment).
#[derive(Parser)]
struct Serve {
    #[command(flatten)]
    args: ServeArgs,
}

pub fn run(args: DemoArgs) -> Result<Outcome, UsageError> {
    let directory = match args.dir {
        Some(directory) => directory,
        None => std::env::temp_dir().join(format!("flowstate-demo-{}", std::process::id())),
    };
    let db = directory.join("flowstate.db");
    if db.exists() {
        return Err(UsageError(anyhow::anyhow!(
            "{} already holds a demo database: choose another folder with --dir, or delete it",
            directory.display()
        )));
    }
    std::fs::create_dir_all(&directory).with_context(|| format!("creating {}", directory.display()))?;
    // The example API runs on a runtime of its own, beside the server's.
    let example_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("starting the example API's runtime")?;
    let month = this_month();
    let company = Company::new(month, API_KEY);
    let example = example_runtime
        .block_on(TlsServer::start(company_router(company), &[HOST]))
        .context("starting the example HR API")?;
    let ca = directory.join("example-api-ca.pem");
    std::fs::write(&ca, example.ca_pem()).with_context(|| format!("writing {}", ca.display()))?;

    let key_file = directory.join("flowstate.key");
    let prepared = prepare(&db, &key_file, month.year)?;
    println!("Flowstate demo");
    println!("  data:        {} (SQLite database, master key)", directory.display());
    println!("  example API: https://{} as {HOST} (its certificate authority: {})", example.addr(), ca.display());
    let _ = std::io::stdout().flush();

    let listen = args.listen.to_string();
    let route = format!("{HOST}:443:127.0.0.1:{}", example.addr().port());
    let (db_text, key_text, ca_text) =
        (db.display().to_string(), key_file.display().to_string(), ca.display().to_string());
    let mut serve = Serve::try_parse_from([
        "serve",
        "--db",
        &db_text,
        "--master-key-file",
        &key_text,
        "--listen",
        &listen,
        "--connect-to",
        &route,
        "--cacert",
        &ca_text,
    ])
    .map_err(|error| anyhow::anyhow!("{error}"))?
    .args;
    // The secrets were sealed with the folder's key file.
    serve.master_key = None;
    let on_listening: OnListening = Box::new(move |listening| Box::pin(first_runs(listening, prepared)));
    let outcome = crate::serve::run_with(serve, Some(on_listening));
    drop(example);
    drop(example_runtime);
    outcome
}

/// What [`prepare`] made that the first runs need.
struct Prepared {
    org: OrgId,
    /// The console's API key.
    token: String,
    /// The PULL hooks' names and ids, in the order they run.
    pulls: Vec<(String, String)>,
}

/// The organisation, its console key, its integration, secret, hooks and exchange rate.
fn prepare(db: &std::path::Path, key_file: &std::path::Path, year: i32) -> anyhow::Result<Prepared> {
    let store = Store::open_sqlite(db).with_context(|| format!("creating {}", db.display()))?;
    let vault = Vault::new(crate::master_key::load_or_create(None, key_file)?);
    let org = store.create_org("Acme Ltd", "Europe/London", "GBP")?;
    let key = store.create_api_key(&org, "demo console", ALL_SCOPES)?;
    let integration =
        store.create_integration(&org, "Acme HR", Some("The bundled example HR API (hr.example.com)"), "acme-hr")?;
    store.put_secret(&org, &integration.id, &vault.seal(&integration.id, "api_key", API_KEY))?;
    // Two contractors are paid in euros.
    store.put_exchange_rate(&org, "EUR", "GBP", 0.86, &format!("{}-01-01", year - 3))?;
    let mut pulls = Vec::new();
    for (name, hook_type, entity_type, code) in HOOKS {
        let push = hook_type == HookType::Push;
        let hook = store.create_hook(
            &org,
            &integration.id,
            NewHook {
                name: name.to_string(),
                hook_type,
                entity_type,
                // A fill from the console is an update of the vacancy.
                event_types: if push { vec![ChangeType::Update] } else { Vec::new() },
                language: flowstate_store::kinds::Language::JavaScript,
                code: code.to_string(),
                schedule: (!push).then(|| "24h".to_string()),
                preferred_hour: (!push).then_some(2),
                enabled: true,
                retry_policy: push.then_some(RetryPolicy { max_attempts: 3 }),
            },
        )?;
        if !push {
            pulls.push((name.to_string(), hook.id));
        }
    }
    Ok(Prepared { org, token: key.token, pulls })
}

/// Runs each PULL hook once, in order, says how it went, then where the console is.
async fn first_runs(listening: Listening, prepared: Prepared) {
    let Listening { address, store, runner } = listening;
    let Prepared { org, token, pulls } = prepared;
    println!("Running the PULL hooks once:");
    for (name, hook) in pulls {
        let line = match run_once(&store, &runner, &org, &hook).await {
            Ok(summary) => format!("  {name:<12} {summary}"),
            Err(error) => format!("  {name:<12} could not run: {error:#}"),
        };
        println!("{line}");
        let _ = std::io::stdout().flush();
    }
    println!();
    println!("Open the console:  http://{address}/");
    println!("Sign in with the API key (kept for that browser tab only):");
    println!("  API key: {token}");
    println!();
    println!("First: Integrations › Acme HR › employees › an execution (pages, logs, HTTP calls).");
    println!("Then People (fill an open position) and Forecast. Press Ctrl-C to stop.");
    let _ = std::io::stdout().flush();
}

async fn run_once(
    store: &Arc<Store>,
    runner: &flowstate_api::runner::Runner,
    org: &OrgId,
    hook: &str,
) -> anyhow::Result<String> {
    let (queue_store, queue_org, queue_hook) = (store.clone(), org.clone(), hook.to_string());
    let queued = tokio::task::spawn_blocking(move || {
        queue_store.queue_execution(
            &queue_org,
            &queue_hook,
            Trigger::Manual,
            &flowstate_store::timestamp(chrono::Utc::now()),
        )
    })
    .await??;
    runner.wake();
    for _ in 0..1200 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let (read_store, read_org, id) = (store.clone(), org.clone(), queued.id.clone());
        let execution = tokio::task::spawn_blocking(move || read_store.execution(&read_org, &id)).await??;
        let Some(execution) = execution else { anyhow::bail!("the execution went away") };
        if matches!(execution.status, ExecutionStatus::Queued | ExecutionStatus::Running) {
            continue;
        }
        let count = |field: &str| -> u64 {
            execution.pages.as_array().into_iter().flatten().map(|page| page[field].as_u64().unwrap_or(0)).sum()
        };
        let failed: usize = execution
            .pages
            .as_array()
            .into_iter()
            .flatten()
            .map(|page| page["errors"].as_array().map_or(0, Vec::len))
            .sum();
        let mut summary = format!(
            "{}: {} created, {} updated, {} unchanged, {failed} failed",
            execution.status,
            count("created"),
            count("updated"),
            count("unchanged")
        );
        if let Some(error) = execution.error {
            summary.push_str(&format!(" ({error})"));
        }
        return Ok(summary);
    }
    anyhow::bail!("still running after a minute")
}

/// The month the example company is dated from: this one (UTC).
fn this_month() -> Month {
    use chrono::Datelike as _;
    let today = chrono::Utc::now().date_naive();
    Month { year: today.year(), month: today.month() }
}

pub async fn serve_example_api(args: ExampleApiArgs) -> Result<Outcome, UsageError> {
    let company = Company::new(this_month(), &args.api_key);
    let router =
        hr_router(HrDataset::new(args.employees, args.contractors, &args.api_key)).merge(company_router(company));
    let server = TlsServer::start_on(args.listen, router, &["hr.example.com", "api.example.com"])
        .await
        .context("starting the example HR API")?;
    std::fs::write(&args.ca_out, server.ca_pem()).with_context(|| format!("writing {}", args.ca_out.display()))?;
    let port = server.addr().port();
    eprintln!("example HR API listening on https://{} (names: hr.example.com, api.example.com)", server.addr());
    eprintln!("its certificate authority is in {}; try:", args.ca_out.display());
    eprintln!(
        "  flowstate hook run examples/hooks/employees-cursor.js --type pull --entity employee \\\n    \
         --secret api_key={} --connect-to hr.example.com:443:127.0.0.1:{port} --cacert {}",
        args.api_key,
        args.ca_out.display()
    );
    eprintln!("press Ctrl-C to stop");
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    Ok(Outcome::Succeeded)
}
