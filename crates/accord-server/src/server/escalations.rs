//! The escalation scheduler: records every escalation rung and breach the clocks reach, once,
//! with the messages the ladder's recipients get.
//!
//! It does not poll the tickets. It keeps, per ticket, the next instant its clocks can reach a
//! rung or breach (the engine's `next_change`), and sleeps until the earliest one; new events
//! wake it, and it looks at the tickets they touched. Each pass catches up with the event log
//! first, so events another node took in count too (it looks at the log at least every
//! [`IDLE`]).
//!
//! A firing's key is `(ticket, metric, cycle, rung)`: every node may find it, and the store
//! lets one record it with its deliveries (see `accord_store::notifications`). A breach notifies
//! everyone its ladder names. A rung with `quietHours: respect` puts a message off until the
//! recipient's working hours (their `workingHours` calendar, else the calendar the clock counts
//! in); breaches of P1 objectives are sent at once whatever the ladder says.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use accord_core::access::Scope;
use accord_core::agreement::{Catalog, ContactRole, QuietHours, format_duration};
use accord_core::calendar::BusinessCalendar;
use accord_core::clock::{Cycle, Engine, Ticket};
use accord_format::notifications::{Address, NotificationSettings};
use accord_store::{BREACH_RUNG, FiringKey, FiringOutcome, NewDelivery, NewFiring};
use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::auth::Auth;
use super::availability::{self, query};
use super::clocks::Changed;
use super::error::ApiError;
use super::notify::{self, NotifyConfig, Templates};
use crate::availability_cmd::{AvailabilityOutcome, Figures};
use crate::revision_cmd::StoreTerms;

/// The longest the scheduler sleeps before catching up with the log.
const IDLE: Duration = Duration::from_secs(2);

/// The priority whose breaches ignore quiet hours.
const TOP_PRIORITY: &str = "P1";

/// What the scheduler remembers between passes.
#[derive(Default)]
struct Plan {
    /// When each ticket's clocks next reach a rung or breach, by instant.
    queue: BTreeSet<(Timestamp, Arc<str>)>,
    /// The same, by ticket.
    due: HashMap<Arc<str>, Timestamp>,
    /// Firings this node knows are recorded (by it or another node).
    recorded: HashSet<FiringKey>,
    /// Tickets found solved, for their satisfaction surveys.
    surveys: super::survey::Watch,
}

impl Plan {
    fn schedule(&mut self, ticket: &Arc<str>, next: Option<Timestamp>) {
        if let Some(old) = self.due.remove(ticket) {
            self.queue.remove(&(old, ticket.clone()));
        }
        if let Some(next) = next {
            self.due.insert(ticket.clone(), next);
            self.queue.insert((next, ticket.clone()));
        }
    }

    /// The tickets due at `now`, taken off the queue.
    fn take_due(&mut self, now: Timestamp) -> Vec<Arc<str>> {
        let mut taken = Vec::new();
        while let Some((at, _)) = self.queue.first()
            && *at <= now
        {
            let (_, ticket) = self.queue.pop_first().expect("invariant: first exists");
            self.due.remove(&ticket);
            taken.push(ticket);
        }
        taken
    }

    fn next_wake(&self) -> Option<Timestamp> {
        self.queue.first().map(|(at, _)| *at)
    }
}

/// A firing found, with what its messages need.
struct Found {
    firing: NewFiring,
    deliveries: Vec<NewDelivery>,
}

/// Runs until `stop` is set.
pub(super) async fn run(
    state: AppState,
    config: NotifyConfig,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut plan = Plan::default();
    let mut settings = notify::Current::default();
    let mut next_alerts = Timestamp::now();
    loop {
        let now = Timestamp::now();
        if let Err(error) = pass(&state, &config, &mut plan, &mut settings, now).await {
            tracing::warn!(error = %error.message, "escalation pass failed; trying again");
        }
        if now >= next_alerts {
            if let Err(error) = alerts_pass(&state, &config, &mut plan, &mut settings, now).await {
                tracing::warn!(error = %error.message, "burn-rate alert pass failed");
            }
            next_alerts = now + ALERTS_EVERY;
        }
        let wake = plan.next_wake().map_or(next_alerts, |at| at.min(next_alerts));
        let wait =
            Duration::try_from(wake.duration_since(Timestamp::now())).unwrap_or_default().min(IDLE);
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = state.events_arrived.notified() => {}
            _ = stop.changed() => return,
        }
    }
}

