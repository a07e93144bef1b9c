//! Loading a catalog: every document of a file or directory tree (services, customers,
//! calendars, maintenance windows and agreements) into an [`accord_core::agreement::Catalog`],
//! with each document's text and canonical form kept for storing revisions.
//!
//! The reference for the fields is `docs/agreements.md`. Every error of every file is
//! reported in one run, each naming the file, line, column and field path; nothing is built
//! unless everything is valid.
//!
//! **API boundary:** the document format is what users keep in git; change it compatibly.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use accord_core::agreement::{
    Agreement, AgreementType, AvailabilityMethod, AvailabilityObjective, CalendarBinding,
    CalendarDoc, Catalog, ChannelKind, ComplianceObjective, Component, Contact, ContactRole,
    Coverage, CreditTier, CreditedOn, Credits, Customer, DataSource, DowntimeExclusion,
    EscalationStep, Exclusions, HoursKind, Kind, LatencyObjective, Level, MaintenanceWindow,
    Metadata, Metric, Money, ObjectiveKey, ObjectiveRef, Parties, Penalty, Pricing, QuietHours,
    Renewal, ReopenRule, ReportEvery, ReportFormat, Reporting, Responsibilities, Service, Site,
    SupportChannel, Target, Term, Terms, Threshold, TicketObjective, Window,
};
use accord_core::maintenance::Rrule;
use jiff::civil::DateTime;

use crate::tree::{Cx, Fields, Node, Value, split_documents};
use crate::{FormatError, FormatErrors};

/// The `apiVersion` this build reads.
pub use crate::document::API_VERSION;

/// One document's text, where it came from, and its canonical form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceDocument {
    /// Its kind.
    pub kind: Kind,
    /// `metadata.name`.
    pub name: String,
    /// The file it was read from.
    pub path: PathBuf,
    /// The line of the file the document starts on.
    pub line: u32,
    /// The document's YAML text.
    pub text: String,
    /// Canonical JSON: the document with keys sorted and comments and layout dropped, plus the
    /// text of files it includes (a calendar's holiday files).
    pub canonical: String,
    /// Hex SHA-256 of `canonical`: equal hashes mean no change.
    pub content_hash: String,
}

/// A document to load: text, the file it is named by in errors, and its first line there.
#[derive(Clone, Debug)]
pub struct Input {
    /// The file.
    pub path: PathBuf,
    /// The line of the file the text starts on (1 for a whole file).
    pub first_line: u32,
    /// The text (one or several documents).
    pub text: String,
    /// Included files by the name the document gives them; `None` reads them from disk
    /// relative to `path`.
    pub files: Option<BTreeMap<String, String>>,
}

/// A loaded catalog and the documents it was built from, in loading order.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The catalog.
    pub catalog: Catalog,
    /// Every document.
    pub documents: Vec<SourceDocument>,
}

/// Loads every `*.yaml` and `*.yml` file of a directory tree (in path order), or one file.
///
/// # Errors
///
/// Every problem found in every file.
pub fn load_path(path: &Path) -> Result<Loaded, FormatErrors> {
    let mut files = Vec::new();
    collect_files(path, &mut files).map_err(|error| FormatErrors(vec![error]))?;
    if files.is_empty() {
        return Err(FormatErrors(vec![FormatError::at(
            path,
            0,
            0,
            "",
            "no documents: expected a .yaml file or a directory containing .yaml files",
        )]));
    }
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    for file in files {
        match std::fs::read_to_string(&file) {
            Ok(text) => inputs.push(Input { path: file, first_line: 1, text, files: None }),
            Err(error) => {
                errors.push(FormatError::at(
                    &file,
                    0,
                    0,
                    "",
                    format!("cannot read the file: {error}"),
                ));
            }
        }
    }
    if !errors.is_empty() {
        return Err(FormatErrors(errors));
    }
    load(&inputs)
}

fn collect_files(path: &Path, files: &mut Vec<PathBuf>) -> Result<(), FormatError> {
    let metadata = std::fs::metadata(path)
        .map_err(|error| FormatError::at(path, 0, 0, "", format!("cannot read: {error}")))?;
    if metadata.is_file() {
        files.push(path.to_owned());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|error| {
            FormatError::at(path, 0, 0, "", format!("cannot list the directory: {error}"))
        })?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .collect();
    entries.sort();
    for entry in entries {
        let hidden = entry
            .file_name()
            .and_then(|name| name.to_str())
            .is_some_and(|name| name.starts_with('.'));
        if hidden {
            continue;
        }
        if entry.is_dir() {
            collect_files(&entry, files)?;
        } else if entry.extension().is_some_and(|ext| ext == "yaml" || ext == "yml") {
            files.push(entry);
        }
    }
    Ok(())
}

/// Loads documents from texts.
///
/// # Errors
///
/// Every problem found, each naming the file, line, column and field.
pub fn load(inputs: &[Input]) -> Result<Loaded, FormatErrors> {
    let mut errors: Vec<FormatError> = Vec::new();
    let mut catalog = Catalog::default();
    let mut documents: Vec<SourceDocument> = Vec::new();
    let mut defined: BTreeMap<(Kind, String), (PathBuf, u32)> = BTreeMap::new();

    for input in inputs {
        for (line, text) in split_documents(&input.text) {
            let first_line = input.first_line + line - 1;
            let mut node: Node = match serde_saphyr::from_str(&text) {
                Ok(node) => node,
                Err(error) => {
                    errors.push(crate::document::yaml_error(
                        &input.path,
                        &error,
                        first_line as usize - 1,
                    ));
                    continue;
                }
            };
            node.shift(first_line - 1);
            let mut cx = Cx::new(&input.path);
            let loaded = document(&mut cx, &node, input, first_line, &text, &mut catalog);
            errors.append(&mut cx.errors);
            let Some((kind, name, files)) = loaded else { continue };
            let name_line = name_line(&node);
            if let Some((first_path, first_line_defined)) = defined.get(&(kind, name.clone())) {
                errors.push(FormatError::at(
                    &input.path,
                    name_line.0 as usize,
                    name_line.1 as usize,
                    "metadata.name",
                    format!(
                        "{kind} {name} is already defined in {}:{first_line_defined}",
                        first_path.display()
                    ),
                ));
                continue;
            }
            defined.insert((kind, name.clone()), (input.path.clone(), name_line.0));
            let canonical =
                serde_json::json!({ "document": node.to_json(), "files": files }).to_string();
            documents.push(SourceDocument {
                kind,
                name,
                path: input.path.clone(),
                line: first_line,
                content_hash: sha256_hex(canonical.as_bytes()),
                canonical,
                text,
            });
        }
    }
    if !errors.is_empty() {
        return Err(FormatErrors(errors));
    }
    Ok(Loaded { catalog, documents })
}

