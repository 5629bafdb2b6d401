//! The hook guide's pagination examples, verbatim, against the fake HR API.

use flowstate_runtime::{ErrorKind, Status};

use crate::helpers::engine;

/// "Example: Page-based pagination", copied from the guide.
const PAGE_BASED: &str = r#"
async function run(ctx) {
const page = ctx.meta?.page ?? 1;
const resp = await ctx.http.get('https://api.example.com/employees', {
headers: { Authorization: `Bearer ${ctx.secrets.api_key}` },
query: { page: String(page), per_page: '100' }
});
if (resp.status !== 200) {
ctx.log.error('Failed to fetch employees', { status: resp.status, page });
return { records: [] };
}
const records = resp.body.data.map(emp => ({
externalId: emp.id,
data: {
firstName: emp.first_name,
lastName: emp.last_name,
email: emp.email,
startDate: emp.hire_date
}
}));
ctx.log.info(`Page ${page}: fetched ${records.length} employees`);
return {
records,
more: resp.body.has_next_page,
meta: { page: page + 1 }
};
}"#;

/// "Example: Cursor-based pagination", copied from the guide.
const CURSOR_BASED: &str = r#"
async function run(ctx) {
const cursor = ctx.meta?.cursor ?? null;
const query = { limit: '100' };
if (cursor) {
query.after = cursor;
}
const resp = await ctx.http.get('https://hr.example.com/api/v1/employees', {
headers: { Authorization: `Bearer ${ctx.secrets.api_key}` },
query
});
if (resp.status !== 200) {
ctx.log.error('Failed to fetch employees', { status: resp.status });
return { records: [] };
}
const records = resp.body.data.map(emp => ({
externalId: emp.id,
data: {
firstName: emp.first_name,
lastName: emp.last_name,
email: emp.email,
startDate: emp.hire_date,
endDate: emp.termination_date
}
}));
ctx.log.info(`Fetched ${records.length} employees`);
return {
records,
more: resp.body.pagination.has_more,
meta: { cursor: resp.body.pagination.next_cursor }
};
}"#;

/// "Example: Offset-based pagination", copied from the guide.
const OFFSET_BASED: &str = r#"
async function run(ctx) {
const offset = ctx.meta?.offset ?? 0;
const limit = 200;
const resp = await ctx.http.get('https://api.example.com/contractors', {
headers: { 'X-Api-Key': ctx.secrets.api_key },
query: { offset: String(offset), limit: String(limit) }
});
if (resp.status !== 200) {
ctx.log.error('Failed to fetch contractors', { status: resp.status });
return { records: [] };
}
const records = resp.body.items.map(c => ({
externalId: c.id,
data: {
name: c.full_name,
email: c.email,
rate: c.hourly_rate,
currencyCode: c.currency
}
}));
const hasMore = resp.body.total > offset + records.length;
ctx.log.info(`Offset ${offset}: fetched ${records.length} of ${resp.body.total} contractors`);
return {
records,
more: hasMore,
meta: { offset: offset + limit }
};
}"#;

fn expected_ids(prefix: &str, count: usize) -> Vec<String> {
    (1..=count).map(|n| format!("{prefix}-{n:04}")).collect()
}

#[tokio::test]
async fn page_based_example_fetches_every_page() {
    let test = engine().await;
    let result = test.pull(PAGE_BASED).await;
    assert_eq!(result.record.status, Status::Succeeded, "{:?}", result.record.error);
    // 250 employees, 100 per page: 3 pages, the last with more: false.
    assert_eq!(result.pages.iter().map(Vec::len).collect::<Vec<_>>(), [100, 100, 50]);
    assert_eq!(result.ids(), expected_ids("emp", 250));
    let summaries: Vec<(u32, usize, bool, u32)> =
        result.record.pages.iter().map(|p| (p.index, p.record_count, p.more, p.request_count)).collect();
    assert_eq!(summaries, [(0, 100, true, 1), (1, 100, true, 1), (2, 50, false, 1)]);
    let messages: Vec<&str> = result.record.logs.iter().map(|log| log.message.as_str()).collect();
    assert_eq!(
        messages,
        ["Page 1: fetched 100 employees", "Page 2: fetched 100 employees", "Page 3: fetched 50 employees"]
    );
    assert_eq!(result.record.record_count, 250);
    let first = &result.pages[0][0];
    assert_eq!(first.data["firstName"], "Grace");
    assert_eq!(first.data["email"], "grace.lovelace1@example.com");
    let urls: Vec<&str> = result.record.http_requests.iter().map(|call| call.url.as_str()).collect();
    assert_eq!(urls[1], "https://api.example.com/employees?page=2&per_page=100");
}

