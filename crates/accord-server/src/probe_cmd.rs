//! `accord probe run`: the built-in probes in the foreground. Each probe runs on its interval,
//! each result is appended to a JSON Lines file, and each probe's results go through the same
//! `ProbeTimeline` the availability accounting reads, which reports when a component goes
//! down and comes back.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path;
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use accord_core::availability::ProbeTimeline;
use accord_format::probes::{Check, ProbeSpec, parse_probes};
use anyhow::{Context, bail};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;

use crate::output;

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
}

fn std_duration(duration: SignedDuration) -> Duration {
    Duration::try_from(duration).unwrap_or(Duration::from_secs(10))
}

/// Runs one check now.
pub fn check(spec: &ProbeSpec) -> ProbeResult {
    let at = Timestamp::now();
    let started = Instant::now();
    let timeout = std_duration(spec.timeout);
    let (up, detail) = match &spec.check {
        Check::Tcp { address } => match connect(address, timeout) {
            Ok(_) => (true, "connected".to_owned()),
            Err(why) => (false, why),
        },
        Check::Dns { name } => resolve(name, timeout),
        Check::Heartbeat { .. } => (true, "pushed, not checked".to_owned()),
        Check::Http { host, port, path, expect, keyword, latency } => {
            match http_get(host, *port, path, timeout) {
                Ok((status, body)) => {
                    let elapsed = started.elapsed();
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
    ProbeResult { at, up, latency: started.elapsed(), detail }
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

/// A minimal HTTP/1.1 GET: the status code and up to 1 MiB of the body.
fn http_get(host: &str, port: u16, path: &str, timeout: Duration) -> Result<(u16, String), String> {
    let mut stream = connect(&format!("{host}:{port}"), timeout)?;
    let _ = stream.set_read_timeout(Some(timeout));
    let _ = stream.set_write_timeout(Some(timeout));
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: accord-probe\r\nConnection: close\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|error| format!("sending the request: {error}"))?;
    let mut response = Vec::new();
    stream
        .take(1 << 20)
        .read_to_end(&mut response)
        .map_err(|error| format!("reading the response: {error}"))?;
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
    let mut timelines: Vec<ProbeTimeline> =
        probes.iter().map(|probe| ProbeTimeline::new(probe.retries)).collect();
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
        for (idx, result) in results {
            let probe = &probes[idx];
            next_due[idx] = now + std_duration(probe.interval);
            let was_down = timelines[idx].is_down();
            timelines[idx].record(result.at, result.up);
            let is_down = timelines[idx].is_down();
            any_down |= !result.up;
            let line = json!({
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
            if let Some(file) = results_file.as_mut() {
                writeln!(file, "{line}").context("writing a result")?;
                file.sync_data().context("writing a result")?;
            }
            if args.once {
                output::text(&format!(
                    "{} {} {} ms: {}",
                    probe.name,
                    if result.up { "up" } else { "down" },
                    result.latency.as_millis(),
                    result.detail
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
