//! `accord availability`: each availability objective of the agreements over a period, from
//! recorded incidents and the maintenance windows the agreements exclude.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use accord_core::agreement::{
    AvailabilityMethod, AvailabilityObjective, Catalog, DataSource, DowntimeExclusion,
    EffectiveTerms, LatencyObjective, Percent, Query, format_duration, resolve,
};
use accord_core::availability::{
    Account, Availability, Budget, BurnAlert, Incident, LatencyHistogram, Outage, ProbeTimeline,
    RequestCount, Rules, account, budget, burn_alerts, heartbeat_outages, parse_period,
    ratio_timeslices, requests, standard_burn_rules, timeslices,
};
use accord_core::calendar::TimeRange;
use accord_format::incidents::parse_incidents;
use accord_format::probes::{Check, ProbeSpec, parse_probes};
use accord_store::{HeartbeatSettings, ProbeBatch, ProbeResult, ProbeSettings, Store, StoreError};
use anyhow::{Context, bail};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use crate::cli::StoreArg;
use crate::{agreement_cmd, output, revision_cmd};

/// What `accord availability` is asked.
#[derive(Debug)]
pub struct AvailabilityArgs<'a> {
    /// The agreements.
    pub agreements: &'a Path,
    /// Recorded incidents (CSV).
    pub incidents: Option<&'a Path>,
    /// Probe results written by `accord probe run --results`.
    pub probe_results: Option<&'a Path>,
    /// Request counts, one JSON object per line: `{"source", "from", "to", "good", "total"}`.
    pub requests: Option<&'a Path>,
    /// Probe definitions: how often each heartbeat must check in.
    pub probes: Option<&'a Path>,
    /// Heartbeat check-ins, one JSON object per line: `{"heartbeat": NAME, "at": INSTANT}`.
    pub heartbeats: Option<&'a Path>,
    /// `2026-10`, `2026-Q4` or `2026`.
    pub period: &'a str,
    /// Only this customer.
    pub customer: Option<&'a str>,
    /// The instant the figures are as of (default: now); later incidents are left out.
    pub at: Option<&'a str>,
    /// Also count what is recorded in this store (`accord record`, `accord probe run --record`).
    pub recorded: Option<&'a StoreArg>,
}

/// `accord availability`.
pub fn availability(args: &AvailabilityArgs<'_>) -> anyhow::Result<ExitCode> {
    let loaded = agreement_cmd::load(args.agreements)?;
    let catalog = &loaded.catalog;
    if let Some(path) = args.probes {
        check_probe_sources(catalog, path)?;
    }
    let mut sources = Sources {
        incidents: match args.incidents {
            Some(path) => read_incidents(path)?,
            None => Vec::new(),
        },
        requests: match args.requests {
            Some(path) => read_requests(path)?,
            None => BTreeMap::new(),
        },
        heartbeats: read_heartbeats(args.probes, args.heartbeats)?,
        ..Sources::default()
    };
    if let Some(path) = args.probe_results {
        (sources.probes, sources.latencies) = read_probe_results(path)?;
    }
    let as_of = match args.at {
        Some(text) => text
            .parse::<Timestamp>()
            .with_context(|| format!("--at {text:?}: expected an instant with a UTC offset"))?,
        None => Timestamp::now(),
    };
    if let Some(store) = args.recorded {
        let span = recorded_span(args.period)?;
        revision_cmd::block_on(async {
            let store = revision_cmd::open(store).await?;
            let loaded = sources.load_recorded(&store, catalog, span, as_of).await;
            store.close().await;
            anyhow::Ok(loaded?)
        })??;
    }
    sources.incidents.sort_by(|a, b| (a.start, &a.id).cmp(&(b.start, &b.id)));
    if let Some(customer) = args.customer
        && !catalog.customers.contains_key(customer)
    {
        bail!("unknown customer {customer:?}");
    }
    let measurements = measure(catalog, args.period, args.customer, &sources, as_of)?;
    if measurements.is_empty() {
        bail!("no availability objective applies in {}", args.agreements.display());
    }
    let mut out = String::new();
    for measurement in &measurements {
        write_measurement(&mut out, measurement);
    }
    output::text(&out);
    Ok(ExitCode::SUCCESS)
}

/// The span to read recorded observations over for `period`: wide enough for the period in
/// any zone and for following alerts past its end.
///
/// # Errors
///
/// A period that is not one (`--period: ...`).
pub(crate) fn recorded_span(period: &str) -> anyhow::Result<TimeRange> {
    let (_, utc) = parse_period(period, &TimeZone::UTC)
        .map_err(|message| anyhow::anyhow!("--period: {message}"))?;
    let margin = SignedDuration::from_hours(24 * 7);
    Ok(TimeRange::new(
        utc.start().checked_sub(margin).unwrap_or(utc.start()),
        utc.end().checked_add(margin).unwrap_or(utc.end()),
    )
    .expect("ordered"))
}

/// What the store holds for the catalog's objectives over `period`, as of `as_of`, incidents
/// in order: what `GET /api/v1/availability` measures.
///
/// # Errors
///
/// A period that is not one, or the store's error.
pub(crate) async fn recorded_sources(
    store: &Store,
    catalog: &Catalog,
    period: &str,
    as_of: Timestamp,
) -> anyhow::Result<Sources> {
    let mut sources = Sources::default();
    sources.load_recorded(store, catalog, recorded_span(period)?, as_of).await?;
    sources.incidents.sort_by(|a, b| (a.start, &a.id).cmp(&(b.start, &b.id)));
    Ok(sources)
}

/// What `accord record` is asked.
#[derive(Debug)]
pub struct RecordArgs<'a> {
    /// Probe definitions: heartbeat periods.
    pub probes: Option<&'a Path>,
    /// Probe results written by `accord probe run --results`.
    pub probe_results: Option<&'a Path>,
    /// Heartbeat check-ins.
    pub heartbeats: Option<&'a Path>,
    /// Request counts.
    pub requests: Option<&'a Path>,
    /// Incidents (CSV).
    pub incidents: Option<&'a Path>,
}

