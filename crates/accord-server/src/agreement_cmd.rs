//! `accord check`, `accord explain` and `accord import`: agreements as code from the command
//! line, over documents in files. The commands that store revisions are in `revision_cmd`.

use std::path::Path;
use std::process::ExitCode;

use accord_core::agreement::{
    self, Catalog, Described, EffectiveTerms, EffectiveTicketObjective, Metric, ObjectiveRef,
    Origin, Query, Severity, Sourced,
};
use accord_format::catalog::{self, Loaded};
use anyhow::{Context, bail};
use jiff::civil::Date;

use crate::output;

/// Loads a file or directory tree, turning format errors into one error listing them all.
pub(crate) fn load(path: &Path) -> anyhow::Result<Loaded> {
    catalog::load_path(path).map_err(|errors| {
        let n_errors = errors.0.len();
        output::note(&errors.to_string());
        anyhow::anyhow!(
            "{} has {n_errors} error{}",
            path.display(),
            if n_errors == 1 { "" } else { "s" }
        )
    })
}

/// Today in the system's zone: the default for `--at`.
pub(crate) fn today() -> Date {
    jiff::Zoned::now().date()
}

/// Parses `--at`.
pub(crate) fn parse_date(flag: &str, text: &str) -> anyhow::Result<Date> {
    text.parse().with_context(|| format!("{flag} {text:?}: expected a date such as 2026-11-21"))
}

/// `accord check PATH`.
pub fn check(path: &Path, at: Option<&str>) -> anyhow::Result<ExitCode> {
    let on = match at {
        Some(at) => parse_date("--at", at)?,
        None => today(),
    };
    let loaded = load(path)?;
    let findings = agreement::check(&loaded.catalog, on);
    let n_errors = findings.iter().filter(|f| f.severity == Severity::Error).count();
    let n_warnings = findings.len() - n_errors;
    for finding in &findings {
        output::note(&finding.to_string());
    }
    let n_files = {
        let mut files: Vec<&Path> = loaded.documents.iter().map(|d| d.path.as_path()).collect();
        files.dedup();
        files.len()
    };
    let summary = format!(
        "checked {} documents in {n_files} files on {on}: {n_errors} error{}, {n_warnings} warning{}",
        loaded.documents.len(),
        if n_errors == 1 { "" } else { "s" },
        if n_warnings == 1 { "" } else { "s" },
    );
    if n_errors > 0 {
        bail!("{summary}");
    }
    output::text(&summary);
    Ok(ExitCode::SUCCESS)
}

/// What `explain` resolves.
#[derive(Debug)]
pub struct ExplainArgs<'a> {
    /// The customer.
    pub customer: &'a str,
    /// The service.
    pub service: &'a str,
    /// Only this priority (and no request types).
    pub priority: Option<&'a str>,
    /// The region.
    pub region: Option<&'a str>,
    /// The site.
    pub site: Option<&'a str>,
    /// The date.
    pub on: Date,
}

/// Resolves and prints effective terms with where each value came from.
pub fn explain(catalog: &Catalog, args: &ExplainArgs<'_>, source: &str) -> anyhow::Result<()> {
    let query = Query {
        customer: args.customer,
        service: args.service,
        region: args.region,
        site: args.site,
        on: args.on,
    };
    let effective = agreement::resolve(catalog, &query)?;
    output::text(&render_explanation(&effective, args.priority, source));
    Ok(())
}

/// `file:line field`, or `built-in default (what)`.
pub(crate) fn origin_text(origin: &Origin) -> String {
    if origin.is_default() {
        format!("{} ({})", origin.file, origin.field)
    } else {
        format!("{}:{} {}", origin.file, origin.line, origin.field)
    }
}

/// The effective terms as `explain` presents them: the ticket objectives asked for, each with
/// every inherited value filled in, then the other terms as labelled values. The command line
/// renders it as text ([`render_explanation`]) and the API as JSON.
#[derive(Debug)]
pub(crate) struct Explanation<'a> {
    /// What was resolved.
    pub(crate) effective: &'a EffectiveTerms,
    /// The priority the ticket objectives are limited to, if any.
    pub(crate) priority: Option<&'a str>,
    /// The ticket objectives shown, in document order.
    pub(crate) tickets: Vec<ExplainedObjective<'a>>,
    /// The terms other than ticket objectives and their level-wide defaults.
    pub(crate) others: Vec<Described>,
}

/// One ticket objective of an [`Explanation`].
#[derive(Debug)]
pub(crate) struct ExplainedObjective<'a> {
    /// The metric.
    pub(crate) metric: Metric,
    /// The priority or request type.
    pub(crate) key: &'a str,
    /// Its values, inherited ones filled in.
    pub(crate) objective: EffectiveTicketObjective,
    /// The OLA and UC objectives that underpin it.
    pub(crate) underpinned_by: Option<&'a Sourced<Vec<ObjectiveRef>>>,
}