/// One pass: the changed and due tickets' firings, recorded.
async fn pass(
    state: &AppState,
    config: &NotifyConfig,
    plan: &mut Plan,
    current: &mut notify::Current,
    now: Timestamp,
) -> Result<(), ApiError> {
    let (settings, templates) = current.get(state).await?;
    let found = state
        .clocks
        .scan(&state.store, |engine, changed| {
            let mut tickets = match changed {
                Changed::All => {
                    *plan =
                        Plan { recorded: std::mem::take(&mut plan.recorded), ..Plan::default() };
                    engine.tickets().map(|ticket| ticket.id.clone()).collect()
                }
                Changed::Some(tickets) => tickets,
            };
            tickets.extend(plan.take_due(now));
            let mut found = Vec::new();
            let looking = Looking { engine, settings, templates, config, now };
            for id in tickets {
                let Some(ticket) = engine.ticket(&id) else { continue };
                looking.firings(ticket, &plan.recorded, &mut found);
                plan.surveys.look(&id, &ticket.state);
                plan.schedule(&id, ticket.state.next_change(now));
            }
            found
        })
        .await?;
    record(state, config, plan, found, now).await;
    super::survey::record(state, config, &settings.survey, &mut plan.surveys, now).await;
    Ok(())
}

/// Records what a pass found, with its messages; firings that fail are looked at again soon.
async fn record(
    state: &AppState,
    config: &NotifyConfig,
    plan: &mut Plan,
    found: Vec<Found>,
    now: Timestamp,
) {
    // Many at once when history arrives (a replay, a restart): one transaction per chunk.
    let mut found = found.into_iter().map(|found| (found.firing, found.deliveries)).peekable();
    while found.peek().is_some() {
        let batch: Vec<(NewFiring, Vec<NewDelivery>)> = found.by_ref().take(500).collect();
        match state.store.record_firings(&batch, &config.node, now).await {
            Ok(recorded) => {
                for ((firing, deliveries), recorded) in batch.into_iter().zip(recorded) {
                    if recorded && firing.outcome != FiringOutcome::Stale {
                        let key = &firing.key;
                        tracing::info!(
                            ticket = %key.ticket, metric = %key.metric, cycle = key.cycle,
                            threshold = %firing.threshold, outcome = firing.outcome.as_str(),
                            messages = deliveries.len(), "escalation recorded"
                        );
                    }
                    plan.recorded.insert(firing.key);
                }
                state.deliveries_waiting.notify_one();
            }
            Err(error) => {
                tracing::warn!(%error, "recording firings failed; trying again soon");
                for (firing, _) in &batch {
                    // Look at the ticket again soon.
                    let ticket: Arc<str> = firing.key.ticket.as_str().into();
                    plan.schedule(&ticket, Some(now + jiff::SignedDuration::from_secs(5)));
                }
            }
        }
    }
}

/// How often burn-rate alerts are looked for.
const ALERTS_EVERY: jiff::SignedDuration = jiff::SignedDuration::from_mins(1);

