-- The shadow engine's evidence (rfcs/0005 §6-§7): one row per comparison, capped redacted
-- examples, per-minute aggregates with latency sketches, the billing join, live ignore rules.
CREATE SCHEMA IF NOT EXISTS shadow;

-- One row per compared or skipped mirrored request. Written in batches (COPY into a temporary
-- table, then INSERT ... ON CONFLICT DO NOTHING: a request id seen twice keeps its first row).
CREATE TABLE shadow.comparisons (
    request_id           text        PRIMARY KEY,
    route                text        NOT NULL,
    at                   timestamptz NOT NULL,
    served_by            text        NOT NULL CHECK (served_by IN ('legacy', 'candidate')),
    outcome              text        NOT NULL CHECK (outcome IN
                             ('matched', 'ignored', 'mismatched', 'candidate_error', 'skipped')),
    error                text,                      -- candidate error kind or skip reason
    fields               text[]      NOT NULL DEFAULT '{}',  -- mismatched fields
    ignored              text[]      NOT NULL DEFAULT '{}',  -- rule names ("noise" included)
    legacy_status        integer,
    candidate_status     integer,
    legacy_latency_us    bigint,
    candidate_latency_us bigint,
    legacy_ttfb_us       bigint,
    candidate_ttfb_us    bigint
);
CREATE INDEX comparisons_by_route_at ON shadow.comparisons (route, at);
CREATE INDEX comparisons_by_at ON shadow.comparisons (at);

-- At most 5 examples per (route, field), redacted before they are written.
CREATE TABLE shadow.examples (
    route       text        NOT NULL,
    field       text        NOT NULL,
    request_id  text        NOT NULL,
    at          timestamptz NOT NULL,
    diff        jsonb       NOT NULL,   -- {path, kind, control, candidate}
    explanation jsonb,
    request     jsonb       NOT NULL,   -- {method, target, headers, body}
    legacy      jsonb       NOT NULL,   -- {status, headers, body}
    candidate   jsonb       NOT NULL,
    PRIMARY KEY (route, field, request_id)
);
CREATE INDEX examples_by_route_field_at ON shadow.examples (route, field, at DESC);

-- Per route, minute and writer process: each writer upserts its own in-memory minute whole,
-- so two writers never read-modify-write one row; a report merges the rows of its range.
CREATE TABLE shadow.windows (
    route             text        NOT NULL,
    minute            timestamptz NOT NULL,
    writer            text        NOT NULL,
    matched           bigint      NOT NULL DEFAULT 0,
    ignored           bigint      NOT NULL DEFAULT 0,
    mismatched        bigint      NOT NULL DEFAULT 0,
    candidate_errors  bigint      NOT NULL DEFAULT 0,
    skipped           bigint      NOT NULL DEFAULT 0,
    legacy_5xx        bigint      NOT NULL DEFAULT 0,   -- among compared requests
    fields            jsonb       NOT NULL DEFAULT '{}', -- mismatched {field: {kind: n}}
    diff_fields       jsonb       NOT NULL DEFAULT '{}', -- every candidate diff {field: n}
    noise_comparisons bigint      NOT NULL DEFAULT 0,   -- legacy-vs-legacy comparisons
    noise_fields      jsonb       NOT NULL DEFAULT '{}', -- legacy-vs-legacy diffs {field: n}
    skipped_reasons   jsonb       NOT NULL DEFAULT '{}', -- {reason: n}
    error_kinds       jsonb       NOT NULL DEFAULT '{}', -- {candidate error kind: n}
    ignored_rules     jsonb       NOT NULL DEFAULT '{}', -- {rule name: n}
    legacy_ms         bytea,                            -- DDSketch (shadow/windows.py format)
    candidate_ms      bytea,
    legacy_ttfb_ms    bytea,
    candidate_ttfb_ms bytea,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (route, minute, writer)
);
CREATE INDEX windows_by_minute ON shadow.windows (minute);

-- One row per joined request (written by the billing joiner, read by the report).
CREATE TABLE shadow.billing (
    request_id        text        PRIMARY KEY,
    route             text        NOT NULL,
    tenant_id         uuid,
    legacy_credits    numeric(20, 4),
    candidate_credits numeric(20, 4),
    legacy_units      jsonb       NOT NULL DEFAULT '{}',  -- {unit: quantity as string}
    candidate_units   jsonb       NOT NULL DEFAULT '{}',
    state             text        NOT NULL CHECK (state IN
                          ('joined', 'candidate_missing', 'legacy_missing', 'live_row_for_shadow')),
    checked_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX billing_by_route_checked_at ON shadow.billing (route, checked_at);
CREATE INDEX billing_by_checked_at ON shadow.billing (checked_at);

-- Live ignore rules added with `banyan shadow-ignore` (the row is its own audit record).
CREATE TABLE shadow.ignore_rules (
    route      text        NOT NULL,
    name       text        NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9_.-]*$'),
    path       text        NOT NULL CHECK (length(path) > 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by text        NOT NULL CHECK (length(created_by) > 0),
    reason     text,
    PRIMARY KEY (route, name)
);
