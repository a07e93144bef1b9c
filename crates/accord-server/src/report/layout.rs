//! A computed report laid out for people: the sections, tables, figures and charts the HTML
//! and PDF renderers draw, with every time shown in the customer's zone, named.

use accord_core::agreement::{Metric, format_duration};
use accord_core::credits::Evidence;
use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::Settings;
use super::doc::{Align, Bar, BarChart, Block, Cell, Column, Doc, Figure, Section, Table, Tone};
use super::model::{CustomerReport, Report, format_minor, format_money};

/// The report as a document.
pub(crate) fn doc(report: &Report, settings: &Settings) -> Doc {
    let scope = match (&report.customer, report.customers.first()) {
        (Some(_), Some(customer)) => customer.display_name.clone(),
        _ => "All customers".to_owned(),
    };
    let zone = match (&report.customer, report.customers.first()) {
        (Some(_), Some(customer)) => customer.zone.clone(),
        _ => TimeZone::UTC,
    };
    let mut meta = vec![("Period".to_owned(), period_words(&report.period))];
    if let (Some(_), Some(customer)) = (&report.customer, report.customers.first()) {
        meta.push((
            "Dates".to_owned(),
            format!(
                "{} to {} ({})",
                local(customer.range.start(), &zone, "%-d %b %Y %H:%M"),
                local(customer.range.end(), &zone, "%-d %b %Y %H:%M"),
                zone_name(&zone)
            ),
        ));
    }
    meta.push(("Figures as of".to_owned(), local(report.as_of, &zone, "%-d %b %Y %H:%M %Z")));
    meta.push(("Event log position".to_owned(), report.position.to_string()));
    let mut sections = Vec::new();
    if report.customer.is_none() {
        sections.push(overview(report));
    }
    for customer in &report.customers {
        let prefix = if report.customer.is_none() {
            format!("{}: ", customer.display_name)
        } else {
            String::new()
        };
        sections.extend(customer_sections(customer, &prefix));
    }
    let recompute = match &report.customer {
        Some(customer) => format!("--customer {customer} "),
        None => String::new(),
    };
    Doc {
        lang: "en".to_owned(),
        issuer: settings.issuer.clone(),
        title: "Service level report".to_owned(),
        subtitle: format!("{scope} · {}", period_words(&report.period)),
        meta,
        sections,
        footer: format!(
            "Computed by Accord from event log position {} as of {}. Recompute: accord report {recompute}--period {} --position {} --as-of {}",
            report.position, report.as_of, report.period, report.position, report.as_of
        ),
    }
}

/// `2026-10` → `October 2026`, `2026-Q4` → `Q4 2026`.
fn period_words(period: &str) -> String {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    match period.split_once('-') {
        Some((year, quarter)) if quarter.starts_with('Q') => format!("{quarter} {year}"),
        Some((year, month)) => match month.parse::<usize>() {
            Ok(month @ 1..=12) => format!("{} {year}", MONTHS[month - 1]),
            _ => period.to_owned(),
        },
        None => period.to_owned(),
    }
}

fn zone_name(zone: &TimeZone) -> String {
    zone.iana_name().unwrap_or("UTC").to_owned()
}

/// An instant in `zone`, formatted.
fn local(at: Timestamp, zone: &TimeZone, format: &str) -> String {
    at.to_zoned(zone.clone()).strftime(format).to_string()
}

fn cell(text: impl Into<String>) -> Cell {
    Cell { text: text.into(), tone: Tone::Neutral }
}

fn toned(text: impl Into<String>, tone: Tone) -> Cell {
    Cell { text: text.into(), tone }
}

fn column(title: &str, align: Align, weight: u8) -> Column {
    Column { title: title.to_owned(), align, weight }
}

fn verdict(met: Option<bool>) -> Cell {
    match met {
        Some(true) => toned("Met", Tone::Good),
        Some(false) => toned("Missed", Tone::Bad),
        None => toned("Not measured", Tone::Warn),
    }
}

