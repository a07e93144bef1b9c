//! The web pages in a real browser: Debian's headless chromium driven through chromedriver
//! over WebDriver, with a client of our own (plain HTTP over `TcpStream` and serde_json, the
//! way `http` speaks to the server). Screenshots of each page go to
//! `target/browser-artifacts/` for people to look at.
//!
//! It needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian's `chromium` and
//! `chromium-driver`; nothing is downloaded) and is skipped with a notice without them, except
//! on CI (`CI=true`), where that fails; `.ci/run` installs them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde_json::{Value, json};

use crate::backends;
use crate::http::{Server, token};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// WebDriver's key for an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Whether the browser is installed; a missing one skips the test, except on CI.
#[expect(clippy::print_stderr, reason = "a skipped test is said on the test's stderr")]
pub(crate) fn browser_is_installed() -> bool {
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{CHROMIUM} or {CHROMEDRIVER} is missing: apt-get install chromium chromium-driver"
    );
    eprintln!("skipping the browser test: apt-get install chromium chromium-driver");
    false
}

/// Where screenshots go: `target/browser-artifacts/`.
fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR is inside the target directory")
        .join("browser-artifacts");
    std::fs::create_dir_all(&dir).expect("the artifacts directory");
    dir
}

/// A chromedriver process and one headless chromium session, both ended when dropped.
pub(crate) struct Browser {
    driver: Child,
    address: String,
    session: String,
    /// The profile directory, fresh for each browser.
    _profile: tempfile::TempDir,
}

impl Browser {
    pub(crate) fn start() -> Browser {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let address = format!("127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if TcpStream::connect(&address).is_ok()
                && webdriver_send(&address, "GET", "/status", "").0 == 200
            {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver did not answer on {address}");
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir().expect("a profile directory");
        let args = [
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-quic".to_owned(),
            "--hide-scrollbars".to_owned(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
        }}});
        let mut browser = Browser { driver, address, session: String::new(), _profile: profile };
        let created = browser.call("POST", "/session", Some(&capabilities));
        browser.session = created["sessionId"].as_str().expect("a session id").to_owned();
        browser
    }

    /// One WebDriver command; its `value`, or a panic naming the WebDriver error.
    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let body = body.map(Value::to_string).unwrap_or_default();
        let (status, text) = webdriver_send(&self.address, method, path, &body);
        let answer: Value = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("{method} {path}: {status} {text}"));
        assert_eq!(status, 200, "{method} {path}: {answer}");
        answer["value"].clone()
    }

    pub(crate) fn session_call(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        self.call(method, &format!("/session/{}{path}", self.session), body)
    }

    pub(crate) fn resize(&self, width: u32, height: u32) {
        self.session_call(
            "POST",
            "/window/rect",
            Some(&json!({ "width": width, "height": height })),
        );
    }

    /// A browser 1280 pixels wide and `height` high, on the server's `/healthz` with
    /// `cookies` set on its origin (for every path, HTTP-only), as signing in sets them.
    pub(crate) fn with_cookies(server: &Server, height: u32, cookies: &[(&str, &str)]) -> Browser {
        let browser = Browser::start();
        browser.resize(1280, height);
        browser.go(&format!("http://{}/healthz", server.address));
        for (name, value) in cookies {
            browser.session_call(
                "POST",
                "/cookie",
                Some(&json!({ "cookie": {
                    "name": name, "value": value, "path": "/", "httpOnly": true,
                }})),
            );
        }
        browser
    }

    pub(crate) fn go(&self, url: &str) {
        self.session_call("POST", "/url", Some(&json!({ "url": url })));
    }

    /// The elements `css` selects, as WebDriver references.
    pub(crate) fn find_all(&self, css: &str) -> Vec<String> {
        let found = self.session_call(
            "POST",
            "/elements",
            Some(&json!({ "using": "css selector", "value": css })),
        );
        found
            .as_array()
            .expect("a list of elements")
            .iter()
            .map(|element| element[ELEMENT].as_str().expect("an element reference").to_owned())
            .collect()
    }

    /// The rendered text of the first element `css` selects.
    pub(crate) fn text(&self, css: &str) -> String {
        let element = self.find_all(css).into_iter().next().unwrap_or_else(|| panic!("no {css}"));
        let text = self.session_call("GET", &format!("/element/{element}/text"), None);
        text.as_str().expect("text").to_owned()
    }

    /// The `textContent` of each element `css` selects (for what is not rendered, such as
    /// an SVG `<title>`).
    pub(crate) fn contents(&self, css: &str) -> Vec<String> {
        self.find_all(css)
            .iter()
            .map(|element| {
                let content = self.session_call(
                    "GET",
                    &format!("/element/{element}/property/textContent"),
                    None,
                );
                content.as_str().unwrap_or_default().to_owned()
            })
            .collect()
    }

    /// Saves a PNG of the viewport as `target/browser-artifacts/NAME.png`.
    pub(crate) fn screenshot(&self, name: &str) -> PathBuf {
        let encoded = self.session_call("GET", "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().expect("base64 text"))
            .expect("a base64 PNG");
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        let path = artifacts().join(format!("{name}.png"));
        std::fs::write(&path, png).expect("the screenshot is written");
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let path = format!("/session/{}", self.session);
            let _ = webdriver_send(&self.address, "DELETE", &path, "");
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// One request to chromedriver: the status and the body. chromedriver may keep the
/// connection open whatever `Connection` says, so the body is read to its `Content-Length`
/// rather than to the end of the stream.
fn webdriver_send(address: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(address).expect("connect to chromedriver");
    stream.set_read_timeout(Some(Duration::from_secs(120))).expect("timeout");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\
         Content-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("send to chromedriver");
    let mut reader = BufReader::new(stream);
    let mut status_line = String::new();
    reader.read_line(&mut status_line).expect("a status line");
    let status = status_line.split_whitespace().nth(1).and_then(|code| code.parse().ok());
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).expect("a header line");
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().expect("a length");
        }
    }
    let mut bytes = vec![0; length];
    reader.read_exact(&mut bytes).expect("the body");
    (status.unwrap_or(0), String::from_utf8_lossy(&bytes).into_owned())
}

