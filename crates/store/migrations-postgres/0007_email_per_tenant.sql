-- An e-mail address may have one account per tenant (and one platform
-- operator account), no longer one on the whole installation: otherwise
-- inviting an address told the inviter whether it had an account in
-- another tenant. Sign-in finds the account by address and password.
ALTER TABLE users DROP CONSTRAINT users_email_index_unique;
-- Operators have no tenant; the nil UUID stands for "the platform" so
-- that two operators cannot share an address either.
CREATE UNIQUE INDEX users_email_per_tenant
    ON users (COALESCE(tenant_id, '00000000-0000-0000-0000-000000000000'::uuid), email_index);
CREATE INDEX users_by_email ON users (email_index);
