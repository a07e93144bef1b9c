//! Effective terms: the one set of terms that applies to a customer and service on a date,
//! merged from the corporate, customer and service levels, each value with its origin.
//!
//! Precedence: corporate, then customer, then service level; within a level an agreement
//! scoped to regions beats an unscoped one. A field of a ticket objective beats the
//! level-wide default (`objectives.calendar`, `hours`, `pauseOn`, `reopen`) of any level,
//! because it was written for that objective; the level-wide defaults fall back to the
//! service's calendar for the customer's site or region, then to built-in defaults.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

use super::{
    Agreement, AgreementType, Catalog, HoursKind, Level, Metric, Origin, ROUND_THE_CLOCK,
    ReopenRule, Sourced, Target, Terms, TicketObjective,
};
use crate::calendar::{BusinessCalendar, QueryError};

/// Whose terms to resolve, and when.
#[derive(Clone, Copy, Debug)]
pub struct Query<'a> {
    /// The customer's name.
    pub customer: &'a str,
    /// The service's name.
    pub service: &'a str,
    /// The customer's region; defaults to the site's, or to the customer's only region.
    pub region: Option<&'a str>,
    /// The customer's site.
    pub site: Option<&'a str>,
    /// The date (agreements whose term excludes it do not apply).
    pub on: Date,
}

/// Why terms cannot be resolved.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// No such customer.
    #[error("unknown customer {name:?}: expected one of {known}")]
    UnknownCustomer {
        /// The name asked for.
        name: String,
        /// The customers there are.
        known: String,
    },
    /// No such service.
    #[error("unknown service {name:?}: expected one of {known}")]
    UnknownService {
        /// The name asked for.
        name: String,
        /// The services there are.
        known: String,
    },
    /// No such site at the customer.
    #[error("customer {customer} has no site {site:?}: expected one of {known}")]
    UnknownSite {
        /// The customer.
        customer: String,
        /// The site asked for.
        site: String,
        /// Its sites.
        known: String,
    },
    /// No SLA applies.
    #[error("no SLA in force on {on} covers customer {customer} and service {service}")]
    NoAgreement {
        /// The customer.
        customer: String,
        /// The service.
        service: String,
        /// The date.
        on: Date,
    },
    /// Two agreements at the same level and scope both apply.
    #[error("{0}")]
    Ambiguous(Box<Ambiguity>),
}

/// Two agreements at the same level and scope that both apply.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "agreements {first} ({first_origin}) and {second} ({second_origin}) both apply at the {level} level to customer {customer} and service {service}: narrow one of them with covers"
)]
pub struct Ambiguity {
    /// The level.
    pub level: &'static str,
    /// One agreement.
    pub first: String,
    /// Where it is.
    pub first_origin: Origin,
    /// The other.
    pub second: String,
    /// Where it is.
    pub second_origin: Origin,
    /// The customer.
    pub customer: String,
    /// The service.
    pub service: String,
}

/// An agreement that took part in a resolution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppliedAgreement {
    /// Its name.
    pub name: String,
    /// Its level.
    pub level: Level,
    /// Whether it is scoped to regions.
    pub regional: bool,
    /// Where it is.
    pub origin: Origin,
}

/// The terms in force for one customer and service on one date.
#[derive(Clone, Debug)]
pub struct EffectiveTerms {
    /// The customer.
    pub customer: String,
    /// The service.
    pub service: String,
    /// The region used (given, or derived from the site or the customer's only region).
    pub region: Option<String>,
    /// The date.
    pub on: Date,
    /// The agreements merged, least specific first.
    pub applied: Vec<AppliedAgreement>,
    /// Agreements that cover the customer and service but were left out, and why.
    pub skipped: Vec<(String, String)>,
    /// The service's calendar for the customer's site or region.
    pub service_calendar: Option<Sourced<String>>,
    /// The merged terms.
    pub terms: Terms,
}

/// A ticket objective with every inherited value filled in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EffectiveTicketObjective {
    /// The target (`None`: no level sets one).
    pub target: Option<Sourced<Target>>,
    /// Business or calendar hours.
    pub hours: Sourced<HoursKind>,
    /// The calendar time is counted in (`24x7` for calendar hours).
    pub calendar: Sourced<String>,
    /// Statuses that pause the clock.
    pub pause_on: Sourced<Vec<String>>,
    /// What a reopen does.
    pub reopen: Sourced<ReopenRule>,
}

