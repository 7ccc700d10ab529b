-- Administrative access: keys, accounts, sessions, API tokens, invitations,
-- configuration drafts and the audit log (PostgreSQL).
--
-- The same tables and CHECKs as the SQLite migration 0002, in native types
-- (conventions as in 0001 here). Secrets are never stored: bearer secrets
-- (session ids, API tokens, invitations, recovery codes) as SHA-256 hashes,
-- other secrets (TOTP seeds, e-mail addresses, signing keys) sealed with a
-- data key ("v1.{key id}.{ciphertext}"), e-mail addresses found through a
-- keyed hash.
--
-- Times are `timestamptz`, to the microsecond: times the callers hand in
-- (session and token times, lock-outs, audit times) are truncated to the
-- microsecond before the store uses them. Audit entries in particular are
-- hashed over their time in nanoseconds, so the store truncates an entry's
-- time before computing its hash, and what is read back verifies.
--
-- Beyond the list in 0001's header, this schema and the admin store use:
-- 7. `pg_advisory_xact_lock` to serialise appends to one audit chain across
--    server processes (the head read and the entry written after it). On
--    an engine where advisory locks are no-ops, the primary key
--    (chain, seq) still refuses a second entry with the same seq: a lost
--    race becomes an error, never a fork of the chain.
-- 8. Statement triggers on TRUNCATE (append-only audit tables), as for
--    `site_configs` in 0001.

-- Data keys, wrapped by a key-encryption key that lives outside the database
-- ("{kek id}.{ciphertext}"). One per scope: 'platform' (installation-wide
-- secrets), 'platform-index' (keyed lookup hashes), or a tenant id.
CREATE TABLE data_keys (
    id         text        NOT NULL PRIMARY KEY,
    scope      text        NOT NULL UNIQUE,
    wrapped    text        NOT NULL,
    created_at timestamptz NOT NULL
);

-- Ed25519 keys that sign audit checkpoints; the seed sealed with the
-- platform data key, the public key in clear so that anyone can verify.
CREATE TABLE signing_keys (
    id          text        NOT NULL PRIMARY KEY,
    public_key  bytea       NOT NULL CHECK (length(public_key) = 32),
    seed_sealed text        NOT NULL,
    created_at  timestamptz NOT NULL
);

-- Admin users. A platform operator has no tenant; everyone else has one.
CREATE TABLE users (
    id                  uuid        NOT NULL PRIMARY KEY,
    tenant_id           uuid        REFERENCES tenants (id),
    -- HMAC of the normalised address with the 'platform-index' key. The
    -- store recognises a taken address by this constraint's name.
    email_index         bytea       NOT NULL CHECK (length(email_index) = 32),
    email_sealed        text        NOT NULL,
    password_hash       text        NOT NULL,
    role                text        NOT NULL CHECK (role IN ('owner', 'admin', 'editor',
                                                             'publisher', 'analyst', 'auditor',
                                                             'viewer', 'platform_operator')),
    totp_sealed         text,
    totp_pending_sealed text,
    -- The last TOTP time step accepted: a code of that step or an earlier
    -- one is a replay.
    totp_last_step      bigint,
    -- bigint: the count is a u32 in the code.
    failures            bigint      NOT NULL DEFAULT 0 CHECK (failures >= 0),
    locked_until        timestamptz,
    created_at          timestamptz NOT NULL,
    CONSTRAINT users_email_index_unique UNIQUE (email_index),
    CHECK ((role = 'platform_operator') = (tenant_id IS NULL))
);

CREATE INDEX users_by_tenant ON users (tenant_id);

CREATE TABLE recovery_codes (
    user_id   uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash bytea       NOT NULL CHECK (length(code_hash) = 32),
    used_at   timestamptz,
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE sessions (
    id_hash      bytea       NOT NULL PRIMARY KEY CHECK (length(id_hash) = 32),
    user_id      uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    mfa_verified boolean     NOT NULL,
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL
);

CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id           uuid        NOT NULL PRIMARY KEY,
    tenant_id    uuid        NOT NULL REFERENCES tenants (id),
    name         text        NOT NULL,
    role         text        NOT NULL CHECK (role IN ('admin', 'editor', 'publisher', 'analyst',
                                                      'auditor', 'viewer')),
    secret_hash  bytea       NOT NULL UNIQUE CHECK (length(secret_hash) = 32),
    created_by   text        NOT NULL,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    last_used_at timestamptz,
    revoked_at   timestamptz
);

