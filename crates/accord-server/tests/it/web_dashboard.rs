//! The sign-in form, the header every signed-in page shares and the dashboard, in a real
//! browser (see `browser`): anonymous visitors are sent to `/login`, a wrong password is
//! said on the form, admin, agent, viewer and customer users sign in through the form and see
//! a breached clock on the dashboard (the customer only its own), `?lang=zh-CN` switches the
//! text, a password is changed through its form, and signing out returns to `/login`.
//! Screenshots of the sign-in page and the dashboard, in English and Chinese, go to
//! `target/browser-artifacts/`.

use serde_json::json;

use crate::browser::{Browser, backend_name, browser_is_installed};
use crate::http::{PASSWORD, Server, activate_examples, token, user};
use crate::{Backend, backends};

/// The examples applied, their SLAs active since eight days ago, users of every role, and a
/// P1 ticket of acme's and one of globex's opened a week ago (a week holds business hours
/// whatever the day, so their first response is long breached).
fn server_with_a_breach(backend: &Backend) -> Server {
    let since = (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * 8)).to_string();
    activate_examples(backend, &["corporate-sla", "acme-sla"], Some(&since));
    user(backend, "ada", "admin", &[]);
    user(backend, "ann", "agent", &[]);
    user(backend, "vic", "viewer", &[]);
    user(backend, "carl", "customer", &["--customer", "acme"]);
    let agent = token(backend, "helpdesk", "agent", &[]);
    let server = Server::start(backend);
    let opened = (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * 7)).to_string();
    let created = |id: &str, ticket: &str, customer: &str| {
        json!({"id": id, "ticket": ticket, "type": "created", "at": opened,
               "customer": customer, "service": "service-desk", "priority": "P1"})
    };
    let events = json!([created("a-1", "T-ACME", "acme"), created("g-1", "T-GLOBEX", "globex")]);
    let posted = server.post("/api/v1/events", &agent, &events);
    assert_eq!(posted.status, 200, "{}", posted.body);
    server
}

/// The browser's address bar.
fn url(browser: &Browser) -> String {
    browser.session_call("GET", "/url", None).as_str().expect("a URL").to_owned()
}