#[tokio::test]
async fn cursor_based_example_follows_the_cursor() {
    let test = engine().await;
    let result = test.pull(CURSOR_BASED).await;
    assert_eq!(result.record.status, Status::Succeeded, "{:?}", result.record.error);
    assert_eq!(result.ids(), expected_ids("emp", 250));
    assert_eq!(result.record.pages.len(), 3);
    assert_eq!(result.record.http_requests[2].url, "https://hr.example.com/api/v1/employees?limit=100&after=emp-0200");
    // emp-0017 has a termination date; the others carry null.
    let records: Vec<_> = result.pages.iter().flatten().collect();
    assert_eq!(records[16].data["endDate"], "2026-12-31");
    assert!(records[0].data["endDate"].is_null());
}

#[tokio::test]
async fn offset_based_example_stops_at_the_total() {
    let test = engine().await;
    let result = test.pull(OFFSET_BASED).await;
    assert_eq!(result.record.status, Status::Succeeded, "{:?}", result.record.error);
    assert_eq!(result.pages.iter().map(Vec::len).collect::<Vec<_>>(), [200, 200, 50]);
    assert_eq!(result.ids(), expected_ids("ctr", 450));
    assert_eq!(result.pages[0][0].data["rate"], 55);
    assert_eq!(result.record.logs[2].message, "Offset 400: fetched 50 of 450 contractors");
}

#[tokio::test]
async fn a_wrong_key_takes_the_examples_error_branch() {
    let test = engine().await;
    let mut invocation = crate::helpers::hook(PAGE_BASED);
    invocation.secrets = flowstate_runtime::Secrets::new([("api_key".to_string(), "wrong".to_string())]);
    let result = test.pull_hook(&invocation).await;
    assert_eq!(result.record.status, Status::Succeeded);
    assert_eq!(result.ids(), Vec::<String>::new());
    assert_eq!(result.record.logs[0].message, "Failed to fetch employees");
    assert_eq!(result.record.logs[0].data, Some(serde_json::json!({ "status": 401, "page": 1 })));
}

