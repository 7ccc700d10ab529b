-- When the second factor was last given in a session: sensitive actions
-- (promotion, key rotation, API tokens, roles, removing users) ask for it
-- again when it is older than a few minutes. Sessions from before this
-- migration have none and so must step up once.
ALTER TABLE sessions ADD COLUMN mfa_at timestamptz;
