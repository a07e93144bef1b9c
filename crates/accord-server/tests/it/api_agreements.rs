//! The agreements API over real HTTP on every backend: applying documents (the examples, a
//! change to one agreement, documents with errors), reading agreements and their history, the
//! semantic diff, lifecycle transitions, effective terms, and what each role may see and do.

use std::path::Path;

use serde_json::{Value, json};

use crate::http::{Reply, Server, token};
use crate::{backends, workspace};

impl Reply {
    /// Asserts the status, showing the body when it differs, and returns the JSON body.
    #[track_caller]
    fn expect(&self, status: u16) -> Value {
        assert_eq!(self.status, status, "{}", self.body);
        self.json()
    }
}

/// One request with a bearer token and a body of `content_type`.
fn request(
    api: &Server,
    method: &str,
    path: &str,
    token: &str,
    content_type: &str,
    body: &str,
) -> Reply {
    let bearer = format!("Bearer {token}");
    api.send(
        method,
        path,
        &[("Authorization", &bearer), ("Content-Type", content_type)],
        body.as_bytes(),
    )
}

fn post_yaml(api: &Server, path: &str, token: &str, yaml: &str) -> Reply {
    request(api, "POST", path, token, "text/yaml", yaml)
}

/// Moves a revision through `actions`, each of which must succeed.
#[track_caller]
fn advance(api: &Server, token: &str, name: &str, revision: u32, actions: &[&str]) {
    for action in actions {
        api.post(
            &format!("/api/v1/agreements/{name}/lifecycle"),
            token,
            &json!({ "action": action, "revision": revision }),
        )
        .expect(200);
    }
}

/// The names of the agreements `token` sees.
fn agreement_names(api: &Server, token: &str) -> Vec<String> {
    let listed = api.get("/api/v1/agreements", token).expect(200);
    listed["agreements"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|agreement| agreement["name"].as_str().expect("a name").to_owned())
        .collect()
}

/// Every file under `dir` with its path relative to `root`, in path order.
fn files_under(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|entry| entry.expect("entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files_under(root, &path, out);
        } else {
            let relative = path.strip_prefix(root).expect("under root").display().to_string();
            out.push((relative, std::fs::read_to_string(&path).expect("read")));
        }
    }
}

/// `examples/` as one apply request: every YAML file as a document, and the calendars'
/// holiday files by the names the calendars give them.
pub(crate) fn examples_request() -> Value {
    let root = workspace().join("examples");
    let mut files = Vec::new();
    files_under(&root, &root, &mut files);
    let documents: Vec<Value> = files
        .iter()
        .filter(|(path, _)| path.ends_with(".yaml"))
        .map(|(path, text)| json!({ "path": path, "text": text }))
        .collect();
    let holidays: serde_json::Map<String, Value> = files
        .iter()
        .filter(|(path, _)| path.ends_with(".ics"))
        .map(|(path, text)| (path.trim_start_matches("calendars/").to_owned(), json!(text)))
        .collect();
    json!({ "documents": documents, "files": holidays, "message": "initial" })
}

fn example(path: &str) -> String {
    std::fs::read_to_string(workspace().join("examples").join(path)).expect("an example")
}

/// acme-sla with its P1 resolution target at 90 minutes instead of 2 hours.
pub(crate) fn faster_acme_sla() -> String {
    let text = example("agreements/acme-sla.yaml");
    let old = "resolution:\n      P1: { target: 2h, calendar: 24x7 }";
    assert_eq!(text.matches(old).count(), 1, "acme-sla sets the P1 resolution target once");
    text.replace(old, "resolution:\n      P1: { target: 90m, calendar: 24x7 }")
}

/// The values of `key` in each object of the array `value`.
fn each(value: &Value, key: &str) -> Vec<Value> {
    value.as_array().expect("an array").iter().map(|item| item[key].clone()).collect()
}

