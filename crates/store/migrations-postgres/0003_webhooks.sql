-- Webhooks: consent events delivered to a site's configured URLs, from an
-- outbox (PostgreSQL). Conventions as in 0001.
--
-- A delivery row is written by the statement that records the consent (a
-- further data-modifying CTE), so an acknowledged consent is never without
-- its deliveries; a duplicate event id inserts no consent and so no
-- delivery. Several nodes may run delivery workers on one database: a
-- worker claims due rows with `FOR UPDATE SKIP LOCKED` and a lease, so a
-- row is sent by one worker at a time.
--
-- Unlike the rest of the schema, delivery ids are made by the server
-- (`gen_random_uuid()`, core since PostgreSQL 13, also in CockroachDB and
-- YugabyteDB): the consent statement makes one row per enabled webhook of
-- the site and does not know beforehand how many.

CREATE TABLE webhooks (
    id            uuid        NOT NULL PRIMARY KEY,
    tenant_id     uuid        NOT NULL REFERENCES tenants (id),
    site_id       uuid        NOT NULL REFERENCES sites (id),
    url           text        NOT NULL,
    -- The signing secret sealed with the tenant's data key; never in clear.
    secret_sealed text        NOT NULL,
    enabled       boolean     NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);

CREATE INDEX webhooks_by_site ON webhooks (site_id) WHERE enabled;
CREATE INDEX webhooks_by_tenant ON webhooks (tenant_id);

CREATE TABLE webhook_deliveries (
    id              uuid        NOT NULL PRIMARY KEY,
    webhook_id      uuid        NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id        uuid        NOT NULL,
    -- The recorded consent event as JSON text (see 0001 on `text`);
    -- cleared once delivered, kept while pending or dead.
    payload         text        CHECK (payload IS NULL OR payload::json IS NOT NULL),
    status          text        NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts        integer     NOT NULL CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL,
    lease           uuid,
    last_error      text        CHECK (last_error IS NULL OR length(last_error) <= 200),
    last_status     integer,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    delivered_at    timestamptz,
    UNIQUE (webhook_id, event_id)
);

CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, created_at);
CREATE INDEX webhook_deliveries_by_created ON webhook_deliveries (created_at);
