//! Semantic diffs between two revisions of an agreement: "P1 resolution: 4h to 2h", not a diff
//! of YAML lines. Both sides are described as labelled values in the glossary's words, and the
//! labels are compared.

use std::fmt;

use super::{
    Agreement, Metric, ObjectiveRef, Origin, QuietHours, Sourced, Terms, Threshold,
    value::format_duration,
};

/// One difference between two revisions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// What changed (`P1 resolution`, `availability portal target`).
    pub label: String,
    /// The old value (`None`: added).
    pub old: Option<String>,
    /// The new value (`None`: removed).
    pub new: Option<String>,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.old, &self.new) {
            (Some(old), Some(new)) => write!(f, "{}: {old} to {new}", self.label),
            (None, Some(new)) => write!(f, "{}: added, {new}", self.label),
            (Some(old), None) => write!(f, "{}: removed (was {old})", self.label),
            (None, None) => write!(f, "{}: unchanged", self.label),
        }
    }
}

/// The differences from `old` to `new`, in the order of the description (header, term, then
/// objectives).
pub fn diff(old: &Agreement, new: &Agreement) -> Vec<Change> {
    let old_values = describe(old);
    let new_values = describe(new);
    let mut changes = Vec::new();
    for (label, old_value) in &old_values {
        match new_values.iter().find(|(new_label, _)| new_label == label) {
            Some((_, new_value)) if new_value == old_value => {}
            Some((_, new_value)) => changes.push(Change {
                label: label.clone(),
                old: Some(old_value.clone()),
                new: Some(new_value.clone()),
            }),
            None => changes.push(Change {
                label: label.clone(),
                old: Some(old_value.clone()),
                new: None,
            }),
        }
    }
    for (label, new_value) in &new_values {
        if !old_values.iter().any(|(old_label, _)| old_label == label) {
            changes.push(Change { label: label.clone(), old: None, new: Some(new_value.clone()) });
        }
    }
    changes
}

/// An agreement as labelled values, in reading order.
pub(crate) fn describe(agreement: &Agreement) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut push = |label: &str, value: String| out.push((label.to_owned(), value));
    let list = |items: &mut dyn Iterator<Item = &str>| items.collect::<Vec<_>>().join(", ");

    push("type", agreement.agreement_type.as_str().to_owned());
    push("level", agreement.level.as_str().to_owned());
    if let Some(title) = &agreement.meta.title {
        push("title", title.clone());
    }
    let parties = &agreement.parties;
    for (label, value) in [
        ("provider", parties.provider.as_deref()),
        ("customer party", parties.customer.as_ref().map(|c| c.value.as_str())),
        ("team", parties.team.as_deref()),
        ("vendor", parties.vendor.as_deref()),
    ] {
        if let Some(value) = value {
            push(label, value.to_owned());
        }
    }
    let covers = &agreement.covers;
    for (label, items) in [
        ("covers customers", &covers.customers),
        ("covers services", &covers.services),
        ("covers regions", &covers.regions),
    ] {
        if !items.is_empty() {
            push(label, list(&mut items.iter().map(|item| item.value.as_str())));
        }
    }
    if let Some(term) = &agreement.term {
        let term = &term.value;
        push("effective from", term.effective_from.to_string());
        if let Some(until) = term.effective_until {
            push("effective until", until.to_string());
        }
        if let Some(zone) = term.time_zone.as_ref().and_then(|zone| zone.iana_name()) {
            push("term time zone", zone.to_owned());
        }
        push("renewal", term.renewal.as_str().to_owned());
        for (label, months) in [
            ("renewal period", term.renewal_period_months),
            ("notice period", term.notice_period_months),
            ("review every", term.review_every_months),
        ] {
            if let Some(months) = months {
                push(label, format!("{months} months"));
            }
        }
        if let Some(next) = term.next_review {
            push("next review", next.to_string());
        }
    }
    out.extend(describe_terms(&agreement.terms).into_iter().map(|d| (d.label, d.value)));
    out
}

/// A labelled value of some terms and where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Described {
    /// What it is (`P1 resolution`, `availability portal target`).
    pub label: String,
    /// The value as written for people.
    pub value: String,
    /// Where it was written.
    pub origin: Origin,
}