/// The line and column of a document's `metadata.name`.
fn name_line(node: &Node) -> (u32, u32) {
    let find = |node: &Node, key: &str| match &node.value {
        Value::Map(entries) => entries
            .iter()
            .find(|(k, _)| k.scalar_text().as_deref() == Some(key))
            .map(|(_, v)| v.clone()),
        _ => None,
    };
    find(node, "metadata")
        .and_then(|metadata| find(&metadata, "name"))
        .map_or((node.line, node.column), |name| (name.line, name.column))
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(bytes);
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

const KINDS: &str = "Service, Customer, Calendar, MaintenanceWindow or Agreement";

/// Converts one document into the catalog. Returns its kind, name and included files.
fn document(
    cx: &mut Cx<'_>,
    node: &Node,
    input: &Input,
    first_line: u32,
    text: &str,
    catalog: &mut Catalog,
) -> Option<(Kind, String, BTreeMap<String, String>)> {
    let top = cx.fields(node, "", &["apiVersion", "kind", "metadata", "spec"])?;
    if let Some((version, field)) = top.require(cx, "apiVersion", "expected accord/v1") {
        let version_text = cx.string(version, &field);
        if version_text.as_deref().is_some_and(|v| v != API_VERSION) {
            cx.error(
                version,
                &field,
                format!(
                    "unsupported apiVersion {:?}: expected {API_VERSION:?}",
                    version_text.unwrap_or_default()
                ),
            );
        }
    }
    let (kind_node, kind_field) = top.require(cx, "kind", &format!("expected {KINDS}"))?;
    let kind_text = cx.string(kind_node, &kind_field)?;
    let Some(kind) = Kind::parse(&kind_text) else {
        cx.error(kind_node, &kind_field, format!("unknown kind {kind_text:?}: expected {KINDS}"));
        return None;
    };
    // A bad name or a missing spec is reported, and the rest is still checked so that one run
    // shows every error.
    let meta = top
        .require(cx, "metadata", "every document has metadata.name")
        .and_then(|(metadata_node, metadata_field)| metadata(cx, metadata_node, &metadata_field));
    let (spec_node, spec_field) = top.require(cx, "spec", "every document has a spec")?;
    let named = meta.is_some();
    let meta = meta.unwrap_or_else(|| Metadata {
        name: String::new(),
        title: None,
        description: None,
        labels: BTreeMap::new(),
        origin: cx.origin(node, ""),
    });
    let name = meta.name.clone();
    let mut files = BTreeMap::new();

    match kind {
        Kind::Calendar => {
            // Calendars have their own loader; run it on this document's text and move its
            // positions to the file's lines.
            let read = |file_name: &str| -> Result<(PathBuf, String), String> {
                match &input.files {
                    Some(files) => files
                        .get(file_name)
                        .map(|text| (PathBuf::from(file_name), text.clone()))
                        .ok_or_else(|| format!("{file_name}: not stored with the calendar")),
                    None => {
                        let base = input.path.parent().map(Path::to_path_buf).unwrap_or_default();
                        let path = base.join(file_name);
                        match std::fs::read_to_string(&path) {
                            Ok(text) => Ok((path, text)),
                            Err(error) => Err(format!("{}: {error}", path.display())),
                        }
                    }
                }
            };
            let included = std::cell::RefCell::new(BTreeMap::new());
            let result =
                crate::document::parse_calendar_with(input.path.as_path(), text, &|file_name| {
                    let read = read(file_name);
                    if let Ok((_, text)) = &read {
                        included.borrow_mut().insert(file_name.to_owned(), text.clone());
                    }
                    read
                });
            match result {
                Ok(named) => {
                    files = included.into_inner();
                    catalog
                        .calendars
                        .insert(name.clone(), CalendarDoc { meta, calendar: named.calendar });
                }
                Err(FormatErrors(errors)) => {
                    for mut error in errors {
                        if error.line > 0 && error.path == input.path {
                            error.line += first_line as usize - 1;
                        }
                        cx.errors.push(error);
                    }
                    return None;
                }
            }
        }
        Kind::Service => {
            let service = service(cx, spec_node, &spec_field, meta)?;
            catalog.services.insert(name.clone(), service);
        }
        Kind::Customer => {
            let customer = customer(cx, spec_node, &spec_field, meta)?;
            catalog.customers.insert(name.clone(), customer);
        }
        Kind::MaintenanceWindow => {
            let window = maintenance(cx, spec_node, &spec_field, meta)?;
            catalog.maintenance.insert(name.clone(), window);
        }
        Kind::Agreement => {
            let agreement = agreement(cx, spec_node, &spec_field, meta)?;
            catalog.agreements.insert(name.clone(), agreement);
        }
    }
    named.then_some((kind, name, files))
}

fn metadata(cx: &mut Cx<'_>, node: &Node, field: &str) -> Option<Metadata> {
    let fields = cx.fields(node, field, &["name", "title", "description", "labels"])?;
    let (name_node, name_field) = fields.require(cx, "name", "a unique name such as acme-sla")?;
    let name = cx.name(name_node, &name_field)?;
    let title = fields.with(cx, "title", |cx, node, field| cx.string(node, field));
    let description = fields.with(cx, "description", |cx, node, field| cx.string(node, field));
    let mut labels = BTreeMap::new();
    if let Some((labels_node, labels_field)) = fields.get("labels") {
        for (key, value, value_field) in cx.entries(labels_node, &labels_field) {
            if let Some(value) = cx.string(value, &value_field) {
                labels.insert(key.value, value);
            }
        }
    }
    Some(Metadata {
        name: name.value,
        title,
        description,
        labels,
        origin: cx.origin(name_node, &name_field),
    })
}

fn service(cx: &mut Cx<'_>, node: &Node, field: &str, mut meta: Metadata) -> Option<Service> {
    let fields = cx.fields(
        node,
        field,
        &["description", "owner", "scope", "exclusions", "components", "channels", "calendars"],
    )?;
    if let Some(description) =
        fields.with(cx, "description", |cx, node, field| cx.string(node, field))
    {
        meta.description = Some(description);
    }
    let owner = fields.with(cx, "owner", |cx, node, field| cx.string(node, field));
    let scope = fields
        .with(cx, "scope", |cx, node, field| Some(cx.strings(node, field)))
        .unwrap_or_default();
    let exclusions = fields
        .with(cx, "exclusions", |cx, node, field| Some(cx.strings(node, field)))
        .unwrap_or_default();
    let mut components: Vec<Component> = Vec::new();
    if let Some((list, list_field)) = fields.get("components") {
        for (item, item_field) in cx.items(list, &list_field) {
            let Some(item_fields) = cx.fields(item, &item_field, &["name", "description"]) else {
                continue;
            };
            let Some(name) = item_fields
                .require(cx, "name", "a component name such as webmail")
                .and_then(|(node, field)| cx.name(node, &field))
            else {
                continue;
            };
            if let Some(first) = components.iter().find(|c| c.name.value == name.value) {
                let message = format!(
                    "duplicate component {}: already given on line {}",
                    name.value, first.name.origin.line
                );
                cx.error(item, &item_field, message);
                continue;
            }
            let description =
                item_fields.with(cx, "description", |cx, node, field| cx.string(node, field));
            components.push(Component { name, description });
        }
    }
    let mut channels = Vec::new();
    if let Some((list, list_field)) = fields.get("channels") {
        for (item, item_field) in cx.items(list, &list_field) {
            let Some(item_fields) = cx.fields(item, &item_field, &["type", "address", "calendar"])
            else {
                continue;
            };
            let kind = item_fields.require(cx, "type", "phone, email, portal or chat").and_then(
                |(node, field)| {
                    cx.word(
                        node,
                        &field,
                        &[
                            ("phone", ChannelKind::Phone),
                            ("email", ChannelKind::Email),
                            ("portal", ChannelKind::Portal),
                            ("chat", ChannelKind::Chat),
                        ],
                    )
                },
            );
            let address = item_fields
                .require(cx, "address", "the number, address or URL")
                .and_then(|(node, field)| cx.string(node, &field));
            let calendar = item_fields.with(cx, "calendar", |cx, node, field| cx.name(node, field));
            if let (Some(kind), Some(address)) = (kind, address) {
                channels.push(SupportChannel { kind, address, calendar });
            }
        }
    }
    let mut calendars: Vec<CalendarBinding> = Vec::new();
    if let Some((list, list_field)) = fields.get("calendars") {
        for (item, item_field) in cx.items(list, &list_field) {
            let Some(item_fields) = cx.fields(item, &item_field, &["calendar", "region", "site"])
            else {
                continue;
            };
            let calendar = item_fields
                .require(cx, "calendar", "a Calendar name, or 24x7")
                .and_then(|(node, field)| cx.name(node, &field));
            let region = item_fields
                .with(cx, "region", |cx, node, field| cx.name(node, field))
                .map(|s| s.value);
            let site = item_fields
                .with(cx, "site", |cx, node, field| cx.name(node, field))
                .map(|s| s.value);
            let Some(calendar) = calendar else { continue };
            if region.is_some() && site.is_some() {
                cx.error(item, &item_field, "give region or site, not both");
                continue;
            }
            if let Some(first) = calendars.iter().find(|b| b.region == region && b.site == site) {
                let message = format!(
                    "a calendar for this {} is already given on line {}",
                    if site.is_some() {
                        "site"
                    } else if region.is_some() {
                        "region"
                    } else {
                        "default"
                    },
                    first.calendar.origin.line
                );
                cx.error(item, &item_field, message);
                continue;
            }
            calendars.push(CalendarBinding { region, site, calendar });
        }
    }
    Some(Service { meta, owner, scope, exclusions, components, channels, calendars })
}

fn customer(cx: &mut Cx<'_>, node: &Node, field: &str, meta: Metadata) -> Option<Customer> {
    let fields = cx.fields(node, field, &["legalName", "timeZone", "tier", "contacts", "sites"])?;
    let legal_name = fields.with(cx, "legalName", |cx, node, field| cx.string(node, field));
    let time_zone = fields
        .require(cx, "timeZone", "an IANA time zone such as Europe/Berlin")
        .and_then(|(node, field)| cx.zone(node, &field));
    let tier = fields.with(cx, "tier", |cx, node, field| cx.string(node, field));
    let mut contacts = Vec::new();
    if let Some((list, list_field)) = fields.get("contacts") {
        for (item, item_field) in cx.items(list, &list_field) {
            let Some(item_fields) =
                cx.fields(item, &item_field, &["name", "email", "phone", "roles"])
            else {
                continue;
            };
            let name = item_fields
                .require(cx, "name", "the person's name")
                .and_then(|(node, field)| cx.string(node, &field));
            let email = item_fields.with(cx, "email", |cx, node, field| {
                let email = cx.string(node, field)?;
                if !email.contains('@') {
                    cx.error(node, field, format!("invalid e-mail address {email:?}"));
                    return None;
                }
                Some(email)
            });
            let phone = item_fields.with(cx, "phone", |cx, node, field| cx.string(node, field));
            let mut roles = Vec::new();
            if let Some((list, list_field)) = item_fields.get("roles") {
                for (role, role_field) in cx.items(list, &list_field) {
                    if let Some(role) = cx.word(
                        role,
                        &role_field,
                        &[
                            ("reports", ContactRole::Reports),
                            ("escalation", ContactRole::Escalation),
                            ("technical", ContactRole::Technical),
                            ("billing", ContactRole::Billing),
                        ],
                    ) {
                        roles.push(role);
                    }
                }
            }
            if let Some(name) = name {
                contacts.push(Contact { name, email, phone, roles });
            }
        }
    }
    let mut sites: Vec<Site> = Vec::new();
    if let Some((list, list_field)) = fields.get("sites") {
        for (item, item_field) in cx.items(list, &list_field) {
            let Some(item_fields) = cx.fields(item, &item_field, &["name", "region", "timeZone"])
            else {
                continue;
            };
            let name = item_fields
                .require(cx, "name", "a site name such as munich-hq")
                .and_then(|(node, field)| cx.name(node, &field));
            let region = item_fields
                .with(cx, "region", |cx, node, field| cx.name(node, field))
                .map(|s| s.value);
            let time_zone =
                item_fields.with(cx, "timeZone", |cx, node, field| cx.zone(node, field));
            let Some(name) = name else { continue };
            if sites.iter().any(|site| site.name == name.value) {
                cx.error(item, &item_field, format!("duplicate site {}", name.value));
                continue;
            }
            sites.push(Site { name: name.value, region, time_zone });
        }
    }
    Some(Customer { meta, legal_name, time_zone: time_zone?, tier, contacts, sites })
}

fn maintenance(
    cx: &mut Cx<'_>,
    node: &Node,
    field: &str,
    meta: Metadata,
) -> Option<MaintenanceWindow> {
    let fields = cx.fields(
        node,
        field,
        &["services", "components", "timeZone", "start", "duration", "rrule", "notice"],
    )?;
    let services = fields
        .require(cx, "services", "the Service names affected")
        .map(|(node, field)| cx.names(node, &field))
        .unwrap_or_default();
    let components = fields
        .with(cx, "components", |cx, node, field| Some(cx.names(node, field)))
        .unwrap_or_default();
    let time_zone = fields
        .require(cx, "timeZone", "an IANA time zone such as Europe/Berlin")
        .and_then(|(node, field)| cx.zone(node, &field));
    let start = fields.require(cx, "start", "a local date-time such as 2026-12-05T22:00").and_then(|(node, field)| {
        let text = cx.string(node, &field)?;
        match text.parse::<DateTime>() {
            Ok(start) => Some(start),
            Err(_) => {
                cx.error(node, &field, format!("invalid date-time {text:?}: expected a local date-time such as 2026-12-05T22:00"));
                None
            }
        }
    });
    let duration = fields
        .require(cx, "duration", "how long, such as 4h")
        .and_then(|(node, field)| cx.duration(node, &field));
    let rrule = fields.with(cx, "rrule", |cx, node, field| {
        let text = cx.string(node, field)?;
        match Rrule::parse(&text) {
            Ok(rule) => Some(rule),
            Err(error) => {
                cx.error(node, field, error.to_string());
                None
            }
        }
    });
    let notice = fields.with(cx, "notice", |cx, node, field| cx.duration(node, field));
    Some(MaintenanceWindow {
        meta,
        services,
        components,
        time_zone: time_zone?,
        start: start?,
        duration: duration?,
        rrule,
        notice,
    })
}

fn agreement(cx: &mut Cx<'_>, node: &Node, field: &str, meta: Metadata) -> Option<Agreement> {
    let n_errors = cx.errors.len();
    let fields = cx.fields(
        node,
        field,
        &[
            "type",
            "level",
            "parties",
            "covers",
            "term",
            "responsibilities",
            "exclusions",
            "pricing",
            "objectives",
            "escalation",
            "credits",
            "reporting",
        ],
    )?;
    let agreement_type = fields.require(cx, "type", "sla, ola or uc").and_then(|(node, field)| {
        cx.word(
            node,
            &field,
            &[("sla", AgreementType::Sla), ("ola", AgreementType::Ola), ("uc", AgreementType::Uc)],
        )
    });
    let level_given = fields.get("level").is_some();
    let level = fields.with(cx, "level", |cx, node, field| {
        cx.word(
            node,
            field,
            &[
                ("corporate", Level::Corporate),
                ("customer", Level::Customer),
                ("service", Level::Service),
            ],
        )
        .map(|level| (level, node, field.to_owned()))
    });
    let level = match (agreement_type, level) {
        (Some(AgreementType::Sla), Some((level, ..))) => Some(level),
        (Some(AgreementType::Sla), None) if level_given => None,
        (Some(AgreementType::Sla), None) => {
            cx.error(
                node,
                field,
                "missing field \"level\": an SLA is corporate, customer or service level",
            );
            None
        }
        (Some(_), Some((_, level_node, level_field))) => {
            cx.error(
                level_node,
                &level_field,
                "levels are for SLAs: an OLA or UC stands alone, remove level",
            );
            None
        }
        (_, _) => Some(Level::Service),
    };
    let parties = fields.with(cx, "parties", parties).unwrap_or_default();
    if agreement_type == Some(AgreementType::Sla)
        && let Some(customer) = &parties.customer
        && !crate::tree::is_name(&customer.value)
    {
        let message =
            format!("an SLA's customer is a Customer name such as acme, not {:?}", customer.value);
        cx.errors.push(FormatError::at(
            cx.path,
            customer.origin.line as usize,
            customer.origin.column as usize,
            &customer.origin.field,
            message,
        ));
    }
    let covers = fields.with(cx, "covers", coverage).unwrap_or_default();
    let term = fields.sourced(cx, "term", term);
    let mut terms = fields.with(cx, "objectives", objectives).unwrap_or_default();
    terms.escalation = fields.sourced(cx, "escalation", escalation);
    terms.credits = fields.sourced(cx, "credits", credits);
    terms.reporting = fields.sourced(cx, "reporting", reporting);
    if let (Some(AgreementType::Ola | AgreementType::Uc), Some((node, field))) =
        (agreement_type, fields.get("reporting"))
    {
        cx.error(
            node,
            &field,
            "reporting is for SLAs: customers get reports, teams and vendors do not",
        );
    }
    terms.responsibilities = fields.sourced(cx, "responsibilities", responsibilities);
    terms.exclusions = fields.sourced(cx, "exclusions", exclusions);
    terms.pricing = fields.sourced(cx, "pricing", pricing);
    if cx.errors.len() > n_errors {
        return None;
    }
    Some(Agreement {
        meta,
        agreement_type: agreement_type?,
        level: level?,
        parties,
        covers,
        term,
        terms,
    })
}

fn parties(cx: &mut Cx<'_>, node: &Node, field: &str) -> Option<Parties> {
    let fields = cx.fields(node, field, &["provider", "customer", "team", "vendor"])?;
    Some(Parties {
        provider: fields.with(cx, "provider", |cx, node, field| cx.string(node, field)),
        // A Customer name for SLAs (checked by `agreement`); free text for OLAs and UCs.
        customer: fields.with(cx, "customer", |cx, node, field| {
            cx.string(node, field).map(|text| cx.sourced(node, field, text))
        }),
        team: fields.with(cx, "team", |cx, node, field| cx.string(node, field)),
        vendor: fields.with(cx, "vendor", |cx, node, field| cx.string(node, field)),
    })
}

fn coverage(cx: &mut Cx<'_>, node: &Node, field: &str) -> Option<Coverage> {
    let fields = cx.fields(node, field, &["customers", "services", "regions"])?;
    let mut list = |key: &str| {
        fields.with(cx, key, |cx, node, field| Some(cx.names(node, field))).unwrap_or_default()
    };
    Some(Coverage {
        customers: list("customers"),
        services: list("services"),
        regions: list("regions"),
    })
}

fn term(cx: &mut Cx<'_>, node: &Node, field: &str) -> Option<Term> {
    let fields = cx.fields(
        node,
        field,
        &[
            "effectiveFrom",
            "effectiveUntil",
            "timeZone",
            "renewal",
            "renewalPeriod",
            "noticePeriod",
            "review",
        ],
    )?;
    let effective_from = fields
        .require(cx, "effectiveFrom", "the first day, such as 2026-01-01")
        .and_then(|(node, field)| cx.date(node, &field));
    let effective_until = fields.with(cx, "effectiveUntil", |cx, node, field| {
        let until = cx.date(node, field)?;
        if let Some(from) = effective_from
            && until < from
        {
            cx.error(node, field, format!("the term ends ({until}) before it starts ({from})"));
            return None;
        }
        Some(until)
    });
    let time_zone = fields.with(cx, "timeZone", |cx, node, field| cx.zone(node, field));
    let renewal = fields
        .with(cx, "renewal", |cx, node, field| {
            cx.word(
                node,
                field,
                &[
                    ("none", Renewal::None),
                    ("automatic", Renewal::Automatic),
                    ("manual", Renewal::Manual),
                ],
            )
        })
        .unwrap_or(Renewal::None);
    let renewal_period_months =
        fields.with(cx, "renewalPeriod", |cx, node, field| cx.months(node, field));
    let notice_period_months =
        fields.with(cx, "noticePeriod", |cx, node, field| cx.months(node, field));
    let mut review_every_months = None;
    let mut next_review = None;
    if let Some((review, review_field)) = fields.get("review")
        && let Some(review_fields) = cx.fields(review, &review_field, &["every", "next"])
    {
        review_every_months =
            review_fields.with(cx, "every", |cx, node, field| cx.months(node, field));
        next_review = review_fields
            .require(cx, "next", "the next review date, such as 2027-01-15")
            .and_then(|(node, field)| cx.date(node, &field));
    }
    Some(Term {
        effective_from: effective_from?,
        effective_until,
        time_zone,
        renewal,
        renewal_period_months,
        notice_period_months,
        review_every_months,
        next_review,
    })
}

fn responsibilities(cx: &mut Cx<'_>, node: &Node, field: &str) -> Option<Responsibilities> {
    let fields = cx.fields(node, field, &["provider", "customer"])?;
    let mut list = |key: &str| {
        fields.with(cx, key, |cx, node, field| Some(cx.strings(node, field))).unwrap_or_default()
    };
    Some(Responsibilities { provider: list("provider"), customer: list("customer") })
}

fn exclusions(cx: &mut Cx<'_>, node: &Node, field: &str) -> Option<Exclusions> {
    let fields =
        cx.fields(node, field, &["maintenance", "forceMajeure", "customerCaused", "other"])?;
    Some(Exclusions {
        maintenance: fields
            .with(cx, "maintenance", |cx, node, field| Some(cx.names(node, field)))
            .unwrap_or_default(),
        force_majeure: fields
            .with(cx, "forceMajeure", |cx, node, field| cx.boolean(node, field))
            .unwrap_or(false),
        customer_caused: fields
            .with(cx, "customerCaused", |cx, node, field| cx.boolean(node, field))
            .unwrap_or(false),
        other: fields
            .with(cx, "other", |cx, node, field| Some(cx.strings(node, field)))
            .unwrap_or_default(),
    })
}

fn pricing(cx: &mut Cx<'_>, node: &Node, field: &str) -> Option<Pricing> {
    let fields = cx.fields(node, field, &["monthlyFee", "currency"])?;
    let fee = fields
        .require(cx, "monthlyFee", "the fee in minor units (cents), such as 1250000 for 12500.00")
        .and_then(|(node, field)| cx.whole(node, &field, 0, i64::MAX / 2));
    let (currency_node, currency_field) =
        fields.require(cx, "currency", "an ISO 4217 code such as EUR")?;
    let currency = cx.string(currency_node, &currency_field)?;
    match Money::new(fee?, &currency) {
        Ok(monthly_fee) => Some(Pricing { monthly_fee }),
        Err(error) => {
            cx.error(currency_node, &currency_field, error.to_string());
            None
        }
    }
}

const HOURS: [(&str, HoursKind); 2] =
    [("business", HoursKind::Business), ("calendar", HoursKind::Calendar)];
const REOPEN: [(&str, ReopenRule); 2] =
    [("resume", ReopenRule::Resume), ("new_cycle", ReopenRule::NewCycle)];

fn statuses(cx: &mut Cx<'_>, node: &Node, field: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for (item, item_field) in cx.items(node, field) {
        let Some(status) = cx.string(item, &item_field) else { continue };
        if !status
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        {
            cx.error(
                item,
                &item_field,
                format!("invalid status {status:?}: expected a word such as waiting_on_customer"),
            );
            continue;
        }
        out.push(status);
    }
    Some(out)
}

