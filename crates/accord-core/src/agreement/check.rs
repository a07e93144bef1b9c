//! Checks over a whole catalog: references that do not resolve, agreements that clash, SMART
//! lint warnings, and whether OLAs and UCs fit inside the SLA objectives they underpin.
//!
//! Syntax and field errors are the loader's; this module sees well-formed documents and judges
//! how they fit together. Checks that depend on inheritance (a customer override that no longer
//! fits its underpinning contract) run over the effective terms of every customer, service and
//! region, so they see what the clock engine will see.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::AvailabilityMethod;
use super::diff::ticket_label;
use super::resolve::{Query, ResolveError, covers, resolve};
use super::{
    Agreement, AgreementType, AvailabilityObjective, Catalog, EffectiveTicketObjective, Level,
    Metric, ObjectiveKey, ObjectiveRef, Origin, Percent, Sourced, Terms, Window,
    value::format_duration,
};

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The documents cannot be used as they are.
    Error,
    /// The documents work but are probably not what was meant (SMART lint).
    Warning,
}

/// One thing `check` found, at a place in a document.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    /// Where (file, line, column and field path).
    pub origin: Origin,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong and what is expected.
    pub message: String,
}

impl fmt::Display for Finding {
    /// `file:line:column: field: warning: message` (`error` findings carry no word, like the
    /// loader's errors).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let origin = &self.origin;
        write!(f, "{}:{}:{}: ", origin.file, origin.line, origin.column)?;
        if !origin.field.is_empty() {
            write!(f, "{}: ", origin.field)?;
        }
        if self.severity == Severity::Warning {
            f.write_str("warning: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Targets above this are flagged: each nine more is rarely deliberate.
const HIGHEST_SENSIBLE_TARGET: Percent = Percent::from_micros_const(99_990_000);

/// How far ahead the fit check looks, and how often it starts a clock.
const FIT_HORIZON_DAYS: i64 = 366;
const FIT_STEP: SignedDuration = SignedDuration::from_mins(30);

/// Checks how the documents of `catalog` fit together on `on` (the date used for terms in
/// force, overdue reviews and the first day of the fit check's year).
pub fn check(catalog: &Catalog, on: Date) -> Vec<Finding> {
    let mut findings = Findings::default();
    references(catalog, &mut findings);
    for agreement in catalog.agreements.values() {
        lint_agreement(agreement, on, &mut findings);
    }
    sweep(catalog, on, &mut findings);
    let mut findings: Vec<Finding> = findings.0.into_iter().collect();
    findings.sort_by(|a, b| {
        (&a.origin.file, a.origin.line, a.origin.column, &a.message).cmp(&(
            &b.origin.file,
            b.origin.line,
            b.origin.column,
            &b.message,
        ))
    });
    findings
}

/// Findings, de-duplicated (the sweep meets the same problem once per customer), and the fit
/// results already computed: the sweep asks the same question for every customer.
#[derive(Default)]
struct Findings(BTreeSet<Finding>, BTreeMap<String, Option<String>>);

impl Findings {
    fn error(&mut self, origin: &Origin, message: impl Into<String>) {
        let finding =
            Finding { origin: origin.clone(), severity: Severity::Error, message: message.into() };
        self.0.insert(finding);
    }

    fn warning(&mut self, origin: &Origin, message: impl Into<String>) {
        let finding = Finding {
            origin: origin.clone(),
            severity: Severity::Warning,
            message: message.into(),
        };
        self.0.insert(finding);
    }
}

fn names<'a>(names: impl Iterator<Item = &'a String>) -> String {
    let names: Vec<&str> = names.map(String::as_str).collect();
    if names.is_empty() { "(none defined)".to_owned() } else { names.join(", ") }
}

/// Reports a reference to a `what` that does not exist, saying what does.
fn unknown(
    findings: &mut Findings,
    name: &Sourced<String>,
    what: &str,
    exists: bool,
    expected: &str,
) {
    if !exists {
        findings
            .error(&name.origin, format!("unknown {what} {:?}: expected {expected}", name.value));
    }
}

fn references(catalog: &Catalog, findings: &mut Findings) {
    let calendar_ref = |findings: &mut Findings, name: &Sourced<String>| {
        let known = format!("24x7 or one of {}", names(catalog.calendars.keys()));
        unknown(findings, name, "calendar", catalog.has_calendar(&name.value), &known);
    };
    let service_ref = |findings: &mut Findings, name: &Sourced<String>| {
        let known = format!("one of {}", names(catalog.services.keys()));
        unknown(findings, name, "service", catalog.services.contains_key(&name.value), &known);
    };
    let customer_ref = |findings: &mut Findings, name: &Sourced<String>| {
        let known = format!("one of {}", names(catalog.customers.keys()));
        unknown(findings, name, "customer", catalog.customers.contains_key(&name.value), &known);
    };

    for service in catalog.services.values() {
        for channel in &service.channels {
            if let Some(calendar) = &channel.calendar {
                calendar_ref(findings, calendar);
            }
        }
        for binding in &service.calendars {
            calendar_ref(findings, &binding.calendar);
        }
    }
    for window in catalog.maintenance.values() {
        for service in &window.services {
            service_ref(findings, service);
        }
        for component in &window.components {
            let known = window.services.iter().filter_map(|s| catalog.services.get(&s.value));
            let mut known_names = Vec::new();
            let mut found = false;
            for service in known {
                for c in &service.components {
                    found |= c.name.value == component.value;
                    known_names.push(c.name.value.clone());
                }
            }
            if !found {
                findings.error(
                    &component.origin,
                    format!(
                        "unknown component {:?} of the window's services: expected one of {}",
                        component.value,
                        names(known_names.iter())
                    ),
                );
            }
        }
    }
    let all_regions: BTreeSet<&str> =
        catalog.customers.values().flat_map(|customer| customer.regions()).collect();
    for agreement in catalog.agreements.values() {
        if let Some(customer) = &agreement.parties.customer
            && agreement.agreement_type == AgreementType::Sla
        {
            customer_ref(findings, customer);
        }
        for customer in &agreement.covers.customers {
            customer_ref(findings, customer);
        }
        for service in &agreement.covers.services {
            service_ref(findings, service);
        }
        for region in &agreement.covers.regions {
            if !all_regions.contains(region.value.as_str()) {
                findings.warning(
                    &region.origin,
                    format!(
                        "no customer has a site in region {:?}, so this scope never applies (regions: {})",
                        region.value,
                        all_regions.iter().copied().collect::<Vec<_>>().join(", ")
                    ),
                );
            }
        }
        if agreement.agreement_type == AgreementType::Sla
            && agreement.level == Level::Customer
            && agreement.parties.customer.is_none()
            && agreement.covers.customers.is_empty()
        {
            findings.error(
                &agreement.meta.origin,
                "a customer-level SLA names its customer: set spec.parties.customer or spec.covers.customers",
            );
        }
        scope_rules(catalog, agreement, findings);
        terms_references(catalog, agreement, &agreement.terms, findings, &calendar_ref);
    }
}

/// What each type and level may cover (docs/agreements.md, note 8).
fn scope_rules(catalog: &Catalog, agreement: &Agreement, findings: &mut Findings) {
    let covers = &agreement.covers;
    let first_cover = covers.customers.iter().chain(&covers.services).chain(&covers.regions).next();
    if agreement.agreement_type != AgreementType::Sla {
        if let Some(first) = first_cover {
            findings.error(
                &first.origin,
                "covers is for SLAs: an OLA or UC applies where an SLA names it in underpinnedBy",
            );
        }
        return;
    }
    match agreement.level {
        Level::Corporate => {
            if let Some(customer) = &agreement.parties.customer {
                findings.error(
                    &customer.origin,
                    "a corporate SLA applies to every customer: put customer terms in a customer-level SLA",
                );
            }
        }
        Level::Customer => {
            if let Some(party) = &agreement.parties.customer {
                for other in covers.customers.iter().filter(|c| c.value != party.value) {
                    findings.error(
                        &other.origin,
                        format!(
                            "a customer-level SLA covers its own customer {} only, not {}",
                            party.value, other.value
                        ),
                    );
                }
            }
        }
        Level::Service => {
            if covers.services.is_empty() {
                findings.error(
                    &agreement.meta.origin,
                    "a service-level SLA names its services: set spec.covers.services",
                );
            }
        }
    }
    for (name, objective) in &agreement.terms.availability {
        // An entry that overrides another level's objective of the same name inherits its
        // service.
        let overrides = catalog.agreements.values().any(|other| {
            other.meta.name != agreement.meta.name
                && other.agreement_type == AgreementType::Sla
                && other.terms.availability.get(name).is_some_and(|o| o.service.is_some())
        });
        if objective.service.is_none()
            && covers.services.len() != 1
            && !overrides
            && let Some(anchor) = objective_anchor_availability(objective)
        {
            findings.error(
                anchor,
                format!(
                    "availability objective {name} needs a service: the agreement covers {}",
                    if covers.services.is_empty() {
                        "every service".to_owned()
                    } else {
                        format!("{} services", covers.services.len())
                    }
                ),
            );
        }
        let method = objective.method.as_ref().map(|m| m.value);
        if method.is_some_and(|m| m != AvailabilityMethod::Time) {
            let downtime = objective
                .minimum_downtime
                .as_ref()
                .map(|d| &d.origin)
                .or(objective.partial_weight.as_ref().map(|d| &d.origin))
                .or(objective.degraded_weight.as_ref().map(|d| &d.origin));
            if let Some(origin) = downtime {
                findings.error(
                    origin,
                    format!(
                        "downtime rules go with method time, not {}",
                        method.map_or("", |m| m.as_str())
                    ),
                );
            }
        }
    }
    if let Some(credits) = &agreement.terms.credits
        && let Some(objective) = &credits.value.availability_objective
        && let Some(window) = agreement
            .terms
            .availability
            .get(&objective.value)
            .and_then(|availability| availability.window.as_ref())
        && window.value != Window::Month
    {
        findings.error(
            &objective.origin,
            format!(
                "credits are per calendar month, but availability objective {} is measured per {}",
                objective.value, window.value
            ),
        );
    }
}

fn terms_references(
    catalog: &Catalog,
    agreement: &Agreement,
    terms: &Terms,
    findings: &mut Findings,
    calendar_ref: &dyn Fn(&mut Findings, &Sourced<String>),
) {
    if let Some(calendar) = &terms.calendar {
        calendar_ref(findings, calendar);
    }
    for objective in terms.tickets.values() {
        if let Some(calendar) = &objective.calendar {
            calendar_ref(findings, calendar);
        }
        if let Some(refs) = &objective.underpinned_by {
            for reference in &refs.value {
                underpinning(catalog, agreement, reference, findings);
            }
        }
    }
    for objective in terms.availability.values() {
        availability_references(catalog, agreement, objective, findings);
    }
    for objective in terms.latency.values() {
        if let Some(service) = &objective.service {
            covered_service(catalog, agreement, service, findings);
        }
    }
    if let Some(exclusions) = &terms.exclusions {
        for window in &exclusions.value.maintenance {
            if !catalog.maintenance.contains_key(&window.value) {
                findings.error(
                    &window.origin,
                    format!(
                        "unknown maintenance window {:?}: expected one of {}",
                        window.value,
                        names(catalog.maintenance.keys())
                    ),
                );
            }
        }
    }
    if let Some(credits) = &terms.credits
        && let Some(objective) = &credits.value.availability_objective
        && !terms.availability.contains_key(&objective.value)
        && !catalog.agreements.values().any(|other| {
            other.agreement_type == agreement.agreement_type
                && other.terms.availability.contains_key(&objective.value)
        })
    {
        findings.error(
            &objective.origin,
            format!(
                "unknown availability objective {:?}: expected one of {}",
                objective.value,
                names(terms.availability.keys())
            ),
        );
    }
}

fn covered_service(
    catalog: &Catalog,
    agreement: &Agreement,
    service: &Sourced<String>,
    findings: &mut Findings,
) {
    if !catalog.services.contains_key(&service.value) {
        findings.error(
            &service.origin,
            format!(
                "unknown service {:?}: expected one of {}",
                service.value,
                names(catalog.services.keys())
            ),
        );
    } else if !agreement.covers.services.is_empty()
        && !agreement.covers.services.iter().any(|covered| covered.value == service.value)
    {
        findings.error(
            &service.origin,
            format!(
                "service {:?} is not covered by this agreement: expected one of {}",
                service.value,
                names(agreement.covers.services.iter().map(|s| &s.value))
            ),
        );
    }
}

fn availability_references(
    catalog: &Catalog,
    agreement: &Agreement,
    objective: &AvailabilityObjective,
    findings: &mut Findings,
) {
    if let Some(service) = &objective.service {
        covered_service(catalog, agreement, service, findings);
        if let (Some(component), Some(service)) =
            (&objective.component, catalog.services.get(&service.value))
            && !service.components.iter().any(|c| c.name.value == component.value)
        {
            findings.error(
                &component.origin,
                format!(
                    "service {} has no component {:?}: expected one of {}",
                    service.meta.name,
                    component.value,
                    names(service.components.iter().map(|c| &c.name.value))
                ),
            );
        }
    }
    if let Some(refs) = &objective.underpinned_by {
        for reference in &refs.value {
            underpinning(catalog, agreement, reference, findings);
        }
    }
}

/// The OLA or UC objective a reference names, after checking that it exists.
fn underpinning<'a>(
    catalog: &'a Catalog,
    agreement: &Agreement,
    reference: &ObjectiveRef,
    findings: &mut Findings,
) -> Option<&'a Agreement> {
    let Some(other) = catalog.agreements.get(&reference.agreement.value) else {
        let underpinning_names = catalog
            .agreements
            .values()
            .filter(|a| a.agreement_type != AgreementType::Sla)
            .map(|a| &a.meta.name);
        findings.error(
            &reference.agreement.origin,
            format!(
                "unknown agreement {:?}: expected an OLA or UC, one of {}",
                reference.agreement.value,
                names(underpinning_names)
            ),
        );
        return None;
    };
    if other.agreement_type == AgreementType::Sla || other.meta.name == agreement.meta.name {
        findings.error(
            &reference.agreement.origin,
            format!(
                "{} is an SLA: underpinnedBy names OLAs (internal teams) and UCs (vendors)",
                other.meta.name
            ),
        );
        return None;
    }
    let exists = match &reference.objective.value {
        ObjectiveKey::Ticket(metric, key) => {
            other.terms.tickets.contains_key(&(*metric, key.clone()))
        }
        ObjectiveKey::Availability(name) => other.terms.availability.contains_key(name),
        ObjectiveKey::Latency(name) => other.terms.latency.contains_key(name),
    };
    if !exists {
        let mut available: Vec<String> = other
            .terms
            .tickets
            .keys()
            .map(|(metric, key)| format!("{metric}.{key}"))
            .chain(other.terms.availability.keys().map(|name| format!("availability.{name}")))
            .chain(other.terms.latency.keys().map(|name| format!("latency.{name}")))
            .collect();
        available.sort();
        findings.error(
            &reference.objective.origin,
            format!(
                "{} has no objective {}: expected one of {}",
                other.meta.name,
                reference.objective.value,
                names(available.iter())
            ),
        );
        return None;
    }
    Some(other)
}

