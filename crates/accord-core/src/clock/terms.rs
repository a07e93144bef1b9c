//! The terms a ticket's clocks run on: for one customer, service and site, the effective
//! ticket objectives with their calendars and escalation ladders, resolved once from the
//! agreement revisions in force when the ticket's clocks started, and kept by the ticket.
//!
//! Separate from the engine because where terms come from differs by caller: the documents on
//! disk ([`CatalogTerms`]), or the store's revisions over time (in the server).

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::hash::{FastHasher, FastMap};
use crate::agreement::{
    Catalog, ComplianceObjective, EffectiveTicketObjective, EscalationStep, Metric, Query,
    ROUND_THE_CLOCK, ReopenRule, Target, Threshold, resolve,
};
use crate::calendar::BusinessCalendar;

/// Whose terms a ticket needs.
#[derive(Clone, Copy, Debug)]
pub struct Who<'a> {
    /// The customer.
    pub customer: &'a str,
    /// The service.
    pub service: &'a str,
    /// The customer's site, when the ticket names one.
    pub site: Option<&'a str>,
    /// The customer's region, when the ticket names one.
    pub region: Option<&'a str>,
}

/// Where tickets get their terms from.
pub trait TermsSource {
    /// The terms for `who` from the agreement revisions in force at `at`.
    ///
    /// # Errors
    ///
    /// A message saying why there are none (unknown customer, no SLA in force...).
    fn terms(&mut self, who: &Who<'_>, at: Timestamp) -> Result<Arc<PinnedTerms>, String>;
}

/// One agreement revision that took part in a ticket's terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevisionRef {
    /// The agreement's name.
    pub agreement: String,
    /// Its revision, as the source names it (`r3`, or a content hash for files).
    pub revision: String,
}

/// An escalation rung as it applies to one objective.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rung {
    /// The step as written.
    pub step: EscalationStep,
    /// Its position in the effective ladder: the rung's identity within a cycle.
    pub idx: usize,
}

impl Rung {
    /// The business time elapsed at which the rung fires on a clock with `target`.
    pub fn threshold(&self, target: SignedDuration) -> SignedDuration {
        match self.step.at {
            Threshold::Share(share) => share.of(target),
            Threshold::Before(left) => (target - left).max(SignedDuration::ZERO),
        }
    }

    /// `75%` or `30m before`.
    pub fn label(&self) -> String {
        self.step.at.to_string()
    }
}

/// A ticket objective ready to run: every inherited value filled in and the calendar built.
#[derive(Clone, Debug)]
pub struct Objective {
    /// The metric.
    pub metric: Metric,
    /// The priority, or the request type for `request`.
    pub key: Arc<str>,
    /// The objective with its origins, for explanations.
    pub effective: EffectiveTicketObjective,
    /// The target.
    pub target: Target,
    /// The calendar time counts in.
    pub calendar: BusinessCalendar,
    /// Statuses that pause the clock.
    pub pause_on: Vec<Arc<str>>,
    /// What a reopen does.
    pub reopen: ReopenRule,
    /// The escalation rungs for this metric and key, in ladder order.
    pub ladder: Vec<Arc<Rung>>,
    /// Each rung's threshold for a duration target, computed once.
    duration_thresholds: Vec<SignedDuration>,
    /// Business-day deadlines of the calendar, shared by every objective on it.
    due_memo: Arc<DueMemo>,
}

/// The close of the N-th business day after each local start date, per calendar: the same for
/// every ticket started that day, whatever its terms.
#[derive(Debug, Default)]
pub struct DueMemo(Mutex<FastMap<(u32, Date), Timestamp>>);

impl Objective {
    /// The threshold of the `rung_idx`-th rung of `ladder` on a cycle with `target`.
    pub fn threshold(&self, rung_idx: usize, target: SignedDuration) -> SignedDuration {
        match (self.target, self.duration_thresholds.get(rung_idx)) {
            (Target::Duration(duration), Some(threshold)) if duration == target => *threshold,
            _ => self.ladder[rung_idx].threshold(target),
        }
    }

    /// Whether `status` pauses the clock.
    pub fn pauses(&self, status: &str) -> bool {
        self.pause_on.iter().any(|paused| paused.len() == status.len() && &**paused == status)
    }

    /// The calendar's name.
    pub fn calendar_name(&self) -> &str {
        &self.effective.calendar.value
    }

