-- API tokens made by another token: the parent's revocation reaches them
-- (the store revokes the whole lineage in one statement), and a child can
-- never outlive or outrank its parent (checked by the admin service).
-- `step_up_scopes` lists, space-separated, the permissions that need a
-- fresh second factor from a session (promotion, roles, removing users,
-- tokens) and that this token was created to use explicitly; a token
-- without a scope is refused those actions.
ALTER TABLE api_tokens ADD COLUMN parent_id TEXT REFERENCES api_tokens (id)
    CHECK (parent_id IS NULL OR length(parent_id) = 36);
ALTER TABLE api_tokens ADD COLUMN step_up_scopes TEXT NOT NULL DEFAULT '';

CREATE INDEX api_tokens_by_parent ON api_tokens (parent_id) WHERE parent_id IS NOT NULL;
