//! `flowstate serve`: open the store (bootstrapping a new one), then serve the REST API
//! until SIGTERM or Ctrl-C.

use std::{io::Write as _, sync::Arc};

use anyhow::Context as _;
use flowstate_api::{
    AppState,
    dispatcher::PushSettings,
    metrics::Metrics,
    runner::{Runner, RunnerSettings},
    vault::Vault,
};
use flowstate_runtime::Limits;
use flowstate_store::{Store, keys::ALL_SCOPES};

use crate::{Outcome, UsageError, cli::ServeArgs, hook_run::EngineSettings, store_cmd::open_with};

/// What a caller of [`run_with`] is handed once the server listens.
pub struct Listening {
    pub address: std::net::SocketAddr,
    pub store: Arc<Store>,
    pub runner: Runner,
}

/// Runs beside the server once it listens (the demo's first PULL runs); the server serves
/// until stopped either way.
pub type OnListening = Box<dyn FnOnce(Listening) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

pub fn run(args: ServeArgs) -> Result<Outcome, UsageError> {
    run_with(args, None)
}

/// [`run`], with `on_listening` started once the server listens.
pub fn run_with(args: ServeArgs, on_listening: Option<OnListening>) -> Result<Outcome, UsageError> {
    // The store is opened before the async runtime starts (see main.rs).
    let workers = args.workers.map_or(RunnerSettings::for_this_machine().workers, usize::from);
    // Every worker of both pools may hold a connection while it saves; the API's reads and
    // the dispatch loop get the 8 beyond them.
    let pool_size = args.db_pool_size.unwrap_or(2 * workers as u32 + 8);
    let pool = flowstate_store::PoolSettings { size: pool_size, ..Default::default() };
    let store = Arc::new(open_with(&args.db, pool)?);
    if args.master_key.is_none()
        && let Some(staged) = crate::master_key::staged(&args.master_key_file)?
    {
        // A rotation stopped half-way: keep whichever key opens the secrets.
        let committed = store
            .any_sealed_secret()?
            .is_none_or(|(integration, secret)| Vault::new(staged).open(&integration, &secret).is_some());
        crate::master_key::settle_rotation(&args.master_key_file, committed)?;
        tracing::warn!(committed, "finished a key rotation that had stopped half-way");
    }
    let master_key = crate::master_key::load_or_create(args.master_key.as_deref(), &args.master_key_file)?;
    if store.organization_count()? == 0 {
        bootstrap(&store, &args)?;
    }
    store.set_node_id(&crate::master_key::node_id(&args.master_key_file)?);
    // Nothing of this node runs yet: what it left `running` was cut off by a crash (and
    // what any server left with a lease passed).
    let interrupted = store.fail_interrupted_executions(true)?;
    if interrupted > 0 {
        tracing::warn!(interrupted, "executions left running by the last stop are marked failed (interrupted)");
    }
    let ca_certificates_pem = args
        .cacert
        .iter()
        .map(|path| std::fs::read_to_string(path).with_context(|| format!("reading CA certificate {}", path.display())))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let vault = Vault::new(master_key);
    let settings = EngineSettings {
        limits: Limits::default(),
        connect_to: args.connect_to.clone(),
        ca_certificates_pem,
        // In the database: it survives restarts and is shared by every server.
        kv: Arc::new(flowstate_api::kv::StoreKv::new(
            store.clone(),
            flowstate_store::integrations::KvQuota { max_keys: args.kv_max_keys, max_bytes: args.kv_max_bytes },
        )),
    };
    let push = PushSettings {
        first_backoff: std::time::Duration::from_millis(args.push_retry_backoff_ms),
        ..PushSettings::default()
    };
    let metrics = Arc::new(Metrics::default());
    let defaults = RunnerSettings::with_workers(workers);
    let runner_settings = RunnerSettings {
        push: Some(push),
        org_max_concurrency: args.org_max_concurrency.map_or(defaults.org_max_concurrency, usize::from),
        ..defaults
    };
    tracing::info!(workers, org_max_concurrency = runner_settings.org_max_concurrency, "starting hook workers");
    let runner =
        Runner::start(store.clone(), vault.clone(), runner_settings, metrics.clone(), move || settings.clone().build())
            .context("starting the hook workers")?;
    let runtime = crate::async_runtime().context("starting the async runtime")?;
    // The server's handles to the store end inside the runtime; this one outlives it, so the
    // store (whose PostgreSQL client owns a small runtime of its own, which may not be
    // dropped inside another) is dropped after `block_on` returns.
    let served = store.clone();
    let retention_days = args.execution_retention_days;
    let (header_timeout_secs, max_connections) = (args.header_timeout_secs, args.max_connections);
    let outcome = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("listening on {}", args.listen))?;
        let address = listener.local_addr().context("reading the bound address")?;
        tracing::info!(%address, "listening");
        println!("listening on http://{address}");
        let _ = std::io::stdout().flush();
        // One signal stops both the scheduler and the HTTP server.
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let scheduler = tokio::spawn(flowstate_api::scheduler::run(
            served.clone(),
            runner.clone(),
            std::time::Duration::from_secs(5),
            chrono::Duration::days(i64::from(retention_days)),
            wait_for(stopped.clone()),
        ));
        if let Some(on_listening) = on_listening {
            tokio::spawn(on_listening(Listening { address, store: served.clone(), runner: runner.clone() }));
        }
        let state = AppState { store: served, vault, runner: Some(runner), metrics };
        let shutdown = async move {
            shutdown_signal().await;
            let _ = stop.send(true);
        };
        let edge = flowstate_api::EdgeSettings {
            header_timeout: std::time::Duration::from_secs(header_timeout_secs),
            max_connections: max_connections as usize,
            ..Default::default()
        };
        flowstate_api::serve_with(listener, state, edge, shutdown).await.context("serving HTTP")?;
        let _ = scheduler.await;
        tracing::info!("stopped");
        Ok(Outcome::Succeeded)
    });
    drop(runtime);
    drop(store);
    outcome
}

/// A new database: a first organisation and an admin key, printed once.
fn bootstrap(store: &Store, args: &ServeArgs) -> anyhow::Result<()> {
    let org = store.create_org(&args.org_name, &args.org_timezone, &args.org_currency)?;
    let key = store.create_api_key(&org, "admin (created on first start)", ALL_SCOPES)?;
    println!("First start: created an organisation and an admin API key. The key is not shown again.");
    println!("  organisation id: {org}");
    println!("  admin API key:   {}", key.token);
    let _ = std::io::stdout().flush();
    Ok(())
}

async fn wait_for(mut stopped: tokio::sync::watch::Receiver<bool>) {
    let _ = stopped.wait_for(|stopped| *stopped).await;
}

/// SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
