//! Agreements as values: the catalog (services, customers, calendars, maintenance windows) and
//! the agreements (SLAs, OLAs, UCs) that promise service levels over it.
//!
//! Documents are read by `accord-format`; this module holds what they mean. Every value an
//! agreement sets carries its [`Origin`] (file, line, column and field path), so that the
//! effective terms of a customer and service ([`resolve`]) can say where each value came from,
//! and so that checks ([`check`]) and revision diffs ([`diff`]) can point at the source.
//!
//! The inheritable part of an agreement is [`Terms`]: every field is optional, and a more
//! specific level fills or overrides the fields of a less specific one ([`Terms::merge`]).

mod check;
mod diff;
mod reporting;
mod resolve;
mod value;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use jiff::SignedDuration;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;

use crate::calendar::BusinessCalendar;
use crate::maintenance::Rrule;

pub use check::{Finding, Severity, check};
pub use diff::{Change, Described, describe_terms, diff, ticket_label};
pub use reporting::{ReportEvery, ReportFormat, ReportPeriod, Reporting};
pub use resolve::{
    Ambiguity, AppliedAgreement, EffectiveTerms, EffectiveTicketObjective, Query, ResolveError,
    resolve,
};
pub use value::{Money, Percent, ValueError, format_duration};

/// The name of the built-in round-the-clock calendar, usable wherever a calendar is named.
pub const ROUND_THE_CLOCK: &str = "24x7";

/// Where a value was written: file, 1-based line and column, and field path.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin {
    /// The file, as given to the loader.
    pub file: Arc<str>,
    /// 1-based line; 0 for built-in defaults.
    pub line: u32,
    /// 1-based column; 0 when unknown.
    pub column: u32,
    /// The field path within the document (`spec.objectives.resolution.P1.target`).
    pub field: String,
}

impl Origin {
    /// The origin of a built-in default.
    pub fn default_value(what: &str) -> Origin {
        Origin { file: Arc::from("built-in default"), line: 0, column: 0, field: what.to_owned() }
    }

    /// Whether this is a built-in default rather than a document.
    pub fn is_default(&self) -> bool {
        self.line == 0
    }
}

impl fmt::Display for Origin {
    /// `file:line` (the column and field are shown by callers that need them).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_default() {
            write!(f, "{}", self.file)
        } else {
            write!(f, "{}:{}", self.file, self.line)
        }
    }
}

/// A value and where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sourced<T> {
    /// The value.
    pub value: T,
    /// Where it was written.
    pub origin: Origin,
}

impl<T> Sourced<T> {
    /// Pairs a value with its origin.
    pub fn new(value: T, origin: Origin) -> Sourced<T> {
        Sourced { value, origin }
    }
}

/// The kinds of document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// A business calendar.
    Calendar,
    /// A customer.
    Customer,
    /// A planned maintenance window.
    MaintenanceWindow,
    /// A service in the catalog.
    Service,
    /// An SLA, OLA or UC.
    Agreement,
}

impl Kind {
    /// Every kind, in loading order (what others refer to first).
    pub const ALL: [Kind; 5] =
        [Kind::Calendar, Kind::Customer, Kind::MaintenanceWindow, Kind::Service, Kind::Agreement];

    /// The name used in documents (`kind: Agreement`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Calendar => "Calendar",
            Kind::Customer => "Customer",
            Kind::MaintenanceWindow => "MaintenanceWindow",
            Kind::Service => "Service",
            Kind::Agreement => "Agreement",
        }
    }

    /// Parses the name used in documents.
    pub fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What every document has: its name and descriptive fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metadata {
    /// `metadata.name`: unique per kind, `[a-z0-9][a-z0-9-]*`.
    pub name: String,
    /// A display name.
    pub title: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Free-form labels.
    pub labels: BTreeMap<String, String>,
    /// Where the document starts (its `kind` line) and the name's field.
    pub origin: Origin,
}

// ---------------------------------------------------------------------------------------------
// Catalog documents.