fn totals_text(totals: &std::collections::BTreeMap<String, i64>) -> String {
    if totals.is_empty() {
        return "none".to_owned();
    }
    totals
        .iter()
        .map(|(currency, minor)| format_minor(*minor, currency))
        .collect::<Vec<_>>()
        .join(" + ")
}

fn overall_csat(customer: &CustomerReport) -> Option<f64> {
    customer.satisfaction.iter().find(|row| row.service.is_none()).and_then(|row| row.csat())
}

/// The provider-wide overview: one row per customer.
fn overview(report: &Report) -> Section {
    let rows = report
        .customers
        .iter()
        .map(|customer| {
            let missed = customer.n_missed();
            vec![
                cell(&customer.display_name),
                toned(
                    format!("{} of {}", customer.n_judged() - missed, customer.n_judged()),
                    if missed > 0 { Tone::Bad } else { Tone::Good },
                ),
                toned(
                    customer.breaches.len().to_string(),
                    if customer.breaches.is_empty() { Tone::Neutral } else { Tone::Warn },
                ),
                cell(totals_text(&customer.credit_totals())),
                cell(overall_csat(customer).map_or_else(|| "–".to_owned(), |c| format!("{c:.0}%"))),
                if customer.watermelons.is_empty() {
                    cell("–")
                } else {
                    toned("Watermelon", Tone::Bad)
                },
            ]
        })
        .collect();
    Section {
        title: "Customers".to_owned(),
        blocks: vec![Block::Table(Table {
            columns: vec![
                column("Customer", Align::Left, 4),
                column("Objectives met", Align::Right, 2),
                column("Breaches", Align::Right, 2),
                column("Credits", Align::Right, 3),
                column("CSAT", Align::Right, 2),
                column("Flag", Align::Left, 2),
            ],
            rows,
            empty: "No customer has an agreement in force in the period.".to_owned(),
        })],
    }
}