CREATE INDEX api_tokens_by_tenant ON api_tokens (tenant_id);

CREATE TABLE invitations (
    id           uuid        NOT NULL PRIMARY KEY,
    tenant_id    uuid        NOT NULL REFERENCES tenants (id),
    email_index  bytea       NOT NULL CHECK (length(email_index) = 32),
    email_sealed text        NOT NULL,
    role         text        NOT NULL,
    secret_hash  bytea       NOT NULL UNIQUE CHECK (length(secret_hash) = 32),
    created_by   text        NOT NULL,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    accepted_at  timestamptz
);

CREATE INDEX invitations_by_tenant ON invitations (tenant_id);

-- The configuration being edited for a site; publishing copies it into
-- site_configs. `revision` makes concurrent edits fail instead of one
-- silently overwriting the other.
CREATE TABLE config_drafts (
    site_id     uuid        NOT NULL PRIMARY KEY REFERENCES sites (id),
    revision    integer     NOT NULL CHECK (revision >= 1),
    config_json text        NOT NULL CHECK (config_json::json IS NOT NULL),
    updated_at  timestamptz NOT NULL
);

-- The audit log: one hash chain per tenant ('platform' for the
-- installation's own events). Append-only: the triggers below refuse
-- changes (they stop mistakes, not the table's owner, who can disable
-- triggers), and the chain makes a change made around them detectable
-- (`nexaguard audit verify`).
CREATE TABLE audit_log (
    chain          text        NOT NULL,
    seq            bigint      NOT NULL CHECK (seq >= 1),
    id             uuid        NOT NULL UNIQUE,
    at             timestamptz NOT NULL,
    action         text        NOT NULL,
    actor          text        NOT NULL,
    target         text        NOT NULL,
    outcome        text        NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
    client_network text,
    -- Text, not jsonb, like the other JSON columns; the entry hash covers
    -- the canonical form of the details, so any spelling that parses to
    -- the same value verifies.
    details        text        NOT NULL CHECK (details::json IS NOT NULL),
    prev_hash      bytea       NOT NULL CHECK (length(prev_hash) = 32),
    hash           bytea       NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (chain, seq)
);

CREATE INDEX audit_log_by_time ON audit_log (chain, at);

CREATE FUNCTION audit_is_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only'
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;

CREATE TRIGGER audit_log_no_update_or_delete
BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_is_append_only();

-- TRUNCATE fires no row triggers; without this it would empty the table.
CREATE TRIGGER audit_log_no_truncate
BEFORE TRUNCATE ON audit_log
FOR EACH STATEMENT EXECUTE FUNCTION audit_is_append_only();

CREATE TABLE audit_checkpoints (
    chain     text        NOT NULL,
    seq       bigint      NOT NULL CHECK (seq >= 1),
    hash      bytea       NOT NULL CHECK (length(hash) = 32),
    at        timestamptz NOT NULL,
    key_id    text        NOT NULL,
    signature bytea       NOT NULL CHECK (length(signature) = 64),
    PRIMARY KEY (chain, seq)
);

-- Checkpoints are append-only too (SQLite leaves them unguarded): removing
-- the newest ones would hide a cut-off tail of the log.
CREATE TRIGGER audit_checkpoints_no_update_or_delete
BEFORE UPDATE OR DELETE ON audit_checkpoints
FOR EACH ROW EXECUTE FUNCTION audit_is_append_only();

CREATE TRIGGER audit_checkpoints_no_truncate
BEFORE TRUNCATE ON audit_checkpoints
FOR EACH STATEMENT EXECUTE FUNCTION audit_is_append_only();

-- Admin queries over consents: a site environment's records, newest
-- first, by keyset pages. Without this index a small site in a large
-- multi-tenant database would be found by walking everyone's records.
CREATE INDEX consents_by_site_time
    ON consents (site_id, environment, recorded_at, recorded_at_ns, event_id);