/// `accord record`: every file is read and checked first; then everything is recorded.
pub fn record(store: &StoreArg, args: &RecordArgs<'_>) -> anyhow::Result<ExitCode> {
    let probe_lines = args.probe_results.map(read_probe_lines).transpose()?.unwrap_or_default();
    let heartbeats = read_heartbeats(args.probes, args.heartbeats)?;
    let requests = args.requests.map(read_requests).transpose()?.unwrap_or_default();
    let incidents = args.incidents.map(read_incidents).transpose()?.unwrap_or_default();
    if probe_lines.is_empty()
        && heartbeats.is_empty()
        && requests.is_empty()
        && incidents.is_empty()
    {
        bail!("nothing to record: give --probe-results, --heartbeats, --requests or --incidents");
    }
    let results: BTreeMap<&str, Vec<ProbeResult>> = probe_lines
        .iter()
        .map(|(probe, lines)| {
            let results = lines
                .iter()
                .map(|line| ProbeResult { at: line.at, up: line.up, latency: line.latency })
                .collect();
            (probe.as_str(), results)
        })
        .collect();
    let batches: Vec<ProbeBatch<'_>> = probe_lines
        .iter()
        .map(|(probe, lines)| ProbeBatch {
            probe,
            settings: probe_settings(lines),
            results: &results[probe.as_str()],
        })
        .collect();
    let mut out = String::new();
    revision_cmd::block_on(async {
        let store = revision_cmd::open(store).await?;
        for (batch, recorded) in batches.iter().zip(store.record_probe_results(&batches).await?) {
            let _ = writeln!(
                out,
                "probe {}: {} results recorded, {} already recorded{}",
                batch.probe,
                recorded.accepted,
                recorded.ignored,
                if recorded.down { "; down now" } else { "" }
            );
        }
        for (name, heartbeat) in &heartbeats {
            let settings = HeartbeatSettings { every: heartbeat.every, grace: heartbeat.grace };
            let n_new = store.record_heartbeats(name, settings, &heartbeat.beats).await?;
            let _ = writeln!(
                out,
                "heartbeat {name}: {n_new} check-ins recorded, {} already recorded",
                heartbeat.beats.len() - n_new
            );
        }
        for (source, counts) in &requests {
            store.record_request_counts(source, counts).await?;
            let _ = writeln!(out, "requests {source}: {} intervals recorded", counts.len());
        }
        if !incidents.is_empty() {
            store.record_incidents(&incidents, Timestamp::now()).await?;
            let _ = writeln!(out, "{} incidents recorded", incidents.len());
        }
        store.close().await;
        anyhow::Ok(())
    })??;
    output::text(out.trim_end());
    Ok(ExitCode::SUCCESS)
}

/// Where outages come from: the files given, then what is recorded in the store.
#[derive(Default)]
pub(crate) struct Sources {
    incidents: Vec<Incident>,
    requests: BTreeMap<String, Vec<RequestCount>>,
    probes: BTreeMap<String, ProbeTimeline>,
    latencies: BTreeMap<String, LatencyHistogram>,
    heartbeats: BTreeMap<String, Heartbeats>,
    /// Heartbeat outages recorded in the store, by heartbeat.
    heartbeat_outages: BTreeMap<String, Vec<Outage>>,
}

impl Sources {
    /// Adds what the store holds over `span` for every source the catalog's objectives name
    /// and the files did not give, and the recorded incidents (a file's incident wins over a
    /// recorded one with the same id).
    async fn load_recorded(
        &mut self,
        store: &Store,
        catalog: &Catalog,
        span: TimeRange,
        as_of: Timestamp,
    ) -> Result<(), StoreError> {
        // Latency minutes are read only for the probes a latency objective names.
        let timed: Vec<&DataSource> = catalog
            .agreements
            .values()
            .flat_map(|agreement| agreement.terms.latency.values())
            .filter_map(|objective| objective.source.as_ref().map(|source| &source.value))
            .collect();
        let named =
            catalog.agreements.values().flat_map(|agreement| agreement.terms.data_sources());
        for source in named.map(|source| &source.value) {
            match source {
                DataSource::Probe(name) if !self.probes.contains_key(name) => {
                    let with_latency = timed.contains(&source);
                    if let Some(history) = store.probe_history(name, span, with_latency).await? {
                        self.probes.insert(name.clone(), history.timeline);
                        self.latencies.insert(name.clone(), history.latency);
                    }
                }
                DataSource::Heartbeat(name) if !self.heartbeats.contains_key(name) => {
                    if let Some(outages) = store.heartbeat_outages(name, span, as_of).await? {
                        self.heartbeat_outages.insert(name.clone(), outages);
                    }
                }
                DataSource::Requests(name) | DataSource::Metric(name)
                    if !self.requests.contains_key(name) =>
                {
                    let counts = store.request_counts(name, span).await?;
                    if !counts.is_empty() {
                        self.requests.insert(name.clone(), counts);
                    }
                }
                _ => {}
            }
        }
        for incident in store.incidents(span).await? {
            if !self.incidents.iter().any(|given| given.id == incident.id) {
                self.incidents.push(incident);
            }
        }
        Ok(())
    }
}

/// Reads an incidents file; every malformed record is reported.
fn read_incidents(path: &Path) -> anyhow::Result<Vec<Incident>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading incidents {}", path.display()))?;
    parse_incidents(&path.display().to_string(), &text).map_err(|errors| {
        for error in &errors {
            output::note(&error.to_string());
        }
        anyhow::anyhow!("{} has {} malformed records", path.display(), errors.len())
    })
}

