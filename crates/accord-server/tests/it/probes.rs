//! `accord probe run` against real servers on 127.0.0.1 started by the test: plain HTTP, TCP,
//! DNS, and HTTPS with certificates from a CA the test makes.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

use crate::accord_in;

/// A tiny HTTP server: `/health` answers 200 "all ok", `/broken` 500, `/slow` 200 after 400 ms.
fn http_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            thread::spawn(move || answer(stream));
        }
    });
    port
}

/// Reads one request from `stream` and answers it the way [`http_server`] documents.
fn answer(mut stream: impl Read + Write) {
    let mut request = Vec::new();
    let mut buffer = [0u8; 1024];
    // TLS may hand the request over in pieces: read up to the blank line.
    while !request.windows(4).any(|window| window == b"\r\n\r\n") {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => request.extend_from_slice(&buffer[..n]),
        }
    }
    let request = String::from_utf8_lossy(&request);
    let path = request.split_whitespace().nth(1).unwrap_or("/");
    let (status, body) = match path {
        "/health" => ("200 OK", "all ok"),
        "/slow" => {
            thread::sleep(Duration::from_millis(400));
            ("200 OK", "all ok")
        }
        _ => ("500 Internal Server Error", "broken"),
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.flush();
}

/// A CA made for one test.
struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl TestCa {
    fn new() -> TestCa {
        let mut params = CertificateParams::new(Vec::new()).expect("CA parameters");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, "accord probe test CA");
        let key = KeyPair::generate().expect("CA key");
        TestCa { issuer: CertifiedIssuer::self_signed(params, key).expect("CA certificate") }
    }

    /// The CA certificate as PEM, what a probe's `ca:` file holds.
    fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A server certificate for `names`, valid from 2020 until midnight UTC starting `not_after`.
    fn leaf(&self, names: &[&str], not_after: Date) -> Leaf {
        let names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
        let mut params = CertificateParams::new(names).expect("leaf parameters");
        params.distinguished_name.push(DnType::CommonName, "accord probe test server");
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(
            i32::from(not_after.year()),
            u8::try_from(not_after.month()).expect("month"),
            u8::try_from(not_after.day()).expect("day"),
        );
        let key = KeyPair::generate().expect("leaf key");
        let certificate = params.signed_by(&key, &self.issuer).expect("leaf certificate");
        Leaf {
            chain: vec![certificate.der().clone()],
            key: PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
        }
    }
}

/// A server certificate and its key.
struct Leaf {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

/// [`http_server`] over TLS with `leaf`. It closes each connection without a TLS close_notify,
/// as many servers do, which the probe must take as the end of the answer.
fn https_server(leaf: Leaf) -> u16 {
    let config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(leaf.chain, leaf.key)
            .expect("server certificate");
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let config = config.clone();
            thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let connection = ServerConnection::new(config).expect("TLS connection");
                answer(StreamOwned::<ServerConnection, TcpStream>::new(connection, stream));
            });
        }
    });
    port
}

/// Today's date in UTC plus `days`. The certificate checks run against the real clock, as the
/// TLS handshake does, so the expiring certificate has to be dated from today.
fn days_from_today(days: i32) -> Date {
    Timestamp::now().to_zoned(TimeZone::UTC).date().checked_add(days.days()).expect("a date")
}

/// Reads the `--results` file.
fn records(dir: &std::path::Path) -> Vec<serde_json::Value> {
    let results = std::fs::read_to_string(dir.join("results.jsonl")).expect("results");
    results.lines().map(|line| serde_json::from_str(line).expect("JSON")).collect()
}

