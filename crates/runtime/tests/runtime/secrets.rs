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
