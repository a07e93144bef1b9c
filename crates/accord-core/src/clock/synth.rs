//! Synthetic ticket histories: a seeded generator of plausible helpdesk event streams, for
//! benchmarks of the clock engine and for demos.
//!
//! It lives apart from [`super::event`] because nothing in the engine depends on it: it only
//! produces the values a helpdesk would send. The generator is deterministic (its own small
//! SplitMix64 PRNG, no clock reading), so a seed names a workload.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::sync::Arc;

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::{Disambiguation, TimeZone};
use jiff::{SignedDuration, Timestamp};

use super::event::{Author, Created, EventKind, Score, TicketEvent, TicketType, Updated};
use crate::agreement::{Catalog, Query, resolve};

/// A customer of the synthetic helpdesk.
#[derive(Clone, Debug)]
pub struct SynthCustomer {
    /// The customer's name.
    pub name: String,
    /// Where the customer works: most tickets are created in its business hours.
    pub zone: TimeZone,
    /// The services a ticket can be about; a customer without services gets no tickets.
    pub services: Vec<String>,
    /// The customer's sites; tickets carry one when there are any.
    pub sites: Vec<String>,
}

/// What to generate: how many tickets, when, for whom, and with which vocabulary.
#[derive(Clone, Debug)]
pub struct SynthSpec {
    /// The PRNG seed: the same spec gives the same events.
    pub seed: u64,
    /// How many tickets.
    pub tickets: usize,
    /// The first ticket is created at or after this instant.
    pub start: Timestamp,
    /// Tickets are created within this many days (24 h each) from `start`; 0 counts as 1.
    pub days: u32,
    /// Who opens tickets, picked uniformly.
    pub customers: Vec<SynthCustomer>,
    /// Priorities with their weights, most urgent first: agents answer urgent tickets faster.
    /// When all weights are 0, priorities are picked uniformly.
    pub priorities: Vec<(String, u32)>,
    /// Request types; when not empty, about 20 % of tickets are requests with one of them.
    pub request_types: Vec<String>,
    /// Statuses a ticket waits in (`waiting_on_customer`...); when not empty, about 40 % of
    /// tickets wait once or twice.
    pub waiting_statuses: Vec<String>,
}

/// The customers of `catalog`, each with the services an SLA in force on `on` covers for it
/// (at its first site); customers without any are left out.
pub fn customers(catalog: &Catalog, on: Date) -> Vec<SynthCustomer> {
    catalog
        .customers
        .values()
        .map(|customer| SynthCustomer {
            name: customer.meta.name.clone(),
            zone: customer.time_zone.clone(),
            services: catalog
                .services
                .keys()
                .filter(|service| {
                    let query = Query {
                        customer: &customer.meta.name,
                        service,
                        region: None,
                        site: customer.sites.first().map(|site| site.name.as_str()),
                        on,
                    };
                    resolve(catalog, &query).is_ok()
                })
                .cloned()
                .collect(),
            sites: customer.sites.iter().map(|site| site.name.clone()).collect(),
        })
        .filter(|customer| !customer.services.is_empty())
        .collect()
}

