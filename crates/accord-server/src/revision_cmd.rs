//! `accord apply`, `history`, `diff`, `lifecycle`, and `explain` over stored revisions: the
//! commands that read or write the store (SQLite by default, PostgreSQL with `--database`).
//!
//! The work behind each command (`prepare`, `History`, `compare`, `transition`,
//! `active_catalog`) is shared with the HTTP API (`server::agreements`), so both answer alike;
//! the functions here that take a `StoreArg` only add the command line's output.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use accord_core::agreement::{self, Agreement, Catalog, Finding, Kind, Severity};
use accord_core::clock::{CatalogTerms, PinnedTerms, TermsSource, Who};
use accord_core::lifecycle::{self, Action, LifecycleState, Transition};
use accord_format::FormatErrors;
use accord_format::catalog::{self as format_catalog, Input, SourceDocument};
use accord_store::{
    Applied, Change, Location, NewRevision, Revision, RevisionSummary, Store, StoreError,
};
use anyhow::{Context, bail};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::agreement_cmd::{self, ExplainArgs};
use crate::cli::StoreArg;
use crate::output;

/// Runs an async store operation on a small runtime: the CLI does one thing and exits.
pub(crate) fn block_on<T>(future: impl Future<Output = T>) -> anyhow::Result<T> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    Ok(runtime.block_on(future))
}

fn location(store: &StoreArg) -> anyhow::Result<Location> {
    match &store.database {
        Some(url) => Ok(Location::parse(url)?),
        None => {
            std::fs::create_dir_all(&store.data)
                .with_context(|| format!("creating the data directory {}", store.data.display()))?;
            Ok(Location::Sqlite(store.data.join("accord.db")))
        }
    }
}

pub(crate) async fn open(store: &StoreArg) -> anyhow::Result<Store> {
    let location = location(store)?;
    Store::open(&location).await.with_context(|| format!("opening the store {location}"))
}

fn user(given: Option<String>) -> String {
    given
        .or_else(|| std::env::var("USER").ok())
        .filter(|user| !user.trim().is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The zone an agreement's dates are read in: its term's, else its customer's, else UTC.
fn agreement_zone(catalog: &Catalog, agreement: &Agreement) -> TimeZone {
    agreement
        .term
        .as_ref()
        .and_then(|term| term.value.time_zone.clone())
        .or_else(|| {
            let customer = agreement.parties.customer.as_ref()?;
            Some(catalog.customers.get(&customer.value)?.time_zone.clone())
        })
        .unwrap_or(TimeZone::UTC)
}

fn midnight(date: Date, zone: &TimeZone) -> Option<Timestamp> {
    date.to_zoned(zone.clone()).ok().map(|zoned| zoned.timestamp())
}

/// Why stored revisions cannot be read back.
#[derive(Debug)]
pub(crate) enum StoredError {
    /// The store failed, or has no such document or revision.
    Store(StoreError),
    /// The store failed listing the latest revisions.
    ReadingLatest(StoreError),
    /// A stored revision no longer loads with this version's document format.
    Unreadable(FormatErrors),
    /// Revisions of an agreement that do not load as that agreement.
    NotAgreements {
        /// The agreement.
        name: String,
        /// One revision.
        from: u32,
        /// The other.
        to: u32,
    },
}

impl fmt::Display for StoredError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoredError::Store(error) => write!(f, "{error}"),
            StoredError::ReadingLatest(_) => f.write_str("reading the latest revisions"),
            StoredError::Unreadable(errors) => {
                write!(f, "a stored revision no longer loads:\n{errors}")
            }
            StoredError::NotAgreements { name, from, to } => {
                write!(f, "{name} revisions {from} and {to} are not both agreements")
            }
        }
    }
}

impl std::error::Error for StoredError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            // Transparent: the store's error is this error, so its causes are this one's.
            StoredError::Store(error) => error.source(),
            StoredError::ReadingLatest(error) => Some(error),
            StoredError::Unreadable(_) | StoredError::NotAgreements { .. } => None,
        }
    }
}