const DOCUMENTS: &str = r"apiVersion: accord/v1
kind: Service
metadata: { name: hosting, title: Cloud hosting, description: Virtual machines and their storage }
spec:
  components: [{ name: compute }, { name: storage }]
---
apiVersion: accord/v1
kind: Service
metadata: { name: email, title: Managed e-mail }
spec: {}
---
apiVersion: accord/v1
kind: Customer
metadata: { name: acme }
spec: { timeZone: UTC }
---
apiVersion: accord/v1
kind: MaintenanceWindow
metadata: { name: patching, title: Weekly patching }
spec:
  services: [hosting]
  components: [storage]
  timeZone: UTC
  start: 2026-01-04T02:00
  duration: 2h
  rrule: FREQ=WEEKLY
---
apiVersion: accord/v1
kind: Agreement
metadata: { name: sla }
spec:
  type: sla
  level: corporate
  parties: { provider: Northwind }
  term: { effectiveFrom: 2026-01-01, timeZone: UTC, review: { next: 2030-06-01 } }
  objectives:
    availability:
      - name: hosting
        service: hosting
        target: 99.9
        window: month
        source: incidents
      - name: compute
        service: hosting
        component: compute
        target: 99.9
        window: month
        source: incidents
      - name: email
        service: email
        target: 99.9
        window: month
        source: incidents
";

/// The instant `offset_seconds` from now, as RFC 3339 in UTC.
fn utc(offset_seconds: i64) -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_secs();
    let at = i64::try_from(now).expect("a plausible clock") + offset_seconds;
    jiff::Timestamp::from_second(at).expect("in range").to_string()
}

/// A server with the documents applied, the agreement active, an incident of an hour two
/// days ago, and the compute component down now.
fn server_with_an_outage(backend: &crate::Backend) -> Server {
    let api = Server::start(backend);
    let editor = token(backend, "editor", "agent", &[]);
    let bearer = format!("Bearer {editor}");
    let applied = api.send(
        "POST",
        "/api/v1/agreements/apply",
        &[("Authorization", &bearer), ("Content-Type", "text/yaml")],
        DOCUMENTS.as_bytes(),
    );
    assert_eq!(applied.status, 200, "{}", applied.body);
    for action in ["submit", "approve", "activate"] {
        let body = json!({ "action": action, "revision": 1 });
        let moved = api.post("/api/v1/agreements/sla/lifecycle", &editor, &body);
        assert_eq!(moved.status, 200, "{}", moved.body);
    }
    // 10:00 to 11:00 UTC two days ago: within one day whatever the time now.
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_secs();
    let since_midnight = i64::try_from(now % 86_400).expect("less than a day");
    let day_before_yesterday = -since_midnight - 2 * 86_400 + 10 * 3600;
    let incidents = json!([
        { "id": "INC-1", "start": utc(day_before_yesterday), "end": utc(day_before_yesterday + 3600),
          "affected": ["hosting/compute"], "impact": "major", "cause": "Hypervisor crash" },
        { "id": "INC-2", "start": utc(-600), "affected": ["hosting/compute"], "impact": "major",
          "cause": "Compute nodes unreachable in one zone" },
    ]);
    let posted = api.post("/api/v1/incidents", &editor, &incidents);
    assert_eq!(posted.status, 200, "{}", posted.body);
    api
}