/// Waits (up to 10 s) until `css` selects something: a click that sends a form returns
/// before the next page is there.
#[track_caller]
fn wait_for(browser: &Browser, css: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while browser.find_all(css).is_empty() {
        assert!(std::time::Instant::now() < deadline, "no {css} at {}", url(browser));
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Waits (up to 10 s) until the address bar shows `expected`.
#[track_caller]
fn wait_for_url(browser: &Browser, expected: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while url(browser) != expected {
        assert!(std::time::Instant::now() < deadline, "at {} instead of {expected}", url(browser));
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Types `text` into the field `css` selects, replacing what it held.
fn fill(browser: &Browser, css: &str, text: &str) {
    let field = browser.find_all(css).into_iter().next().unwrap_or_else(|| panic!("no {css}"));
    browser.session_call("POST", &format!("/element/{field}/clear"), Some(&json!({})));
    browser.session_call("POST", &format!("/element/{field}/value"), Some(&json!({"text": text})));
}

fn click(browser: &Browser, css: &str) {
    let element = browser.find_all(css).into_iter().next().unwrap_or_else(|| panic!("no {css}"));
    browser.session_call("POST", &format!("/element/{element}/click"), Some(&json!({})));
}

/// Fills in and sends the sign-in form the browser shows.
fn sign_in(browser: &Browser, name: &str, password: &str) {
    fill(browser, "#user", name);
    fill(browser, "#password", password);
    click(browser, ".card-form button[type=submit]");
}

/// Signs out with the header's button and checks the browser lands on `/login`.
#[track_caller]
fn sign_out(browser: &Browser, base: &str) {
    click(browser, ".sign-out button");
    wait_for_url(browser, &format!("{base}/login"));
}

#[test]
fn users_of_every_role_sign_in_and_see_the_breached_clock_on_the_dashboard() {
    if !browser_is_installed() {
        return;
    }
    for backend in backends("web_dashboard") {
        let server = server_with_a_breach(&backend);
        let name = backend_name(&backend);
        let base = format!("http://{}", server.address);
        let browser = Browser::start();
        browser.resize(1280, 1800);

        // Anonymous: the dashboard sends the browser to the sign-in form, which comes back.
        browser.go(&format!("{base}/dashboard"));
        assert_eq!(url(&browser), format!("{base}/login?next=/dashboard"));
        assert_eq!(browser.text("h1"), "Sign in");
        if name == "sqlite" {
            browser.screenshot("login-en");
        }

        // A wrong password is said on the form, which keeps the user name.
        sign_in(&browser, "ada", "not the password at all");
        wait_for(&browser, ".form-error");
        assert_eq!(browser.text(".form-error"), "Wrong user name or password.");
        assert_eq!(browser.find_all("input[name=next][value='/dashboard']").len(), 1);

        // The admin lands where it was going, and sees the breached clock.
        sign_in(&browser, "ada", PASSWORD);
        wait_for_url(&browser, &format!("{base}/dashboard"));
        assert_eq!(browser.text("h1"), "Dashboard");
        let breached = browser.text("#clocks-breached");
        assert!(breached.contains("T-ACME") && breached.contains("T-GLOBEX"), "{breached}");
        assert_eq!(browser.text(".app-nav [aria-current=page]"), "Dashboard");
        assert_eq!(browser.text(".app-user .user"), "ada");
        assert!(browser.text("#escalations").contains("Recent escalations"));
        if name == "sqlite" {
            browser.screenshot("dashboard-en");
        }

        // Chinese, remembered by the cookie for the next page.
        browser.go(&format!("{base}/dashboard?lang=zh-CN"));
        assert_eq!(browser.text("h1"), "仪表板");
        assert_eq!(browser.text("#breached"), "当前已违约");
        assert_eq!(browser.text(".sign-out button"), "退出登录");
        if name == "sqlite" {
            browser.screenshot("dashboard-zh-CN");
        }
        browser.go(&format!("{base}/dashboard"));
        assert_eq!(browser.text("h1"), "仪表板");
        sign_out(&browser, &base);
        assert_eq!(browser.text("h1"), "登录");
        if name == "sqlite" {
            browser.screenshot("login-zh-CN");
        }
        browser.go(&format!("{base}/login?lang=en"));

        // Signed out, the dashboard is behind the form again.
        browser.go(&format!("{base}/dashboard"));
        assert!(url(&browser).starts_with(&format!("{base}/login")), "{}", url(&browser));

        // Agent and viewer: staff, every customer's clocks.
        for staff in ["ann", "vic"] {
            browser.go(&format!("{base}/login"));
            sign_in(&browser, staff, PASSWORD);
            wait_for_url(&browser, &format!("{base}/dashboard"));
            let breached = browser.text("#clocks-breached");
            assert!(breached.contains("T-ACME") && breached.contains("T-GLOBEX"), "{breached}");
            sign_out(&browser, &base);
        }

        // The customer: its own clock only, and no escalations or deliveries.
        browser.go(&format!("{base}/login"));
        sign_in(&browser, "carl", PASSWORD);
        wait_for_url(&browser, &format!("{base}/portal"));
        browser.go(&format!("{base}/dashboard"));
        let breached = browser.text("#clocks-breached");
        assert!(breached.contains("T-ACME") && !breached.contains("T-GLOBEX"), "{breached}");
        assert!(browser.find_all("#escalations").is_empty());
        assert!(!browser.text("main").contains("globex"));

        // A password is changed through its form: the current one must be right.
        browser.go(&format!("{base}/account/password"));
        let new_password = "a much longer new passphrase";
        fill(&browser, "#current", "not the password at all");
        fill(&browser, "#new", new_password);
        fill(&browser, "#repeat", new_password);
        click(&browser, ".card-form button[type=submit]");
        wait_for(&browser, ".form-error");
        assert_eq!(browser.text(".form-error"), "The current password is wrong.");
        fill(&browser, "#current", PASSWORD);
        fill(&browser, "#new", new_password);
        fill(&browser, "#repeat", new_password);
        click(&browser, ".card-form button[type=submit]");
        wait_for(&browser, ".form-done");
        assert_eq!(browser.text(".form-done"), "Your password has been changed.");
        sign_out(&browser, &base);
        sign_in(&browser, "carl", PASSWORD);
        wait_for(&browser, ".form-error");
        assert_eq!(browser.text(".form-error"), "Wrong user name or password.");
        sign_in(&browser, "carl", new_password);
        wait_for_url(&browser, &format!("{base}/portal"));
    }
}
