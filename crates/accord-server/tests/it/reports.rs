//! Compliance reports over real HTTP and through the binary, on every backend: a hand-worked
//! month (availability tier, a P1 breach penalty, the cap), every format, the evidence (a
//! recompute from the recorded log position gives identical bytes; Ed25519 signatures checked
//! by `accord report verify`), satisfaction and the watermelon flag, and what a customer may
//! see.

use std::path::Path;

use serde_json::{Value, json};

use crate::backends;
use crate::http::{Reply, Server, token};

const DOCUMENTS: &str = r"apiVersion: accord/v1
kind: Calendar
metadata: { name: always }
spec: { timeZone: UTC, hours: 24x7 }
---
apiVersion: accord/v1
kind: Service
metadata: { name: hosting }
spec: { components: [{ name: web }] }
---
apiVersion: accord/v1
kind: Customer
metadata: { name: acme }
spec: { timeZone: UTC, legalName: Acme Corporation }
---
apiVersion: accord/v1
kind: Customer
metadata: { name: globex }
spec: { timeZone: UTC }
---
apiVersion: accord/v1
kind: Agreement
metadata: { name: sla }
spec:
  type: sla
  level: corporate
  parties: { provider: Northwind }
  term: { effectiveFrom: 2026-01-01, timeZone: UTC, review: { next: 2030-06-01 } }
  pricing: { monthlyFee: 1000000, currency: EUR }
  objectives:
    calendar: always
    response:
      P1: { target: 30m }
    resolution:
      P1: { target: 2h }
    availability:
      - name: uptime
        service: hosting
        target: 99.9
        window: month
        source: incidents
  credits:
    availability:
      objective: uptime
      tiers:
        - { below: 99.9, credit: 10% }
        - { below: 99.0, credit: 25% }
    breaches:
      P1: 5%
    cap: 30%
    claimWindowDays: 30
";

/// September 2026: a two-hour major incident and one P1 ticket resolved an hour late, one in
/// time; October: nothing wrong but three unhappy ratings.
fn events() -> Value {
    let event = |id: &str, ticket: &str, kind: &str, at: &str, extra: Value| {
        let mut event = json!({ "v": 1, "id": id, "ticket": ticket, "type": kind, "at": at });
        for (key, value) in extra.as_object().expect("an object") {
            event[key] = value.clone();
        }
        event
    };
    let created = json!({ "customer": "acme", "service": "hosting", "priority": "P1" });
    let public = json!({ "author": "agent", "public": true });
    json!([
        event("a1", "T-1", "created", "2026-09-15T09:00:00Z", created.clone()),
        event("a2", "T-1", "comment", "2026-09-15T09:10:00Z", public.clone()),
        event("a3", "T-1", "solved", "2026-09-15T12:00:00Z", json!({})),
        event(
            "a4",
            "T-1",
            "rating",
            "2026-09-16T08:00:00Z",
            json!({ "score": 2, "comment": "too slow" })
        ),
        event("b1", "T-2", "created", "2026-09-16T09:00:00Z", created.clone()),
        event("b2", "T-2", "comment", "2026-09-16T09:05:00Z", public.clone()),
        event("b3", "T-2", "solved", "2026-09-16T10:00:00Z", json!({})),
        event("c1", "T-3", "created", "2026-10-05T09:00:00Z", created.clone()),
        event("c2", "T-3", "comment", "2026-10-05T09:05:00Z", public.clone()),
        event("c3", "T-3", "solved", "2026-10-05T10:00:00Z", json!({})),
        event("c4", "T-3", "rating", "2026-10-05T12:00:00Z", json!({ "score": 2 })),
        event("d1", "T-4", "created", "2026-10-06T09:00:00Z", created.clone()),
        event("d2", "T-4", "comment", "2026-10-06T09:05:00Z", public.clone()),
        event("d3", "T-4", "solved", "2026-10-06T10:00:00Z", json!({})),
        event(
            "d4",
            "T-4",
            "rating",
            "2026-10-06T12:00:00Z",
            json!({ "score": 3, "comment": "it works, but nobody told us anything" })
        ),
        event("e1", "T-5", "created", "2026-10-07T09:00:00Z", created),
        event("e2", "T-5", "comment", "2026-10-07T09:05:00Z", public),
        event("e3", "T-5", "solved", "2026-10-07T10:00:00Z", json!({})),
        event("e4", "T-5", "rating", "2026-10-07T12:00:00Z", json!({ "score": "bad" })),
    ])
}

