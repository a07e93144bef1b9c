//! A report as data: JSON (the whole report, for programs) and CSV (one row per figure, for
//! spreadsheets). Both list customers, objectives and rows in the model's stable order, so the
//! same report gives the same bytes.

use std::fmt::Write as _;

use accord_core::agreement::format_duration;
use accord_core::credits::{Evidence, LineKind};
use serde_json::{Value, json};

use super::model::{CustomerReport, Report, format_money};

/// The report as pretty-printed JSON (format `accord-report/v1`).
pub(crate) fn json(report: &Report) -> String {
    let customers: Vec<Value> = report.customers.iter().map(customer_json).collect();
    let value = json!({
        "format": "accord-report/v1",
        "period": report.period,
        "customer": report.customer,
        "asOf": report.as_of.to_string(),
        "logPosition": report.position,
        "customers": customers,
    });
    let mut text = serde_json::to_string_pretty(&value).expect("invariant: JSON values print");
    text.push('\n');
    text
}

/// `value` to `decimals` places, half away from zero (availability is never rounded up:
/// daily figures are floored to four places, as `Availability` prints them).
fn round(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

fn customer_json(customer: &CustomerReport) -> Value {
    let zone = customer.zone.iana_name().unwrap_or("UTC");
    let availability: Vec<Value> = customer
        .availability
        .iter()
        .map(|row| {
            json!({
                "service": row.service,
                "objective": row.objective,
                "kind": row.kind,
                "target": row.target,
                "actual": row.actual,
                "met": row.met,
                "downtimeSeconds": row.downtime.map(|d| d.as_secs()),
                "errorBudgetLeft": row.budget_left.map(|b| round(b, 4)),
                "daily": row.daily.iter().map(|(date, value)| json!({
                    "date": date.to_string(),
                    "availability": value.map(|v| (v * 10_000.0).floor() / 10_000.0),
                })).collect::<Vec<_>>(),
                "notes": row.notes,
            })
        })
        .collect();
    let incidents: Vec<Value> = customer
        .incidents
        .iter()
        .map(|row| {
            json!({
                "id": row.id,
                "start": row.start.to_string(),
                "end": row.end.map(|end| end.to_string()),
                "counted": row.counted,
                "cause": row.cause,
                "rootCause": row.root_cause,
            })
        })
        .collect();
    let tickets: Vec<Value> = customer
        .tickets
        .iter()
        .map(|row| {
            json!({
                "service": row.service,
                "metric": row.metric.as_str(),
                "priority": row.priority,
                "target": row.target,
                "decided": row.n_decided,
                "met": row.n_met,
                "shareMet": row.share_met().map(|share| round(share, 2)),
            })
        })
        .collect();
    let compliance: Vec<Value> = customer
        .compliance
        .iter()
        .map(|row| {
            json!({
                "service": row.service,
                "objective": row.objective,
                "window": row.window,
                "target": row.target.to_string(),
                "tickets": row.n_tickets,
                "inTime": row.n_met,
                "missesAllowed": row.n_allowed,
                "met": row.met,
            })
        })
        .collect();
    let breaches: Vec<Value> = customer
        .breaches
        .iter()
        .map(|row| {
            json!({
                "ticket": row.ticket,
                "externalRef": row.external_ref,
                "service": row.service,
                "metric": row.clock.metric.as_str(),
                "priority": row.clock.priority,
                "cycle": row.clock.cycle,
                "cycleStart": row.clock.cycle_start.to_string(),
                "target": format_duration(row.clock.target),
                "breachedAt": row.clock.breached_at.to_string(),
            })
        })
        .collect();
    let credits: Vec<Value> = customer
        .credits
        .iter()
        .map(|row| {
            let Some(statement) = &row.statement else {
                return json!({"service": row.service, "month": row.month, "problem": row.problem});
            };
            let lines: Vec<Value> = statement
                .lines
                .iter()
                .map(|line| {
                    let evidence = match &line.evidence {
                        Evidence::Outages { objective, availability, outages } => json!({
                            "objective": objective,
                            "availability": availability.to_string(),
                            "outages": outages.iter().map(|o| json!({
                                "start": o.outage.range.start().to_string(),
                                "end": o.outage.range.end().to_string(),
                                "countedSeconds": o.counted.as_secs(),
                            })).collect::<Vec<_>>(),
                        }),
                        Evidence::Breaches { ticket, clocks } => json!({
                            "ticket": ticket,
                            "breaches": clocks.iter().map(|b| json!({
                                "ticket": b.ticket,
                                "metric": b.metric.as_str(),
                                "priority": b.priority,
                                "breachedAt": b.breached_at.to_string(),
                            })).collect::<Vec<_>>(),
                        }),
                    };
                    json!({
                        "kind": match line.kind {
                            LineKind::AvailabilityTier(_) => "availability tier",
                            LineKind::BreachPenalty { .. } => "breach penalty",
                        },
                        "rule": line.rule,
                        "amountMinor": line.amount.minor(),
                        "amount": format_money(line.amount),
                        "revision": format!("{} {}", line.revision.agreement, line.revision.revision),
                        "evidence": evidence,
                    })
                })
                .collect();
            json!({
                "service": row.service,
                "month": row.month,
                "currency": statement.currency(),
                "monthlyFeeMinor": statement.monthly_fee.minor(),
                "lines": lines,
                "subtotalMinor": statement.subtotal.minor(),
                "capMinor": statement.cap.limit.minor(),
                "capRemovedMinor": statement.cap.removed.minor(),
                "totalMinor": statement.total.minor(),
                "total": format_money(statement.total),
                "claimBy": statement.claim.as_ref().map(|claim| claim.last_day.to_string()),
                "creditedOn": statement.credited_on.as_str(),
                "notes": statement.notes,
            })
        })
        .collect();
    let satisfaction: Vec<Value> = customer
        .satisfaction
        .iter()
        .map(|row| {
            json!({
                "service": row.service,
                "ratings": row.n_ratings,
                "satisfied": row.n_satisfied,
                "csat": row.csat().map(|csat| round(csat, 2)),
                "meanStars": row.mean_stars.map(|mean| round(mean, 2)),
                "trend": row.trend_labels.iter().zip(row.trend).map(|(label, share)| json!({
                    "period": label,
                    "csat": share.map(|share| round(share, 2)),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let watermelons: Vec<Value> = customer
        .watermelons
        .iter()
        .map(|flag| json!({"service": flag.service, "reason": flag.reason}))
        .collect();
    json!({
        "name": customer.name,
        "displayName": customer.display_name,
        "timeZone": zone,
        "start": customer.range.start().to_string(),
        "end": customer.range.end().to_string(),
        "objectivesJudged": customer.n_judged(),
        "objectivesMissed": customer.n_missed(),
        "availability": availability,
        "incidents": incidents,
        "tickets": tickets,
        "compliance": compliance,
        "breaches": breaches,
        "credits": credits,
        "creditTotals": customer.credit_totals(),
        "satisfaction": satisfaction,
        "watermelons": watermelons,
    })
}

/// One CSV field, quoted when it needs to be (RFC 4180).
fn field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// The report as CSV: `customer,section,service,item,target,actual,met,detail`, one row per
/// figure, with a header, the report's period, as-of instant and log position on every row's
/// customer block's first line.
pub(crate) fn csv(report: &Report) -> String {
    let mut out = String::from("customer,section,service,item,target,actual,met,detail\r\n");
    let mut row = |cells: [&str; 8]| {
        let line: Vec<String> = cells.iter().map(|cell| field(cell)).collect();
        let _ = write!(out, "{}\r\n", line.join(","));
    };
    let verdict = |met: Option<bool>| match met {
        Some(true) => "met",
        Some(false) => "missed",
        None => "",
    };
    for customer in &report.customers {
        let name = customer.name.as_str();
        let evidence = format!(
            "period {} as of {} from log position {}",
            report.period, report.as_of, report.position
        );
        row([name, "report", "", "evidence", "", "", "", &evidence]);
        for a in &customer.availability {
            let budget = a.budget_left.map(|b| format!("error budget left {:.1}%", b * 100.0));
            row([
                name,
                a.kind,
                &a.service,
                &a.objective,
                &a.target,
                a.actual.as_deref().unwrap_or(""),
                verdict(a.met),
                budget.as_deref().unwrap_or(""),
            ]);
        }
        for c in &customer.compliance {
            let actual = format!("{} of {} in time", c.n_met, c.n_tickets);
            let detail = format!("window {}, {} misses allowed", c.window, c.n_allowed);
            row([
                name,
                "compliance",
                &c.service,
                &c.objective,
                &c.target.to_string(),
                &actual,
                verdict(Some(c.met)),
                &detail,
            ]);
        }
        for t in &customer.tickets {
            let item = format!("{} {}", t.metric.as_str(), t.priority);
            let actual = t.share_met().map_or_else(String::new, |share| format!("{share:.1}%"));
            let detail = format!("{} of {} in time", t.n_met, t.n_decided);
            row([name, "tickets", &t.service, &item, &t.target, &actual, "", &detail]);
        }
        for b in &customer.breaches {
            let item = format!("{} {} {}", b.ticket, b.clock.metric.as_str(), b.clock.priority);
            row([
                name,
                "breach",
                &b.service,
                &item,
                &format_duration(b.clock.target),
                &b.clock.breached_at.to_string(),
                "missed",
                b.external_ref.as_deref().unwrap_or(""),
            ]);
        }
        for i in &customer.incidents {
            let end = i.end.map_or_else(|| "ongoing".to_owned(), |end| end.to_string());
            let detail = format!("{}; cause: {}; root cause: {}", i.counted, i.cause, i.root_cause);
            row([name, "incident", "", &i.id, &i.start.to_string(), &end, "", &detail]);
        }
        for c in &customer.credits {
            match &c.statement {
                Some(statement) => {
                    for line in &statement.lines {
                        row([
                            name,
                            "credit",
                            &c.service,
                            &c.month,
                            &line.rule,
                            &format_money(line.amount),
                            "",
                            &format!("{} {}", line.revision.agreement, line.revision.revision),
                        ]);
                    }
                    row([
                        name,
                        "credit total",
                        &c.service,
                        &c.month,
                        "",
                        &format_money(statement.total),
                        "",
                        statement.credited_on.as_str(),
                    ]);
                }
                None => row([
                    name,
                    "credit",
                    &c.service,
                    &c.month,
                    "",
                    "",
                    "",
                    c.problem.as_deref().unwrap_or(""),
                ]),
            }
        }
        for s in &customer.satisfaction {
            let csat = s.csat().map_or_else(String::new, |csat| format!("{csat:.1}%"));
            let detail = format!("{} of {} ratings satisfied", s.n_satisfied, s.n_ratings);
            row([
                name,
                "satisfaction",
                s.service.as_deref().unwrap_or("all"),
                "CSAT",
                "",
                &csat,
                "",
                &detail,
            ]);
        }
        for w in &customer.watermelons {
            row([name, "watermelon", &w.service, "flag", "", "", "", &w.reason]);
        }
    }
    out
}
