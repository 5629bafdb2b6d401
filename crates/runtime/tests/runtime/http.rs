//! `ctx.http` as documented: methods, query encoding, bodies, responses, redirects, limits.

use std::sync::atomic::Ordering;

use flowstate_runtime::{Limits, Status};
use serde_json::json;

use crate::helpers::{Setup, engine, engine_with};

#[tokio::test]
async fn query_is_appended_with_encoding_and_keeps_the_existing_query() {
    let test = engine().await;
    let value = test
        .eval(
            r#"
            const resp = await ctx.http.get('https://echo.example.com/echo?x=1', {
                query: { q: 'a b&c=d/é', list: ['1', '2'], skipped: undefined, n: 5 }
            });
            return resp.body.rawQuery;"#,
        )
        .await;
    assert_eq!(value, "x=1&q=a+b%26c%3Dd%2F%C3%A9&list=1&list=2&n=5");
}

#[tokio::test]
async fn every_method_sends_what_the_reference_says() {
    let test = engine().await;
    let value = test
        .eval(r#"
            const url = 'https://echo.example.com/echo';
            const out = {};
            for (const [name, call] of [
                ['get', () => ctx.http.get(url)],
                ['post', () => ctx.http.post(url, { a: 1 })],
                ['put', () => ctx.http.put(url, 'plain text', { headers: { 'Content-Type': 'text/plain' } })],
                ['patch', () => ctx.http.patch(url, { b: [true] }, { headers: { 'Content-Type': 'application/merge-patch+json' } })],
                ['delete', () => ctx.http.delete(url, { headers: { 'X-Reason': 'test' } })],
            ]) {
                const resp = await call();
                out[name] = { method: resp.body.method, type: resp.body.headers['content-type'] ?? null, body: resp.body.body, reason: resp.body.headers['x-reason'] ?? null };
            }
            return out;"#)
        .await;
    assert_eq!(
        value,
        json!({
            "get": { "method": "GET", "type": null, "body": "", "reason": null },
            "post": { "method": "POST", "type": "application/json", "body": "{\"a\":1}", "reason": null },
            "put": { "method": "PUT", "type": "text/plain", "body": "plain text", "reason": null },
            "patch": { "method": "PATCH", "type": "application/merge-patch+json", "body": "{\"b\":[true]}", "reason": null },
            "delete": { "method": "DELETE", "type": null, "body": "", "reason": "test" },
        })
    );
}

#[tokio::test]
async fn json_responses_are_parsed_and_others_are_text() {
    let test = engine().await;
    let value = test
        .eval(
            r#"
            const text = await ctx.http.get('https://echo.example.com/text');
            const vnd = await ctx.http.get('https://echo.example.com/vnd');
            const bad = await ctx.http.get('https://echo.example.com/bad-json');
            return { text: text.body, textType: text.headers['content-type'], vnd: vnd.body, bad: bad.body };"#,
        )
        .await;
    assert_eq!(
        value,
        json!({ "text": "hello, text", "textType": "text/plain; charset=utf-8", "vnd": { "data": { "id": "1" } }, "bad": "{not json" })
    );
}

#[tokio::test]
async fn non_2xx_does_not_throw_and_redirects_are_not_followed() {
    let test = engine().await;
    let value = test
        .eval(r#"
            const missing = await ctx.http.get('https://echo.example.com/status/404');
            const broken = await ctx.http.get('https://echo.example.com/status/503');
            const moved = await ctx.http.get('https://echo.example.com/redirect');
            return { missing: [missing.status, missing.body.error], broken: broken.status, moved: [moved.status, moved.headers.location] };"#)
        .await;
    assert_eq!(
        value,
        json!({ "missing": [404, "as requested"], "broken": 503, "moved": [302, "https://elsewhere.example.com/next"] })
    );
}

#[tokio::test]
async fn header_names_come_back_lower_case_and_user_agent_is_fixed() {
    let test = engine().await;
    let value = test
        .eval(r#"
            const resp = await ctx.http.get('https://echo.example.com/echo', { headers: { 'User-Agent': 'curl/8.0', 'user-agent': 'evil', 'X-Custom': 'kept' } });
            return { ua: resp.body.headers['user-agent'], custom: resp.body.headers['x-custom'], names: Object.keys(resp.headers).every(n => n === n.toLowerCase()) };"#)
        .await;
    assert_eq!(value, json!({ "ua": "Flowstate-CustomIntegration/1.0", "custom": "kept", "names": true }));
}

#[tokio::test]
async fn the_51st_request_of_a_page_throws_and_the_count_resets_each_page() {
    let test = engine().await;
    let code = r#"
        async function run(ctx) {
            const page = ctx.meta?.page ?? 0;
            for (let i = 0; i < 50; i++) await ctx.http.get('https://echo.example.com/echo');
            let error = null;
            try { await ctx.http.get('https://echo.example.com/echo'); } catch (e) { error = e.message; }
            return { records: [{ externalId: String(page), data: { error } }], more: page === 0, meta: { page: page + 1 } };
        }"#;
    let before = test.hits.load(Ordering::SeqCst);
    let result = test.pull(code).await;
    assert_eq!(result.record.status, Status::Succeeded, "{:?}", result.record.error);
    for page in &result.pages {
        assert_eq!(page[0].data["error"], "HTTP request limit exceeded: at most 50 requests per page");
    }
    // 50 requests per page reached the server; the 51st of each page never left.
    assert_eq!(test.hits.load(Ordering::SeqCst) - before, 100);
    assert_eq!(result.record.pages.iter().map(|p| p.request_count).collect::<Vec<_>>(), [51, 51]);
    let refused = &result.record.http_requests[50];
    assert_eq!(
        (refused.status, refused.error.as_deref()),
        (None, Some("HTTP request limit exceeded: at most 50 requests per page"))
    );
}

#[tokio::test]
async fn a_response_over_10_mb_throws_and_exactly_10_mb_is_fine() {
    let test = engine().await;
    let limit = 10 * 1024 * 1024;
    for route in ["bytes", "stream"] {
        let value = test
            .eval(&format!(r#"
                const ok = await ctx.http.get('https://echo.example.com/{route}/{limit}');
                let error = null;
                try {{ await ctx.http.get('https://echo.example.com/{route}/{over}'); }} catch (e) {{ error = e.message; }}
                return {{ length: ok.body.length, error }};"#, over = limit + 1))
            .await;
        assert_eq!(value["length"], limit, "{route}");
        assert_eq!(
            value["error"],
            format!(
                "GET https://echo.example.com/{route}/{}: response body exceeds the limit of 10485760 bytes (10 MB)",
                limit + 1
            ),
            "{route}"
        );
    }
}

#[tokio::test]
async fn a_request_timeout_throws_and_is_recorded() {
    let test = engine().await;
    let result = test
        .pull(r#"
            async function run(ctx) {
                let error = null;
                try { await ctx.http.get('https://echo.example.com/slow', { timeout: 200 }); } catch (e) { error = e.message; }
                return { records: [{ externalId: 'x', data: { error } }] };
            }"#)
        .await;
    assert_eq!(result.data()["error"], "GET https://echo.example.com/slow: request timed out after 200 ms");
    assert_eq!(result.record.http_requests[0].error.as_deref(), Some("request timed out after 200 ms"));
}

#[tokio::test]
async fn calls_are_recorded_with_status_size_and_duration() {
    let test = engine().await;
    let result = test
        .pull(r#"
            async function run(ctx) {
                await ctx.http.get('https://echo.example.com/text');
                await Promise.all([ctx.http.get('https://echo.example.com/status/404'), ctx.http.post('https://echo.example.com/echo', 'x')]);
                return { records: [] };
            }"#)
        .await;
    let calls = &result.record.http_requests;
    assert_eq!(calls.len(), 3);
    assert_eq!((calls[0].method.as_str(), calls[0].status, calls[0].bytes), ("GET", Some(200), 11));
    assert!(calls.iter().all(|call| call.duration_ms > 0.0 && call.page == Some(0)));
    let mut statuses: Vec<Option<u16>> = calls.iter().map(|call| call.status).collect();
    statuses.sort();
    assert_eq!(statuses, [Some(200), Some(200), Some(404)]);
}

#[tokio::test]
async fn a_smaller_operator_limit_applies() {
    let limits = Limits { requests_per_page: 2, response_bytes: 5, ..Limits::default() };
    let test = engine_with(Setup { limits, ..Setup::default() }).await;
    let value = test
        .eval(
            r#"
            const errors = [];
            try { await ctx.http.get('https://echo.example.com/bytes/6'); } catch (e) { errors.push(e.message); }
            await ctx.http.get('https://echo.example.com/bytes/5');
            try { await ctx.http.get('https://echo.example.com/bytes/1'); } catch (e) { errors.push(e.message); }
            return errors;"#,
        )
        .await;
    assert_eq!(
        value,
        json!([
            "GET https://echo.example.com/bytes/6: response body exceeds the limit of 5 bytes",
            "HTTP request limit exceeded: at most 2 requests per page"
        ])
    );
}