impl From<StoreError> for StoredError {
    fn from(error: StoreError) -> StoredError {
        StoredError::Store(error)
    }
}

/// Checks `catalog` on `today` and turns its `documents` into revisions to apply, with the
/// warnings found; or, when anything is an error, every finding (errors and warnings).
///
/// `documents` are those to apply; `catalog` holds them and whatever they are checked with.
pub(crate) fn prepare(
    catalog: &Catalog,
    documents: &[SourceDocument],
    today: Date,
) -> Result<(Vec<NewRevision>, Vec<Finding>), Vec<Finding>> {
    let findings = agreement::check(catalog, today);
    if findings.iter().any(|finding| finding.severity == Severity::Error) {
        return Err(findings);
    }
    let revisions = documents.iter().map(|document| new_revision(catalog, document)).collect();
    Ok((revisions, findings))
}

/// `accord apply PATH`.
pub fn apply(
    path: &Path,
    store: &StoreArg,
    author: Option<String>,
    message: &str,
    backdate: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let now = backdated(backdate)?;
    let loaded = agreement_cmd::load(path)?;
    let revisions = match prepare(&loaded.catalog, &loaded.documents, agreement_cmd::today()) {
        Ok((revisions, _warnings)) => revisions,
        Err(findings) => {
            let n_errors = findings.iter().filter(|f| f.severity == Severity::Error).count();
            for finding in &findings {
                output::note(&finding.to_string());
            }
            bail!(
                "{} has {n_errors} errors: nothing was applied (run accord check)",
                path.display()
            );
        }
    };
    let author = user(author);
    let applied = block_on(async {
        let store = open(store).await?;
        store.apply(&revisions, &author, message, now).await.context("applying the documents")
    })??;
    report_applied(&applied);
    Ok(ExitCode::SUCCESS)
}

fn new_revision(catalog: &Catalog, document: &SourceDocument) -> NewRevision {
    let agreement = (document.kind == Kind::Agreement)
        .then(|| catalog.agreements.get(&document.name))
        .flatten();
    let (effective_from, effective_until) = agreement
        .and_then(|agreement| {
            let term = &agreement.term.as_ref()?.value;
            let zone = agreement_zone(catalog, agreement);
            let from = midnight(term.effective_from, &zone);
            let until = term
                .effective_until
                .and_then(|until| until.tomorrow().ok())
                .and_then(|day_after| midnight(day_after, &zone));
            Some((from, until))
        })
        .unwrap_or((None, None));
    NewRevision {
        kind: document.kind.as_str().to_owned(),
        name: document.name.clone(),
        content_hash: document.content_hash.clone(),
        canonical: document.canonical.clone(),
        source_text: document.text.clone(),
        source_path: document.path.display().to_string(),
        source_line: document.line,
        effective_from,
        effective_until,
        lifecycle: document.kind == Kind::Agreement,
    }
}

fn report_applied(applied: &[Applied]) {
    let mut n_changed = 0;
    let mut lines = Vec::new();
    for item in applied {
        let what = match item.change {
            Change::Created => "created",
            Change::Updated => "updated",
            Change::Unchanged => continue,
        };
        n_changed += 1;
        lines.push(format!("{what}: {} {} revision {}", item.kind, item.name, item.revision));
    }
    output::lines(lines);
    output::text(&format!(
        "{n_changed} of {} documents changed; {} unchanged",
        applied.len(),
        applied.len() - n_changed
    ));
}

/// Stored revisions as the loader takes them, each named `PATH@REVISION` in messages and
/// origins, with the files they included.
pub(crate) fn revision_inputs(revisions: &[Revision]) -> Vec<Input> {
    revisions
        .iter()
        // Other stored documents (the API's `Probes`) are not catalog documents.
        .filter(|revision| Kind::parse(&revision.kind).is_some())
        .map(|revision| {
            let canonical: serde_json::Value =
                serde_json::from_str(&revision.canonical).unwrap_or_default();
            let files: BTreeMap<String, String> = canonical
                .get("files")
                .and_then(|files| files.as_object())
                .map(|files| {
                    files
                        .iter()
                        .filter_map(|(name, text)| Some((name.clone(), text.as_str()?.to_owned())))
                        .collect()
                })
                .unwrap_or_default();
            Input {
                path: PathBuf::from(format!(
                    "{}@{}",
                    revision.summary.source_path, revision.summary.number
                )),
                first_line: revision.summary.source_line,
                text: revision.source_text.clone(),
                files: Some(files),
            }
        })
        .collect()
}