fn lint_agreement(agreement: &Agreement, on: Date, findings: &mut Findings) {
    let origin = &agreement.meta.origin;
    match &agreement.term {
        None => findings.warning(
            origin,
            "no term: say from when the agreement applies and when it is reviewed (spec.term)",
        ),
        Some(term) => {
            if term.value.next_review.is_none() {
                findings.warning(
                    &term.origin,
                    "no review date: set spec.term.review.next so the agreement is reviewed",
                );
            } else if let Some(next) = term.value.next_review
                && next < on
                && term.value.covers(on)
            {
                findings.warning(&term.origin, format!("review overdue since {next}"));
            }
        }
    }
    if agreement.agreement_type == AgreementType::Sla && agreement.parties.provider.is_none() {
        findings.warning(origin, "no provider: say who promises (spec.parties.provider)");
    }
}

/// Warns about a target above 99.99 %, saying what it allows.
fn high_target(
    target: Option<&Sourced<Percent>>,
    window: Option<&Sourced<Window>>,
    findings: &mut Findings,
) {
    let Some(target) = target else { return };
    if target.value <= HIGHEST_SENSIBLE_TARGET {
        return;
    }
    let window = window.map_or(Window::Month, |window| window.value);
    let length = window.typical_length();
    let allowed = target.value.complement_of(length);
    let allowed = SignedDuration::from_secs((allowed.as_millis() as i64 + 500) / 1000);
    let per = match window {
        Window::Month => "a 30-day month".to_owned(),
        Window::Quarter => "a 91-day quarter".to_owned(),
        Window::Year => "a 365-day year".to_owned(),
        Window::Day => "a day".to_owned(),
        Window::Week => "a week".to_owned(),
        Window::Rolling { days } => format!("{days} days"),
    };
    findings.warning(
        &target.origin,
        format!(
            "target {} is above 99.99%: it allows {} of downtime in {per}; is that measurable and meant?",
            target.value,
            format_duration(allowed)
        ),
    );
}