/// The burn-rate alerts of this month's availability objectives, recorded once each and sent
/// to the names the settings give for their severity: `page` at once, `ticket` in the
/// recipient's working hours.
async fn alerts_pass(
    state: &AppState,
    config: &NotifyConfig,
    plan: &mut Plan,
    current: &mut notify::Current,
    now: Timestamp,
) -> Result<(), ApiError> {
    let (settings, templates) = current.get(state).await?;
    let month = now.to_zoned(TimeZone::UTC).strftime("%Y-%m").to_string();
    let measured = availability::measure(state, &month, None, now, now).await?;
    let recorded = &plan.recorded;
    let found = state
        .clocks
        .with_catalog(&state.store, |catalog| {
            let to = Recipients { catalog, settings, templates, now };
            let mut found = Vec::new();
            for measurement in &measured {
                let Figures::Availability { outcome: AvailabilityOutcome::Time(figures), .. } =
                    &measurement.figures
                else {
                    continue;
                };
                for alert in &figures.alerts {
                    let rule = &alert.rule;
                    let key = FiringKey {
                        ticket: format!(
                            "availability:{}/{}",
                            measurement.customer, measurement.name
                        ),
                        metric: format!("burn-rate:{}", rule.severity),
                        // Minutes since 1970: an alert is known by when it started.
                        cycle: u32::try_from(alert.start.as_second() / 60).unwrap_or(u32::MAX),
                        rung: i32::try_from(rule.tenths).unwrap_or(i32::MAX),
                    };
                    if recorded.contains(&key) {
                        continue;
                    }
                    let burn_rate = format!("{}.{}", rule.tenths / 10, rule.tenths % 10);
                    let names = settings.alerted(rule.severity);
                    let outcome = if now.duration_since(alert.start) > config.max_age {
                        FiringOutcome::Stale
                    } else if names.is_empty() {
                        FiringOutcome::Nobody
                    } else {
                        FiringOutcome::Notified
                    };
                    let firing = NewFiring {
                        key,
                        threshold: format!(
                            "{burn_rate}x over {} and {}",
                            format_duration(rule.long),
                            format_duration(rule.short)
                        ),
                        fired_at: alert.start,
                        customer: Some(measurement.customer.clone()),
                        service: Some(measurement.service.clone()),
                        priority: None,
                        revisions: String::new(),
                        outcome,
                    };
                    let quiet = if rule.severity == "page" {
                        QuietHours::Ignore
                    } else {
                        QuietHours::Respect
                    };
                    let always = BusinessCalendar::always_open(measurement.zone.clone());
                    let mut deliveries = Vec::new();
                    if outcome == FiringOutcome::Notified {
                        for name in names {
                            let context_in = |zone: &TimeZone| {
                                json!({
                                    "kind": "burn_rate",
                                    "severity": rule.severity,
                                    "burn_rate": burn_rate,
                                    "long": format_duration(rule.long),
                                    "short": format_duration(rule.short),
                                    "customer": measurement.customer,
                                    "service": measurement.service,
                                    "objective": measurement.name,
                                    "period": measurement.period,
                                    "availability": figures.availability.to_string(),
                                    "target": figures.target.to_string(),
                                    "budget_remaining": format_duration(figures.budget.remaining),
                                    "threshold": firing.threshold,
                                    "fired_at": alert.start.to_string(),
                                    "fired_at_local": local(alert.start, zone),
                                    "ended_at": alert.end.map(|end| end.to_string()),
                                    "zone": zone.iana_name().unwrap_or("UTC"),
                                    "recipient": name,
                                })
                            };
                            to.deliveries(
                                name,
                                Some(&measurement.customer),
                                &always,
                                &measurement.zone,
                                quiet,
                                &context_in,
                                &mut deliveries,
                            );
                        }
                    }
                    found.push(Found { firing, deliveries });
                }
            }
            found
        })
        .await?;
    record(state, config, plan, found, now).await;
    Ok(())
}

/// What finding a pass's firings needs.
struct Looking<'a> {
    engine: &'a Engine<StoreTerms>,
    settings: &'a NotificationSettings,
    templates: &'a Templates,
    config: &'a NotifyConfig,
    now: Timestamp,
}

