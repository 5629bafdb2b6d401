//! `flowstate hook run`: arguments to validated settings, one execution, a report.

use std::{
    collections::BTreeMap,
    io::Write,
    path::{Path, PathBuf},
    sync::Arc,
};

use anyhow::{Context as _, anyhow, bail};
use flowstate_egress::{ConnectTo, EgressOptions, HttpClient, Transport};
use flowstate_runtime::{
    Engine, EngineConfig, ExecutionRecord, FileKv, HookInvocation, KvStore, Limits, MIN_REDACTED_CHARS, MemoryKv,
    OrgInfo, Secrets, Status, system_clock,
};
use flowstate_sync::EntityType;
use serde_json::Value;

use crate::{
    Outcome, UsageError,
    cli::{HookKind, HookRunArgs, SandboxArgs},
    devkit::tape::Tape,
    summary,
};

/// One execution, fully validated: everything the command line said, read and parsed.
pub struct Job {
    pub invocation: HookInvocation,
    pub kind: HookKind,
    pub entity: EntityType,
    pub event: Option<Value>,
    pub out: Option<PathBuf>,
    pub json: bool,
}

/// What the engine is built from.
#[derive(Clone)]
pub struct EngineSettings {
    pub limits: Limits,
    pub connect_to: Vec<ConnectTo>,
    pub ca_certificates_pem: Vec<String>,
    pub kv: Arc<dyn KvStore>,
}

impl EngineSettings {
    pub fn build(self) -> anyhow::Result<Engine> {
        self.build_with(|http| http)
    }

    /// The engine, its requests sent through what `transport` makes of the HTTPS client (a
    /// recorder, a replayer).
    pub fn build_with(
        self,
        transport: impl FnOnce(Arc<dyn Transport>) -> Arc<dyn Transport>,
    ) -> anyhow::Result<Engine> {
        let http = HttpClient::new(EgressOptions {
            connect_to: self.connect_to,
            ca_certificates_pem: self.ca_certificates_pem,
            ..EgressOptions::default()
        })?;
        let http = transport(Arc::new(http));
        Ok(Engine::new(EngineConfig { limits: self.limits, http, kv: self.kv, clock: system_clock() })?)
    }
}

/// The sandbox options, read and checked.
pub struct Sandbox {
    pub secrets: Secrets,
    pub settings: EngineSettings,
    pub tape: Tape,
}

impl Sandbox {
    /// The engine, its requests going where the tape says.
    pub fn engine(&mut self) -> anyhow::Result<Engine> {
        self.tape.engine(self.settings.clone(), self.secrets.redactor())
    }
}

pub async fn run(args: HookRunArgs) -> Result<Outcome, UsageError> {
    let (job, mut sandbox) = parse(args)?;
    let engine = sandbox.engine().map_err(UsageError)?;
    let outcome = execute(&engine, &job).await;
    sandbox.tape.finish()?;
    Ok(outcome)
}

/// `ctx.org` when none is given: a local organisation in UTC, USD.
pub fn local_org() -> OrgInfo {
    OrgInfo {
        id: "org_local".into(),
        name: "Local organisation".into(),
        timezone: "UTC".into(),
        currency: "USD".into(),
    }
}

pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> anyhow::Result<T> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {what} {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{what} {} is not valid", path.display()))
}

/// The sandbox options, read and checked: the secrets, what the engine is built from, and
/// where its requests go.
pub fn sandbox(args: SandboxArgs) -> anyhow::Result<Sandbox> {
    let mut secrets: BTreeMap<String, String> = match &args.secrets {
        Some(path) => read_json(path, "secrets file (a JSON object of strings)")?,
        None => BTreeMap::new(),
    };
    for pair in &args.secret {
        let (name, value) = pair.split_once('=').ok_or_else(|| anyhow!("--secret {pair:?} is not NAME=VALUE"))?;
        if name.is_empty() {
            bail!("--secret {pair:?} has an empty name");
        }
        secrets.insert(name.to_string(), value.to_string());
    }
    // As the server refuses them: a value this short cannot be kept out of the record.
    if let Some((name, _)) = secrets.iter().find(|(_, value)| value.chars().count() < MIN_REDACTED_CHARS) {
        bail!(
            "secret {name:?} is shorter than {MIN_REDACTED_CHARS} characters: it could not be redacted from the execution record"
        );
    }
    let limits = match &args.limits {
        Some(path) => read_json(path, "limits file")?,
        None => Limits::default(),
    };
    let kv: Arc<dyn KvStore> = match &args.kv_file {
        Some(path) => Arc::new(FileKv::open(path)?),
        None => Arc::new(MemoryKv::default()),
    };
    let ca_certificates_pem = args
        .cacert
        .iter()
        .map(|path| std::fs::read_to_string(path).with_context(|| format!("reading CA certificate {}", path.display())))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Sandbox {
        secrets: Secrets::new(secrets),
        settings: EngineSettings { limits, connect_to: args.connect_to, ca_certificates_pem, kv },
        tape: Tape::new(args.record, args.replay)?,
    })
}

