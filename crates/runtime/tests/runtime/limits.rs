//! Time and memory limits end the execution with a clear status; the next one is unharmed.

use std::time::{Duration, Instant};

use flowstate_runtime::{ErrorKind, Limits, Status};
use serde_json::json;

use crate::helpers::{Setup, engine, engine_with};

fn short_time() -> Setup {
    let limits = Limits {
        pull_page_time: Duration::from_millis(300),
        push_time: Duration::from_millis(300),
        ..Limits::default()
    };
    Setup { limits, ..Setup::default() }
}

async fn assert_next_execution_is_fine(test: &crate::helpers::TestEngine) {
    assert_eq!(test.eval("return 6 * 7;").await, 42);
}

#[tokio::test]
async fn a_busy_loop_is_stopped_at_the_deadline() {
    let test = engine_with(short_time()).await;
    for code in [
        "async function run(ctx) { while (true) {} }",
        "async function run(ctx) { for (;;) { try { while (true) {} } catch (e) {} } }",
        "while (true) {}\nasync function run(ctx) {}",
        // Catastrophic backtracking: the time is spent inside the regex engine, a built-in.
        "async function run(ctx) { /^(a+)+$/.test('a'.repeat(40) + 'b'); }",
        // A huge sort with a comparator, and JSON work, inside built-ins called in a loop.
        "async function run(ctx) { const a = Array.from({ length: 1e5 }, (_, i) => -i); while (true) a.sort((x, y) => x - y); }",
        // QuickJS checks its interrupt handler every few thousand operations, which here
        // means minutes; only the watchdog stops these on time.
        "async function run(ctx) { const s = JSON.stringify(Array.from({ length: 1e5 }, (_, i) => ({ i }))); while (true) JSON.parse(s); }",
        "async function run(ctx) { const s = JSON.stringify(Array.from({ length: 1e5 }, (_, i) => ({ i }))); while (true) { try { JSON.parse(s); } catch {} } }",
    ] {
        let started = Instant::now();
        let result = test.pull(code).await;
        assert_eq!(result.record.status, Status::TimedOut, "{code}");
        let error = result.record.error.as_ref().unwrap();
        assert_eq!((error.kind, error.page), (ErrorKind::Timeout, Some(0)));
        assert!(error.message.starts_with("the page exceeded its time limit of"), "{}", error.message);
        // Without the watchdog the built-in cases take minutes; a loaded CI machine needs slack
        // (with 2 cores running this binary's 45 tests at once, one case once took over 10 s).
        assert!(started.elapsed() < Duration::from_secs(30), "stopped late: {:?}", started.elapsed());
    }
    assert_next_execution_is_fine(&test).await;
}

#[tokio::test]
async fn a_loop_around_a_long_built_in_that_does_not_allocate_is_stopped_within_2_s_of_the_deadline() {
    let deadline = Duration::from_secs(1);
    let limits = Limits { pull_page_time: deadline, ..Limits::default() };
    let test = engine_with(Setup { limits, ..Setup::default() }).await;
    // Each call scans the array without allocating, so the watchdog's starved allocator cannot
    // stop it; only the interrupt handler can, between calls. The sizes make one call take a
    // few milliseconds in this (unoptimised) test build.
    let mut late = Vec::new();
    for (array, body) in [
        ("new Array(5e5).fill(1)", "a.indexOf(2);"),
        ("new Array(1.5e5).fill('x')", "a.includes('y'); a.lastIndexOf('y');"),
        // Starved, `join('')` still walks the whole array before it reports its one failed
        // allocation, and the `catch` swallows that.
        ("new Array(1e5).fill('')", "try { a.join(''); } catch {}"),
    ] {
        let code =
            format!("async function run(ctx) {{ const a = {array}; ctx.log.info('looping'); for (;;) {{ {body} }} }}");
        let started = Instant::now();
        let result = test.pull(&code).await;
        let elapsed = started.elapsed();
        assert_eq!(result.record.status, Status::TimedOut, "{code}");
        // The deadline fell inside the loop, not while the array was being built.
        assert_eq!(result.record.logs.first().map(|entry| entry.message.as_str()), Some("looping"), "{code}");
        // Polled every 10,000 operations, as QuickJS does unpatched, these ran 11 to 17 s past
        // the deadline here; polled every 30, they stop within about 0.1 s. The 2 s the rule
        // allows leaves ample room for a loaded machine.
        if elapsed >= deadline + Duration::from_secs(2) {
            late.push(format!("{body} stopped {:?} after the deadline", elapsed - deadline));
        }
    }
    assert!(late.is_empty(), "{late:#?}");
    assert_next_execution_is_fine(&test).await;
}

#[tokio::test]
async fn a_promise_that_never_settles_is_stopped_at_the_deadline() {
    let test = engine_with(short_time()).await;
    let result = test.pull("async function run(ctx) { await new Promise(() => {}); }").await;
    assert_eq!(result.record.status, Status::TimedOut);
    let result = test.pull("async function run(ctx) { await new Promise(r => setTimeout(r, 60000)); }").await;
    assert_eq!(result.record.status, Status::TimedOut);
    assert_next_execution_is_fine(&test).await;
}

#[tokio::test]
async fn a_slow_http_call_is_stopped_at_the_page_deadline() {
    let test = engine_with(short_time()).await;
    let started = Instant::now();
    let result = test.pull("async function run(ctx) { await ctx.http.get('https://echo.example.com/slow'); }").await;
    assert_eq!(result.record.status, Status::TimedOut);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_next_execution_is_fine(&test).await;
}

