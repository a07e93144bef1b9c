//! The HTTP harness the tests of `accord serve` share: a running server, one request per
//! connection over a plain `TcpStream`, and API tokens made with the CLI.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::{Value, json};

use crate::Backend;

/// A running `accord serve`, killed when dropped.
pub(crate) struct Server {
    child: Child,
    pub(crate) address: String,
    /// Reads standard error to its end when the log is kept.
    log: Option<JoinHandle<String>>,
}

impl Server {
    /// A server logging warnings to the test's standard error.
    pub(crate) fn start(backend: &Backend) -> Server {
        Server::start_with(backend, "warn", false)
    }

    /// A server with `ACCORD_LOG` at `log`, its standard error kept for [`Server::stop`] when
    /// `capture` is set and passed through otherwise.
    pub(crate) fn start_with(backend: &Backend, log: &str, capture: bool) -> Server {
        Server::start_with_env(backend, log, capture, &[])
    }

    /// The same, with more environment variables (settings such as `ACCORD_TRUSTED_PROXIES`).
    pub(crate) fn start_with_env(
        backend: &Backend,
        log: &str,
        capture: bool,
        environment: &[(&str, &str)],
    ) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_accord"))
            .arg("serve")
            .args(["--listen", "127.0.0.1:0"])
            .args(backend.flags())
            .env("ACCORD_LOG", log)
            // Tests that push probe results want no server of their own probing the same
            // probes; the probing tests turn it back on with `ACCORD_PROBES=true`.
            .env("ACCORD_PROBES", "false")
            .envs(environment.iter().copied())
            .stdout(Stdio::piped())
            .stderr(if capture { Stdio::piped() } else { Stdio::inherit() })
            .spawn()
            .expect("accord serve starts");
        // Read the log as it comes, so the server never blocks on a full pipe.
        let log = child.stderr.take().map(|mut stderr| {
            std::thread::spawn(move || {
                let mut log = String::new();
                let _ = stderr.read_to_string(&mut log);
                log
            })
        });
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("the listening line");
        let address = line
            .trim()
            .strip_prefix("accord listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        Server { child, address, log }
    }

    /// One request with `headers` besides the usual ones; see [`send`].
    pub(crate) fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Reply {
        send(&self.address, method, path, headers, body)
    }

    /// One request with an optional bearer token and JSON body; see [`request`].
    pub(crate) fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> Reply {
        request(&self.address, method, path, token, body)
    }

    pub(crate) fn get(&self, path: &str, token: &str) -> Reply {
        self.request("GET", path, Some(token), None)
    }

    pub(crate) fn post(&self, path: &str, token: &str, body: &Value) -> Reply {
        self.request("POST", path, Some(token), Some(&body.to_string()))
    }

    /// Sends SIGTERM and waits for the exit status.
    pub(crate) fn terminate(mut self) -> ExitStatus {
        self.sigterm()
    }

    /// Sends SIGTERM, asserts a clean exit, and returns the log when it was kept.
    pub(crate) fn stop(mut self) -> String {
        let status = self.sigterm();
        assert_eq!(status.code(), Some(0));
        self.log.take().map(|log| log.join().expect("the log reader")).unwrap_or_default()
    }

    fn sigterm(&mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs");
        assert!(sent.success());
        self.child.wait().expect("the server exits")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Nothing to do for a server that has already exited.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// An HTTP response, its body decoded when it came chunked.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) head: String,
    pub(crate) body: String,
    /// The body as sent (a PDF is not text).
    pub(crate) bytes: Vec<u8>,
}

impl Reply {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("JSON body: {}", self.body))
    }

    /// The first header called `name` (any case).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then_some(value.trim())
        })
    }
}

