//! The web console in a real browser (issue 13), against `flowstate serve` on a random port
//! with the example HR API behind its hooks: every step as a user takes it, each screen
//! checked with axe-core and photographed at a desktop and a phone width.

mod browser;

use std::path::PathBuf;

use browser::{Browser, DESKTOP, PHONE};
use fantoccini::key::Key;
use flowstate_example_api::{HrDataset, TlsServer, hr_router};
use serde_json::{Value, json};

use crate::server::{Server, call, create_hook, routed_to, start_with};

/// The example API's key, kept as the integration's secret: it must never reach the browser.
const SECRET: &str = "sk-console-7f3a9c1e5b";

/// Records the body of every response `fetch` gives the page (the console uses nothing
/// else), so a test can say what the browser received. Run by WebDriver, which CSP does
/// not govern; the page itself could not run it.
const RECORD_RESPONSES: &str = r#"
    if (!window.__responses) {
        window.__errors = [];
        window.addEventListener('error', (e) => window.__errors.push(String(e.message)));
        window.addEventListener('unhandledrejection', (e) => window.__errors.push(String(e.reason)));
        document.addEventListener('securitypolicyviolation', (e) => window.__errors.push(`CSP ${e.violatedDirective}: ${e.blockedURI}`));
        window.__responses = [];
        const original = window.fetch;
        window.fetch = async (...args) => {
            const response = await original(...args);
            try { window.__responses.push(await response.clone().text()); } catch (error) {}
            return response;
        };
    }
"#;

struct Console {
    server: Server,
    _api: TlsServer,
    browser: Browser,
    org: String,
    key: String,
    _directory: tempfile::TempDir,
}

impl Console {
    async fn start() -> Option<Console> {
        let browser = Browser::start().await?;
        let directory = tempfile::tempdir().unwrap();
        let router = hr_router(HrDataset::new(150, 20, SECRET));
        let (api, routing) = routed_to(router, "hr.example.com", directory.path()).await;
        let db = directory.path().join("flowstate.db").display().to_string();
        let server = start_with(&db, directory.path(), &routing);
        let (org, key) = server.first_start.clone().expect("a new database");
        Some(Console { server, _api: api, browser, org, key, _directory: directory })
    }

    async fn open(&self, hash: &str) {
        self.browser.client.goto(&format!("{}/{hash}", self.server.base)).await.unwrap();
        self.browser.script(RECORD_RESPONSES, vec![]).await;
    }

    /// axe-core finds no serious or critical violation, and the screen is photographed at
    /// both widths (`target/tmp/console/NAME-WIDTH.png`); the secret is not on it.
    async fn check_screen(&self, name: &str) {
        check_screen(&self.browser, name).await;
    }

    /// Puts `code` in the editor as a paste would (the editor's own bracket closing is for typing).
    async fn paste_code(&self, code: &str) {
        self.browser.find(".editor[data-ready=true]").await;
        let paste = r#"
            const content = document.querySelector('.editor').shadowRoot.querySelector('.cm-content');
            content.focus();
            document.execCommand('selectAll');
            document.execCommand('insertText', false, arguments[0]);
        "#;
        self.browser.script(paste, vec![json!(code)]).await;
    }

    async fn responses_received(&self) -> String {
        let seen = self.browser.script("return (window.__responses || []).join('\\n')", vec![]).await;
        seen.as_str().unwrap().to_string()
    }

    async fn heading(&self, text: &str) {
        self.browser.wait_for_text("h1", text, 10).await;
    }
}

/// The screen has no secret, no script error and no CSP violation; axe-core finds no
/// serious or critical violation; it is photographed at both widths
/// (`target/tmp/console/NAME-WIDTH.png`).
async fn check_screen(browser: &Browser, name: &str) {
    let html = browser.script("return document.documentElement.outerHTML", vec![]).await;
    assert!(!html.as_str().unwrap().contains(SECRET), "the secret is on the {name} screen");
    let errors = browser.script("return window.__errors || []", vec![]).await;
    assert_eq!(errors, json!([]), "script errors or CSP violations on the {name} screen");
    for size in [DESKTOP, PHONE] {
        browser.resize(size).await;
        let violations = axe(browser).await;
        assert_eq!(violations, json!([]), "accessibility of {name} at {} px", size.0);
        let shot = browser.client.screenshot().await.unwrap();
        std::fs::write(screenshots().join(format!("{name}-{}.png", size.0)), shot).unwrap();
    }
    browser.resize(DESKTOP).await;
}