/// Reads request counts by source name.
fn read_requests(path: &Path) -> anyhow::Result<BTreeMap<String, Vec<RequestCount>>> {
    let mut counts: BTreeMap<String, Vec<RequestCount>> = BTreeMap::new();
    for line in json_lines(path, "request counts")? {
        let range = TimeRange::new(line.instant("from")?, line.instant("to")?)
            .ok_or_else(|| line.error("to: expected an instant after from"))?;
        let number = |field: &str| {
            line.value[field]
                .as_u64()
                .ok_or_else(|| line.error(&format!("{field}: expected a whole number")))
        };
        let (good, total) = (number("good")?, number("total")?);
        if good > total {
            return Err(line.error("good: more than total"));
        }
        let source = line.text("source")?.to_owned();
        counts.entry(source).or_default().push(RequestCount { range, good, total });
    }
    Ok(counts)
}

/// One heartbeat's definition and check-ins.
struct Heartbeats {
    every: SignedDuration,
    grace: SignedDuration,
    // Invariant: sorted.
    beats: Vec<Timestamp>,
}

/// Reads heartbeat definitions from the probe file and check-ins from the heartbeats file.
fn read_heartbeats(
    probes: Option<&Path>,
    beats: Option<&Path>,
) -> anyhow::Result<BTreeMap<String, Heartbeats>> {
    let (Some(probes), Some(beats)) = (probes, beats) else {
        if beats.is_some() {
            bail!("--heartbeats needs --probes: the file that says how often each must check in");
        }
        return Ok(BTreeMap::new());
    };
    let specs = read_probe_specs(probes)?;
    let mut heartbeats: BTreeMap<String, Heartbeats> = specs
        .into_iter()
        .filter_map(|spec| match spec.check {
            Check::Heartbeat { every, grace } => {
                Some((spec.name, Heartbeats { every, grace, beats: Vec::new() }))
            }
            _ => None,
        })
        .collect();
    for line in json_lines(beats, "heartbeats")? {
        let name = line.text("heartbeat")?;
        let at = line.instant("at")?;
        let Some(heartbeat) = heartbeats.get_mut(name) else {
            let message = format!("heartbeat: {name:?} is not defined in {}", probes.display());
            return Err(line.error(&message));
        };
        heartbeat.beats.push(at);
    }
    for heartbeat in heartbeats.values_mut() {
        heartbeat.beats.sort();
    }
    Ok(heartbeats)
}

/// Reads a probe file; every problem is reported.
fn read_probe_specs(path: &Path) -> anyhow::Result<Vec<ProbeSpec>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading probes {}", path.display()))?;
    parse_probes(path, &text).map_err(|errors| {
        output::note(&errors.to_string());
        anyhow::anyhow!("{} has {} errors", path.display(), errors.0.len())
    })
}

