-- The audit trail of live route changes (rfcs/0003): who, when, from -> to, why, evidence.
CREATE SCHEMA IF NOT EXISTS proxy;

CREATE TABLE proxy.route_changes (
    id          bigserial   PRIMARY KEY,
    fleet       text        NOT NULL,
    route       text        NOT NULL,
    action      text        NOT NULL CHECK (action IN ('set', 'promote', 'rollback')),
    actor       text        NOT NULL CHECK (length(actor) > 0),
    reason      text        NOT NULL CHECK (length(btrim(reason)) > 0),
    from_state  jsonb       NOT NULL,
    to_state    jsonb       NOT NULL,
    forced      boolean     NOT NULL DEFAULT false,
    evidence    jsonb,
    changed_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX route_changes_by_route ON proxy.route_changes (fleet, route, changed_at DESC);