async fn axe(browser: &Browser) -> Value {
    const AXE: &str = include_str!("../../../../console/tests/vendor/axe.min.js");
    let loaded = browser.script("return typeof window.axe", vec![]).await;
    if loaded != json!("object") {
        browser.script(&format!("{AXE}\nreturn true;"), vec![]).await;
    }
    let run = r#"
        const done = arguments[arguments.length - 1];
        axe.run(document, { resultTypes: ['violations'] }).then((results) => done(results.violations
            .filter((v) => v.impact === 'serious' || v.impact === 'critical')
            .map((v) => ({ id: v.id, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) }))));
    "#;
    browser.client.execute_async(run, vec![]).await.expect("axe runs")
}

fn screenshots() -> PathBuf {
    let directory = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("console");
    std::fs::create_dir_all(&directory).unwrap();
    directory
}

/// Waits (up to 10 s) until no table on the screen shows `text`.
async fn wait_until_gone(browser: &Browser, text: &str) {
    let tables = "return [...document.querySelectorAll('main table')].map((t) => t.innerText).join()";
    let gone = |shown: &Value| !shown.as_str().unwrap_or_default().contains(text);
    if !gone(&browser.wait_until(tables, 10, gone).await) {
        panic!("{text:?} is still shown: {}", browser.describe().await);
    }
}

const BROKEN_HOOK: &str =
    "async function run(ctx) {\n  const page = 1;\n  const broken = {;\n  return { records: [] };\n}\n";

const FAILING_HOOK: &str = "async function run(ctx) {\n  ctx.log.warn('about to fail');\n  const total = 1;\n  throw new Error('boom at line 4');\n}\n";