impl Looking<'_> {
    fn catalog(&self) -> &Catalog {
        self.engine.source().catalog()
    }

    /// The firings of `ticket` not yet recorded, as of now.
    fn firings(&self, ticket: &Ticket, recorded: &HashSet<FiringKey>, found: &mut Vec<Found>) {
        let state = &ticket.state;
        for clock in &state.clocks {
            let n_cycles = clock.cycles.len();
            for (cycle_idx, cycle) in clock.cycles.iter().enumerate() {
                // Only the last cycle can still run: it is counted up to now.
                let cycle = if cycle_idx + 1 == n_cycles {
                    Cow::Owned(cycle.as_of(self.now))
                } else {
                    Cow::Borrowed(cycle)
                };
                let key = |rung: i32| FiringKey {
                    ticket: ticket.id.to_string(),
                    metric: clock.metric.as_str().to_owned(),
                    cycle: u32::try_from(cycle_idx + 1).unwrap_or(u32::MAX),
                    rung,
                };
                for fired in &cycle.fired {
                    let key = key(i32::try_from(fired.rung.idx).unwrap_or(i32::MAX));
                    if recorded.contains(&key) {
                        continue;
                    }
                    let step = &fired.rung.step;
                    found.push(self.found(
                        ticket,
                        &cycle,
                        key,
                        &fired.rung.label(),
                        fired.at,
                        &step.notify,
                        step.quiet_hours,
                    ));
                }
                if let Some(breached_at) = cycle.breached_at {
                    let key = key(BREACH_RUNG);
                    if recorded.contains(&key) {
                        continue;
                    }
                    // Everyone the ladder names hears of the breach.
                    let mut notify: Vec<String> = Vec::new();
                    let mut quiet = QuietHours::Ignore;
                    for rung in &cycle.objective.ladder {
                        for name in &rung.step.notify {
                            if !notify.contains(name) {
                                notify.push(name.clone());
                            }
                        }
                        if rung.step.quiet_hours == QuietHours::Respect {
                            quiet = QuietHours::Respect;
                        }
                    }
                    if &*cycle.objective.key == TOP_PRIORITY {
                        quiet = QuietHours::Ignore;
                    }
                    found.push(self.found(
                        ticket,
                        &cycle,
                        key,
                        "breach",
                        breached_at,
                        &notify,
                        quiet,
                    ));
                }
            }
        }
    }

    /// The firing and its messages.
    #[allow(clippy::too_many_arguments)]
    fn found(
        &self,
        ticket: &Ticket,
        cycle: &Cycle,
        key: FiringKey,
        threshold: &str,
        fired_at: Timestamp,
        notify: &[String],
        quiet: QuietHours,
    ) -> Found {
        let state = &ticket.state;
        let terms = state.terms.as_deref();
        let zone = terms.map_or(TimeZone::UTC, |terms| terms.zone.clone());
        let revisions = terms.map_or_else(String::new, |terms| {
            terms
                .revisions
                .iter()
                .map(|revision| format!("{} {}", revision.agreement, revision.revision))
                .collect::<Vec<_>>()
                .join(", ")
        });
        let text = |value: &Option<Arc<str>>| value.as_deref().map(str::to_owned);
        let stale = self.now.duration_since(fired_at) > self.config.max_age;
        let outcome = if stale {
            FiringOutcome::Stale
        } else if notify.is_empty() {
            FiringOutcome::Nobody
        } else {
            FiringOutcome::Notified
        };
        let firing = NewFiring {
            key,
            threshold: threshold.to_owned(),
            fired_at,
            customer: text(&state.customer),
            service: text(&state.service),
            priority: text(&state.priority),
            revisions,
            outcome,
        };
        let mut deliveries = Vec::new();
        if outcome == FiringOutcome::Notified {
            for name in notify {
                self.deliveries_to(name, &firing, cycle, &zone, quiet, ticket, &mut deliveries);
            }
        }
        Found { firing, deliveries }
    }

    /// The messages for the recipient called `name` (`customer:ROLE` is several people).
    #[allow(clippy::too_many_arguments)]
    fn deliveries_to(
        &self,
        name: &str,
        firing: &NewFiring,
        cycle: &Cycle,
        zone: &TimeZone,
        quiet: QuietHours,
        ticket: &Ticket,
        out: &mut Vec<NewDelivery>,
    ) {
        let to = Recipients {
            catalog: self.catalog(),
            settings: self.settings,
            templates: self.templates,
            now: self.now,
        };
        to.deliveries(
            name,
            firing.customer.as_deref(),
            &cycle.objective.calendar,
            zone,
            quiet,
            &|local_zone| context(firing, cycle, ticket, name, local_zone),
            out,
        );
    }
}

/// Who the names of ladders and alerts are, and the messages they get.
struct Recipients<'a> {
    catalog: &'a Catalog,
    settings: &'a NotificationSettings,
    templates: &'a Templates,
    now: Timestamp,
}

impl Recipients<'_> {
    /// The messages for the recipient called `name` (`customer:ROLE` is several people of
    /// `customer`). Quiet hours wait for the recipient's working hours, else `hours`; the
    /// context is made for the zone local times are shown in.
    #[allow(clippy::too_many_arguments)]
    fn deliveries(
        &self,
        name: &str,
        customer: Option<&str>,
        hours: &BusinessCalendar,
        zone: &TimeZone,
        quiet: QuietHours,
        context_in: &dyn Fn(&TimeZone) -> Value,
        out: &mut Vec<NewDelivery>,
    ) {
        let refused = |reason: String| NewDelivery {
            recipient: name.to_owned(),
            channel: "email".to_owned(),
            address: String::new(),
            subject: String::new(),
            body: String::new(),
            due_at: self.now,
            refused: Some(reason),
        };
        // Who, where, and the calendar their working hours follow.
        let mut targets: Vec<(Address, Option<&BusinessCalendar>)> = Vec::new();
        if let Some(role) = name.strip_prefix("customer:") {
            let Some(customer) = customer.and_then(|c| self.catalog.customers.get(c)) else {
                out.push(refused(format!(
                    "the customer is not in the catalog, so {name} names nobody"
                )));
                return;
            };
            for contact in &customer.contacts {
                let has_role = contact.roles.iter().any(|r| r.as_str() == role)
                    || (role == "escalation" && contact.roles.contains(&ContactRole::Escalation));
                if let (true, Some(email)) = (has_role, &contact.email) {
                    targets.push((Address::Email(email.clone()), None));
                }
            }
            if targets.is_empty() {
                out.push(refused(format!(
                    "customer {} has no contact with the role {role} and an e-mail address",
                    customer.meta.name
                )));
                return;
            }
        } else {
            let Some(recipient) = self.settings.recipient(name) else {
                out.push(refused(format!(
                    "no recipient {name} in the notification settings (PUT /api/v1/notifications)"
                )));
                return;
            };
            let calendar = recipient
                .working_hours
                .as_deref()
                .and_then(|calendar| self.catalog.calendars.get(calendar))
                .map(|doc| &doc.calendar);
            targets.push((recipient.address.clone(), calendar));
        }
        for (address, calendar) in targets {
            let local_zone = calendar.map_or(zone, |calendar| calendar.zone());
            let due_at = match quiet {
                QuietHours::Respect => {
                    let hours = calendar.unwrap_or(hours);
                    hours.next_open(self.now).ok().flatten().unwrap_or(self.now)
                }
                QuietHours::Ignore => self.now,
            };
            let context = context_in(local_zone);
            let (subject, body) = match self.templates.render(&context) {
                Ok(rendered) => rendered,
                Err((template, error)) => {
                    out.push(refused(format!("the {template} template failed: {error}")));
                    continue;
                }
            };
            let (channel, address, body) = match address {
                Address::Email(email) => ("email", email, body),
                Address::Webhook(url) => {
                    let mut payload = context;
                    payload["title"] = json!(subject);
                    payload["text"] = json!(body);
                    ("webhook", url, payload.to_string())
                }
            };
            out.push(NewDelivery {
                recipient: name.to_owned(),
                channel: channel.to_owned(),
                address,
                subject,
                body,
                due_at,
                refused: None,
            });
        }
    }
}