/// Generates the events of `spec.tickets` tickets, sorted by `(at, id)`: the order a helpdesk
/// would send them.
///
/// Ticket `T-000001` is created first; its events are `T-000001-01`, `T-000001-02`... in time
/// order. Every ticket is created (about 80 % of them in 08:00-18:00, Monday to Friday, in
/// the customer's zone), usually opened and assigned, answered, sometimes discussed, put on
/// hold and noted on, solved, sometimes reopened, mostly closed and sometimes rated. With
/// waiting statuses a ticket has about 10 events on average. Equal strings share one
/// [`Arc`], and a ticket's events share its id.
///
/// Returns nothing when no customer has a service or there are no priorities.
///
/// # Examples
///
/// ```
/// use accord_core::clock::synth::{SynthCustomer, SynthSpec, generate};
/// use accord_core::clock::EventKind;
/// use jiff::tz::TimeZone;
///
/// let spec = SynthSpec {
///     seed: 7,
///     tickets: 100,
///     start: "2025-03-03T00:00:00Z".parse().unwrap(),
///     days: 14,
///     customers: vec![SynthCustomer {
///         name: "Acme".to_string(),
///         zone: TimeZone::get("Europe/Berlin").unwrap(),
///         services: vec!["Email".to_string()],
///         sites: vec![],
///     }],
///     priorities: vec![("P1".to_string(), 1), ("P2".to_string(), 9)],
///     request_types: vec!["access".to_string()],
///     waiting_statuses: vec!["waiting_on_customer".to_string()],
/// };
/// let events = generate(&spec);
/// assert_eq!(events, generate(&spec));
/// let n_created = events.iter().filter(|e| matches!(e.kind, EventKind::Created(_))).count();
/// assert_eq!(n_created, 100);
/// assert!(events.is_sorted_by(|a, b| (a.at, &a.id) <= (b.at, &b.id)));
/// ```
pub fn generate(spec: &SynthSpec) -> Vec<TicketEvent> {
    let vocabulary = Vocabulary::new(spec);
    if vocabulary.customers.is_empty() || vocabulary.priorities.is_empty() {
        return Vec::new();
    }
    let mut rng = SplitMix64(spec.seed);
    let span = SignedDuration::from_hours(24 * i64::from(spec.days.max(1)));

    // Creation instants come first and are sorted, so ticket numbers follow creation order, as
    // a helpdesk's do.
    let mut openings: Vec<(Timestamp, usize)> = (0..spec.tickets)
        .map(|_| {
            let customer_idx = rng.index(vocabulary.customers.len());
            let zone = vocabulary.customers[customer_idx].zone;
            (creation_instant(&mut rng, zone, spec.start, span), customer_idx)
        })
        .collect();
    openings.sort_by_key(|&(created_at, _)| created_at);

    let mut events = Vec::with_capacity(spec.tickets * 11);
    let mut life = Vec::with_capacity(32);
    let mut id = String::with_capacity(16);
    for (ticket_idx, (created_at, customer_idx)) in openings.into_iter().enumerate() {
        id.clear();
        write!(id, "T-{:06}", ticket_idx + 1).expect("writing to a String succeeds");
        let ticket: Arc<str> = Arc::from(id.as_str());
        let customer = &vocabulary.customers[customer_idx];
        live(&mut rng, &vocabulary, customer, created_at, ticket_idx, &mut life);
        // Stable: events at the same instant keep the order they happened in.
        life.sort_by_key(|&(at, _)| at);
        for (event_idx, (at, kind)) in life.drain(..).enumerate() {
            id.truncate(ticket.len());
            write!(id, "-{:02}", event_idx + 1).expect("writing to a String succeeds");
            let event =
                TicketEvent { id: Arc::from(id.as_str()), ticket: ticket.clone(), at, kind };
            events.push(event);
        }
    }
    events.sort_unstable_by(|a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)));
    events
}

/// Share of tickets created in business hours on purpose. The rest are created at any time,
/// and 50 of a week's 168 hours are business hours, so about 80 % of all tickets are created
/// in business hours: 71.5 + 28.5 * 50 / 168 ≈ 80.
const BUSINESS_HOURS_PER_MILLE: u64 = 715;

/// When business hours start, local time.
const BUSINESS_DAY_START: Time = jiff::civil::time(8, 0, 0, 0);

/// How long business hours last (08:00-18:00).
const BUSINESS_DAY: SignedDuration = SignedDuration::from_hours(10);

/// Rating comments, by how the customer felt.
const GOOD_COMMENTS: [&str; 3] =
    ["Quick and helpful, thanks", "Solved on the first try", "Clear and friendly"];
const BAD_COMMENTS: [&str; 3] =
    ["Took far too long", "Had to chase you twice", "The problem came back"];

/// Star ratings 1 to 5 as running per-mille sums: 5 %, 5 %, 10 %, 30 %, 50 %.
const STARS: [u64; 5] = [50, 100, 200, 500, 1000];

/// Extra customer-agent exchanges (0 to 3) as running per-mille sums: 40 %, 30 %, 20 %, 10 %.
const EXCHANGES: [u64; 4] = [400, 700, 900, 1000];

const MINUTE: SignedDuration = SignedDuration::from_mins(1);
const HOUR: SignedDuration = SignedDuration::from_hours(1);
const DAY: SignedDuration = SignedDuration::from_hours(24);

/// The spec's strings, interned: one [`Arc`] per distinct string.
struct Vocabulary<'a> {
    /// Invariant: every customer has at least one service.
    customers: Vec<CustomerWords<'a>>,
    priorities: Vec<Arc<str>>,
    /// Running sums of the priority weights; the last one, the total, is at least 1 when there
    /// are priorities.
    priority_weights: Vec<u64>,
    request_types: Vec<Arc<str>>,
    waiting_statuses: Vec<Arc<str>>,
    new: Arc<str>,
    open: Arc<str>,
    group: Arc<str>,
    good_comments: Vec<Arc<str>>,
    bad_comments: Vec<Arc<str>>,
}