/// Rebuilds a catalog from stored revisions.
pub(crate) fn catalog_from(revisions: &[Revision]) -> Result<Catalog, StoredError> {
    format_catalog::load(&revision_inputs(revisions))
        .map(|loaded| loaded.catalog)
        .map_err(StoredError::Unreadable)
}

/// The catalog in force on `on`: the latest revision of every document without a lifecycle,
/// and of each agreement the revision active then. Today is judged at `now`, another date at
/// its start in the agreement's zone. Agreements with no active revision are left out.
pub(crate) async fn active_catalog(
    store: &Store,
    on: Date,
    today: Date,
    now: Timestamp,
) -> Result<Catalog, StoredError> {
    catalog_choosing(store, |history, zone| {
        // The instant to judge by: now for today, else the date's start in the zone.
        let at = if on == today { now } else { midnight(on, zone).unwrap_or(now) };
        history.active_at(at).map(|active| active.number)
    })
    .await
}

/// The catalog in force over `period` (`2026-10`, `2026-Q4`, `2026`, in each agreement's
/// zone), up to `now`: of each agreement the revision active last in that time, so an
/// agreement superseded or terminated during the period still answers for it. Agreements
/// not active at any time in it are left out.
pub(crate) async fn catalog_in_force(
    store: &Store,
    period: &str,
    now: Timestamp,
) -> Result<Catalog, StoredError> {
    catalog_choosing(store, |history, zone| {
        let (_, range) = accord_core::availability::parse_period(period, zone).ok()?;
        let end = range.end().min(now);
        if end <= range.start() {
            return None;
        }
        // The state changes only at transitions: the last active instant in the range is
        // its end or just before a transition inside it.
        let just_before = |at: Timestamp| at.checked_sub(jiff::SignedDuration::from_nanos(1)).ok();
        let mut candidates: Vec<Timestamp> = history
            .transitions
            .iter()
            .map(|transition| transition.effective_at)
            .filter(|at| range.start() < *at && *at <= end)
            .filter_map(just_before)
            .collect();
        candidates.extend(just_before(end));
        candidates.sort_unstable();
        candidates
            .iter()
            .rev()
            .filter(|at| range.start() <= **at)
            .find_map(|at| history.active_at(*at).map(|active| active.number))
    })
    .await
}

/// The latest revision of every document without a lifecycle, and of each agreement the
/// revision `choose` picks from its history and zone (none: left out).
async fn catalog_choosing(
    store: &Store,
    choose: impl Fn(&History, &TimeZone) -> Option<u32>,
) -> Result<Catalog, StoredError> {
    let latest = store.latest(None).await.map_err(StoredError::ReadingLatest)?;
    let (agreements, others): (Vec<Revision>, Vec<Revision>) =
        latest.into_iter().partition(|revision| revision.kind == "Agreement");
    let mut catalog = catalog_from(&others)?;
    let mut chosen = Vec::new();
    for latest in agreements {
        let name = latest.name.clone();
        let history = History::read(store, "Agreement", &name).await?;
        let probe = catalog_from(std::slice::from_ref(&latest))?;
        let zone = probe
            .agreements
            .get(&name)
            .map_or(TimeZone::UTC, |agreement| agreement_zone(&catalog, agreement));
        if let Some(number) = choose(&history, &zone) {
            chosen.push(store.revision("Agreement", &name, number).await?);
        }
    }
    catalog.agreements = catalog_from(&chosen)?.agreements;
    Ok(catalog)
}

