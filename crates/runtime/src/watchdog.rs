//! Wall-clock deadlines that hold even while JavaScript is stuck inside a built-in.
//!
//! QuickJS consults its interrupt handler only every few thousand bytecode operations, so a
//! loop around a slow built-in (`while (true) JSON.parse(big)`) may not see it for minutes,
//! and while that runs, the thread cannot serve a tokio timer either. The watchdog is its own
//! thread: at each registered deadline it raises the page's `cancelled` signal. From then on
//! the interrupt handler answers "stop" and the page's allocator refuses every allocation, so
//! nearly every built-in fails at its next allocation and the interrupt follows soon after.
//! Once the interrupt has been delivered, allocations are allowed again: QuickJS must
//! allocate the uncatchable "interrupted" error, and without it a hook's `catch` could
//! swallow the out-of-memory error forever.

use std::{
    sync::{
        Arc, Condvar, Mutex, Weak,
        atomic::{AtomicBool, Ordering},
    },
    time::Instant,
};

/// What one page's runtime, its allocator and the watchdog tell each other.
#[derive(Debug, Default)]
pub(crate) struct PageSignals {
    /// The deadline passed (raised by the watchdog or by the interrupt handler itself).
    pub cancelled: AtomicBool,
    /// The interrupt handler has told QuickJS to stop.
    pub interrupted: AtomicBool,
    /// An allocation was refused for the memory limit (not for cancellation).
    pub memory_exhausted: AtomicBool,
}

impl PageSignals {
    /// Whether the allocator must refuse everything now.
    pub(crate) fn starving(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed) && !self.interrupted.load(Ordering::Relaxed)
    }
}

#[derive(Default)]
struct State {
    pending: Vec<(Instant, Weak<PageSignals>)>,
    shutdown: bool,
}

/// One thread per engine, sleeping until the nearest deadline.
pub(crate) struct Watchdog {
    shared: Arc<(Mutex<State>, Condvar)>,
}

impl Watchdog {
    pub(crate) fn start() -> std::io::Result<Watchdog> {
        let shared = Arc::new((Mutex::new(State::default()), Condvar::new()));
        let thread_shared = shared.clone();
        std::thread::Builder::new().name("flowstate-watchdog".into()).spawn(move || watch(&thread_shared))?;
        Ok(Watchdog { shared })
    }

    /// Signals for one page, `cancelled` at `deadline` unless dropped before.
    pub(crate) fn arm(&self, deadline: Instant) -> Arc<PageSignals> {
        let signals = Arc::new(PageSignals::default());
        let (state, wake) = &*self.shared;
        state.lock().expect("watchdog lock").pending.push((deadline, Arc::downgrade(&signals)));
        wake.notify_one();
        signals
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        let (state, wake) = &*self.shared;
        state.lock().expect("watchdog lock").shutdown = true;
        wake.notify_one();
    }
}

fn watch(shared: &(Mutex<State>, Condvar)) {
    let (state, wake) = shared;
    let mut guard = state.lock().expect("watchdog lock");
    loop {
        if guard.shutdown {
            return;
        }
        let now = Instant::now();
        guard.pending.retain(|(deadline, flag)| match flag.upgrade() {
            None => false,
            Some(signals) if *deadline <= now => {
                signals.cancelled.store(true, Ordering::Relaxed);
                false
            }
            Some(_) => true,
        });
        guard = match guard.pending.iter().map(|(deadline, _)| *deadline).min() {
            Some(next) => wake.wait_timeout(guard, next.saturating_duration_since(now)).expect("watchdog lock").0,
            None => wake.wait(guard).expect("watchdog lock"),
        };
    }
}