fn objectives(cx: &mut Cx<'_>, node: &Node, field: &str) -> Option<Terms> {
    let mut known = vec!["calendar", "hours", "pauseOn", "reopen"];
    known.extend(Metric::ALL.map(Metric::field));
    known.extend(["availability", "latency", "compliance"]);
    let fields = cx.fields(node, field, &known)?;
    let mut terms = Terms {
        calendar: fields.with(cx, "calendar", |cx, node, field| cx.name(node, field)),
        hours: fields.sourced(cx, "hours", |cx, node, field| cx.word(node, field, &HOURS)),
        pause_on: fields.sourced(cx, "pauseOn", statuses),
        reopen: fields.sourced(cx, "reopen", |cx, node, field| cx.word(node, field, &REOPEN)),
        ..Terms::default()
    };
    for metric in Metric::ALL {
        let Some((map, map_field)) = fields.get(metric.field()) else { continue };
        for (key, value, key_field) in cx.entries(map, &map_field) {
            if let Some(objective) = ticket_objective(cx, value, &key_field, metric) {
                terms.tickets.insert((metric, key.value), objective);
            }
        }
    }
    if let Some((list, list_field)) = fields.get("availability") {
        for (item, item_field) in cx.items(list, &list_field) {
            if let Some((name, objective)) = availability(cx, item, &item_field) {
                if terms.availability.contains_key(&name) {
                    cx.error(item, &item_field, format!("duplicate availability objective {name}"));
                    continue;
                }
                terms.availability.insert(name, objective);
            }
        }
    }
    if let Some((list, list_field)) = fields.get("latency") {
        for (item, item_field) in cx.items(list, &list_field) {
            if let Some((name, objective)) = latency(cx, item, &item_field) {
                if terms.latency.contains_key(&name) {
                    cx.error(item, &item_field, format!("duplicate latency objective {name}"));
                    continue;
                }
                terms.latency.insert(name, objective);
            }
        }
    }
    if let Some((list, list_field)) = fields.get("compliance") {
        for (item, item_field) in cx.items(list, &list_field) {
            if let Some((name, objective)) = compliance(cx, item, &item_field) {
                if terms.compliance.contains_key(&name) {
                    cx.error(item, &item_field, format!("duplicate compliance objective {name}"));
                    continue;
                }
                terms.compliance.insert(name, objective);
            }
        }
    }
    Some(terms)
}