#[track_caller]
fn expect(reply: &Reply, status: u16) -> Value {
    assert_eq!(reply.status, status, "{}", reply.body);
    reply.json()
}

/// Applies the documents and activates the agreement as of 1 January (a contract onboarded
/// with its history), then records September's incident and the tickets.
pub(crate) fn set_up(api: &Server, backend: &crate::Backend, editor: &str) {
    set_up_with(api, backend, editor, DOCUMENTS);
}

/// [`set_up`] with other documents.
fn set_up_with(api: &Server, backend: &crate::Backend, editor: &str, text: &str) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let documents = dir.path().join("sla.yaml");
    write(&documents, text.as_bytes());
    let since = "2026-01-01T00:00:00Z".to_owned();
    let mut apply = vec!["apply".to_owned(), documents.display().to_string()];
    apply.extend(["--backdate".to_owned(), since.clone()]);
    apply.extend(backend.flags());
    let (ok, _, stderr) = accord(&apply);
    assert!(ok, "{stderr}");
    for action in ["submit", "approve", "activate"] {
        let mut lifecycle = vec!["lifecycle".to_owned(), "sla".to_owned(), action.to_owned()];
        lifecycle.extend(["--backdate".to_owned(), since.clone()]);
        lifecycle.extend(backend.flags());
        let (ok, _, stderr) = accord(&lifecycle);
        assert!(ok, "{stderr}");
    }
    let incident = json!({
        "id": "INC-7", "start": "2026-09-10T10:00:00Z", "end": "2026-09-10T12:00:00Z",
        "affected": ["hosting"], "impact": "major", "cause": "Storage array failure",
        "rootCause": "firmware bug in the array controller",
    });
    expect(&api.post("/api/v1/incidents", editor, &incident), 200);
    expect(&api.post("/api/v1/events", editor, &events()), 200);
}

fn header<'a>(reply: &'a Reply, name: &str) -> &'a str {
    reply.header(name).unwrap_or_else(|| panic!("header {name} in {}", reply.head))
}

