//! `ctx` and the globals, as the Context API reference documents them.

use std::{sync::Arc, time::Duration};

use flowstate_runtime::{FileKv, LogLevel, Status};
use serde_json::json;

use crate::helpers::{ManualClock, Setup, engine, engine_with, hook};

#[tokio::test]
async fn ctx_has_exactly_the_documented_members() {
    let test = engine().await;
    let value = test
        .eval(
            r#"
            return {
                keys: Object.keys(ctx).sort(),
                http: Object.keys(ctx.http).sort(),
                log: Object.keys(ctx.log).sort(),
                kv: Object.keys(ctx.kv).sort(),
                org: ctx.org,
                orgFrozen: Object.isFrozen(ctx.org),
                secrets: ctx.secrets,
                plainSecrets: Object.getPrototypeOf(ctx.secrets) === Object.prototype,
                meta: typeof ctx.meta,
                event: typeof ctx.event,
            };"#,
        )
        .await;
    assert_eq!(
        value,
        json!({
            "keys": ["event", "http", "kv", "log", "meta", "org", "secrets"],
            "http": ["delete", "get", "patch", "post", "put"],
            "log": ["error", "info", "warn"],
            "kv": ["get", "set"],
            "org": { "id": "org_123", "name": "Acme Ltd", "timezone": "Europe/London", "currency": "GBP" },
            "orgFrozen": true,
            "secrets": { "api_key": "test-api-key-123" },
            "plainSecrets": true,
            "meta": "undefined",
            "event": "undefined",
        })
    );
}

#[tokio::test]
async fn push_hooks_get_the_event_and_no_meta() {
    let test = engine().await;
    let event = json!({
        "entityType": "contractor", "entityId": "c_1", "changeType": "create",
        "before": null, "after": { "name": "Ada", "email": "ada@example.com", "rate": 90, "currencyCode": "GBP" },
    });
    let record = test
        .push(
            r#"
            async function run(ctx) {
                const { event } = ctx;
                ctx.log.info('event', { meta: typeof ctx.meta, type: event.entityType, change: event.changeType, before: event.before, name: event.after.name });
                const resp = await ctx.http.post('https://echo.example.com/echo', { name: event.after.name, rate: event.after.rate });
                if (resp.status !== 200) throw new Error('receiver failed');
                return 'ignored';
            }"#,
            &event,
        )
        .await;
    assert_eq!(record.status, Status::Succeeded, "{:?}", record.error);
    assert_eq!(
        record.logs[0].data,
        Some(json!({ "meta": "undefined", "type": "contractor", "change": "create", "before": null, "name": "Ada" }))
    );
    assert_eq!(record.http_requests.len(), 1);
    assert!(record.pages.is_empty());
    let failed = test.push("async function run(ctx) { throw new Error(`no ${ctx.event.entityType}`); }", &event).await;
    assert_eq!((failed.status, failed.error.unwrap().message), (Status::Failed, "Error: no contractor".to_string()));
}