/// Resolves every customer, service and region and checks the effective terms: ambiguity,
/// missing targets, windows and sources, and the fit of underpinning OLAs and UCs.
fn sweep(catalog: &Catalog, on: Date, findings: &mut Findings) {
    for customer in catalog.customers.values() {
        let mut regions: Vec<Option<&str>> = vec![None];
        regions.extend(customer.regions().into_iter().map(Some));
        let mut covered = false;
        for service in catalog.services.values() {
            for region in &regions {
                let query = Query {
                    customer: &customer.meta.name,
                    service: &service.meta.name,
                    region: *region,
                    site: None,
                    on,
                };
                match resolve(catalog, &query) {
                    Ok(effective) => {
                        covered = true;
                        effective_checks(catalog, &effective, on, findings);
                    }
                    Err(ResolveError::Ambiguous(ambiguity)) => {
                        findings.error(&ambiguity.second_origin, ambiguity.to_string());
                    }
                    Err(_) => {}
                }
            }
        }
        if !covered {
            findings.warning(
                &customer.meta.origin,
                format!("customer {} is covered by no SLA in force on {on}", customer.meta.name),
            );
        }
    }
    // OLAs and UCs stand alone: lint their own objectives.
    for agreement in catalog.agreements.values() {
        if agreement.agreement_type != AgreementType::Sla {
            lint_terms(&agreement.terms, findings);
        }
        if agreement.agreement_type == AgreementType::Sla
            && !catalog.customers.keys().any(|customer| {
                catalog.services.keys().any(|service| covers(agreement, customer, service))
            })
        {
            findings.warning(&agreement.meta.origin, "covers no known customer and service");
        }
    }
}

