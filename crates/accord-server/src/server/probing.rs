//! Continuous probes: the server runs the probes of the stored probe definitions
//! (`PUT /api/v1/probes`) on their intervals and records every result, the way
//! `accord probe run --record` does from the command line.
//!
//! Several nodes on one database share the probes through leases (`accord_store::Lease`): a
//! node runs a probe only while it holds the lease `probe:NAME`, which it renews every
//! [`TICK`]. A lease runs out [`LEASE_TTL`] after its last renewal, so the probes of a node that
//! died move to another node within seconds; the taker wakes when the lease runs out, and starts
//! from the probe's newest recorded result (due one interval after it, at once when that has
//! passed), so the interval the dead node missed is run at once and none is lost. Each node
//! also holds `node:NAME`, by which the nodes count one another: a node takes at most its share
//! of the probes (their number over the nodes', rounded up) and gives back what it holds beyond
//! it, so a node that joins gets work.
//!
//! A probe runs one interval after its previous run; a probe taken with no recorded result
//! first runs at a random instant within its interval, so probes defined together do not all
//! run at once. Checks block (`probe_cmd::check`, bounded by the probe's timeout), so they run
//! on tokio's blocking pool, at most [`MAX_CHECKS`] at a time; a probe whose previous check is
//! still running skips its turn. Results are recorded as they come, those finished together in
//! one transaction; results the store cannot take now are kept and tried again.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use accord_core::calendar::TimeRange;
use accord_format::probes::{Check, ProbeSpec};
use accord_store::{ProbeBatch, ProbeSettings, StoreError};
use jiff::{SignedDuration, Timestamp};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::time::Instant;

use super::AppState;
use super::availability::{PROBES_KIND, PROBES_NAME, stored_probes};
use crate::availability_cmd::probe_settings_of;
use crate::probe_cmd::{self, ProbeResult};

/// How often a node renews its leases, takes free probes and looks for new definitions.
const TICK: Duration = Duration::from_secs(1);

/// How long a lease holds after its last renewal: at most this long, plus a probe's interval,
/// passes between two runs of a probe when the node running it dies.
pub(super) const LEASE_TTL: SignedDuration = SignedDuration::from_secs(5);

/// Checks running at once on one node.
const MAX_CHECKS: usize = 16;

/// The shortest interval a probe runs at, whatever its definition says.
const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// Results kept for another attempt while the store cannot take them; the oldest go first.
const MAX_PENDING: usize = 10_000;

/// The lease a node holds while it runs `probe`.
pub(super) fn lease_name(probe: &str) -> String {
    format!("probe:{probe}")
}

/// The lease a node holds while it lives.
fn node_lease(node: &str) -> String {
    format!("node:{node}")
}

/// A probe this node holds the lease of.
#[derive(Debug)]
struct Held {
    /// Until when the lease surely holds: the last renewal's start plus [`LEASE_TTL`].
    until: Instant,
    /// When the probe runs next.
    next_due: Instant,
    /// Whether a check is running (or waiting for a slot).
    running: bool,
    /// Whether the component was down after the newest recorded result, once known.
    down: Option<bool>,
}

/// A finished check.
#[derive(Debug)]
struct Finished {
    spec: Arc<ProbeSpec>,
    /// `None` when the check panicked: a bug, logged, and nothing recorded.
    result: Option<ProbeResult>,
}

/// A result waiting to be recorded.
#[derive(Debug)]
struct Pending {
    probe: String,
    settings: ProbeSettings,
    result: accord_store::ProbeResult,
    detail: String,
}