#[test]
fn the_status_page_renders_without_login_and_switches_to_chinese() {
    if !browser_is_installed() {
        return;
    }
    for backend in backends("browser_status") {
        let api = server_with_an_outage(&backend);
        let browser = Browser::start();
        browser.resize(1280, 2000);
        let page = format!("http://{}/status", api.address);
        browser.go(&page);

        assert_eq!(browser.text("h1"), "Status of Northwind");
        assert_eq!(browser.text(".banner"), "Some systems are having problems");
        let names = browser.contents(".row .name");
        assert_eq!(names, ["Managed e-mail", "Cloud hosting", "compute", "storage"]);
        let states = browser.contents(".row .state");
        assert_eq!(states, ["Operational", "Major outage", "Major outage", "Operational"]);
        // Every row has 90 bars, each titled with its date and its exact figure.
        let bars = browser.find_all(".row:nth-child(3) svg.bars rect");
        assert_eq!(bars.len(), 90);
        let titles = browser.contents(".row:nth-child(3) svg.bars rect title");
        let today = titles.last().expect("today's bar");
        assert!(today.contains(": ") && today.ends_with(" %"), "{today}");
        // An hour down of 24: 95.8333 %, rounded down.
        assert!(titles[87].ends_with(": 95.833 %"), "{titles:?}");
        // Storage has no objective of its own: no figures.
        let storage = browser.contents(".row:nth-child(4) svg.bars rect title");
        assert!(storage.iter().all(|title| title.ends_with(": no data")), "{storage:?}");
        // Email saw nothing go wrong: 100 % on each day it was measured.
        let email = browser.contents(".row:nth-child(1) svg.bars rect title");
        assert!(email.iter().filter(|title| title.ends_with("100.000 %")).count() >= 2);
        assert!(browser.text(".incident h3").contains("Compute nodes unreachable"));
        assert!(browser.text(".maintenance h3").contains("Weekly patching"));
        assert!(browser.text(".foot").contains("UTC"), "the zone is named");
        browser.screenshot(&format!("status-en-{}", backend_name(&backend)));

        // The language switch, and the zone, are remembered.
        browser.go(&format!("{page}?lang=zh-CN&tz=Asia/Shanghai"));
        assert_eq!(browser.text("h1"), "Northwind 服务状态");
        assert_eq!(browser.text(".banner"), "部分系统出现问题");
        assert!(browser.text(".foot").contains("Asia/Shanghai"));
        let titles = browser.contents(".row:nth-child(3) svg.bars rect title");
        assert!(titles.iter().any(|title| title.contains("年") && title.ends_with("95.833%")));
        browser.screenshot(&format!("status-zh-CN-{}", backend_name(&backend)));
        browser.go(&page);
        assert_eq!(browser.text("h1"), "Northwind 服务状态", "the cookie keeps the language");
        browser.resize(390, 1400);
        browser.screenshot(&format!("status-zh-CN-phone-{}", backend_name(&backend)));
    }
}

#[test]
fn the_status_page_follows_accept_language_over_plain_http() {
    for backend in backends("browser_accept_language") {
        let api = Server::start(&backend);
        let chinese =
            api.send("GET", "/status", &[("Accept-Language", "en;q=0.5, zh-CN;q=0.9")], b"");
        assert_eq!(chinese.status, 200, "{}", chinese.body);
        assert_eq!(chinese.header("content-type"), Some("text/html; charset=utf-8"));
        assert!(chinese.body.contains("<html lang=\"zh-CN\">"), "{}", chinese.body);
        assert!(chinese.body.contains("所有系统运行正常"), "{}", chinese.body);
        assert!(chinese.body.contains("尚未发布任何服务"));
        let english = api.send("GET", "/status", &[("Accept-Language", "de, en;q=0.8")], b"");
        assert!(english.body.contains("All systems operational"), "{}", english.body);
        // The query wins and is remembered in a cookie.
        let chosen = api.send("GET", "/status?lang=zh-CN", &[("Accept-Language", "en")], b"");
        assert!(chosen.body.contains("所有系统运行正常"));
        assert!(
            chosen.header("set-cookie").is_some_and(|cookie| cookie.starts_with("lang=zh-CN;"))
        );
        let remembered = api.send("GET", "/status", &[("Cookie", "lang=zh-CN")], b"");
        assert!(remembered.body.contains("所有系统运行正常"));
    }
}

pub(crate) fn backend_name(backend: &crate::Backend) -> &'static str {
    match backend {
        crate::Backend::Sqlite(_) => "sqlite",
        crate::Backend::Postgres { .. } => "postgres",
    }
}
