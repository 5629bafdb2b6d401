//! `flowstate`: the command line of Flowstate Hooks.
//!
//! **Architecture Invariant:** this crate is glue. It parses arguments into the library
//! crates' configuration values, calls them, and renders what they return; no rule of the
//! product lives here.

mod cli;
mod demo;
mod devkit;
mod hook_run;
mod master_key;
mod serve;
mod store_cmd;
mod summary;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command, HookCommand, KeyCommand, OrgCommand, SecretsCommand, SyncCommand};

// mimalloc instead of glibc malloc: a page of 10,000 records is converted ~1.5x faster (the
// hook sandbox allocates through Rust's global allocator too); see the runtime benchmark.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How a command ended, mapped to the process exit code.
pub enum Outcome {
    /// 0: everything worked.
    Succeeded,
    /// 1: the hook (or what it fed) failed or timed out.
    Failed,
}

/// A problem with how the command was called: exit code 2.
#[derive(Debug)]
pub struct UsageError(pub anyhow::Error);

impl<E: Into<anyhow::Error>> From<E> for UsageError {
    fn from(error: E) -> UsageError {
        UsageError(error.into())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.log_level.as_deref());
    // The store is synchronous (its PostgreSQL client runs its own small runtime, which may
    // not be started inside another): its commands run outside any async runtime.
    match cli.command {
        Command::Hook { command: HookCommand::Run(args) } => run_async(hook_run::run(args)),
        Command::Hook { command: HookCommand::Init(args) } => exit_code(devkit::init::run(args)),
        Command::Hook { command: HookCommand::Deploy(args) } => run_async(devkit::deploy::run(args)),
        Command::Hook { command: HookCommand::Plan(args) } => exit_code(devkit::plan::run(args)),
        Command::Hook { command: HookCommand::Test(args) } => exit_code(devkit::test::run(args)),
        Command::Demo(args) => exit_code(demo::run(args)),
        Command::ExampleApi(args) => run_async(demo::serve_example_api(args)),
        Command::Org { command: OrgCommand::Create(args) } => exit_code(store_cmd::org_create(args)),
        Command::Sync { command: SyncCommand::Apply(args) } => exit_code(store_cmd::sync_apply(args)),
        Command::Export(args) => exit_code(store_cmd::export(args)),
        Command::Forecast(args) => exit_code(store_cmd::forecast(args)),
        Command::Key { command: KeyCommand::Create(args) } => exit_code(store_cmd::key_create(args)),
        Command::Key { command: KeyCommand::Revoke(args) } => exit_code(store_cmd::key_revoke(args)),
        Command::Serve(args) => exit_code(serve::run(args)),
        Command::Secrets { command: SecretsCommand::RotateKey(args) } => exit_code(store_cmd::rotate_key(args)),
    }
}

fn run_async(command: impl Future<Output = Result<Outcome, UsageError>>) -> ExitCode {
    match async_runtime() {
        Ok(runtime) => exit_code(runtime.block_on(command)),
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            ExitCode::from(1)
        }
    }
}

pub(crate) fn async_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // QuickJS recursion runs on these threads; its own stack limit is far below this.
        .thread_stack_size(8 * 1024 * 1024)
        .build()
}

fn exit_code(result: Result<Outcome, UsageError>) -> ExitCode {
    match result {
        Ok(Outcome::Succeeded) => ExitCode::SUCCESS,
        Ok(Outcome::Failed) => ExitCode::from(1),
        Err(UsageError(error)) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn init_tracing(level: Option<&str>) {
    let filter = tracing_subscriber::EnvFilter::try_new(level.unwrap_or("warn"))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt().with_writer(std::io::stderr).with_env_filter(filter).init();
}
