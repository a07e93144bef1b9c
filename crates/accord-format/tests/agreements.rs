//! Agreement documents end to end: YAML text loaded into a catalog, then resolved, checked and
//! diffed by `accord-core`. Small catalogs are written here so each test shows its whole input.

use std::path::PathBuf;

use accord_core::agreement::{self, Metric, Query, Severity};
use accord_format::catalog::{self, Input, Loaded};
use expect_test::{Expect, expect};
use jiff::civil::date;

const CATALOG: &str = r#"
apiVersion: accord/v1
kind: Calendar
metadata:
  name: office
spec:
  timeZone: Europe/Berlin
  hours:
    mon-fri: [09:00-17:00]
---
apiVersion: accord/v1
kind: Service
metadata:
  name: hosting
spec:
  components:
    - name: vm
  calendars:
    - calendar: office
---
apiVersion: accord/v1
kind: Customer
metadata:
  name: acme
spec:
  timeZone: Europe/Berlin
  sites:
    - name: munich
      region: emea
    - name: singapore
      region: apac
---
apiVersion: accord/v1
kind: Agreement
metadata:
  name: corporate
spec:
  type: sla
  level: corporate
  parties:
    provider: Northwind
  term:
    effectiveFrom: 2026-01-01
    review:
      next: 2027-01-15
  objectives:
    calendar: office
    pauseOn: [waiting_on_customer]
    response:
      P1: 30m
    resolution:
      P1:
        target: 4h
        underpinnedBy:
          - agreement: vendor
            objective: response.P1
      P2: 8h
"#;

const VENDOR_FITS: &str = r#"
apiVersion: accord/v1
kind: Agreement
metadata:
  name: vendor
spec:
  type: uc
  parties:
    vendor: Hostico
  term:
    effectiveFrom: 2026-01-01
    review:
      next: 2027-01-15
  objectives:
    hours: calendar
    response:
      P1: 1h
"#;

const ACME: &str = r#"
apiVersion: accord/v1
kind: Agreement
metadata:
  name: acme-sla
spec:
  type: sla
  level: customer
  parties:
    provider: Northwind
    customer: acme
  term:
    effectiveFrom: 2026-06-01
    review:
      next: 2027-01-15
  objectives:
    resolution:
      P1: {target: 2h}
"#;

fn load(files: &[(&str, &str)]) -> Result<Loaded, String> {
    let inputs: Vec<Input> = files
        .iter()
        .map(|(name, text)| Input {
            path: PathBuf::from(name),
            first_line: 1,
            text: (*text).to_owned(),
            files: None,
        })
        .collect();
    catalog::load(&inputs).map_err(|errors| errors.to_string())
}

fn findings(files: &[(&str, &str)]) -> String {
    let loaded = load(files).unwrap();
    let findings = agreement::check(&loaded.catalog, date(2026, 11, 21));
    findings.iter().map(|f| format!("{f}\n")).collect()
}

#[track_caller]
fn check_errors(files: &[(&str, &str)], expect: Expect) {
    expect.assert_eq(&load(files).unwrap_err());
}

#[test]
fn customer_level_overrides_one_field_and_keeps_the_rest() {
    let loaded =
        load(&[("catalog.yaml", CATALOG), ("vendor.yaml", VENDOR_FITS), ("acme.yaml", ACME)])
            .unwrap();
    let query = Query {
        customer: "acme",
        service: "hosting",
        region: None,
        site: None,
        on: date(2026, 11, 21),
    };
    let effective = agreement::resolve(&loaded.catalog, &query).unwrap();
    let p1 = effective.ticket(Metric::Resolution, "P1").unwrap();
    let target = p1.target.unwrap();
    assert_eq!(target.value.to_string(), "2h");
    assert_eq!(
        (target.origin.file.as_ref(), target.origin.line, target.origin.field.as_str()),
        ("acme.yaml", 18, "spec.objectives.resolution.P1.target")
    );
    // Inherited from the corporate level, with the corporate document's line.
    assert_eq!(p1.calendar.value, "office");
    assert_eq!((p1.calendar.origin.file.as_ref(), p1.calendar.origin.line), ("catalog.yaml", 47));
    assert_eq!(p1.pause_on.value, vec!["waiting_on_customer".to_owned()]);
    let p2 = effective.ticket(Metric::Resolution, "P2").unwrap();
    assert_eq!(p2.target.unwrap().value.to_string(), "8h");
    // Before the customer agreement starts, the corporate target applies.
    let june = Query { on: date(2026, 5, 31), ..query };
    let effective = agreement::resolve(&loaded.catalog, &june).unwrap();
    let p1 = effective.ticket(Metric::Resolution, "P1").unwrap();
    assert_eq!(p1.target.unwrap().value.to_string(), "4h");
    assert_eq!(
        effective.skipped,
        vec![("acme-sla".to_owned(), "not in force on 2026-05-31".to_owned())]
    );
}