/// A calendar document, built.
#[derive(Clone, Debug)]
pub struct CalendarDoc {
    /// Name and description.
    pub meta: Metadata,
    /// The calendar.
    pub calendar: BusinessCalendar,
}

/// A service in the catalog: what is delivered and how customers get support.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    /// Name and description.
    pub meta: Metadata,
    /// Who is responsible for it (a team or person).
    pub owner: Option<String>,
    /// What is included.
    pub scope: Vec<String>,
    /// What is not included.
    pub exclusions: Vec<String>,
    /// Parts that can fail independently.
    pub components: Vec<Component>,
    /// How customers reach support.
    pub channels: Vec<SupportChannel>,
    /// Which calendar applies, by region or site; the most specific binding wins.
    pub calendars: Vec<CalendarBinding>,
}

/// A part of a service that can fail on its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Component {
    /// Unique within the service.
    pub name: Sourced<String>,
    /// Free text.
    pub description: Option<String>,
}

/// How support is reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChannelKind {
    /// A telephone line.
    Phone,
    /// An e-mail address.
    Email,
    /// A web portal.
    Portal,
    /// A chat.
    Chat,
}

impl ChannelKind {
    /// The word used in documents.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Phone => "phone",
            ChannelKind::Email => "email",
            ChannelKind::Portal => "portal",
            ChannelKind::Chat => "chat",
        }
    }
}

/// A support channel and when it is staffed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SupportChannel {
    /// Phone, e-mail, portal or chat.
    pub kind: ChannelKind,
    /// The number, address or URL.
    pub address: String,
    /// The calendar of the channel's hours.
    pub calendar: Option<Sourced<String>>,
}

/// The calendar a service uses in a region or at a site (neither: the default).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalendarBinding {
    /// A region (`Customer.sites[].region`).
    pub region: Option<String>,
    /// A site name.
    pub site: Option<String>,
    /// The calendar.
    pub calendar: Sourced<String>,
}

/// A customer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Customer {
    /// Name and description.
    pub meta: Metadata,
    /// The legal name.
    pub legal_name: Option<String>,
    /// The customer's time zone.
    pub time_zone: TimeZone,
    /// A service tier (free word).
    pub tier: Option<String>,
    /// People.
    pub contacts: Vec<Contact>,
    /// Sites and their regions.
    pub sites: Vec<Site>,
}

impl Customer {
    /// The distinct regions of the customer's sites, sorted.
    pub fn regions(&self) -> Vec<&str> {
        let mut regions: Vec<&str> =
            self.sites.iter().filter_map(|site| site.region.as_deref()).collect();
        regions.sort_unstable();
        regions.dedup();
        regions
    }
}

/// What a contact receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContactRole {
    /// Compliance reports.
    Reports,
    /// Escalations.
    Escalation,
    /// Technical matters.
    Technical,
    /// Invoices and credits.
    Billing,
}

impl ContactRole {
    /// The word used in documents.
    pub fn as_str(self) -> &'static str {
        match self {
            ContactRole::Reports => "reports",
            ContactRole::Escalation => "escalation",
            ContactRole::Technical => "technical",
            ContactRole::Billing => "billing",
        }
    }
}

/// A person at a customer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contact {
    /// Full name.
    pub name: String,
    /// E-mail address.
    pub email: Option<String>,
    /// Telephone number.
    pub phone: Option<String>,
    /// What they receive.
    pub roles: Vec<ContactRole>,
}

/// A customer site.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    /// Unique within the customer.
    pub name: String,
    /// The region it belongs to.
    pub region: Option<String>,
    /// Its zone, when not the customer's.
    pub time_zone: Option<TimeZone>,
}

/// Planned maintenance: once, or recurring by an RFC 5545 rule.
#[derive(Clone, Debug, PartialEq)]
pub struct MaintenanceWindow {
    /// Name and description.
    pub meta: Metadata,
    /// The services affected.
    pub services: Vec<Sourced<String>>,
    /// The components affected (all when empty).
    pub components: Vec<Sourced<String>>,
    /// The zone `start` and the rule are read in.
    pub time_zone: TimeZone,
    /// The start of the one-off window, or of the first occurrence.
    pub start: DateTime,
    /// How long each occurrence lasts.
    pub duration: SignedDuration,
    /// The recurrence, if any.
    pub rrule: Option<Rrule>,
    /// How long in advance customers are told.
    pub notice: Option<SignedDuration>,
}

