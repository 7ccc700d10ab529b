-- Impressions: the record that a notice was shown. `body` is the recorded
-- Impression as JSON, the evidence as it was committed; the other columns
-- are copies for lookups. No address and no user agent are kept.
--
-- A consent names the impression that showed its notice by event id. An
-- event id is unique across `consents` and `impressions`: the writer, the
-- only one writing, looks in the other table in the same transaction.
-- Retention deletes impressions with the consents.
CREATE TABLE impressions (
    event_id    TEXT NOT NULL PRIMARY KEY CHECK (length(event_id) = 36),
    site_id     TEXT NOT NULL REFERENCES sites (id),
    environment TEXT NOT NULL CHECK (environment IN ('production', 'staging')),
    -- SHA-256 of the posted body, to tell a retry from a conflicting reuse
    -- of an event id.
    body_hash   BLOB NOT NULL CHECK (length(body_hash) = 32),
    recorded_at TEXT NOT NULL CHECK (length(recorded_at) = 30),
    body        TEXT NOT NULL CHECK (json_valid(body))
) STRICT;

-- Retention: deleting everything recorded before a cutoff.
CREATE INDEX impressions_by_recorded_at ON impressions (recorded_at);
