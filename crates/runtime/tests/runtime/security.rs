//! Where a hook must not reach, and what it must not find.

use std::{net::IpAddr, sync::Arc, sync::atomic::Ordering};

use flowstate_egress::{EgressOptions, StaticResolver};
use flowstate_runtime::{ErrorKind, Status};
use serde_json::json;

use crate::helpers::{Setup, counting_listener, engine, engine_with};

/// Runs `call` in a hook and returns the message it threw (or "no error").
async fn thrown(test: &crate::helpers::TestEngine, call: &str) -> String {
    let value =
        test.eval(&format!("try {{ await {call}; return 'no error'; }} catch (e) {{ return e.message; }}")).await;
    value.as_str().unwrap().to_string()
}

#[tokio::test]
async fn plain_http_is_refused_before_any_connection() {
    let test = engine().await;
    let (addr, connections) = counting_listener().await;
    let message = thrown(&test, &format!("ctx.http.get('http://{addr}/employees')")).await;
    assert_eq!(message, format!("GET http://{addr}/employees: only https:// URLs are allowed, got http://"));
    let message = thrown(&test, "ctx.http.get('ftp://files.example.com/x')").await;
    assert!(message.ends_with("only https:// URLs are allowed, got ftp://"), "{message}");
    assert_eq!(connections.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn literal_private_addresses_are_refused_in_every_notation() {
    let test = engine().await;
    let cases = [
        ("https://169.254.169.254/latest/meta-data/", "169.254.169.254", "link-local address (cloud metadata range)"),
        ("https://[::ffff:127.0.0.1]/", "[::ffff:7f00:1]", "loopback address"),
        ("https://127.0.0.1/", "127.0.0.1", "loopback address"),
        ("https://2130706433/", "127.0.0.1", "loopback address"),
        ("https://0x7f.1/", "127.0.0.1", "loopback address"),
        ("https://017700000001/", "127.0.0.1", "loopback address"),
        ("https://127.1/", "127.0.0.1", "loopback address"),
        ("https://[::1]:8443/", "[::1]", "loopback address"),
        ("https://10.0.0.5/", "10.0.0.5", "private network address"),
        ("https://192.168.1.1/", "192.168.1.1", "private network address"),
        ("https://172.20.0.1/", "172.20.0.1", "private network address"),
        ("https://100.64.1.1/", "100.64.1.1", "carrier-grade NAT address"),
        ("https://0.0.0.0/", "0.0.0.0", "unspecified address"),
        ("https://[fd00::1]/", "[fd00::1]", "private network address"),
        ("https://[fe80::1]/", "[fe80::1]", "link-local address (cloud metadata range)"),
        ("https://[64:ff9b::a9fe:a9fe]/", "[64:ff9b::a9fe:a9fe]", "link-local address (cloud metadata range)"),
        ("https://[2002:7f00:1::]/", "[2002:7f00:1::]", "loopback address"),
        ("https://224.0.0.1/", "224.0.0.1", "multicast address"),
        ("https://255.255.255.255/", "255.255.255.255", "broadcast address"),
        (
            "https://metadata.google.internal/computeMetadata/v1/",
            "metadata.google.internal",
            "cloud metadata or local host name",
        ),
        ("https://localhost/", "localhost", "cloud metadata or local host name"),
    ];
    for (url, host, reason) in cases {
        let message = thrown(&test, &format!("ctx.http.get('{url}')")).await;
        assert!(message.ends_with(&format!("request to {host} blocked: {reason}")), "{url}: {message}");
    }
}

#[tokio::test]
async fn a_host_name_resolving_to_loopback_is_refused_after_dns() {
    // The test server's certificate is valid for rebind.example.com and it listens on
    // 127.0.0.1: were the resolved address not checked, this request would succeed.
    let resolver = StaticResolver::new([
        ("rebind.example.com", "127.0.0.1".parse::<IpAddr>().unwrap()),
        ("mixed.example.com", "10.1.1.1".parse::<IpAddr>().unwrap()),
        ("mixed.example.com", "::1".parse::<IpAddr>().unwrap()),
    ]);
    let egress = EgressOptions { resolver: Arc::new(resolver), ..EgressOptions::default() };
    let test = engine_with(Setup { egress, ..Setup::default() }).await;
    let port = test.server.addr().port();
    let before = test.hits.load(Ordering::SeqCst);
    let message = thrown(&test, &format!("ctx.http.get('https://rebind.example.com:{port}/echo')")).await;
    assert!(
        message.ends_with("request to rebind.example.com blocked: it resolves to 127.0.0.1 (loopback address)"),
        "{message}"
    );
    let message = thrown(&test, "ctx.http.get('https://mixed.example.com/')").await;
    assert!(
        message.ends_with("request to mixed.example.com blocked: it resolves to 10.1.1.1 (private network address)"),
        "{message}"
    );
    assert_eq!(test.hits.load(Ordering::SeqCst), before, "no request may reach the server");
    let result = test
        .pull(&format!("async function run(ctx) {{ await ctx.http.get('https://rebind.example.com:{port}/echo'); }}"))
        .await;
    let call = &result.record.http_requests[0];
    assert_eq!(
        call.error.as_deref(),
        Some("request to rebind.example.com blocked: it resolves to 127.0.0.1 (loopback address)")
    );
    assert_eq!(result.record.status, Status::Failed);
}

#[tokio::test]
async fn node_apis_and_modules_do_not_exist() {
    let test = engine().await;
    let value = test
        .eval(
            r#"
            let dynamicImport;
            try { await import('fs'); dynamicImport = 'loaded'; } catch (e) { dynamicImport = 'failed'; }
            return {
                require: typeof require, process: typeof process, fs: typeof fs, module: typeof module,
                Buffer: typeof Buffer, global: typeof global, dynamicImport,
            };"#,
        )
        .await;
    assert_eq!(
        value,
        json!({ "require": "undefined", "process": "undefined", "fs": "undefined", "module": "undefined", "Buffer": "undefined", "global": "undefined", "dynamicImport": "failed" })
    );
    let result = test.pull("import fs from 'fs';\nasync function run(ctx) { return { records: [] }; }").await;
    assert_eq!(result.record.status, Status::Failed);
    assert_eq!(result.record.error.as_ref().unwrap().kind, ErrorKind::InvalidHook);
}

#[tokio::test]
async fn host_functions_are_not_reachable_from_the_global_object() {
    let test = engine().await;
    let value = test
        .eval("return Object.getOwnPropertyNames(globalThis).filter(name => /native|flowstate|install|makeCtx/i.test(name));")
        .await;
    assert_eq!(value, json!([]));
}