// ---------------------------------------------------------------------------------------------
// Agreements.

/// SLA, OLA or UC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AgreementType {
    /// Service level agreement with a customer.
    Sla,
    /// Operational level agreement with an internal team.
    Ola,
    /// Underpinning contract with a third party.
    Uc,
}

impl AgreementType {
    /// The word used in documents.
    pub fn as_str(self) -> &'static str {
        match self {
            AgreementType::Sla => "sla",
            AgreementType::Ola => "ola",
            AgreementType::Uc => "uc",
        }
    }
}

/// Where an SLA sits in the multi-level structure; later levels override earlier ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    /// Applies to every customer.
    Corporate,
    /// Applies to one customer.
    Customer,
    /// Applies to one service (for all customers or the covered ones).
    Service,
}

impl Level {
    /// The word used in documents.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Corporate => "corporate",
            Level::Customer => "customer",
            Level::Service => "service",
        }
    }
}

/// Who promises and who receives.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parties {
    /// Who promises.
    pub provider: Option<String>,
    /// The customer (a Customer name for SLAs).
    pub customer: Option<Sourced<String>>,
    /// The internal team that promises (OLA).
    pub team: Option<String>,
    /// The vendor that promises (UC).
    pub vendor: Option<String>,
}

/// What an agreement applies to; an empty list means all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Customer names.
    pub customers: Vec<Sourced<String>>,
    /// Service names.
    pub services: Vec<Sourced<String>>,
    /// Regions (a narrower scope).
    pub regions: Vec<Sourced<String>>,
}

/// What happens at the end of the term.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Renewal {
    /// The agreement ends.
    None,
    /// It renews itself for `renewal_period_months`.
    Automatic,
    /// It is renewed by a new revision.
    Manual,
}

impl Renewal {
    /// The word used in documents.
    pub fn as_str(self) -> &'static str {
        match self {
            Renewal::None => "none",
            Renewal::Automatic => "automatic",
            Renewal::Manual => "manual",
        }
    }
}

/// How long and from when an agreement applies, and when it is reviewed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Term {
    /// First day.
    pub effective_from: Date,
    /// Last day (inclusive).
    pub effective_until: Option<Date>,
    /// The zone the dates are read in.
    pub time_zone: Option<TimeZone>,
    /// What happens at the end.
    pub renewal: Renewal,
    /// Months per renewal.
    pub renewal_period_months: Option<u32>,
    /// Months of notice to end it.
    pub notice_period_months: Option<u32>,
    /// Months between reviews.
    pub review_every_months: Option<u32>,
    /// The next review date.
    pub next_review: Option<Date>,
}

impl Term {
    /// Whether `date` is within the term.
    pub fn covers(&self, date: Date) -> bool {
        self.effective_from <= date && self.effective_until.is_none_or(|until| date <= until)
    }
}

/// What each party undertakes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Responsibilities {
    /// The provider's duties.
    pub provider: Vec<String>,
    /// The customer's duties.
    pub customer: Vec<String>,
}

/// What does not count against the objectives.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Exclusions {
    /// Maintenance windows excluded from measurement.
    pub maintenance: Vec<Sourced<String>>,
    /// Force majeure is excluded.
    pub force_majeure: bool,
    /// Delays and outages the customer caused are excluded.
    pub customer_caused: bool,
    /// Other exclusions, as text.
    pub other: Vec<String>,
}

/// What the customer pays.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pricing {
    /// The monthly fee.
    pub monthly_fee: Money,
}

