//! Unit tests of the OpenSLO importer: small documents through [`import`], one behaviour each.
//! The real OpenSLO example files are in `tests/openslo.rs`.

use expect_test::{Expect, expect};

use super::*;

/// Imports `text` as `slo.yaml`; what imports must also load as an Accord catalog.
#[track_caller]
fn import_and_load(text: &str) -> Result<Imported, FormatErrors> {
    let imported = import(Path::new("slo.yaml"), text)?;
    let input = crate::catalog::Input {
        path: "imported.yaml".into(),
        first_line: 1,
        text: imported.yaml.clone(),
        files: None,
    };
    if let Err(errors) = crate::catalog::load(&[input]) {
        panic!("Accord's loader refuses the import:\n{errors}\n\n{}", imported.yaml);
    }
    Ok(imported)
}

/// Imports `text` and shows the YAML, or the errors one per line.
#[track_caller]
fn check(text: &str, expect: Expect) {
    let actual = match import_and_load(text) {
        Ok(imported) => imported.yaml,
        Err(errors) => format!("error: {errors}"),
    };
    expect.assert_eq(&actual);
}

/// Imports `text` and shows only the availability entries, or the errors.
#[track_caller]
fn check_objectives(text: &str, expect: Expect) {
    let actual = match import_and_load(text) {
        Ok(imported) => {
            let start = imported.yaml.find("availability:\n").expect("an agreement");
            let excerpt = &imported.yaml[start..];
            excerpt
                .lines()
                .map(|line| format!("{}\n", line.strip_prefix("    ").unwrap_or(line)))
                .collect()
        }
        Err(errors) => format!("error: {errors}"),
    };
    expect.assert_eq(&actual);
}

/// Imports `text` and shows the notes, or the errors.
#[track_caller]
fn check_notes(text: &str, expect: Expect) {
    let actual = match import_and_load(text) {
        Ok(imported) => imported.notes.join("\n"),
        Err(errors) => format!("error: {errors}"),
    };
    expect.assert_eq(&actual);
}

/// An SLO whose spec ends with `rest` (indented by four spaces), after a good/total indicator.
fn slo(rest: &str) -> String {
    format!(
        "apiVersion: openslo/v1
kind: SLO
metadata:
  name: checkout
spec:
  service: shop
  indicator:
    metadata:
      name: checkout-ok
    spec:
      ratioMetric:
        good:
          metricSource:
            type: Prometheus
            spec:
              query: good
        total:
          metricSource:
            type: Prometheus
            spec:
              query: total
{rest}"
    )
}