/// What the runner keeps between ticks.
struct Runner {
    state: AppState,
    /// This node's name: the owner of its leases.
    node: String,
    /// The revision of the definitions in `probes`; `None` before any is read.
    revision: Option<u32>,
    /// The probes to run (heartbeats are pushed, not run), by name.
    probes: BTreeMap<String, Arc<ProbeSpec>>,
    /// The probes this node holds the lease of, by name.
    held: BTreeMap<String, Held>,
    /// When the earliest lease another node holds on a probe runs out.
    next_free: Option<Timestamp>,
    checks: Arc<Semaphore>,
    finished: mpsc::UnboundedSender<Finished>,
    pending: Vec<Pending>,
    /// Whether the last tick failed, so a failing store is logged once, not every second.
    failing: bool,
}

/// Runs the probes until `stop` is set, then records what has finished and gives the leases
/// up, so other nodes take the probes over at once.
pub(super) async fn run(state: AppState, node: String, mut stop: watch::Receiver<bool>) {
    let (finished, mut finishing) = mpsc::unbounded_channel();
    let mut runner = Runner {
        state,
        node,
        revision: None,
        probes: BTreeMap::new(),
        held: BTreeMap::new(),
        next_free: None,
        checks: Arc::new(Semaphore::new(MAX_CHECKS)),
        finished,
        pending: Vec::new(),
        failing: false,
    };
    tracing::info!(node = %runner.node, "running the stored probes");
    let mut next_tick = Instant::now();
    loop {
        if Instant::now() >= next_tick {
            let result = runner.tick().await;
            runner.note(result);
            next_tick = Instant::now() + TICK;
            if let Some(free_at) = runner.next_free {
                // Wake just after the lease runs out, not up to a tick later.
                let wait =
                    free_at.duration_since(Timestamp::now()) + SignedDuration::from_millis(20);
                let wait = Duration::try_from(wait).unwrap_or_default();
                next_tick = next_tick.min(Instant::now() + wait);
            }
        }
        runner.start_due(Instant::now());
        let wake = runner.next_due().map_or(next_tick, |due| due.min(next_tick));
        tokio::select! {
            () = tokio::time::sleep_until(wake) => {}
            Some(first) = finishing.recv() => {
                let mut finished = vec![first];
                while let Ok(more) = finishing.try_recv() {
                    finished.push(more);
                }
                runner.record(finished).await;
            }
            _ = stop.changed() => break,
        }
    }
    let mut finished = Vec::new();
    while let Ok(more) = finishing.try_recv() {
        finished.push(more);
    }
    runner.record(finished).await;
    runner.release_all().await;
}