fn target(cx: &mut Cx<'_>, node: &Node, field: &str, metric: Metric) -> Option<Target> {
    let text = cx.string(node, field)?;
    if let Some(days) = text.strip_suffix("bd") {
        return match days.trim().parse::<u32>() {
            Ok(days) if days >= 1 => Some(Target::BusinessDays(days)),
            _ => {
                cx.error(
                    node,
                    field,
                    format!("invalid business days {text:?}: expected a whole number such as 1bd"),
                );
                None
            }
        };
    }
    let _ = metric;
    cx.duration(node, field).map(Target::Duration)
}

fn ticket_objective(
    cx: &mut Cx<'_>,
    node: &Node,
    field: &str,
    metric: Metric,
) -> Option<TicketObjective> {
    if !matches!(node.value, Value::Map(_)) {
        let target = target(cx, node, field, metric)?;
        return Some(TicketObjective {
            target: Some(cx.sourced(node, field, target)),
            ..TicketObjective::default()
        });
    }
    let fields = cx.fields(
        node,
        field,
        &["target", "hours", "calendar", "pauseOn", "reopen", "underpinnedBy"],
    )?;
    Some(TicketObjective {
        target: fields.sourced(cx, "target", |cx, node, field| target(cx, node, field, metric)),
        hours: fields.sourced(cx, "hours", |cx, node, field| cx.word(node, field, &HOURS)),
        calendar: fields.with(cx, "calendar", |cx, node, field| cx.name(node, field)),
        pause_on: fields.sourced(cx, "pauseOn", statuses),
        reopen: fields.sourced(cx, "reopen", |cx, node, field| cx.word(node, field, &REOPEN)),
        underpinned_by: fields.sourced(cx, "underpinnedBy", underpinned_by),
    })
}