struct CustomerWords<'a> {
    name: Arc<str>,
    zone: &'a TimeZone,
    services: Vec<Arc<str>>,
    sites: Vec<Arc<str>>,
}

impl<'a> Vocabulary<'a> {
    fn new(spec: &'a SynthSpec) -> Self {
        let mut interner = Interner::default();
        let customers = spec
            .customers
            .iter()
            .filter(|customer| !customer.services.is_empty())
            .map(|customer| CustomerWords {
                name: interner.intern(&customer.name),
                zone: &customer.zone,
                services: interner.intern_all(&customer.services),
                sites: interner.intern_all(&customer.sites),
            })
            .collect();
        let priorities = spec.priorities.iter().map(|(name, _)| interner.intern(name)).collect();
        let uniform = spec.priorities.iter().all(|&(_, weight)| weight == 0);
        let priority_weights = spec
            .priorities
            .iter()
            .scan(0, |total, &(_, weight)| {
                *total += if uniform { 1 } else { u64::from(weight) };
                Some(*total)
            })
            .collect();
        Vocabulary {
            customers,
            priorities,
            priority_weights,
            request_types: interner.intern_all(&spec.request_types),
            waiting_statuses: interner.intern_all(&spec.waiting_statuses),
            new: interner.intern("new"),
            open: interner.intern("open"),
            group: interner.intern("service-desk"),
            good_comments: GOOD_COMMENTS.iter().map(|comment| interner.intern(comment)).collect(),
            bad_comments: BAD_COMMENTS.iter().map(|comment| interner.intern(comment)).collect(),
        }
    }
}

#[derive(Default)]
struct Interner(HashSet<Arc<str>>);

impl Interner {
    fn intern(&mut self, word: &str) -> Arc<str> {
        if let Some(interned) = self.0.get(word) {
            return interned.clone();
        }
        let interned: Arc<str> = Arc::from(word);
        self.0.insert(interned.clone());
        interned
    }

    fn intern_all(&mut self, words: &[String]) -> Vec<Arc<str>> {
        words.iter().map(|word| self.intern(word)).collect()
    }
}

/// A creation instant in `[start, start + span)`.
fn creation_instant(
    rng: &mut SplitMix64,
    zone: &TimeZone,
    start: Timestamp,
    span: SignedDuration,
) -> Timestamp {
    let last = span - SignedDuration::from_secs(1);
    let any_time = after(start, rng.uniform(SignedDuration::ZERO, last));
    if !rng.chance(BUSINESS_HOURS_PER_MILLE) {
        return any_time;
    }
    let end = after(start, span);
    // Rejection sampling: a random day of the span, if it is a weekday, at a random local time
    // of its business hours. A span without business hours falls back to any time.
    for _ in 0..32 {
        let day_at = after(start, rng.uniform(SignedDuration::ZERO, last));
        let day = zone.to_datetime(day_at).date();
        if matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday) {
            continue;
        }
        let time = BUSINESS_DAY_START
            .checked_add(
                rng.uniform(SignedDuration::ZERO, BUSINESS_DAY - SignedDuration::from_secs(1)),
            )
            .expect("business hours end before midnight");
        // Compatible: a local time in a DST gap moves forward by the gap, as wall clocks do.
        let Ok(at) = zone
            .to_ambiguous_timestamp(day.to_datetime(time))
            .disambiguate(Disambiguation::Compatible)
        else {
            continue;
        };
        if start <= at && at < end {
            return at;
        }
    }
    any_time
}