/// Inheritable terms as labelled values, in reading order.
pub fn describe_terms(terms: &Terms) -> Vec<Described> {
    let mut out: Vec<Described> = Vec::new();
    let mut push = |label: String, value: String, origin: &Origin| {
        out.push(Described { label, value, origin: origin.clone() });
    };
    let join =
        |items: &[String]| if items.is_empty() { "none".to_owned() } else { items.join(", ") };
    let refs = |refs: &[ObjectiveRef]| {
        join(
            &refs
                .iter()
                .map(|r| format!("{} {}", r.agreement.value, r.objective.value))
                .collect::<Vec<_>>(),
        )
    };

    if let Some(calendar) = &terms.calendar {
        push("calendar".into(), calendar.value.clone(), &calendar.origin);
    }
    if let Some(hours) = &terms.hours {
        push("hours".into(), hours.value.as_str().to_owned(), &hours.origin);
    }
    if let Some(pause_on) = &terms.pause_on {
        push("pause on".into(), join(&pause_on.value), &pause_on.origin);
    }
    if let Some(reopen) = &terms.reopen {
        push("reopen".into(), reopen.value.as_str().to_owned(), &reopen.origin);
    }
    for ((metric, key), objective) in &terms.tickets {
        let name = ticket_label(*metric, key);
        let fields: [(&str, Option<(String, &Origin)>); 6] = [
            ("", shown(&objective.target, |t| t.to_string())),
            ("hours", shown(&objective.hours, |h| h.as_str().to_owned())),
            ("calendar", shown(&objective.calendar, Clone::clone)),
            ("pause on", shown(&objective.pause_on, |p| join(p))),
            ("reopen", shown(&objective.reopen, |r| r.as_str().to_owned())),
            ("underpinned by", shown(&objective.underpinned_by, |r| refs(r))),
        ];
        for (field, value) in fields {
            if let Some((value, origin)) = value {
                let label = if field.is_empty() { name.clone() } else { format!("{name} {field}") };
                push(label, value, origin);
            }
        }
    }
    for (name, objective) in &terms.availability {
        let name = format!("availability {name}");
        let fields: [(&str, Option<(String, &Origin)>); 14] = [
            ("service", shown(&objective.service, Clone::clone)),
            ("component", shown(&objective.component, Clone::clone)),
            ("target", shown(&objective.target, ToString::to_string)),
            ("window", shown(&objective.window, ToString::to_string)),
            (
                "time zone",
                shown(&objective.time_zone, |z| z.iana_name().unwrap_or("fixed offset").to_owned()),
            ),
            ("method", shown(&objective.method, |m| m.as_str().to_owned())),
            ("timeslice", shown(&objective.timeslice, |d| format_duration(*d))),
            ("slice target", shown(&objective.slice_target, ToString::to_string)),
            ("minimum downtime", shown(&objective.minimum_downtime, |d| format_duration(*d))),
            ("partial weight", shown(&objective.partial_weight, ToString::to_string)),
            ("degraded weight", shown(&objective.degraded_weight, ToString::to_string)),
            (
                "excludes",
                shown(&objective.exclude, |e| {
                    join(&e.iter().map(|e| e.as_str().to_owned()).collect::<Vec<_>>())
                }),
            ),
            ("source", shown(&objective.source, ToString::to_string)),
            ("underpinned by", shown(&objective.underpinned_by, |r| refs(r))),
        ];
        for (field, value) in fields {
            if let Some((value, origin)) = value {
                push(format!("{name} {field}"), value, origin);
            }
        }
    }
    for (name, objective) in &terms.latency {
        let name = format!("latency {name}");
        let fields: [(&str, Option<(String, &Origin)>); 5] = [
            ("service", shown(&objective.service, Clone::clone)),
            ("percentile", shown(&objective.percentile, ToString::to_string)),
            ("threshold", shown(&objective.threshold, |d| format_duration(*d))),
            ("window", shown(&objective.window, ToString::to_string)),
            ("source", shown(&objective.source, ToString::to_string)),
        ];
        for (field, value) in fields {
            if let Some((value, origin)) = value {
                push(format!("{name} {field}"), value, origin);
            }
        }
    }
    for (name, objective) in &terms.compliance {
        let name = format!("compliance {name}");
        let fields: [(&str, Option<(String, &Origin)>); 4] = [
            ("metric", shown(&objective.metric, |m| m.as_str().to_owned())),
            ("priority", shown(&objective.priority, Clone::clone)),
            ("target", shown(&objective.target, ToString::to_string)),
            ("window", shown(&objective.window, ToString::to_string)),
        ];
        for (field, value) in fields {
            if let Some((value, origin)) = value {
                push(format!("{name} {field}"), value, origin);
            }
        }
    }
    if let Some(steps) = &terms.escalation {
        for (step_idx, step) in steps.value.iter().enumerate() {
            let priorities = if step.priorities.is_empty() {
                "all priorities".to_owned()
            } else {
                step.priorities.join(", ")
            };
            let objectives = if step.objectives.is_empty() {
                "all ticket objectives".to_owned()
            } else {
                step.objectives.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", ")
            };
            let at = match step.at {
                Threshold::Share(share) => format!("{share} of the target"),
                Threshold::Before(left) => format!("{} before breach", format_duration(left)),
            };
            let value = format!(
                "at {at} ({priorities}; {objectives}): notify {}{}",
                step.notify.join(", "),
                match step.quiet_hours {
                    QuietHours::Respect => ", in their working hours",
                    QuietHours::Ignore => "",
                }
            );
            push(format!("escalation step {}", step_idx + 1), value, &step.origin);
        }
    }
    if let Some(credits) = &terms.credits {
        let origin = &credits.origin;
        let credits = &credits.value;
        if let Some(objective) = &credits.availability_objective {
            push("credits measure availability".into(), objective.value.clone(), &objective.origin);
        }
        for tier in &credits.tiers {
            push(
                format!("credit below {}", tier.below),
                format!("{} of the monthly fee", tier.credit),
                origin,
            );
        }
        for (priority, penalty) in &credits.breaches {
            push(format!("credit per {priority} breach"), penalty.to_string(), origin);
        }
        if let Some(cap) = credits.cap {
            push("credit cap".into(), format!("{cap} of the monthly fee"), origin);
        }
        if let Some(minimum) = credits.minimum {
            push("credit minimum".into(), format!("{minimum} minor units"), origin);
        }
        if let Some(days) = credits.claim_window_days {
            push("credit claim window".into(), format!("{days} days"), origin);
        }
        push("credited on".into(), credits.credited_on.as_str().to_owned(), origin);
    }
    if let Some(reporting) = &terms.reporting {
        push("reporting".into(), reporting.value.to_string(), &reporting.origin);
    }
    if let Some(responsibilities) = &terms.responsibilities {
        let (origin, value) = (&responsibilities.origin, &responsibilities.value);
        push("provider responsibilities".into(), value.provider.join("; "), origin);
        push("customer responsibilities".into(), value.customer.join("; "), origin);
    }
    if let Some(exclusions) = &terms.exclusions {
        let (origin, value) = (&exclusions.origin, &exclusions.value);
        let windows: Vec<String> = value.maintenance.iter().map(|w| w.value.clone()).collect();
        push("excluded maintenance".into(), join(&windows), origin);
        push("force majeure excluded".into(), yes_no(value.force_majeure), origin);
        push("customer-caused excluded".into(), yes_no(value.customer_caused), origin);
        if !value.other.is_empty() {
            push("other exclusions".into(), value.other.join("; "), origin);
        }
    }
    if let Some(pricing) = &terms.pricing {
        push("monthly fee".into(), pricing.value.monthly_fee.to_string(), &pricing.origin);
    }
    out
}

/// `P1 resolution`, `P1 next response`, `request new-user-account`.
pub fn ticket_label(metric: Metric, key: &str) -> String {
    match metric {
        Metric::Request => format!("request {key}"),
        _ => format!("{key} {}", metric.label()),
    }
}

fn shown<T>(value: &Option<Sourced<T>>, show: impl Fn(&T) -> String) -> Option<(String, &Origin)> {
    value.as_ref().map(|sourced| (show(&sourced.value), &sourced.origin))
}

fn yes_no(value: bool) -> String {
    if value { "yes" } else { "no" }.to_owned()
}