#[test]
fn two_customer_agreements_for_the_same_scope_are_ambiguous() {
    let second = ACME.replace("name: acme-sla", "name: acme-sla-copy");
    let loaded = load(&[
        ("catalog.yaml", CATALOG),
        ("vendor.yaml", VENDOR_FITS),
        ("acme.yaml", ACME),
        ("copy.yaml", &second),
    ])
    .unwrap();
    let query = Query {
        customer: "acme",
        service: "hosting",
        region: None,
        site: None,
        on: date(2026, 11, 21),
    };
    let error = agreement::resolve(&loaded.catalog, &query).unwrap_err().to_string();
    assert!(error.contains("agreements acme-sla (acme.yaml:5) and acme-sla-copy (copy.yaml:5) both apply at the customer level"), "{error}");
    let findings = findings(&[
        ("catalog.yaml", CATALOG),
        ("vendor.yaml", VENDOR_FITS),
        ("acme.yaml", ACME),
        ("copy.yaml", &second),
    ]);
    assert!(findings.contains("copy.yaml:5:9: metadata.name: agreements acme-sla"), "{findings}");
}

#[test]
fn a_regional_agreement_applies_only_in_its_region() {
    let apac = r#"
apiVersion: accord/v1
kind: Agreement
metadata:
  name: acme-apac
spec:
  type: sla
  level: customer
  parties: {provider: Northwind, customer: acme}
  covers: {regions: [apac]}
  term: {effectiveFrom: 2026-01-01, review: {next: 2027-01-01}}
  objectives:
    response:
      P1: 15m
"#;
    let loaded =
        load(&[("catalog.yaml", CATALOG), ("vendor.yaml", VENDOR_FITS), ("apac.yaml", apac)])
            .unwrap();
    let on = date(2026, 11, 21);
    let response = |region: Option<&str>, site: Option<&str>| {
        let query = Query { customer: "acme", service: "hosting", region, site, on };
        let effective = agreement::resolve(&loaded.catalog, &query).unwrap();
        effective.ticket(Metric::Response, "P1").unwrap().target.unwrap().value.to_string()
    };
    assert_eq!(response(Some("apac"), None), "15m");
    assert_eq!(response(None, Some("singapore")), "15m");
    assert_eq!(response(Some("emea"), None), "30m");
    // Two regions and none named: the regional agreement is skipped, and says why.
    assert_eq!(response(None, None), "30m");
}

#[test]
fn an_underpinning_contract_that_cannot_fit_is_an_error_with_the_worst_case() {
    let too_slow = VENDOR_FITS.replace("P1: 1h", "P1: 6h");
    let findings = findings(&[("catalog.yaml", CATALOG), ("vendor.yaml", &too_slow)]);
    assert!(
        findings.contains("catalog.yaml:56:24: spec.objectives.resolution.P1.underpinnedBy[0].objective: vendor response.P1 (6h calendar hours on 24x7, vendor.yaml:17) does not fit inside resolution.P1 (4h business hours on office, catalog.yaml:53): it can end 2h later"),
        "{findings}"
    );
    // With 1 h round the clock the vendor always answers within 4 business hours.
    let fits =
        findings_without_warnings(&[("catalog.yaml", CATALOG), ("vendor.yaml", VENDOR_FITS)]);
    assert_eq!(fits, "");
}

