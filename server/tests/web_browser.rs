//! The web pages in a real browser: the real server binary on a loopback port,
//! seeded over HTTP, every page loaded in headless Chromium through
//! chromedriver's W3C WebDriver API — visible text checked, the search form
//! filled in, submitted and paginated, no console errors, and a screenshot of
//! each page saved under `target/tmp/web-screenshots/`.
//!
//! Needs Debian's `chromium` and `chromium-driver`; without them the test says
//! SKIPPED and passes.

mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use glassbox_core::statement::Role;
use serde_json::{json, Value};
use support::*;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A child process killed when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_server(data: &Path) -> (Proc, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_glassbox-server"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--batch-interval-ms",
            "5",
            "--data",
        ])
        .arg(data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let proc = Proc(child);
    let base = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|l| l.strip_prefix("listening on ").map(str::to_string))
        .expect("server printed its address");
    (proc, base)
}

fn post(base: &str, env: &glassbox_core::dsse::Envelope) {
    ureq::post(&format!("{base}/api/v1/entries"))
        .header("content-type", "application/json")
        .send(&body(env)[..])
        .unwrap();
}

/// A WebDriver session on a local chromedriver.
struct Driver {
    url: String,
    _proc: Proc,
}

impl Driver {
    fn start(profile: &Path) -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let proc = Proc(
            Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while ureq::get(&format!("{base}/status")).call().is_err() {
            assert!(Instant::now() < deadline, "chromedriver never became ready");
            std::thread::sleep(Duration::from_millis(50));
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless", "--no-sandbox", "--disable-gpu",
                         "--disable-background-networking", "--disable-component-update",
                         "--no-first-run", "--window-size=1100,1400",
                         format!("--user-data-dir={}", profile.display())],
            },
            "goog:loggingPrefs": {"browser": "ALL"},
        }}});
        let session = call("POST", &format!("{base}/session"), Some(caps));
        let id = session["sessionId"]
            .as_str()
            .expect("session id")
            .to_string();
        Driver {
            url: format!("{base}/session/{id}"),
            _proc: proc,
        }
    }

    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        call(method, &format!("{}{path}", self.url), body)
    }

    fn go(&self, url: &str) {
        self.cmd("POST", "/url", Some(json!({ "url": url })));
    }

    fn current_url(&self) -> String {
        self.cmd("GET", "/url", None).as_str().unwrap().to_string()
    }

    fn find(&self, css: &str) -> String {
        let v = self.cmd(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {v}"))
            .to_string()
    }

    fn text(&self, css: &str) -> String {
        let id = self.find(css);
        self.cmd("GET", &format!("/element/{id}/text"), None)
            .as_str()
            .unwrap()
            .to_string()
    }

    fn click(&self, css: &str) {
        let id = self.find(css);
        self.cmd("POST", &format!("/element/{id}/click"), Some(json!({})));
    }

    /// Clicks what navigates away from the current page, then waits (with a deadline) until
    /// the browser is on a page whose URL satisfies `arrived` and whose document has loaded.
    /// A WebDriver click returns before a form submission's navigation has necessarily begun.
    fn click_and_wait(&self, css: &str, arrived: impl Fn(&str) -> bool) -> String {
        self.click(css);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let url = self.current_url();
            let ready = self.cmd(
                "POST",
                "/execute/sync",
                Some(json!({"script": "return document.readyState;", "args": []})),
            );
            if arrived(&url) && ready == json!("complete") {
                return url;
            }
            assert!(
                Instant::now() < deadline,
                "after clicking {css}: still on {url} ({ready})"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css);
        self.cmd(
            "POST",
            &format!("/element/{id}/value"),
            Some(json!({ "text": text })),
        );
    }

    fn screenshot(&self, dir: &Path, name: &str) {
        let png = self.cmd("GET", "/screenshot", None);
        let bytes = STANDARD.decode(png.as_str().unwrap()).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), bytes).unwrap();
    }

    /// Console messages of level SEVERE since the last call.
    fn console_errors(&self) -> Vec<String> {
        self.cmd("POST", "/se/log", Some(json!({"type": "browser"})))
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|e| e["level"] == "SEVERE")
                    .map(|e| e["message"].to_string())
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = ureq::delete(&self.url).call();
    }
}

fn call(method: &str, url: &str, body: Option<Value>) -> Value {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut resp = match (method, body) {
        ("POST", b) => agent.post(url).send_json(b.unwrap_or(json!({}))),
        ("DELETE", _) => agent.delete(url).call(),
        _ => agent.get(url).call(),
    }
    .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let v: Value = resp.body_mut().read_json().unwrap();
    assert!(resp.status().is_success(), "{method} {url}: {}", v["value"]);
    v["value"].clone()
}

