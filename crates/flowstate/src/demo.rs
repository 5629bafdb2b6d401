//! `flowstate demo` and `flowstate example-api`: the product working end to end on one
//! machine, against the bundled fake HR API.

use std::sync::Arc;

use anyhow::Context as _;
use flowstate_example_api::{HrDataset, TlsServer, hr_router};
use flowstate_runtime::{HookInvocation, Limits, MemoryKv, OrgInfo, Secrets};
use flowstate_sync::EntityType;

use crate::{
    Outcome, UsageError,
    cli::{DemoArgs, ExampleApiArgs, HookKind},
    hook_run::{EngineSettings, Job, execute},
};

const DEMO_HOOK: &str = include_str!("../../../examples/hooks/employees-cursor.js");
const DEMO_KEY: &str = "demo-key";

pub async fn run(args: DemoArgs) -> Result<Outcome, UsageError> {
    let server = TlsServer::start(hr_router(HrDataset::new(args.employees, 0, DEMO_KEY)), &["hr.example.com"])
        .await
        .context("starting the example HR API")?;
    eprintln!(
        "example HR API on https://{} as hr.example.com; running examples/hooks/employees-cursor.js",
        server.addr()
    );
    let settings = EngineSettings {
        limits: Limits::default(),
        connect_to: vec![format!("hr.example.com:443:127.0.0.1:{}", server.addr().port()).parse()?],
        ca_certificates_pem: vec![server.ca_pem().to_string()],
        kv: Arc::new(MemoryKv::default()),
    };
    let engine = settings.build().map_err(UsageError)?;
    let job = Job {
        invocation: HookInvocation {
            file_name: "employees-cursor.js".into(),
            code: DEMO_HOOK.into(),
            kv_scope: "demo".into(),
            secrets: Secrets::new([("api_key".to_string(), DEMO_KEY.to_string())]),
            org: OrgInfo {
                id: "org_demo".into(),
                name: "Demo Ltd".into(),
                timezone: "Europe/London".into(),
                currency: "GBP".into(),
            },
        },
        kind: HookKind::Pull,
        entity: EntityType::Employee,
        event: None,
        out: args.out,
        json: args.json,
    };
    Ok(execute(&engine, &job).await)
}

pub async fn serve_example_api(args: ExampleApiArgs) -> Result<Outcome, UsageError> {
    let router = hr_router(HrDataset::new(args.employees, args.contractors, &args.api_key));
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
