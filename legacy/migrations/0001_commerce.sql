-- The commercial layer (rfcs/0001 §5): tenants, API keys, prices, wallets, reservations and
-- the live and shadow ledgers. Money is NUMERIC credits with 4 decimal places; the rounding
-- rule is in legacy/commerce/pricing.py.
CREATE SCHEMA IF NOT EXISTS legacy;

-- A tenant's plan is its rate limits (requests and metered units per minute; 0 = unlimited).
CREATE TABLE legacy.tenants (
    id                  uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    name                text        NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    requests_per_minute integer     NOT NULL DEFAULT 600 CHECK (requests_per_minute >= 0),
    units_per_minute    integer     NOT NULL DEFAULT 0 CHECK (units_per_minute >= 0),
    created_at          timestamptz NOT NULL DEFAULT now()
);

-- Only a hash of each key is stored; the key itself is shown once, when it is made.
CREATE TABLE legacy.api_keys (
    key_hash   bytea       PRIMARY KEY,
    tenant_id  uuid        NOT NULL REFERENCES legacy.tenants (id),
    prefix     text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);

-- balance: credits owned; reserved: credits held by open reservations. Never negative,
-- never more held than owned: the database refuses it, whatever the code does.
CREATE TABLE legacy.wallets (
    tenant_id uuid          PRIMARY KEY REFERENCES legacy.tenants (id),
    balance   numeric(20,4) NOT NULL DEFAULT 0 CHECK (balance >= 0),
    reserved  numeric(20,4) NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    CHECK (reserved <= balance)
);

-- Versioned prices: a version applies from its effective time; rows are never edited.
CREATE TABLE legacy.price_versions (
    version        integer     PRIMARY KEY,
    effective_from timestamptz NOT NULL DEFAULT now(),
    note           text        NOT NULL DEFAULT ''
);

CREATE TABLE legacy.prices (
    version          integer       NOT NULL REFERENCES legacy.price_versions (version),
    route            text          NOT NULL,
    model            text          NOT NULL DEFAULT '*',
    unit             text          NOT NULL
        CHECK (unit IN ('characters', 'audio_seconds', 'tokens_in', 'tokens_out', 'pages', 'requests')),
    credits_per_unit numeric(20,8) NOT NULL CHECK (credits_per_unit >= 0),
    PRIMARY KEY (version, route, model, unit)
);

INSERT INTO legacy.price_versions (version, effective_from, note)
VALUES (1, '2026-01-01T00:00:00Z', 'launch prices');

INSERT INTO legacy.prices (version, route, unit, credits_per_unit) VALUES
    (1, 'translate',                'characters',    0.0020),
    (1, 'transliterate',            'characters',    0.0010),
    (1, 'text-lid',                 'characters',    0.0005),
    (1, 'text-to-speech',           'characters',    0.0030),
    (1, 'text-to-speech-stream',    'characters',    0.0030),
    (1, 'text-to-speech-ws',        'characters',    0.0030),
    (1, 'speech-to-text',           'audio_seconds', 0.0100),
    (1, 'speech-to-text-translate', 'audio_seconds', 0.0120),
    (1, 'speech-to-text-ws',        'audio_seconds', 0.0100),
    (1, 'chat-completions',         'tokens_in',     0.0004),
    (1, 'chat-completions',         'tokens_out',    0.0012),
    (1, 'doc-ai',                   'pages',         1.0000);

-- A hold on a wallet for one request; settled, released, or expired when its holder died.
CREATE TABLE legacy.reservations (
    id               uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    request_id       text          NOT NULL,
    tenant_id        uuid          NOT NULL REFERENCES legacy.tenants (id),
    route            text          NOT NULL,
    unit             text          NOT NULL,
    price_version    integer       NOT NULL,
    credits_per_unit numeric(20,8) NOT NULL,
    amount           numeric(20,4) NOT NULL CHECK (amount >= 0),
    shadow           boolean       NOT NULL,
    state            text          NOT NULL DEFAULT 'open'
        CHECK (state IN ('open', 'settled', 'released', 'expired')),
    created_at       timestamptz   NOT NULL DEFAULT now(),
    expires_at       timestamptz   NOT NULL
);
CREATE INDEX reservations_open_by_expiry ON legacy.reservations (expires_at) WHERE state = 'open';

-- Append-only ledgers, one row per request id (exactly-once charging).
CREATE TABLE legacy.ledger (
    id            bigserial     PRIMARY KEY,
    request_id    text          NOT NULL UNIQUE,
    tenant_id     uuid          NOT NULL REFERENCES legacy.tenants (id),
    route         text          NOT NULL,
    unit          text          NOT NULL,
    quantity      numeric(20,4) NOT NULL CHECK (quantity >= 0),
    price_version integer       NOT NULL,
    credits       numeric(20,4) NOT NULL CHECK (credits >= 0),
    created_at    timestamptz   NOT NULL DEFAULT now()
);

-- What a request marked X-Banyan-Shadow would have cost: never touches a wallet.
CREATE TABLE legacy.shadow_ledger (
    id            bigserial     PRIMARY KEY,
    request_id    text          NOT NULL UNIQUE,
    tenant_id     uuid          NOT NULL REFERENCES legacy.tenants (id),
    route         text          NOT NULL,
    unit          text          NOT NULL,
    quantity      numeric(20,4) NOT NULL CHECK (quantity >= 0),
    price_version integer       NOT NULL,
    credits       numeric(20,4) NOT NULL CHECK (credits >= 0),
    created_at    timestamptz   NOT NULL DEFAULT now()
);

CREATE FUNCTION legacy.refuse_ledger_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledgers are append-only: % on %.% refused', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME;
END $$;

CREATE TRIGGER ledger_append_only BEFORE UPDATE OR DELETE ON legacy.ledger
    FOR EACH ROW EXECUTE FUNCTION legacy.refuse_ledger_change();
CREATE TRIGGER shadow_ledger_append_only BEFORE UPDATE OR DELETE ON legacy.shadow_ledger
    FOR EACH ROW EXECUTE FUNCTION legacy.refuse_ledger_change();
-- TRUNCATE skips row triggers; refuse it too.
CREATE TRIGGER ledger_no_truncate BEFORE TRUNCATE ON legacy.ledger
    FOR EACH STATEMENT EXECUTE FUNCTION legacy.refuse_ledger_change();
CREATE TRIGGER shadow_ledger_no_truncate BEFORE TRUNCATE ON legacy.shadow_ledger
    FOR EACH STATEMENT EXECUTE FUNCTION legacy.refuse_ledger_change();