#[test]
fn probes_check_real_servers_and_record_every_result() {
    let port = http_server();
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").port()
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let config = format!(
        "probes:
  - {{ name: health, affects: hosting/compute, http: 'http://127.0.0.1:{port}/health', keyword: ok }}
  - {{ name: wrong-keyword, affects: hosting, http: 'http://127.0.0.1:{port}/health', keyword: welcome }}
  - {{ name: broken, affects: hosting, http: 'http://127.0.0.1:{port}/broken' }}
  - {{ name: slow, affects: hosting, http: 'http://127.0.0.1:{port}/slow', latency: 100ms }}
  - {{ name: port-open, affects: hosting, tcp: '127.0.0.1:{port}' }}
  - {{ name: port-closed, affects: hosting, tcp: '127.0.0.1:{closed}', timeout: 2s }}
  - {{ name: resolver, affects: network, dns: localhost }}
"
    );
    std::fs::write(dir.path().join("probes.yaml"), config).expect("write");
    let run = accord_in(
        dir.path(),
        &["probe", "run", "probes.yaml", "--once", "--results", "results.jsonl"],
    );
    assert!(!run.success, "a probe is down, so --once exits 1:\n{}", run.stdout);
    let lines: Vec<&str> = run.stdout.lines().collect();
    let verdict = |name: &str| {
        lines
            .iter()
            .find(|line| line.starts_with(&format!("{name} ")))
            .map(|line| line.split_whitespace().nth(1).unwrap_or(""))
            .unwrap_or("missing")
    };
    assert_eq!(verdict("health"), "up", "{}", run.stdout);
    assert_eq!(verdict("wrong-keyword"), "down", "{}", run.stdout);
    assert_eq!(verdict("broken"), "down", "{}", run.stdout);
    assert_eq!(verdict("slow"), "down", "{}", run.stdout);
    assert_eq!(verdict("port-open"), "up", "{}", run.stdout);
    assert_eq!(verdict("port-closed"), "down", "{}", run.stdout);
    assert_eq!(verdict("resolver"), "up", "{}", run.stdout);
    assert!(run.stdout.contains("broken down"), "{}", run.stdout);
    assert!(run.stdout.contains(": status 500"), "{}", run.stdout);
    assert!(run.stdout.contains("status 200, keyword not found"), "{}", run.stdout);
    assert!(run.stdout.contains("status 200, slow: "), "{}", run.stdout);
    let records = records(dir.path());
    assert_eq!(records.len(), 7);
    let health = records.iter().find(|record| record["probe"] == "health").expect("health");
    assert_eq!(health["up"], true);
    assert_eq!(health["affects"], "hosting/compute");
}

#[test]
fn probe_files_are_checked_with_line_and_field() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("probes.yaml"),
        "probes:\n  - name: secure\n    affects: hosting\n    http: ftp://example.test/\n  - name: both\n    affects: hosting\n    tcp: 127.0.0.1:1\n    dns: localhost\n",
    )
    .expect("write");
    let run = accord_in(dir.path(), &["probe", "run", "probes.yaml", "--once"]).failed();
    assert!(run.stderr.contains("probes.yaml:4:"), "{}", run.stderr);
    assert!(run.stderr.contains("probes[0].http: invalid URL"), "{}", run.stderr);
    assert!(
        run.stderr.contains("give exactly one of http, tcp, dns or heartbeat"),
        "{}",
        run.stderr
    );
}

#[test]
fn https_probe_trusting_its_ca_is_up_and_checks_the_keyword() {
    let ca = TestCa::new();
    let port = https_server(ca.leaf(&["localhost", "127.0.0.1"], Date::constant(2099, 1, 1)));
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("ca.pem"), ca.pem()).expect("write");
    let config = format!(
        "probes:
  - {{ name: by-name, affects: shop, http: 'https://localhost:{port}/health', ca: ca.pem, keyword: ok }}
  - {{ name: by-address, affects: shop, http: 'https://127.0.0.1:{port}/health', ca: ca.pem }}
"
    );
    std::fs::write(dir.path().join("probes.yaml"), config).expect("write");
    let run = accord_in(
        dir.path(),
        &["probe", "run", "probes.yaml", "--once", "--results", "results.jsonl"],
    )
    .ok();
    assert!(run.stdout.contains("by-name up "), "{}", run.stdout);
    assert!(run.stdout.contains("by-address up "), "{}", run.stdout);
    assert!(run.stdout.contains(": status 200\n"), "{}", run.stdout);
    assert!(!run.stdout.contains("warning"), "{}", run.stdout);
    let records = records(dir.path());
    assert_eq!(records.len(), 2);
    for record in &records {
        assert_eq!(record["up"], true, "{record}");
        assert_eq!(record["detail"], "status 200", "{record}");
        assert_eq!(record["certificateExpires"], "2099-01-01T00:00:00Z", "{record}");
        assert!(record.get("warning").is_none(), "{record}");
    }
}