fn underpinned_by(cx: &mut Cx<'_>, node: &Node, field: &str) -> Option<Vec<ObjectiveRef>> {
    let mut refs = Vec::new();
    for (item, item_field) in cx.items(node, field) {
        let Some(fields) = cx.fields(item, &item_field, &["agreement", "objective"]) else {
            continue;
        };
        let agreement = fields
            .require(cx, "agreement", "the OLA or UC name")
            .and_then(|(node, field)| cx.name(node, &field));
        let objective = fields.require(cx, "objective", "such as resolution.P1 or availability.hosting").and_then(
            |(node, field)| {
                let text = cx.string(node, &field)?;
                match ObjectiveKey::parse(&text) {
                    Some(key) => Some(cx.sourced(node, &field, key)),
                    None => {
                        cx.error(
                            node,
                            &field,
                            format!("invalid objective {text:?}: expected METRIC.PRIORITY (response.P1, next_response.P1, resolution.P2, update.P1, request.TYPE), availability.NAME or latency.NAME"),
                        );
                        None
                    }
                }
            },
        );
        if let (Some(agreement), Some(objective)) = (agreement, objective) {
            refs.push(ObjectiveRef { agreement, objective });
        }
    }
    Some(refs)
}

fn window(cx: &mut Cx<'_>, node: &Node, field: &str) -> Option<Window> {
    let text = cx.string(node, field)?;
    let window = match text.as_str() {
        "day" => Window::Day,
        "week" => Window::Week,
        "month" => Window::Month,
        "quarter" => Window::Quarter,
        "year" => Window::Year,
        _ => {
            let days = text
                .strip_prefix("rolling ")
                .and_then(|rest| rest.trim().strip_suffix('d'))
                .and_then(|days| days.parse::<u32>().ok())
                .filter(|days| (1..=3660).contains(days));
            match days {
                Some(days) => Window::Rolling { days },
                None => {
                    cx.error(
                        node,
                        field,
                        format!("invalid window {text:?}: expected day, week, month, quarter, year or rolling Nd (rolling 30d)"),
                    );
                    return None;
                }
            }
        }
    };
    Some(window)
}

