//! `accord probe run`: the built-in probes in the foreground. Each probe runs on its interval,
//! each result is appended to a JSON Lines file, and each probe's results go through the same
//! `ProbeTimeline` the availability accounting reads, which reports when a component goes
//! down and comes back.
//!
//! HTTPS goes through rustls on the same blocking socket as plain HTTP, with ring as the crypto
//! provider (DEPENDENCIES.md caution 6), Mozilla's roots from `webpki-roots` plus the probe's
//! own `ca:` certificates as trust anchors.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use accord_core::availability::ProbeTimeline;
use accord_format::probes::x509::{self, X509Error};
use accord_format::probes::{Check, ProbeSpec, Tls, parse_probes};
use anyhow::{Context, bail};
use jiff::{SignedDuration, Timestamp};
use rustls::pki_types::ServerName;
use rustls::{CertificateError, ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use serde_json::json;

use accord_store::ProbeBatch;

use crate::cli::StoreArg;
use crate::{availability_cmd, output, revision_cmd};

/// One check's outcome.
#[derive(Clone, Debug)]
pub struct ProbeResult {
    /// When the check started.
    pub at: Timestamp,
    /// Whether it counts as up.
    pub up: bool,
    /// How long it took.
    pub latency: Duration,
    /// What was seen: `200`, `connected`, `3 addresses`, or why it failed.
    pub detail: String,
    /// When the server's certificate expires, for `https://` probes past the handshake.
    pub certificate_expires: Option<Timestamp>,
    /// What needs attention without making the check fail: a certificate about to expire.
    pub warning: Option<String>,
}

fn std_duration(duration: SignedDuration) -> Duration {
    Duration::try_from(duration).unwrap_or(Duration::from_secs(10))
}

/// Runs one check now.
pub fn check(spec: &ProbeSpec) -> ProbeResult {
    let at = Timestamp::now();
    let started = Instant::now();
    let timeout = std_duration(spec.timeout);
    let mut certificate_expires = None;
    let mut warning = None;
    let (up, detail) = match &spec.check {
        Check::Tcp { address } => match connect(address, timeout) {
            Ok(_) => (true, "connected".to_owned()),
            Err(why) => (false, why),
        },
        Check::Dns { name } => resolve(name, timeout),
        Check::Heartbeat { .. } => (true, "pushed, not checked".to_owned()),
        Check::Http { host, port, path, expect, keyword, latency, tls } => {
            match http_get(host, *port, path, tls.as_ref(), timeout) {
                Ok(HttpResponse { status, body, certificate }) => {
                    let elapsed = started.elapsed();
                    if let (Some(tls), Some(not_after)) = (tls, certificate) {
                        match not_after {
                            Ok(expires_at) => {
                                certificate_expires = Some(expires_at);
                                warning = expiry_warning(expires_at, at, tls.certificate_expiry);
                            }
                            Err(error) => {
                                warning =
                                    Some(format!("cannot read the certificate's expiry: {error}"));
                            }
                        }
                    }
                    if !expect.contains(&status) {
                        (false, format!("status {status}"))
                    } else if keyword.as_ref().is_some_and(|keyword| !body.contains(keyword)) {
                        (false, format!("status {status}, keyword not found"))
                    } else if latency.is_some_and(|limit| elapsed > std_duration(limit)) {
                        (false, format!("status {status}, slow: {} ms", elapsed.as_millis()))
                    } else {
                        (true, format!("status {status}"))
                    }
                }
                Err(why) => (false, why),
            }
        }
    };
    ProbeResult { at, up, latency: started.elapsed(), detail, certificate_expires, warning }
}

/// A warning when the certificate expires less than `threshold` after `now`.
fn expiry_warning(
    expires_at: Timestamp,
    now: Timestamp,
    threshold: SignedDuration,
) -> Option<String> {
    let remaining = expires_at.duration_since(now);
    if remaining >= threshold {
        return None;
    }
    if remaining <= SignedDuration::ZERO {
        return Some(format!("certificate expired {expires_at}"));
    }
    // Whole hours, rounded: a certificate issued for 5 days and checked a second later still
    // expires "in 5 days".
    let hours = (remaining.as_secs() + 1800) / 3600;
    let plural = |n: i64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    let remaining = match (hours / 24, hours % 24) {
        (0, 0) => "less than an hour".to_owned(),
        (0, hours) => plural(hours, "hour"),
        (days, 0) => plural(days, "day"),
        (days, hours) => format!("{} {}", plural(days, "day"), plural(hours, "hour")),
    };
    Some(format!("certificate expires {expires_at}, in {remaining}"))
}

fn connect(address: &str, timeout: Duration) -> Result<TcpStream, String> {
    let addresses: Vec<_> = address
        .to_socket_addrs()
        .map_err(|error| format!("cannot resolve {address}: {error}"))?
        .collect();
    let mut last = format!("{address} has no address");
    for candidate in addresses {
        match TcpStream::connect_timeout(&candidate, timeout) {
            Ok(stream) => return Ok(stream),
            Err(error) => last = format!("cannot connect to {candidate}: {error}"),
        }
    }
    Err(last)
}

/// Resolves in a thread, so a hung resolver is cut off at the timeout.
fn resolve(name: &str, timeout: Duration) -> (bool, String) {
    let (sender, receiver) = mpsc::channel();
    let query = format!("{name}:0");
    std::thread::spawn(move || {
        let _ = sender.send(query.to_socket_addrs().map(Iterator::count));
    });
    match receiver.recv_timeout(timeout) {
        Ok(Ok(0)) => (false, format!("{name} has no address")),
        Ok(Ok(n)) => (true, format!("{n} addresses")),
        Ok(Err(error)) => (false, format!("cannot resolve {name}: {error}")),
        Err(_) => (false, format!("resolving {name} timed out")),
    }
}

/// What an HTTP request brought back.
pub(crate) struct HttpResponse {
    /// The status code.
    pub(crate) status: u16,
    /// What follows the headers, from the first 1 MiB of the answer.
    pub(crate) body: String,
    /// Over TLS, the expiry of the server's (leaf) certificate.
    certificate: Option<Result<Timestamp, X509Error>>,
}

/// A minimal HTTP/1.1 GET, over TLS when `tls` is given: the status code and up to 1 MiB of the
/// body. Connecting, the handshake and each read and write are bounded by `timeout`.
fn http_get(
    host: &str,
    port: u16,
    path: &str,
    tls: Option<&Tls>,
    timeout: Duration,
) -> Result<HttpResponse, String> {
    let request = HttpRequest { method: "GET", host, port, path, headers: &[], body: b"" };
    http_request(&request, tls, timeout)
}

/// An HTTP/1.1 request to make.
pub(crate) struct HttpRequest<'a> {
    /// `GET`, `POST`...
    pub(crate) method: &'a str,
    /// The host.
    pub(crate) host: &'a str,
    /// The port.
    pub(crate) port: u16,
    /// The path and query.
    pub(crate) path: &'a str,
    /// Headers beside `Host`, `User-Agent`, `Connection` and `Content-Length`.
    pub(crate) headers: &'a [(&'a str, String)],
    /// The body (a `Content-Length` is sent when it is not empty).
    pub(crate) body: &'a [u8],
}