#[test]
fn the_examples_applied_through_the_api_come_back_and_unchanged_documents_record_nothing() {
    for backend in backends("api_agreements_apply") {
        let editor = token(&backend, "editor", "agent", &[]);
        let api = Server::start(&backend);

        let applied =
            api.post("/api/v1/agreements/apply", &editor, &examples_request()).expect(200);
        let documents = &applied["documents"];
        assert_eq!(documents.as_array().map(Vec::len), Some(20), "{applied}");
        assert!(each(documents, "change").iter().all(|change| change == "created"), "{applied}");
        assert!(each(documents, "revision").iter().all(|revision| revision == 1), "{applied}");
        assert_eq!(
            (applied["changed"].clone(), applied["unchanged"].clone()),
            (json!(20), json!(0))
        );

        let listed = api.get("/api/v1/agreements", &editor).expect(200);
        let agreements = &listed["agreements"];
        assert_eq!(
            each(agreements, "name"),
            [
                "acme-sla",
                "corporate-sla",
                "globex-apac-sla",
                "globex-cloud-hosting-sla",
                "hostico-uc",
                "service-desk-ola"
            ]
        );
        assert!(each(agreements, "latestState").iter().all(|state| state == "draft"), "{listed}");
        assert!(each(agreements, "activeRevision").iter().all(Value::is_null), "{listed}");

        let acme = api.get("/api/v1/agreements/acme-sla", &editor).expect(200);
        assert_eq!(acme["revision"], 1);
        assert_eq!(acme["document"]["metadata"]["name"], "acme-sla");
        assert_eq!(acme["document"]["spec"]["parties"]["customer"], "acme");
        let first = &acme["history"][0];
        assert_eq!(
            (&first["author"], &first["message"], &first["state"]),
            (&json!("token:editor"), &json!("initial"), &json!("draft"))
        );
        assert_eq!(first["source"]["path"], "agreements/acme-sla.yaml");
        assert_eq!(first["transitions"][0]["to"], "draft");

        // The same documents again record nothing.
        let again = api.post("/api/v1/agreements/apply", &editor, &examples_request()).expect(200);
        assert!(each(&again["documents"], "change").iter().all(|c| c == "unchanged"), "{again}");
        assert_eq!((again["changed"].clone(), again["unchanged"].clone()), (json!(0), json!(20)));

        // One changed agreement alone, as YAML: checked against the stored catalog it refers to.
        let path = "/api/v1/agreements/apply?message=faster%20P1&path=agreements/acme-sla.yaml";
        let second = post_yaml(&api, path, &editor, &faster_acme_sla()).expect(200);
        assert_eq!(
            second["documents"],
            json!([{"kind": "Agreement", "name": "acme-sla", "change": "updated", "revision": 2}])
        );
        let acme = api.get("/api/v1/agreements/acme-sla", &editor).expect(200);
        assert_eq!(
            (acme["revision"].clone(), acme["latestRevision"].clone()),
            (json!(2), json!(2))
        );
        assert_eq!(acme["history"][1]["message"], "faster P1");
        let resolution = &acme["document"]["spec"]["objectives"]["resolution"]["P1"]["target"];
        assert_eq!(resolution, "90m");
        let old = api.get("/api/v1/agreements/acme-sla?revision=1", &editor).expect(200);
        assert_eq!(old["document"]["spec"]["objectives"]["resolution"]["P1"]["target"], "2h");

        // The semantic diff, as `accord diff` computes it.
        let diff = api.get("/api/v1/agreements/acme-sla/diff?from=1&to=2", &editor).expect(200);
        assert_eq!(
            diff["changes"],
            json!([{"label": "P1 resolution", "old": "2h", "new": "1h30m",
                    "text": "P1 resolution: 2h to 1h30m"}])
        );
        assert_eq!(
            (diff["from"]["revision"].clone(), diff["to"]["revision"].clone()),
            (json!(1), json!(2))
        );
        let missing = api.get("/api/v1/agreements/acme-sla/diff?from=1&to=9", &editor).expect(404);
        assert_eq!(missing["error"]["field"], "to");
        assert!(
            missing["error"]["message"].as_str().unwrap_or("").contains("(latest is 2)"),
            "{missing}"
        );
        let bad = api.get("/api/v1/agreements/acme-sla/diff?from=one&to=2", &editor).expect(400);
        assert_eq!(bad["error"]["field"], "from");
        let absent = api.get("/api/v1/agreements/acme-sla/diff?to=2", &editor).expect(400);
        assert_eq!(absent["error"]["field"], "from");
        api.get("/api/v1/agreements/nobody-sla", &editor).expect(404);
        api.get("/api/v1/agreements/nobody-sla/diff?from=1&to=2", &editor).expect(404);
    }
}

