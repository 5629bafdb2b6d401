//! Secret values never appear in an execution record.

use flowstate_runtime::{Secrets, Status};

use crate::helpers::{engine, hook};

#[tokio::test]
async fn secret_values_are_redacted_everywhere_in_the_record() {
    let test = engine().await;
    let secret = "sk_live_9f8e7d6c5b4a";
    let password = "p@ss word/+";
    let mut invocation = hook(
        r#"
        async function run(ctx) {
            const { token, password } = ctx.secrets;
            ctx.log.info(`using token ${token}`, { token, nested: [{ password }], [token]: 'as a key' });
            console.log('console too', token);
            await ctx.http.get('https://echo.example.com/echo', { query: { key: token, pw: password }, headers: { Authorization: `Bearer ${token}` } });
            await ctx.http.get(`https://echo.example.com/echo/${encodeURIComponent(password)}`);
            try { await ctx.http.get(`http://${token}.example.com/`); } catch (e) { ctx.log.warn(e.message); }
            throw new Error(`failed with ${token} and ${password}`);
        }"#,
    );
    invocation.secrets =
        Secrets::new([("token".to_string(), secret.to_string()), ("password".to_string(), password.to_string())]);
    let result = test.pull_hook(&invocation).await;
    assert_eq!(result.record.status, Status::Failed);
    let text = serde_json::to_string(&result.record).unwrap();
    for needle in [secret, password, "p%40ss", "p%40ss+word"] {
        assert!(!text.contains(needle), "{needle} leaked: {text}");
    }
    assert_eq!(result.record.logs[0].message, "using token [REDACTED:token]");
    assert_eq!(
        result.record.logs[0].data,
        Some(
            serde_json::json!({ "token": "[REDACTED:token]", "nested": [{ "password": "[REDACTED:password]" }], "[REDACTED:token]": "as a key" })
        )
    );
    assert_eq!(
        result.record.http_requests[0].url,
        "https://echo.example.com/echo?key=[REDACTED:token]&pw=[REDACTED:password]"
    );
    assert_eq!(result.record.http_requests[1].url, "https://echo.example.com/echo/[REDACTED:password]");
    let error = result.record.error.as_ref().unwrap();
    assert_eq!(error.message, "Error: failed with [REDACTED:token] and [REDACTED:password]");
    assert!(!error.stack.as_deref().unwrap_or("").contains(secret));
    assert!(
        format!("{:?}", invocation.secrets).contains("token") && !format!("{:?}", invocation.secrets).contains(secret)
    );
}