#[test]
fn certificate_expiring_soon_is_up_with_a_warning() {
    let ca = TestCa::new();
    let not_after = days_from_today(5);
    let port = https_server(ca.leaf(&["localhost"], not_after));
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("certs")).expect("mkdir");
    std::fs::write(dir.path().join("certs/ca.pem"), ca.pem()).expect("write");
    let config = format!(
        "probes:
  - name: soon
    affects: shop
    http: https://localhost:{port}/health
    ca: certs/ca.pem
  - name: relaxed
    affects: shop
    http: https://localhost:{port}/health
    ca: certs/ca.pem
    certificateExpiry: 72h
"
    );
    std::fs::write(dir.path().join("probes.yaml"), config).expect("write");
    let run = accord_in(
        dir.path(),
        &["probe", "run", "probes.yaml", "--once", "--results", "results.jsonl"],
    )
    .ok();
    let expires = format!("{not_after}T00:00:00Z");
    let soon = run.stdout.lines().find(|line| line.starts_with("soon ")).expect("soon");
    assert!(soon.starts_with("soon up "), "{}", run.stdout);
    assert!(
        soon.contains(&format!(": status 200 (warning: certificate expires {expires}, in ")),
        "{}",
        run.stdout
    );
    let relaxed = run.stdout.lines().find(|line| line.starts_with("relaxed ")).expect("relaxed");
    assert!(relaxed.ends_with(": status 200"), "{}", run.stdout);
    let records = records(dir.path());
    let soon = records.iter().find(|record| record["probe"] == "soon").expect("soon");
    assert_eq!(soon["up"], true);
    assert_eq!(soon["certificateExpires"], expires.as_str());
    let warning = soon["warning"].as_str().expect("a warning");
    assert!(warning.starts_with(&format!("certificate expires {expires}, in ")), "{warning}");
    let relaxed = records.iter().find(|record| record["probe"] == "relaxed").expect("relaxed");
    assert_eq!(relaxed["certificateExpires"], expires.as_str());
    assert!(relaxed.get("warning").is_none(), "{relaxed}");
}

#[test]
fn untrusted_or_misnamed_certificates_make_the_probe_down() {
    let ca = TestCa::new();
    let port = https_server(ca.leaf(&["localhost"], Date::constant(2099, 1, 1)));
    let expired = https_server(ca.leaf(&["localhost"], Date::constant(2021, 1, 1)));
    // Accepts connections (the kernel does) and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent_port = silent.local_addr().expect("address").port();
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("ca.pem"), ca.pem()).expect("write");
    let config = format!(
        "probes:
  - {{ name: expired, affects: shop, http: 'https://localhost:{expired}/health', ca: ca.pem }}
  - {{ name: no-ca, affects: shop, http: 'https://localhost:{port}/health' }}
  - {{ name: wrong-name, affects: shop, http: 'https://127.0.0.1:{port}/health', ca: ca.pem }}
  - {{ name: wrong-keyword, affects: shop, http: 'https://localhost:{port}/health', ca: ca.pem, keyword: welcome }}
  - {{ name: silent, affects: shop, http: 'https://127.0.0.1:{silent_port}/', timeout: 300ms }}
"
    );
    std::fs::write(dir.path().join("probes.yaml"), config).expect("write");
    let run = accord_in(
        dir.path(),
        &["probe", "run", "probes.yaml", "--once", "--results", "results.jsonl"],
    )
    .failed();
    let line = |name: &str| {
        run.stdout.lines().find(|line| line.starts_with(&format!("{name} "))).unwrap_or("missing")
    };
    assert!(
        line("expired").contains(" down ")
            && line("expired").ends_with(": certificate expired 2021-01-01T00:00:00Z"),
        "{}",
        run.stdout
    );
    assert!(line("no-ca").starts_with("no-ca down "), "{}", run.stdout);
    assert!(line("no-ca").contains(": certificate not trusted: "), "{}", run.stdout);
    assert!(line("wrong-name").starts_with("wrong-name down "), "{}", run.stdout);
    assert!(
        line("wrong-name").contains(": certificate not valid for 127.0.0.1: it is for localhost"),
        "{}",
        run.stdout
    );
    assert!(line("wrong-keyword").ends_with(": status 200, keyword not found"), "{}", run.stdout);
    assert!(line("silent").ends_with(": TLS handshake timed out"), "{}", run.stdout);
    drop(silent);
    let records = records(dir.path());
    let no_ca = records.iter().find(|record| record["probe"] == "no-ca").expect("no-ca");
    assert_eq!(no_ca["up"], false);
    assert!(no_ca.get("certificateExpires").is_none(), "{no_ca}");
}