fn source(cx: &mut Cx<'_>, node: &Node, field: &str) -> Option<DataSource> {
    let text = cx.string(node, field)?;
    if text == "incidents" {
        return Some(DataSource::Incidents);
    }
    let parsed = text.split_once(':').and_then(|(kind, name)| {
        let name = name.trim().to_owned();
        if name.is_empty() {
            return None;
        }
        Some(match kind {
            "probe" => DataSource::Probe(name),
            "heartbeat" => DataSource::Heartbeat(name),
            "requests" => DataSource::Requests(name),
            "metric" => DataSource::Metric(name),
            _ => return None,
        })
    });
    if parsed.is_none() {
        cx.error(
            node,
            field,
            format!("invalid source {text:?}: expected probe:NAME, heartbeat:NAME, requests:NAME, metric:NAME or incidents"),
        );
    }
    parsed
}

fn objective_name(cx: &mut Cx<'_>, fields: &Fields<'_>) -> Option<String> {
    fields
        .require(cx, "name", "a name unique within the agreement, such as portal")
        .and_then(|(node, field)| cx.name(node, &field))
        .map(|name| name.value)
}

fn availability(
    cx: &mut Cx<'_>,
    node: &Node,
    field: &str,
) -> Option<(String, AvailabilityObjective)> {
    let fields = cx.fields(
        node,
        field,
        &[
            "name",
            "service",
            "component",
            "target",
            "window",
            "timeZone",
            "method",
            "timeslice",
            "sliceTarget",
            "downtime",
            "exclude",
            "source",
            "underpinnedBy",
        ],
    )?;
    let name = objective_name(cx, &fields);
    let mut objective = AvailabilityObjective {
        service: fields.with(cx, "service", |cx, node, field| cx.name(node, field)),
        component: fields.with(cx, "component", |cx, node, field| cx.name(node, field)),
        target: fields.sourced(cx, "target", |cx, node, field| cx.percent(node, field)),
        window: fields.sourced(cx, "window", window),
        time_zone: fields.sourced(cx, "timeZone", |cx, node, field| cx.zone(node, field)),
        method: fields.sourced(cx, "method", |cx, node, field| {
            cx.word(
                node,
                field,
                &[
                    ("time", AvailabilityMethod::Time),
                    ("requests", AvailabilityMethod::Requests),
                    ("timeslices", AvailabilityMethod::Timeslices),
                    ("ratio_timeslices", AvailabilityMethod::RatioTimeslices),
                ],
            )
        }),
        timeslice: fields.sourced(cx, "timeslice", |cx, node, field| cx.duration(node, field)),
        slice_target: fields.sourced(cx, "sliceTarget", |cx, node, field| cx.percent(node, field)),
        exclude: fields.sourced(cx, "exclude", |cx, node, field| {
            let mut out = Vec::new();
            for (item, item_field) in cx.items(node, field) {
                if let Some(exclusion) = cx.word(
                    item,
                    &item_field,
                    &[
                        ("maintenance", DowntimeExclusion::Maintenance),
                        ("force_majeure", DowntimeExclusion::ForceMajeure),
                        ("customer_caused", DowntimeExclusion::CustomerCaused),
                    ],
                ) {
                    out.push(exclusion);
                }
            }
            Some(out)
        }),
        source: fields.sourced(cx, "source", source),
        underpinned_by: fields.sourced(cx, "underpinnedBy", underpinned_by),
        ..AvailabilityObjective::default()
    };
    if let Some((downtime, downtime_field)) = fields.get("downtime")
        && let Some(downtime_fields) =
            cx.fields(downtime, &downtime_field, &["minimum", "partialWeight", "degradedWeight"])
    {
        objective.minimum_downtime =
            downtime_fields.sourced(cx, "minimum", |cx, node, field| cx.duration(node, field));
        objective.partial_weight =
            downtime_fields.sourced(cx, "partialWeight", |cx, node, field| cx.percent(node, field));
        objective.degraded_weight =
            downtime_fields
                .sourced(cx, "degradedWeight", |cx, node, field| cx.percent(node, field));
    }
    let slices = matches!(
        objective.method.as_ref().map(|m| m.value),
        Some(AvailabilityMethod::Timeslices | AvailabilityMethod::RatioTimeslices)
    );
    if slices && objective.timeslice.is_none() {
        cx.error(
            node,
            field,
            "missing field \"timeslice\": the time-slice methods need a slice length such as 5m",
        );
    }
    if !slices && let Some((node, field)) = fields.get("timeslice") {
        cx.error(node, &field, "timeslice goes with method timeslices or ratio_timeslices");
    }
    Some((name?, objective))
}

