//! Wall-clock deadlines that hold even while JavaScript is stuck inside a built-in.
//!
//! QuickJS calls its interrupt handler between operations (calls and backward jumps), never
//! inside a built-in, and while a built-in runs the thread cannot serve a tokio timer either.
//! Two things close that gap:
//!
//! - Our copy of QuickJS (`vendor/rquickjs-sys`) calls the handler every 30 operations instead
//!   of every 10,000, so a loop around a built-in that runs for milliseconds without allocating
//!   (`for (;;) a.indexOf(2)` over a big array) reaches it within a fraction of a second of
//!   the deadline rather than a minute or more after. [`InterruptCheck`] keeps those calls cheap.
//! - The watchdog is its own thread: at each registered deadline it raises the page's
//!   `cancelled` signal. From then on the interrupt handler answers "stop" and the page's
//!   allocator refuses every allocation, so a single long built-in call that allocates
//!   (`JSON.parse(big)`) fails at its next allocation and the interrupt follows soon after.
//!   Once the interrupt has been delivered, allocations are allowed again: QuickJS must
//!   allocate the uncatchable "interrupted" error, and without it a hook's `catch` could
//!   swallow the out-of-memory error forever.
//!
//! What neither reaches is one call of a built-in that neither allocates nor polls and runs
//! long by itself (`s.indexOf(t)` of a long needle in a long text is quadratic): it runs to its
//! end, and the page then fails or times out.

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

/// How many calls of the interrupt handler pass between two readings of the clock. QuickJS
/// calls it every 30 operations (see `vendor/rquickjs-sys/README.md`) and a call that only
/// loads the flag costs about 9 ns, a clock reading about 25 ns more; reading the clock every
/// 10th call keeps it a small part of the cost and still notices a passed deadline within 300
/// operations when the watchdog thread is late.
const CALLS_PER_CLOCK_READING: u32 = 10;

/// The interrupt handler's decision: whether QuickJS must stop the page now.
pub(crate) struct InterruptCheck {
    signals: Arc<PageSignals>,
    deadline: Instant,
    calls_until_clock: u32,
}

impl InterruptCheck {
    pub(crate) fn new(signals: Arc<PageSignals>, deadline: Instant) -> InterruptCheck {
        InterruptCheck { signals, deadline, calls_until_clock: 0 }
    }

    /// Checks the `cancelled` flag on every call, which costs one load, and the clock only on
    /// every [`CALLS_PER_CLOCK_READING`]th: the watchdog raises the flag at the deadline, and
    /// the clock only covers a watchdog thread that is late.
    pub(crate) fn must_stop(&mut self) -> bool {
        let mut over = self.signals.cancelled.load(Ordering::Relaxed);
        if !over {
            if self.calls_until_clock == 0 {
                self.calls_until_clock = CALLS_PER_CLOCK_READING;
                over = Instant::now() >= self.deadline;
            }
            self.calls_until_clock -= 1;
        }
        if over {
            self.signals.cancelled.store(true, Ordering::Relaxed);
            self.signals.interrupted.store(true, Ordering::Relaxed);
        }
        over
    }
}

#[derive(Default)]
struct State {
    pending: Vec<(Instant, Weak<PageSignals>)>,
    shutdown: bool,
    /// The time the thread sleeps until (`None`: for ever, or not asleep yet).
    sleeping_until: Option<Instant>,
}

/// Finished pages' entries are let pile up to this many before the thread is woken to drop
/// them (each page would otherwise wake it: a context switch per page).
const PRUNE_EVERY: usize = 1024;

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
        let mut state = state.lock().expect("watchdog lock");
        state.pending.push((deadline, Arc::downgrade(&signals)));
        // Asleep until an earlier deadline, the thread finds this one when it wakes: only a
        // deadline before that (or a long list) needs it now.
        let sooner = state.sleeping_until.is_none_or(|until| deadline < until);
        if sooner || state.pending.len() % PRUNE_EVERY == 0 {
            wake.notify_one();
        }
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
        let next = guard.pending.iter().map(|(deadline, _)| *deadline).min();
        guard.sleeping_until = next;
        guard = match next {
            Some(next) => wake.wait_timeout(guard, next.saturating_duration_since(now)).expect("watchdog lock").0,
            None => wake.wait(guard).expect("watchdog lock"),
        };
        guard.sleeping_until = None;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn the_flag_stops_the_page_at_the_next_call() {
        let signals = Arc::new(PageSignals::default());
        let mut check = InterruptCheck::new(signals.clone(), Instant::now() + Duration::from_secs(3600));
        // Past the call that reads the clock, so only the flag can answer.
        assert!(!check.must_stop());
        assert!(!check.must_stop());
        signals.cancelled.store(true, Ordering::Relaxed);
        assert!(check.must_stop());
        assert!(signals.interrupted.load(Ordering::Relaxed));
        assert!(!signals.starving(), "once interrupted, QuickJS may allocate its uncatchable error");
    }

    #[test]
    fn a_passed_deadline_stops_the_page_even_if_the_watchdog_is_late() {
        let signals = Arc::new(PageSignals::default());
        // The deadline has passed (the clock never goes back) but nobody raised the flag: the
        // clock must notice within one round of calls.
        let mut check = InterruptCheck::new(signals.clone(), Instant::now());
        assert!((0..CALLS_PER_CLOCK_READING).any(|_| check.must_stop()));
        assert!(signals.cancelled.load(Ordering::Relaxed) && signals.interrupted.load(Ordering::Relaxed));
    }

    /// The thread is woken only for a sooner deadline; a later one is found when it wakes.
    #[test]
    fn every_deadline_is_raised_in_its_turn_whether_or_not_the_thread_was_woken() {
        let watchdog = Watchdog::start().unwrap();
        let now = Instant::now();
        let cancelled = |signals: &Arc<PageSignals>| signals.cancelled.load(Ordering::Relaxed);
        let last = watchdog.arm(now + Duration::from_millis(800));
        let first = watchdog.arm(now + Duration::from_millis(100)); // sooner: wakes the thread
        let second = watchdog.arm(now + Duration::from_millis(400)); // later: does not
        std::thread::sleep(Duration::from_millis(250));
        assert!(cancelled(&first) && !cancelled(&second) && !cancelled(&last));
        std::thread::sleep(Duration::from_millis(350));
        assert!(cancelled(&second) && !cancelled(&last));
        std::thread::sleep(Duration::from_millis(500));
        assert!(cancelled(&last));
    }
}