#[test]
fn pages_render_search_submits_and_paginates_in_headless_chromium() {
    if !Path::new(CHROMIUM).exists() || !Path::new(CHROMEDRIVER).exists() {
        eprintln!(
            "SKIPPED: {CHROMIUM} or {CHROMEDRIVER} missing (apt-get install -y chromium chromium-driver)"
        );
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let (_server, base) = start_server(&data);
    let operator_key = glassbox_keys::load_signing_key(&data.join("operator.pem")).unwrap();
    let operator = Participant {
        id: glassbox_core::digest::key_id_hex(&operator_key.verifying_key()),
        key: operator_key,
    };
    let (vendor, reviewer, builder) = (participant(2), participant(3), participant(4));
    // Entries are numbered by the order they are sent (the server logs the genesis,
    // 0, itself); one at a time, each is a batch that the log's index commitment
    // ends, so entry k is at index one_per_batch(k).
    post(&base, &register(&operator, &vendor, &[Role::Vendor])); // 1
    post(&base, &register(&operator, &reviewer, &[Role::Reviewer])); // 2
    post(&base, &register(&operator, &builder, &[Role::Builder])); // 3
    let repo = "https://git.example/<script>alert(1)</script>";
    post(&base, &submission(&vendor, repo, 1, "1.0")); // 4
    post(&base, &review(&reviewer, repo, 1)); // 5
    post(&base, &build(&vendor, "app.bin", repo, 1)); // 6
    post(&base, &build(&builder, "app.bin", repo, 1)); // 7
    post(
        &base,
        &submission(&vendor, "https://git.example/next", 2, "2.0"),
    ); // 8
    for i in 0..30 {
        // 9..=38: enough builds for two pages of search results.
        post(&base, &build(&builder, &format!("lib{i}.so"), repo, 1));
    }

    let size = one_per_batch(39);
    let submission_entry = one_per_batch(4);
    let shots: PathBuf = Path::new(env!("CARGO_TARGET_TMPDIR")).join("web-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let driver = Driver::start(&tmp.path().join("chromium-profile"));
    let pages = [
        (
            "home",
            "/".to_string(),
            vec![
                "Glassbox transparency log".to_string(),
                format!("{size} entries"),
                "No witnesses are configured".into(),
                "Latest entries".into(),
            ],
        ),
        (
            "artifact",
            format!("/artifact/{}", artifact("app.bin")),
            vec![
                "Builds (2)".into(),
                "name the same source".into(),
                "glassbox verify app.bin".into(),
                "approved".into(),
            ],
        ),
        (
            "source",
            format!("/source/{}", dir_hash(1)),
            vec![
                "Vendor submissions (1)".into(),
                "Reviews (1)".into(),
                "https://git.example/<script>alert(1)</script>".into(),
            ],
        ),
        (
            "unreviewed",
            "/sources/unreviewed".to_string(),
            vec!["1 source awaiting approval".into(), "2.0".into()],
        ),
        (
            "key",
            format!("/key/{}", builder.id),
            vec![
                "Registration".into(),
                "builder".into(),
                "Not revoked.".into(),
            ],
        ),
        (
            "entry",
            format!("/entry/{submission_entry}"),
            vec![
                format!("Entry {submission_entry}"),
                "Inclusion proof".into(),
                "Download the tlog-proof file".into(),
                "source-submission/v1".into(),
            ],
        ),
        (
            "checkpoints",
            "/checkpoints".to_string(),
            vec!["Checkpoints".into(), "Signed checkpoints".into()],
        ),
        (
            "not-found",
            format!("/key/{}", "cd".repeat(32)),
            vec!["Not found".into(), "is not registered".into()],
        ),
    ];
    for (name, path, expect) in &pages {
        driver.go(&format!("{base}{path}"));
        let text = driver.text("body");
        for want in expect {
            assert!(
                text.contains(want.as_str()),
                "{path}: {want:?} not visible in:\n{text}"
            );
        }
        // The hostile repository URL is shown as text; no script ran to replace it.
        driver.screenshot(&shots, name);
        let errors = driver.console_errors();
        // The 404 page's status is logged by Chromium as a failed resource load.
        let errors: Vec<_> = errors
            .into_iter()
            .filter(|e| !(name == &"not-found" && e.contains("404")))
            .collect();
        assert!(errors.is_empty(), "{path}: console errors {errors:?}");
    }

    // Fill in the search form, submit it, follow the next-page link.
    driver.go(&format!("{base}/search"));
    driver.type_into("#f-signer", &builder.id);
    driver.click("#f-kind option[value=build]");
    let url = driver.click_and_wait("form.search button[type=submit]", |url| url.contains('?'));
    assert!(
        url.contains("kind=build") && url.contains(&builder.id),
        "{url}"
    );
    let first = driver.text("main");
    assert!(first.contains("25 entries"), "{first}");
    assert!(!first.contains("lib29.so"), "{first}");
    driver.screenshot(&shots, "search");
    driver.click_and_wait("a[rel=next]", |url| url.contains("cursor="));
    let second = driver.text("main");
    assert!(
        second.contains("(continued)") && second.contains("lib29.so"),
        "{second}"
    );
    assert!(!second.contains("Next page"), "{second}");
    driver.screenshot(&shots, "search-page-2");
    assert!(driver.console_errors().is_empty());

    // A phone-sized window still shows the home page without sideways scrolling.
    driver.cmd(
        "POST",
        "/window/rect",
        Some(json!({"width": 390, "height": 844})),
    );
    driver.go(&format!("{base}/"));
    let overflow = driver.cmd(
        "POST",
        "/execute/sync",
        Some(json!({"script": "return document.documentElement.scrollWidth <= window.innerWidth + 1;", "args": []})),
    );
    driver.screenshot(&shots, "home-phone");
    assert_eq!(
        overflow,
        json!(true),
        "home page scrolls sideways on a phone"
    );
    eprintln!("screenshots in {}", shots.display());
}