fn lint_terms(terms: &Terms, findings: &mut Findings) {
    for ((metric, key), objective) in &terms.tickets {
        let anchor = objective.hours.as_ref().map(|s| &s.origin);
        if objective.target.is_none()
            && let Some(anchor) = anchor.or(objective.calendar.as_ref().map(|s| &s.origin))
        {
            findings.warning(
                anchor,
                format!(
                    "{} has no target at any level: it cannot be measured",
                    ticket_label(*metric, key)
                ),
            );
        }
    }
    for (name, objective) in &terms.availability {
        missing_fields(
            findings,
            &format!("availability objective {name}"),
            objective_anchor_availability(objective),
            &[
                (objective.target.is_none(), "target"),
                (objective.window.is_none(), "window (month, quarter, year or rolling Nd)"),
                (
                    objective.source.is_none(),
                    "data source (probe:, heartbeat:, requests:, metric: or incidents)",
                ),
            ],
        );
    }
    for (name, objective) in &terms.latency {
        let anchor = objective
            .percentile
            .as_ref()
            .map(|s| &s.origin)
            .or(objective.threshold.as_ref().map(|s| &s.origin))
            .or(objective.window.as_ref().map(|s| &s.origin))
            .or(objective.source.as_ref().map(|s| &s.origin));
        missing_fields(
            findings,
            &format!("latency objective {name}"),
            anchor,
            &[
                (objective.percentile.is_none(), "percentile"),
                (objective.threshold.is_none(), "threshold"),
                (objective.window.is_none(), "window"),
                (objective.source.is_none(), "data source"),
            ],
        );
    }
    for (name, objective) in &terms.compliance {
        let anchor = objective
            .metric
            .as_ref()
            .map(|s| &s.origin)
            .or(objective.target.as_ref().map(|s| &s.origin))
            .or(objective.window.as_ref().map(|s| &s.origin));
        missing_fields(
            findings,
            &format!("compliance objective {name}"),
            anchor,
            &[
                (objective.metric.is_none(), "metric"),
                (objective.target.is_none(), "target"),
                (objective.window.is_none(), "window"),
            ],
        );
        if let Some(metric) = &objective.metric {
            let priority = objective.priority.as_ref();
            let exists = terms
                .tickets
                .keys()
                .any(|(m, key)| *m == metric.value && priority.is_none_or(|p| &p.value == key));
            if !exists {
                let counted = match priority {
                    Some(priority) => ticket_label(metric.value, &priority.value),
                    None => metric.value.label().to_owned(),
                };
                findings.warning(
                    &metric.origin,
                    format!(
                        "compliance objective {name} counts {counted} tickets, but no such target is set"
                    ),
                );
            }
        }
    }
    for objective in terms.availability.values() {
        high_target(objective.target.as_ref(), objective.window.as_ref(), findings);
    }
}