fn customer_sections(customer: &CustomerReport, prefix: &str) -> Vec<Section> {
    let zone = &customer.zone;
    let mut sections = vec![summary(customer, prefix)];
    // Availability.
    let mut blocks = vec![Block::Table(Table {
        columns: vec![
            column("Service", Align::Left, 3),
            column("Objective", Align::Left, 3),
            column("Target", Align::Right, 2),
            column("Actual", Align::Right, 3),
            column("Downtime", Align::Right, 2),
            column("Budget left", Align::Right, 2),
            column("Result", Align::Left, 2),
        ],
        rows: customer
            .availability
            .iter()
            .map(|row| {
                let budget = row.budget_left.map_or_else(
                    || "–".to_owned(),
                    |left| format!("{:.0}%", (left * 100.0).max(-999.0)),
                );
                let budget_tone = match row.budget_left {
                    Some(left) if left < 0.0 => Tone::Bad,
                    Some(left) if left < 0.25 => Tone::Warn,
                    Some(_) => Tone::Good,
                    None => Tone::Neutral,
                };
                vec![
                    cell(&row.service),
                    cell(&row.objective),
                    cell(if row.target.is_empty() { "–" } else { &row.target }),
                    cell(row.actual.clone().unwrap_or_else(|| row.notes.join("; "))),
                    cell(row.downtime.map_or_else(|| "–".to_owned(), format_duration)),
                    toned(budget, budget_tone),
                    verdict(row.met),
                ]
            })
            .collect(),
        empty: "No availability objectives in the period.".to_owned(),
    })];
    for row in customer.availability.iter().filter(|row| !row.daily.is_empty()) {
        blocks.push(Block::Bars(daily_chart(row)));
    }
    for row in &customer.availability {
        for note in &row.notes {
            blocks.push(Block::Note(
                Tone::Warn,
                format!("{} / {}: {note}", row.service, row.objective),
            ));
        }
    }
    sections.push(Section { title: format!("{prefix}Availability"), blocks });
    // Incidents.
    sections.push(Section {
        title: format!("{prefix}Incidents"),
        blocks: vec![Block::Table(Table {
            columns: vec![
                column("Incident", Align::Left, 2),
                column("Start", Align::Left, 3),
                column("End", Align::Left, 3),
                column("Counted", Align::Left, 4),
                column("Cause", Align::Left, 3),
                column("Root cause", Align::Left, 3),
            ],
            rows: customer
                .incidents
                .iter()
                .map(|row| {
                    vec![
                        cell(&row.id),
                        cell(local(row.start, zone, "%Y-%m-%d %H:%M %Z")),
                        row.end.map_or_else(
                            || toned("ongoing", Tone::Bad),
                            |end| cell(local(end, zone, "%Y-%m-%d %H:%M %Z")),
                        ),
                        cell(&row.counted),
                        cell(if row.cause.is_empty() { "–" } else { &row.cause }),
                        cell(if row.root_cause.is_empty() {
                            "not recorded"
                        } else {
                            &row.root_cause
                        }),
                    ]
                })
                .collect(),
            empty: "No incidents in the period.".to_owned(),
        })],
    });
    // Tickets.
    let mut ticket_blocks = vec![Block::Table(Table {
        columns: vec![
            column("Service", Align::Left, 3),
            column("Metric", Align::Left, 2),
            column("Priority", Align::Left, 2),
            column("Target", Align::Right, 2),
            column("Decided", Align::Right, 2),
            column("In time", Align::Right, 2),
            column("Share", Align::Right, 2),
        ],
        rows: customer
            .tickets
            .iter()
            .filter(|row| matches!(row.metric, Metric::Response | Metric::Resolution))
            .map(|row| {
                let share = row.share_met();
                vec![
                    cell(&row.service),
                    cell(row.metric.as_str()),
                    cell(&row.priority),
                    cell(&row.target),
                    cell(row.n_decided.to_string()),
                    cell(row.n_met.to_string()),
                    toned(
                        share.map_or_else(|| "–".to_owned(), |s| format!("{s:.1}%")),
                        match share {
                            Some(s) if s >= 100.0 => Tone::Good,
                            Some(s) if s >= 90.0 => Tone::Warn,
                            Some(_) => Tone::Bad,
                            None => Tone::Neutral,
                        },
                    ),
                ]
            })
            .collect(),
        empty: "No response or resolution clocks were decided in the period.".to_owned(),
    })];
    if customer
        .tickets
        .iter()
        .any(|row| !matches!(row.metric, Metric::Response | Metric::Resolution))
    {
        ticket_blocks.push(Block::Paragraph(
            "Next-response, update and request clocks are counted in the CSV and JSON forms of this report.".to_owned(),
        ));
    }
    if !customer.compliance.is_empty() {
        ticket_blocks.push(Block::Table(Table {
            columns: vec![
                column("Service", Align::Left, 3),
                column("Compliance objective", Align::Left, 3),
                column("Window", Align::Left, 2),
                column("Target", Align::Right, 2),
                column("In time", Align::Right, 3),
                column("Misses used", Align::Right, 2),
                column("Result", Align::Left, 2),
            ],
            rows: customer
                .compliance
                .iter()
                .map(|row| {
                    vec![
                        cell(&row.service),
                        cell(&row.objective),
                        cell(&row.window),
                        cell(row.target.to_string()),
                        cell(format!("{} of {}", row.n_met, row.n_tickets)),
                        cell(format!("{} of {}", row.n_tickets - row.n_met, row.n_allowed)),
                        verdict(Some(row.met)),
                    ]
                })
                .collect(),
            empty: String::new(),
        }));
    }
    sections
        .push(Section { title: format!("{prefix}Response and resolution"), blocks: ticket_blocks });
    // Breaches.
    sections.push(Section {
        title: format!("{prefix}Breaches"),
        blocks: vec![Block::Table(Table {
            columns: vec![
                column("Ticket", Align::Left, 3),
                column("Service", Align::Left, 3),
                column("Clock", Align::Left, 3),
                column("Target", Align::Right, 2),
                column("Started", Align::Left, 3),
                column("Breached", Align::Left, 3),
            ],
            rows: customer
                .breaches
                .iter()
                .map(|row| {
                    let ticket = match &row.external_ref {
                        Some(external) if *external != row.ticket => {
                            format!("{} ({external})", row.ticket)
                        }
                        _ => row.ticket.clone(),
                    };
                    vec![
                        cell(ticket),
                        cell(&row.service),
                        cell(format!("{} {}", row.clock.priority, row.clock.metric.as_str())),
                        cell(format_duration(row.clock.target)),
                        cell(local(row.clock.cycle_start, zone, "%Y-%m-%d %H:%M")),
                        toned(local(row.clock.breached_at, zone, "%Y-%m-%d %H:%M %Z"), Tone::Bad),
                    ]
                })
                .collect(),
            empty: "No breaches in the period.".to_owned(),
        })],
    });
    sections.push(credits_section(customer, prefix));
    sections.push(satisfaction_section(customer, prefix));
    sections
}

