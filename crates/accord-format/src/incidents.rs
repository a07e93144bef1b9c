//! Incidents as CSV, the way people keep them in spreadsheets and status tools export them.
//!
//! The first line names the columns (any order; `id`, `start`, `affected` and `impact` are
//! required): `id,start,end,affected,impact,excluded,reason,cause,rootCause`. Fields follow
//! RFC 4180: commas separate, double quotes enclose a field holding commas, quotes or line
//! breaks, and `""` is a quote inside one. Every error names the file, line and column.

use accord_core::agreement::DowntimeExclusion;
use accord_core::availability::{Affected, Impact, Incident};
use jiff::Timestamp;

/// A problem in an incidents file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{path}:{line}: {column}: {message}")]
pub struct IncidentError {
    /// The file.
    pub path: String,
    /// The line (from 1) the record starts on.
    pub line: u32,
    /// The column's name.
    pub column: String,
    /// What is wrong and what is expected.
    pub message: String,
}

const COLUMNS: [&str; 9] =
    ["id", "start", "end", "affected", "impact", "excluded", "reason", "cause", "rootCause"];

/// Reads an incidents file; every problem is reported, and no incident is returned when there
/// is one.
///
/// # Errors
///
/// Every malformed record, each with its line and column.
pub fn parse_incidents(path: &str, text: &str) -> Result<Vec<Incident>, Vec<IncidentError>> {
    let mut errors = Vec::new();
    let error = |line: u32, column: &str, message: String| IncidentError {
        path: path.to_owned(),
        line,
        column: column.to_owned(),
        message,
    };
    let records = match records(text) {
        Ok(records) => records,
        Err((line, message)) => return Err(vec![error(line, "record", message)]),
    };
    let Some((_, header)) = records.first() else {
        return Err(vec![error(1, "header", "the file is empty: expected a header line".into())]);
    };
    let mut positions = [None; COLUMNS.len()];
    for (idx, name) in header.iter().enumerate() {
        match COLUMNS.iter().position(|column| *column == name.trim()) {
            Some(column) => positions[column] = Some(idx),
            None => errors.push(error(
                1,
                name,
                format!("unknown column: expected {}", COLUMNS.join(", ")),
            )),
        }
    }
    for required in ["id", "start", "affected", "impact"] {
        if positions[COLUMNS.iter().position(|c| *c == required).expect("known")].is_none() {
            errors.push(error(1, required, "missing column".into()));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut incidents = Vec::new();
    for (line, record) in &records[1..] {
        let field = |name: &str| -> &str {
            let column = COLUMNS.iter().position(|c| *c == name).expect("known column");
            positions[column].and_then(|idx| record.get(idx)).map_or("", |text| text.trim())
        };
        let mut problem =
            |column: &str, message: String| errors.push(error(*line, column, message));
        if record.iter().all(|text| text.trim().is_empty()) {
            continue;
        }
        let id = field("id");
        if id.is_empty() {
            problem("id", "empty: every incident needs an id".into());
        }
        let instant = |column: &str, problem: &mut dyn FnMut(&str, String)| -> Option<Timestamp> {
            let text = field(column);
            text.parse::<Timestamp>()
                .map_err(|_| {
                    problem(
                        column,
                        format!("{text:?} is not an instant: expected RFC 3339 with an offset, such as 2026-10-05T10:00:00+02:00"),
                    );
                })
                .ok()
        };
        let start = instant("start", &mut problem);
        let end = if field("end").is_empty() { None } else { instant("end", &mut problem) };
        if let (Some(start), Some(end)) = (start, end)
            && end <= start
        {
            problem("end", format!("{end} is not after the start {start}"));
        }
        let affected: Vec<Affected> = field("affected")
            .split([';', ' '])
            .filter(|item| !item.is_empty())
            .map(|item| match item.split_once('/') {
                Some((service, component)) => {
                    Affected { service: service.to_owned(), component: Some(component.to_owned()) }
                }
                None => Affected { service: item.to_owned(), component: None },
            })
            .collect();
        if affected.is_empty() {
            problem(
                "affected",
                "empty: expected SERVICE or SERVICE/COMPONENT, several separated by ;".into(),
            );
        }
        // `maintenance` is work announced outside the agreements' windows: the service was
        // down, and the downtime is left out where an objective excludes maintenance.
        let maintenance = field("impact") == "maintenance";
        let impact = match field("impact") {
            "maintenance" => Some(Impact::Major),
            word => Impact::parse(word).or_else(|| {
                problem(
                    "impact",
                    format!("{word:?}: expected major, partial, degraded or maintenance"),
                );
                None
            }),
        };
        let excluded = match (field("excluded"), maintenance) {
            ("", false) => None,
            ("" | "maintenance", true) => Some(DowntimeExclusion::Maintenance),
            ("force_majeure", false) => Some(DowntimeExclusion::ForceMajeure),
            ("customer_caused", false) => Some(DowntimeExclusion::CustomerCaused),
            (other, true) => {
                problem(
                    "excluded",
                    format!("{other:?}: a maintenance incident is excluded as maintenance"),
                );
                None
            }
            (other, false) => {
                problem(
                    "excluded",
                    format!("{other:?}: expected force_majeure, customer_caused or nothing"),
                );
                None
            }
        };
        let reason = match field("reason") {
            "" if maintenance => "announced maintenance",
            reason => reason,
        };
        if excluded.is_some() && reason.is_empty() {
            problem("reason", "an excluded incident needs the reason it is excluded".into());
        }
        if let (Some(start), Some(impact)) = (start, impact) {
            incidents.push(Incident {
                id: id.to_owned(),
                start,
                end,
                affected,
                impact,
                excluded: excluded.map(|category| (category, reason.to_owned())),
                cause: field("cause").to_owned(),
                root_cause: field("rootCause").to_owned(),
            });
        }
    }
    if errors.is_empty() { Ok(incidents) } else { Err(errors) }
}

/// A record's fields, with the line it starts on.
type Record = (u32, Vec<String>);

/// Splits RFC 4180 text into records, each with the line it starts on.
fn records(text: &str) -> Result<Vec<Record>, (u32, String)> {
    let mut records = Vec::new();
    let mut record: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut line: u32 = 1;
    let mut record_line: u32 = 1;
    let mut quoted = false;
    let mut chars = text.trim_start_matches('\u{feff}').chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => {
                if c == '\n' {
                    line += 1;
                }
                field.push(c);
            }
            (false, '"') if field.trim().is_empty() => {
                field.clear();
                quoted = true;
            }
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push((record_line, std::mem::take(&mut record)));
                line += 1;
                record_line = line;
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err((record_line, "a quoted field is not closed".into()));
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push((record_line, record));
    }
    Ok(records)
}