#[test]
fn a_customer_override_can_break_the_fit_of_a_corporate_underpinning() {
    let vendor = VENDOR_FITS.replace("P1: 1h", "P1: 3h");
    let fits = findings_without_warnings(&[("catalog.yaml", CATALOG), ("vendor.yaml", &vendor)]);
    assert_eq!(fits, "");
    // acme's 2 h resolution cannot contain the vendor's 3 h response.
    let findings =
        findings(&[("catalog.yaml", CATALOG), ("vendor.yaml", &vendor), ("acme.yaml", ACME)]);
    assert!(
        findings.contains("vendor response.P1 (3h calendar hours on 24x7, vendor.yaml:17) does not fit inside resolution.P1 (2h business hours on office, acme.yaml:18)"),
        "{findings}"
    );
}

/// A customer-level SLA that adds next response targets, one underpinned by the vendor.
const ACME_NEXT_RESPONSE: &str = r#"
apiVersion: accord/v1
kind: Agreement
metadata:
  name: acme-sla
spec:
  type: sla
  level: customer
  parties:
    provider: Northwind
    customer: acme
  term:
    effectiveFrom: 2026-01-01
    review:
      next: 2027-01-15
  objectives:
    nextResponse:
      P1:
        target: 2h
        underpinnedBy:
          - agreement: vendor
            objective: next_response.P1
      P2: 1bd
    compliance:
      - name: p1-next-response
        metric: next_response
        priority: P1
        target: 95
        window: month
"#;

const VENDOR_NEXT_RESPONSE: &str = r#"
apiVersion: accord/v1
kind: Agreement
metadata:
  name: vendor
spec:
  type: uc
  parties:
    vendor: Hostico
  term:
    effectiveFrom: 2026-01-01
    review:
      next: 2027-01-15
  objectives:
    hours: calendar
    response:
      P1: 1h
    nextResponse:
      P1: 1h
"#;

