-- Administrative access: keys, accounts, sessions, API tokens, invitations,
-- configuration drafts and the audit log (SQLite).
--
-- Conventions as in 0001. Secrets are never stored: bearer secrets (session
-- ids, API tokens, invitations, recovery codes) as SHA-256 hashes, other
-- secrets (TOTP seeds, e-mail addresses, signing keys) sealed with a data key
-- ("v1.{key id}.{ciphertext}"), e-mail addresses found through a keyed hash.

-- Data keys, wrapped by a key-encryption key that lives outside the database
-- ("{kek id}.{ciphertext}"). One per scope: 'platform' (installation-wide
-- secrets), 'platform-index' (keyed lookup hashes), or a tenant id.
CREATE TABLE data_keys (
    id         TEXT NOT NULL PRIMARY KEY,
    scope      TEXT NOT NULL UNIQUE,
    wrapped    TEXT NOT NULL,
    created_at TEXT NOT NULL CHECK (length(created_at) = 30)
) STRICT;

-- Ed25519 keys that sign audit checkpoints; the seed sealed with the
-- platform data key, the public key in clear so that anyone can verify.
CREATE TABLE signing_keys (
    id          TEXT NOT NULL PRIMARY KEY,
    public_key  BLOB NOT NULL CHECK (length(public_key) = 32),
    seed_sealed TEXT NOT NULL,
    created_at  TEXT NOT NULL CHECK (length(created_at) = 30)
) STRICT;

-- Admin users. A platform operator has no tenant; everyone else has one.
CREATE TABLE users (
    id                  TEXT NOT NULL PRIMARY KEY CHECK (length(id) = 36),
    tenant_id           TEXT REFERENCES tenants (id),
    -- HMAC of the normalised address with the 'platform-index' key.
    email_index         BLOB NOT NULL UNIQUE CHECK (length(email_index) = 32),
    email_sealed        TEXT NOT NULL,
    password_hash       TEXT NOT NULL,
    role                TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'editor', 'publisher',
                                                      'analyst', 'auditor', 'viewer',
                                                      'platform_operator')),
    totp_sealed         TEXT,
    totp_pending_sealed TEXT,
    -- The last TOTP time step accepted: a code of that step or an earlier
    -- one is a replay.
    totp_last_step      INTEGER,
    failures            INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
    locked_until        TEXT CHECK (locked_until IS NULL OR length(locked_until) = 30),
    created_at          TEXT NOT NULL CHECK (length(created_at) = 30),
    CHECK ((role = 'platform_operator') = (tenant_id IS NULL))
) STRICT;

CREATE INDEX users_by_tenant ON users (tenant_id);

CREATE TABLE recovery_codes (
    user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash BLOB NOT NULL CHECK (length(code_hash) = 32),
    used_at   TEXT,
    PRIMARY KEY (user_id, code_hash)
) STRICT, WITHOUT ROWID;

CREATE TABLE sessions (
    id_hash      BLOB NOT NULL PRIMARY KEY CHECK (length(id_hash) = 32),
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    mfa_verified INTEGER NOT NULL CHECK (mfa_verified IN (0, 1)),
    created_at   TEXT NOT NULL CHECK (length(created_at) = 30),
    last_seen_at TEXT NOT NULL CHECK (length(last_seen_at) = 30)
) STRICT, WITHOUT ROWID;

CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id           TEXT NOT NULL PRIMARY KEY CHECK (length(id) = 36),
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    name         TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'publisher', 'analyst',
                                               'auditor', 'viewer')),
    secret_hash  BLOB NOT NULL UNIQUE CHECK (length(secret_hash) = 32),
    created_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL CHECK (length(created_at) = 30),
    expires_at   TEXT NOT NULL CHECK (length(expires_at) = 30),
    last_used_at TEXT CHECK (last_used_at IS NULL OR length(last_used_at) = 30),
    revoked_at   TEXT CHECK (revoked_at IS NULL OR length(revoked_at) = 30)
) STRICT;

CREATE INDEX api_tokens_by_tenant ON api_tokens (tenant_id);

CREATE TABLE invitations (
    id           TEXT NOT NULL PRIMARY KEY CHECK (length(id) = 36),
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    email_index  BLOB NOT NULL CHECK (length(email_index) = 32),
    email_sealed TEXT NOT NULL,
    role         TEXT NOT NULL,
    secret_hash  BLOB NOT NULL UNIQUE CHECK (length(secret_hash) = 32),
    created_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL CHECK (length(created_at) = 30),
    expires_at   TEXT NOT NULL CHECK (length(expires_at) = 30),
    accepted_at  TEXT
) STRICT;

CREATE INDEX invitations_by_tenant ON invitations (tenant_id);

-- The configuration being edited for a site; publishing copies it into
-- site_configs. `revision` makes concurrent edits fail instead of one
-- silently overwriting the other.
CREATE TABLE config_drafts (
    site_id     TEXT NOT NULL PRIMARY KEY REFERENCES sites (id),
    revision    INTEGER NOT NULL CHECK (revision >= 1),
    config_json TEXT NOT NULL CHECK (json_valid(config_json)),
    updated_at  TEXT NOT NULL CHECK (length(updated_at) = 30)
) STRICT;

-- The audit log: one hash chain per tenant ('platform' for the
-- installation's own events). Append-only: the triggers refuse changes, and
-- the chain makes a change made around them detectable (`nexaguard audit
-- verify`).
CREATE TABLE audit_log (
    chain          TEXT NOT NULL,
    seq            INTEGER NOT NULL CHECK (seq >= 1),
    id             TEXT NOT NULL UNIQUE CHECK (length(id) = 36),
    at             TEXT NOT NULL CHECK (length(at) = 30),
    action         TEXT NOT NULL,
    actor          TEXT NOT NULL,
    target         TEXT NOT NULL,
    outcome        TEXT NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
    client_network TEXT,
    details        TEXT NOT NULL CHECK (json_valid(details)),
    prev_hash      BLOB NOT NULL CHECK (length(prev_hash) = 32),
    hash           BLOB NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (chain, seq)
) STRICT, WITHOUT ROWID;

CREATE INDEX audit_log_by_time ON audit_log (chain, at);

CREATE TRIGGER audit_log_no_update
BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_log_no_delete
BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TABLE audit_checkpoints (
    chain     TEXT NOT NULL,
    seq       INTEGER NOT NULL CHECK (seq >= 1),
    hash      BLOB NOT NULL CHECK (length(hash) = 32),
    at        TEXT NOT NULL CHECK (length(at) = 30),
    key_id    TEXT NOT NULL,
    signature BLOB NOT NULL CHECK (length(signature) = 64),
    PRIMARY KEY (chain, seq)
) STRICT, WITHOUT ROWID;

-- Admin queries over consents: a site environment's records by time.
CREATE INDEX consents_by_site_time ON consents (site_id, environment, recorded_at);