impl EffectiveTicketObjective {
    /// Fills in `objective` from the level-wide defaults of `terms`, then from
    /// `fallback_calendar`, then from built-in defaults.
    pub fn from_terms(
        objective: &TicketObjective,
        terms: &Terms,
        fallback_calendar: Option<&Sourced<String>>,
    ) -> EffectiveTicketObjective {
        let hours = objective.hours.clone().or_else(|| terms.hours.clone()).unwrap_or_else(|| {
            Sourced::new(HoursKind::Business, Origin::default_value("hours: business"))
        });
        let calendar = match hours.value {
            HoursKind::Calendar => Sourced::new(ROUND_THE_CLOCK.to_owned(), hours.origin.clone()),
            HoursKind::Business => objective
                .calendar
                .clone()
                .or_else(|| terms.calendar.clone())
                .or_else(|| fallback_calendar.cloned())
                .unwrap_or_else(|| {
                    Sourced::new(
                        ROUND_THE_CLOCK.to_owned(),
                        Origin::default_value("no calendar given: round the clock"),
                    )
                }),
        };
        EffectiveTicketObjective {
            target: objective.target.clone(),
            hours,
            calendar,
            pause_on: objective.pause_on.clone().or_else(|| terms.pause_on.clone()).unwrap_or_else(
                || Sourced::new(Vec::new(), Origin::default_value("no pausing statuses")),
            ),
            reopen: objective.reopen.clone().or_else(|| terms.reopen.clone()).unwrap_or_else(
                || Sourced::new(ReopenRule::Resume, Origin::default_value("reopen: resume")),
            ),
        }
    }

    /// When a clock started at `start` and never paused is due, on `calendar` (the one named
    /// by `self.calendar`). `None` when there is no target.
    ///
    /// `N` business days end at the closing time of the N-th open day after the start's
    /// local date: a request on Monday at any hour with `1bd` is due at Tuesday's close.
    ///
    /// # Errors
    ///
    /// [`QueryError`] when the deadline is outside the calendar's horizon.
    pub fn due(
        &self,
        calendar: &BusinessCalendar,
        start: Timestamp,
    ) -> Result<Option<Timestamp>, QueryError> {
        match self.target.as_ref().map(|target| target.value) {
            None => Ok(None),
            Some(Target::Duration(duration)) => calendar.deadline(start, duration).map(Some),
            Some(Target::BusinessDays(days)) => business_days_due(calendar, start, days).map(Some),
        }
    }
}

/// The closing time of the `days`-th open day after `start`'s local date.
fn business_days_due(
    calendar: &BusinessCalendar,
    start: Timestamp,
    days: u32,
) -> Result<Timestamp, QueryError> {
    let zone: &TimeZone = calendar.zone();
    let mut date = start.to_zoned(zone.clone()).date();
    let mut n_open = 0;
    // Bounded: a calendar with no open day in ten years has no answer.
    for _ in 0..3660 {
        date = date.tomorrow().map_err(|_| QueryError::OutsideHorizon { at: start })?;
        let day = calendar.hours_on(date);
        let Some(last) = day.hours.last() else { continue };
        n_open += 1;
        if n_open >= days.max(1) {
            let close = date
                .to_datetime(jiff::civil::Time::midnight())
                .checked_add(i64::from(last.end_second()).seconds())
                .map_err(|_| QueryError::OutsideHorizon { at: start })?;
            return close
                .to_zoned(zone.clone())
                .map(|zoned| zoned.timestamp())
                .map_err(|_| QueryError::OutsideHorizon { at: start });
        }
    }
    Err(QueryError::DeadlineBeyondHorizon {
        start,
        duration: jiff::SignedDuration::from_hours(24 * i64::from(days)),
    })
}

impl EffectiveTerms {
    /// The effective ticket objective for a metric and priority (or request type).
    pub fn ticket(&self, metric: Metric, key: &str) -> Option<EffectiveTicketObjective> {
        let objective = self.terms.tickets.get(&(metric, key.to_owned()))?;
        Some(EffectiveTicketObjective::from_terms(
            objective,
            &self.terms,
            self.service_calendar.as_ref(),
        ))
    }
}

