//! The agreement pages: `GET /agreements` (the agreements a principal may see, with their
//! state, level, customer, term and next review), `GET /agreements/{name}` (effective terms
//! with where each value comes from, revision history, a diff between two revisions and the
//! lifecycle buttons) and `POST /agreements/{name}/lifecycle` (the buttons' form).
//!
//! The pages compute nothing of their own: they call the API's handlers in `agreements` and
//! `catalog` with the viewer's principal and render what those answer, so a page shows what
//! the API would, under the same rules (a customer sees only the SLAs that apply to it, and
//! another customer's agreement is a 404 page).

use accord_core::access::{Principal, Scope};
use accord_core::lifecycle::{Action, LifecycleState};
use askama::Template;
use axum::body::Bytes;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Path, Query, State};
use axum::http::header::{ACCEPT_LANGUAGE, AUTHORIZATION, COOKIE};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::AppState;
use super::agreements;
use super::auth::Auth;
use super::catalog;
use super::error::ApiError;
use super::nav::{Nav, html_response};
use super::page::{Page, percent_encode, see_other};
use super::session;
use crate::web::CSS;
use crate::web::i18n::{self, Lang};

/// What an API handler answered: its JSON, or its status and message.
pub(super) async fn json_of(answer: Result<Response, ApiError>) -> Result<Value, ApiError> {
    let response = answer?;
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .map_err(|error| ApiError::internal(&error))?;
    let value: Value =
        serde_json::from_slice(&bytes).map_err(|error| ApiError::internal(&error))?;
    if status.is_success() {
        Ok(value)
    } else {
        let message = value["error"]["message"].as_str().or(value["message"].as_str());
        Err(ApiError {
            status,
            code: "refused",
            message: message.map_or_else(|| value.to_string(), str::to_owned),
            field: None,
        })
    }
}

/// A query for an API handler, from `key=value` pairs (percent-encoded here).
pub(super) fn api_query<T: DeserializeOwned>(
    pairs: &[(&str, &str)],
) -> Result<Query<T>, QueryRejection> {
    let query: Vec<String> = pairs
        .iter()
        .map(|(key, value)| format!("{key}={}", percent_encode(value).replace('/', "%2F")))
        .collect();
    let uri: Uri =
        format!("/?{}", query.join("&")).parse().unwrap_or_else(|_| Uri::from_static("/"));
    Query::try_from_uri(&uri)
}