fn summary(customer: &CustomerReport, prefix: &str) -> Section {
    let judged = customer.n_judged();
    let missed = customer.n_missed();
    let mut figures = vec![Figure {
        label: "Objectives met".to_owned(),
        value: format!("{} of {judged}", judged - missed),
        detail: if missed == 0 { "all met".to_owned() } else { format!("{missed} missed") },
        tone: if judged == 0 {
            Tone::Neutral
        } else if missed == 0 {
            Tone::Good
        } else {
            Tone::Bad
        },
    }];
    if let Some(lowest) = customer
        .availability
        .iter()
        .filter(|row| row.kind == "availability")
        .filter_map(|row| Some((row.actual.clone()?, row)))
        .min_by(|a, b| {
            a.1.actual_percent.partial_cmp(&b.1.actual_percent).unwrap_or(std::cmp::Ordering::Equal)
        })
    {
        figures.push(Figure {
            label: "Lowest availability".to_owned(),
            value: lowest.0,
            detail: format!("{} · target {}", lowest.1.objective, lowest.1.target),
            tone: match lowest.1.met {
                Some(true) => Tone::Good,
                Some(false) => Tone::Bad,
                None => Tone::Neutral,
            },
        });
    }
    figures.push(Figure {
        label: "Breached clocks".to_owned(),
        value: customer.breaches.len().to_string(),
        detail: format!(
            "{} tickets decided",
            customer
                .tickets
                .iter()
                .filter(|row| row.metric == Metric::Resolution)
                .map(|row| row.n_decided)
                .sum::<u32>()
        ),
        tone: if customer.breaches.is_empty() { Tone::Good } else { Tone::Warn },
    });
    let totals = customer.credit_totals();
    figures.push(Figure {
        label: "Service credits".to_owned(),
        value: totals_text(&totals),
        detail: "owed for the period".to_owned(),
        tone: if totals.values().any(|minor| *minor > 0) { Tone::Warn } else { Tone::Neutral },
    });
    if let Some(all) = customer.satisfaction.iter().find(|row| row.service.is_none()) {
        figures.push(Figure {
            label: "Satisfaction (CSAT)".to_owned(),
            value: all.csat().map_or_else(|| "–".to_owned(), |c| format!("{c:.0}%")),
            detail: format!("{} ratings", all.n_ratings),
            tone: match all.csat() {
                Some(c) if c >= 80.0 => Tone::Good,
                Some(c) if c >= 60.0 => Tone::Warn,
                Some(_) => Tone::Bad,
                None => Tone::Neutral,
            },
        });
    }
    let mut blocks = vec![Block::Figures(figures)];
    for flag in &customer.watermelons {
        blocks.push(Block::Note(
            Tone::Bad,
            format!(
                "Watermelon: {} is green on the SLA but red for the customer: {}.",
                flag.service, flag.reason
            ),
        ));
    }
    Section { title: format!("{prefix}Summary"), blocks }
}