/// The hook file, ready to run with `secrets` for `org`: its code, its name as stack traces
/// show it, and its `ctx.kv` scope: the file itself, so two hook files never see each
/// other's keys.
pub fn invocation(path: &Path, secrets: Secrets, org: OrgInfo) -> anyhow::Result<HookInvocation> {
    let code = std::fs::read_to_string(path).with_context(|| format!("reading hook {}", path.display()))?;
    let file_name =
        path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_else(|| "hook.js".into());
    let kv_scope = std::fs::canonicalize(path).unwrap_or(path.to_path_buf()).display().to_string();
    Ok(HookInvocation { file_name, code, kv_scope, secrets, org })
}

fn parse(args: HookRunArgs) -> anyhow::Result<(Job, Sandbox)> {
    let sandbox = sandbox(args.sandbox)?;
    let org = match &args.org {
        Some(path) => read_json(path, "org file")?,
        None => local_org(),
    };
    let event = match (args.kind, &args.event) {
        (HookKind::Push, Some(path)) => {
            let event: Value = read_json(path, "event file")?;
            if !event.is_object() {
                bail!("event file {} must hold a JSON object", path.display());
            }
            Some(event)
        }
        (HookKind::Push, None) => {
            bail!("--type push needs --event FILE.json (the change event, ctx.event)")
        }
        (HookKind::Pull, Some(_)) => {
            bail!("--event is for PUSH hooks; a PULL hook has no ctx.event")
        }
        (HookKind::Pull, None) => None,
    };
    if args.kind == HookKind::Push && args.out.is_some() {
        bail!("--out writes PULL records; a PUSH hook returns none");
    }
    let job = Job {
        invocation: invocation(&args.file, sandbox.secrets.clone(), org)?,
        kind: args.kind,
        entity: args.entity,
        event,
        out: args.out,
        json: args.json,
    };
    Ok((job, sandbox))
}

/// Runs the job, reports on stdout (summary or JSON) and progress on stderr.
pub async fn execute(engine: &Engine, job: &Job) -> Outcome {
    let record = match job.kind {
        HookKind::Push => engine.run_push(&job.invocation, job.event.as_ref().expect("push has an event")).await,
        HookKind::Pull => match pull(engine, job).await {
            Ok(record) => record,
            Err(error) => {
                eprintln!("error: {error:#}");
                return Outcome::Failed;
            }
        },
    };
    if job.json {
        println!("{}", serde_json::to_string(&record).expect("records serialize"));
    } else {
        print!("{}", summary::render(&record, &job.invocation.file_name, job.entity));
    }
    match record.status {
        Status::Succeeded => Outcome::Succeeded,
        Status::Failed | Status::TimedOut => Outcome::Failed,
    }
}

async fn pull(engine: &Engine, job: &Job) -> anyhow::Result<ExecutionRecord> {
    let mut out = match &job.out {
        Some(path) => Some(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => None,
    };
    let mut execution = engine.start_pull(&job.invocation);
    // Progress: each page once, including a failed last page that returns no records.
    let mut announced = 0;
    let mut announce = |pages: &[flowstate_runtime::PageSummary]| {
        for summary in &pages[announced..] {
            eprintln!("{}", summary::progress_line(summary));
        }
        announced = pages.len();
    };
    while let Some(page) = execution.next_page().await {
        announce(execution.pages());
        if let Some(writer) = out.as_mut() {
            let written = page
                .records
                .iter()
                .try_for_each(|record| {
                    serde_json::to_writer(
                        &mut *writer,
                        &serde_json::json!({ "externalId": record.external_id, "data": record.data }),
                    )?;
                    writer.write_all(b"\n").map_err(serde_json::Error::io)
                })
                .and_then(|()| writer.flush().map_err(serde_json::Error::io));
            if let Err(error) = written {
                execution.reject_page(page.index, &format!("writing the records to --out failed: {error}"));
            }
        }
    }
    announce(execution.pages());
    Ok(execution.finish())
}
