//! `accord probe run` against real servers on 127.0.0.1 started by the test.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread;
use std::time::Duration;

use crate::accord_in;

/// A tiny HTTP server: `/health` answers 200 "all ok", `/broken` 500, `/slow` 200 after 400 ms.
fn http_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            thread::spawn(move || {
                let mut request = [0u8; 1024];
                let n = stream.read(&mut request).unwrap_or(0);
                let request = String::from_utf8_lossy(&request[..n]);
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
            });
        }
    });
    port
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
    let results = std::fs::read_to_string(dir.path().join("results.jsonl")).expect("results");
    let records: Vec<serde_json::Value> =
        results.lines().map(|line| serde_json::from_str(line).expect("JSON")).collect();
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
        "probes:\n  - name: secure\n    affects: hosting\n    http: https://example.test/\n  - name: both\n    affects: hosting\n    tcp: 127.0.0.1:1\n    dns: localhost\n",
    )
    .expect("write");
    let run = accord_in(dir.path(), &["probe", "run", "probes.yaml", "--once"]).failed();
    assert!(run.stderr.contains("probes.yaml:4:"), "{}", run.stderr);
    assert!(run.stderr.contains("https probes are not supported yet"), "{}", run.stderr);
    assert!(
        run.stderr.contains("give exactly one of http, tcp, dns or heartbeat"),
        "{}",
        run.stderr
    );
}