/// `accord explain` over the store: the latest revision of every catalog document, and of each
/// agreement the revision active on the date.
pub fn explain(store: &StoreArg, args: &ExplainArgs<'_>) -> anyhow::Result<()> {
    let location = location(store)?;
    let now = Timestamp::now();
    let today = agreement_cmd::today();
    let catalog = block_on(async {
        let store = open(store).await?;
        anyhow::Ok(active_catalog(&store, args.on, today, now).await?)
    })??;
    if catalog.agreements.is_empty() {
        bail!(
            "no agreement revision in {location} is active on {}: apply documents, then approve and activate a revision (accord lifecycle NAME activate), or pass a PATH to explain files",
            args.on
        );
    }
    agreement_cmd::explain(&catalog, args, &format!("active revisions in {location}"))
}

/// A document's revisions, oldest first, and the lifecycle transitions of all of them.
#[derive(Debug)]
pub(crate) struct History {
    /// Every revision, oldest first.
    pub(crate) revisions: Vec<RevisionSummary>,
    /// Every transition, in recording order; empty for kinds without a lifecycle.
    pub(crate) transitions: Vec<Transition>,
}

impl History {
    /// Reads a document's history.
    pub(crate) async fn read(store: &Store, kind: &str, name: &str) -> Result<History, StoreError> {
        let revisions = store.revisions(kind, name).await?;
        let transitions = store.transitions(kind, name).await?;
        Ok(History { revisions, transitions })
    }

    /// The state of a revision at `at`; `None` for kinds without a lifecycle.
    pub(crate) fn state_at(
        &self,
        summary: &RevisionSummary,
        at: Timestamp,
    ) -> Option<LifecycleState> {
        lifecycle::state_at(summary.number, &self.transitions, &summary.lifecycle(), at)
    }

    /// The revision active at `at` (at most one is, by the lifecycle's invariant).
    pub(crate) fn active_at(&self, at: Timestamp) -> Option<&RevisionSummary> {
        self.revisions
            .iter()
            .rev()
            .find(|summary| self.state_at(summary, at) == Some(LifecycleState::Active))
    }
}

/// `accord history NAME`.
pub fn history(store: &StoreArg, kind: &str, name: &str) -> anyhow::Result<ExitCode> {
    let Some(kind) = Kind::parse(kind) else {
        bail!(
            "unknown kind {kind:?}: expected Service, Customer, Calendar, MaintenanceWindow or Agreement"
        );
    };
    let history = block_on(async {
        let store = open(store).await?;
        anyhow::Ok(History::read(&store, kind.as_str(), name).await?)
    })??;
    let now = Timestamp::now();
    let mut lines = vec![format!("{kind} {name}: {} revisions", history.revisions.len())];
    for summary in &history.revisions {
        let state = history
            .state_at(summary, now)
            .map(|state| format!(" [{}]", state.as_str()))
            .unwrap_or_default();
        lines.push(format!(
            "revision {}{state}  {}  by {}  sha256:{}  {}:{}{}",
            summary.number,
            summary.created_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
            summary.author,
            &summary.content_hash[..12.min(summary.content_hash.len())],
            summary.source_path,
            summary.source_line,
            if summary.message.is_empty() {
                String::new()
            } else {
                format!("  \"{}\"", summary.message)
            },
        ));
        for transition in history.transitions.iter().filter(|t| t.revision == summary.number) {
            lines.push(format!("    {}", describe_transition(transition)));
        }
    }
    output::lines(lines);
    Ok(ExitCode::SUCCESS)
}

fn describe_transition(transition: &Transition) -> String {
    let from = transition.from.map_or("created".to_owned(), |from| from.as_str().to_owned());
    let effective = if transition.effective_at != transition.recorded_at {
        format!(", effective {}", transition.effective_at.strftime("%Y-%m-%d %H:%M UTC"))
    } else {
        String::new()
    };
    format!(
        "{} {from} -> {} by {}{effective}{}",
        transition.recorded_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        transition.to.as_str(),
        transition.actor,
        if transition.note.is_empty() { String::new() } else { format!(" ({})", transition.note) }
    )
}

