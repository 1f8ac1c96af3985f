-- Line items (issue 5; rfcs/0004 §8): one request may settle several units — a chat completion
-- is priced in tokens_in and tokens_out. A reservation still holds one amount against one
-- wallet, and remembers the price of each unit it may settle; the ledgers take one row per
-- (request id, unit), so exactly-once charging holds per line item.
CREATE TABLE legacy.reservation_units (
    reservation_id   uuid          NOT NULL REFERENCES legacy.reservations (id),
    unit             text          NOT NULL
        CHECK (unit IN ('characters', 'audio_seconds', 'tokens_in', 'tokens_out', 'pages', 'requests')),
    credits_per_unit numeric(20,8) NOT NULL CHECK (credits_per_unit >= 0),
    PRIMARY KEY (reservation_id, unit)
);

INSERT INTO legacy.reservation_units (reservation_id, unit, credits_per_unit)
SELECT id, unit, credits_per_unit FROM legacy.reservations;

ALTER TABLE legacy.reservations DROP COLUMN unit, DROP COLUMN credits_per_unit;

-- The ledger's old key (one row per request id) becomes one row per request id and unit.
ALTER TABLE legacy.ledger
    DROP CONSTRAINT ledger_request_id_key,
    ADD CONSTRAINT ledger_request_id_unit_key UNIQUE (request_id, unit);
ALTER TABLE legacy.shadow_ledger
    DROP CONSTRAINT shadow_ledger_request_id_key,
    ADD CONSTRAINT shadow_ledger_request_id_unit_key UNIQUE (request_id, unit);