#[test]
fn a_bad_ca_path_is_refused_with_line_and_field() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("probes.yaml"),
        "probes:\n  - name: shop\n    affects: shop\n    http: https://localhost/\n    ca: missing.pem\n",
    )
    .expect("write");
    let run = accord_in(dir.path(), &["probe", "run", "probes.yaml", "--once"]).failed();
    assert!(
        run.stderr.contains("probes.yaml:5:9: probes[0].ca: cannot read missing.pem: "),
        "{}",
        run.stderr
    );
}

/// `probe run --record` keeps the outage in the store across runs, and `availability
/// --recorded` counts it for the objective that names the probe.
#[test]
fn recorded_probe_results_count_in_the_availability_of_the_period() {
    let port = http_server();
    let dir = tempfile::tempdir().expect("temp dir");
    let config = format!(
        "probes:
  - {{ name: health, affects: hosting, http: 'http://127.0.0.1:{port}/health', retries: 0 }}
  - {{ name: broken, affects: hosting, http: 'http://127.0.0.1:{port}/broken', retries: 0 }}
"
    );
    std::fs::write(dir.path().join("probes.yaml"), config).expect("write");
    let documents = "apiVersion: accord/v1
kind: Service
metadata: { name: hosting }
spec: {}
---
apiVersion: accord/v1
kind: Customer
metadata: { name: acme }
spec: { timeZone: UTC }
---
apiVersion: accord/v1
kind: Agreement
metadata: { name: sla }
spec:
  type: sla
  level: corporate
  parties: { provider: Northwind }
  term: { effectiveFrom: 2020-01-01, timeZone: UTC }
  objectives:
    availability:
      - { name: health, service: hosting, target: 99.9, window: month, source: 'probe:health' }
      - { name: broken, service: hosting, target: 99.9, window: month, source: 'probe:broken' }
";
    std::fs::write(dir.path().join("documents.yaml"), documents).expect("write");
    let started = jiff::Timestamp::now();
    for _ in 0..2 {
        let run = accord_in(
            dir.path(),
            &["probe", "run", "probes.yaml", "--once", "--record", "--data", "data"],
        );
        assert!(!run.success, "broken is down:\n{}{}", run.stdout, run.stderr);
    }
    // An hour on, the outage that began at the first check is still open: about an hour down.
    let at = started + jiff::SignedDuration::from_hours(1);
    let period = at.to_zoned(jiff::tz::TimeZone::UTC).strftime("%Y-%m").to_string();
    let at = at.to_string();
    let stdout = accord_in(
        dir.path(),
        &[
            "availability",
            "--agreements",
            "documents.yaml",
            "--period",
            &period,
            "--at",
            &at,
            "--recorded",
            "--data",
            "data",
        ],
    )
    .ok()
    .stdout;
    let health = stdout.split("acme hosting health").nth(1).expect("health");
    let health = health.split("\n\n").next().unwrap_or_default();
    assert!(health.contains("availability 100.0000% against 99.9%: met"), "{health}");
    assert!(!health.contains("no results of probe"), "{health}");
    let broken = stdout.split("acme hosting broken").nth(1).expect("broken");
    let broken = broken.split("\n\n").next().unwrap_or_default();
    assert!(broken.contains(": missed;"), "{broken}");
    let downtime = broken.split("downtime ").nth(1).expect("downtime").lines().next().unwrap();
    assert!(downtime.starts_with("59m") || downtime.starts_with("1h"), "{broken}");
}