/// Resolves the effective terms of `query` over the SLAs of `catalog`.
///
/// Only agreements of type `sla` in force on `query.on` take part; the caller passes a
/// catalog holding the revisions that are active then.
///
/// # Errors
///
/// [`ResolveError`] for an unknown customer, service or site, when no SLA applies, or when two
/// agreements at the same level and scope both apply.
pub fn resolve(catalog: &Catalog, query: &Query<'_>) -> Result<EffectiveTerms, ResolveError> {
    let customer =
        catalog.customers.get(query.customer).ok_or_else(|| ResolveError::UnknownCustomer {
            name: query.customer.to_owned(),
            known: known(catalog.customers.keys()),
        })?;
    let service =
        catalog.services.get(query.service).ok_or_else(|| ResolveError::UnknownService {
            name: query.service.to_owned(),
            known: known(catalog.services.keys()),
        })?;
    let site = match query.site {
        Some(site_name) => {
            Some(customer.sites.iter().find(|site| site.name == site_name).ok_or_else(|| {
                ResolveError::UnknownSite {
                    customer: query.customer.to_owned(),
                    site: site_name.to_owned(),
                    known: known(customer.sites.iter().map(|site| &site.name)),
                }
            })?)
        }
        None => None,
    };
    let region = match (query.region, site) {
        (Some(region), _) => Some(region.to_owned()),
        (None, Some(site)) => site.region.clone(),
        (None, None) => match customer.regions().as_slice() {
            [only] => Some((*only).to_owned()),
            _ => None,
        },
    };

    let mut candidates: Vec<(&Agreement, bool)> = Vec::new();
    let mut skipped = Vec::new();
    for agreement in catalog.agreements.values() {
        if agreement.agreement_type != AgreementType::Sla
            || !covers(agreement, query.customer, query.service)
        {
            continue;
        }
        let name = agreement.meta.name.clone();
        if !agreement.in_force_on(query.on) {
            skipped.push((name, format!("not in force on {}", query.on)));
            continue;
        }
        let regions = &agreement.covers.regions;
        let regional = !regions.is_empty();
        if regional {
            let listed = || regions.iter().map(|r| r.value.as_str()).collect::<Vec<_>>().join(", ");
            match &region {
                Some(region) if regions.iter().any(|r| &r.value == region) => {}
                Some(region) => {
                    skipped.push((name, format!("for regions {}, not {region}", listed())));
                    continue;
                }
                None => {
                    skipped.push((
                        name,
                        format!("for regions {}; give a region or site to apply it", listed()),
                    ));
                    continue;
                }
            }
        }
        candidates.push((agreement, regional));
    }
    candidates.sort_by_key(|(agreement, regional)| (agreement.level, *regional));
    for pair in candidates.windows(2) {
        let ((first, first_regional), (second, second_regional)) = (pair[0], pair[1]);
        if first.level == second.level && first_regional == second_regional {
            return Err(ResolveError::Ambiguous(Box::new(Ambiguity {
                level: first.level.as_str(),
                first: first.meta.name.clone(),
                first_origin: first.meta.origin.clone(),
                second: second.meta.name.clone(),
                second_origin: second.meta.origin.clone(),
                customer: query.customer.to_owned(),
                service: query.service.to_owned(),
            })));
        }
    }
    if candidates.is_empty() {
        return Err(ResolveError::NoAgreement {
            customer: query.customer.to_owned(),
            service: query.service.to_owned(),
            on: query.on,
        });
    }

    let mut terms = Terms::default();
    let mut applied = Vec::new();
    for (agreement, regional) in candidates {
        terms.merge(&agreement.terms);
        applied.push(AppliedAgreement {
            name: agreement.meta.name.clone(),
            level: agreement.level,
            regional,
            origin: agreement.meta.origin.clone(),
        });
    }

    // Objectives measured on another service do not apply to this one.
    let other_service = |service: &Option<Sourced<String>>| {
        service.as_ref().is_some_and(|service| service.value != query.service)
    };
    terms.availability.retain(|_, objective| !other_service(&objective.service));
    terms.latency.retain(|_, objective| !other_service(&objective.service));

    // The most specific binding wins: the site, then the region, then the default.
    let binding = site
        .and_then(|site| {
            service.calendars.iter().find(|binding| binding.site.as_ref() == Some(&site.name))
        })
        .or_else(|| {
            region.as_ref().and_then(|region| {
                service.calendars.iter().find(|binding| {
                    binding.site.is_none() && binding.region.as_ref() == Some(region)
                })
            })
        })
        .or_else(|| {
            service
                .calendars
                .iter()
                .find(|binding| binding.site.is_none() && binding.region.is_none())
        });

    Ok(EffectiveTerms {
        customer: query.customer.to_owned(),
        service: query.service.to_owned(),
        region,
        on: query.on,
        applied,
        skipped,
        service_calendar: binding.map(|binding| binding.calendar.clone()),
        terms,
    })
}

/// Whether an SLA's coverage includes the customer and service.
pub(crate) fn covers(agreement: &Agreement, customer: &str, service: &str) -> bool {
    let customers = &agreement.covers.customers;
    let customer_ok = if customers.is_empty() {
        match (agreement.level, &agreement.parties.customer) {
            (Level::Customer, Some(party)) => party.value == customer,
            (Level::Customer, None) => false,
            _ => true,
        }
    } else {
        customers.iter().any(|listed| listed.value == customer)
    };
    let services = &agreement.covers.services;
    customer_ok && (services.is_empty() || services.iter().any(|listed| listed.value == service))
}

fn known<'a>(names: impl Iterator<Item = &'a String>) -> String {
    let names: Vec<&str> = names.map(String::as_str).collect();
    if names.is_empty() { "(none defined)".to_owned() } else { names.join(", ") }
}