/// Two revisions of an agreement and what changed from the first to the second.
#[derive(Debug)]
pub(crate) struct Comparison {
    /// The older revision.
    pub(crate) old: Revision,
    /// The newer revision.
    pub(crate) new: Revision,
    /// The terms that differ, in the order of the description.
    pub(crate) changes: Vec<agreement::Change>,
}

/// Compares revisions `from` and `to` of agreement `name`, term by term.
pub(crate) async fn compare(
    store: &Store,
    name: &str,
    from: u32,
    to: u32,
) -> Result<Comparison, StoredError> {
    let old = store.revision("Agreement", name, from).await?;
    let new = store.revision("Agreement", name, to).await?;
    let old_catalog = catalog_from(std::slice::from_ref(&old))?;
    let new_catalog = catalog_from(std::slice::from_ref(&new))?;
    let (Some(old_agreement), Some(new_agreement)) =
        (old_catalog.agreements.get(name), new_catalog.agreements.get(name))
    else {
        return Err(StoredError::NotAgreements { name: name.to_owned(), from, to });
    };
    let changes = agreement::diff(old_agreement, new_agreement);
    Ok(Comparison { old, new, changes })
}

/// `accord diff NAME FROM TO`.
pub fn diff(store: &StoreArg, name: &str, from: u32, to: u32) -> anyhow::Result<ExitCode> {
    let Comparison { old, new, changes } = block_on(async {
        let store = open(store).await?;
        anyhow::Ok(compare(&store, name, from, to).await?)
    })??;
    let mut lines = vec![format!(
        "Agreement {name}: revision {from} ({}) to revision {to} ({})",
        old.summary.created_at.strftime("%Y-%m-%d"),
        new.summary.created_at.strftime("%Y-%m-%d")
    )];
    if changes.is_empty() {
        lines.push("no change in terms (only comments or layout differ)".to_owned());
    }
    lines.extend(changes.iter().map(|change| format!("  {change}")));
    output::lines(lines);
    Ok(ExitCode::SUCCESS)
}

/// Moves `revision` of agreement `name` (by default its latest) by `action`, as `actor`, and
/// returns the transitions recorded.
///
/// # Errors
///
/// [`StoreError::NotFound`] for an unknown agreement, [`StoreError::Lifecycle`] for a refused
/// request (nothing is recorded), or the store's failure.
pub(crate) async fn transition(
    store: &Store,
    name: &str,
    action: Action,
    revision: Option<u32>,
    actor: &str,
    note: &str,
    now: Timestamp,
) -> Result<Vec<Transition>, StoreError> {
    let revision =
        match revision {
            Some(revision) => revision,
            None => store.revisions("Agreement", name).await?.last().map(|s| s.number).ok_or_else(
                || StoreError::NotFound { what: format!("revisions of Agreement {name}") },
            )?,
        };
    let request =
        lifecycle::Request { revision, action, actor: actor.to_owned(), note: note.to_owned() };
    store.transition("Agreement", name, &request, now).await
}

/// `accord lifecycle NAME ACTION`.
pub fn lifecycle(
    store: &StoreArg,
    name: &str,
    action: &str,
    revision: Option<u32>,
    by: Option<String>,
    note: &str,
    backdate: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let action: Action = action.parse()?;
    let actor = user(by);
    let at = backdated(backdate)?;
    let recorded = block_on(async {
        let store = open(store).await?;
        let recorded = transition(&store, name, action, revision, &actor, note, at).await?;
        anyhow::Ok(recorded)
    })??;
    output::lines(
        recorded.iter().map(|t| format!("revision {}: {}", t.revision, describe_transition(t))),
    );
    Ok(ExitCode::SUCCESS)
}

/// Now, or the earlier instant `--backdate` gives.
fn backdated(backdate: Option<&str>) -> anyhow::Result<Timestamp> {
    let now = Timestamp::now();
    let Some(text) = backdate else { return Ok(now) };
    let at: Timestamp = text
        .parse()
        .with_context(|| format!("--backdate: {text:?}: expected an instant with a UTC offset"))?;
    if at > now {
        bail!("--backdate: {text}: in the future");
    }
    Ok(at)
}

