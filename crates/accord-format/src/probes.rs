//! Probe definitions: what `accord probe run` checks, how often, and what counts as up.
//!
//! ```yaml
//! probes:
//!   - name: hosting-health
//!     affects: cloud-hosting/compute
//!     http: http://10.0.0.5:8080/health
//!     expect: [200]
//!     keyword: ok
//!     latency: 500ms
//!     interval: 30s
//!     timeout: 5s
//!     retries: 2
//!   - name: portal
//!     affects: customer-portal
//!     http: https://portal.example/login
//!     ca: internal-ca.pem
//!     certificateExpiry: 21d
//!   - name: database
//!     affects: cloud-hosting/database
//!     tcp: 10.0.0.6:5432
//!   - name: resolver
//!     affects: network
//!     dns: intranet.example
//!   - name: nightly-backup
//!     affects: backup
//!     heartbeat: 24h
//!     grace: 2h
//! ```
//!
//! Reading a probe file reads one more file: the PEM named by an https probe's `ca:`, so that a
//! missing or broken one is reported with its line and field like any other mistake.
//! [`x509`] reads the expiry of a certificate.

#[cfg(test)]
mod tests;
pub mod x509;

use std::path::Path;

use accord_core::availability::Affected;
use jiff::SignedDuration;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::FormatErrors;
use crate::tree::{Cx, Node, Value, parse_duration};

/// What a probe checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    /// An HTTP GET: up when the status is expected, the body holds the keyword and the answer
    /// came within the latency threshold. Over TLS when `tls` is given (`https://`), where a
    /// certificate that cannot be verified makes the check fail.
    Http {
        /// Host and port to connect to.
        host: String,
        /// The port.
        port: u16,
        /// Path and query.
        path: String,
        /// Statuses that count as up (default: 200 to 399).
        expect: Vec<u16>,
        /// Text the body must hold.
        keyword: Option<String>,
        /// The slowest answer that counts as up.
        latency: Option<SignedDuration>,
        /// TLS for `https://`; `None` for plain `http://`.
        tls: Option<Tls>,
    },
    /// A TCP connection to `host:port`.
    Tcp {
        /// `host:port`.
        address: String,
    },
    /// A name that must resolve.
    Dns {
        /// The name.
        name: String,
    },
    /// A check-in the component pushes: not run, but expected every `every`; later than
    /// `grace` after that, the component was down from when it was due.
    Heartbeat {
        /// How often it must check in.
        every: SignedDuration,
        /// How late a check-in may be (default: half of `every`).
        grace: SignedDuration,
    },
}

/// How an `https://` probe checks the server's certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tls {
    /// Certificates trusted besides Mozilla's roots, from the probe's `ca:` file (DER).
    pub ca: Vec<CertificateDer<'static>>,
    /// A certificate that expires sooner than this still counts as up, with a warning
    /// (`certificateExpiry`, default 14 days).
    pub certificate_expiry: SignedDuration,
}

/// One probe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeSpec {
    /// Its name (what `source: probe:NAME` refers to).
    pub name: String,
    /// What it measures.
    pub affects: Affected,
    /// What it checks.
    pub check: Check,
    /// How often (default 30 s).
    pub interval: SignedDuration,
    /// How long one check may take (default 10 s).
    pub timeout: SignedDuration,
    /// Failures in a row tolerated before the component is down (default 2).
    pub retries: u32,
}

/// Reads a probe file; every problem is reported with its line, column and field.
///
/// # Errors
///
/// Every problem found.
pub fn parse_probes(path: &Path, text: &str) -> Result<Vec<ProbeSpec>, FormatErrors> {
    let mut cx = Cx::new(path);
    let root: Node = match serde_saphyr::from_str(text) {
        Ok(root) => root,
        Err(error) => return Err(FormatErrors(vec![crate::document::yaml_error(path, &error, 0)])),
    };
    let mut probes = Vec::new();
    if let Some(fields) = cx.fields(&root, "", &["probes"])
        && let Some((list, list_field)) = fields.require(&mut cx, "probes", "a list of probes")
    {
        for (item, item_field) in cx.items(list, &list_field) {
            if let Some(probe) = probe(&mut cx, item, &item_field) {
                if probes.iter().any(|seen: &ProbeSpec| seen.name == probe.name) {
                    cx.error(item, &item_field, format!("duplicate probe {}", probe.name));
                    continue;
                }
                probes.push(probe);
            }
        }
    }
    if cx.errors.is_empty() { Ok(probes) } else { Err(FormatErrors(cx.errors)) }
}