#[test]
fn documents_with_errors_are_refused_with_every_error_and_nothing_is_written() {
    for backend in backends("api_agreements_invalid") {
        let editor = token(&backend, "editor", "agent", &[]);
        let api = Server::start(&backend);

        // Three documents, three problems: a bad value, a misspelt field and broken YAML.
        let customers = example("catalog/customers.yaml").replacen(
            "timeZone: Europe/Berlin",
            "timeZone: Europe/Munich",
            1,
        );
        let corporate = example("agreements/corporate-sla.yaml")
            .replace("    reopen: resume", "    reopen: resume\n    pausOn: [waiting_on_customer]");
        let broken = "apiVersion: accord/v1\nkind: Service\nmetadata: { name: [unclosed\n";
        let yaml = format!("{customers}---\n{corporate}---\n{broken}");
        let line_of =
            |needle: &str| yaml.lines().position(|line| line.contains(needle)).unwrap() + 1;
        let refused = post_yaml(&api, "/api/v1/agreements/apply?path=catalog.yaml", &editor, &yaml)
            .expect(400);
        let error = &refused["error"];
        assert_eq!(
            (&error["code"], &error["field"]),
            (&json!("invalid_documents"), &json!("body"))
        );
        assert_eq!(error["message"], "3 errors: nothing was applied");
        assert_eq!(
            each(&error["errors"], "text"),
            [
                format!(
                    "catalog.yaml:{}:13: spec.timeZone: unknown time zone \"Europe/Munich\": expected an IANA name such as Europe/Berlin",
                    line_of("Europe/Munich")
                ),
                format!(
                    "catalog.yaml:{}:5: spec.objectives.pausOn: unknown field \"pausOn\": expected one of calendar, hours, pauseOn, reopen, response, nextResponse, resolution, update, request, availability, latency, compliance",
                    line_of("pausOn")
                ),
                format!("catalog.yaml:{}:19: unclosed bracket '['", line_of("[unclosed")),
            ]
        );
        let first = &error["errors"][0];
        assert_eq!(
            (&first["file"], &first["line"], &first["field"]),
            (&json!("catalog.yaml"), &json!(line_of("Europe/Munich")), &json!("spec.timeZone"))
        );

        // Documents that load but do not check: an agreement whose customer, calendars and
        // services are not stored.
        let alone = api
            .post(
                "/api/v1/agreements/apply",
                &editor,
                &json!({"documents": example("agreements/acme-sla.yaml"), "path": "acme-sla.yaml"}),
            )
            .expect(400);
        let error = &alone["error"];
        assert_eq!(error["field"], "documents");
        let texts = each(&error["errors"], "text");
        assert!(
            texts.iter().any(|text| {
                let text = text.as_str().unwrap();
                text.starts_with("acme-sla.yaml:") && text.contains("unknown customer \"acme\"")
            }),
            "{alone}"
        );
        assert!(alone["error"]["message"].as_str().unwrap().ends_with("nothing was applied"));

        // Nothing of either request was written.
        assert!(agreement_names(&api, &editor).is_empty());

        // Requests that are not documents at all.
        let empty = post_yaml(&api, "/api/v1/agreements/apply", &editor, "# nothing\n").expect(400);
        assert_eq!(empty["error"]["field"], "body");
        let unknown = api
            .post("/api/v1/agreements/apply", &editor, &json!({"documents": "", "author": "x"}))
            .expect(400);
        assert_eq!(unknown["error"]["field"], "author");
        let item = api
            .post("/api/v1/agreements/apply", &editor, &json!({"documents": [{"path": "a.yaml"}]}))
            .expect(400);
        assert_eq!(item["error"]["field"], "documents[0].text");
        let form = request(
            &api,
            "POST",
            "/api/v1/agreements/apply",
            &editor,
            "application/x-www-form-urlencoded",
            "kind=Agreement",
        );
        assert_eq!(form.expect(415)["error"]["field"], "Content-Type");
        let not_json =
            request(&api, "POST", "/api/v1/agreements/apply", &editor, "application/json", "{");
        assert_eq!(not_json.expect(400)["error"]["code"], "invalid_body");
        assert!(agreement_names(&api, &editor).is_empty());
    }
}