    /// The target as business time for a cycle starting at `start`: a duration as it is, `N`
    /// business days as the business time from `start` to the close of the N-th open day.
    /// `None` when the deadline lies beyond the calendar's horizon.
    pub fn business_target(&self, start: Timestamp) -> Option<SignedDuration> {
        match self.target {
            Target::Duration(duration) => Some(duration),
            Target::BusinessDays(days) => {
                let date = self.calendar.zone().to_datetime(start).date();
                let memo =
                    self.due_memo.0.lock().ok().and_then(|memo| memo.get(&(days, date)).copied());
                let due = match memo {
                    Some(due) => due,
                    None => {
                        let due = self.effective.due(&self.calendar, start).ok()??;
                        if let Ok(mut memo) = self.due_memo.0.lock() {
                            memo.insert((days, date), due);
                        }
                        due
                    }
                };
                self.calendar.elapsed(start, due).ok()
            }
        }
    }
}

/// The terms a ticket keeps: its objectives from the revisions in force when its clocks
/// started.
#[derive(Debug)]
pub struct PinnedTerms {
    /// The customer.
    pub customer: String,
    /// The service.
    pub service: String,
    /// The region the terms were resolved for.
    pub region: Option<String>,
    /// The agreement revisions merged, least specific first.
    pub revisions: Vec<RevisionRef>,
    /// The customer's time zone (compliance periods).
    pub zone: TimeZone,
    /// Ticket objectives by metric (in [`Metric::ALL`] order) and key; only those with a
    /// target.
    objectives: [FastMap<Arc<str>, Arc<Objective>>; Metric::ALL.len()],
    /// Compliance objectives by name.
    pub compliance: BTreeMap<String, ComplianceObjective>,
}

impl PinnedTerms {
    /// The objective for `metric` and `key`.
    pub fn objective(&self, metric: Metric, key: &str) -> Option<&Arc<Objective>> {
        self.objectives[metric_idx(metric)].get(key)
    }

    /// Every objective.
    pub fn objectives(&self) -> impl Iterator<Item = &Arc<Objective>> {
        self.objectives.iter().flat_map(FastMap::values)
    }

    /// `acme-sla r3, corporate-sla r1`: the revisions, most specific first.
    pub fn revision_label(&self) -> String {
        let labels: Vec<String> = self
            .revisions
            .iter()
            .rev()
            .map(|revision| format!("{} {}", revision.agreement, revision.revision))
            .collect();
        labels.join(", ")
    }
}

pub(crate) fn metric_idx(metric: Metric) -> usize {
    Metric::ALL.iter().position(|m| *m == metric).expect("every metric is in Metric::ALL")
}

/// Terms from one catalog of documents, the same at every instant (the agreements' own term
/// dates still apply).
#[derive(Clone, Debug)]
pub struct CatalogTerms {
    catalog: Catalog,
    revisions: BTreeMap<String, String>,
    calendars: HashMap<String, (BusinessCalendar, Arc<DueMemo>)>,
    // Keyed by a hash of the query, so a hit allocates nothing; the entries under one hash
    // hold their full keys.
    cache: FastMap<u64, Vec<(CacheKey, Pinned)>>,
}

// The query and the agreements in force (by position in the catalog): terms differ from one
// date to the next only when an agreement starts or ends.
type CacheKey = (String, String, Option<String>, Option<String>, Vec<usize>);
type Pinned = Result<Arc<PinnedTerms>, String>;

fn same_query(key: &CacheKey, who: &Who<'_>, in_force: impl Iterator<Item = usize>) -> bool {
    key.0 == who.customer
        && key.1 == who.service
        && key.2.as_deref() == who.site
        && key.3.as_deref() == who.region
        && key.4.iter().copied().eq(in_force)
}

impl CatalogTerms {
    /// Terms from `catalog`; `revisions` names each agreement's revision (missing ones read
    /// `current`).
    pub fn new(catalog: Catalog, revisions: BTreeMap<String, String>) -> CatalogTerms {
        let mut calendars: HashMap<String, (BusinessCalendar, Arc<DueMemo>)> = catalog
            .calendars
            .iter()
            .map(|(name, doc)| (name.clone(), (doc.calendar.clone(), Arc::default())))
            .collect();
        calendars
            .entry(ROUND_THE_CLOCK.to_owned())
            .or_insert_with(|| (BusinessCalendar::always_open(TimeZone::UTC), Arc::default()));
        CatalogTerms { catalog, revisions, calendars, cache: FastMap::default() }
    }