/// An SLA, OLA or UC.
#[derive(Clone, Debug, PartialEq)]
pub struct Agreement {
    /// Name and description.
    pub meta: Metadata,
    /// SLA, OLA or UC.
    pub agreement_type: AgreementType,
    /// The level (SLAs; OLAs and UCs are `Service`).
    pub level: Level,
    /// Who promises and who receives.
    pub parties: Parties,
    /// What it applies to.
    pub covers: Coverage,
    /// When it applies.
    pub term: Option<Sourced<Term>>,
    /// What it promises (inheritable).
    pub terms: Terms,
}

impl Agreement {
    /// Whether the agreement's term includes `date` (no term: always).
    pub fn in_force_on(&self, date: Date) -> bool {
        self.term.as_ref().is_none_or(|term| term.value.covers(date))
    }
}

// ---------------------------------------------------------------------------------------------
// Terms: the inheritable part.

/// A ticket metric.
///
/// The variants are in document order (`Metric::ALL`), which is also the order of `Ord`, so
/// ticket objectives sort the way the reference lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Metric {
    /// First response.
    Response,
    /// Next response: from a public customer comment to the next public agent comment, once
    /// the first response has been given.
    NextResponse,
    /// Resolution.
    Resolution,
    /// Periodic update while open.
    Update,
    /// Request fulfilment (keyed by request type instead of priority).
    Request,
}

impl Metric {
    /// Every metric, in document order.
    pub const ALL: [Metric; 5] = [
        Metric::Response,
        Metric::NextResponse,
        Metric::Resolution,
        Metric::Update,
        Metric::Request,
    ];

    /// The word used in lists and references: `escalation[].objectives`,
    /// `compliance[].metric` and the `METRIC` of `METRIC.KEY` (`next_response.P1`).
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Response => "response",
            Metric::NextResponse => "next_response",
            Metric::Resolution => "resolution",
            Metric::Update => "update",
            Metric::Request => "request",
        }
    }

    /// The field under `objectives` that holds the metric's targets (`nextResponse`).
    ///
    /// Fields are camelCase like every key, while [`Metric::as_str`] is a value and uses
    /// snake_case like the other words of the format (`new_cycle`, `force_majeure`).
    pub fn field(self) -> &'static str {
        match self {
            Metric::Response => "response",
            Metric::NextResponse => "nextResponse",
            Metric::Resolution => "resolution",
            Metric::Update => "update",
            Metric::Request => "request",
        }
    }

    /// The metric for people: `next response`, as in the label `P1 next response`.
    pub fn label(self) -> &'static str {
        match self {
            Metric::Response => "response",
            Metric::NextResponse => "next response",
            Metric::Resolution => "resolution",
            Metric::Update => "update",
            Metric::Request => "request",
        }
    }

    /// Parses the word used in lists and references.
    pub fn parse(text: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|metric| metric.as_str() == text)
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A ticket target: a duration, or a number of business days.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Business or calendar time, by the objective's `hours`.
    Duration(SignedDuration),
    /// Whole business days of the objective's calendar.
    BusinessDays(u32),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Duration(duration) => write!(f, "{}", value::format_duration(*duration)),
            Target::BusinessDays(days) => write!(f, "{days}bd"),
        }
    }
}

/// Whether a ticket target counts business hours or round-the-clock time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HoursKind {
    /// The calendar's open hours.
    Business,
    /// Round the clock.
    Calendar,
}

impl HoursKind {
    /// The word used in documents.
    pub fn as_str(self) -> &'static str {
        match self {
            HoursKind::Business => "business",
            HoursKind::Calendar => "calendar",
        }
    }
}

/// What a reopened ticket does to its clocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReopenRule {
    /// The clock resumes where it stopped.
    Resume,
    /// A new clock cycle starts.
    NewCycle,
}

impl ReopenRule {
    /// The word used in documents.
    pub fn as_str(self) -> &'static str {
        match self {
            ReopenRule::Resume => "resume",
            ReopenRule::NewCycle => "new_cycle",
        }
    }
}

/// Names an objective of another agreement: `resolution.P1`, `availability.hosting`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ObjectiveKey {
    /// A ticket objective: metric and priority (or request type).
    Ticket(Metric, String),
    /// An availability objective by name.
    Availability(String),
    /// A latency objective by name.
    Latency(String),
}