#[test]
fn next_response_targets_are_read_from_the_next_response_field() {
    let loaded = load(&[
        ("catalog.yaml", CATALOG),
        ("vendor.yaml", VENDOR_NEXT_RESPONSE),
        ("acme.yaml", ACME_NEXT_RESPONSE),
    ])
    .unwrap();
    let query = Query {
        customer: "acme",
        service: "hosting",
        region: None,
        site: None,
        on: date(2026, 11, 21),
    };
    let effective = agreement::resolve(&loaded.catalog, &query).unwrap();
    let p1 = effective.ticket(Metric::NextResponse, "P1").unwrap();
    let target = p1.target.unwrap();
    assert_eq!(target.value.to_string(), "2h");
    assert_eq!(
        (target.origin.line, target.origin.field.as_str()),
        (19, "spec.objectives.nextResponse.P1.target")
    );
    // The calendar comes from the corporate level, like any ticket objective's.
    assert_eq!(p1.calendar.value, "office");
    let p2 = effective.ticket(Metric::NextResponse, "P2").unwrap();
    assert_eq!(p2.target.unwrap().value.to_string(), "1bd");
    // The first response targets are a separate metric.
    assert_eq!(
        effective.ticket(Metric::Response, "P1").unwrap().target.unwrap().value.to_string(),
        "30m"
    );
    let compliance = &effective.terms.compliance["p1-next-response"];
    assert_eq!(compliance.metric.as_ref().map(|m| m.value), Some(Metric::NextResponse));

    let described: String = agreement::describe_terms(&loaded.catalog.agreements["acme-sla"].terms)
        .iter()
        .map(|d| format!("{}: {}\n", d.label, d.value))
        .collect();
    expect![[r#"
        P1 next response: 2h
        P1 next response underpinned by: vendor next_response.P1
        P2 next response: 1bd
        compliance p1-next-response metric: next_response
        compliance p1-next-response priority: P1
        compliance p1-next-response target: 95%
        compliance p1-next-response window: month
    "#]]
    .assert_eq(&described);
}

#[test]
fn a_next_response_underpinning_is_fit_checked() {
    let files = [
        ("catalog.yaml", CATALOG),
        ("vendor.yaml", VENDOR_NEXT_RESPONSE),
        ("acme.yaml", ACME_NEXT_RESPONSE),
    ];
    assert_eq!(findings_without_warnings(&files), "");
    let too_slow =
        VENDOR_NEXT_RESPONSE.replace("nextResponse:\n      P1: 1h", "nextResponse:\n      P1: 5h");
    let findings = findings_without_warnings(&[files[0], ("vendor.yaml", &too_slow), files[2]]);
    expect![[r#"
        acme.yaml:22:24: spec.objectives.nextResponse.P1.underpinnedBy[0].objective: vendor next_response.P1 (5h calendar hours on 24x7, vendor.yaml:19) does not fit inside next_response.P1 (2h business hours on office, acme.yaml:19): it can end 3h later (a clock started Mon 2026-11-23 09:00 CET is due Mon 2026-11-23 11:00 CET under the SLA and Mon 2026-11-23 14:00 CET under the underpinning agreement)
    "#]].assert_eq(&findings);
}

#[test]
fn lint_names_next_response_objectives_in_words() {
    let no_target = ACME_NEXT_RESPONSE
        .replace("      P2: 1bd\n", "      P2: {hours: calendar}\n")
        .replace("priority: P1", "priority: P3");
    let findings = findings(&[
        ("catalog.yaml", CATALOG),
        ("vendor.yaml", VENDOR_NEXT_RESPONSE),
        ("acme.yaml", &no_target),
    ]);
    let acme: String =
        findings.lines().filter(|l| l.starts_with("acme.yaml")).map(|l| format!("{l}\n")).collect();
    expect![[r#"
        acme.yaml:23:19: spec.objectives.nextResponse.P2.hours: warning: P2 next response has no target at any level: it cannot be measured
        acme.yaml:26:17: spec.objectives.compliance[0].metric: warning: compliance objective p1-next-response counts P3 next response tickets, but no such target is set
    "#]].assert_eq(&acme);
}

#[test]
fn escalation_objectives_name_next_response_in_snake_case() {
    let escalation = |objectives: &str| {
        format!(
            r#"
apiVersion: accord/v1
kind: Agreement
metadata:
  name: escalating
spec:
  type: ola
  objectives:
    nextResponse:
      P1: 1h
  escalation:
    - objectives: {objectives}
      at: 50%
      notify: [desk-lead]
"#
        )
    };
    let loaded = load(&[("escalating.yaml", &escalation("[response, next_response]"))]).unwrap();
    let steps = &loaded.catalog.agreements["escalating"].terms.escalation.as_ref().unwrap().value;
    assert_eq!(steps[0].objectives, vec![Metric::Response, Metric::NextResponse]);
    // The field name is not the word: lists use the same spelling as `next_response.P1`.
    check_errors(
        &[("escalating.yaml", &escalation("[nextResponse]"))],
        expect![[
            r#"escalating.yaml:12:20: spec.escalation[0].objectives[0]: unknown value "nextResponse": expected one of response, next_response, resolution, update, request"#
        ]],
    );
}

fn findings_without_warnings(files: &[(&str, &str)]) -> String {
    findings(files)
        .lines()
        .filter(|line| !line.contains("warning:"))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn lint_warns_about_five_nines_and_missing_terms() {
    let lint = r#"
apiVersion: accord/v1
kind: Agreement
metadata:
  name: bold
spec:
  type: sla
  level: service
  covers: {services: [hosting]}
  objectives:
    availability:
      - name: api
        target: 99.999
        window: month
"#;
    let findings =
        findings(&[("catalog.yaml", CATALOG), ("vendor.yaml", VENDOR_FITS), ("bold.yaml", lint)]);
    let bold: String =
        findings.lines().filter(|l| l.starts_with("bold.yaml")).map(|l| format!("{l}\n")).collect();
    expect![[r#"
        bold.yaml:5:9: metadata.name: warning: no provider: say who promises (spec.parties.provider)
        bold.yaml:5:9: metadata.name: warning: no term: say from when the agreement applies and when it is reviewed (spec.term)
        bold.yaml:13:17: spec.objectives.availability[0].target: warning: availability objective api has no data source (probe:, heartbeat:, requests:, metric: or incidents)
        bold.yaml:13:17: spec.objectives.availability[0].target: warning: target 99.999% is above 99.99%: it allows 26s of downtime in a 30-day month; is that measurable and meant?
    "#]]
    .assert_eq(&bold);
}

#[test]
fn every_error_of_a_file_is_reported_with_line_column_and_field() {
    let broken = r#"
apiVersion: accord/v1
kind: Agreement
metadata:
  name: Broken_Name
spec:
  type: sla
  level: regional
  term:
    effectiveFrom: 2026-13-01
  objectives:
    calender: office
    response:
      P1: 30 minutes
      P2: 1d
    availability:
      - name: api
        target: 101
        window: fortnight
        source: prometheus
"#;
    check_errors(
        &[("broken.yaml", broken)],
        expect![[r#"
            broken.yaml:5:9: metadata.name: invalid name "Broken_Name": expected lowercase letters, digits and '-', starting with a letter or digit, at most 63 characters
            broken.yaml:8:10: spec.level: unknown value "regional": expected one of corporate, customer, service
            broken.yaml:10:20: spec.term.effectiveFrom: invalid date "2026-13-01": expected YYYY-MM-DD
            broken.yaml:12:5: spec.objectives.calender: unknown field "calender": expected one of calendar, hours, pauseOn, reopen, response, nextResponse, resolution, update, request, availability, latency, compliance
            broken.yaml:14:11: spec.objectives.response.P1: invalid duration "30 minutes": expected a positive duration such as 30m, 4h, 1h30m or 90s (no days: write 24h, or 1bd for a business day)
            broken.yaml:15:11: spec.objectives.response.P2: invalid duration "1d": expected a positive duration such as 30m, 4h, 1h30m or 90s (no days: write 24h, or 1bd for a business day)
            broken.yaml:18:17: spec.objectives.availability[0].target: invalid percentage "101": expected a number from 0 to 100 with at most 6 decimals, such as 99.9 or 99.95%
            broken.yaml:19:17: spec.objectives.availability[0].window: invalid window "fortnight": expected day, week, month, quarter, year or rolling Nd (rolling 30d)
            broken.yaml:20:17: spec.objectives.availability[0].source: invalid source "prometheus": expected probe:NAME, heartbeat:NAME, requests:NAME, metric:NAME or incidents"#]],
    );
}

#[test]
fn unknown_references_are_errors_naming_what_exists() {
    let bad = CATALOG.replace("calendar: office\n    pauseOn", "calendar: ofice\n    pauseOn");
    let errors = findings_without_warnings(&[("catalog.yaml", &bad), ("vendor.yaml", VENDOR_FITS)]);
    expect![[r#"
        catalog.yaml:47:15: spec.objectives.calendar: unknown calendar "ofice": expected 24x7 or one of office
    "#]]
    .assert_eq(&errors);
}

#[test]
fn a_document_defined_twice_is_an_error_at_the_second() {
    check_errors(
        &[("a.yaml", VENDOR_FITS), ("b.yaml", VENDOR_FITS)],
        expect!["b.yaml:5:9: metadata.name: Agreement vendor is already defined in a.yaml:5"],
    );
}

#[test]
fn comments_and_layout_make_no_new_content_hash() {
    let first = load(&[("vendor.yaml", VENDOR_FITS)]).unwrap();
    let reformatted =
        VENDOR_FITS.replace("  objectives:\n", "  # Reviewed with Hostico.\n  objectives:\n");
    let second = load(&[("vendor.yaml", &reformatted)]).unwrap();
    assert_eq!(first.documents[0].content_hash, second.documents[0].content_hash);
    let changed = load(&[("vendor.yaml", &VENDOR_FITS.replace("1h", "2h"))]).unwrap();
    assert_ne!(first.documents[0].content_hash, changed.documents[0].content_hash);
}

#[test]
fn the_semantic_diff_speaks_in_terms() {
    let old = load(&[("acme.yaml", ACME)]).unwrap();
    let newer = ACME.replace("P1: {target: 2h}", "P1: {target: 90m}\n      P3: 2bd");
    let new = load(&[("acme.yaml", &newer)]).unwrap();
    let changes =
        agreement::diff(&old.catalog.agreements["acme-sla"], &new.catalog.agreements["acme-sla"]);
    let text: String = changes.iter().map(|c| format!("{c}\n")).collect();
    expect![[r#"
        P1 resolution: 2h to 1h30m
        P3 resolution: added, 2bd
    "#]]
    .assert_eq(&text);
}

#[test]
fn a_yaml_syntax_error_names_the_file_line() {
    let text = "apiVersion: accord/v1\nkind: Service\n---\nkind: [unclosed\n";
    let error = load(&[("bad.yaml", text)]).unwrap_err();
    assert!(error.contains("bad.yaml:4:7: unclosed bracket '['"), "{error}");
    assert!(
        error.contains("metadata"),
        "the first document's missing metadata is reported too: {error}"
    );
}

#[test]
fn a_catalog_whose_contracts_fit_has_no_errors() {
    let loaded = load(&[("catalog.yaml", CATALOG), ("vendor.yaml", VENDOR_FITS)]).unwrap();
    let findings = agreement::check(&loaded.catalog, date(2026, 11, 21));
    assert!(findings.iter().all(|f| f.severity == Severity::Warning), "{findings:?}");
}

#[test]
fn a_multibyte_month_name_is_an_error_not_a_panic() {
    // Found by `cargo fuzz` (fuzz/regressions/load_documents/yearly-month-char-boundary.yaml).
    let text = "{apiVersion: accord/v1, kind: Calendar, metadata: {name: x}, spec: {timeZone: UTC, hours: 24x7, holidays: [{yearly: last mon of éé}]}}";
    let error = load(&[("fuzz.yaml", text)]).unwrap_err();
    assert!(error.contains("invalid yearly date \"last mon of éé\""), "{error}");
}

#[test]
fn scope_rules_for_types_and_levels() {
    let uc_with_covers =
        VENDOR_FITS.replace("  parties:\n", "  covers: {services: [hosting]}\n  parties:\n");
    let service_level = r#"
apiVersion: accord/v1
kind: Agreement
metadata:
  name: hosting-sla
spec:
  type: sla
  level: service
  parties: {provider: Northwind, customer: acme}
  term: {effectiveFrom: 2026-01-01, review: {next: 2027-01-01}}
  objectives:
    availability:
      - name: vm
        target: 99.9
        window: quarter
        method: requests
        downtime: {minimum: 5m}
        source: requests:vm
  credits:
    availability:
      objective: vm
      tiers: [{below: 99.9, credit: 10%}]
"#;
    let findings = findings_without_warnings(&[
        ("catalog.yaml", CATALOG),
        ("vendor.yaml", &uc_with_covers),
        ("hosting.yaml", service_level),
    ]);
    expect![[r#"
        hosting.yaml:5:9: metadata.name: a service-level SLA names its services: set spec.covers.services
        hosting.yaml:14:17: spec.objectives.availability[0].target: availability objective vm needs a service: the agreement covers every service
        hosting.yaml:17:29: spec.objectives.availability[0].downtime.minimum: downtime rules go with method time, not requests
        hosting.yaml:21:18: spec.credits.availability.objective: credits are per calendar month, but availability objective vm is measured per quarter
        vendor.yaml:8:23: spec.covers.services[0]: covers is for SLAs: an OLA or UC applies where an SLA names it in underpinnedBy
    "#]]
    .assert_eq(&findings);
}

#[test]
fn a_reporting_schedule_is_read_with_its_defaults_and_replaced_as_a_whole() {
    let corporate = CATALOG.replace(
        "  objectives:\n    calendar: office\n",
        "  reporting:\n    every: quarter\n    formats: [pdf, csv]\n    day: 5\n    at: \"07:30\"\n    recipients: [audit@acme.example]\n  objectives:\n    calendar: office\n",
    );
    let acme = format!("{ACME}  reporting: {{every: month}}\n");
    let files = [("catalog.yaml", corporate.as_str()), ("vendor.yaml", VENDOR_FITS)];
    let query = Query {
        customer: "acme",
        service: "hosting",
        region: None,
        site: None,
        on: date(2026, 11, 21),
    };
    let loaded = load(&files).unwrap();
    let effective = agreement::resolve(&loaded.catalog, &query).unwrap();
    let reporting = effective.terms.reporting.unwrap();
    assert_eq!(
        reporting.value.to_string(),
        "every quarter on day 5 at 07:30, as pdf, csv, also to audit@acme.example"
    );
    assert_eq!(
        (reporting.origin.file.as_ref(), reporting.origin.line, reporting.origin.field.as_str()),
        ("catalog.yaml", 47, "spec.reporting")
    );
    // The customer level writes only `every`: the corporate formats, day, time and
    // recipients are not inherited, the defaults apply.
    let loaded = load(&[files[0], files[1], ("acme.yaml", &acme)]).unwrap();
    let effective = agreement::resolve(&loaded.catalog, &query).unwrap();
    let reporting = effective.terms.reporting.unwrap();
    assert_eq!(reporting.value.to_string(), "every month on day 1 at 08:00, as pdf");
    assert_eq!((reporting.origin.file.as_ref(), reporting.origin.line), ("acme.yaml", 19));
    // Diffs show schedule changes.
    let old = load(&[("acme.yaml", ACME)]).unwrap();
    let changes = agreement::diff(
        &old.catalog.agreements["acme-sla"],
        &loaded.catalog.agreements["acme-sla"],
    );
    let text: String = changes.iter().map(|c| format!("{c}\n")).collect();
    expect![[r#"
        reporting: added, every month on day 1 at 08:00, as pdf
    "#]]
    .assert_eq(&text);
}

#[test]
fn every_mistake_in_a_reporting_schedule_is_named_with_its_field() {
    let broken = format!(
        "{ACME}  reporting:\n    every: weekly\n    formats: [pdf, docx, pdf]\n    day: 31\n    at: 8am\n    recipients: [reports@acme.example, nobody]\n"
    );
    check_errors(
        &[("acme.yaml", &broken)],
        expect![[r#"
            acme.yaml:20:12: spec.reporting.every: unknown value "weekly": expected one of month, quarter, year
            acme.yaml:21:20: spec.reporting.formats[1]: unknown value "docx": expected one of pdf, html, csv, json
            acme.yaml:21:26: spec.reporting.formats[2]: format pdf is listed twice
            acme.yaml:22:10: spec.reporting.day: 31 is out of range: expected 1 to 28
            acme.yaml:23:9: spec.reporting.at: invalid time "8am": expected HH:MM such as 08:00, in the customer's time zone
            acme.yaml:24:40: spec.reporting.recipients[1]: invalid e-mail address "nobody": expected one such as reports@acme.example"#]],
    );
    let empty = format!("{ACME}  reporting: {{formats: []}}\n");
    check_errors(
        &[("acme.yaml", &empty)],
        expect![[r#"
            acme.yaml:19:14: spec.reporting: missing field "every": how often a report is sent: month, quarter or year
            acme.yaml:19:24: spec.reporting.formats: expected at least one format: pdf, html, csv or json"#]],
    );
    // OLAs and UCs promise teams and vendors nothing to report on.
    let vendor = format!("{VENDOR_FITS}  reporting: {{every: month}}\n");
    check_errors(
        &[("vendor.yaml", &vendor)],
        expect![[
            r#"vendor.yaml:18:14: spec.reporting: reporting is for SLAs: customers get reports, teams and vendors do not"#
        ]],
    );
}