#[tokio::test]
async fn meta_is_undefined_first_then_the_previous_pages_meta() {
    let test = engine().await;
    let code = r#"
        async function run(ctx) {
            const seen = ctx.meta === undefined ? 'undefined' : JSON.stringify(ctx.meta);
            const n = ctx.meta?.n ?? 0;
            return { records: [{ externalId: `r${n}`, data: { seen } }], more: n < 2, meta: { n: n + 1, nested: { list: [n] } } };
        }"#;
    let result = test.pull(code).await;
    let seen: Vec<String> =
        result.pages.iter().map(|page| page[0].data["seen"].as_str().unwrap().to_string()).collect();
    assert_eq!(seen, ["undefined", r#"{"n":1,"nested":{"list":[0]}}"#, r#"{"n":2,"nested":{"list":[1]}}"#]);
}

#[tokio::test]
async fn each_page_gets_a_fresh_runtime() {
    let test = engine().await;
    let code = r#"
        async function run(ctx) {
            globalThis.counter = (globalThis.counter ?? 0) + 1;
            Array.prototype.polluted = true;
            const page = ctx.meta?.page ?? 0;
            return { records: [{ externalId: String(page), data: { counter: globalThis.counter, polluted: [].polluted === true } }], more: page < 2, meta: { page: page + 1 } };
        }"#;
    let result = test.pull(code).await;
    for page in &result.pages {
        assert_eq!(page[0].data["counter"], 1);
        assert_eq!(page[0].data["polluted"], true);
    }
    // Polluted only after the first line of each page ran, never before it.
    let fresh = test.eval("return [].polluted === undefined && globalThis.counter === undefined;").await;
    assert_eq!(fresh, true);
}

#[tokio::test]
async fn pagination_stops_after_the_page_limit_with_a_warning() {
    let test = engine().await;
    let code = "async function run(ctx) { const n = ctx.meta?.n ?? 0; return { records: [{ externalId: String(n), data: {} }], more: true, meta: { n: n + 1 } }; }";
    let result = test.pull(code).await;
    assert_eq!(result.record.status, Status::Succeeded);
    assert_eq!(result.pages.len(), 100);
    assert_eq!(result.ids().last().unwrap(), "99");
    assert_eq!(result.record.warnings.len(), 1);
    assert!(
        result.record.warnings[0].starts_with("pagination stopped after 100 pages"),
        "{:?}",
        result.record.warnings
    );
    assert!(result.record.logs.iter().any(|log| log.message.starts_with("pagination stopped")));
}

#[tokio::test]
async fn a_failing_page_keeps_earlier_pages_and_names_itself() {
    let test = engine().await;
    let code = r#"
        async function run(ctx) {
            const n = ctx.meta?.n ?? 0;
            if (n === 2) throw new Error('the HR API changed its mind');
            return { records: [{ externalId: String(n), data: {} }], more: true, meta: { n: n + 1 } };
        }"#;
    let result = test.pull(code).await;
    assert_eq!(result.record.status, Status::Failed);
    assert_eq!(result.ids(), ["0", "1"]);
    let error = result.record.error.as_ref().unwrap();
    assert_eq!((error.kind, error.page), (ErrorKind::Exception, Some(2)));
    assert_eq!(error.message, "Error: the HR API changed its mind");
    assert!(error.stack.as_deref().unwrap_or("").contains("hook.js"), "{:?}", error.stack);
    assert_eq!(result.record.pages.len(), 3);
}

/// The engine keeps a hook's compiled code for its next executions: changed code runs as
/// changed (never a stale compile), and the same code of another hook runs as its own.
#[tokio::test]
async fn a_hooks_next_execution_runs_its_current_code() {
    let test = engine().await;
    let version =
        |n: u32| format!("async function run(ctx) {{ return {{ records: [{{ externalId: 'v{n}', data: {{}} }}] }}; }}");
    let mut hook = crate::helpers::hook(&version(1));
    assert_eq!(test.pull_hook(&hook).await.ids(), ["v1"]);
    assert_eq!(test.pull_hook(&hook).await.ids(), ["v1"], "the kept compile runs the same code");
    hook.code = version(2);
    assert_eq!(test.pull_hook(&hook).await.ids(), ["v2"]);
    let other =
        flowstate_runtime::HookInvocation { kv_scope: "another-hook".into(), ..crate::helpers::hook(&version(1)) };
    assert_eq!(test.pull_hook(&other).await.ids(), ["v1"]);
    // A broken version is reported as broken, then the good one runs again.
    hook.code = "async function run(ctx) { return {".into();
    assert_eq!(test.pull_hook(&hook).await.record.error.unwrap().kind, flowstate_runtime::ErrorKind::InvalidHook);
    hook.code = version(2);
    assert_eq!(test.pull_hook(&hook).await.ids(), ["v2"]);
}

/// Pages after the first run from the bytecode the first wrote, which lends each function its
/// source text and line positions in place (`read_bytecode`): a function's text and a
/// stack's line are the same on every page, and in the next execution, which reads the kept
/// bytecode from its first page on.
#[tokio::test]
async fn later_pages_keep_each_functions_source_and_lines() {
    let test = engine().await;
    let code = "function helper(a, b) {\n  // a comment kept in the text\n  return new Error('where').stack;\n}\n\
                async function run(ctx) {\n  const n = ctx.meta?.n ?? 0;\n  if (n === 3) throw new TypeError('page three');\n  \
                return { records: [{ externalId: String(n), data: { text: helper.toString(), stack: helper(), run: run.toString().length } }], \
                more: true, meta: { n: n + 1 } };\n}\n";
    for execution in 0..2 {
        let result = test.pull(code).await;
        assert_eq!(result.pages.len(), 3, "execution {execution}");
        for page in &result.pages {
            let data = &page[0].data;
            assert_eq!(
                data["text"],
                "function helper(a, b) {\n  // a comment kept in the text\n  return new Error('where').stack;\n}"
            );
            let stack = data["stack"].as_str().unwrap();
            assert!(stack.contains("at helper (hook.js:3:"), "execution {execution}: {stack}");
            assert!(stack.contains("at run (hook.js:8:"), "execution {execution}: {stack}");
            assert_eq!(data["run"], result.pages[0][0].data["run"]);
        }
        let error = result.record.error.as_ref().unwrap();
        assert_eq!((error.message.as_str(), error.page), ("TypeError: page three", Some(3)));
        assert!(error.stack.as_deref().unwrap_or("").contains("hook.js:7:"), "{:?}", error.stack);
    }
}
