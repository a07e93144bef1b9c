//! `accord demo`: a server on SQLite in a fresh directory, seeded with a realistic provider.
//!
//! The example catalog (built into the binary) is applied and activated; demo users and a
//! helpdesk token are created; 90 days of generated tickets go into the event log; probe
//! results with a few outages, and incidents, go into the observations. While it runs, a
//! simulated helpdesk posts new events and the probes go on reporting, so clocks move.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use accord_core::access::Role;
use accord_core::availability::{Affected, Impact, Incident};
use accord_core::clock::synth;
use accord_core::lifecycle::Action;
use accord_format::events::to_json;
use accord_store::{NewEvent, NewToken, NewUser, ProbeBatch, ProbeResult, ProbeSettings, Store};
use anyhow::{Context, bail};
use jiff::{SignedDuration, Timestamp};
use serde_json::Map;

use crate::cli::{DemoArgs, ServeArgs};
use crate::clock_cmd::synth_spec;
use crate::server::AppState;
use crate::server::config::Config;
use crate::{account_cmd, agreement_cmd, output, revision_cmd, server};

/// The example catalog, as files under `examples/`.
const EXAMPLES: [(&str, &str); 16] = [
    ("catalog/services.yaml", include_str!("../../../examples/catalog/services.yaml")),
    ("catalog/customers.yaml", include_str!("../../../examples/catalog/customers.yaml")),
    (
        "agreements/service-desk-ola.yaml",
        include_str!("../../../examples/agreements/service-desk-ola.yaml"),
    ),
    (
        "agreements/corporate-sla.yaml",
        include_str!("../../../examples/agreements/corporate-sla.yaml"),
    ),
    (
        "agreements/globex-cloud-hosting-sla.yaml",
        include_str!("../../../examples/agreements/globex-cloud-hosting-sla.yaml"),
    ),
    ("agreements/hostico-uc.yaml", include_str!("../../../examples/agreements/hostico-uc.yaml")),
    (
        "agreements/globex-apac-sla.yaml",
        include_str!("../../../examples/agreements/globex-apac-sla.yaml"),
    ),
    ("agreements/acme-sla.yaml", include_str!("../../../examples/agreements/acme-sla.yaml")),
    ("maintenance/windows.yaml", include_str!("../../../examples/maintenance/windows.yaml")),
    (
        "calendars/follow-the-sun.yaml",
        include_str!("../../../examples/calendars/follow-the-sun.yaml"),
    ),
    ("calendars/office.yaml", include_str!("../../../examples/calendars/office.yaml")),
    (
        "calendars/office-singapore.yaml",
        include_str!("../../../examples/calendars/office-singapore.yaml"),
    ),
    (
        "calendars/holidays/sg-2026.ics",
        include_str!("../../../examples/calendars/holidays/sg-2026.ics"),
    ),
    (
        "calendars/holidays/de-movable.ics",
        include_str!("../../../examples/calendars/holidays/de-movable.ics"),
    ),
    ("calendars/night-shift.yaml", include_str!("../../../examples/calendars/night-shift.yaml")),
    ("calendars/24x7.yaml", include_str!("../../../examples/calendars/24x7.yaml")),
];

/// The demo's people: name, role, customer, password.
const USERS: [(&str, Role, Option<&str>, &str); 4] = [
    ("admin", Role::Admin, None, "demo-admin-password"),
    ("agent", Role::Agent, None, "demo-agent-password"),
    ("acme", Role::Customer, Some("acme"), "demo-acme-password"),
    ("globex", Role::Customer, Some("globex"), "demo-globex-password"),
];

/// How far back the generated history goes.
const HISTORY_DAYS: i64 = 90;