impl ObjectiveKey {
    /// Parses `METRIC.KEY`, `availability.NAME` or `latency.NAME`.
    pub fn parse(text: &str) -> Option<ObjectiveKey> {
        let (head, key) = text.split_once('.')?;
        if key.is_empty() {
            return None;
        }
        match head {
            "availability" => Some(ObjectiveKey::Availability(key.to_owned())),
            "latency" => Some(ObjectiveKey::Latency(key.to_owned())),
            _ => Some(ObjectiveKey::Ticket(Metric::parse(head)?, key.to_owned())),
        }
    }
}

impl fmt::Display for ObjectiveKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ObjectiveKey::Ticket(metric, key) => write!(f, "{metric}.{key}"),
            ObjectiveKey::Availability(name) => write!(f, "availability.{name}"),
            ObjectiveKey::Latency(name) => write!(f, "latency.{name}"),
        }
    }
}

/// An objective of another agreement (OLA or UC) that underpins this one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectiveRef {
    /// The agreement's name.
    pub agreement: Sourced<String>,
    /// The objective.
    pub objective: Sourced<ObjectiveKey>,
}

/// A response, next response, resolution, update or request target; every field may be
/// inherited.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TicketObjective {
    /// The target.
    pub target: Option<Sourced<Target>>,
    /// Business or calendar hours (overrides `objectives.hours`).
    pub hours: Option<Sourced<HoursKind>>,
    /// The calendar (overrides `objectives.calendar`).
    pub calendar: Option<Sourced<String>>,
    /// Statuses that pause the clock (overrides `objectives.pauseOn`).
    pub pause_on: Option<Sourced<Vec<String>>>,
    /// What a reopen does (overrides `objectives.reopen`).
    pub reopen: Option<Sourced<ReopenRule>>,
    /// OLA and UC objectives that must fit inside this one.
    pub underpinned_by: Option<Sourced<Vec<ObjectiveRef>>>,
}

/// A measurement window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    /// A calendar day.
    Day,
    /// A calendar week (Monday to Sunday).
    Week,
    /// A calendar month.
    Month,
    /// A calendar quarter.
    Quarter,
    /// A calendar year.
    Year,
    /// The last N days, rolling.
    Rolling {
        /// N.
        days: u32,
    },
}

impl Window {
    /// The longest the window can be, for "what does this target allow" figures.
    pub fn typical_length(self) -> SignedDuration {
        let days = match self {
            Window::Day => 1,
            Window::Week => 7,
            Window::Month => 30,
            Window::Quarter => 91,
            Window::Year => 365,
            Window::Rolling { days } => i64::from(days),
        };
        SignedDuration::from_hours(24 * days)
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Window::Day => f.write_str("day"),
            Window::Week => f.write_str("week"),
            Window::Month => f.write_str("month"),
            Window::Quarter => f.write_str("quarter"),
            Window::Year => f.write_str("year"),
            Window::Rolling { days } => write!(f, "rolling {days}d"),
        }
    }
}

/// How availability is measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AvailabilityMethod {
    /// Share of eligible time that was up.
    Time,
    /// Share of good requests.
    Requests,
    /// Share of good time slices.
    Timeslices,
    /// Share of good requests, per time slice.
    RatioTimeslices,
}

impl AvailabilityMethod {
    /// The word used in documents.
    pub fn as_str(self) -> &'static str {
        match self {
            AvailabilityMethod::Time => "time",
            AvailabilityMethod::Requests => "requests",
            AvailabilityMethod::Timeslices => "timeslices",
            AvailabilityMethod::RatioTimeslices => "ratio_timeslices",
        }
    }
}

/// What does not count as downtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DowntimeExclusion {
    /// Planned maintenance windows.
    Maintenance,
    /// Force majeure incidents.
    ForceMajeure,
    /// Incidents the customer caused.
    CustomerCaused,
}

impl DowntimeExclusion {
    /// Every category.
    pub const ALL: [DowntimeExclusion; 3] = [
        DowntimeExclusion::Maintenance,
        DowntimeExclusion::ForceMajeure,
        DowntimeExclusion::CustomerCaused,
    ];

