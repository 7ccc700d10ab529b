-- NexaGuard's initial schema (SQLite).
--
-- Conventions:
-- - Ids are UUIDs as lowercase hyphenated text, so that the file can be
--   inspected with the sqlite3 shell and joined by eye.
-- - Timestamps are UTC text with exactly nine fractional digits
--   (`2024-05-01T12:00:00.123456789Z`, 30 characters). The fixed width makes
--   text order equal time order, so range scans (`recorded_at < cutoff`) use
--   plain indexes, and nanoseconds round-trip exactly.
-- - Tables are STRICT so that a bug binding the wrong type fails loudly
--   instead of being stored by SQLite's type affinity.

CREATE TABLE tenants (
    id         TEXT NOT NULL PRIMARY KEY CHECK (length(id) = 36),
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL CHECK (length(created_at) = 30)
) STRICT;

CREATE TABLE sites (
    id         TEXT NOT NULL PRIMARY KEY CHECK (length(id) = 36),
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    name       TEXT NOT NULL,
    -- A JSON array of origin strings.
    origins    TEXT NOT NULL CHECK (json_valid(origins) AND json_type(origins) = 'array'),
    created_at TEXT NOT NULL CHECK (length(created_at) = 30)
) STRICT;

-- Foreign keys are not indexed automatically; tenant-scoped listings need it.
CREATE INDEX sites_by_tenant ON sites (tenant_id);

-- The public keys the SDK posts with: one per site environment. The prefix
-- tells a leaked key's environment at a glance, and the CHECK keeps a key
-- from being filed under the other environment.
CREATE TABLE site_keys (
    key         TEXT NOT NULL PRIMARY KEY,
    site_id     TEXT NOT NULL REFERENCES sites (id),
    environment TEXT NOT NULL CHECK (environment IN ('production', 'staging')),
    UNIQUE (site_id, environment),
    CHECK (length(key) = 36),
    CHECK (substr(key, 1, 4) = CASE environment WHEN 'production' THEN 'ngp_' ELSE 'ngs_' END)
) STRICT;

-- Every published version of a site environment's configuration. A consent
-- record names the version the banner showed, so that version must stay
-- exactly as it was: the triggers below make rows immutable.
CREATE TABLE site_configs (
    site_id      TEXT NOT NULL REFERENCES sites (id),
    environment  TEXT NOT NULL CHECK (environment IN ('production', 'staging')),
    version      INTEGER NOT NULL CHECK (version >= 1),
    config_json  TEXT NOT NULL CHECK (json_valid(config_json)),
    published_at TEXT NOT NULL CHECK (length(published_at) = 30),
    PRIMARY KEY (site_id, environment, version)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER site_configs_no_update
BEFORE UPDATE ON site_configs
BEGIN
    SELECT RAISE(ABORT, 'published configurations are immutable: publish a new version');
END;

CREATE TRIGGER site_configs_no_delete
BEFORE DELETE ON site_configs
BEGIN
    SELECT RAISE(ABORT, 'published configurations are immutable: publish a new version');
END;

-- Consent records. `body` is the recorded ConsentEvent as JSON, the evidence
-- as it was committed; the other columns are copies for lookups.
-- The implicit rowid breaks ties between equal `recorded_at` values by
-- insertion order.
CREATE TABLE consents (
    event_id    TEXT NOT NULL PRIMARY KEY CHECK (length(event_id) = 36),
    site_id     TEXT NOT NULL REFERENCES sites (id),
    environment TEXT NOT NULL CHECK (environment IN ('production', 'staging')),
    -- HMAC of the consent token; the token itself is never stored.
    token_hash  BLOB NOT NULL CHECK (length(token_hash) = 32),
    -- SHA-256 of the posted body, to tell a retry from a conflicting reuse
    -- of an event id.
    body_hash   BLOB NOT NULL CHECK (length(body_hash) = 32),
    recorded_at TEXT NOT NULL CHECK (length(recorded_at) = 30),
    body        TEXT NOT NULL CHECK (json_valid(body))
) STRICT;

-- Restoring a token's consent: the newest event of a token in a site
-- environment. Also serves per-site-environment counts.
CREATE INDEX consents_by_token ON consents (site_id, environment, token_hash, recorded_at);

-- Retention: deleting everything recorded before a cutoff.
CREATE INDEX consents_by_recorded_at ON consents (recorded_at);