#[tokio::test(flavor = "multi_thread")]
async fn a_user_writes_runs_and_reads_a_hook_in_the_console() {
    let Some(console) = Console::start().await else { return };
    let browser = &console.browser;
    console.open("").await;

    // Sign in: a wrong key is refused with the API's message.
    browser.find("input[name=key]").await;
    console.check_screen("sign-in").await;
    browser.fill("input[name=key]", "private_0000_1111").await;
    browser.press("Sign in").await;
    browser.wait_for_text("[role=alert]", "send a live API key", 10).await;
    // By keyboard: the key typed, then Enter.
    browser.fill("input[name=key]", &console.key).await;
    browser.find("input[name=key]").await.click().await.unwrap();
    browser.key(Key::Enter).await;
    console.heading("Integrations").await;
    // A page loaded afresh starts at the top: Tab reaches "Skip to content" first, and Enter
    // moves focus into the screen.
    browser.client.refresh().await.unwrap();
    browser.script(RECORD_RESPONSES, vec![]).await;
    console.heading("Integrations").await;
    browser.key(Key::Tab).await;
    let focused = browser.script("return document.activeElement.textContent", vec![]).await;
    assert_eq!(focused, json!("Skip to content"));
    browser.key(Key::Enter).await;
    assert_eq!(browser.script("return document.activeElement.id", vec![]).await, json!("main"));
    browser.key(Key::Tab).await;
    let inside =
        browser.script("return document.getElementById('main').contains(document.activeElement)", vec![]).await;
    assert_eq!(inside, json!(true), "the next Tab stays in the screen");
    let stored = browser
        .script("return [sessionStorage.getItem('flowstate.key'), localStorage.length, location.href]", vec![])
        .await;
    assert_eq!(stored[0], json!(console.key), "kept for the tab");
    assert_eq!(stored[1], json!(0), "nothing in localStorage");
    assert!(!stored[2].as_str().unwrap().contains(&console.key), "never in a URL");
    console.check_screen("integrations").await;

    // An integration and its secret.
    browser.fill("input[name=name]", "People HR").await;
    browser.fill("input[name=sourceSystem]", "peoplehr").await;
    browser.press("Create integration").await;
    console.heading("People HR").await;
    browser.fill("input[name=secretName]", "api_key").await;
    browser.fill("input[name=secretValue]", SECRET).await;
    browser.press("Save secret").await;
    browser.wait_for_text("table", "set (hidden)", 10).await;
    assert_eq!(
        browser.script("return document.querySelector('input[name=secretValue]').value", vec![]).await,
        json!(""),
        "the form forgets the value once saved"
    );
    console.check_screen("integration").await;
    // Edited; a second secret added, then deleted (after the browser's confirmation).
    browser.fill("input[name=description]", "Payroll and people").await;
    browser.press("Save").await;
    browser.wait_for_text(".lead", "Payroll and people", 10).await;
    browser.fill("input[name=secretName]", "old_token").await;
    browser.fill("input[name=secretValue]", "old-token-value-1234").await;
    browser.press("Save secret").await;
    browser.wait_for_text("table", "old_token", 10).await;
    browser.press("Delete old_token").await;
    browser.client.accept_alert().await.unwrap();
    wait_until_gone(browser, "old_token").await;
    browser.wait_for_text("[role=status]", "Secret old_token deleted.", 10).await;

    // A PULL hook written in the editor: a syntax error first, marked at its line.
    browser.press("Add hook").await;
    console.heading("Add hook").await;
    browser.fill("input[name=name]", "employees").await;
    console.paste_code(BROKEN_HOOK).await;
    browser.press("Create hook").await;
    browser.wait_for_text(".error-line", "Line 3", 10).await;
    let marked = browser
        .script(
            "return [...document.querySelector('.editor').shadowRoot.querySelectorAll('.cm-line')].findIndex((l) => l.querySelector('.cm-lintRange-error, .cm-lintPoint-error')) + 1",
            vec![],
        )
        .await;
    assert_eq!(marked, json!(3), "the error is marked on line 3");
    console.check_screen("hook-new").await;
    let hook = std::fs::read_to_string(crate::examples("employees-cursor.js")).unwrap();
    console.paste_code(&hook).await;
    browser.press("Create hook").await;
    console.heading("employees").await;

    // A dry run first: what the sync would do, with nothing written.
    browser.press("Dry run").await;
    browser.wait_for_text(".plan", "nothing was written", 60).await;
    browser.wait_for_text(".plan .totals", "150 to create, 0 to update, 0 unchanged", 10).await;
    browser.wait_for_text("table.plan-records", "email", 10).await;
    console.check_screen("hook-dry-run").await;
    let (_, employees) =
        call(&console.server, &format!("/api/v1/org/{}/employees?limit=1", console.org), Some(&console.key)).await;
    assert_eq!(employees["meta"]["total"], 0, "a dry run writes nothing");

    // Run it and watch it succeed live, then its detail.
    browser.press("Run now").await;
    browser.wait_for_text("h1", "succeeded", 60).await;
    browser.wait_for_text("section", "Fetched 100 employees", 10).await;
    browser.wait_for_text("table.http", "https://hr.example.com/api/v1/employees", 10).await;
    let pages = browser.script("return document.querySelectorAll('#pages-title + div tbody tr').length", vec![]).await;
    assert_eq!(pages, json!(2), "150 employees, 100 a page");
    browser.wait_for_text(".facts", "150 created", 10).await;
    console.check_screen("execution").await;

    // The hook's executions, filtered by the URL.
    browser.press("Hook").await;
    console.heading("employees").await;
    browser.wait_for_text("table.executions", "succeeded", 10).await;
    console.check_screen("hook").await;
    browser.find("select[name=status]").await.select_by_label("failed").await.unwrap();
    browser.wait_for_text("section", "No executions match these filters", 10).await;
    let url = browser.client.current_url().await.unwrap().to_string();
    assert!(url.contains("status=failed"), "the filter is kept in the URL: {url}");

    // A failed execution: its stack opens the editor at the line that threw.
    let org_path = format!("/api/v1/org/{}", console.org);
    let (_, integrations) = call(&console.server, &format!("{org_path}/integrations"), Some(&console.key)).await;
    let integration = integrations["data"][0]["id"].as_str().unwrap().to_string();
    let body = json!({ "name": "failing", "type": "PULL", "entityType": "employee", "code": FAILING_HOOK });
    let failing = create_hook(&console.server, &org_path, &console.key, &integration, body).await;
    console.open(&format!("#/hooks/{failing}")).await;
    console.heading("failing").await;
    browser.press("Run now").await;
    browser.wait_for_text("h1", "failed", 60).await;
    browser.wait_for_text(".failure", "boom at line 4", 10).await;
    console.check_screen("execution-failed").await;
    browser.wait_for_text(".stack a", "failing.js:4", 10).await.click().await.unwrap();
    console.heading("failing").await;
    browser.find(".editor[data-ready=true]").await;
    let active = "return document.querySelector('.editor').shadowRoot.querySelector('.cm-activeLine')?.textContent";
    let at_line_4 = |line: &Value| line.as_str().is_some_and(|text| text.contains("boom at line 4"));
    let line = browser.wait_until(active, 5, at_line_4).await;
    assert!(at_line_4(&line), "the editor is at line 4: {line}");

    // A PUSH hook from its starting code (no schedule for PUSH: none is sent).
    console.open(&format!("#/integrations/{integration}/new-hook")).await;
    console.heading("Add hook").await;
    browser.fill("input[name=name]", "notify").await;
    browser.find("select[name=type]").await.select_by_label("PUSH: send changes out").await.unwrap();
    browser.find(".editor[data-ready=true]").await;
    // The editor shows the starting code the server gives for a PUSH hook.
    let shown = "return document.querySelector('.editor').shadowRoot.querySelector('.cm-content').textContent";
    let push_starter = |text: &Value| text.as_str().is_some_and(|code| code.contains("A PUSH hook"));
    let text = browser.wait_until(shown, 5, push_starter).await;
    assert!(push_starter(&text), "the PUSH starter: {text}");
    browser.press("Create hook").await;
    browser.wait_for_text("h1", "notify", 10).await;
    browser.wait_for_text("h1 .tag", "PUSH", 10).await;

    // A TypeScript hook: its starter in TypeScript, a type-only error marked at its line,
    // then saved.
    console.open(&format!("#/integrations/{integration}/new-hook")).await;
    console.heading("Add hook").await;
    browser.fill("input[name=name]", "typed").await;
    browser.find("select[name=language]").await.select_by_label("TypeScript").await.unwrap();
    let typed_starter =
        |text: &Value| text.as_str().is_some_and(|code| code.contains("async function run(ctx: import("));
    // The editor is made anew for TypeScript: read it once it is there.
    let shown_now = "return document.querySelector('.editor[data-ready=true]')?.shadowRoot?.querySelector('.cm-content')?.textContent ?? ''";
    let text = browser.wait_until(shown_now, 5, typed_starter).await;
    assert!(typed_starter(&text), "the TypeScript starter: {text}");
    console
        .paste_code(
            "async function run(ctx: unknown) {\n  const rows: Array<string = [];\n  return { records: rows };\n}\n",
        )
        .await;
    browser.press("Create hook").await;
    browser.wait_for_text(".error-line", "Line 2", 10).await;
    console.paste_code("interface Row { id: string }\nasync function run(ctx: unknown) {\n  const rows: Row[] = [];\n  return { records: rows };\n}\n").await;
    browser.press("Create hook").await;
    browser.wait_for_text("h1", "typed", 10).await;
    browser.wait_for_text("h1 .tag", "TypeScript", 10).await;
    console.check_screen("hook-typescript").await;

    // An integration deleted from its screen (after the browser's confirmation) is gone.
    browser.press("Integrations").await;
    console.heading("Integrations").await;
    browser.fill("input[name=name]", "Temporary").await;
    browser.fill("input[name=sourceSystem]", "temporary").await;
    browser.press("Create integration").await;
    console.heading("Temporary").await;
    browser.press("Delete integration").await;
    browser.client.accept_alert().await.unwrap();
    console.heading("Integrations").await;
    browser.wait_for_text("table", "People HR", 10).await;
    wait_until_gone(browser, "Temporary").await;

    // Nothing the browser received holds the secret; signing out forgets the key.
    let received = console.responses_received().await;
    assert!(received.contains("api_key"), "the recorder saw the secrets list: {received}");
    assert!(!received.contains(SECRET), "a response held the secret");
    browser.press("Sign out").await;
    browser.find("input[name=key]").await;
    let left = browser.script("return sessionStorage.length + localStorage.length", vec![]).await;
    assert_eq!(left, json!(0));
}