    /// The category named by a word of [`DowntimeExclusion::as_str`].
    pub fn parse(word: &str) -> Option<DowntimeExclusion> {
        DowntimeExclusion::ALL.into_iter().find(|category| category.as_str() == word)
    }

    /// The word used in documents.
    pub fn as_str(self) -> &'static str {
        match self {
            DowntimeExclusion::Maintenance => "maintenance",
            DowntimeExclusion::ForceMajeure => "force_majeure",
            DowntimeExclusion::CustomerCaused => "customer_caused",
        }
    }
}

/// Where measurements come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DataSource {
    /// A built-in probe.
    Probe(String),
    /// A pushed heartbeat.
    Heartbeat(String),
    /// Pushed good/total request counts.
    Requests(String),
    /// An external metric (imported SLOs).
    Metric(String),
    /// Incidents recorded by people.
    Incidents,
}

impl fmt::Display for DataSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataSource::Probe(name) => write!(f, "probe:{name}"),
            DataSource::Heartbeat(name) => write!(f, "heartbeat:{name}"),
            DataSource::Requests(name) => write!(f, "requests:{name}"),
            DataSource::Metric(name) => write!(f, "metric:{name}"),
            DataSource::Incidents => f.write_str("incidents"),
        }
    }
}

/// An availability objective; every field may be inherited by name.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AvailabilityObjective {
    /// The service measured.
    pub service: Option<Sourced<String>>,
    /// The component measured.
    pub component: Option<Sourced<String>>,
    /// The target share.
    pub target: Option<Sourced<Percent>>,
    /// The window.
    pub window: Option<Sourced<Window>>,
    /// The window's zone.
    pub time_zone: Option<Sourced<TimeZone>>,
    /// The method.
    pub method: Option<Sourced<AvailabilityMethod>>,
    /// Slice length (time-slice methods).
    pub timeslice: Option<Sourced<SignedDuration>>,
    /// Share a slice needs to be good (time-slice methods).
    pub slice_target: Option<Sourced<Percent>>,
    /// Outages shorter than this are ignored.
    pub minimum_downtime: Option<Sourced<SignedDuration>>,
    /// Share of a partial outage that counts.
    pub partial_weight: Option<Sourced<Percent>>,
    /// Share of a degraded period that counts.
    pub degraded_weight: Option<Sourced<Percent>>,
    /// What does not count as downtime.
    pub exclude: Option<Sourced<Vec<DowntimeExclusion>>>,
    /// Where measurements come from.
    pub source: Option<Sourced<DataSource>>,
    /// UC availability objectives behind this one.
    pub underpinned_by: Option<Sourced<Vec<ObjectiveRef>>>,
}

/// A latency objective: a percentile under a threshold over a window.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LatencyObjective {
    /// The service measured.
    pub service: Option<Sourced<String>>,
    /// The percentile (95 for p95).
    pub percentile: Option<Sourced<Percent>>,
    /// The threshold.
    pub threshold: Option<Sourced<SignedDuration>>,
    /// The window.
    pub window: Option<Sourced<Window>>,
    /// The window's zone.
    pub time_zone: Option<Sourced<TimeZone>>,
    /// Where measurements come from.
    pub source: Option<Sourced<DataSource>>,
}

/// A share of tickets that must meet their target per window.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ComplianceObjective {
    /// The metric counted.
    pub metric: Option<Sourced<Metric>>,
    /// The priority (all when absent).
    pub priority: Option<Sourced<String>>,
    /// The share.
    pub target: Option<Sourced<Percent>>,
    /// The window.
    pub window: Option<Sourced<Window>>,
}

/// When an escalation step fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Threshold {
    /// When this share of the target has elapsed.
    Share(Percent),
    /// This long before the breach.
    Before(SignedDuration),
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Threshold::Share(share) => write!(f, "{share}"),
            Threshold::Before(left) => write!(f, "{} before", value::format_duration(*left)),
        }
    }
}

