-- Availability observations, kept as intervals rather than one row per result.
-- Instants are `timestamptz` (microsecond resolution).

-- What is observed: a probe, a heartbeat or a stream of request counts, by name, with where
-- its timeline stopped so recording can go on after a restart.
CREATE TABLE sources (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('probe', 'heartbeat', 'requests')),
    name TEXT NOT NULL,
    -- Probe: failed results in a row before the component is down.
    retries BIGINT CHECK (retries >= 0),
    -- Probe: the longest spacing of results that is not a gap. Heartbeat: the check-in period.
    every_us BIGINT CHECK (every_us > 0),
    -- Heartbeat: how late a check-in may come.
    grace_us BIGINT CHECK (grace_us >= 0),
    first_at TIMESTAMPTZ,
    last_at TIMESTAMPTZ CHECK (last_at >= first_at),
    -- Probe: failures in a row not yet declared down, and the first of them.
    failures BIGINT NOT NULL DEFAULT 0 CHECK (failures >= 0),
    first_failure_at TIMESTAMPTZ,
    UNIQUE (kind, name)
);

-- Invariant: per source, disjoint and sorted by start; at most one open (`end_at` NULL), the last.
CREATE TABLE outages (
    source_id BIGINT NOT NULL REFERENCES sources (id),
    start_at TIMESTAMPTZ NOT NULL,
    end_at TIMESTAMPTZ CHECK (end_at > start_at),
    PRIMARY KEY (source_id, start_at)
);

-- Spans with no probe result for longer than the source's `every_us`.
CREATE TABLE gaps (
    source_id BIGINT NOT NULL REFERENCES sources (id),
    start_at TIMESTAMPTZ NOT NULL,
    end_at TIMESTAMPTZ NOT NULL CHECK (end_at > start_at),
    PRIMARY KEY (source_id, start_at)
);

-- One latency histogram per source and minute: `bucket:count` pairs separated by spaces,
-- buckets ascending (see accord_core::availability::LatencyHistogram).
CREATE TABLE latency_minutes (
    source_id BIGINT NOT NULL REFERENCES sources (id),
    minute BIGINT NOT NULL,
    counts TEXT NOT NULL,
    PRIMARY KEY (source_id, minute)
);

-- Good and total requests per interval, as the service pushed them; a repeated push of an
-- interval replaces it.
CREATE TABLE request_counts (
    source_id BIGINT NOT NULL REFERENCES sources (id),
    start_at TIMESTAMPTZ NOT NULL,
    end_at TIMESTAMPTZ NOT NULL CHECK (end_at > start_at),
    good BIGINT NOT NULL CHECK (good >= 0 AND good <= total),
    total BIGINT NOT NULL,
    PRIMARY KEY (source_id, start_at)
);

-- Incidents recorded by people or imported; recording one again by id replaces it.
CREATE TABLE incidents (
    id TEXT PRIMARY KEY,
    start_at TIMESTAMPTZ NOT NULL,
    end_at TIMESTAMPTZ CHECK (end_at > start_at),
    impact TEXT NOT NULL CHECK (impact IN ('major', 'partial', 'degraded')),
    excluded TEXT CHECK (excluded IN ('maintenance', 'force_majeure', 'customer_caused')),
    reason TEXT NOT NULL,
    cause TEXT NOT NULL,
    root_cause TEXT NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX incidents_by_start ON incidents (start_at);

-- Invariant: every incident affects at least one service; `component` '' is the whole service.
CREATE TABLE incident_affects (
    incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    service TEXT NOT NULL,
    component TEXT NOT NULL,
    PRIMARY KEY (incident_id, service, component)
);
