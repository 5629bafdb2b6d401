//! A real browser for the console's tests: Debian's `chromium`, headless, driven over
//! WebDriver by `chromedriver` on a random port, with a fresh profile.
//!
//! Without a browser the tests say loudly that they skipped; under `CI` they fail instead
//! (`.ci/run` installs `chromium` and `chromium-driver`).

use std::{
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use fantoccini::{Client, ClientBuilder, Locator, elements::Element};
use serde_json::{Value, json};

/// The two widths every screen is checked and photographed at.
pub(crate) const DESKTOP: (u32, u32) = (1280, 800);
pub(crate) const PHONE: (u32, u32) = (390, 844);

pub(crate) struct Browser {
    pub(crate) client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn find(variable: &str, candidates: &[&str]) -> Option<PathBuf> {
    if let Ok(path) = std::env::var(variable) {
        return Some(PathBuf::from(path));
    }
    candidates.iter().map(PathBuf::from).find(|path| path.exists())
}

impl Browser {
    /// A browser, or `None` (having said why) when this machine has none and `CI` is unset.
    pub(crate) async fn start() -> Option<Browser> {
        let driver = find("FLOWSTATE_CHROMEDRIVER", &["/usr/bin/chromedriver"]);
        let chromium = find("FLOWSTATE_CHROMIUM", &["/usr/bin/chromium", "/usr/bin/chromium-browser"]);
        let (Some(driver), Some(chromium)) = (driver, chromium) else {
            let message = "the console's browser tests need chromium and chromedriver \
                (apt-get install chromium chromium-driver, or FLOWSTATE_CHROMIUM and FLOWSTATE_CHROMEDRIVER)";
            assert!(std::env::var_os("CI").is_none(), "{message}; CI is set, so this fails");
            eprintln!("\n######## SKIPPED: {message} ########\n");
            return None;
        };
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().unwrap();
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": chromium,
                // As root in a sandbox, on a closed network (see ../shared/notes/dependencies.md).
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", format!("--user-data-dir={}", profile.path().display()),
                    format!("--window-size={},{}", DESKTOP.0, DESKTOP.1),
                ],
            },
            "goog:loggingPrefs": { "browser": "ALL" },
        });
        let Value::Object(capabilities) = capabilities else { unreachable!() };
        let started = Instant::now();
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(capabilities.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(client) => break client,
                Err(error) if started.elapsed() < Duration::from_secs(20) => {
                    let _ = error;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(error) => panic!("no WebDriver session: {error}"),
            }
        };
        Some(Browser { client, driver, _profile: profile })
    }

    /// The element `css` matches, waiting up to 10 s for it to appear.
    pub(crate) async fn find(&self, css: &str) -> Element {
        match self.client.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(css)).await {
            Ok(element) => element,
            Err(error) => panic!("no {css} on {}: {error}", self.describe().await),
        }
    }

    /// Waits up to `seconds` for `css` to hold an element whose text contains `text`.
    pub(crate) async fn wait_for_text(&self, css: &str, text: &str, seconds: u64) -> Element {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        loop {
            if let Ok(elements) = self.client.find_all(Locator::Css(css)).await {
                for element in elements {
                    if element.text().await.is_ok_and(|shown| shown.contains(text)) {
                        return element;
                    }
                }
            }
            assert!(Instant::now() < deadline, "no {css} with {text:?} on {}", self.describe().await);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Clicks the button (or link) whose name is `text`: its `aria-label` or its text (one
    /// saying exactly that, else the first containing it).
    pub(crate) async fn press(&self, text: &str) {
        let labelled = format!("button[aria-label='{text}'], a[aria-label='{text}']");
        if let Ok(element) = self.client.find(Locator::Css(&labelled)).await {
            return self.click(element, &format!("pressing {text:?}")).await;
        }
        self.wait_for_text("button, a", text, 10).await;
        let mut element = None;
        for candidate in self.client.find_all(Locator::Css("button, a")).await.unwrap() {
            let shown = candidate.text().await.unwrap_or_default();
            if shown.trim() == text {
                element = Some(candidate);
                break;
            }
            if element.is_none() && shown.contains(text) {
                element = Some(candidate);
            }
        }
        let element = element.unwrap_or_else(|| panic!("no button or link says {text:?}"));
        self.click(element, &format!("pressing {text:?}")).await;
    }

    /// Clicks the label whose text is `text` (a checkbox's, say).
    pub(crate) async fn click_label(&self, text: &str) {
        let label = self.wait_for_text("label", text, 10).await;
        self.click(label, &format!("clicking the label {text:?}")).await;
    }

    /// Clicks `element`; failing, says `what` and saves what the browser shows.
    async fn click(&self, element: Element, what: &str) {
        if let Err(error) = element.click().await {
            panic!("{what}: {error} (the page: {})", self.photograph_failure().await);
        }
    }

    /// Runs `script` until its answer satisfies `ready`, for up to `seconds`; the last answer.
    pub(crate) async fn wait_until(&self, script: &str, seconds: u64, ready: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        loop {
            let answer = self.script(script, vec![]).await;
            if ready(&answer) || Instant::now() >= deadline {
                return answer;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Presses `key` as a keyboard does: on whatever has the focus.
    pub(crate) async fn key(&self, key: fantoccini::key::Key) {
        use fantoccini::actions::{InputSource, KeyAction, KeyActions};
        let value: char = key.into();
        let actions = KeyActions::new("keyboard".into()).then(KeyAction::Down { value }).then(KeyAction::Up { value });
        self.client.perform_actions(actions).await.unwrap();
    }

    pub(crate) async fn fill(&self, css: &str, value: &str) {
        let input = self.find(css).await;
        input.clear().await.unwrap();
        input.send_keys(value).await.unwrap();
    }

    pub(crate) async fn script(&self, code: &str, args: Vec<Value>) -> Value {
        self.client.execute(code, args).await.unwrap_or_else(|error| panic!("running {code}: {error}"))
    }

    /// The page's address and visible text, for a failure message.
    pub(crate) async fn describe(&self) -> String {
        let url = self.client.current_url().await.map(|url| url.to_string()).unwrap_or_default();
        let text = self.script("return document.body.innerText", vec![]).await;
        let errors = self
            .script(
                "return JSON.stringify([window.__errors, performance.getEntriesByType('navigation').map(e => e.type)])",
                vec![],
            )
            .await;
        format!("{url}\n---\n{}\n---\nerrors: {errors}", text.as_str().unwrap_or_default())
    }

    /// Saves what the browser shows to `target/tmp/console/failure.png`; its path.
    pub(crate) async fn photograph_failure(&self) -> String {
        let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("console/failure.png");
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::create_dir_all(path.parent().unwrap());
            let _ = std::fs::write(&path, png);
        }
        path.display().to_string()
    }

    pub(crate) async fn resize(&self, (width, height): (u32, u32)) {
        self.client.set_window_size(width, height).await.unwrap();
    }
}
