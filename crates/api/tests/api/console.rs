//! The web console as the server serves it: its files under `/` with the security headers,
//! ETags and compression, and what its first screen costs. (The console itself, in a
//! browser: `crates/flowstate/tests/cli/console`.)

use std::collections::BTreeSet;

use reqwest::{StatusCode, header};

use crate::app::TestApp;

async fn get(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(format!("{}{path}", app.base));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_console_is_served_with_a_strict_policy() {
    let app = TestApp::spawn().await;
    let page = get(&app, "/", &[]).await;
    assert_eq!(page.status(), StatusCode::OK);
    let headers = page.headers().clone();
    assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    let policy = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    for directive in
        ["default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "object-src 'none'"]
    {
        assert!(policy.contains(directive), "{directive} in {policy}");
    }
    // Inline style attributes only (the editor sets some); never inline or evaluated script,
    // never inline style sheets.
    assert!(!policy.contains("unsafe-eval"), "{policy}");
    for directive in policy.split(';').map(str::trim) {
        if directive.contains("'unsafe-inline'") {
            assert!(directive.starts_with("style-src-attr "), "{directive}");
        }
    }
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(headers[header::REFERRER_POLICY], "no-referrer");
    assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
    let html = page.text().await.unwrap();
    let inline = regex::Regex::new(r"<script(\s[^>]*)?>").unwrap();
    for tag in inline.find_iter(&html) {
        assert!(tag.as_str().contains("src="), "no inline script: {}", tag.as_str());
    }
    assert!(!regex::Regex::new(r"\son[a-z]+=").unwrap().is_match(&html), "no inline handlers");

    // Revalidated by its ETag.
    let etag = headers[header::ETAG].to_str().unwrap().to_string();
    let again = get(&app, "/", &[("if-none-match", &etag)]).await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    // Compressed for a client that takes gzip.
    let script = get(&app, "/app/main.js", &[("accept-encoding", "gzip")]).await;
    assert_eq!(script.headers()[header::CONTENT_ENCODING], "gzip");
    assert!(script.headers()[header::CONTENT_TYPE].to_str().unwrap().contains("javascript"));
    assert!(script.headers().contains_key(header::CONTENT_SECURITY_POLICY), "every console response");
    // A path that is nothing is the API's 404, in the one error shape.
    let missing = get(&app, "/no/such/page", &[]).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let body: serde_json::Value = serde_json::from_str(&missing.text().await.unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "NOT_FOUND");
    let api = get(&app, "/api/v1/nothing", &[]).await;
    assert_eq!(api.status(), StatusCode::NOT_FOUND);
}

/// The first screen (the page, its style sheet and the scripts it imports before anything
/// is clicked) is at most 150 KB compressed; the editor and the chart are not among them.
#[tokio::test(flavor = "multi_thread")]
async fn the_first_screen_loads_at_most_150_kb_compressed() {
    let app = TestApp::spawn().await;
    let import = regex::Regex::new(r#"(?:import|from)\s*['"](/[^'"]+|\./[^'"]+)['"]"#).unwrap();
    let linked = regex::Regex::new(r#"(?:src|href)="(/[^"]+\.(?:js|css))""#).unwrap();
    let mut total = 0;
    let index = get(&app, "/", &[("accept-encoding", "gzip")]).await;
    total += index.content_length().unwrap();
    let html = get(&app, "/", &[]).await.text().await.unwrap();
    let mut queue: Vec<String> = linked.captures_iter(&html).map(|c| c[1].to_string()).collect();
    let mut loaded = BTreeSet::new();
    while let Some(path) = queue.pop() {
        if !loaded.insert(path.clone()) {
            continue;
        }
        let compressed = get(&app, &path, &[("accept-encoding", "gzip")]).await;
        assert_eq!(compressed.status(), StatusCode::OK, "{path}");
        total += compressed.content_length().unwrap();
        if path.ends_with(".js") {
            let text = get(&app, &path, &[]).await.text().await.unwrap();
            let directory = path.rsplit_once('/').unwrap().0.to_string();
            // Static imports only: `import('…')` (the editor, the chart) loads later, and the
            // pattern does not take its parenthesis.
            for found in import.captures_iter(&text) {
                let target = &found[1];
                queue.push(match target.strip_prefix("./") {
                    Some(relative) => format!("{directory}/{relative}"),
                    None => target.to_string(),
                });
            }
        }
    }
    assert!(loaded.contains("/app/main.js") && loaded.contains("/vendor/ui.js"), "{loaded:?}");
    assert!(!loaded.contains("/vendor/editor.js") && !loaded.contains("/vendor/chart.js"), "{loaded:?}");
    assert!(total <= 150 * 1024, "the first screen is {total} bytes compressed: {loaded:?}");
    eprintln!("the first screen: {total} bytes compressed in {} files", loaded.len() + 1);
}