#[test]
fn a_hand_worked_month_gives_its_credits_in_every_format() {
    for backend in backends("reports_month") {
        let api = Server::start(&backend);
        let editor = token(&backend, "editor", "agent", &[]);
        set_up(&api, &backend, &editor);

        let report = expect(&api.get("/api/v1/reports?customer=acme&period=2026-09", &editor), 200);
        let acme = &report["customers"][0];
        assert_eq!(acme["displayName"], "Acme Corporation");
        // 7,200 s down of 2,592,000: 99.7222 %, below 99.9 %.
        let uptime = &acme["availability"][0];
        assert_eq!(
            (&uptime["actual"], &uptime["met"], &uptime["downtimeSeconds"]),
            (&json!("99.7222%"), &json!(false), &json!(7200)),
            "{uptime}"
        );
        assert_eq!(uptime["daily"].as_array().expect("days").len(), 30);
        assert_eq!(uptime["daily"][9], json!({ "date": "2026-09-10", "availability": 91.6666 }));
        assert_eq!(acme["incidents"][0]["rootCause"], "firmware bug in the array controller");
        // T-1 breached its two-hour resolution at 11:00.
        let breaches = acme["breaches"].as_array().expect("breaches");
        assert_eq!(breaches.len(), 1, "{breaches:?}");
        assert_eq!(
            (&breaches[0]["ticket"], &breaches[0]["metric"], &breaches[0]["breachedAt"]),
            (&json!("T-1"), &json!("resolution"), &json!("2026-09-15T11:00:00Z"))
        );
        let resolution = acme["tickets"]
            .as_array()
            .expect("tickets")
            .iter()
            .find(|row| row["metric"] == "resolution")
            .expect("a resolution row");
        assert_eq!((&resolution["decided"], &resolution["met"]), (&json!(2), &json!(1)));
        // 10 % of 10,000.00 EUR for the tier, 5 % for the P1 breach: 1,500.00 EUR, under the
        // 30 % cap; claimable for 30 days after the month.
        let credits = &acme["credits"][0];
        let amounts: Vec<&Value> =
            credits["lines"].as_array().expect("lines").iter().map(|l| &l["amountMinor"]).collect();
        assert_eq!(amounts, [&json!(100_000), &json!(50_000)], "{credits}");
        assert_eq!(credits["totalMinor"], 150_000);
        assert_eq!(credits["total"], "1,500.00 EUR");
        assert_eq!(credits["claimBy"], "2026-10-30");
        assert_eq!(credits["lines"][0]["evidence"]["outages"][0]["countedSeconds"], 7200);
        assert_eq!(credits["lines"][1]["evidence"]["ticket"], "T-1");
        assert_eq!(credits["lines"][0]["revision"], "sla r1");
        assert_eq!(acme["creditTotals"], json!({ "EUR": 150_000 }));
        let ledger = expect(&api.get("/api/v1/credits?customer=acme&period=2026-09", &editor), 200);
        assert_eq!(ledger["customers"][0]["credits"][0]["totalMinor"], 150_000);
        // A quarter holds each month's statement.
        let quarter =
            expect(&api.get("/api/v1/reports?customer=acme&period=2026-Q3", &editor), 200);
        let months: Vec<&Value> = quarter["customers"][0]["credits"]
            .as_array()
            .expect("credits")
            .iter()
            .map(|c| &c["month"])
            .collect();
        assert_eq!(months, [&json!("2026-07"), &json!("2026-08"), &json!("2026-09")]);

        let csv = api.get("/api/v1/reports?customer=acme&period=2026-09&format=csv", &editor);
        assert_eq!(csv.status, 200);
        assert!(header(&csv, "content-type").starts_with("text/csv"));
        assert!(
            csv.body.contains("acme,credit total,hosting,2026-09,,\"1,500.00 EUR\""),
            "{}",
            csv.body
        );
        let html = api.get("/api/v1/reports?customer=acme&period=2026-09&format=html", &editor);
        assert_eq!(html.status, 200);
        assert!(html.body.contains("<svg"), "an SVG chart");
        assert!(html.body.contains("1,500.00 EUR"));
        assert!(html.body.contains("Acme Corporation"));
        let pdf = api.get("/api/v1/reports?customer=acme&period=2026-09&format=pdf", &editor);
        assert_eq!(header(&pdf, "content-type"), "application/pdf");
        assert!(pdf.bytes.starts_with(b"%PDF-"), "a PDF");
        assert!(header(&pdf, "content-disposition").contains("accord-acme-2026-09.pdf"));

        // The provider-wide report lists every customer.
        let all = expect(&api.get("/api/v1/reports?period=2026-09", &editor), 200);
        let names: Vec<&Value> =
            all["customers"].as_array().expect("customers").iter().map(|c| &c["name"]).collect();
        assert_eq!(names, [&json!("acme"), &json!("globex")]);

        for (query, field) in [
            ("period=2026-13", "period"),
            ("period=2026-09&format=docx", "format"),
            ("period=2026-09&position=99999", "position"),
            ("period=2026-09&asOf=yesterday", "asOf"),
        ] {
            let refused = expect(&api.get(&format!("/api/v1/reports?{query}"), &editor), 400);
            assert_eq!(refused["error"]["field"], field, "{query}");
        }
        expect(&api.get("/api/v1/reports?customer=initech&period=2026-09", &editor), 404);
    }
}