fn probe(cx: &mut Cx<'_>, node: &Node, field: &str) -> Option<ProbeSpec> {
    let fields = cx.fields(
        node,
        field,
        &[
            "name",
            "affects",
            "http",
            "tcp",
            "dns",
            "heartbeat",
            "grace",
            "expect",
            "keyword",
            "latency",
            "ca",
            "certificateExpiry",
            "interval",
            "timeout",
            "retries",
        ],
    )?;
    let name = fields
        .require(cx, "name", "the probe's name")
        .and_then(|(node, field)| cx.name(node, &field))
        .map(|name| name.value);
    let affects =
        fields.require(cx, "affects", "SERVICE or SERVICE/COMPONENT").and_then(|(node, field)| {
            let text = cx.string(node, &field)?;
            Some(match text.split_once('/') {
                Some((service, component)) => {
                    Affected { service: service.to_owned(), component: Some(component.to_owned()) }
                }
                None => Affected { service: text, component: None },
            })
        });
    let duration = |cx: &mut Cx<'_>, key: &str, default: SignedDuration| {
        fields.with(cx, key, millis_or_duration).unwrap_or(default)
    };
    let interval = duration(cx, "interval", SignedDuration::from_secs(30));
    let timeout = duration(cx, "timeout", SignedDuration::from_secs(10));
    let retries = fields
        .with(cx, "retries", |cx, node, field| cx.whole(node, field, 0, 100))
        .map_or(2, |retries| u32::try_from(retries).unwrap_or(2));
    let kinds: Vec<&str> = ["http", "tcp", "dns", "heartbeat"]
        .into_iter()
        .filter(|kind| fields.get(kind).is_some())
        .collect();
    if kinds.len() != 1 {
        cx.error(node, field, "give exactly one of http, tcp, dns or heartbeat");
        return None;
    }
    let check = match kinds[0] {
        "http" => {
            let (url_node, url_field) = fields.get("http")?;
            let url = cx.string(url_node, &url_field)?;
            let Some(HttpUrl { https, host, port, path }) = http_url(&url) else {
                let message = format!(
                    "invalid URL {url:?}: expected http://HOST[:PORT]/PATH or https://HOST[:PORT]/PATH"
                );
                cx.error(url_node, &url_field, message);
                return None;
            };
            let tls = if https {
                Some(Tls {
                    ca: fields.with(cx, "ca", ca_certificates).unwrap_or_default(),
                    certificate_expiry: fields
                        .with(cx, "certificateExpiry", days_or_duration)
                        .unwrap_or(SignedDuration::from_hours(14 * 24)),
                })
            } else {
                None
            };
            let expect = fields
                .with(cx, "expect", |cx, node, field| {
                    let Value::Seq(items) = &node.value else {
                        cx.error(node, field, "expected a list of status codes");
                        return None;
                    };
                    items
                        .iter()
                        .map(|item| {
                            cx.whole(item, field, 100, 599)
                                .and_then(|code| u16::try_from(code).ok())
                        })
                        .collect::<Option<Vec<u16>>>()
                })
                .unwrap_or_else(|| (200..400).collect());
            Check::Http {
                host,
                port,
                path,
                expect,
                keyword: fields.with(cx, "keyword", |cx, node, field| cx.string(node, field)),
                latency: fields.with(cx, "latency", millis_or_duration),
                tls,
            }
        }
        "tcp" => {
            let (node, field) = fields.get("tcp")?;
            let address = cx.string(node, &field)?;
            if address.rsplit_once(':').and_then(|(_, port)| port.parse::<u16>().ok()).is_none() {
                cx.error(node, &field, format!("invalid address {address:?}: expected HOST:PORT"));
                return None;
            }
            Check::Tcp { address }
        }
        "dns" => {
            let (node, field) = fields.get("dns")?;
            Check::Dns { name: cx.string(node, &field)? }
        }
        _ => {
            let (node, field) = fields.get("heartbeat")?;
            let every = millis_or_duration(cx, node, &field)?;
            let grace = fields.with(cx, "grace", millis_or_duration).unwrap_or(every / 2);
            Check::Heartbeat { every, grace }
        }
    };
    if !matches!(check, Check::Http { tls: Some(_), .. }) {
        for key in ["ca", "certificateExpiry"] {
            if let Some((node, field)) = fields.get(key) {
                cx.error(node, &field, format!("{key} applies only to https:// probes"));
            }
        }
    }
    Some(ProbeSpec { name: name?, affects: affects?, check, interval, timeout, retries })
}