/// Appends one ticket's events to `life` in the order they happen, except internal notes,
/// which fall anywhere before the first solve: the caller sorts.
fn live(
    rng: &mut SplitMix64,
    vocabulary: &Vocabulary<'_>,
    customer: &CustomerWords<'_>,
    created_at: Timestamp,
    ticket_idx: usize,
    life: &mut Vec<(Timestamp, EventKind)>,
) {
    let n_priorities = vocabulary.priorities.len();
    let priority_idx = rng.weighted(&vocabulary.priority_weights);
    // Agents answer the most urgent of n priorities n times faster than the least urgent:
    // their delays are scaled by (rank + 1) / n.
    let pace = (priority_idx + 1) as f64 / n_priorities as f64;
    let (ticket_type, request_type) = if !vocabulary.request_types.is_empty() && rng.chance(200) {
        (TicketType::Request, Some(rng.pick(&vocabulary.request_types).clone()))
    } else {
        (TicketType::Incident, None)
    };
    let created = Created {
        customer: customer.name.clone(),
        service: rng.pick(&customer.services).clone(),
        priority: vocabulary.priorities[priority_idx].clone(),
        ticket_type,
        request_type,
        status: vocabulary.new.clone(),
        site: (!customer.sites.is_empty()).then(|| rng.pick(&customer.sites).clone()),
        region: None,
        group: None,
        external_ref: Some(Arc::from(format!("HD-{}", 10_001 + ticket_idx))),
    };
    let set_status = |status: &Arc<str>| {
        EventKind::Updated(Box::new(Updated { status: Some(status.clone()), ..Updated::default() }))
    };
    let comment = |author| EventKind::Comment { author, public: true };

    let mut at = created_at;
    life.push((at, EventKind::Created(Box::new(created))));
    if rng.chance(850) {
        at = after(at, rng.delay(MINUTE, 2 * HOUR, pace));
        let assigned = Updated {
            status: Some(vocabulary.open.clone()),
            group: Some(vocabulary.group.clone()),
            ..Updated::default()
        };
        life.push((at, EventKind::Updated(Box::new(assigned))));
    }
    at = after(at, rng.delay(2 * MINUTE, 8 * HOUR, pace));
    life.push((at, comment(Author::Agent)));
    if n_priorities > 1 && rng.chance(50) {
        let other_idx = (priority_idx + 1 + rng.index(n_priorities - 1)) % n_priorities;
        at = after(at, rng.delay(10 * MINUTE, DAY, 1.0));
        let reprioritized = Updated {
            priority: Some(vocabulary.priorities[other_idx].clone()),
            ..Updated::default()
        };
        life.push((at, EventKind::Updated(Box::new(reprioritized))));
    }
    for _ in 0..rng.weighted(&EXCHANGES) {
        at = after(at, rng.delay(10 * MINUTE, DAY, 1.0));
        life.push((at, comment(Author::Customer)));
        at = after(at, rng.delay(5 * MINUTE, 8 * HOUR, pace));
        life.push((at, comment(Author::Agent)));
    }
    if !vocabulary.waiting_statuses.is_empty() && rng.chance(400) {
        let n_spells = 1 + usize::from(rng.chance(350));
        for _ in 0..n_spells {
            at = after(at, rng.delay(MINUTE, 4 * HOUR, pace));
            life.push((at, set_status(rng.pick(&vocabulary.waiting_statuses))));
            at = after(at, rng.delay(30 * MINUTE, 3 * DAY, 1.0));
            life.push((at, comment(Author::Customer)));
            // Helpdesks reopen a waiting ticket as soon as the customer answers.
            at = after(at, rng.uniform(SignedDuration::ZERO, 2 * MINUTE));
            life.push((at, set_status(&vocabulary.open)));
            at = after(at, rng.delay(5 * MINUTE, 8 * HOUR, pace));
            life.push((at, comment(Author::Agent)));
        }
    }
    at = after(at, rng.delay(10 * MINUTE, 2 * DAY, pace));
    life.push((at, EventKind::Solved));
    if rng.chance(300) {
        let worked = at.duration_since(created_at);
        for _ in 0..1 + rng.index(3) {
            life.push((
                after(created_at, rng.uniform(SignedDuration::ZERO, worked)),
                EventKind::Note,
            ));
        }
    }
    if rng.chance(60) {
        at = after(at, rng.delay(HOUR, 3 * DAY, 1.0));
        life.push((at, EventKind::Reopened { status: Some(vocabulary.open.clone()) }));
        at = after(at, rng.delay(5 * MINUTE, 8 * HOUR, pace));
        life.push((at, comment(Author::Agent)));
        at = after(at, rng.delay(30 * MINUTE, DAY, pace));
        life.push((at, EventKind::Solved));
    }
    // The helpdesk closes a solved ticket after 3 to 5 days; ratings come before, within two.
    if rng.chance(900) {
        life.push((after(at, rng.uniform(3 * DAY, 5 * DAY)), EventKind::Closed));
    }
    if rng.chance(300) {
        let stars = 1 + rng.weighted(&STARS);
        let comment = rng.chance(400).then(|| {
            let comments =
                if stars >= 4 { &vocabulary.good_comments } else { &vocabulary.bad_comments };
            rng.pick(comments).clone()
        });
        let score = Score::Stars(u8::try_from(stars).expect("at most 5 stars"));
        life.push((
            after(at, rng.delay(10 * MINUTE, 2 * DAY, 1.0)),
            EventKind::Rating { score, comment },
        ));
    }
}

