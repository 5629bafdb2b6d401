//! The worker threads: each owns a current-thread runtime and a hook engine, and runs one
//! piece of work at a time. The dispatch loop (`runner.rs`) hands out no more work than it
//! counts idle workers, so the channel never holds more than there are idle workers to take
//! it (work never waits there behind a running hook).

use std::{
    panic::AssertUnwindSafe,
    sync::{Arc, Mutex, mpsc as std_mpsc},
};

use flowstate_runtime::Engine;
use flowstate_store::kinds::HookType;
use futures_util::FutureExt as _;
use tokio::sync::mpsc;

use crate::runner::{Finished, Health, Problem, Work, WorkerContext};

/// Builds a worker's engine.
pub(crate) type EngineFactory = Arc<dyn Fn() -> anyhow::Result<Engine> + Send + Sync>;

/// The running workers.
pub(crate) struct Workers {
    sender: std_mpsc::Sender<Work>,
    /// Workers waiting for work (the dispatch loop keeps the count).
    pub idle: usize,
}

impl Workers {
    /// Hands `work` to an idle worker (the caller counts it busy).
    pub(crate) fn send(&mut self, work: Work) {
        self.idle -= 1;
        if self.sender.send(work).is_err() {
            tracing::error!("every worker has stopped: the work is dropped");
        }
    }
}

/// Starts `count` workers; returns once each has built its engine or failed to (a failure
/// is reported to `health` and logged; the rest work on).
pub(crate) fn start(
    kind: HookType,
    count: usize,
    engine: EngineFactory,
    context: Arc<WorkerContext>,
    finished: mpsc::UnboundedSender<Finished>,
    health: &Arc<Health>,
) -> std::io::Result<Workers> {
    let (sender, receiver) = std_mpsc::channel::<Work>();
    let receiver = Arc::new(Mutex::new(receiver));
    let (ready_sender, ready) = std_mpsc::channel::<bool>();
    for index in 0..count {
        let (engine, context, finished, receiver, ready) =
            (engine.clone(), context.clone(), finished.clone(), receiver.clone(), ready_sender.clone());
        let health = health.clone();
        let name = format!("{}-worker-{index}", kind.as_str().to_lowercase());
        std::thread::Builder::new().name(name).stack_size(8 * 1024 * 1024).spawn(move || {
            // A panic while starting counts as a failure too: `start` waits for every worker's
            // answer.
            let started = std::panic::catch_unwind(AssertUnwindSafe(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(anyhow::Error::from)
                    .and_then(|runtime| Ok((runtime, engine()?)))
            }))
            .unwrap_or_else(|_| Err(anyhow::anyhow!("it panicked")));
            let (runtime, engine) = match started {
                Ok(started) => started,
                Err(error) => {
                    // The cause (paths, OS errors) goes to the log; `/healthz`, which needs no
                    // key, says only which worker.
                    tracing::error!(%kind, worker = index, error = %format!("{error:#}"), "a hook worker cannot start");
                    health.report(Problem::WorkerCannotStart { kind, index });
                    let _ = ready.send(false);
                    return;
                }
            };
            let _ = ready.send(true);
            drop(ready);
            loop {
                let next = receiver.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).recv();
                let Ok(work) = next else { break }; // the server is stopping
                let (org, key) = work.key();
                let ran = runtime.block_on(AssertUnwindSafe(work.run(&engine, &context)).catch_unwind());
                if ran.is_err() {
                    tracing::error!(%kind, worker = index, ?key, "a hook execution panicked; the worker goes on");
                }
                let progressed = ran.unwrap_or(true);
                if finished.send(Finished { org, key, progressed }).is_err() {
                    break;
                }
            }
            // The runtime first: a PostgreSQL store's client (in `context`) owns a small
            // runtime of its own, which may not be dropped inside another.
            drop(runtime);
            drop(context);
        })?;
    }
    drop(ready_sender);
    let idle = ready.iter().take(count).filter(|ready| *ready).count();
    Ok(Workers { sender, idle })
}