/// `accord demo`.
pub fn demo(args: &DemoArgs) -> anyhow::Result<ExitCode> {
    let data = match &args.data {
        Some(dir) => dir.clone(),
        None => std::env::temp_dir().join(format!(
            "accord-demo-{}-{}",
            std::process::id(),
            Timestamp::now().as_second()
        )),
    };
    if data.exists() && std::fs::read_dir(&data).map(|mut d| d.next().is_some()).unwrap_or(true) {
        bail!("{} is not empty: the demo starts in a fresh directory", data.display());
    }
    let examples = data.join("examples");
    for (path, text) in EXAMPLES {
        let target = examples.join(path);
        std::fs::create_dir_all(target.parent().unwrap_or(&examples))
            .with_context(|| format!("creating {}", examples.display()))?;
        std::fs::write(&target, text).with_context(|| format!("writing {}", target.display()))?;
    }
    output::note(&format!("seeding the demo provider in {}", data.display()));
    let loaded = agreement_cmd::load(&examples)?;
    let revisions =
        match revision_cmd::prepare(&loaded.catalog, &loaded.documents, agreement_cmd::today()) {
            Ok((revisions, _warnings)) => revisions,
            Err(findings) => {
                for finding in &findings {
                    output::note(&finding.to_string());
                }
                bail!("the built-in examples do not check: this is a bug");
            }
        };
    let serve = ServeArgs {
        config: None,
        listen: Some(args.listen.clone()),
        data: Some(data.clone()),
        database: None,
        log_format: None,
        nats: None,
    };
    let environment: Vec<(String, String)> = std::env::vars().collect();
    let config = Config::load(&serve, &environment)?;
    server::init_logs(&config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let catalog = loaded.catalog;
    runtime.block_on(async move {
        let store = Store::open(&config.location).await.context("opening the demo store")?;
        // The agreements were applied and activated before the history starts, so every
        // ticket of it runs on them.
        let applied_at = Timestamp::now() - SignedDuration::from_hours(24 * (HISTORY_DAYS + 1));
        store.apply(&revisions, "demo", "the demo provider", applied_at).await?;
        for name in catalog.agreements.keys() {
            for action in [Action::Submit, Action::Approve, Action::Activate] {
                revision_cmd::transition(&store, name, action, None, "demo", "", applied_at)
                    .await
                    .with_context(|| format!("activating {name}"))?;
            }
        }
        output::note(&format!(
            "{} documents applied, {} agreements active",
            revisions.len(),
            catalog.agreements.len()
        ));
        let token = seed(&store, &catalog).await?;
        store.close().await;
        let mut lines = vec![
            String::new(),
            "Accord demo: the server starts below; stop it with Ctrl-C.".to_owned(),
            format!("data: {}", data.display()),
            "sign in (POST /api/v1/login):".to_owned(),
        ];
        for (name, role, customer, password) in USERS {
            let bound = customer.map_or_else(String::new, |c| format!(" of {c}"));
            lines.push(format!("  {name} / {password}  ({role}{bound})"));
        }
        lines.push(format!("helpdesk token (ingest, read): {token}"));
        output::lines(lines);
        let live: server::Live = Box::new(move |state| tokio::spawn(simulate(state, catalog)));
        server::run(config, Some(live)).await
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Users, a token, the history and the observations; returns the token.
async fn seed(store: &Store, catalog: &accord_core::agreement::Catalog) -> anyhow::Result<String> {
    let now = Timestamp::now();
    for (name, role, customer, password) in USERS {
        let user = NewUser {
            name: name.to_owned(),
            password_hash: account_cmd::hash_password(password)?,
            role,
            customer: customer.map(str::to_owned),
        };
        store.add_user(&user, "demo", now).await.context("adding the demo users")?;
    }
    let token = account_cmd::new_secret("acc_")?;
    let new_token = NewToken {
        name: "demo-helpdesk".to_owned(),
        secret_hash: account_cmd::secret_hash(&token),
        scopes: Role::Agent.scopes(),
        role: Role::Agent,
        customer: None,
        created_by: "demo".to_owned(),
    };
    store.add_token(&new_token, now).await.context("adding the demo token")?;

    let start = now - SignedDuration::from_hours(24 * HISTORY_DAYS);
    let days = u32::try_from(HISTORY_DAYS).unwrap_or(90);
    let events = match synth_spec(catalog, start, days, 3000, 7) {
        Some(spec) => synth::generate(&spec),
        None => Vec::new(),
    };
    let past: Vec<_> = events.into_iter().filter(|event| event.at <= now).collect();
    let bodies: Vec<String> =
        past.iter().map(|event| to_json(event, &Map::new()).to_string()).collect();
    for (chunk, chunk_bodies) in past.chunks(5000).zip(bodies.chunks(5000)) {
        let batch: Vec<NewEvent<'_>> = chunk
            .iter()
            .zip(chunk_bodies)
            .map(|(event, body)| NewEvent {
                id: &event.id,
                ticket: &event.ticket,
                at: event.at,
                kind: event.kind.as_str(),
                body,
            })
            .collect();
        store.append_events(&batch, now).await.context("seeding the event log")?;
    }
    output::note(&format!("{} ticket events of the last {HISTORY_DAYS} days", past.len()));

    let probes = probe_names(catalog);
    let every = SignedDuration::from_mins(5);
    let steps = HISTORY_DAYS * 24 * 12;
    let results: Vec<Vec<ProbeResult>> = probes
        .iter()
        .enumerate()
        .map(|(idx, _)| {
            (0..steps)
                .map(|step| {
                    // An outage of about an hour every few weeks, different per probe.
                    let down = (step + 977 * idx as i64) % 6000 < 12;
                    ProbeResult {
                        at: start + every * i32::try_from(step).unwrap_or(0),
                        up: !down,
                        latency: (!down).then(|| {
                            SignedDuration::from_millis(40 + (step * 37 + idx as i64) % 160)
                        }),
                    }
                })
                .collect()
        })
        .collect();
    let settings = ProbeSettings { retries: 1, max_gap: Some(every * 2) };
    let batches: Vec<ProbeBatch<'_>> = probes
        .iter()
        .zip(&results)
        .map(|(probe, results)| ProbeBatch { probe, settings, results })
        .collect();
    store.record_probe_results(&batches).await.context("seeding probe results")?;
    let incident = |id: &str, days_ago: i64, hours: i64, service: &str, impact, cause: &str| {
        let start = now - SignedDuration::from_hours(24 * days_ago);
        Incident {
            id: id.to_owned(),
            start,
            end: Some(start + SignedDuration::from_hours(hours)),
            affected: vec![Affected { service: service.to_owned(), component: None }],
            impact,
            excluded: None,
            cause: cause.to_owned(),
            root_cause: String::new(),
        }
    };
    let services: Vec<&String> = catalog.services.keys().collect();
    if let (Some(first), Some(last)) = (services.first(), services.last()) {
        let incidents = [
            incident("INC-1001", 41, 2, first, Impact::Major, "Storage controller failover"),
            incident("INC-1002", 17, 5, last, Impact::Partial, "Degraded mail delivery"),
            incident("INC-1003", 3, 1, first, Impact::Degraded, "Slow logins"),
        ];
        store.record_incidents(&incidents, now).await.context("seeding incidents")?;
    }
    output::note(&format!(
        "{} probes with {HISTORY_DAYS} days of results, 3 incidents",
        probes.len()
    ));
    Ok(token)
}

/// The probes the agreements name.
fn probe_names(catalog: &accord_core::agreement::Catalog) -> Vec<String> {
    let mut names: Vec<String> = catalog
        .agreements
        .values()
        .flat_map(|agreement| agreement.terms.data_sources())
        .filter_map(|source| match &source.value {
            accord_core::agreement::DataSource::Probe(name) => Some(name.clone()),
            _ => None,
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// While the server runs: a new ticket's events every few seconds (each event posted when its
/// instant comes), and every probe's result every minute.
async fn simulate(state: AppState, catalog: accord_core::agreement::Catalog) {
    let store: Arc<Store> = Arc::clone(&state.store);
    let probes = probe_names(&catalog);
    let mut round: u64 = 0;
    loop {
        tokio::time::sleep(Duration::from_secs(5)).await;
        round += 1;
        let now = Timestamp::now();
        if let Some(spec) =
            synth_spec(&catalog, now - SignedDuration::from_hours(24), 1, 1, 1000 + round)
        {
            // A ticket of the last day: what has happened to it by now goes in.
            let events: Vec<_> =
                synth::generate(&spec).into_iter().filter(|event| event.at <= now).collect();
            let owned = events
                .iter()
                .map(|event| crate::server::ingest::OwnedEvent {
                    id: format!("live-{round}-{}", event.id),
                    ticket: format!("LIVE-{round}"),
                    at: event.at,
                    kind: event.kind.as_str(),
                    body: {
                        let mut body = to_json(event, &Map::new());
                        body["id"] = serde_json::json!(format!("live-{round}-{}", event.id));
                        body["ticket"] = serde_json::json!(format!("LIVE-{round}"));
                        body.to_string()
                    },
                })
                .collect();
            if let Err(error) = state.ingest.append(owned).await {
                tracing::warn!(?error, "the simulated helpdesk could not post");
            }
        }
        if round.is_multiple_of(12) {
            let results: Vec<[ProbeResult; 1]> = probes
                .iter()
                .map(|_| {
                    [ProbeResult {
                        at: now,
                        up: true,
                        latency: Some(SignedDuration::from_millis(60)),
                    }]
                })
                .collect();
            let settings =
                ProbeSettings { retries: 1, max_gap: Some(SignedDuration::from_mins(10)) };
            let batches: Vec<ProbeBatch<'_>> = probes
                .iter()
                .zip(&results)
                .map(|(probe, results)| ProbeBatch { probe, settings, results })
                .collect();
            if let Err(error) = store.record_probe_results(&batches).await {
                tracing::warn!(%error, "the simulated probes could not record");
            }
        }
    }
}