/// A minimal HTTP/1.1 request, over TLS when `tls` is given: the status code and up to 1 MiB of
/// the body. Connecting, the handshake and each read and write are bounded by `timeout`.
pub(crate) fn http_request(
    request: &HttpRequest<'_>,
    tls: Option<&Tls>,
    timeout: Duration,
) -> Result<HttpResponse, String> {
    let HttpRequest { method, host, port, path, headers, body } = *request;
    let mut stream = connect(&format!("{host}:{port}"), timeout)?;
    let _ = stream.set_read_timeout(Some(timeout));
    let _ = stream.set_write_timeout(Some(timeout));
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: accord\r\nConnection: close\r\n"
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut request = head.into_bytes();
    request.extend_from_slice(body);
    let Some(tls) = tls else {
        let (status, body) = exchange(stream, &request)?;
        return Ok(HttpResponse { status, body, certificate: None });
    };
    // `[::1]` in a URL is the address `::1` to TLS.
    let server_name = ServerName::try_from(host.trim_start_matches('[').trim_end_matches(']'))
        .map_err(|error| format!("invalid TLS server name {host:?}: {error}"))?
        .to_owned();
    let mut connection = ClientConnection::new(client_config(tls)?, server_name)
        .map_err(|error| format!("starting TLS: {error}"))?;
    while connection.is_handshaking() {
        connection.complete_io(&mut stream).map_err(|error| handshake_error(&error, host))?;
    }
    let certificate = connection
        .peer_certificates()
        .and_then(|chain| chain.first())
        .map(|leaf| x509::not_after(leaf));
    let (status, body) = exchange(StreamOwned::new(connection, stream), &request)?;
    Ok(HttpResponse { status, body, certificate })
}