#[test]
fn missing_objectives_names_the_line_and_field() {
    check(
        "apiVersion: openslo/v1
kind: SLO
metadata:
  name: checkout
spec:
  service: shop
  indicatorRef: checkout-ok
  timeWindow:
    - duration: 28d
      isRolling: true
  budgetingMethod: Occurrences
",
        expect![[r#"
            error: slo.yaml:5:1: spec.objectives: objectives is missing: an SLO needs at least one objective, such as - target: 0.995
            slo.yaml:7:17: spec.indicatorRef: SLI "checkout-ok" is not defined in this file: put the SLI document in the file with the SLO, or inline it as indicator"#]],
    );
}

#[test]
fn unsupported_budgeting_method_names_the_value() {
    check_objectives(
        &slo("  timeWindow:
    - duration: 28d
      isRolling: true
  budgetingMethod: Calendar
  objectives:
    - target: 0.99
"),
        expect![[
            r#"error: slo.yaml:25:20: spec.budgetingMethod: unsupported budgetingMethod "Calendar": expected Occurrences, Timeslices or RatioTimeslices"#
        ]],
    );
}

#[test]
fn unsupported_api_version_is_refused() {
    check(
        "apiVersion: openslo/v1alpha
kind: SLO
metadata:
  name: checkout
spec: {}
",
        expect![[
            r#"error: slo.yaml:1:13: apiVersion: unsupported apiVersion "openslo/v1alpha": the importer reads "openslo/v1""#
        ]],
    );
}

#[test]
fn alerting_kinds_are_refused_by_kind() {
    check(
        "apiVersion: openslo/v1
kind: AlertPolicy
metadata:
  name: page-on-burn
spec:
  alertWhenBreaching: true
",
        expect![[
            r#"error: slo.yaml:2:7: kind: unsupported kind AlertPolicy: Accord has no equivalent; the importer reads Service, SLI and SLO (remove the AlertPolicy documents to import the rest)"#
        ]],
    );
}

#[test]
fn unknown_fields_are_errors() {
    check_objectives(
        &slo("  timeWindow:
    - duration: 28d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.99
      budget: 0.01
"),
        expect![[
            r#"error: slo.yaml:28:7: spec.objectives[0].budget: unknown field "budget": an OpenSLO objective has displayName, op, value, target, targetPercent, timeSliceTarget, timeSliceWindow, indicator, indicatorRef, compositeWeight"#
        ]],
    );
}

#[test]
fn names_become_lowercase_slugs() {
    assert_eq!(to_accord_name("web-shop").as_deref(), Some("web-shop"));
    assert_eq!(to_accord_name("Web_Shop").as_deref(), Some("web-shop"));
    assert_eq!(to_accord_name("AlertPolicy").as_deref(), Some("alertpolicy"));
    assert_eq!(to_accord_name("team/a.b|c").as_deref(), Some("team-a-b-c"));
    assert_eq!(to_accord_name("--a  b--").as_deref(), Some("a-b"));
    assert_eq!(to_accord_name("Zürich").as_deref(), Some("z-rich"));
    assert_eq!(to_accord_name("1st").as_deref(), Some("1st"));
    assert_eq!(to_accord_name("日本"), None);
    assert_eq!(to_accord_name("--"), None);
    let long = "a".repeat(62) + "-b";
    assert_eq!(to_accord_name(&long).as_deref(), Some("a".repeat(62).as_str()));
    assert_eq!(to_accord_name(&"x".repeat(70)).map(|name| name.len()), Some(63));
}

#[test]
fn changed_names_are_noted() {
    check_notes(
        "apiVersion: openslo/v1
kind: Service
metadata:
  name: Web_Shop
  displayName: Web shop
spec:
  description: The shop
",
        expect![[
            r#"metadata.name "Web_Shop" became "web-shop": Accord names are lowercase letters, digits and '-', at most 63 characters"#
        ]],
    );
}

#[test]
fn names_that_collide_after_sanitising_are_errors() {
    check(
        "apiVersion: openslo/v1
kind: Service
metadata:
  name: web-shop
spec: {}
---
apiVersion: openslo/v1
kind: Service
metadata:
  name: Web.Shop
spec: {}
",
        expect![[
            r#"error: slo.yaml:10:9: metadata.name: Service "Web.Shop" becomes Accord name "web-shop", which Service "web-shop" (line 4) has already"#
        ]],
    );
}

#[test]
fn service_keeps_title_description_and_labels() {
    check(
        "apiVersion: openslo/v1
kind: Service
metadata:
  name: shop
  displayName: 'Shop: web and app'
  labels:
    tier: '1'
    team: [payments]
spec:
  description: Everything customers buy with
",
        expect![[r#"
            # Accord documents imported from the OpenSLO file slo.yaml.
            apiVersion: accord/v1
            kind: Service
            metadata:
              name: shop
              title: "Shop: web and app"
              labels:
                tier: "1"
                team: payments
            spec:
              description: Everything customers buy with
        "#]],
    );
}

#[test]
fn lines_are_file_lines_in_later_documents() {
    check(
        "# Two documents.
apiVersion: openslo/v1
kind: Service
metadata:
  name: shop
spec: {}
---
apiVersion: openslo/v1
kind: Service
metadata:
  name: shop-api
spec:
  owner: payments
--- # a third document, after a comment on the marker line
apiVersion: openslo/v1
kind: Service
metadata: [not, a, mapping]
spec: {}
",
        expect![[r#"
            error: slo.yaml:13:3: spec.owner: unknown field "owner": an OpenSLO Service spec has description
            slo.yaml:17:11: metadata: expected a mapping, found a list"#]],
    );
}

#[test]
fn yaml_syntax_errors_point_at_file_lines() {
    let actual = import(
        Path::new("slo.yaml"),
        "apiVersion: openslo/v1
kind: Service
metadata: {name: shop}
spec: {}
---
apiVersion: openslo/v1
kind: [Service
",
    )
    .unwrap_err();
    assert_eq!(actual.0.len(), 1);
    assert!(actual.0[0].line >= 7, "{actual}");
}

#[test]
fn empty_files_have_nothing_to_import() {
    check(
        "# nothing here\n---\n",
        expect![[
            r#"error: slo.yaml: nothing to import: the file has no OpenSLO Service or SLO documents"#
        ]],
    );
}

#[test]
fn occurrences_become_requests_over_a_rolling_window() {
    check(
        &slo("  timeWindow:
    - duration: 4w
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - displayName: Checkout works
      target: 0.995
"),
        expect![[r#"
            # Accord documents imported from the OpenSLO file slo.yaml.
            # Review these notes of the import:
            # - source requests:checkout-ok stands for the SLI's good and total queries: metric queries are not imported, so feed Accord that source
            # - the file defines no Service shop, which its SLOs name: added a Service document with only the name (drop it if another file defines the service)
            # Added by the import: the OpenSLO file names this service but does not define it.
            apiVersion: accord/v1
            kind: Service
            metadata:
              name: shop
            spec: {}
            ---
            apiVersion: accord/v1
            kind: Agreement
            metadata:
              name: shop-slos
              title: OpenSLO objectives of shop
            spec:
              type: sla
              level: service
              covers:
                services: [shop]
              objectives:
                availability:
                  # SLO checkout, objective "Checkout works"
                  - name: checkout
                    target: 99.5
                    window: rolling 28d
                    method: requests
                    source: requests:checkout-ok
        "#]],
    );
}

#[test]
fn calendar_month_keeps_its_time_zone() {
    check_objectives(
        &slo("  timeWindow:
    - duration: 1M
      calendar:
        startTime: 2024-01-01 00:00:00
        timeZone: Europe/Berlin
  budgetingMethod: Timeslices
  objectives:
    - targetPercent: 99.9
      timeSliceTarget: 0.9
      timeSliceWindow: 5
"),
        expect![[r#"
            availability:
              # SLO checkout
              - name: checkout
                target: 99.9
                window: month
                timeZone: Europe/Berlin
                method: timeslices
                timeslice: 5m
                sliceTarget: 90
                source: requests:checkout-ok
        "#]],
    );
}

#[test]
fn windows_accord_cannot_measure_are_refused() {
    let window = |duration: &str, rolling: bool| {
        let text = slo(&format!(
            "  timeWindow:
    - duration: {duration}
      isRolling: {rolling}
  budgetingMethod: Occurrences
  objectives:
    - target: 0.99
"
        ));
        match import_and_load(&text) {
            Ok(imported) => {
                let line = imported.yaml.lines().find(|line| line.contains("window:"));
                line.expect("a window").trim().to_owned()
            }
            Err(errors) => errors.to_string(),
        }
    };
    expect![[r#"
        window: rolling 2d
        window: rolling 7d
        window: rolling 30d
        window: day
        window: quarter
        window: year
        slo.yaml:23:17: spec.timeWindow[0].duration: unsupported rolling window 36h: it is not a whole number of days; Accord rolling windows are whole days (Nd, Nw, or hours in multiples of 24h)
        slo.yaml:23:17: spec.timeWindow[0].duration: unsupported rolling window 90m: it is not a whole number of days; Accord rolling windows are whole days (Nd, Nw, or hours in multiples of 24h)
        slo.yaml:23:17: spec.timeWindow[0].duration: unsupported rolling window 1M: it has no fixed length (write days, such as 30d, or make it calendar-aligned with isRolling: false); Accord rolling windows are whole days (Nd, Nw, or hours in multiples of 24h)
        slo.yaml:23:17: spec.timeWindow[0].duration: unsupported rolling window 0d: it is not a positive number of days; Accord rolling windows are whole days (Nd, Nw, or hours in multiples of 24h)
        slo.yaml:23:17: spec.timeWindow[0].duration: unsupported calendar-aligned window 2M: Accord's calendar windows are 1d, 1w, 1M, 1Q and 1Y, and rolling windows (isRolling: true) are whole days
        slo.yaml:23:17: spec.timeWindow[0].duration: unsupported calendar-aligned window 7d: Accord's calendar windows are 1d, 1w, 1M, 1Q and 1Y, and rolling windows (isRolling: true) are whole days
        slo.yaml:23:17: spec.timeWindow[0].duration: invalid duration "1 month": expected a whole number and one of m, h, d, w, M, Q, Y, such as 28d or 1M
    "#]]
    .assert_eq(
        &[
            window("48h", true),
            window("1w", true),
            window("30d", true),
            window("1d", false),
            window("1Q", false),
            window("1Y", false),
            window("36h", true),
            window("90m", true),
            window("1M", true),
            window("0d", true),
            window("2M", false),
            window("7d", false),
            window("1 month", false),
        ]
        .map(|line| line + "\n")
        .concat(),
    );
}

#[test]
fn start_times_off_the_window_boundary_are_noted() {
    check_notes(
        &slo("  timeWindow:
    - duration: 1M
      isRolling: false
      calendar:
        startTime: 2024-01-15 00:00:00
        timeZone: Asia/Tokyo
  budgetingMethod: Occurrences
  objectives:
    - target: 0.99
"),
        expect![[r#"
            SLO checkout: spec.timeWindow[0].calendar.startTime 2024-01-15 00:00:00 is not where Accord month windows begin: the imported windows are calendar months from the 1st at 00:00 in Asia/Tokyo
            source requests:checkout-ok stands for the SLI's good and total queries: metric queries are not imported, so feed Accord that source
            the file defines no Service shop, which its SLOs name: added a Service document with only the name (drop it if another file defines the service)"#]],
    );
}

#[test]
fn unknown_time_zones_are_errors() {
    check_objectives(
        &slo("  timeWindow:
    - duration: 1w
      calendar:
        startTime: 2024-01-01 00:00:00
        timeZone: Mars/Olympus_Mons
  budgetingMethod: Occurrences
  objectives:
    - target: 0.99
"),
        expect![[
            r#"error: slo.yaml:26:19: spec.timeWindow[0].calendar.timeZone: unknown time zone "Mars/Olympus_Mons": expected an IANA name such as America/New_York"#
        ]],
    );
}

#[test]
fn targets_must_be_fractions_and_percentages() {
    let target = |fields: &str| {
        let text = slo(&format!(
            "  timeWindow:
    - duration: 28d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - {fields}
"
        ));
        match import_and_load(&text) {
            Ok(imported) => {
                let line = imported.yaml.lines().find(|line| line.contains("target:"));
                line.expect("a target").trim().to_owned()
            }
            Err(errors) => errors.to_string(),
        }
    };
    expect![[r#"
        target: 99.5
        target: 99.9999
        target: 100
        target: 0
        target: 99.95
        slo.yaml:27:15: spec.objectives[0].target: target 99.5 is not a fraction from 0 to 1 with at most 8 decimals (0.995 means 99.5 %; use targetPercent for percentages)
        slo.yaml:27:15: spec.objectives[0].target: target 0.123456789 is not a fraction from 0 to 1 with at most 8 decimals (0.995 means 99.5 %; use targetPercent for percentages)
        slo.yaml:27:15: spec.objectives[0].target: expected a number, found the string "99%"
        slo.yaml:27:21: spec.objectives[0].targetPercent: give target or targetPercent, not both
        slo.yaml:27:7: spec.objectives[0].target: target is missing: give target (a fraction such as 0.995) or targetPercent (such as 99.5)
    "#]]
    .assert_eq(
        &[
            target("target: 0.995"),
            target("target: 0.999999"),
            target("target: 1"),
            target("target: 0"),
            target("targetPercent: 99.95"),
            target("target: 99.5"),
            target("target: 0.123456789"),
            target("target: '99%'"),
            target("{target: 0.9, targetPercent: 90}"),
            target("displayName: no target"),
        ]
        .map(|line| line + "\n")
        .concat(),
    );
}

#[test]
fn timeslices_need_a_slice_length_and_target() {
    check_objectives(
        &slo("  timeWindow:
    - duration: 28d
      isRolling: true
  budgetingMethod: Timeslices
  objectives:
    - target: 0.99
"),
        expect![[r#"
            error: slo.yaml:27:7: spec.objectives[0].timeSliceWindow: timeSliceWindow is missing: the Timeslices budgeting method needs the slice length, such as 1m
            slo.yaml:27:7: spec.objectives[0].timeSliceTarget: timeSliceTarget is missing: the Timeslices budgeting method needs the share a slice must reach to be good, such as 0.95"#]],
    );
}

#[test]
fn ratio_timeslices_ignore_the_slice_target() {
    check_objectives(
        &slo("  timeWindow:
    - duration: 1d
      isRolling: true
  budgetingMethod: RatioTimeslices
  objectives:
    - target: 0.99
      timeSliceWindow: 1h
      timeSliceTarget: 0.5
"),
        expect![[r#"
            availability:
              # SLO checkout
              - name: checkout
                target: 99
                window: rolling 1d
                method: ratio_timeslices
                timeslice: 1h
                source: requests:checkout-ok
        "#]],
    );
}

#[test]
fn threshold_metrics_are_refused_for_want_of_a_unit() {
    check(
        "apiVersion: openslo/v1
kind: SLO
metadata:
  name: search
spec:
  service: shop
  indicator:
    metadata:
      name: search-latency
    spec:
      thresholdMetric:
        metricSource:
          type: Prometheus
          spec:
            query: p95
  timeWindow:
    - duration: 28d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - op: lte
      value: 0.3
      target: 0.95
",
        expect![[
            r#"error: slo.yaml:22:14: spec.objectives[0].value: value 0.3 of threshold metric search-latency has no unit in OpenSLO, so it cannot become an Accord latency threshold safely: the importer reads ratio metrics (good/total, bad/total or raw); write this one by hand as a latency objective with percentile: 95 and the threshold in its unit"#
        ]],
    );
}

#[test]
fn lower_is_better_ops_on_ratio_metrics_are_refused() {
    check_objectives(
        &slo("  timeWindow:
    - duration: 28d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - op: lt
      target: 0.99
"),
        expect![
            "error: slo.yaml:27:11: spec.objectives[0].op: op lt on ratio metric checkout-ok would make a lower good share better: ratio objectives are met when the good share reaches the target (use gte, gt or no op)"
        ],
    );
}

#[test]
fn indicator_ref_finds_an_sli_anywhere_in_the_file() {
    let text = "- apiVersion: openslo/v1
  kind: SLO
  metadata:
    name: Login
  spec:
    service: accounts
    indicatorRef: login-errors
    timeWindow:
      - duration: 7d
        isRolling: true
    budgetingMethod: Occurrences
    objectives:
      - target: 0.999
- apiVersion: openslo/v1
  kind: SLI
  metadata:
    name: login-errors
  spec:
    ratioMetric:
      counter: true
      bad:
        metricSource:
          type: Datadog
          spec:
            query: errors
      total:
        metricSource:
          type: Datadog
          spec:
            query: all
- apiVersion: openslo/v1
  kind: SLI
  metadata:
    name: unused
  spec:
    ratioMetric:
      rawType: failure
      raw:
        metricSource:
          type: Datadog
          spec:
            query: ratio
";
    check_objectives(
        text,
        expect![[r#"
            availability:
              # SLO Login
              - name: login
                target: 99.9
                window: rolling 7d
                method: requests
                source: requests:login-errors
        "#]],
    );
    check_notes(
        text,
        expect![[r#"
            [0].metadata.name "Login" became "login": Accord names are lowercase letters, digits and '-', at most 63 characters
            source requests:login-errors stands for the SLI's bad and total queries (good = total - bad): metric queries are not imported, so feed Accord that source
            SLI unused is not used by an SLO in this file and is not imported: Accord has no SLI documents
            the file defines no Service accounts, which its SLOs name: added a Service document with only the name (drop it if another file defines the service)"#]],
    );
}

#[test]
fn raw_ratios_become_metric_sources() {
    let text = slo("  timeWindow:
    - duration: 28d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.99
")
    .replace(
        "        good:
          metricSource:
            type: Prometheus
            spec:
              query: good
        total:",
        "        rawType: failure
        raw:",
    );
    check_objectives(
        &text,
        expect![[r#"
            availability:
              # SLO checkout
              - name: checkout
                target: 99
                window: rolling 28d
                method: requests
                source: metric:checkout-ok
        "#]],
    );
    check_notes(
        &text,
        expect![[r#"
            source metric:checkout-ok stands for the SLI's precomputed failure ratio (Accord expects the good share: 1 - ratio): metric queries are not imported, so feed Accord that source
            the file defines no Service shop, which its SLOs name: added a Service document with only the name (drop it if another file defines the service)"#]],
    );
}

#[test]
fn slos_of_one_service_share_an_agreement_with_unique_names() {
    let second = slo("  timeWindow:
    - duration: 28d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - displayName: Fast lane
      target: 0.99
    - displayName: Slow lane
      target: 0.9
");
    let text = format!(
        "{}---\n{}",
        slo("  timeWindow:
    - duration: 28d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.999
")
        .replace("name: checkout\n", "name: checkout-fast-lane\n"),
        second
    );
    check_objectives(
        &text,
        expect![[r#"
            availability:
              # SLO checkout-fast-lane
              - name: checkout-fast-lane
                target: 99.9
                window: rolling 28d
                method: requests
                source: requests:checkout-ok
              # SLO checkout, objective "Fast lane"
              - name: checkout-fast-lane-2
                target: 99
                window: rolling 28d
                method: requests
                source: requests:checkout-ok
              # SLO checkout, objective "Slow lane"
              - name: checkout-slow-lane
                target: 90
                window: rolling 28d
                method: requests
                source: requests:checkout-ok
        "#]],
    );
}

#[test]
fn composite_objectives_stand_alone() {
    let text = "apiVersion: openslo/v1
kind: SLO
metadata:
  name: journey
spec:
  service: shop
  timeWindow:
    - duration: 28d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - displayName: Browse
      target: 0.99
      compositeWeight: 2
      indicatorRef: browse-ok
    - displayName: Pay
      target: 0.999
      indicator:
        metadata:
          name: pay-ok
        spec:
          ratioMetric:
            good: {metricSource: {type: Any, spec: {}}}
            total: {metricSource: {type: Any, spec: {}}}
---
apiVersion: openslo/v1
kind: SLI
metadata:
  name: browse-ok
spec:
  ratioMetric:
    good: {metricSource: {type: Any, spec: {}}}
    total: {metricSource: {type: Any, spec: {}}}
";
    check_objectives(
        text,
        expect![[r#"
            availability:
              # SLO journey, objective "Browse"
              - name: journey-browse
                target: 99
                window: rolling 28d
                method: requests
                source: requests:browse-ok
              # SLO journey, objective "Pay"
              - name: journey-pay
                target: 99.9
                window: rolling 28d
                method: requests
                source: requests:pay-ok
        "#]],
    );
    check_notes(
        text,
        expect![[r#"
            SLO journey: spec.objectives[0].compositeWeight 2 is not imported: Accord has no composite objectives, so each objective stands alone
            source requests:browse-ok stands for the SLI's good and total queries: metric queries are not imported, so feed Accord that source
            source requests:pay-ok stands for the SLI's good and total queries: metric queries are not imported, so feed Accord that source
            the file defines no Service shop, which its SLOs name: added a Service document with only the name (drop it if another file defines the service)"#]],
    );
}

#[test]
fn a_defined_service_is_not_added_again() {
    let text = format!(
        "apiVersion: openslo/v1
kind: Service
metadata:
  name: shop
spec: {{}}
---
{}",
        slo("  timeWindow:
    - duration: 28d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.99
")
    );
    let imported = import_and_load(&text).unwrap();
    assert_eq!(imported.yaml.matches("kind: Service").count(), 1);
    assert!(!imported.notes.iter().any(|note| note.contains("added a Service")));
}

#[test]
fn percentages_are_exact_decimals() {
    assert_eq!(decimal_to_percent("0.995", 2).as_deref(), Some("99.5"));
    assert_eq!(decimal_to_percent("0.9995", 2).as_deref(), Some("99.95"));
    assert_eq!(decimal_to_percent("0.1", 2).as_deref(), Some("10"));
    assert_eq!(decimal_to_percent("0.07", 2).as_deref(), Some("7"));
    assert_eq!(decimal_to_percent("0.00000001", 2).as_deref(), Some("0.000001"));
    assert_eq!(decimal_to_percent("1", 2).as_deref(), Some("100"));
    assert_eq!(decimal_to_percent("99.90", 0).as_deref(), Some("99.9"));
    assert_eq!(decimal_to_percent("100", 0).as_deref(), Some("100"));
    for bad in ["1.01", "-0.5", "0.000000001", "100.5", "inf", "NaN", ""] {
        assert_eq!(decimal_to_percent(bad, 2), None, "{bad}");
    }
}

#[test]
fn strings_are_quoted_only_when_yaml_would_misread_them() {
    let cases = [
        "web-shop",
        "Time when our service was running.",
        "X% of search requests are successful",
        "requests:web",
        "America/New_York",
        "1st",
        "true",
        "No",
        "a: b",
        "trailing ",
        "# comment",
        "one, two",
        "line\nbreak \"quoted\" \\",
        "",
    ];
    expect![[r##"
        web-shop
        Time when our service was running.
        X% of search requests are successful
        requests:web
        America/New_York
        "1st"
        "true"
        "No"
        "a: b"
        "trailing "
        "# comment"
        "one, two"
        "line\nbreak \"quoted\" \\"
        ""
    "##]]
    .assert_eq(&cases.map(|case| yaml_string(case) + "\n").concat());
}

#[test]
fn written_strings_read_back_unchanged() {
    let awkward = [
        "Shop: web & app",
        "# not a comment",
        "say \"hi\"",
        "back\\slash",
        "two\nlines",
        "tab\there",
        "- a dash",
        "[brackets], {braces}",
        "yes",
        "0.995",
        "2022-01-01",
        "@at",
        "Zürich ünïcödé",
        " leading space",
        "key: value",
    ];
    let yaml: String = awkward
        .iter()
        .enumerate()
        .map(|(case_idx, case)| {
            format!("k{case_idx}: {}\nf{case_idx}: [{}]\n", yaml_string(case), yaml_string(case))
        })
        .collect();
    let read: serde_json::Value = serde_saphyr::from_str(&yaml).unwrap();
    for (case_idx, case) in awkward.iter().enumerate() {
        assert_eq!(read[format!("k{case_idx}")], serde_json::json!(case), "{yaml}");
        assert_eq!(read[format!("f{case_idx}")], serde_json::json!([case]), "{yaml}");
    }
}

#[test]
fn duplicate_slo_names_are_errors() {
    let one = slo("  timeWindow:
    - duration: 28d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.99
");
    check(
        &format!("{one}---\n{one}"),
        expect![[
            r#"error: slo.yaml:32:9: metadata.name: duplicate SLO name "checkout": line 4 has it already"#
        ]],
    );
}