/// The certificates in the PEM file `ca:` names, relative to the probe file. Each must be a
/// certificate whose validity can be read, and there must be at least one.
fn ca_certificates(
    cx: &mut Cx<'_>,
    node: &Node,
    field: &str,
) -> Option<Vec<CertificateDer<'static>>> {
    let name = cx.string(node, field)?;
    let file = cx.path.parent().unwrap_or(Path::new("")).join(&name);
    let bytes = match std::fs::read(&file) {
        Ok(bytes) => bytes,
        Err(error) => {
            cx.error(node, field, format!("cannot read {}: {error}", file.display()));
            return None;
        }
    };
    let mut certificates = Vec::new();
    for (certificate_idx, certificate) in CertificateDer::pem_slice_iter(&bytes).enumerate() {
        let certificate = match certificate {
            Ok(certificate) => certificate,
            Err(error) => {
                cx.error(node, field, format!("invalid PEM in {}: {error}", file.display()));
                return None;
            }
        };
        if let Err(error) = x509::not_after(&certificate) {
            let message = format!(
                "certificate {} in {} is not valid: {error}",
                certificate_idx + 1,
                file.display()
            );
            cx.error(node, field, message);
            return None;
        }
        certificates.push(certificate);
    }
    if certificates.is_empty() {
        let message = format!(
            "no certificates in {}: expected PEM blocks starting -----BEGIN CERTIFICATE-----",
            file.display()
        );
        cx.error(node, field, message);
        return None;
    }
    Some(certificates)
}

/// Whole days (`14d`), which certificate lifetimes are counted in, or hours and minutes as
/// documents write them (`72h`).
fn days_or_duration(cx: &mut Cx<'_>, node: &Node, field: &str) -> Option<SignedDuration> {
    let text = cx.string(node, field)?;
    let days = text
        .trim()
        .strip_suffix('d')
        .and_then(|days| days.trim().parse::<i64>().ok())
        .filter(|days| (1..=3650).contains(days))
        .map(|days| SignedDuration::from_hours(days * 24));
    let duration = days.or_else(|| parse_duration(&text).filter(|d| *d > SignedDuration::ZERO));
    if duration.is_none() {
        cx.error(
            node,
            field,
            format!(
                "invalid duration {text:?}: expected whole days such as 14d, or hours such as 72h"
            ),
        );
    }
    duration
}

/// A duration as documents write it, or whole milliseconds (`500ms`), which probes need.
fn millis_or_duration(cx: &mut Cx<'_>, node: &Node, field: &str) -> Option<SignedDuration> {
    if let Value::Str(text) = &node.value
        && let Some(millis) = text.strip_suffix("ms")
    {
        return match millis.trim().parse::<i64>() {
            Ok(millis) if millis > 0 => Some(SignedDuration::from_millis(millis)),
            _ => {
                cx.error(
                    node,
                    field,
                    format!("invalid duration {text:?}: expected such as 500ms or 5s"),
                );
                None
            }
        };
    }
    cx.duration(node, field)
}

/// An `http://` or `https://` URL, split.
/// An `http://` or `https://` URL, split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpUrl {
    /// Whether it is `https://`.
    pub https: bool,
    /// The host (`[::1]` for IPv6 addresses).
    pub host: String,
    /// The port (80 or 443 when not given).
    pub port: u16,
    /// The path and query, from `/`.
    pub path: String,
}

/// Splits `http://host[:port][/path]` or `https://host[:port][/path]`.
pub fn http_url(url: &str) -> Option<HttpUrl> {
    let (https, rest) = match url.strip_prefix("https://") {
        Some(rest) => (true, rest),
        None => (false, url.strip_prefix("http://")?),
    };
    let (authority, path) = match rest.find('/') {
        Some(idx) => (&rest[..idx], &rest[idx..]),
        None => (rest, "/"),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, port.parse().ok()?),
        None => (authority, if https { 443 } else { 80 }),
    };
    (!host.is_empty()).then(|| HttpUrl {
        https,
        host: host.to_owned(),
        port,
        path: path.to_owned(),
    })
}