#[test]
fn satisfaction_sits_beside_compliance_and_a_green_sla_with_unhappy_customers_is_flagged() {
    for backend in backends("reports_watermelon") {
        let api = Server::start(&backend);
        let editor = token(&backend, "editor", "agent", &[]);
        set_up(&api, &backend, &editor);
        // October: every objective met, but ratings of 2, 3 stars and bad.
        let answer = expect(&api.get("/api/v1/watermelons?period=2026-10", &editor), 200);
        assert_eq!(answer["watermelons"].as_array().expect("flags").len(), 1, "{answer}");
        let flag = &answer["watermelons"][0];
        assert_eq!((&flag["customer"], &flag["service"]), (&json!("acme"), &json!("hosting")));
        assert!(flag["reason"].as_str().expect("text").contains("0%"), "{flag}");
        // September missed its availability: red is red, not a watermelon.
        let september = expect(&api.get("/api/v1/watermelons?period=2026-09", &editor), 200);
        assert_eq!(september["watermelons"], json!([]));
        let report = expect(&api.get("/api/v1/reports?customer=acme&period=2026-10", &editor), 200);
        let all = &report["customers"][0]["satisfaction"][0];
        assert_eq!(
            (&all["ratings"], &all["satisfied"], &all["csat"]),
            (&json!(3), &json!(0), &json!(0.0))
        );
        assert_eq!(all["meanStars"], 2.5);
        assert_eq!(all["trend"][1], json!({ "period": "2026-09", "csat": 0.0 }));
        let html = api.get("/api/v1/reports?customer=acme&period=2026-10&format=html", &editor);
        assert!(html.body.contains("Watermelon"), "the flag is shown");
        assert!(html.body.contains("nobody told us anything"), "comments are shown");
    }
}

#[test]
fn a_customer_gets_only_its_own_reports() {
    for backend in backends("reports_customers") {
        let api = Server::start(&backend);
        let editor = token(&backend, "editor", "agent", &[]);
        let acme = token(&backend, "acme-portal", "customer", &["--customer", "acme"]);
        let globex = token(&backend, "globex-portal", "customer", &["--customer", "globex"]);
        set_up(&api, &backend, &editor);
        let own = expect(&api.get("/api/v1/reports?period=2026-09", &acme), 200);
        assert_eq!(own["customer"], "acme");
        assert_eq!(own["customers"].as_array().expect("customers").len(), 1);
        expect(&api.get("/api/v1/reports?customer=acme&period=2026-09", &globex), 404);
        let theirs = expect(&api.get("/api/v1/credits?period=2026-09", &globex), 200);
        assert!(!theirs.to_string().contains("acme"), "{theirs}");
        expect(&api.get("/api/v1/reports?period=2026-09", ""), 401);
    }
}