impl Runner {
    /// One tick: new definitions, then the leases: all this node holds renewed in one
    /// statement, those beyond its share given back, free ones taken up to its share.
    async fn tick(&mut self) -> Result<(), String> {
        self.read_definitions().await?;
        let store = Arc::clone(&self.state.store);
        let started = Instant::now();
        let now = Timestamp::now();
        let until = started + Duration::try_from(LEASE_TTL).expect("a positive TTL");
        let stored = |error: StoreError| error.to_string();
        let renewed = store.renew_leases(&self.node, now, LEASE_TTL).await.map_err(stored)?;
        let renewed = |name: &str| renewed.binary_search_by(|held| held.as_str().cmp(name)).is_ok();
        let node_lease = node_lease(&self.node);
        if !renewed(&node_lease) {
            store.acquire_lease(&node_lease, &self.node, now, LEASE_TTL).await.map_err(stored)?;
        }
        let names: Vec<String> = self.held.keys().cloned().collect();
        for name in names {
            let lease_name = lease_name(&name);
            // A lease that ran out is taken again when no other node took it meanwhile.
            let held = renewed(&lease_name)
                || store
                    .acquire_lease(&lease_name, &self.node, now, LEASE_TTL)
                    .await
                    .map_err(stored)?;
            if held {
                if let Some(held) = self.held.get_mut(&name) {
                    held.until = until;
                }
            } else {
                tracing::warn!(probe = %name, "another node took the probe over: this node was too slow to renew its lease");
                self.held.remove(&name);
            }
        }

        let leases = store.leases("").await.map_err(stored)?;
        let n_nodes = leases
            .iter()
            .filter(|lease| lease.name.starts_with("node:") && lease.is_live(now))
            .count()
            .max(1);
        let share = self.probes.len().div_ceil(n_nodes);
        if self.held.len() > share {
            let extra: Vec<String> = self
                .held
                .iter()
                .rev()
                .filter(|(_, held)| !held.running)
                .map(|(name, _)| name.clone())
                .take(self.held.len() - share)
                .collect();
            for name in extra {
                store.release_lease(&lease_name(&name), &self.node).await.map_err(stored)?;
                self.held.remove(&name);
                tracing::debug!(probe = %name, n_nodes, "gave the probe up to another node");
            }
        }

        self.next_free = None;
        let probes: Vec<Arc<ProbeSpec>> = self.probes.values().cloned().collect();
        for spec in probes {
            if self.held.contains_key(&spec.name) {
                continue;
            }
            let lease_name = lease_name(&spec.name);
            let lease = leases.iter().find(|lease| lease.name == lease_name);
            if let Some(lease) =
                lease.filter(|lease| lease.is_live(now) && lease.owner != self.node)
            {
                // Wake when it runs out, even without room now: if its node died, the nodes
                // left have more room then. A live node renews first, and this is a tick.
                let free_at =
                    self.next_free.map_or(lease.expires_at, |at| at.min(lease.expires_at));
                self.next_free = Some(free_at);
                continue;
            }
            if self.held.len() >= share {
                continue;
            }
            if store.acquire_lease(&lease_name, &self.node, now, LEASE_TTL).await.map_err(stored)? {
                let held = self.take(&spec, now, until).await.map_err(stored)?;
                tracing::debug!(probe = %spec.name, "running the probe");
                self.held.insert(spec.name.clone(), held);
            }
        }

        // Leases of this node's that it does not run (a probe removed while the store was
        // unreachable, or one held before a restart under the same name and not taken up
        // again) are given back, or the renewals would keep them forever.
        let stray: Vec<&str> = leases
            .iter()
            .filter(|lease| lease.owner == self.node && lease.name.starts_with("probe:"))
            .map(|lease| lease.name.as_str())
            .filter(|name| !self.held.contains_key(&name["probe:".len()..]))
            .collect();
        for name in stray {
            store.release_lease(name, &self.node).await.map_err(stored)?;
        }
        Ok(())
    }

    /// Logs a failed tick once, and the recovery.
    fn note(&mut self, result: Result<(), String>) {
        match result {
            Ok(()) if self.failing => {
                tracing::info!("probing goes on: the store answers again");
                self.failing = false;
            }
            Ok(()) => {}
            Err(error) if !self.failing => {
                tracing::warn!(%error, "probing: cannot read the definitions or renew the leases; trying again every second");
                self.failing = true;
            }
            Err(error) => tracing::debug!(%error, "probing: still failing"),
        }
    }

    /// Reads the definitions when a new revision was stored; probes no longer defined are
    /// given up.
    async fn read_definitions(&mut self) -> Result<(), String> {
        let documents = self
            .state
            .store
            .documents(Some(PROBES_KIND))
            .await
            .map_err(|error| error.to_string())?;
        let latest = documents.iter().find(|document| document.name == PROBES_NAME);
        if latest.map(|document| document.latest) == self.revision {
            return Ok(());
        }
        let (revision, specs) =
            match stored_probes(&self.state).await.map_err(|error| error.message)? {
                Some((revision, specs)) => (Some(revision.summary.number), specs),
                None => (None, Vec::new()),
            };
        let probes: BTreeMap<String, Arc<ProbeSpec>> = specs
            .into_iter()
            .filter(|spec| !matches!(spec.check, Check::Heartbeat { .. }))
            .map(|spec| (spec.name.clone(), Arc::new(spec)))
            .collect();
        let removed: Vec<String> =
            self.held.keys().filter(|name| !probes.contains_key(*name)).cloned().collect();
        for name in removed {
            self.held.remove(&name);
            if let Err(error) = self.state.store.release_lease(&lease_name(&name), &self.node).await
            {
                // It runs out by itself.
                tracing::debug!(%error, probe = %name, "cannot give up the lease of a removed probe");
            }
        }
        // A shorter interval counts from now.
        let now = Instant::now();
        for (name, held) in &mut self.held {
            held.next_due = held.next_due.min(now + interval(&probes[name]));
        }
        tracing::info!(revision, n_probes = probes.len(), "probe definitions read");
        self.probes = probes;
        self.revision = revision;
        Ok(())
    }