/// The daily availability of one objective as bars.
fn daily_chart(row: &super::model::AvailabilityRow) -> BarChart {
    let target = row.target_percent;
    let lowest =
        row.daily.iter().filter_map(|(_, value)| *value).fold(target.unwrap_or(100.0), f64::min);
    let floor = [99.9, 99.5, 99.0, 98.0, 95.0, 90.0, 80.0, 50.0, 0.0]
        .into_iter()
        .find(|floor| *floor < lowest.min(target.unwrap_or(100.0)) - 0.0001 || *floor == 0.0)
        .unwrap_or(0.0);
    let bars: Vec<Bar> = row
        .daily
        .iter()
        .map(|(date, value)| {
            let tone = match (value, target) {
                (Some(value), Some(target)) if *value < target => Tone::Bad,
                (Some(value), _) if *value < 100.0 => Tone::Warn,
                (Some(_), _) => Tone::Good,
                (None, _) => Tone::Neutral,
            };
            Bar {
                label: date.day().to_string(),
                tip: match value {
                    Some(value) => format!("{}: {value:.3}%", date.strftime("%-d %b")),
                    None => format!("{}: no data yet", date.strftime("%-d %b")),
                },
                value: *value,
                tone,
            }
        })
        .collect();
    let below: Vec<&str> =
        bars.iter().filter(|bar| bar.tone == Tone::Bad).map(|bar| bar.tip.as_str()).collect();
    let alt = format!(
        "Availability of {} / {} per day{}. {}",
        row.service,
        row.objective,
        target.map_or_else(String::new, |t| format!(" against a target of {t}%")),
        if below.is_empty() {
            "Every day met the target.".to_owned()
        } else {
            format!("Days below the target: {}.", below.join(", "))
        }
    );
    BarChart {
        title: format!("{} / {}: availability per day", row.service, row.objective),
        alt,
        unit: "%".to_owned(),
        floor,
        ceiling: 100.0,
        target,
        bars,
    }
}

/// `text` with its first letter in upper case.
fn upper_first(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| first.to_uppercase().chain(chars).collect())
}