/// Every `probe:NAME` and `heartbeat:NAME` source the agreements name must be defined in the
/// probe file, as the right kind.
fn check_probe_sources(catalog: &Catalog, path: &Path) -> anyhow::Result<()> {
    let specs = read_probe_specs(path)?;
    let mut problems = Vec::new();
    for agreement in catalog.agreements.values() {
        for source in agreement.terms.data_sources() {
            let (name, heartbeat) = match &source.value {
                DataSource::Probe(name) => (name, false),
                DataSource::Heartbeat(name) => (name, true),
                _ => continue,
            };
            let found = specs.iter().find(|spec| spec.name == *name);
            let problem = match found {
                None => format!("{name:?} is not defined in {}", path.display()),
                Some(spec) if matches!(spec.check, Check::Heartbeat { .. }) != heartbeat => {
                    let (is, named) =
                        if heartbeat { ("a probe", "heartbeat") } else { ("a heartbeat", "probe") };
                    format!("{name:?} is {is} in {}, named here as a {named}", path.display())
                }
                Some(_) => continue,
            };
            let origin = &source.origin;
            problems.push(format!("{}:{}: {}: {problem}", origin.file, origin.line, origin.field));
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    for problem in &problems {
        output::note(problem);
    }
    bail!("{} objectives name probes that {} does not define", problems.len(), path.display())
}

/// Probe outcomes and latencies by probe name.
type ProbeData = (BTreeMap<String, ProbeTimeline>, BTreeMap<String, LatencyHistogram>);

/// One line of a JSON Lines input, with what is needed to name it in an error.
struct JsonLine {
    path: String,
    line: usize,
    value: serde_json::Value,
}

impl JsonLine {
    fn error(&self, message: &str) -> anyhow::Error {
        anyhow::anyhow!("{}:{}: {message}", self.path, self.line)
    }

    fn text(&self, field: &str) -> anyhow::Result<&str> {
        self.value[field].as_str().ok_or_else(|| self.error(&format!("{field}: expected a string")))
    }

    fn instant(&self, field: &str) -> anyhow::Result<Timestamp> {
        self.value[field]
            .as_str()
            .and_then(|at| at.parse::<Timestamp>().ok())
            .ok_or_else(|| self.error(&format!("{field}: expected an instant with a UTC offset")))
    }
}

/// The non-empty lines of a JSON Lines file, each parsed.
fn json_lines(path: &Path, what: &str) -> anyhow::Result<Vec<JsonLine>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading {what} {}", path.display()))?;
    let mut lines = Vec::new();
    for (idx, line) in text.lines().enumerate().filter(|(_, line)| !line.trim().is_empty()) {
        let value = serde_json::from_str(line).map_err(|error| {
            anyhow::anyhow!("{}:{}: invalid JSON: {error}", path.display(), idx + 1)
        })?;
        lines.push(JsonLine { path: path.display().to_string(), line: idx + 1, value });
    }
    Ok(lines)
}

/// One line of `accord probe run --results`.
struct ProbeLine {
    at: Timestamp,
    up: bool,
    latency: Option<SignedDuration>,
    retries: u32,
    interval: Option<i64>,
}

/// Reads `accord probe run --results` output, by probe, in file order.
fn read_probe_lines(path: &Path) -> anyhow::Result<BTreeMap<String, Vec<ProbeLine>>> {
    let mut probes: BTreeMap<String, Vec<ProbeLine>> = BTreeMap::new();
    for line in json_lines(path, "probe results")? {
        let probe = line.text("probe")?;
        let at = line.instant("at")?;
        let up =
            line.value["up"].as_bool().ok_or_else(|| line.error("up: expected true or false"))?;
        let retries = line.value["retries"].as_u64().map_or(2, |r| u32::try_from(r).unwrap_or(2));
        let latency = line.value["latencyMs"]
            .as_u64()
            .map(|millis| SignedDuration::from_millis(i64::try_from(millis).unwrap_or(i64::MAX)));
        let interval = line.value["intervalSeconds"].as_i64();
        probes.entry(probe.to_owned()).or_default().push(ProbeLine {
            at,
            up,
            latency,
            retries,
            interval,
        });
    }
    Ok(probes)
}

/// How the results of a probe run every `interval` become outages: after `retries` failures
/// in a row it is down, and no result for two intervals is a gap in the data.
pub(crate) fn probe_settings_of(retries: u32, interval: SignedDuration) -> ProbeSettings {
    ProbeSettings { retries, max_gap: interval.checked_mul(2) }
}

/// The settings of a probe as its recorded results carry them (the newest result's).
fn probe_settings(lines: &[ProbeLine]) -> ProbeSettings {
    let last = lines.last();
    let retries = last.map_or(2, |line| line.retries);
    match last.and_then(|line| line.interval) {
        Some(seconds) => probe_settings_of(retries, SignedDuration::from_secs(seconds.max(1))),
        None => ProbeSettings { retries, max_gap: None },
    }
}

/// Reads `accord probe run --results` output into one timeline and one latency histogram
/// (successful checks only) per probe.
fn read_probe_results(path: &Path) -> anyhow::Result<ProbeData> {
    let mut timelines: BTreeMap<String, ProbeTimeline> = BTreeMap::new();
    let mut latencies: BTreeMap<String, LatencyHistogram> = BTreeMap::new();
    for (probe, mut lines) in read_probe_lines(path)? {
        let settings = probe_settings(&lines);
        lines.sort_by_key(|line| line.at);
        let mut timeline = match settings.max_gap {
            Some(max_gap) => ProbeTimeline::with_gaps(settings.retries, max_gap),
            None => ProbeTimeline::new(settings.retries),
        };
        let mut histogram = LatencyHistogram::default();
        for line in &lines {
            timeline.record(line.at, line.up);
            if let (true, Some(latency)) = (line.up, line.latency) {
                histogram.record(line.at, latency);
            }
        }
        timelines.insert(probe.clone(), timeline);
        latencies.insert(probe, histogram);
    }
    Ok((timelines, latencies))
}

/// What one objective measured over a period: what `accord availability` prints and
/// `GET /api/v1/availability` answers, so both say the same.
pub(crate) struct Measurement {
    /// The customer.
    pub(crate) customer: String,
    /// The service the terms are resolved for.
    pub(crate) service: String,
    /// The objective's name.
    pub(crate) name: String,
    /// The period as asked (`2026-10`).
    pub(crate) period: String,
    /// The zone the period is measured in.
    pub(crate) zone: TimeZone,
    /// The period's start and end in that zone.
    pub(crate) range: TimeRange,
    /// The figures.
    pub(crate) figures: Figures,
}

impl Measurement {
    /// The zone's name: `Europe/Berlin`, or `UTC` for a zone without one.
    pub(crate) fn zone_name(&self) -> &str {
        self.zone.iana_name().unwrap_or("UTC")
    }

    /// The availability so far; `None` for latency objectives and those not measured.
    pub(crate) fn availability(&self) -> Option<Availability> {
        match &self.figures {
            Figures::Availability { outcome, .. } => match outcome {
                AvailabilityOutcome::Requests { availability, .. }
                | AvailabilityOutcome::Timeslices { availability, .. } => Some(*availability),
                AvailabilityOutcome::Time(figures) => Some(figures.availability),
                _ => None,
            },
            Figures::Latency(_) => None,
        }
    }

    /// The share of the period's error budget left: 1 untouched, 0 spent, below 0 overspent;
    /// `None` where the objective has no budget (or one of nothing).
    pub(crate) fn budget_left(&self) -> Option<f64> {
        let Figures::Availability { outcome, .. } = &self.figures else {
            return None;
        };
        #[allow(clippy::cast_precision_loss)] // Budgets are far below 2^52.
        let share = |allowed: i128, spent: i128| {
            (allowed > 0).then(|| (allowed - spent) as f64 / allowed as f64)
        };
        match outcome {
            AvailabilityOutcome::Requests { availability, allowed: Some((allowed, _)), .. } => {
                share(i128::from(*allowed), availability.bad())
            }
            AvailabilityOutcome::Timeslices { n_slices, n_good, allowed, .. } => {
                share(i128::from(*allowed), i128::from(n_slices - n_good))
            }
            AvailabilityOutcome::Time(figures) => {
                share(figures.budget.allowed.as_nanos(), figures.budget.consumed.as_nanos())
            }
            _ => None,
        }
    }
}

/// The figures of an availability or a latency objective.
pub(crate) enum Figures {
    /// An availability objective.
    Availability {
        /// What is measured: `hosting` or `hosting/compute`.
        measured: String,
        /// What the data lacks, in words (a probe's gaps, a source without data).
        notes: Vec<String>,
        /// The outcome.
        outcome: AvailabilityOutcome,
    },
    /// A latency objective.
    Latency(LatencyOutcome),
}

/// An availability objective's outcome.
pub(crate) enum AvailabilityOutcome {
    /// The objective has no target.
    NoTarget,
    /// A request-based objective without a `requests:NAME` source.
    NeedsRequestsSource,
    /// A request-based objective whose source has no counts in the period.
    NoRequestCounts {
        /// The source.
        source: String,
    },
    /// Good requests over all (`requests`), or the mean of slice ratios (`ratio_timeslices`).
    Requests {
        /// The method.
        method: AvailabilityMethod,
        /// The availability so far.
        availability: Availability,
        /// The target.
        target: Percent,
        /// For `requests`: failed requests allowed, of the total.
        allowed: Option<(u64, u64)>,
    },
    /// Good slices over all.
    Timeslices {
        /// The availability so far.
        availability: Availability,
        /// The target.
        target: Percent,
        /// Slices so far, and how many were good.
        n_slices: u32,
        /// Good slices so far.
        n_good: u32,
        /// A slice's length.
        slice: SignedDuration,
        /// The share of a slice that must be up for it to be good.
        slice_target: Percent,
        /// Bad slices allowed over the whole period.
        allowed: u64,
    },
    /// Up time over eligible time.
    Time(Box<TimeFigures>),
}

/// A time-based objective's figures.
pub(crate) struct TimeFigures {
    /// The availability so far.
    pub(crate) availability: Availability,
    /// The target.
    pub(crate) target: Percent,
    /// Eligible time so far.
    pub(crate) eligible: SignedDuration,
    /// Time left out so far (maintenance, excluded incidents).
    pub(crate) left_out: SignedDuration,
    /// Downtime counted so far.
    pub(crate) downtime: SignedDuration,
    /// The error budget over the whole period.
    pub(crate) budget: Budget,
    /// Whether the period goes on after the instant the figures are as of (the forecast
    /// means something only then).
    pub(crate) ongoing: bool,
    /// The incidents that overlap the period.
    pub(crate) incidents: Vec<IncidentFigure>,
    /// The burn-rate alerts that start in the period.
    pub(crate) alerts: Vec<BurnAlert>,
    /// The account so far (its counted outages are the evidence of credits).
    pub(crate) account: Account,
    /// Each local day of the period with its availability; `None` for days not begun.
    pub(crate) daily: Vec<(jiff::civil::Date, Option<Availability>)>,
}

/// The local days of `range` in `zone`, each with its span (23 or 25 hours across a DST
/// change), clipped to the range.
pub(crate) fn days_of(range: TimeRange, zone: &TimeZone) -> Vec<(jiff::civil::Date, TimeRange)> {
    let mut days = Vec::new();
    let mut date = range.start().to_zoned(zone.clone()).date();
    loop {
        let start = zone.to_timestamp(date.to_datetime(jiff::civil::Time::midnight()));
        let Ok(start) = start else { break };
        if start >= range.end() {
            break;
        }
        let Ok(next) = date.tomorrow() else { break };
        let Ok(end) = zone.to_timestamp(next.to_datetime(jiff::civil::Time::midnight())) else {
            break;
        };
        if let Some(span) = TimeRange::new(start.max(range.start()), end.min(range.end())) {
            days.push((date, span));
        }
        date = next;
    }
    days
}

/// One incident in a time-based objective's figures.
pub(crate) struct IncidentFigure {
    /// The incident.
    pub(crate) incident: Incident,
    /// How it counted.
    pub(crate) counted: IncidentCount,
}

/// How an incident counted against an objective.
pub(crate) enum IncidentCount {
    /// Left out, for this reason.
    Excluded(String),
    /// Shorter than the objective's minimum outage.
    TooShort(SignedDuration),
    /// Counted as this much downtime.
    Counted(SignedDuration),
    /// Not among the period's outages (it overlaps the period only as ongoing).
    NotCounted,
}

/// A latency objective's outcome.
pub(crate) enum LatencyOutcome {
    /// The objective lacks a percentile or a threshold.
    NeedsPercentileAndThreshold,
    /// No samples in the period.
    NoSamples,
    /// The percentile of the samples.
    Measured {
        /// Which percentile.
        percentile: Percent,
        /// Its value.
        value: SignedDuration,
        /// The threshold.
        threshold: SignedDuration,
        /// Samples counted.
        n_samples: u64,
    },
}

/// Measures every availability and latency objective of the catalog's agreements (of one
/// customer, when `customer` is given) over `period`, as of `as_of`.
///
/// # Errors
///
/// A period that is not one (`--period: ...`).
pub(crate) fn measure(
    catalog: &Catalog,
    period: &str,
    customer: Option<&str>,
    sources: &Sources,
    as_of: Timestamp,
) -> anyhow::Result<Vec<Measurement>> {
    let mut measurements = Vec::new();
    for customer_doc in catalog.customers.values() {
        if customer.is_some_and(|wanted| wanted != customer_doc.meta.name) {
            continue;
        }
        let (_, first) = parse_period(period, &customer_doc.time_zone)
            .map_err(|message| anyhow::anyhow!("--period: {message}"))?;
        let on = customer_doc.time_zone.to_datetime(first.start()).date();
        for service in catalog.services.keys() {
            let query =
                Query { customer: &customer_doc.meta.name, service, region: None, site: None, on };
            let Ok(effective) = resolve(catalog, &query) else { continue };
            for (name, objective) in &effective.terms.availability {
                let report = Objective { catalog, effective: &effective, name, objective };
                measurements.push(report.measure(
                    period,
                    &customer_doc.time_zone,
                    sources,
                    as_of,
                )?);
            }
            for (name, objective) in &effective.terms.latency {
                let zone =
                    objective.time_zone.as_ref().map_or(&customer_doc.time_zone, |z| &z.value);
                measurements.push(measure_latency(
                    &effective,
                    name,
                    objective,
                    period,
                    zone,
                    &sources.latencies,
                )?);
            }
        }
    }
    Ok(measurements)
}

/// A latency objective: the percentile of the probe's successful checks over the period.
fn measure_latency(
    effective: &EffectiveTerms,
    name: &str,
    objective: &LatencyObjective,
    period: &str,
    zone: &TimeZone,
    latencies: &BTreeMap<String, LatencyHistogram>,
) -> anyhow::Result<Measurement> {
    let (_, range) =
        parse_period(period, zone).map_err(|message| anyhow::anyhow!("--period: {message}"))?;
    let outcome = match (&objective.percentile, &objective.threshold) {
        (Some(percentile), Some(threshold)) => {
            let histogram = match objective.source.as_ref().map(|s| &s.value) {
                Some(DataSource::Probe(probe)) => latencies.get(probe),
                _ => None,
            };
            match histogram.and_then(|h| h.percentile(range, percentile.value)) {
                Some((value, n_samples)) => LatencyOutcome::Measured {
                    percentile: percentile.value,
                    value,
                    threshold: threshold.value,
                    n_samples,
                },
                None => LatencyOutcome::NoSamples,
            }
        }
        _ => LatencyOutcome::NeedsPercentileAndThreshold,
    };
    Ok(Measurement {
        customer: effective.customer.clone(),
        service: effective.service.clone(),
        name: name.to_owned(),
        period: period.to_owned(),
        zone: zone.clone(),
        range,
        figures: Figures::Latency(outcome),
    })
}

/// `120ms`, `1.878s`, `2s`.
pub(crate) fn format_latency(latency: SignedDuration) -> String {
    let millis = latency.as_millis();
    match (millis / 1000, millis % 1000) {
        (0, millis) => format!("{millis}ms"),
        (seconds, 0) => format!("{seconds}s"),
        (seconds, millis) => format!("{seconds}.{millis:03}s"),
    }
}

/// `met` or `missed`.
fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "missed" }
}