/// Every string in the record, object keys included.
fn strings_in(value: &serde_json::Value, into: &mut Vec<String>) {
    match value {
        serde_json::Value::String(text) => into.push(text.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|item| strings_in(item, into)),
        serde_json::Value::Object(map) => {
            for (key, item) in map {
                into.push(key.clone());
                strings_in(item, into);
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn secrets_are_redacted_in_every_form_they_take_by_accident() {
    let test = engine().await;
    let token = "Sk_Live_9F8E7D6C";
    let password = r#"p"a\ss wörd~/+"#;
    let mut invocation = hook(
        r#"
        async function run(ctx) {
            const { token, password } = ctx.secrets;
            ctx.log.info(`as given: ${token} ${password}`);
            // A host name comes back lower-cased from URL parsing, in the recorded URL and error.
            try { await ctx.http.get(`https://${token}.localhost/`); } catch (e) { ctx.log.warn(e.message); }
            // Percent-encoded by encodeURIComponent, and form-encoded in a query.
            await ctx.http.get(`https://echo.example.com/echo/${encodeURIComponent(password)}`);
            await ctx.http.get('https://echo.example.com/echo', { query: { pw: password } });
            // Written with Rust's {:?} into an invalid-URL error.
            try { await ctx.http.get(`https://echo.example.com:99999/${password}`); } catch (e) { ctx.log.warn(e.message); }
            // JSON-escaped once and twice, in messages and in data.
            const once = JSON.stringify({ password });
            ctx.log.info(once);
            ctx.log.info(JSON.stringify({ body: once }));
            ctx.log.info('data', { body: once, [password]: JSON.stringify([once]) });
            // Basic auth: Base64 of user:secret, by btoa (Latin-1) and as UTF-8.
            ctx.log.info(`Authorization: Basic ${btoa('admin:' + token)}`);
            ctx.log.info(`Basic ${btoa('admin:' + password)}`);
            ctx.log.info(`Basic ${btoa(unescape(encodeURIComponent('admin:' + password)))}`);
            throw new Error(`failed: ${token.toLowerCase()} ${JSON.stringify(password)}`);
        }"#,
    );
    invocation.secrets =
        Secrets::new([("token".to_string(), token.to_string()), ("password".to_string(), password.to_string())]);
    let result = test.pull_hook(&invocation).await;
    assert_eq!(result.record.status, Status::Failed);
    let mut strings = Vec::new();
    strings_in(&serde_json::to_value(&result.record).unwrap(), &mut strings);
    // Distinctive pieces of each form, compared ignoring case.
    let forms = [
        "9F8E7D6C",
        "wörd",
        "w%C3%B6rd",
        "ss+w",
        r#"p\"a"#,
        r#"p\\\"a"#,
        r#"a\\\\ss"#,
        "YWRtaW46U2tfTGl2ZV85RjhFN0Q2Qw",
        "YWRtaW46cCJhXHNzIHf2cmR",
        "YWRtaW46cCJhXHNzIHfDtnJkfi8r",
    ];
    let leaks: Vec<String> = strings
        .iter()
        .flat_map(|text| {
            forms
                .iter()
                .filter(|form| text.to_lowercase().contains(&form.to_lowercase()))
                .map(move |form| format!("{form} in {text:?}"))
        })
        .collect();
    assert!(leaks.is_empty(), "{leaks:#?}");
    // Each channel was recorded, redacted.
    let logs: Vec<&str> = result.record.logs.iter().map(|entry| entry.message.as_str()).collect();
    assert_eq!(logs[0], "as given: [REDACTED:token] [REDACTED:password]");
    assert!(logs[1].contains("[REDACTED:token].localhost"), "{}", logs[1]);
    assert!(logs[2].contains("invalid URL") && logs[2].contains("[REDACTED:password]"), "{}", logs[2]);
    assert_eq!(logs[3], r#"{"password":"[REDACTED:password]"}"#);
    assert_eq!(logs[4], r#"{"body":"{\"password\":\"[REDACTED:password]\"}"}"#);
    assert_eq!(
        result.record.logs[5].data,
        Some(serde_json::json!({
            "body": r#"{"password":"[REDACTED:password]"}"#,
            "[REDACTED:password]": r#"["{\"password\":\"[REDACTED:password]\"}"]"#,
        }))
    );
    assert_eq!(
        &logs[6..],
        ["Authorization: Basic [REDACTED:token]", "Basic [REDACTED:password]", "Basic [REDACTED:password]"]
    );
    let urls: Vec<&str> = result.record.http_requests.iter().map(|call| call.url.as_str()).collect();
    assert_eq!(
        urls,
        [
            "https://[REDACTED:token].localhost/",
            "https://echo.example.com/echo/[REDACTED:password]",
            "https://echo.example.com/echo?pw=[REDACTED:password]",
            "https://echo.example.com:99999/[REDACTED:password]",
        ]
    );
    let error = result.record.error.as_ref().unwrap();
    assert_eq!(error.message, r#"Error: failed: [REDACTED:token] "[REDACTED:password]""#);
}

#[tokio::test]
async fn a_secret_cut_by_the_log_size_limit_leaves_no_part_behind() {
    let test = engine().await;
    let token = "Sk_Live_9F8E7D6C";
    // 16 KB is the cut; the JSON of the data string starts with a quote.
    let mut invocation = hook(
        r#"
        async function run(ctx) {
            const padding = 'x'.repeat(16 * 1024 - 7);
            ctx.log.info(padding + ctx.secrets.token);
            ctx.log.info('data', padding.slice(1) + ctx.secrets.token);
            return { records: [] };
        }"#,
    );
    invocation.secrets = Secrets::new([("token".to_string(), token.to_string())]);
    let result = test.pull_hook(&invocation).await;
    assert_eq!(result.record.status, Status::Succeeded, "{:?}", result.record.error);
    let text = serde_json::to_string(&result.record).unwrap();
    assert!(text.contains("[truncated]"), "the test must cut through the secret");
    assert!(!text.contains(&token[..5]), "the start of the secret was left before the cut");
}

#[tokio::test]
async fn the_caller_redacts_its_own_text_with_the_execution_redactor() {
    let test = engine().await;
    let mut invocation = hook("async function run(ctx) { return { records: [] }; }");
    invocation.secrets = Secrets::new([("token".to_string(), "Sk_Live_9F8E7D6C".to_string())]);
    let mut execution = test.engine.start_pull(&invocation);
    while execution.next_page().await.is_some() {}
    // What a server adds to the record, such as a per-record sync error naming a field.
    let error = r#"{"externalId":"sk_live_9f8e7d6c","message":"bad value \"Sk_Live_9F8E7D6C\""}"#;
    let expected = r#"{"externalId":"[REDACTED:token]","message":"bad value \"[REDACTED:token]\""}"#;
    assert_eq!(execution.redactor().redact(error), expected);
    assert_eq!(invocation.secrets.redactor().redact(error), expected);
}