fn latency(cx: &mut Cx<'_>, node: &Node, field: &str) -> Option<(String, LatencyObjective)> {
    let fields = cx.fields(
        node,
        field,
        &["name", "service", "percentile", "threshold", "window", "timeZone", "source"],
    )?;
    let name = objective_name(cx, &fields);
    let objective = LatencyObjective {
        service: fields.with(cx, "service", |cx, node, field| cx.name(node, field)),
        percentile: fields.sourced(cx, "percentile", |cx, node, field| cx.percent(node, field)),
        threshold: fields.sourced(cx, "threshold", |cx, node, field| cx.duration(node, field)),
        window: fields.sourced(cx, "window", window),
        time_zone: fields.sourced(cx, "timeZone", |cx, node, field| cx.zone(node, field)),
        source: fields.sourced(cx, "source", source),
    };
    Some((name?, objective))
}

fn compliance(cx: &mut Cx<'_>, node: &Node, field: &str) -> Option<(String, ComplianceObjective)> {
    let fields = cx.fields(node, field, &["name", "metric", "priority", "target", "window"])?;
    let name = objective_name(cx, &fields);
    let metrics = Metric::ALL.map(|metric| (metric.as_str(), metric));
    let objective = ComplianceObjective {
        metric: fields.sourced(cx, "metric", |cx, node, field| cx.word(node, field, &metrics)),
        priority: fields.with(cx, "priority", |cx, node, field| {
            cx.string(node, field).map(|priority| cx.sourced(node, field, priority))
        }),
        target: fields.sourced(cx, "target", |cx, node, field| cx.percent(node, field)),
        window: fields.sourced(cx, "window", window),
    };
    Some((name?, objective))
}

fn escalation(cx: &mut Cx<'_>, node: &Node, field: &str) -> Option<Vec<EscalationStep>> {
    let mut steps = Vec::new();
    for (item, item_field) in cx.items(node, field) {
        let Some(fields) = cx.fields(
            item,
            &item_field,
            &["objectives", "priorities", "at", "notify", "quietHours"],
        ) else {
            continue;
        };
        let metrics = Metric::ALL.map(|metric| (metric.as_str(), metric));
        let mut objectives = Vec::new();
        if let Some((list, list_field)) = fields.get("objectives") {
            for (metric, metric_field) in cx.items(list, &list_field) {
                if let Some(metric) = cx.word(metric, &metric_field, &metrics) {
                    objectives.push(metric);
                }
            }
        }
        let priorities = fields
            .with(cx, "priorities", |cx, node, field| Some(cx.strings(node, field)))
            .unwrap_or_default();
        let at = fields
            .require(cx, "at", "a share of the target (50%) or a time before breach (30m before)")
            .and_then(|(node, field)| {
                let text = node.scalar_text()?;
                if let Some(before) = text.strip_suffix("before") {
                    return cx
                        .duration(
                            &Node { value: Value::Str(before.trim().to_owned()), ..node.clone() },
                            &field,
                        )
                        .map(Threshold::Before);
                }
                let share = cx.percent(node, &field)?;
                if share == accord_core::agreement::Percent::HUNDRED || share.micros() == 0 {
                    cx.error(
                        node,
                        &field,
                        "a share must be between 0% and 100% (100% is the breach itself)",
                    );
                    return None;
                }
                Some(Threshold::Share(share))
            });
        let notify = fields
            .require(cx, "notify", "who is told: contact, team or channel names")
            .map(|(node, field)| cx.strings(node, &field))
            .unwrap_or_default();
        let quiet_hours = fields
            .with(cx, "quietHours", |cx, node, field| {
                cx.word(
                    node,
                    field,
                    &[("ignore", QuietHours::Ignore), ("respect", QuietHours::Respect)],
                )
            })
            .unwrap_or(QuietHours::Ignore);
        if notify.is_empty() {
            continue;
        }
        let Some(at) = at else { continue };
        steps.push(EscalationStep {
            objectives,
            priorities,
            at,
            notify,
            quiet_hours,
            origin: cx.origin(item, &item_field),
        });
    }
    Some(steps)
}