#[tokio::test]
async fn logs_keep_level_message_data_and_console_maps_to_them() {
    let test = engine().await;
    let result = test
        .pull(
            r#"
            async function run(ctx) {
                ctx.log.info('Fetched page of employees', { count: 50, page: 3 });
                ctx.log.warn('Employee missing email, skipping', { id: 'emp-042' });
                ctx.log.error('API returned unexpected status');
                console.log('console', 1, { a: [1] }, null, undefined);
                console.warn('careful');
                console.error(new TypeError('boom'));
                return { records: [] };
            }"#,
        )
        .await;
    let logs: Vec<(LogLevel, &str, Option<serde_json::Value>)> =
        result.record.logs.iter().map(|log| (log.level, log.message.as_str(), log.data.clone())).collect();
    assert_eq!(logs[0], (LogLevel::Info, "Fetched page of employees", Some(json!({ "count": 50, "page": 3 }))));
    assert_eq!(logs[1], (LogLevel::Warn, "Employee missing email, skipping", Some(json!({ "id": "emp-042" }))));
    assert_eq!(logs[2], (LogLevel::Error, "API returned unexpected status", None));
    assert_eq!(logs[3], (LogLevel::Info, r#"console 1 {"a":[1]} null undefined"#, None));
    assert_eq!(logs[4], (LogLevel::Warn, "careful", None));
    assert_eq!(logs[5].0, LogLevel::Error);
    assert!(logs[5].1.starts_with("TypeError: boom"), "{}", logs[5].1);
    assert!(result.record.logs.iter().all(|log| log.page == Some(0)));
}

#[tokio::test]
async fn a_log_flood_is_capped_with_a_warning() {
    let test = engine().await;
    let result = test.pull("async function run(ctx) { for (let i = 0; i < 1500; i++) ctx.log.info('line ' + i); return { records: [] }; }").await;
    assert_eq!(result.record.logs.len(), 1000);
    assert_eq!(result.record.warnings, ["500 log entries were dropped: at most 1000 are kept per execution"]);
}

#[tokio::test]
async fn the_globals_hook_authors_expect() {
    let test = engine().await;
    let value = test
        .eval(r#"
            const url = new URL('https://user:pw@api.example.com:8443/v1/items?a=1&b=x%20y#frag');
            url.searchParams.append('c', 'd e');
            url.pathname = '/v2/items';
            const params = new URLSearchParams({ q: 'a&b', n: '1' });
            params.set('n', '2');
            const relative = new URL('../other?z=1', 'https://api.example.com/v1/items/');
            const bytes = new TextEncoder().encode('Zoë');
            let invalidUrl;
            try { new URL('not a url'); } catch (e) { invalidUrl = e instanceof TypeError; }
            const waited = await new Promise(resolve => setTimeout(() => resolve('timer fired'), 5));
            let cleared = 'not fired';
            const id = setTimeout(() => { cleared = 'fired'; }, 1);
            clearTimeout(id);
            await new Promise(resolve => setTimeout(resolve, 20));
            return {
                href: url.href, host: url.host, hostname: url.hostname, port: url.port, search: url.search,
                b: url.searchParams.get('b'), origin: url.origin, username: url.username,
                params: params.toString(), entries: [...new URLSearchParams('?x=1&x=2&y=%20')],
                relative: relative.href, canParse: [URL.canParse('https://x.y'), URL.canParse('nope')],
                bytes: [...bytes], decoded: new TextDecoder().decode(bytes), decodedBuffer: new TextDecoder('utf-8').decode(bytes.buffer),
                basic: btoa('user:pass'), unbasic: atob('dXNlcjpwYXNz'), invalidUrl, waited, cleared,
                json: JSON.parse('{"a":[1]}'), date: typeof Date.now(), promise: typeof Promise.allSettled,
            };"#)
        .await;
    assert_eq!(
        value,
        json!({
            // Changing searchParams re-serializes the query form-encoded, as in browsers.
            "href": "https://user:pw@api.example.com:8443/v2/items?a=1&b=x+y&c=d+e#frag",
            "host": "api.example.com:8443", "hostname": "api.example.com", "port": "8443",
            "search": "?a=1&b=x+y&c=d+e", "b": "x y", "origin": "https://api.example.com:8443", "username": "user",
            "params": "q=a%26b&n=2", "entries": [["x", "1"], ["x", "2"], ["y", " "]],
            "relative": "https://api.example.com/v1/other?z=1", "canParse": [true, false],
            "bytes": [90, 111, 195, 171], "decoded": "Zoë", "decodedBuffer": "Zoë",
            "basic": "dXNlcjpwYXNz", "unbasic": "user:pass", "invalidUrl": true, "waited": "timer fired", "cleared": "not fired",
            "json": { "a": [1] }, "date": "number", "promise": "function",
        })
    );
}

#[tokio::test]
async fn a_url_object_can_be_passed_to_ctx_http() {
    let test = engine().await;
    let value = test
        .eval(
            r#"
            const url = new URL('https://echo.example.com/echo');
            url.searchParams.set('since', '2026-01-01T00:00:00Z');
            const resp = await ctx.http.get(url);
            return resp.body.rawQuery;"#,
        )
        .await;
    assert_eq!(value, "since=2026-01-01T00%3A00%3A00Z");
}

#[tokio::test]
async fn kv_stores_strings_per_hook_within_limits() {
    let test = engine().await;
    let value = test
        .eval(r#"
            const errors = [];
            const attempt = async (f) => { try { await f(); errors.push('ok'); } catch (e) { errors.push(`${e.name}: ${e.message}`); } };
            await attempt(() => ctx.kv.set('n', 5));
            await attempt(() => ctx.kv.set('o', { a: 1 }));
            await attempt(() => ctx.kv.set(7, 'x'));
            await attempt(() => ctx.kv.set('k'.repeat(257), 'x'));
            await attempt(() => ctx.kv.set('k'.repeat(256), 'x'));
            await attempt(() => ctx.kv.set('big', 'v'.repeat(64 * 1024 + 1)));
            await attempt(() => ctx.kv.set('exact', 'v'.repeat(64 * 1024)));
            await attempt(() => ctx.kv.set('ttl', 'x', -1));
            await attempt(() => ctx.kv.get('k'.repeat(257)));
            await ctx.kv.set('page_cursor', 'abc123');
            await ctx.kv.set('page_cursor', 'def456');
            return { errors, cursor: await ctx.kv.get('page_cursor'), missing: await ctx.kv.get('nope'), exact: (await ctx.kv.get('exact')).length };"#)
        .await;
    assert_eq!(
        value,
        json!({
            "errors": [
                "TypeError: ctx.kv.set: value must be a string, got number",
                "TypeError: ctx.kv.set: value must be a string, got object",
                "TypeError: ctx.kv.set: key must be a string",
                "RangeError: ctx.kv.set: key is 257 characters, more than the limit of 256",
                "ok",
                "RangeError: ctx.kv.set: value is 65537 bytes, more than the limit of 65536",
                "ok",
                "TypeError: ctx.kv.set: ttlSeconds must be a positive number",
                "RangeError: ctx.kv.get: key is 257 characters, more than the limit of 256",
            ],
            "cursor": "def456", "missing": null, "exact": 65536,
        })
    );
    // Another hook does not see these keys.
    let mut other = hook(
        "async function run(ctx) { return { records: [{ externalId: 'x', data: { v: await ctx.kv.get('page_cursor') } }] }; }",
    );
    other.kv_scope = "hook-2".into();
    assert_eq!(test.pull_hook(&other).await.data()["v"], serde_json::Value::Null);
}

#[tokio::test]
async fn kv_values_expire_after_their_ttl_and_the_default_is_90_days() {
    let clock = ManualClock::new();
    let test = engine_with(Setup { clock: clock.clock(), ..Setup::default() }).await;
    test.eval("await ctx.kv.set('short', 'v', 3600); await ctx.kv.set('long', 'v'); return null;").await;
    let read = "return [await ctx.kv.get('short'), await ctx.kv.get('long')];";
    assert_eq!(test.eval(read).await, json!(["v", "v"]));
    clock.advance(Duration::from_secs(3601));
    assert_eq!(test.eval(read).await, json!([null, "v"]));
    clock.advance(Duration::from_secs(90 * 86_400 - 3601 - 1));
    assert_eq!(test.eval(read).await, json!([null, "v"]));
    clock.advance(Duration::from_secs(2));
    assert_eq!(test.eval(read).await, json!([null, null]));
}

#[tokio::test]
async fn the_file_kv_persists_across_engines() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("kv.json");
    let first = engine_with(Setup { kv: Arc::new(FileKv::open(&path).unwrap()), ..Setup::default() }).await;
    first.eval("await ctx.kv.set('last_sync', '2026-11-22'); return null;").await;
    drop(first);
    let second = engine_with(Setup { kv: Arc::new(FileKv::open(&path).unwrap()), ..Setup::default() }).await;
    assert_eq!(second.eval("return await ctx.kv.get('last_sync');").await, "2026-11-22");
}