/// Whether a notification waits for the person's working hours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuietHours {
    /// Notify at once.
    Ignore,
    /// Wait for the recipient's working hours (P1 breaches still notify at once).
    Respect,
}

/// One rung of an escalation ladder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EscalationStep {
    /// Which ticket metrics (all when empty).
    pub objectives: Vec<Metric>,
    /// Which priorities (all when empty).
    pub priorities: Vec<String>,
    /// When it fires.
    pub at: Threshold,
    /// Who is notified.
    pub notify: Vec<String>,
    /// Quiet-hours behaviour.
    pub quiet_hours: QuietHours,
    /// Where the step was written.
    pub origin: Origin,
}

/// An availability credit tier: below `below`, credit `credit` of the monthly fee.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CreditTier {
    /// Measured availability below this...
    pub below: Percent,
    /// ...earns this share of the monthly fee.
    pub credit: Percent,
}

/// A per-breach penalty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Penalty {
    /// A share of the monthly fee.
    Share(Percent),
    /// An amount in minor units of the pricing currency.
    Amount(i64),
}

impl fmt::Display for Penalty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Penalty::Share(share) => write!(f, "{share}"),
            Penalty::Amount(minor) => write!(f, "{minor} minor units"),
        }
    }
}

/// How credits are paid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CreditedOn {
    /// Deducted from the next invoice.
    NextInvoice,
    /// Paid back.
    Refund,
}

impl CreditedOn {
    /// The word used in documents.
    pub fn as_str(self) -> &'static str {
        match self {
            CreditedOn::NextInvoice => "next_invoice",
            CreditedOn::Refund => "refund",
        }
    }
}

/// Service credits owed when objectives are missed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credits {
    /// The availability objective the tiers measure.
    pub availability_objective: Option<Sourced<String>>,
    /// Tiers, sorted by `below` descending.
    pub tiers: Vec<CreditTier>,
    /// Per-breach penalties by priority.
    pub breaches: BTreeMap<String, Penalty>,
    /// Cap per period, as a share of the monthly fee.
    pub cap: Option<Percent>,
    /// Totals below this (minor units) are not paid.
    pub minimum: Option<i64>,
    /// Days the customer has to claim.
    pub claim_window_days: Option<u32>,
    /// How credits are paid.
    pub credited_on: CreditedOn,
}

/// The inheritable terms of an agreement. Every field is optional so that a level can set
/// only what it changes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Terms {
    /// Default calendar of ticket objectives.
    pub calendar: Option<Sourced<String>>,
    /// Default business or calendar hours.
    pub hours: Option<Sourced<HoursKind>>,
    /// Default statuses that pause ticket clocks.
    pub pause_on: Option<Sourced<Vec<String>>>,
    /// Default reopen behaviour.
    pub reopen: Option<Sourced<ReopenRule>>,
    /// Ticket objectives by metric and priority (or request type).
    pub tickets: BTreeMap<(Metric, String), TicketObjective>,
    /// Availability objectives by name.
    pub availability: BTreeMap<String, AvailabilityObjective>,
    /// Latency objectives by name.
    pub latency: BTreeMap<String, LatencyObjective>,
    /// Compliance objectives by name.
    pub compliance: BTreeMap<String, ComplianceObjective>,
    /// The escalation ladder (replaced as a whole).
    pub escalation: Option<Sourced<Vec<EscalationStep>>>,
    /// Credits (replaced as a whole).
    pub credits: Option<Sourced<Credits>>,
    /// The compliance report schedule (replaced as a whole).
    pub reporting: Option<Sourced<Reporting>>,
    /// Responsibilities (replaced as a whole).
    pub responsibilities: Option<Sourced<Responsibilities>>,
    /// Exclusions (replaced as a whole).
    pub exclusions: Option<Sourced<Exclusions>>,
    /// Pricing (replaced as a whole).
    pub pricing: Option<Sourced<Pricing>>,
}