#[test]
fn lifecycle_transitions_and_effective_terms_over_the_api() {
    for backend in backends("api_agreements_lifecycle") {
        let editor = token(&backend, "editor", "agent", &[]);
        let api = Server::start(&backend);
        api.post("/api/v1/agreements/apply", &editor, &examples_request()).expect(200);

        // No revision is active yet: no terms.
        let none =
            api.get("/api/v1/terms?customer=acme&service=cloud-hosting", &editor).expect(404);
        assert!(none["error"]["message"].as_str().unwrap().contains("no SLA in force"), "{none}");

        let submitted = api
            .post(
                "/api/v1/agreements/acme-sla/lifecycle",
                &editor,
                &json!({"action": "submit", "note": "ready for review"}),
            )
            .expect(200);
        assert_eq!(
            (submitted["revision"].clone(), submitted["state"].clone()),
            (json!(1), json!("in_review"))
        );
        let recorded = &submitted["recorded"][0];
        assert_eq!(
            (&recorded["from"], &recorded["to"], &recorded["actor"], &recorded["note"]),
            (
                &json!("draft"),
                &json!("in_review"),
                &json!("token:editor"),
                &json!("ready for review")
            )
        );
        advance(&api, &editor, "acme-sla", 1, &["approve", "activate"]);
        advance(&api, &editor, "corporate-sla", 1, &["submit", "approve", "activate"]);
        let acme = api.get("/api/v1/agreements/acme-sla", &editor).expect(200);
        assert_eq!(
            (acme["latestState"].clone(), acme["activeRevision"].clone()),
            (json!("active"), json!(1))
        );

        // Refused transitions are conflicts that say why; bad requests name the field.
        let lifecycle = "/api/v1/agreements/acme-sla/lifecycle";
        let again = api.post(lifecycle, &editor, &json!({"action": "activate", "revision": 1}));
        let again = again.expect(409);
        assert_eq!(
            again["error"]["message"],
            "cannot activate revision 1: it is active; activate needs approved"
        );
        let unknown = api.post(lifecycle, &editor, &json!({"action": "publish"})).expect(400);
        assert_eq!(unknown["error"]["field"], "action");
        let missing =
            api.post(lifecycle, &editor, &json!({"action": "submit", "revision": 9})).expect(404);
        assert_eq!(missing["error"]["field"], "revision");
        let text =
            api.post(lifecycle, &editor, &json!({"action": "submit", "revision": "2"})).expect(400);
        assert_eq!(text["error"]["field"], "revision");
        api.post("/api/v1/agreements/nobody-sla/lifecycle", &editor, &json!({"action": "submit"}))
            .expect(404);

        // The terms in force now, each value with where it comes from.
        let terms_path = "/api/v1/terms?customer=acme&service=cloud-hosting&priority=P1";
        let terms = api.get(terms_path, &editor).expect(200);
        assert_eq!(each(&terms["agreements"], "name"), ["corporate-sla", "acme-sla"]);
        let resolution = terms["tickets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|ticket| ticket["objective"] == "P1 resolution")
            .unwrap_or_else(|| panic!("P1 resolution in {terms}"))
            .clone();
        assert_eq!(resolution["target"]["value"], "2h");
        assert_eq!(resolution["target"]["origin"]["file"], "agreements/acme-sla.yaml@1");
        assert_eq!(resolution["pauseOn"]["origin"]["file"], "agreements/corporate-sla.yaml@1");
        assert!(each(&terms["tickets"], "key").iter().all(|key| key == "P1"), "{terms}");

        // A new revision is a draft until it is activated; then it supersedes the first.
        let path = "/api/v1/agreements/apply?path=agreements/acme-sla.yaml";
        post_yaml(&api, path, &editor, &faster_acme_sla()).expect(200);
        let early = api.post(lifecycle, &editor, &json!({"action": "activate", "revision": 2}));
        assert!(
            early.expect(409)["error"]["message"]
                .as_str()
                .unwrap()
                .contains("cannot activate revision 2: it is draft"),
            "{}",
            early.body
        );
        advance(&api, &editor, "acme-sla", 2, &["submit", "approve", "activate"]);
        let acme = api.get("/api/v1/agreements/acme-sla", &editor).expect(200);
        assert_eq!(each(&acme["history"], "state"), ["superseded", "active"]);
        let terms = api.get(terms_path, &editor).expect(200);
        let resolution = terms["tickets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|ticket| ticket["objective"] == "P1 resolution")
            .unwrap()
            .clone();
        assert_eq!(resolution["target"]["value"], "1h30m");
        assert_eq!(resolution["target"]["origin"]["file"], "agreements/acme-sla.yaml@2");

        // Bad queries name the parameter.
        let no_service = api.get("/api/v1/terms?customer=acme", &editor).expect(400);
        assert_eq!(no_service["error"]["field"], "service");
        let bad_date =
            api.get("/api/v1/terms?customer=acme&service=cloud-hosting&at=soon", &editor);
        assert_eq!(bad_date.expect(400)["error"]["field"], "at");
        let unknown_service = api.get("/api/v1/terms?customer=acme&service=nothing", &editor);
        assert_eq!(unknown_service.expect(404)["error"]["field"], "service");
    }
}

#[test]
fn a_customer_sees_its_own_agreements_and_terms_and_only_staff_with_write_change_them() {
    for backend in backends("api_agreements_roles") {
        let editor = token(&backend, "editor", "agent", &[]);
        let viewer = token(&backend, "wallboard", "viewer", &[]);
        let acme = token(&backend, "acme-portal", "customer", &["--customer", "acme"]);
        let globex = token(&backend, "globex-portal", "customer", &["--customer", "globex"]);
        let api = Server::start(&backend);

        // Only staff with the write scope apply or move revisions.
        let request = examples_request();
        for reader in [&viewer, &acme] {
            let refused = api.post("/api/v1/agreements/apply", reader, &request).expect(403);
            assert_eq!(refused["error"]["code"], "forbidden");
        }
        assert!(agreement_names(&api, &editor).is_empty());
        api.post("/api/v1/agreements/apply", &editor, &request).expect(200);
        for reader in [&viewer, &acme] {
            api.post("/api/v1/agreements/acme-sla/lifecycle", reader, &json!({"action": "submit"}))
                .expect(403);
        }
        advance(&api, &editor, "acme-sla", 1, &["submit", "approve", "activate"]);
        advance(&api, &editor, "corporate-sla", 1, &["submit", "approve", "activate"]);

        // Staff read everything; a customer the SLAs that apply to it, the corporate one too.
        assert_eq!(agreement_names(&api, &viewer).len(), 6);
        assert_eq!(agreement_names(&api, &acme), ["acme-sla", "corporate-sla"]);
        assert_eq!(
            agreement_names(&api, &globex),
            ["corporate-sla", "globex-apac-sla", "globex-cloud-hosting-sla"]
        );
        api.get("/api/v1/agreements/acme-sla", &acme).expect(200);
        api.get("/api/v1/agreements/corporate-sla", &acme).expect(200);
        api.get("/api/v1/agreements/acme-sla/diff?from=1&to=1", &acme).expect(200);

        // Another customer's agreement, and the provider's own contracts, are not found, just
        // like an agreement that does not exist.
        let unknown = api.get("/api/v1/agreements/nobody-sla", &acme).expect(404);
        for hidden in ["globex-apac-sla", "hostico-uc", "service-desk-ola"] {
            let reply = api.get(&format!("/api/v1/agreements/{hidden}"), &acme).expect(404);
            assert_eq!(
                reply["error"]["message"],
                json!(unknown["error"]["message"].as_str().unwrap().replace("nobody-sla", hidden))
            );
            api.get(&format!("/api/v1/agreements/{hidden}/diff?from=1&to=1"), &acme).expect(404);
        }
        api.get("/api/v1/agreements/acme-sla", &globex).expect(404);

        // Terms: its own customer only.
        let own = api.get("/api/v1/terms?customer=acme&service=cloud-hosting", &acme).expect(200);
        assert_eq!(own["customer"], "acme");
        let foreign = api.get("/api/v1/terms?customer=globex&service=cloud-hosting", &acme);
        let foreign = foreign.expect(404);
        assert_eq!(foreign["error"]["field"], "customer");
        assert!(!foreign.to_string().contains("Globex Logistics"), "{foreign}");
        api.get("/api/v1/terms?customer=acme&service=cloud-hosting", &globex).expect(404);
        api.get("/api/v1/terms?customer=acme&service=cloud-hosting", &viewer).expect(200);
    }
}