/// Writes one measurement as `accord availability` prints it.
fn write_measurement(out: &mut String, measurement: &Measurement) {
    let Measurement { customer, service, name, period, .. } = measurement;
    let zone_name = measurement.zone_name();
    let (measured, notes, outcome) = match &measurement.figures {
        Figures::Latency(outcome) => {
            let _ = writeln!(out, "{customer} {service} latency {name} {period}, zone {zone_name}");
            write_latency(out, outcome);
            return;
        }
        Figures::Availability { measured, notes, outcome } => (measured, notes, outcome),
    };
    let _ = writeln!(out, "{customer} {service} {name} ({measured}) {period}, zone {zone_name}");
    for note in notes {
        let _ = writeln!(out, "  {note}");
    }
    match outcome {
        AvailabilityOutcome::NoTarget => {
            let _ = writeln!(out, "  no target: nothing to measure against\n");
        }
        AvailabilityOutcome::NeedsRequestsSource => {
            let _ = writeln!(out, "  needs a requests:NAME source\n");
        }
        AvailabilityOutcome::NoRequestCounts { source } => {
            let _ = writeln!(out, "  no request counts of {source} in the period\n");
        }
        AvailabilityOutcome::Requests { method: _, availability, target, allowed } => {
            let met = verdict(availability.meets(*target));
            let _ = writeln!(out, "  availability {availability} against {target}: {met}");
            if let Some((allowed, total)) = allowed {
                let _ = writeln!(
                    out,
                    "  error budget: {allowed} failed requests allowed of {total}, {} used",
                    availability.bad()
                );
            }
            out.push('\n');
        }
        AvailabilityOutcome::Timeslices {
            availability,
            target,
            n_slices,
            n_good,
            slice,
            slice_target,
            allowed,
        } => {
            let _ = writeln!(
                out,
                "  availability {availability} against {target}: {}; {n_good} of {n_slices} slices of {} good (a slice is good at {slice_target} up)",
                verdict(availability.meets(*target)),
                format_duration(*slice),
            );
            let _ = writeln!(
                out,
                "  error budget: {allowed} bad slices allowed, {} used",
                n_slices - n_good
            );
            out.push('\n');
        }
        AvailabilityOutcome::Time(figures) => write_time(out, &measurement.zone, figures),
    }
}