impl Terms {
    /// Every data source the availability and latency objectives name, with where.
    pub fn data_sources(&self) -> impl Iterator<Item = &Sourced<DataSource>> + '_ {
        let availability = self.availability.values().filter_map(|o| o.source.as_ref());
        let latency = self.latency.values().filter_map(|o| o.source.as_ref());
        availability.chain(latency)
    }
}

/// `upper.field` if set, else `lower.field`, for each listed field.
macro_rules! overlay {
    ($lower:expr, $upper:expr; $($field:ident),+ $(,)?) => {
        $( if $upper.$field.is_some() { $lower.$field = $upper.$field.clone(); } )+
    };
}

impl Terms {
    /// Overlays `upper` (a more specific level) on `self`: each field `upper` sets replaces
    /// this one; objectives merge field by field, keyed by metric and priority or by name.
    pub fn merge(&mut self, upper: &Terms) {
        overlay!(self, upper; calendar, hours, pause_on, reopen, escalation, credits,
            reporting, responsibilities, exclusions, pricing);
        for (key, objective) in &upper.tickets {
            let merged = self.tickets.entry(key.clone()).or_default();
            overlay!(merged, objective; target, hours, calendar, pause_on, reopen, underpinned_by);
        }
        for (name, objective) in &upper.availability {
            let merged = self.availability.entry(name.clone()).or_default();
            overlay!(merged, objective; service, component, target, window, time_zone, method,
                timeslice, slice_target, minimum_downtime, partial_weight, degraded_weight,
                exclude, source, underpinned_by);
        }
        for (name, objective) in &upper.latency {
            let merged = self.latency.entry(name.clone()).or_default();
            overlay!(merged, objective; service, percentile, threshold, window, time_zone, source);
        }
        for (name, objective) in &upper.compliance {
            let merged = self.compliance.entry(name.clone()).or_default();
            overlay!(merged, objective; metric, priority, target, window);
        }
    }
}

/// Every document of a catalog, by name, as loaded from files or a store.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    /// Calendars by name (the built-in `24x7` is not listed).
    pub calendars: BTreeMap<String, CalendarDoc>,
    /// Customers by name.
    pub customers: BTreeMap<String, Customer>,
    /// Maintenance windows by name.
    pub maintenance: BTreeMap<String, MaintenanceWindow>,
    /// Services by name.
    pub services: BTreeMap<String, Service>,
    /// Agreements by name.
    pub agreements: BTreeMap<String, Agreement>,
}

impl Catalog {
    /// Whether a calendar of that name exists (including the built-in `24x7`).
    pub fn has_calendar(&self, name: &str) -> bool {
        name == ROUND_THE_CLOCK || self.calendars.contains_key(name)
    }

    /// The calendar of that name; `24x7`, unless a document defines it, is round the clock
    /// in UTC.
    pub fn calendar(&self, name: &str) -> Option<Cow<'_, BusinessCalendar>> {
        match self.calendars.get(name) {
            Some(doc) => Some(Cow::Borrowed(&doc.calendar)),
            None if name == ROUND_THE_CLOCK => {
                Some(Cow::Owned(BusinessCalendar::always_open(TimeZone::UTC)))
            }
            None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Metric, ObjectiveKey};

    #[test]
    fn metrics_sort_in_document_order() {
        let mut sorted = Metric::ALL;
        sorted.sort();
        assert_eq!(sorted, Metric::ALL);
    }

    #[test]
    fn next_response_is_a_field_in_camel_case_and_a_word_in_snake_case() {
        let words: Vec<_> = Metric::ALL.map(Metric::as_str).into();
        assert_eq!(words, ["response", "next_response", "resolution", "update", "request"]);
        let fields: Vec<_> = Metric::ALL.map(Metric::field).into();
        assert_eq!(fields, ["response", "nextResponse", "resolution", "update", "request"]);
        for metric in Metric::ALL {
            assert_eq!(Metric::parse(metric.as_str()), Some(metric));
        }
        assert_eq!(Metric::parse("nextResponse"), None);
        assert_eq!(
            ObjectiveKey::parse("next_response.P1"),
            Some(ObjectiveKey::Ticket(Metric::NextResponse, "P1".to_owned()))
        );
    }
}