/// Runs the binary, returning its exit status, stdout and stderr.
fn accord(args: &[String]) -> (bool, String, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(args)
        .env_remove("ACCORD_DATA")
        .env_remove("ACCORD_DATABASE")
        .output()
        .expect("accord runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).expect("write");
}

#[test]
fn a_report_recomputes_to_the_same_bytes_and_its_signature_verifies() {
    for backend in backends("reports_evidence") {
        let (ok, keygen, _) = accord(&["report".into(), "keygen".into()]);
        assert!(ok);
        let seed = keygen.split('"').nth(1).expect("a quoted seed").to_owned();
        let public = keygen.rsplit("public key: ").next().expect("a public key").trim().to_owned();
        let api = Server::start_with_env(
            &backend,
            "warn",
            false,
            &[("ACCORD_REPORT_SIGNING_KEY", seed.as_str()), ("ACCORD_REPORT_ISSUER", "Northwind")],
        );
        let editor = token(&backend, "editor", "agent", &[]);
        set_up(&api, &backend, &editor);
        let published = expect(&api.get("/.well-known/accord/report-signing-key", ""), 200);
        assert_eq!(published["publicKey"], public.as_str());

        let dir = tempfile::tempdir().expect("a temporary directory");
        for format in ["pdf", "html", "csv", "json"] {
            let path = format!("/api/v1/reports?customer=acme&period=2026-09&format={format}");
            let served = api.get(&path, &editor);
            assert_eq!(served.status, 200, "{}", served.body);
            let sha256 = header(&served, "x-accord-report-sha256").to_owned();
            let position = header(&served, "x-accord-log-position").to_owned();
            let as_of = header(&served, "x-accord-as-of").to_owned();
            if format == "html" {
                assert!(served.body.contains("Northwind"), "the issuer");
                assert!(served.body.contains(&format!("log position {position}")));
            }

            // Later events move the log on; the report recomputed at its position does not.
            let later = json!({ "v": 1, "id": format!("late-{format}"), "ticket": "T-9", "type": "created",
                "at": "2026-09-20T09:00:00Z", "customer": "acme", "service": "hosting", "priority": "P1" });
            expect(&api.post("/api/v1/events", &editor, &later), 200);
            let file = dir.path().join(format!("acme.{format}"));
            let mut args: Vec<String> =
                ["report", "--customer", "acme", "--period", "2026-09"].map(str::to_owned).into();
            args.extend([
                "--issuer".into(),
                "Northwind".into(),
                "--position".into(),
                position.clone(),
                "--as-of".into(),
                as_of.clone(),
                "-o".into(),
                file.display().to_string(),
            ]);
            args.extend(backend.flags());
            let (ok, _, stderr) = accord(&args);
            assert!(ok, "{stderr}");
            assert_eq!(std::fs::read(&file).expect("the report"), served.bytes, "{format}");
            assert!(stderr.contains(&format!("sha256 {sha256}")), "{stderr}");

            // The served signature verifies against the published key, and fails on a change.
            use base64::Engine as _;
            let signature = base64::engine::general_purpose::STANDARD
                .decode(header(&served, "x-accord-signature"))
                .expect("base64");
            write(&dir.path().join(format!("acme.{format}.sig")), &signature);
            let verify = |key: &str| {
                accord(&[
                    "report".into(),
                    "verify".into(),
                    file.display().to_string(),
                    "--key".into(),
                    key.to_owned(),
                ])
            };
            let (ok, stdout, stderr) = verify(&public);
            assert!(ok, "{stdout}{stderr}");
            assert!(stdout.contains(&format!("log position {position}")), "{stdout}");
            let mut changed = served.bytes.clone();
            let middle = changed.len() / 2;
            changed[middle] ^= 0x20;
            write(&file, &changed);
            let (ok, _, stderr) = verify(&public);
            assert!(!ok && stderr.contains("the report changed"), "{stderr}");
        }
        // A signature made with another key is refused when the provider's key is required.
        let (_, other, _) = accord(&["report".into(), "keygen".into()]);
        let other_public = other.rsplit("public key: ").next().expect("a key").trim().to_owned();
        let file = dir.path().join("acme.json");
        write(&file, &api.get("/api/v1/reports?customer=acme&period=2026-09", &editor).bytes);
        let (ok, _, stderr) = accord(&[
            "report".into(),
            "verify".into(),
            file.display().to_string(),
            "--key".into(),
            other_public,
        ]);
        assert!(!ok, "{stderr}");
    }
}

#[test]
fn a_request_based_objective_earns_its_availability_credit_too() {
    for backend in backends("reports_requests") {
        let api = Server::start(&backend);
        let editor = token(&backend, "editor", "agent", &[]);
        // The tier now rests on an API measured by good requests over all.
        let documents = DOCUMENTS
            .replace(
                "        source: incidents\n",
                "        source: incidents\n      - name: api\n        service: hosting\n        target: 99.9\n        window: month\n        method: requests\n        source: requests:api\n",
            )
            .replace("objective: uptime", "objective: api");
        set_up_with(&api, &backend, &editor, &documents);
        // 9,900 good requests of 10,000: 99 %, below 99.9 % but not below 99 %.
        let counts = json!([
            { "source": "api", "from": "2026-09-03T10:00:00Z", "to": "2026-09-03T10:05:00Z", "good": 4900, "total": 5000 },
            { "source": "api", "from": "2026-09-20T10:00:00Z", "to": "2026-09-20T10:05:00Z", "good": 5000, "total": 5000 },
        ]);
        expect(&api.post("/api/v1/request-counts", &editor, &counts), 200);
        let report = expect(&api.get("/api/v1/reports?customer=acme&period=2026-09", &editor), 200);
        let credits = &report["customers"][0]["credits"][0];
        let tier = &credits["lines"][0];
        assert_eq!(tier["kind"], "availability tier", "{credits}");
        assert_eq!(tier["evidence"]["availability"], "99.0000%", "{credits}");
        assert_eq!(tier["amountMinor"], 100_000, "{credits}");
        assert_eq!(credits["totalMinor"], 150_000, "{credits}");
    }
}