impl<'a> Explanation<'a> {
    /// Explains `effective`; with `priority`, only that priority's ticket objectives (and no
    /// request types).
    pub(crate) fn new(effective: &'a EffectiveTerms, priority: Option<&'a str>) -> Explanation<'a> {
        let mut tickets = Vec::new();
        for ((metric, key), raw) in &effective.terms.tickets {
            if let Some(priority) = priority
                && (*metric == Metric::Request || key != priority)
            {
                continue;
            }
            let objective = effective.ticket(*metric, key).expect("the key comes from the map");
            tickets.push(ExplainedObjective {
                metric: *metric,
                key,
                objective,
                underpinned_by: raw.underpinned_by.as_ref(),
            });
        }
        let others = agreement::describe_terms(&effective.terms)
            .into_iter()
            .filter(|d| {
                !matches!(d.label.as_str(), "calendar" | "hours" | "pause on" | "reopen")
                    && !effective.terms.tickets.keys().any(|(metric, key)| {
                        d.label.starts_with(&agreement::ticket_label(*metric, key))
                    })
            })
            .collect();
        Explanation { effective, priority, tickets, others }
    }
}

/// The explanation as text: agreements applied, then each ticket objective with every
/// inherited value and its origin, then the other terms.
pub fn render_explanation(
    effective: &EffectiveTerms,
    priority: Option<&str>,
    source: &str,
) -> String {
    let explanation = Explanation::new(effective, priority);
    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(&text);
        out.push('\n');
    };
    line(format!(
        "Effective terms for customer {}, service {} on {}{} (from {source})",
        effective.customer,
        effective.service,
        effective.on,
        effective.region.as_ref().map(|r| format!(", region {r}")).unwrap_or_default()
    ));
    line(String::new());
    line("Agreements, least specific first:".into());
    for applied in &effective.applied {
        let scope = if applied.regional { " (regional)" } else { "" };
        line(format!(
            "  {:<28} {:<20} {}",
            applied.name,
            format!("{}{scope}", applied.level.as_str()),
            applied.origin
        ));
    }
    for (name, why) in &effective.skipped {
        line(format!("  {name:<28} skipped: {why}"));
    }
    if let Some(calendar) = &effective.service_calendar {
        line(format!("  service calendar: {} ({})", calendar.value, origin_text(&calendar.origin)));
    }

    let row = |label: &str, value: String, origin: &Origin| {
        format!("    {label:<16} {value:<40} {}", origin_text(origin))
    };
    line(String::new());
    line("Ticket objectives:".into());
    for ExplainedObjective { metric, key, objective, underpinned_by } in &explanation.tickets {
        let target =
            objective.target.as_ref().map_or("no target".to_owned(), |t| t.value.to_string());
        line(format!(
            "  {}: {target} {} hours on {}",
            agreement::ticket_label(*metric, key),
            objective.hours.value.as_str(),
            objective.calendar.value
        ));
        if let Some(target) = &objective.target {
            line(row("target", target.value.to_string(), &target.origin));
        }
        line(row("hours", objective.hours.value.as_str().into(), &objective.hours.origin));
        line(row("calendar", objective.calendar.value.clone(), &objective.calendar.origin));
        let pauses = &objective.pause_on;
        let pause_text =
            if pauses.value.is_empty() { "none".to_owned() } else { pauses.value.join(", ") };
        line(row("pause on", pause_text, &pauses.origin));
        line(row("reopen", objective.reopen.value.as_str().into(), &objective.reopen.origin));
        if let Some(refs) = underpinned_by {
            line(row("underpinned by", underpinning_text(&refs.value), &refs.origin));
        }
    }
    if explanation.tickets.is_empty() {
        line(format!(
            "  none{}",
            priority.map(|p| format!(" for priority {p}")).unwrap_or_default()
        ));
    }

    if !explanation.others.is_empty() {
        line(String::new());
        line("Other terms:".into());
        for described in &explanation.others {
            line(format!(
                "  {:<40} {:<32} {}",
                described.label,
                described.value,
                origin_text(&described.origin)
            ));
        }
    }
    out
}

/// `hostico-uc resolution.P1, service-desk-ola resolution.P1`.
fn underpinning_text(refs: &[ObjectiveRef]) -> String {
    let text: Vec<String> =
        refs.iter().map(|r| format!("{} {}", r.agreement.value, r.objective.value)).collect();
    text.join(", ")
}

/// `accord import openslo FILE`: prints the Accord documents (or writes them to `output`).
pub fn import_openslo(file: &Path, output_path: Option<&Path>) -> anyhow::Result<ExitCode> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let imported = accord_format::openslo::import(file, &text).map_err(|errors| {
        output::note(&errors.to_string());
        anyhow::anyhow!("{} cannot be imported", file.display())
    })?;
    for note in &imported.notes {
        output::note(&format!("note: {note}"));
    }
    match output_path {
        Some(path) => {
            std::fs::write(path, &imported.yaml)
                .with_context(|| format!("writing {}", path.display()))?;
            output::note(&format!("wrote {}", path.display()));
        }
        None => output::text(&imported.yaml),
    }
    Ok(ExitCode::SUCCESS)
}