/// The TLS client for one probe: Mozilla's roots and the probe's `ca:` certificates, ring.
fn client_config(tls: &Tls) -> Result<Arc<ClientConfig>, String> {
    let mut roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    for (certificate_idx, certificate) in tls.ca.iter().enumerate() {
        roots.add(certificate.clone()).map_err(|error| {
            format!("certificate {} of ca: is not a usable CA: {error}", certificate_idx + 1)
        })?;
    }
    let config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|error| format!("configuring TLS: {error}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Why the handshake failed, in the words an operator looks for.
fn handshake_error(error: &io::Error, host: &str) -> String {
    let tls_error = error.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>());
    let Some(tls_error) = tls_error else {
        return match error.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
                "TLS handshake timed out".to_owned()
            }
            io::ErrorKind::UnexpectedEof => {
                "TLS handshake failed: the server closed the connection".to_owned()
            }
            _ => format!("TLS handshake failed: {error}"),
        };
    };
    let rustls::Error::InvalidCertificate(certificate_error) = tls_error else {
        return format!("TLS handshake failed: {tls_error}");
    };
    let at = |time: rustls::pki_types::UnixTime| {
        i64::try_from(time.as_secs())
            .ok()
            .and_then(|second| Timestamp::from_second(second).ok())
            .map_or_else(String::new, |at| format!(" {at}"))
    };
    match certificate_error {
        CertificateError::UnknownIssuer => {
            "certificate not trusted: not issued by a known root or the probe's ca".to_owned()
        }
        CertificateError::BadSignature => "certificate not trusted: bad signature".to_owned(),
        CertificateError::Expired => "certificate expired".to_owned(),
        CertificateError::ExpiredContext { not_after, .. } => {
            format!("certificate expired{}", at(*not_after))
        }
        CertificateError::NotValidYet => "certificate not valid yet".to_owned(),
        CertificateError::NotValidYetContext { not_before, .. } => {
            format!("certificate not valid until{}", at(*not_before))
        }
        CertificateError::NotValidForName => format!("certificate not valid for {host}"),
        CertificateError::NotValidForNameContext { presented, .. } => {
            // webpki writes the names as `DnsName("shop.example")` and `IpAddress(192.0.2.1)`.
            let names: Vec<&str> = presented
                .iter()
                .map(|name| {
                    let unwrapped = name
                        .strip_prefix("DnsName(\"")
                        .and_then(|rest| rest.strip_suffix("\")"))
                        .or_else(|| name.strip_prefix("IpAddress(")?.strip_suffix(')'));
                    unwrapped.unwrap_or(name)
                })
                .collect();
            format!("certificate not valid for {host}: it is for {}", names.join(", "))
        }
        CertificateError::Revoked => "certificate revoked".to_owned(),
        other => format!("certificate not trusted: {other}"),
    }
}

