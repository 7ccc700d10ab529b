-- Webhooks: consent events delivered to a site's configured URLs, from an
-- outbox (SQLite). Conventions as in 0001.
--
-- A delivery row is written by the consent writer in the same transaction
-- as the consent it carries, so an acknowledged consent is never without
-- its deliveries; a duplicate event id inserts no consent and so no
-- delivery. The delivery worker claims due rows, posts them and marks them
-- delivered, due again later, or dead.

CREATE TABLE webhooks (
    id            TEXT    NOT NULL PRIMARY KEY CHECK (length(id) = 36),
    tenant_id     TEXT    NOT NULL REFERENCES tenants (id),
    site_id       TEXT    NOT NULL REFERENCES sites (id),
    url           TEXT    NOT NULL,
    -- The signing secret sealed with the tenant's data key
    -- ("v1.{key id}.{ciphertext}"); never stored in clear.
    secret_sealed TEXT    NOT NULL,
    enabled       INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    created_at    TEXT    NOT NULL CHECK (length(created_at) = 30),
    updated_at    TEXT    NOT NULL CHECK (length(updated_at) = 30)
) STRICT;

-- The consent writer looks up a site's enabled webhooks for every event.
CREATE INDEX webhooks_by_site ON webhooks (site_id, enabled);
CREATE INDEX webhooks_by_tenant ON webhooks (tenant_id);

CREATE TABLE webhook_deliveries (
    id              TEXT    NOT NULL PRIMARY KEY CHECK (length(id) = 36),
    webhook_id      TEXT    NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id        TEXT    NOT NULL CHECK (length(event_id) = 36),
    -- The recorded consent event as JSON; cleared once delivered (nothing
    -- needs it any more), kept while pending or dead for (re)delivery.
    payload         TEXT    CHECK (payload IS NULL OR json_valid(payload)),
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
    -- Attempts started; counted when a worker claims the row.
    attempts        INTEGER NOT NULL CHECK (attempts >= 0),
    -- When the row is due; while claimed, when the claim lapses.
    next_attempt_at TEXT    NOT NULL CHECK (length(next_attempt_at) = 30),
    -- The claim of the worker sending it: only that claim may settle it.
    lease           TEXT    CHECK (lease IS NULL OR length(lease) = 36),
    -- Why the last attempt failed, short and without personal data.
    last_error      TEXT    CHECK (last_error IS NULL OR length(last_error) <= 200),
    -- The receiver's HTTP status of the last attempt, if it answered.
    last_status     INTEGER,
    created_at      TEXT    NOT NULL CHECK (length(created_at) = 30),
    updated_at      TEXT    NOT NULL CHECK (length(updated_at) = 30),
    delivered_at    TEXT    CHECK (delivered_at IS NULL OR length(delivered_at) = 30),
    UNIQUE (webhook_id, event_id)
) STRICT;

-- The worker's poll: due pending rows, oldest due first.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE status = 'pending';
-- The deliveries API: a webhook's rows, newest first.
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, created_at);
-- Retention.
CREATE INDEX webhook_deliveries_by_created ON webhook_deliveries (created_at);