/// Ticket terms from the store: for each instant, the agreement revisions active then, so a
/// ticket runs on the revision in force when its clocks started.
///
/// Calendars, services and customers come from their latest revisions: they have no
/// lifecycle of their own.
pub(crate) struct StoreTerms {
    location: String,
    base: Catalog,
    agreements: Vec<StoredAgreement>,
    // One terms source per set of active revisions, keyed by (agreement index, revision).
    by_active: BTreeMap<Vec<(usize, u32)>, CatalogTerms>,
}

struct StoredAgreement {
    revisions: Vec<Revision>,
    transitions: Vec<Transition>,
}

impl StoreTerms {
    /// The latest revision of every document without a lifecycle: customers (with their
    /// contacts), services, calendars.
    pub(crate) fn catalog(&self) -> &Catalog {
        &self.base
    }

    /// Reads every agreement revision and its lifecycle from the store.
    pub(crate) fn load(store: &StoreArg) -> anyhow::Result<StoreTerms> {
        let location = location(store)?.to_string();
        let terms = block_on(async {
            let store = open(store).await?;
            StoreTerms::read(&store, location.clone()).await
        })??;
        if terms.agreements.is_empty() {
            bail!(
                "{location} holds no agreements: apply documents first, or pass --agreements PATH"
            );
        }
        Ok(terms)
    }

    /// Reads every agreement revision and its lifecycle from an open store; `location` names
    /// the store in messages.
    pub(crate) async fn read(store: &Store, location: String) -> anyhow::Result<StoreTerms> {
        let latest = store.latest(None).await.context("reading the latest revisions")?;
        let (agreements, others): (Vec<Revision>, Vec<Revision>) =
            latest.into_iter().partition(|revision| revision.kind == "Agreement");
        let base = catalog_from(&others)?;
        let mut stored = Vec::new();
        for latest in agreements {
            let summaries = store.revisions("Agreement", &latest.name).await?;
            let transitions = store.transitions("Agreement", &latest.name).await?;
            let mut revisions = Vec::new();
            for summary in summaries {
                revisions.push(store.revision("Agreement", &latest.name, summary.number).await?);
            }
            stored.push(StoredAgreement { revisions, transitions });
        }
        Ok(StoreTerms { location, base, agreements: stored, by_active: BTreeMap::new() })
    }

    /// The agreement revisions active at `at`.
    fn active_at(&self, at: Timestamp) -> Vec<(usize, u32)> {
        let mut active = Vec::new();
        for (agreement_idx, agreement) in self.agreements.iter().enumerate() {
            let found = agreement.revisions.iter().rev().find(|revision| {
                let summary = &revision.summary;
                lifecycle::state_at(
                    summary.number,
                    &agreement.transitions,
                    &summary.lifecycle(),
                    at,
                ) == Some(LifecycleState::Active)
            });
            if let Some(revision) = found {
                active.push((agreement_idx, revision.summary.number));
            }
        }
        active
    }
}

impl TermsSource for StoreTerms {
    fn terms(&mut self, who: &Who<'_>, at: Timestamp) -> Result<Arc<PinnedTerms>, String> {
        let active = self.active_at(at);
        if active.is_empty() {
            return Err(format!("no agreement revision in {} is active at {at}", self.location));
        }
        if !self.by_active.contains_key(&active) {
            let chosen: Vec<Revision> = active
                .iter()
                .filter_map(|(agreement_idx, number)| {
                    self.agreements[*agreement_idx]
                        .revisions
                        .iter()
                        .find(|revision| revision.summary.number == *number)
                        .cloned()
                })
                .collect();
            let mut catalog = self.base.clone();
            catalog.agreements =
                catalog_from(&chosen).map_err(|error| error.to_string())?.agreements;
            let labels = chosen
                .iter()
                .map(|revision| (revision.name.clone(), format!("r{}", revision.summary.number)))
                .collect();
            self.by_active.insert(active.clone(), CatalogTerms::new(catalog, labels));
        }
        match self.by_active.get_mut(&active) {
            Some(terms) => terms.terms(who, at),
            None => Err("no terms".to_owned()),
        }
    }
}