/// Warns, at `anchor` (the first field the objective does set), about each field it lacks.
fn missing_fields(
    findings: &mut Findings,
    objective: &str,
    anchor: Option<&Origin>,
    fields: &[(bool, &str)],
) {
    let Some(anchor) = anchor else { return };
    for (missing, what) in fields {
        if *missing {
            findings.warning(anchor, format!("{objective} has no {what}"));
        }
    }
}

fn objective_anchor_availability(objective: &AvailabilityObjective) -> Option<&Origin> {
    [
        objective.target.as_ref().map(|s| &s.origin),
        objective.window.as_ref().map(|s| &s.origin),
        objective.source.as_ref().map(|s| &s.origin),
        objective.service.as_ref().map(|s| &s.origin),
        objective.method.as_ref().map(|s| &s.origin),
    ]
    .into_iter()
    .flatten()
    .next()
}

fn effective_checks(
    catalog: &Catalog,
    effective: &super::EffectiveTerms,
    on: Date,
    findings: &mut Findings,
) {
    let terms = &effective.terms;
    lint_terms(terms, findings);
    for ((metric, key), objective) in &terms.tickets {
        let Some(refs) = &objective.underpinned_by else { continue };
        let sla = effective.ticket(*metric, key).expect("the key comes from the map");
        for reference in &refs.value {
            let Some(other) = catalog.agreements.get(&reference.agreement.value) else { continue };
            let ObjectiveKey::Ticket(other_metric, other_key) = &reference.objective.value else {
                findings.error(
                    &reference.objective.origin,
                    format!(
                        "{metric}.{key} is a ticket objective: it can only be underpinned by ticket objectives ({})",
                        Metric::ALL.map(Metric::as_str).join(", ")
                    ),
                );
                continue;
            };
            let Some(other_objective) =
                other.terms.tickets.get(&(*other_metric, other_key.clone()))
            else {
                continue;
            };
            let uc = EffectiveTicketObjective::from_terms(other_objective, &other.terms, None);
            let fit_key = format!("{}|{}", describe_objective(&uc), describe_objective(&sla));
            let fit = match findings.1.get(&fit_key) {
                Some(fit) => fit.clone(),
                None => {
                    let fit = ticket_fit(catalog, &sla, &uc, on);
                    findings.1.insert(fit_key, fit.clone());
                    fit
                }
            };
            if let Some(message) = fit {
                // Named by the origins of both targets rather than by customer, so that a
                // corporate objective that misfits for every customer is reported once.
                findings.error(
                    &reference.objective.origin,
                    format!(
                        "{} {other_metric}.{other_key} ({}) does not fit inside {metric}.{key} ({}): {message}",
                        other.meta.name,
                        describe_objective(&uc),
                        describe_objective(&sla),
                    ),
                );
            }
        }
    }
    for (name, objective) in &terms.availability {
        let Some(refs) = &objective.underpinned_by else { continue };
        for reference in &refs.value {
            let Some(other) = catalog.agreements.get(&reference.agreement.value) else { continue };
            let ObjectiveKey::Availability(other_name) = &reference.objective.value else {
                findings.error(
                    &reference.objective.origin,
                    "an availability objective can only be underpinned by availability objectives (availability.NAME)",
                );
                continue;
            };
            let Some(other_objective) = other.terms.availability.get(other_name) else { continue };
            let (Some(target), Some(other_target)) = (&objective.target, &other_objective.target)
            else {
                continue;
            };
            if other_target.value < target.value {
                findings.error(
                    &reference.objective.origin,
                    format!(
                        "{} availability.{other_name} promises {} ({}), less than the {} ({}) of availability {name}: the vendor can meet its contract while we miss ours",
                        other.meta.name, other_target.value, other_target.origin, target.value, target.origin
                    ),
                );
            }
            let length = |window: Option<&Sourced<Window>>| {
                window.map_or(Window::Month, |window| window.value).typical_length()
            };
            if length(other_objective.window.as_ref()) > length(objective.window.as_ref()) {
                findings.warning(
                    &reference.objective.origin,
                    format!(
                        "{} availability.{other_name} is measured over a longer window than availability {name}: a bad month can hide inside a good {}",
                        other.meta.name,
                        other_objective.window.as_ref().map_or(Window::Month, |w| w.value)
                    ),
                );
            }
        }
    }
}