fn credits_section(customer: &CustomerReport, prefix: &str) -> Section {
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    for credit in &customer.credits {
        let Some(statement) = &credit.statement else {
            notes.push(Block::Note(
                Tone::Warn,
                format!(
                    "{} {}: {}",
                    credit.service,
                    credit.month,
                    credit.problem.as_deref().unwrap_or("not computed")
                ),
            ));
            continue;
        };
        for line in &statement.lines {
            let evidence = match &line.evidence {
                Evidence::Outages { objective, availability, outages } => format!(
                    "{objective} at {availability}; {} outage{} counted",
                    outages.len(),
                    if outages.len() == 1 { "" } else { "s" }
                ),
                Evidence::Breaches { clocks, .. } => clocks
                    .iter()
                    .map(|clock| {
                        format!(
                            "{} breached {}",
                            clock.metric.as_str(),
                            local(clock.breached_at, &customer.zone, "%-d %b %H:%M")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            };
            rows.push(vec![
                cell(&credit.month),
                cell(&credit.service),
                cell(upper_first(&line.rule)),
                cell(evidence),
                cell(format!("{} {}", line.revision.agreement, line.revision.revision)),
                cell(format_money(line.amount)),
            ]);
        }
        let mut total_text = format!("Total {} {}", credit.service, credit.month);
        if statement.cap.removed.minor() > 0 {
            total_text.push_str(&format!(
                " (capped at {} of the fee: {} removed)",
                statement.cap.share,
                format_money(statement.cap.removed)
            ));
        }
        if let Some(minimum) = &statement.minimum
            && minimum.applied()
        {
            total_text.push_str(&format!(" (below the {} minimum)", format_money(minimum.minimum)));
        }
        let claim = statement
            .claim
            .as_ref()
            .map_or_else(String::new, |claim| format!("claim by {}; ", claim.last_day));
        rows.push(vec![
            toned(&credit.month, Tone::Neutral),
            cell(&credit.service),
            toned(total_text, Tone::Neutral),
            cell(format!("{claim}{}", statement.credited_on.as_str().replace('_', " "))),
            cell(""),
            toned(
                format_money(statement.total),
                if statement.total.minor() > 0 { Tone::Warn } else { Tone::Good },
            ),
        ]);
        for note in &statement.notes {
            notes.push(Block::Paragraph(format!("{} {}: {note}", credit.service, credit.month)));
        }
    }
    let mut blocks = vec![Block::Table(Table {
        columns: vec![
            column("Month", Align::Left, 2),
            column("Service", Align::Left, 2),
            column("Rule", Align::Left, 5),
            column("Evidence", Align::Left, 4),
            column("Terms", Align::Left, 2),
            column("Amount", Align::Right, 3),
        ],
        rows,
        empty: "No credit terms apply in the period.".to_owned(),
    })];
    blocks.extend(notes);
    Section { title: format!("{prefix}Service credits"), blocks }
}

fn satisfaction_section(customer: &CustomerReport, prefix: &str) -> Section {
    let rows = customer
        .satisfaction
        .iter()
        .map(|row| {
            let trend = row
                .trend_labels
                .iter()
                .zip(row.trend)
                .map(|(label, share)| {
                    format!(
                        "{label} {}",
                        share.map_or_else(|| "–".to_owned(), |s| format!("{s:.0}%"))
                    )
                })
                .collect::<Vec<_>>()
                .join(" → ");
            let watermelon = row.service.as_ref().is_some_and(|service| {
                customer.watermelons.iter().any(|flag| flag.service == *service)
            });
            vec![
                cell(row.service.clone().unwrap_or_else(|| "All services".to_owned())),
                cell(row.n_ratings.to_string()),
                toned(
                    row.csat().map_or_else(|| "–".to_owned(), |c| format!("{c:.0}%")),
                    match row.csat() {
                        Some(c) if c >= 80.0 => Tone::Good,
                        Some(c) if c >= 60.0 => Tone::Warn,
                        Some(_) => Tone::Bad,
                        None => Tone::Neutral,
                    },
                ),
                cell(row.mean_stars.map_or_else(|| "–".to_owned(), |m| format!("{m:.1} / 5"))),
                cell(trend),
                if watermelon { toned("Watermelon", Tone::Bad) } else { cell("–") },
            ]
        })
        .collect();
    let mut blocks = vec![Block::Table(Table {
        columns: vec![
            column("Service", Align::Left, 3),
            column("Ratings", Align::Right, 2),
            column("CSAT", Align::Right, 2),
            column("Mean", Align::Right, 2),
            column("Trend (three periods)", Align::Left, 6),
            column("Flag", Align::Left, 2),
        ],
        rows,
        empty: "No satisfaction ratings in the period.".to_owned(),
    })];
    if let Some(all) = customer.satisfaction.iter().find(|row| row.service.is_none())
        && !all.comments.is_empty()
    {
        let comments = all
            .comments
            .iter()
            .map(|(at, who, comment)| {
                format!("“{comment}” ({who}, {})", local(*at, &customer.zone, "%-d %b"))
            })
            .collect::<Vec<_>>()
            .join("  ");
        blocks.push(Block::Paragraph(format!("Recent comments: {comments}")));
    }
    Section { title: format!("{prefix}Satisfaction"), blocks }
}
