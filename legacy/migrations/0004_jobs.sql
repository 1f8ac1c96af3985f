-- Batch jobs (issue 8; rfcs/0007): a job and its files, the files being the queue's tasks.
-- A task is a job_files row in state 'queued' (or 'running' with an expired lease: its worker
-- died); workers take one with FOR UPDATE SKIP LOCKED. The public job_id is jobs.id.
CREATE TABLE legacy.jobs (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    kind          text        NOT NULL
        CHECK (kind IN ('stt', 'stt-translate', 'doc-ai-digitise', 'doc-ai-extract')),
    tenant_id     uuid        NOT NULL REFERENCES legacy.tenants (id),
    -- Created by a mirrored request (X-Banyan-Shadow): its files settle in the shadow ledger.
    shadow        boolean     NOT NULL DEFAULT false,
    parameters    jsonb       NOT NULL,
    callback      jsonb,
    state         text        NOT NULL DEFAULT 'Accepted'
        CHECK (state IN ('Accepted', 'Pending', 'Running', 'Completed', 'PartiallyCompleted',
                         'Failed')),
    error_message text,
    -- The request that created the job: logs, and the shadow engine's joins.
    request_id    text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_by_tenant ON legacy.jobs (tenant_id, created_at);

CREATE TABLE legacy.job_files (
    job_id           uuid          NOT NULL REFERENCES legacy.jobs (id),
    file_id          uuid          NOT NULL DEFAULT gen_random_uuid(),
    position         integer       NOT NULL,
    name             text          NOT NULL,
    object_key       text          NOT NULL,
    content_type     text,
    state            text          NOT NULL DEFAULT 'registered'
        CHECK (state IN ('registered', 'queued', 'running', 'Success', 'API Error',
                         'Internal Server Error')),
    -- The hold for this file (request id job:<job_id>:<file_id>), taken when the job starts.
    reservation_id   uuid          REFERENCES legacy.reservations (id),
    unit             text,
    estimate         numeric(20,4),
    quantity         numeric(20,4),
    output_key       text,
    output_name      text,
    attempts         integer       NOT NULL DEFAULT 0,
    lease_owner      text,
    lease_expires_at timestamptz,
    available_at     timestamptz   NOT NULL DEFAULT now(),
    error_message    text,
    exception_name   text,
    pages_total      integer,
    pages_succeeded  integer,
    -- Seconds the successful run took: the median of recent ones sizes Retry-After.
    run_seconds      real,
    updated_at       timestamptz   NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, file_id),
    UNIQUE (job_id, name)
);
-- The queue and the leases: what a worker's claim and the back-pressure count read.
CREATE INDEX job_files_queued ON legacy.job_files (available_at) WHERE state = 'queued';
CREATE INDEX job_files_leased ON legacy.job_files (lease_expires_at) WHERE state = 'running';

-- doc-ai's presigned uploads (POST /doc-ai/v1/job/upload): an object a later digitise or
-- extract names by upload_id, usable by the tenant that asked for it, once.
CREATE TABLE legacy.doc_uploads (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id    uuid        NOT NULL REFERENCES legacy.tenants (id),
    object_key   text        NOT NULL,
    content_type text,
    expires_at   timestamptz NOT NULL,
    used_by      uuid        REFERENCES legacy.jobs (id),
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- Batch speech is priced below the real-time API (it can wait for a free worker).
INSERT INTO legacy.prices (version, route, unit, credits_per_unit) VALUES
    (1, 'speech-to-text-job',           'audio_seconds', 0.0080),
    (1, 'speech-to-text-translate-job', 'audio_seconds', 0.0100);