#[tokio::test]
async fn a_push_execution_has_its_own_deadline() {
    let test = engine_with(short_time()).await;
    let record = test.push("async function run(ctx) { while (true) {} }", &json!({})).await;
    assert_eq!(record.status, Status::TimedOut);
    assert!(record.error.unwrap().message.starts_with("the execution exceeded its time limit of"));
}

#[tokio::test]
async fn the_default_limits_are_the_documented_ones() {
    let limits = Limits::default();
    assert_eq!(limits.memory_bytes, 128 * 1024 * 1024);
    assert_eq!(limits.pull_page_time, Duration::from_secs(30));
    assert_eq!(limits.push_time, Duration::from_secs(10));
    assert_eq!(limits.requests_per_page, 50);
    assert_eq!(limits.response_bytes, 10 * 1024 * 1024);
    assert_eq!(limits.max_pages, 100);
    assert_eq!(limits.meta_bytes, 64 * 1024);
    assert_eq!(limits.default_request_timeout, Duration::from_secs(30));
    assert_eq!((limits.kv_key_chars, limits.kv_value_bytes), (256, 64 * 1024));
    assert_eq!(limits.kv_default_ttl, Duration::from_secs(90 * 86_400));
}

#[tokio::test]
async fn an_allocation_bomb_fails_with_a_memory_error_and_the_next_execution_is_fine() {
    let test = engine().await;
    for bomb in [
        "const keep = []; while (true) keep.push(new Array(100000).fill(Math.random()));",
        "let s = 'x'; while (true) s = s.repeat(2);",
        "const keep = []; while (true) keep.push({ a: [1, 2, 3], b: 'some text ' + keep.length });",
    ] {
        let result = test.pull(&format!("async function run(ctx) {{ {bomb} }}")).await;
        assert_eq!(result.record.status, Status::Failed, "{bomb}");
        let error = result.record.error.as_ref().unwrap();
        assert_eq!(error.kind, ErrorKind::Memory, "{bomb}: {}", error.message);
        assert_eq!(error.message, "the hook ran out of memory (limit 128 MB)");
        assert_next_execution_is_fine(&test).await;
    }
}

#[tokio::test]
async fn a_smaller_memory_limit_is_enforced() {
    let limits = Limits { memory_bytes: 16 * 1024 * 1024, ..Limits::default() };
    let test = engine_with(Setup { limits, ..Setup::default() }).await;
    // 32 MB of doubles: fine under the default, too much under 16 MB.
    let result = test
        .pull("async function run(ctx) { const a = new Float64Array(4 * 1024 * 1024); return { records: [] }; }")
        .await;
    assert_eq!(result.record.error.as_ref().map(|e| e.kind), Some(ErrorKind::Memory));
    let fine = engine()
        .await
        .pull("async function run(ctx) { const a = new Float64Array(4 * 1024 * 1024); return { records: [] }; }")
        .await;
    assert_eq!(fine.record.status, Status::Succeeded);
}

#[tokio::test]
async fn deep_recursion_is_a_clean_failure() {
    let test = engine().await;
    let result = test.pull("function f(n) { return f(n + 1) + 1; }\nasync function run(ctx) { f(0); }").await;
    assert_eq!(result.record.status, Status::Failed);
    assert_eq!(result.error_message(), "RangeError: Maximum call stack size exceeded");
    assert_next_execution_is_fine(&test).await;
}

/// One call of a built-in that neither allocates nor polls (a naive substring search) can run
/// past the deadline; a page that comes back late is timed out all the same, and what it
/// returned is not used.
#[tokio::test]
async fn a_page_that_returns_after_its_deadline_is_timed_out() {
    let test = engine_with(short_time()).await;
    // Everything the page returns is made before the search: nothing is left to allocate
    // after the deadline, where the starved allocator would end the page anyway.
    // (`replaceAll` searches without polling: the patched `indexOf` would be interrupted.)
    let code = "async function run(ctx) {
        const page = { records: [{ externalId: 'late', data: {} }] };
        const haystack = 'a'.repeat(1000000), needle = 'a'.repeat(600) + 'b';
        haystack.replaceAll(needle, 'x');
        return page;
    }";
    let started = Instant::now();
    let result = test.pull(code).await;
    let took = started.elapsed();
    assert!(took > Duration::from_millis(300), "the search finished inside the deadline ({took:?}): make it longer");
    assert_eq!(result.record.status, Status::TimedOut, "{:?}", result.record.error);
    assert!(result.pages.is_empty(), "a late page's records are not used: {:?}", result.ids());
}

/// One call of `indexOf`, `lastIndexOf` or `includes` with a long needle compares it at every
/// place of the string (O(n·m)) without allocating: the patched QuickJS asks the interrupt
/// handler during the search, so it stops at the deadline rather than minutes later.
#[tokio::test]
async fn one_long_substring_search_is_stopped_at_the_deadline() {
    let test = engine_with(short_time()).await;
    for search in ["indexOf(needle)", "lastIndexOf(needle)", "includes(needle)"] {
        let code = format!(
            "async function run(ctx) {{ const haystack = 'a'.repeat(1000000), needle = 'a'.repeat(5000) + 'b'; haystack.{search}; return {{ records: [] }}; }}"
        );
        let started = Instant::now();
        let result = test.pull(&code).await;
        let took = started.elapsed();
        assert_eq!(result.record.status, Status::TimedOut, "{search}: {:?}", result.record.error);
        // Unpatched, each search runs about 40 s in this build.
        assert!(took < Duration::from_secs(5), "{search} stopped after {took:?}");
    }
    assert_next_execution_is_fine(&test).await;
}
