-- An e-mail address may have one account per tenant (and one platform
-- operator account), no longer one on the whole installation: otherwise
-- inviting an address told the inviter whether it had an account in
-- another tenant. Sign-in finds the account by address and password.
--
-- SQLite cannot drop a column's UNIQUE constraint, so the table is
-- rebuilt (https://sqlite.org/lang_altertable.html#otheralter). The
-- migration runs in a transaction, where foreign keys cannot be turned
-- off, so dropping the old table cascades to the sessions and recovery
-- codes that reference it: they are kept aside and put back, in the same
-- transaction, so nothing is lost whatever happens.
CREATE TEMP TABLE kept_sessions AS SELECT * FROM sessions;
CREATE TEMP TABLE kept_recovery_codes AS SELECT * FROM recovery_codes;

CREATE TABLE users_per_tenant (
    id                  TEXT NOT NULL PRIMARY KEY CHECK (length(id) = 36),
    tenant_id           TEXT REFERENCES tenants (id),
    -- HMAC of the normalised address with the 'platform-index' key.
    email_index         BLOB NOT NULL CHECK (length(email_index) = 32),
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

INSERT INTO users_per_tenant (id, tenant_id, email_index, email_sealed, password_hash, role,
                              totp_sealed, totp_pending_sealed, totp_last_step, failures,
                              locked_until, created_at)
SELECT id, tenant_id, email_index, email_sealed, password_hash, role,
       totp_sealed, totp_pending_sealed, totp_last_step, failures,
       locked_until, created_at
FROM users;

DROP TABLE users;
ALTER TABLE users_per_tenant RENAME TO users;

CREATE INDEX users_by_tenant ON users (tenant_id);
-- Operators have no tenant; '' stands for "the platform" so that two
-- operators cannot share an address either.
CREATE UNIQUE INDEX users_email_per_tenant ON users (coalesce(tenant_id, ''), email_index);
CREATE INDEX users_by_email ON users (email_index);

INSERT INTO sessions SELECT * FROM kept_sessions;
INSERT INTO recovery_codes SELECT * FROM kept_recovery_codes;
DROP TABLE kept_sessions;
DROP TABLE kept_recovery_codes;