    /// A probe just leased: due one interval after its newest recorded result (at once when
    /// that has passed), or at a random instant within its interval when it has none.
    async fn take(
        &self,
        spec: &ProbeSpec,
        now: Timestamp,
        until: Instant,
    ) -> Result<Held, StoreError> {
        let interval = interval(spec);
        let since = now.checked_sub(SignedDuration::from_mins(1)).unwrap_or(now);
        let range = TimeRange::new(since, now).expect("a minute before now is before now");
        let history = self.state.store.probe_history(&spec.name, range, false).await?;
        let last = history.as_ref().and_then(|history| history.timeline.last());
        let wait = match last {
            Some(last) => {
                let due = last.checked_add(SignedDuration::try_from(interval).unwrap_or_default());
                due.map_or(Duration::ZERO, |due| {
                    Duration::try_from(due.duration_since(now)).unwrap_or_default()
                })
            }
            None => jitter(interval),
        };
        Ok(Held {
            until,
            next_due: Instant::now() + wait,
            running: false,
            down: history.map(|history| history.timeline.is_down()),
        })
    }

    /// Starts the checks due at `now`; a lease not renewed in time stops its probe.
    fn start_due(&mut self, now: Instant) {
        self.held.retain(|name, held| {
            let live = held.until > now;
            if !live {
                tracing::warn!(probe = %name, "the probe's lease ran out before it was renewed; leaving it");
            }
            live
        });
        for (name, held) in &mut self.held {
            if held.next_due > now {
                continue;
            }
            let Some(spec) = self.probes.get(name) else { continue };
            let interval = interval(spec);
            // Turns missed while a check was still running, or the node was busy, are skipped,
            // not made up.
            while held.next_due <= now {
                held.next_due += interval;
            }
            if held.running {
                tracing::debug!(probe = %name, "the previous check is still running; skipping a turn");
                continue;
            }
            held.running = true;
            tokio::spawn(check(Arc::clone(spec), Arc::clone(&self.checks), self.finished.clone()));
        }
    }

    /// When the next check is due.
    fn next_due(&self) -> Option<Instant> {
        self.held.values().filter(|held| !held.running).map(|held| held.next_due).min()
    }