/// The text of a JSON value as a page shows it: strings as they are, null as nothing.
pub(super) fn text_of(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A page that says why there is nothing to show.
#[derive(Debug, Template)]
#[template(path = "page_message.html")]
struct MessagePage {
    lang: Lang,
    nav: Option<Nav>,
    css: &'static str,
    title: String,
    heading: &'static str,
    message: String,
}

/// The page for a refusal: 404 says only "not found" (another customer's agreement looks
/// like one that does not exist), others give the API's message.
pub(super) fn message_page(lang: Lang, nav: Option<Nav>, error: &ApiError) -> Response {
    let heading = match error.status {
        StatusCode::NOT_FOUND => lang.t("agp.not_found"),
        StatusCode::FORBIDDEN => lang.t("agp.forbidden"),
        StatusCode::CONFLICT => lang.t("agp.refused"),
        status if status.is_client_error() => lang.t("agp.bad_request"),
        _ => lang.t("agp.failed"),
    };
    let message = if error.status == StatusCode::NOT_FOUND {
        lang.t("agp.not_found_text").to_owned()
    } else {
        error.message.clone()
    };
    let page = MessagePage { lang, nav, css: CSS, title: heading.to_owned(), heading, message };
    match page.render() {
        Ok(html) => html_response(error.status, lang, None, html),
        Err(error) => ApiError::internal(&error).into_response(),
    }
}

/// A rendered page with the headers every page sends (`nav::html_response`).
pub(super) fn html<T: Template>(page: &Page, rendered: &T) -> Response {
    let query = page.path.split_once('?').map(|(_, query)| query);
    match rendered.render() {
        Ok(html) => html_response(StatusCode::OK, page.lang, query, html),
        Err(error) => message_page(page.lang, None, &ApiError::internal(&error)),
    }
}

/// A date or instant from the API (`2026-01-01`, `2026-11-21T09:00:00Z`) as the viewer reads it.
fn shown_time(page: &Page, value: &Value) -> String {
    let text = text_of(value);
    if let Ok(at) = text.parse::<jiff::Timestamp>() {
        return page.lang.date_time(at, &page.zone);
    }
    if let Ok(date) = text.parse::<jiff::civil::Date>() {
        return page.lang.date(date);
    }
    text
}

/// A lifecycle state's name in the viewer's language.
fn state_text(lang: Lang, value: &Value) -> String {
    match value.as_str() {
        Some(state) => lang.t(&format!("agp.state_{state}")).to_owned(),
        None => String::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// GET /agreements

struct ListedAgreement {
    name: String,
    href: String,
    title: String,
    kind: String,
    level: String,
    customer: String,
    state: String,
    state_class: String,
    active: String,
    term: String,
    next_review: String,
}

#[derive(Template)]
#[template(path = "agreements.html")]
struct AgreementsPage {
    lang: Lang,
    nav: Nav,
    css: &'static str,
    title: &'static str,
    agreements: Vec<ListedAgreement>,
    zone: String,
}

/// The latest revision's document of an agreement, as `GET /api/v1/agreements/{name}` shows it.
async fn shown(
    state: &AppState,
    principal: &Principal,
    name: &str,
    revision: Option<&str>,
) -> Result<Value, ApiError> {
    let pairs: Vec<(&str, &str)> =
        revision.map(|number| ("revision", number)).into_iter().collect();
    json_of(
        agreements::show(
            State(state.clone()),
            Auth(principal.clone()),
            Path(name.to_owned()),
            api_query(&pairs),
        )
        .await,
    )
    .await
}

/// `from – until` of an agreement's `term`, as the viewer reads dates.
fn term_text(page: &Page, term: &Value) -> String {
    let from = shown_time(page, &term["effectiveFrom"]);
    let until = shown_time(page, &term["effectiveUntil"]);
    match (from.is_empty(), until.is_empty()) {
        (true, true) => page.lang.t("agp.no_term").to_owned(),
        (false, true) => page.lang.fill("agp.term_from", &[("from", &from)]),
        _ => format!("{from} – {until}"),
    }
}

/// `GET /agreements`: the agreements the viewer may see.
pub(super) async fn get_agreements(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
) -> Response {
    let lang = page.lang;
    let fail = |error: &ApiError| {
        message_page(lang, Some(Nav::new(&page, &headers, "/agreements")), error)
    };
    let auth = Auth(page.principal.clone());
    let listed = match json_of(agreements::list(State(state.clone()), auth).await).await {
        Ok(listed) => listed,
        Err(error) => return fail(&error),
    };
    let mut rows = Vec::new();
    for agreement in listed["agreements"].as_array().into_iter().flatten() {
        let name = text_of(&agreement["name"]);
        let document = match shown(&state, &page.principal, &name, None).await {
            Ok(shown) => shown["document"].clone(),
            Err(error) => return fail(&error),
        };
        let term = &document["spec"]["term"];
        let state_class = text_of(&agreement["latestState"]);
        rows.push(ListedAgreement {
            href: format!("/agreements/{}", percent_encode(&name)),
            title: text_of(&agreement["title"]),
            kind: text_of(&agreement["type"]).to_uppercase(),
            level: text_of(&agreement["level"]),
            customer: text_of(&agreement["customer"]),
            state: state_text(lang, &agreement["latestState"]),
            state_class,
            active: text_of(&agreement["activeRevision"]),
            term: term_text(&page, term),
            next_review: shown_time(&page, &term["review"]["next"]),
            name,
        });
    }
    html(
        &page,
        &AgreementsPage {
            lang,
            nav: Nav::new(&page, &headers, "/agreements"),
            css: CSS,
            title: lang.t("agp.agreements"),
            agreements: rows,
            zone: i18n::zone_name(&page.zone).to_owned(),
        },
    )
}

// ---------------------------------------------------------------------------------------------
// GET /agreements/{name}

/// One value of the effective terms and where it comes from.
struct TermRow {
    label: String,
    value: String,
    origin: String,
}

/// The effective terms for one customer and service.
struct TermsView {
    customer: String,
    service: String,
    chain: String,
    rows: Vec<TermRow>,
}

struct TransitionView {
    from: String,
    to: String,
    actor: String,
    note: String,
    at: String,
}

struct ActionButton {
    action: &'static str,
    label: &'static str,
}

struct RevisionView {
    number: String,
    state: String,
    state_class: String,
    author: String,
    message: String,
    created: String,
    transitions: Vec<TransitionView>,
    actions: Vec<ActionButton>,
}

struct DiffView {
    from: String,
    to: String,
    changes: Vec<String>,
}

#[derive(Template)]
#[template(path = "agreement.html")]
struct AgreementPage {
    lang: Lang,
    nav: Nav,
    css: &'static str,
    title: String,
    name: String,
    action_path: String,
    kind: String,
    level: String,
    customer: String,
    term: String,
    next_review: String,
    terms: Vec<TermsView>,
    revisions: Vec<RevisionView>,
    numbers: Vec<String>,
    diff_from: String,
    diff_to: String,
    diff: Option<DiffView>,
    csrf: String,
    zone: String,
}

/// The query of `GET /agreements/{name}`: the two revisions to compare.
#[derive(Debug, Deserialize)]
pub(super) struct AgreementQuery {
    from: Option<String>,
    to: Option<String>,
}

/// The names `GET /api/v1/{what}` lists (customers or services), as the principal sees them.
async fn catalog_names(state: &AppState, principal: &Principal, what: &str) -> Vec<String> {
    let auth = Auth(principal.clone());
    let answer = if what == "customers" {
        catalog::customers(State(state.clone()), auth).await
    } else {
        catalog::services(State(state.clone()), auth).await
    };
    let listed = json_of(answer).await.unwrap_or(Value::Null);
    listed[what].as_array().into_iter().flatten().map(|item| text_of(&item["name"])).collect()
}

/// The names in a document's list, or `None` when it lists none.
fn listed(value: &Value) -> Option<Vec<String>> {
    let names: Vec<String> = value.as_array().into_iter().flatten().map(text_of).collect();
    (!names.is_empty()).then_some(names)
}

/// The rows of one `GET /api/v1/terms` answer.
fn term_rows(lang: Lang, explanation: &Value) -> Vec<TermRow> {
    let mut rows = Vec::new();
    for ticket in explanation["tickets"].as_array().into_iter().flatten() {
        let objective = text_of(&ticket["objective"]);
        let fields = [
            ("agp.objective_target", &ticket["target"]),
            ("agp.objective_calendar", &ticket["calendar"]),
        ];
        for (key, sourced) in fields {
            if sourced.is_null() {
                continue;
            }
            rows.push(TermRow {
                label: lang.fill(key, &[("objective", &objective)]),
                value: text_of(&sourced["value"]),
                origin: text_of(&sourced["origin"]["text"]),
            });
        }
    }
    for other in explanation["otherTerms"].as_array().into_iter().flatten() {
        rows.push(TermRow {
            label: text_of(&other["label"]),
            value: text_of(&other["value"]),
            origin: text_of(&other["origin"]["text"]),
        });
    }
    rows
}

/// The effective terms this agreement takes part in, per customer and service it covers.
async fn effective_terms(
    lang: Lang,
    state: &AppState,
    principal: &Principal,
    name: &str,
    spec: &Value,
) -> Vec<TermsView> {
    let customers = match listed(&spec["covers"]["customers"]) {
        Some(customers) => customers,
        None => match spec["parties"]["customer"].as_str() {
            Some(customer) => vec![customer.to_owned()],
            None => catalog_names(state, principal, "customers").await,
        },
    };
    let services = match listed(&spec["covers"]["services"]) {
        Some(services) => services,
        None => catalog_names(state, principal, "services").await,
    };
    let mut views = Vec::new();
    for customer in customers.iter().filter(|customer| principal.sees_customer(customer)) {
        for service in &services {
            let pairs = [("customer", customer.as_str()), ("service", service.as_str())];
            let answer =
                agreements::terms(State(state.clone()), Auth(principal.clone()), api_query(&pairs))
                    .await;
            // Not active, or not for this pair: nothing to show for it.
            let Ok(explanation) = json_of(answer).await else { continue };
            let applied: Vec<String> = explanation["agreements"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|applied| text_of(&applied["name"]))
                .collect();
            if !applied.iter().any(|applied| applied == name) {
                continue;
            }
            views.push(TermsView {
                customer: customer.clone(),
                service: service.clone(),
                chain: applied.join(" → "),
                rows: term_rows(lang, &explanation),
            });
        }
    }
    views
}

/// The lifecycle buttons a revision in `state` offers a principal allowed to change it.
fn buttons(lang: Lang, state: Option<&str>) -> Vec<ActionButton> {
    let Some(state) = state
        .and_then(|state| LifecycleState::ALL.into_iter().find(|known| known.as_str() == state))
    else {
        return Vec::new();
    };
    Action::ALL
        .into_iter()
        .filter(|action| *action != Action::Expire && action.allowed_from().contains(&state))
        .map(|action| ActionButton {
            action: action.as_str(),
            label: lang.t(&format!("agp.action_{}", action.as_str())),
        })
        .collect()
}

/// Whether a principal may use the lifecycle buttons: what `POST
/// /api/v1/agreements/{name}/lifecycle` asks (provider staff with `write`).
fn may_change(principal: &Principal) -> bool {
    principal.customer.is_none() && principal.may(Scope::Write)
}

/// `GET /agreements/{name}[?from=N&to=M]`: one agreement.
pub(super) async fn get_agreement(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    Path(name): Path<String>,
    agreement_query: Result<Query<AgreementQuery>, QueryRejection>,
) -> Response {
    let lang = page.lang;
    let fail = |error: &ApiError| {
        message_page(lang, Some(Nav::new(&page, &headers, "/agreements")), error)
    };
    let principal = &page.principal;
    let shown = match shown(&state, principal, &name, None).await {
        Ok(shown) => shown,
        Err(error) => return fail(&error),
    };
    let spec = &shown["document"]["spec"];
    let terms = effective_terms(lang, &state, principal, &name, spec).await;
    let changeable = may_change(principal);
    let mut revisions = Vec::new();
    for revision in shown["history"].as_array().into_iter().flatten() {
        let transitions = revision["transitions"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|transition| TransitionView {
                from: state_text(lang, &transition["from"]),
                to: state_text(lang, &transition["to"]),
                actor: text_of(&transition["actor"]),
                note: text_of(&transition["note"]),
                at: shown_time(&page, &transition["effectiveAt"]),
            })
            .collect();
        revisions.push(RevisionView {
            number: text_of(&revision["revision"]),
            state: state_text(lang, &revision["state"]),
            state_class: text_of(&revision["state"]),
            author: text_of(&revision["author"]),
            message: text_of(&revision["message"]),
            created: shown_time(&page, &revision["createdAt"]),
            transitions,
            actions: if changeable {
                buttons(lang, revision["state"].as_str())
            } else {
                Vec::new()
            },
        });
    }
    let numbers: Vec<String> = revisions.iter().map(|revision| revision.number.clone()).collect();
    let asked = agreement_query
        .map(|Query(asked)| asked)
        .unwrap_or(AgreementQuery { from: None, to: None });
    let diff = match (&asked.from, &asked.to) {
        (Some(from), Some(to)) => {
            let pairs = [("from", from.as_str()), ("to", to.as_str())];
            let answer = agreements::diff(
                State(state.clone()),
                Auth(principal.clone()),
                Path(name.clone()),
                api_query(&pairs),
            )
            .await;
            match answer {
                Ok(response) => match json_of(Ok(response)).await {
                    Ok(diff) => Some(DiffView {
                        from: text_of(&diff["from"]["revision"]),
                        to: text_of(&diff["to"]["revision"]),
                        changes: diff["changes"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(|change| text_of(&change["text"]))
                            .collect(),
                    }),
                    Err(error) => return fail(&error),
                },
                Err(error) => return fail(&error),
            }
        }
        _ => None,
    };
    let last = numbers.last().cloned().unwrap_or_default();
    let before = numbers.len().checked_sub(2).and_then(|idx| numbers.get(idx)).cloned();
    let term = &spec["term"];
    let agreement_page = AgreementPage {
        lang,
        nav: Nav::new(&page, &headers, "/agreements"),
        css: CSS,
        title: text_of(&shown["title"]),
        action_path: format!("/agreements/{}/lifecycle", percent_encode(&name)),
        kind: text_of(&shown["type"]).to_uppercase(),
        level: text_of(&shown["level"]),
        customer: text_of(&shown["customer"]),
        term: term_text(&page, term),
        next_review: shown_time(&page, &term["review"]["next"]),
        terms,
        revisions,
        diff_from: asked.from.clone().or(before).unwrap_or_else(|| last.clone()),
        diff_to: asked.to.clone().unwrap_or(last),
        numbers,
        diff,
        csrf: if changeable {
            session::form_token(&headers).unwrap_or_default()
        } else {
            String::new()
        },
        zone: i18n::zone_name(&page.zone).to_owned(),
        name,
    };
    html(&page, &agreement_page)
}

// ---------------------------------------------------------------------------------------------
// POST /agreements/{name}/lifecycle

/// The lifecycle form of the agreement page.
#[derive(Debug, Deserialize)]
pub(super) struct LifecycleForm {
    csrf: String,
    action: String,
    revision: u32,
    #[serde(default)]
    note: String,
}

/// `POST /agreements/{name}/lifecycle` (form: `csrf`, `action`, `revision`, `note`): the
/// transition `POST /api/v1/agreements/{name}/lifecycle` makes, then a 303 back to the
/// agreement's page. A browser's session needs the form's `csrf` field (the page's token);
/// a bearer token needs none.
pub(super) async fn post_lifecycle(
    State(state): State<AppState>,
    headers: HeaderMap,
    auth: Result<Auth, Response>,
    Path(name): Path<String>,
    form: Result<Form<LifecycleForm>, FormRejection>,
) -> Response {
    let cookies = headers.get(COOKIE).and_then(|value| value.to_str().ok());
    let accept_language = headers.get(ACCEPT_LANGUAGE).and_then(|value| value.to_str().ok());
    let lang = Lang::choose(None, i18n::cookie(cookies, "lang"), accept_language);
    let back = format!("/agreements/{}", percent_encode(&name));
    let by_cookie =
        !headers.contains_key(AUTHORIZATION) && session::session_cookie(&headers).is_some();
    if !by_cookie && matches!(&auth, Err(response) if response.status() == StatusCode::UNAUTHORIZED)
    {
        return see_other(&format!("/login?next={}", percent_encode(&back)));
    }
    let form = match form {
        Ok(Form(form)) => form,
        Err(rejection) => return message_page(lang, None, &ApiError::body(rejection.body_text())),
    };
    let principal = if by_cookie {
        match session::authenticate_form(&headers, &state, &form.csrf).await {
            Ok(principal) => principal,
            Err(response) if response.status() == StatusCode::UNAUTHORIZED => {
                return see_other(&format!("/login?next={}", percent_encode(&back)));
            }
            Err(response) => return response,
        }
    } else {
        match auth {
            Ok(Auth(principal)) => principal,
            Err(response) => return response,
        }
    };
    let body = json!({ "action": form.action, "revision": form.revision, "note": form.note });
    let answer = agreements::lifecycle(
        State(state),
        Auth(principal),
        Path(name),
        Ok(Bytes::from(body.to_string())),
    )
    .await;
    match answer {
        Ok(_) => see_other(&back),
        Err(error) => message_page(lang, None, &error),
    }
}