fn write_time(out: &mut String, zone: &TimeZone, figures: &TimeFigures) {
    let TimeFigures { availability, target, budget, .. } = figures;
    let _ = writeln!(
        out,
        "  availability {availability} against {target}: {}; eligible {}, left out {}, downtime {}",
        verdict(availability.meets(*target)),
        format_duration(figures.eligible),
        format_duration(figures.left_out),
        format_duration(figures.downtime),
    );
    let _ = writeln!(
        out,
        "  error budget: allowed {}, consumed {}, remaining {}{}",
        format_duration(budget.allowed),
        format_duration(budget.consumed),
        format_duration(budget.remaining),
        if figures.ongoing {
            format!("; at this rate the period ends at {}", budget.forecast)
        } else {
            String::new()
        },
    );
    let show = |at: Timestamp| at.to_zoned(zone.clone()).strftime("%Y-%m-%d %H:%M %Z").to_string();
    for IncidentFigure { incident, counted } in &figures.incidents {
        let _ = writeln!(
            out,
            "  incident {} {} to {} {}{}{}",
            incident.id,
            show(incident.start),
            incident.end.map_or_else(|| "ongoing".to_owned(), show),
            incident.impact.as_str(),
            match counted {
                IncidentCount::Excluded(reason) => format!(", excluded ({reason})"),
                IncidentCount::TooShort(minimum) => {
                    format!(", ignored: shorter than the minimum {}", format_duration(*minimum))
                }
                IncidentCount::Counted(counted) =>
                    format!(", counted {}", format_duration(*counted)),
                IncidentCount::NotCounted => String::new(),
            },
            if incident.cause.is_empty() { String::new() } else { format!(": {}", incident.cause) },
        );
    }
    for alert in &figures.alerts {
        let _ = writeln!(
            out,
            "  alert {} {}.{}x over {} and {}: {} to {}",
            alert.rule.severity,
            alert.rule.tenths / 10,
            alert.rule.tenths % 10,
            format_duration(alert.rule.long),
            format_duration(alert.rule.short),
            show(alert.start),
            alert.end.map_or_else(|| "still firing".to_owned(), show),
        );
    }
    out.push('\n');
}