/// `2026-11-02 11:00 Europe/Berlin`.
fn local(at: Timestamp, zone: &TimeZone) -> String {
    let zoned = at.to_zoned(zone.clone());
    format!("{} {}", zoned.strftime("%Y-%m-%d %H:%M"), zone.iana_name().unwrap_or("UTC"))
}

/// What templates see, and webhook bodies carry.
fn context(
    firing: &NewFiring,
    cycle: &Cycle,
    ticket: &Ticket,
    recipient: &str,
    zone: &TimeZone,
) -> Value {
    let deadline = if firing.key.rung == BREACH_RUNG { None } else { cycle.deadline() };
    json!({
        "kind": if firing.key.rung == BREACH_RUNG { "breach" } else { "escalation" },
        "ticket": firing.key.ticket,
        "external_ref": ticket.state.external_ref.as_deref(),
        "customer": firing.customer,
        "service": firing.service,
        "priority": firing.priority,
        "metric": firing.key.metric,
        "cycle": firing.key.cycle,
        "threshold": firing.threshold,
        "target": format_duration(cycle.target),
        "fired_at": firing.fired_at.to_string(),
        "fired_at_local": local(firing.fired_at, zone),
        "deadline": deadline.map(|at| at.to_string()),
        "deadline_local": deadline.map(|at| local(at, zone)),
        "zone": zone.iana_name().unwrap_or("UTC"),
        "revisions": firing.revisions,
        "recipient": recipient,
    })
}

/// The filters of the escalation log.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FiringQuery {
    ticket: Option<String>,
    limit: Option<u32>,
}

/// `GET /api/v1/escalations[?ticket=T][&limit=N]` (staff, scope `read`): recorded rungs and
/// breaches, newest first.
pub(super) async fn get_escalations(
    State(state): State<AppState>,
    auth: Auth,
    firing_query: Result<Query<FiringQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    auth.require_staff(Scope::Read)?;
    let firing_query = query(firing_query)?;
    let limit = firing_query.limit.unwrap_or(100);
    if limit == 0 || limit > 1000 {
        return Err(ApiError::field("limit", "expected 1 to 1000"));
    }
    let firings = state.store.firings(firing_query.ticket.as_deref(), limit).await?;
    let listed: Vec<Value> = firings
        .iter()
        .map(|record| {
            let firing = &record.firing;
            json!({
                "ticket": firing.key.ticket,
                "metric": firing.key.metric,
                "cycle": firing.key.cycle,
                "rung": firing.key.rung,
                "threshold": firing.threshold,
                "firedAt": firing.fired_at.to_string(),
                "customer": firing.customer,
                "service": firing.service,
                "priority": firing.priority,
                "revisions": firing.revisions,
                "outcome": firing.outcome.as_str(),
                "recordedAt": record.recorded_at.to_string(),
                "recordedBy": record.recorded_by,
            })
        })
        .collect();
    Ok(Json(json!({ "escalations": listed })).into_response())
}