/// One HTTP/1.1 request on a new connection, with `headers` besides `Host`, `Connection:
/// close`, `Content-Length` and, unless `headers` names one, `Content-Type: application/json`.
pub(crate) fn send(
    address: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(60))).expect("timeout");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("content-type")) {
        head.push_str("Content-Type: application/json\r\n");
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("send");
    // A server refusing a large body may answer and close before reading it all.
    let _ = stream.write_all(body);
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let split = response.windows(4).position(|w| w == b"\r\n\r\n");
    let (head, raw) = match split {
        Some(at) => (&response[..at], &response[at + 4..]),
        None => (&response[..], &[][..]),
    };
    let head = String::from_utf8_lossy(head).into_owned();
    let status = head.split_whitespace().nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
    let bytes = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        dechunk(raw)
    } else {
        raw.to_vec()
    };
    Reply { status, head, body: String::from_utf8_lossy(&bytes).into_owned(), bytes }
}

/// [`send`] with an optional bearer token and an optional JSON body.
pub(crate) fn request(
    address: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> Reply {
    let bearer = token.map(|token| format!("Bearer {token}"));
    let headers: Vec<(&str, &str)> =
        bearer.iter().map(|bearer| ("Authorization", bearer.as_str())).collect();
    send(address, method, path, &headers, body.unwrap_or("").as_bytes())
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = body.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&body[..line_end]).unwrap_or("0");
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        let rest = &body[line_end + 2..];
        if size == 0 || rest.len() < size {
            break;
        }
        out.extend_from_slice(&rest[..size]);
        body = rest[size..].strip_prefix(b"\r\n").unwrap_or(&rest[size..]);
    }
    out
}

/// Creates an API token with the CLI and returns its secret.
pub(crate) fn token(backend: &Backend, name: &str, role: &str, extra: &[&str]) -> String {
    let mut args = vec!["token", "add", name, "--role", role];
    args.extend_from_slice(extra);
    let flags = backend.flags();
    args.extend(flags.iter().map(String::as_str));
    let run = crate::accord(&args).ok();
    run.stdout
        .split_whitespace()
        .find(|word| word.starts_with("acc_"))
        .unwrap_or_else(|| panic!("a token in {}", run.stdout))
        .to_owned()
}

/// The password every test user has.
pub(crate) const PASSWORD: &str = "correct horse battery staple";

/// Adds a user with [`PASSWORD`] through the CLI.
pub(crate) fn user(backend: &Backend, name: &str, role: &str, extra: &[&str]) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let password_file = dir.path().join("password");
    std::fs::write(&password_file, format!("{PASSWORD}\n")).expect("the password file");
    let password_file = password_file.display().to_string();
    let mut args = vec!["user", "add", name, "--role", role, "--password-file", &password_file];
    args.extend_from_slice(extra);
    let flags = backend.flags();
    args.extend(flags.iter().map(String::as_str));
    crate::accord(&args).ok();
}

/// Signs `name` in with [`PASSWORD`] over plain HTTP, which must succeed: the session
/// cookie's value and the CSRF token.
#[track_caller]
pub(crate) fn sign_in(server: &Server, name: &str) -> (String, String) {
    let body = json!({"user": name, "password": PASSWORD}).to_string();
    let reply = server.send("POST", "/api/v1/login", &[], body.as_bytes());
    assert_eq!(reply.status, 200, "{}", reply.body);
    let set_cookie = reply.header("set-cookie").expect("a Set-Cookie header");
    let cookie = set_cookie
        .split(';')
        .next()
        .and_then(|pair| pair.strip_prefix("accord_session="))
        .unwrap_or_else(|| panic!("the session cookie in {set_cookie:?}"))
        .to_owned();
    let csrf = reply.json()["csrfToken"].as_str().expect("csrfToken").to_owned();
    (cookie, csrf)
}

/// Applies the examples and moves each of `agreements` to active with the CLI, every step
/// backdated to `since` when given.
pub(crate) fn activate_examples(backend: &Backend, agreements: &[&str], since: Option<&str>) {
    let examples = crate::workspace().join("examples");
    let flags = backend.flags();
    let with_store = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(since.iter().flat_map(|since| ["--backdate", since]));
        all.extend(flags.iter().map(String::as_str));
        crate::accord(&all).ok()
    };
    with_store(&["apply", examples.to_str().expect("a path")]);
    for agreement in agreements {
        for action in ["submit", "approve", "activate"] {
            with_store(&["lifecycle", agreement, action]);
        }
    }
}