/// Sends `request` and reads the answer to the end: the status and the body.
fn exchange(mut stream: impl Read + Write, request: &[u8]) -> Result<(u16, String), String> {
    stream
        .write_all(request)
        .and_then(|()| stream.flush())
        .map_err(|error| format!("sending the request: {error}"))?;
    let mut response = Vec::new();
    match stream.take(1 << 20).read_to_end(&mut response) {
        Ok(_) => {}
        // Many HTTPS servers close the TCP connection without a TLS close_notify. With
        // `Connection: close` and no length checks, the end of the stream is the end of the
        // body either way; a truncation attack could only shorten a health page.
        Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => {}
        Err(error) => return Err(format!("reading the response: {error}")),
    }
    let text = String::from_utf8_lossy(&response);
    let status = text
        .lines()
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| "no HTTP status line in the response".to_owned())?;
    let body = text.split_once("\r\n\r\n").map_or("", |(_, body)| body).to_owned();
    Ok((status, body))
}

/// What `probe run` is asked.
#[derive(Debug)]
pub struct RunArgs<'a> {
    /// The probe file.
    pub config: &'a Path,
    /// Run each probe once and exit (1 when any is down).
    pub once: bool,
    /// Stop after this long (default: until interrupted).
    pub duration: Option<&'a str>,
    /// Append each result here, one JSON object per line.
    pub results: Option<&'a Path>,
    /// Record each round of results into this store, as the server does.
    pub record: Option<&'a StoreArg>,
}

/// Records rounds of results into the store, on a runtime kept for the whole run.
struct Recorder {
    runtime: tokio::runtime::Runtime,
    store: accord_store::Store,
}

impl Recorder {
    fn open(store: &StoreArg) -> anyhow::Result<Recorder> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        let store = runtime.block_on(revision_cmd::open(store))?;
        Ok(Recorder { runtime, store })
    }

    /// Records one round: each probe's result in one transaction, so a round is kept whole.
    fn record(&self, probes: &[ProbeSpec], round: &[(usize, ProbeResult)]) -> anyhow::Result<()> {
        let results: Vec<accord_store::ProbeResult> = round
            .iter()
            .map(|(_, result)| accord_store::ProbeResult {
                at: result.at,
                up: result.up,
                latency: SignedDuration::try_from(result.latency).ok(),
            })
            .collect();
        let batches: Vec<ProbeBatch<'_>> = round
            .iter()
            .zip(&results)
            .map(|((idx, _), result)| {
                let probe = &probes[*idx];
                ProbeBatch {
                    probe: &probe.name,
                    settings: availability_cmd::probe_settings_of(probe.retries, probe.interval),
                    results: std::slice::from_ref(result),
                }
            })
            .collect();
        self.runtime
            .block_on(self.store.record_probe_results(&batches))
            .context("recording probe results")?;
        Ok(())
    }
}