    /// The catalog.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }
}

impl TermsSource for CatalogTerms {
    fn terms(&mut self, who: &Who<'_>, at: Timestamp) -> Result<Arc<PinnedTerms>, String> {
        let customer_zone = self.catalog.customers.get(who.customer).map(|c| &c.time_zone);
        let on = customer_zone.unwrap_or(&TimeZone::UTC).to_datetime(at).date();
        let agreements = &self.catalog.agreements;
        let in_force = || {
            agreements.values().enumerate().filter(|(_, a)| a.in_force_on(on)).map(|(idx, _)| idx)
        };
        let mut hasher = FastHasher::default();
        (who.customer, who.service, who.site, who.region).hash(&mut hasher);
        in_force().for_each(|idx| hasher.write_usize(idx));
        let entries = self.cache.entry(hasher.finish()).or_default();
        if let Some((_, cached)) = entries.iter().find(|(key, _)| same_query(key, who, in_force()))
        {
            return cached.clone();
        }
        let zone = customer_zone.cloned().unwrap_or(TimeZone::UTC);
        let pinned = pin(&self.catalog, &self.calendars, &self.revisions, who, on, zone);
        let key: CacheKey = (
            who.customer.to_owned(),
            who.service.to_owned(),
            who.site.map(str::to_owned),
            who.region.map(str::to_owned),
            in_force().collect(),
        );
        entries.push((key, pinned.clone()));
        pinned
    }
}

/// Resolves and builds the terms for `who` on `on`.
pub fn pin(
    catalog: &Catalog,
    calendars: &HashMap<String, (BusinessCalendar, Arc<DueMemo>)>,
    revisions: &BTreeMap<String, String>,
    who: &Who<'_>,
    on: Date,
    zone: TimeZone,
) -> Result<Arc<PinnedTerms>, String> {
    let query = Query {
        customer: who.customer,
        service: who.service,
        region: who.region,
        site: who.site,
        on,
    };
    let effective = resolve(catalog, &query).map_err(|error| error.to_string())?;
    let ladder = effective.terms.escalation.as_ref().map(|steps| steps.value.as_slice());
    let mut objectives: [FastMap<Arc<str>, Arc<Objective>>; Metric::ALL.len()] = Default::default();
    for (metric, key) in effective.terms.tickets.keys() {
        let Some(resolved) = effective.ticket(*metric, key) else { continue };
        let Some(target) = resolved.target.as_ref().map(|target| target.value) else { continue };
        let Some((calendar, due_memo)) = calendars.get(&resolved.calendar.value) else {
            return Err(format!(
                "{} {key}: unknown calendar {}",
                metric.as_str(),
                resolved.calendar.value
            ));
        };
        let rungs: Vec<Arc<Rung>> = ladder
            .unwrap_or_default()
            .iter()
            .enumerate()
            .filter(|(_, step)| {
                (step.objectives.is_empty() || step.objectives.contains(metric))
                    && (step.priorities.is_empty() || step.priorities.iter().any(|p| p == key))
            })
            .map(|(idx, step)| Arc::new(Rung { step: step.clone(), idx }))
            .collect();
        let objective = Objective {
            metric: *metric,
            key: Arc::from(key.as_str()),
            target,
            calendar: calendar.clone(),
            pause_on: resolved.pause_on.value.iter().map(|s| Arc::from(s.as_str())).collect(),
            reopen: resolved.reopen.value,
            duration_thresholds: match target {
                Target::Duration(duration) => {
                    rungs.iter().map(|rung| rung.threshold(duration)).collect()
                }
                Target::BusinessDays(_) => Vec::new(),
            },
            ladder: rungs,
            effective: resolved,
            due_memo: due_memo.clone(),
        };
        objectives[metric_idx(*metric)].insert(Arc::from(key.as_str()), Arc::new(objective));
    }
    Ok(Arc::new(PinnedTerms {
        customer: effective.customer.clone(),
        service: effective.service.clone(),
        region: effective.region.clone(),
        revisions: effective
            .applied
            .iter()
            .map(|applied| RevisionRef {
                agreement: applied.name.clone(),
                revision: revisions
                    .get(&applied.name)
                    .cloned()
                    .unwrap_or_else(|| "current".to_owned()),
            })
            .collect(),
        zone,
        objectives,
        compliance: effective.terms.compliance.clone(),
    }))
}