    /// Records finished checks with those waiting, one transaction; logs each component that
    /// went down or came back.
    async fn record(&mut self, finished: Vec<Finished>) {
        for Finished { spec, result } in finished {
            if let Some(held) = self.held.get_mut(&spec.name) {
                held.running = false;
            }
            let Some(result) = result else { continue };
            let counter = if result.up {
                &self.state.metrics.probe_runs_up
            } else {
                &self.state.metrics.probe_runs_down
            };
            counter.fetch_add(1, Ordering::Relaxed);
            self.pending.push(Pending {
                probe: spec.name.clone(),
                settings: probe_settings_of(spec.retries, spec.interval),
                result: accord_store::ProbeResult {
                    at: result.at,
                    up: result.up,
                    // Failures are not latencies.
                    latency: SignedDuration::try_from(result.latency).ok().filter(|_| result.up),
                },
                detail: result.detail,
            });
        }
        if self.pending.is_empty() {
            return;
        }
        // By probe, each probe's last settings and detail.
        let mut by_probe: BTreeMap<&str, (ProbeSettings, Vec<accord_store::ProbeResult>, &str)> =
            BTreeMap::new();
        for pending in &self.pending {
            let entry = by_probe
                .entry(&pending.probe)
                .or_insert_with(|| (pending.settings, Vec::new(), ""));
            entry.0 = pending.settings;
            entry.1.push(pending.result);
            entry.2 = &pending.detail;
        }
        let batches: Vec<ProbeBatch<'_>> = by_probe
            .iter()
            .map(|(probe, (settings, results, _))| ProbeBatch {
                probe,
                settings: *settings,
                results,
            })
            .collect();
        let recorded = match self.state.store.record_probe_results(&batches).await {
            Ok(recorded) => recorded,
            Err(error) => {
                tracing::warn!(%error, n_results = self.pending.len(), "cannot record probe results; trying again with the next");
                let excess = self.pending.len().saturating_sub(MAX_PENDING);
                self.pending.drain(..excess);
                return;
            }
        };
        let mut changes = Vec::new();
        for ((probe, (_, _, detail)), recorded) in by_probe.iter().zip(recorded) {
            let Some(held) = self.held.get_mut(*probe) else { continue };
            let was = held.down.replace(recorded.down);
            if was != Some(recorded.down) && (was.is_some() || recorded.down) {
                changes.push(((*probe).to_owned(), recorded.down, (*detail).to_owned()));
            }
        }
        self.pending.clear();
        for (probe, down, detail) in changes {
            if down {
                tracing::info!(%probe, %detail, "probe is down");
            } else {
                tracing::info!(%probe, %detail, "probe is up again");
            }
        }
    }

    /// Gives up every lease this node holds.
    async fn release_all(&mut self) {
        let mut names: Vec<String> = self.held.keys().map(|name| lease_name(name)).collect();
        names.push(node_lease(&self.node));
        for name in names {
            if let Err(error) = self.state.store.release_lease(&name, &self.node).await {
                tracing::warn!(%error, lease = %name, "cannot give up a lease; it runs out by itself");
            }
        }
        self.held.clear();
    }
}

/// Runs one check on the blocking pool once a slot is free, and hands the result back. A check
/// that outlives three times its timeout (each step is bounded, not the whole) counts as down.
async fn check(
    spec: Arc<ProbeSpec>,
    checks: Arc<Semaphore>,
    finished: mpsc::UnboundedSender<Finished>,
) {
    let Ok(slot) = checks.acquire_owned().await else { return };
    let limit = Duration::try_from(spec.timeout).unwrap_or(Duration::from_secs(10)) * 3;
    let started_at = Timestamp::now();
    let started = Instant::now();
    let running = {
        let spec = Arc::clone(&spec);
        tokio::task::spawn_blocking(move || {
            let _slot = slot;
            probe_cmd::check(&spec)
        })
    };
    let result = match tokio::time::timeout(limit, running).await {
        Ok(Ok(result)) => Some(result),
        Ok(Err(error)) => {
            tracing::error!(probe = %spec.name, %error, "a probe check panicked");
            None
        }
        Err(_) => Some(ProbeResult {
            at: started_at,
            up: false,
            latency: started.elapsed(),
            detail: format!("no answer within {} s", limit.as_secs()),
            certificate_expires: None,
            warning: None,
        }),
    };
    let _ = finished.send(Finished { spec, result });
}

/// A probe's interval, at least [`MIN_INTERVAL`].
fn interval(spec: &ProbeSpec) -> Duration {
    Duration::try_from(spec.interval).unwrap_or(MIN_INTERVAL).max(MIN_INTERVAL)
}

/// A random span shorter than `interval`.
fn jitter(interval: Duration) -> Duration {
    let mut bytes = [0_u8; 8];
    let random = getrandom::fill(&mut bytes).map_or(0, |()| u64::from_le_bytes(bytes));
    let millis = u64::try_from(interval.as_millis()).unwrap_or(u64::MAX).max(1);
    Duration::from_millis(random % millis)
}