/// The demo's company in the console: people, positions and teams; a position filled from
/// the console moves the forecast and fires the PUSH hook.
#[tokio::test(flavor = "multi_thread")]
async fn the_demo_shows_people_positions_and_a_forecast_that_moves() {
    let Some(browser) = Browser::start().await else { return };
    let demo = crate::demo::Demo::start();
    browser.client.goto(&format!("{}/", demo.base)).await.unwrap();
    browser.script(RECORD_RESPONSES, vec![]).await;
    browser.fill("input[name=key]", &demo.key).await;
    browser.press("Sign in").await;
    browser.wait_for_text("h1", "Integrations", 10).await;

    // People: employees, searched; contractors; teams as a tree.
    browser.press("People").await;
    browser.wait_for_text("table.people", "Grace Thompson", 10).await;
    check_screen(&browser, "people-employees").await;
    browser.fill("input[name=search]", "Lovelace").await;
    browser.press("Search").await;
    browser.wait_for_text("h1", "People", 10).await;
    let rows = wait_rows(&browser, |rows| !rows.is_empty() && rows.iter().all(|row| row.contains("Lovelace"))).await;
    assert!(!rows.is_empty(), "{rows:?}");
    browser.press("Contractors").await;
    browser.wait_for_text("table.people", "EUR daily", 10).await;
    check_screen(&browser, "people-contractors").await;
    browser.press("Teams").await;
    let nested = browser.wait_for_text("ul.tree ul.tree li", "Platform", 10).await;
    let parent = browser
        .script(
            "return arguments[0].parentElement.closest('li').querySelector('.team').textContent",
            vec![serde_json::to_value(&nested).unwrap()],
        )
        .await;
    assert_eq!(parent, json!("Engineering"), "Platform sits under Engineering");
    check_screen(&browser, "teams").await;

    // Positions: filled ones are hidden until asked for; a filled one says who and until when.
    browser.press("Positions").await;
    browser.wait_for_text("table.people", "P-003", 10).await;
    let shown = browser.script("return document.querySelector('table.people').innerText", vec![]).await;
    assert!(!shown.as_str().unwrap().contains("P-001"), "a filled position is hidden by default");
    browser.click_label("Show filled").await;
    let filled = browser.wait_for_text("table.people tr", "P-001", 10).await;
    let text = filled.text().await.unwrap();
    assert!(text.contains("(employee), until"), "who and until when: {text}");
    check_screen(&browser, "positions").await;

    // The forecast before the fill.
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    browser.press("Forecast").await;
    browser.find(".chart[data-ready=true]").await;
    browser.wait_for_text("table.forecast", "Support", 10).await;
    check_screen(&browser, "forecast").await;
    let before = total_row(&browser).await;
    assert!(browser.script("return document.querySelector('.chart svg') !== null", vec![]).await == json!(true));
    browser.wait_for_text(".not-costed", "no salary range", 10).await;
    // Each amount opens its lines.
    browser.find("table.forecast tbody tr button.cell").await.click().await.unwrap();
    browser.wait_for_text("#lines-title", &month, 10).await;
    check_screen(&browser, "forecast-lines").await;

    // Fill an open position with a well-paid employee from today: the forecast moves.
    browser.press("People").await;
    browser.press("Positions").await;
    browser.wait_for_text("table.people tr", "P-003", 10).await;
    browser.script("[...document.querySelectorAll('table.people tr')].find((row) => row.innerText.includes('P-003')).querySelector('a').click()", vec![]).await;
    browser.wait_for_text("h2", "Fill this position", 10).await;
    browser.fill("input[name=firstName]", "Margaret").await;
    browser.fill("input[name=lastName]", "Hamilton").await;
    browser.fill("input[name=email]", "margaret.hamilton@acme.example").await;
    browser.fill("input[name=salary]", "250000").await;
    check_screen(&browser, "position-fill").await;
    browser.press("Fill position").await;
    browser.wait_for_text("dd", "Margaret Hamilton", 10).await;
    browser.wait_for_text("h1 .tag", "filled", 10).await;
    browser.press("Forecast").await;
    browser.find(".chart[data-ready=true]").await;
    let after = total_row(&browser).await;
    assert_ne!(before, after, "the forecast moved");
    assert!(parse_amount(&after[0]) > parse_amount(&before[0]), "{before:?} → {after:?}");

    // The fill was an update of the vacancy: the PUSH hook sent it.
    browser.press("Integrations").await;
    browser.press("Acme HR").await;
    browser.press("vacancy changes").await;
    browser.wait_for_text("table.executions", "succeeded", 30).await;
    let received = browser.script("return (window.__responses || []).join('\\n')", vec![]).await;
    assert!(!received.as_str().unwrap().contains("acme-demo-key"), "the demo's secret never reaches the browser");
}

/// The forecast's total row, month by month.
async fn total_row(browser: &Browser) -> Vec<String> {
    let cells = browser
        .script(
            "return [...document.querySelectorAll('table.forecast tr.total td')].map((cell) => cell.innerText.trim())",
            vec![],
        )
        .await;
    serde_json::from_value(cells).unwrap()
}

fn parse_amount(text: &str) -> f64 {
    text.replace(',', "").parse().unwrap()
}

/// The people table's rows once `ready` says so (up to 10 s).
async fn wait_rows(browser: &Browser, ready: impl Fn(&[String]) -> bool) -> Vec<String> {
    let rows = "return [...document.querySelectorAll('table.people tbody tr')].map((row) => row.innerText)";
    let parse = |found: &Value| serde_json::from_value::<Vec<String>>(found.clone()).unwrap();
    parse(&browser.wait_until(rows, 10, |found| ready(&parse(found))).await)
}