/// Whether `inner` (an OLA or UC objective) always finishes no later than `outer` (the SLA
/// objective) for clocks started at the same instant, each on its own calendar. Checked for a
/// clock started every 30 minutes over the year from `on`; returns the worst miss.
fn ticket_fit(
    catalog: &Catalog,
    outer: &EffectiveTicketObjective,
    inner: &EffectiveTicketObjective,
    on: Date,
) -> Option<String> {
    if outer.target.is_none() || inner.target.is_none() {
        return None;
    }
    let outer_calendar = catalog.calendar(&outer.calendar.value)?;
    let inner_calendar = catalog.calendar(&inner.calendar.value)?;
    let zone: TimeZone = outer_calendar.zone().clone();
    let first = on.to_zoned(zone.clone()).ok()?.timestamp();
    let mut worst: Option<(SignedDuration, Timestamp, Timestamp, Timestamp)> = None;
    let n_steps = FIT_HORIZON_DAYS * 24 * 60 * 60 / FIT_STEP.as_secs();
    for step in 0..n_steps {
        let start = first.checked_add(FIT_STEP * i32::try_from(step).ok()?).ok()?;
        let (Ok(Some(outer_due)), Ok(Some(inner_due))) =
            (outer.due(&outer_calendar, start), inner.due(&inner_calendar, start))
        else {
            continue;
        };
        let late = inner_due.duration_since(outer_due);
        if late > SignedDuration::ZERO && worst.is_none_or(|(worst_late, ..)| late > worst_late) {
            worst = Some((late, start, outer_due, inner_due));
        }
    }
    let (late, start, outer_due, inner_due) = worst?;
    let show = |t: Timestamp| t.to_zoned(zone.clone()).strftime("%a %Y-%m-%d %H:%M %Z").to_string();
    Some(format!(
        "it can end {} later (a clock started {} is due {} under the SLA and {} under the underpinning agreement)",
        format_duration(late),
        show(start),
        show(outer_due),
        show(inner_due)
    ))
}

/// `4h business hours on office-berlin, corporate.yaml:40`.
fn describe_objective(objective: &EffectiveTicketObjective) -> String {
    match &objective.target {
        Some(target) => format!(
            "{} {} hours on {}, {}",
            target.value,
            objective.hours.value.as_str(),
            objective.calendar.value,
            target.origin
        ),
        None => "no target".to_owned(),
    }
}