/// `accord probe run`.
pub fn run(args: &RunArgs<'_>) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(args.config)
        .with_context(|| format!("reading probes {}", args.config.display()))?;
    let probes = parse_probes(args.config, &text).map_err(|errors| {
        output::note(&errors.to_string());
        anyhow::anyhow!("{} has {} errors", args.config.display(), errors.0.len())
    })?;
    // Heartbeats are pushed by the components; there is nothing to run for them.
    let probes: Vec<ProbeSpec> = probes
        .into_iter()
        .filter(|probe| !matches!(probe.check, Check::Heartbeat { .. }))
        .collect();
    if probes.is_empty() {
        bail!("{} defines no probes to run", args.config.display());
    }
    let stop_after = args
        .duration
        .map(|text| {
            text.parse::<SignedDuration>()
                .with_context(|| format!("--for {text:?}: expected a duration such as 10m"))
        })
        .transpose()?;
    let mut results_file = match args.results {
        Some(path) => Some(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("opening {}", path.display()))?,
        ),
        None => None,
    };
    let recorder = args.record.map(Recorder::open).transpose()?;
    let mut timelines: Vec<ProbeTimeline> =
        probes.iter().map(|probe| ProbeTimeline::new(probe.retries)).collect();
    let mut warned: Vec<bool> = vec![false; probes.len()];
    let started = Instant::now();
    let mut next_due: Vec<Instant> = vec![started; probes.len()];
    let mut any_down = false;
    loop {
        let now = Instant::now();
        let due: Vec<usize> = (0..probes.len()).filter(|idx| next_due[*idx] <= now).collect();
        // Due probes run side by side; each is bounded by its own timeout.
        let results: Vec<(usize, ProbeResult)> = std::thread::scope(|scope| {
            let handles: Vec<_> = due
                .iter()
                .map(|idx| {
                    let probe = &probes[*idx];
                    (*idx, scope.spawn(move || check(probe)))
                })
                .collect();
            handles
                .into_iter()
                .filter_map(|(idx, handle)| handle.join().ok().map(|result| (idx, result)))
                .collect()
        });
        if let Some(recorder) = &recorder {
            recorder.record(&probes, &results)?;
        }
        for (idx, result) in results {
            let probe = &probes[idx];
            next_due[idx] = now + std_duration(probe.interval);
            let was_down = timelines[idx].is_down();
            timelines[idx].record(result.at, result.up);
            let is_down = timelines[idx].is_down();
            any_down |= !result.up;
            let mut line = json!({
                "probe": probe.name,
                "affects": match &probe.affects.component {
                    Some(component) => format!("{}/{component}", probe.affects.service),
                    None => probe.affects.service.clone(),
                },
                "at": result.at.to_string(),
                "up": result.up,
                "retries": probe.retries,
                "intervalSeconds": probe.interval.as_secs(),
                "latencyMs": u64::try_from(result.latency.as_millis()).unwrap_or(u64::MAX),
                "detail": result.detail,
            });
            if let Some(expires_at) = result.certificate_expires {
                line["certificateExpires"] = json!(expires_at.to_string());
            }
            if let Some(warning) = &result.warning {
                line["warning"] = json!(warning);
            }
            if let Some(file) = results_file.as_mut() {
                writeln!(file, "{line}").context("writing a result")?;
                file.sync_data().context("writing a result")?;
            }
            if args.once {
                output::text(&format!(
                    "{} {} {} ms: {}{}",
                    probe.name,
                    if result.up { "up" } else { "down" },
                    result.latency.as_millis(),
                    result.detail,
                    result
                        .warning
                        .as_ref()
                        .map_or_else(String::new, |warning| format!(" (warning: {warning})"))
                ));
            } else if is_down != was_down {
                output::text(&format!(
                    "{} {} {} ({})",
                    result.at,
                    probe.name,
                    if is_down { "is down" } else { "is up again" },
                    result.detail
                ));
            }
            // A warning is shown when it first appears, not at every check.
            if !args.once && result.warning.is_some() != warned[idx] {
                warned[idx] = result.warning.is_some();
                if let Some(warning) = &result.warning {
                    output::text(&format!("{} {} warning: {warning}", result.at, probe.name));
                }
            }
        }
        if args.once {
            return Ok(if any_down { ExitCode::FAILURE } else { ExitCode::SUCCESS });
        }
        if stop_after.is_some_and(|limit| started.elapsed() >= std_duration(limit)) {
            return Ok(ExitCode::SUCCESS);
        }
        let next = next_due.iter().min().copied().unwrap_or(now);
        std::thread::sleep(
            next.saturating_duration_since(Instant::now()).min(Duration::from_millis(250)),
        );
    }
}