fn credits(cx: &mut Cx<'_>, node: &Node, field: &str) -> Option<Credits> {
    let fields = cx.fields(
        node,
        field,
        &["availability", "breaches", "cap", "minimum", "claimWindowDays", "creditedOn"],
    )?;
    let mut availability_objective = None;
    let mut tiers: Vec<CreditTier> = Vec::new();
    if let Some((availability, availability_field)) = fields.get("availability")
        && let Some(availability_fields) =
            cx.fields(availability, &availability_field, &["objective", "tiers"])
    {
        availability_objective = availability_fields
            .require(cx, "objective", "the availability objective the tiers measure")
            .and_then(|(node, field)| cx.name(node, &field));
        if let Some((list, list_field)) =
            availability_fields.require(cx, "tiers", "tiers such as {below: 99.9, credit: 10%}")
        {
            for (item, item_field) in cx.items(list, &list_field) {
                let Some(tier_fields) = cx.fields(item, &item_field, &["below", "credit"]) else {
                    continue;
                };
                let below = tier_fields
                    .require(cx, "below", "the availability below which it applies")
                    .and_then(|(node, field)| cx.percent(node, &field));
                let credit = tier_fields
                    .require(cx, "credit", "the share of the monthly fee")
                    .and_then(|(node, field)| cx.percent(node, &field));
                let (Some(below), Some(credit)) = (below, credit) else { continue };
                if let Some(previous) = tiers.last() {
                    if below >= previous.below {
                        cx.error(
                            item,
                            &item_field,
                            format!(
                                "tiers go from the highest level down: {below} is not below {}",
                                previous.below
                            ),
                        );
                        continue;
                    }
                    if credit < previous.credit {
                        cx.error(item, &item_field, format!("a lower level earns at least as much credit: {credit} is less than {}", previous.credit));
                        continue;
                    }
                }
                tiers.push(CreditTier { below, credit });
            }
        }
    }
    let mut breaches = BTreeMap::new();
    if let Some((map, map_field)) = fields.get("breaches") {
        for (key, value, key_field) in cx.entries(map, &map_field) {
            let penalty = if let Value::Map(_) = value.value {
                cx.fields(value, &key_field, &["amount"]).and_then(|amount_fields| {
                    amount_fields
                        .require(cx, "amount", "minor units of the pricing currency")
                        .and_then(|(node, field)| cx.whole(node, &field, 0, i64::MAX / 2))
                        .map(Penalty::Amount)
                })
            } else {
                cx.percent(value, &key_field).map(Penalty::Share)
            };
            if let Some(penalty) = penalty {
                breaches.insert(key.value, penalty);
            }
        }
    }
    Some(Credits {
        availability_objective,
        tiers,
        breaches,
        cap: fields.with(cx, "cap", |cx, node, field| cx.percent(node, field)),
        minimum: fields
            .with(cx, "minimum", |cx, node, field| cx.whole(node, field, 0, i64::MAX / 2)),
        claim_window_days: fields
            .with(cx, "claimWindowDays", |cx, node, field| cx.whole(node, field, 1, 3660))
            .map(|days| days as u32),
        credited_on: fields
            .with(cx, "creditedOn", |cx, node, field| {
                cx.word(
                    node,
                    field,
                    &[("next_invoice", CreditedOn::NextInvoice), ("refund", CreditedOn::Refund)],
                )
            })
            .unwrap_or(CreditedOn::NextInvoice),
    })
}

/// `spec.reporting`: when the customer's compliance report is sent, as what, and to whom
/// besides the customer's `reports` contacts.
fn reporting(cx: &mut Cx<'_>, node: &Node, field: &str) -> Option<Reporting> {
    let fields = cx.fields(node, field, &["every", "formats", "day", "at", "recipients"])?;
    let n_errors = cx.errors.len();
    let every_words = ReportEvery::ALL.map(|every| (every.as_str(), every));
    let every = fields
        .require(cx, "every", "how often a report is sent: month, quarter or year")
        .and_then(|(node, field)| cx.word(node, &field, &every_words));
    let mut formats = Vec::new();
    if let Some((list, list_field)) = fields.get("formats") {
        let n_format_errors = cx.errors.len();
        let format_words = ReportFormat::ALL.map(|format| (format.as_str(), format));
        for (item, item_field) in cx.items(list, &list_field) {
            let Some(format) = cx.word(item, &item_field, &format_words) else { continue };
            if formats.contains(&format) {
                cx.error(item, &item_field, format!("format {} is listed twice", format.as_str()));
                continue;
            }
            formats.push(format);
        }
        if formats.is_empty() && cx.errors.len() == n_format_errors {
            cx.error(list, &list_field, "expected at least one format: pdf, html, csv or json");
        }
    } else {
        formats.push(ReportFormat::Pdf);
    }
    // Days up to 28 exist in every month.
    let day = fields
        .with(cx, "day", |cx, node, field| cx.whole(node, field, 1, 28))
        .map_or(Some(1), |day| i8::try_from(day).ok());
    let at = match fields.get("at") {
        Some((node, field)) => {
            let text = cx.string(node, &field);
            text.and_then(|text| {
                let parsed = text
                    .split_once(':')
                    .filter(|(hour, minute)| hour.len() == 2 && minute.len() == 2)
                    .and_then(|(hour, minute)| Some((hour.parse().ok()?, minute.parse().ok()?)))
                    .and_then(|(hour, minute)| jiff::civil::Time::new(hour, minute, 0, 0).ok());
                if parsed.is_none() {
                    cx.error(
                        node,
                        &field,
                        format!("invalid time {text:?}: expected HH:MM such as 08:00, in the customer's time zone"),
                    );
                }
                parsed
            })
        }
        None => Some(jiff::civil::Time::new(8, 0, 0, 0).expect("08:00 is a time")),
    };
    let mut recipients = Vec::new();
    if let Some((list, list_field)) = fields.get("recipients") {
        for (item, item_field) in cx.items(list, &list_field) {
            let Some(address) = cx.string(item, &item_field) else { continue };
            let address = address.trim().to_owned();
            let (local, domain) = address.split_once('@').unwrap_or_default();
            if local.is_empty() || domain.is_empty() || address.contains(char::is_whitespace) {
                cx.error(
                    item,
                    &item_field,
                    format!("invalid e-mail address {address:?}: expected one such as reports@acme.example"),
                );
                continue;
            }
            recipients.push(address);
        }
    }
    if cx.errors.len() > n_errors {
        return None;
    }
    Some(Reporting { every: every?, formats, day: day?, at: at?, recipients })
}
