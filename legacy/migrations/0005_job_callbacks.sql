-- Job callbacks (rfcs/0007 §9): a job created with a callback is POSTed to it once it ends.
-- Delivery is at least once and durable: a pending callback is a row, taken by a worker's
-- sender with SKIP LOCKED like a file, retried with backoff, given up after its attempts.
ALTER TABLE legacy.jobs
    ADD COLUMN callback_state    text CHECK (callback_state IN ('pending', 'delivered', 'failed')),
    ADD COLUMN callback_attempts integer NOT NULL DEFAULT 0,
    ADD COLUMN callback_next_at  timestamptz,
    ADD COLUMN callback_error    text;
CREATE INDEX jobs_callbacks_due ON legacy.jobs (callback_next_at) WHERE callback_state = 'pending';