/// `at` plus `delay`, saturating at the end of time so a history stays in order.
fn after(at: Timestamp, delay: SignedDuration) -> Timestamp {
    at.checked_add(delay).unwrap_or(Timestamp::MAX)
}

/// SplitMix64 (Steele, Lea and Flood, 2014): small, fast and good enough for workloads; not
/// for anything that needs unpredictability.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` for `n > 0` (Lemire's multiply-shift; the bias, below n / 2^64, does
    /// not matter here).
    fn below(&mut self, n: u64) -> u64 {
        let wide = u128::from(self.next_u64()) * u128::from(n);
        u64::try_from(wide >> 64).expect("the high half of a u128 fits a u64")
    }

    /// Uniform in `0..len` for `len > 0`.
    fn index(&mut self, len: usize) -> usize {
        let len = u64::try_from(len).expect("lengths fit a u64");
        usize::try_from(self.below(len)).expect("below a usize")
    }

    fn pick<'v, T>(&mut self, values: &'v [T]) -> &'v T {
        &values[self.index(values.len())]
    }

    fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    /// An index into running sums of weights, with probability proportional to its weight.
    fn weighted(&mut self, running_sums: &[u64]) -> usize {
        let total = *running_sums.last().expect("at least one weight");
        let draw = self.below(total);
        running_sums.partition_point(|&sum| sum <= draw)
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        let mantissa = (self.next_u64() >> 11) as f64;
        mantissa / (1_u64 << 53) as f64
    }

    /// Whole seconds, uniform in `[min, max]`.
    fn uniform(&mut self, min: SignedDuration, max: SignedDuration) -> SignedDuration {
        let range = (max - min).as_secs().unsigned_abs();
        let offset = self.below(range.saturating_add(1));
        min + SignedDuration::from_secs(i64::try_from(offset).expect("at most the range"))
    }

    /// Whole seconds, log-uniform in `[min, max]` (`min > 0`: as often a minute or two as an
    /// hour or two), then scaled by `pace`.
    fn delay(&mut self, min: SignedDuration, max: SignedDuration, pace: f64) -> SignedDuration {
        let (min_secs, max_secs) = (min.as_secs_f64(), max.as_secs_f64());
        let secs = pace * min_secs * (max_secs / min_secs).powf(self.unit());
        SignedDuration::try_from_secs_f64(secs.round()).unwrap_or(max)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use jiff::civil::Weekday;
    use jiff::tz::TimeZone;

    use super::*;

    fn spec(seed: u64, tickets: usize) -> SynthSpec {
        let customer = |name: &str, zone: &str, services: &[&str], sites: &[&str]| SynthCustomer {
            name: name.to_string(),
            zone: TimeZone::get(zone).unwrap(),
            services: services.iter().map(ToString::to_string).collect(),
            sites: sites.iter().map(ToString::to_string).collect(),
        };
        SynthSpec {
            seed,
            tickets,
            start: "2025-03-03T00:00:00Z".parse().unwrap(),
            days: 60,
            customers: vec![
                customer("Acme", "Europe/Berlin", &["Email", "ERP"], &["Berlin", "Munich"]),
                customer("Globex", "America/New_York", &["Email", "VPN"], &[]),
                customer("Initech", "Asia/Tokyo", &["Payroll"], &["Osaka"]),
            ],
            priorities: ["P1", "P2", "P3", "P4"]
                .into_iter()
                .zip([3, 12, 45, 40])
                .map(|(name, weight)| (name.to_string(), weight))
                .collect(),
            request_types: vec!["access".to_string(), "hardware".to_string()],
            waiting_statuses: vec![
                "waiting_on_customer".to_string(),
                "waiting_on_vendor".to_string(),
            ],
        }
    }

    fn by_ticket(events: &[TicketEvent]) -> HashMap<&str, Vec<&TicketEvent>> {
        let mut tickets: HashMap<&str, Vec<&TicketEvent>> = HashMap::new();
        for event in events {
            tickets.entry(&event.ticket).or_default().push(event);
        }
        tickets
    }

    fn created(event: &TicketEvent) -> Option<&Created> {
        match &event.kind {
            EventKind::Created(created) => Some(created),
            _ => None,
        }
    }

    #[test]
    fn same_spec_gives_same_events() {
        let events = generate(&spec(42, 500));
        assert_eq!(events, generate(&spec(42, 500)));
        assert_ne!(events, generate(&spec(43, 500)));
    }

    #[test]
    fn tickets_have_about_ten_events() {
        let events = generate(&spec(1, 2_000));
        let mean = events.len() as f64 / 2_000.0;
        assert!((9.5..=10.5).contains(&mean), "mean {mean} events per ticket");
    }

    #[test]
    fn events_are_sorted_and_each_ticket_starts_with_created() {
        let spec = spec(2, 2_000);
        let events = generate(&spec);
        assert!(events.is_sorted_by(|a, b| (a.at, &a.id) <= (b.at, &b.id)));
        let end = spec.start + SignedDuration::from_hours(24 * i64::from(spec.days));
        let tickets = by_ticket(&events);
        assert_eq!(tickets.len(), 2_000);
        for (ticket, events) in tickets {
            assert!(created(events[0]).is_some(), "{ticket} starts with {:?}", events[0].kind);
            assert!((spec.start..end).contains(&events[0].at), "{ticket} created out of span");
            assert!(events.iter().skip(1).all(|event| created(event).is_none()));
            assert!(events.is_sorted_by_key(|event| event.at));
            assert!(events.iter().all(|event| Arc::ptr_eq(&event.ticket, &events[0].ticket)));
        }
    }

    #[test]
    fn event_ids_are_unique() {
        let events = generate(&spec(3, 2_000));
        let ids: HashSet<&str> = events.iter().map(|event| &*event.id).collect();
        assert_eq!(ids.len(), events.len());
        assert!(ids.contains("T-000001-01"));
        assert!(ids.contains("T-002000-01"));
    }

    #[test]
    fn one_customer_and_one_priority_yield_only_those() {
        let mut spec = spec(4, 500);
        spec.customers.truncate(1);
        spec.priorities = vec![("P2".to_string(), 1)];
        let events = generate(&spec);
        assert!(!events.is_empty());
        let acme = created(&events[0]).unwrap().customer.clone();
        for event in &events {
            match &event.kind {
                EventKind::Created(created) => {
                    assert!(Arc::ptr_eq(&created.customer, &acme));
                    assert_eq!(&*created.priority, "P2");
                    assert!(["Email", "ERP"].contains(&&*created.service));
                    assert!(["Berlin", "Munich"].contains(&created.site.as_deref().unwrap()));
                }
                EventKind::Updated(updated) => {
                    assert_eq!(updated.customer, None);
                    assert_eq!(updated.priority, None);
                }
                _ => {}
            }
        }
    }

    #[test]
    fn about_80_percent_are_created_in_business_hours() {
        let spec = spec(5, 4_000);
        let events = generate(&spec);
        let zones: HashMap<&str, &TimeZone> = spec
            .customers
            .iter()
            .map(|customer| (customer.name.as_str(), &customer.zone))
            .collect();
        let n_in_hours = events
            .iter()
            .filter_map(|event| Some((event.at, created(event)?)))
            .filter(|(created_at, created)| {
                let local = zones[&*created.customer].to_datetime(*created_at);
                !matches!(local.weekday(), Weekday::Saturday | Weekday::Sunday)
                    && (8..18).contains(&local.hour())
            })
            .count();
        let share = n_in_hours as f64 / 4_000.0;
        assert!((0.76..=0.84).contains(&share), "{share} created in business hours");
    }

    #[test]
    fn requests_and_waiting_follow_the_spec() {
        let events = generate(&spec(6, 2_000));
        let n_requests = events
            .iter()
            .filter_map(created)
            .filter(|created| created.ticket_type == TicketType::Request)
            .inspect(|created| assert!(created.request_type.is_some()))
            .count();
        assert!((300..=500).contains(&n_requests), "{n_requests} requests");

        let mut spec = spec(6, 2_000);
        spec.request_types.clear();
        spec.waiting_statuses.clear();
        let events = generate(&spec);
        assert!(events.iter().filter_map(created).all(|c| c.ticket_type == TicketType::Incident));
        assert!(events.iter().all(|event| match &event.kind {
            EventKind::Updated(updated) => updated.status.as_deref().is_none_or(|s| s == "open"),
            _ => true,
        }));
    }

    #[test]
    fn no_customers_with_services_give_no_events() {
        let mut spec = spec(7, 100);
        spec.customers.iter_mut().for_each(|customer| customer.services.clear());
        assert_eq!(generate(&spec), []);
    }
}