fn write_latency(out: &mut String, outcome: &LatencyOutcome) {
    match outcome {
        LatencyOutcome::NeedsPercentileAndThreshold => {
            let _ = writeln!(out, "  needs a percentile and a threshold\n");
        }
        LatencyOutcome::NoSamples => {
            let _ = writeln!(out, "  no latency samples in the period\n");
        }
        LatencyOutcome::Measured { percentile, value, threshold, n_samples } => {
            let _ = writeln!(
                out,
                "  p{} {} against {}: {} ({n_samples} samples; within 9 %, never under)\n",
                percentile.to_string().trim_end_matches('%'),
                format_latency(*value),
                format_latency(*threshold),
                verdict(value <= threshold),
            );
        }
    }
}

/// One availability objective of one customer's effective terms.
struct Objective<'a> {
    catalog: &'a Catalog,
    effective: &'a EffectiveTerms,
    name: &'a str,
    objective: &'a AvailabilityObjective,
}

impl Objective<'_> {
    /// A request-based objective: good requests over all, or the mean of slice ratios.
    fn measure_requests(
        &self,
        method: AvailabilityMethod,
        sources: &Sources,
        so_far: TimeRange,
        left_out: &[TimeRange],
        target: Percent,
    ) -> AvailabilityOutcome {
        let name = match self.objective.source.as_ref().map(|s| &s.value) {
            Some(DataSource::Requests(name) | DataSource::Metric(name)) => name,
            _ => return AvailabilityOutcome::NeedsRequestsSource,
        };
        let Some(counts) = sources.requests.get(name).filter(|counts| {
            counts.iter().any(|count| {
                so_far.start() <= count.range.start() && count.range.start() < so_far.end()
            })
        }) else {
            return AvailabilityOutcome::NoRequestCounts { source: name.clone() };
        };
        let availability = match (method, &self.objective.timeslice) {
            (AvailabilityMethod::RatioTimeslices, Some(slice)) => {
                ratio_timeslices(so_far, slice.value, counts, left_out)
            }
            _ => requests(so_far, counts, left_out),
        };
        let allowed = (method == AvailabilityMethod::Requests).then(|| {
            let total = u64::try_from(availability.eligible()).unwrap_or(0);
            (target.allowed_misses(total), total)
        });
        AvailabilityOutcome::Requests { method, availability, target, allowed }
    }

    fn measure(
        &self,
        period: &str,
        customer_zone: &TimeZone,
        sources: &Sources,
        as_of: Timestamp,
    ) -> anyhow::Result<Measurement> {
        let objective = self.objective;
        let service = objective.service.as_ref().map_or(&self.effective.service, |s| &s.value);
        let component = objective.component.as_ref().map(|c| c.value.as_str());
        let zone = objective.time_zone.as_ref().map_or(customer_zone, |zone| &zone.value);
        let (_, range) =
            parse_period(period, zone).map_err(|message| anyhow::anyhow!("--period: {message}"))?;
        let measured = component.map_or_else(|| service.clone(), |c| format!("{service}/{c}"));
        let mut notes = Vec::new();
        let outcome = self.outcome(service, component, (range, zone), sources, as_of, &mut notes);
        Ok(Measurement {
            customer: self.effective.customer.clone(),
            service: self.effective.service.clone(),
            name: self.name.to_owned(),
            period: period.to_owned(),
            zone: zone.clone(),
            range,
            figures: Figures::Availability { measured, notes, outcome },
        })
    }

    fn outcome(
        &self,
        service: &str,
        component: Option<&str>,
        (range, zone): (TimeRange, &TimeZone),
        sources: &Sources,
        as_of: Timestamp,
        notes: &mut Vec<String>,
    ) -> AvailabilityOutcome {
        let objective = self.objective;
        let Some(target) = objective.target.as_ref().map(|target| target.value) else {
            return AvailabilityOutcome::NoTarget;
        };
        let method = objective.method.as_ref().map_or(AvailabilityMethod::Time, |m| m.value);
        let slicing = match (method, &objective.timeslice, &objective.slice_target) {
            (AvailabilityMethod::Timeslices, Some(slice), Some(slice_target)) => {
                Some((slice.value, slice_target.value))
            }
            _ => None,
        };
        let rules = Rules {
            partial_weight: objective
                .partial_weight
                .as_ref()
                .map_or(Percent::HUNDRED, |weight| weight.value),
            degraded_weight: objective
                .degraded_weight
                .as_ref()
                .map_or_else(|| Rules::default().degraded_weight, |weight| weight.value),
            minimum: objective.minimum_downtime.as_ref().map_or(SignedDuration::ZERO, |m| m.value),
        };
        let exclusions = self.effective.terms.exclusions.as_ref().map(|e| &e.value);
        let exclude: Vec<DowntimeExclusion> = match &objective.exclude {
            Some(exclude) => exclude.value.clone(),
            None => {
                let mut categories = Vec::new();
                if exclusions.is_some_and(|e| !e.maintenance.is_empty()) {
                    categories.push(DowntimeExclusion::Maintenance);
                }
                if exclusions.is_some_and(|e| e.force_majeure) {
                    categories.push(DowntimeExclusion::ForceMajeure);
                }
                if exclusions.is_some_and(|e| e.customer_caused) {
                    categories.push(DowntimeExclusion::CustomerCaused);
                }
                categories
            }
        };
        let until = as_of.min(range.end()).max(range.start());
        let so_far = TimeRange::new(range.start(), until).expect("ordered");
        let mut left_out: Vec<TimeRange> = Vec::new();
        if exclude.contains(&DowntimeExclusion::Maintenance) {
            for window_name in exclusions.map(|e| e.maintenance.as_slice()).unwrap_or_default() {
                let Some(window) = self.catalog.maintenance.get(&window_name.value) else {
                    continue;
                };
                let covers_service = window.services.iter().any(|s| s.value == *service);
                let covers_component = window.components.is_empty()
                    || component.is_none_or(|c| window.components.iter().any(|w| w.value == c));
                if covers_service && covers_component {
                    left_out.extend(window.occurrences(so_far));
                }
            }
        }
        if matches!(method, AvailabilityMethod::Requests | AvailabilityMethod::RatioTimeslices) {
            return self.measure_requests(method, sources, so_far, &left_out, target);
        }
        let mut outages = Vec::new();
        // A probe the objective names adds its outages; recorded incidents count too, and
        // where both saw the same outage the worst impact counts once.
        match objective.source.as_ref().map(|s| &s.value) {
            Some(DataSource::Probe(probe)) => match sources.probes.get(probe) {
                Some(timeline) => {
                    outages.extend(timeline.outages(so_far));
                    let gaps = timeline.gaps(so_far);
                    if !gaps.is_empty() {
                        let total = gaps
                            .iter()
                            .map(|gap| gap.end().duration_since(gap.start()))
                            .fold(SignedDuration::ZERO, |sum, length| sum + length);
                        notes.push(format!(
                            "probe {probe} has no results for {} in {} gaps (counted as up), the first from {}",
                            format_duration(total),
                            gaps.len(),
                            gaps[0].start()
                        ));
                    }
                }
                None => {
                    notes.push(format!("no results of probe {probe}: only incidents are counted"));
                }
            },
            Some(DataSource::Heartbeat(name)) => match sources.heartbeats.get(name) {
                // Monitoring starts with the first check-in on record.
                Some(heartbeat) if !heartbeat.beats.is_empty() => {
                    outages.extend(heartbeat_outages(
                        &heartbeat.beats,
                        heartbeat.every,
                        heartbeat.grace,
                        heartbeat.beats[0],
                        so_far,
                    ));
                }
                _ if sources.heartbeat_outages.contains_key(name) => {
                    let recorded = &sources.heartbeat_outages[name];
                    outages.extend(recorded.iter().filter_map(|outage| {
                        let start = outage.range.start().max(so_far.start());
                        let end = outage.range.end().min(so_far.end());
                        TimeRange::new(start, end)
                            .filter(|span| span.start() < span.end())
                            .map(|range| Outage { range, ..*outage })
                    }));
                }
                _ => {
                    notes.push(format!(
                        "no check-ins of heartbeat {name}: only incidents are counted"
                    ));
                }
            },
            _ => {}
        }
        let mut listed = Vec::new();
        for incident in
            sources.incidents.iter().filter(|incident| incident.affects(service, component))
        {
            // An ongoing incident runs to the instant the figures are as of.
            let Some(span) = incident.range(as_of.max(incident.start)) else { continue };
            let excluded =
                incident.excluded.as_ref().filter(|(category, _)| exclude.contains(category));
            match excluded {
                Some(_) => left_out.push(span),
                None => outages.push(Outage { range: span, impact: incident.impact }),
            }
            if span.start() < range.end() && span.end() > range.start() {
                listed.push((incident, excluded.is_some()));
            }
        }
        if let Some((slice, slice_target)) = slicing {
            let slices = timeslices(so_far, slice, slice_target, &outages, &left_out, &rules);
            let whole = timeslices(range, slice, slice_target, &[], &left_out, &rules);
            return AvailabilityOutcome::Timeslices {
                availability: slices.availability(),
                target,
                n_slices: slices.n_slices,
                n_good: slices.n_good,
                slice,
                slice_target,
                allowed: target.allowed_misses(u64::from(whole.n_slices)),
            };
        }
        let whole = account(range, &outages, &left_out, &rules);
        let now = account(so_far, &outages, &left_out, &rules);
        let budget = budget(target, &whole, &now);
        let incidents = listed
            .into_iter()
            .map(|(incident, excluded)| {
                let counted = whole
                    .outages
                    .iter()
                    .find(|counted| counted.outage.range.start() == incident.start);
                let counted = match (excluded, counted) {
                    (true, _) => IncidentCount::Excluded(
                        incident
                            .excluded
                            .as_ref()
                            .map_or("", |(_, reason)| reason.as_str())
                            .to_owned(),
                    ),
                    (false, Some(counted)) if counted.too_short => {
                        IncidentCount::TooShort(rules.minimum)
                    }
                    (false, Some(counted)) => IncidentCount::Counted(counted.counted),
                    (false, None) => IncidentCount::NotCounted,
                };
                IncidentFigure { incident: incident.clone(), counted }
            })
            .collect();
        let window = objective
            .window
            .as_ref()
            .map_or(SignedDuration::from_hours(24 * 30), |w| w.value.typical_length());
        let burn_rules = standard_burn_rules(window);
        // Alerts that start in the period are followed past its end, up to the longest
        // lookback, to say when they end.
        let longest = burn_rules.iter().map(|rule| rule.long).max().unwrap_or_default();
        let follow = range.end().checked_add(longest).unwrap_or(range.end()).min(as_of);
        let alerts = burn_alerts(
            TimeRange::new(range.start(), follow.max(range.start())).expect("ordered"),
            SignedDuration::from_mins(1),
            target,
            &outages,
            &left_out,
            &rules,
            &burn_rules,
        );
        let daily = days_of(range, zone)
            .into_iter()
            .map(|(date, day)| {
                let measured = TimeRange::new(day.start(), day.end().min(until))
                    .filter(|span| span.start() < span.end())
                    .map(|span| account(span, &outages, &left_out, &rules).availability());
                (date, measured)
            })
            .collect();
        AvailabilityOutcome::Time(Box::new(TimeFigures {
            availability: now.availability(),
            target,
            eligible: now.eligible(),
            left_out: now.left_out,
            downtime: now.downtime,
            budget,
            ongoing: until < range.end(),
            incidents,
            alerts: alerts.into_iter().filter(|alert| alert.start < range.end()).collect(),
            account: now,
            daily,
        }))
    }
}
