-- Impressions: the record that a notice was shown. `body` is the recorded
-- Impression as JSON text (the evidence byte for byte, see 0001); the
-- other columns are copies for lookups. No address and no user agent are
-- kept.
--
-- A consent names the impression that showed its notice by event id. An
-- event id is unique across consents and impressions: `consent_ids` holds
-- the ids of both, and an impression is written in the same statement as
-- its id, exactly as a consent is, so a retry or a reuse of an id is
-- answered from `consent_ids` for both kinds.
--
-- An ordinary table rather than monthly partitions: an impression is a
-- small row read only by id, and retention deletes them in chunks (with
-- their ids) by `recorded_at`.
CREATE TABLE impressions (
    event_id       uuid        NOT NULL PRIMARY KEY,
    site_id        uuid        NOT NULL REFERENCES sites (id),
    environment    text        NOT NULL CHECK (environment IN ('production', 'staging')),
    -- SHA-256 of the posted body, as in `consent_ids`.
    body_hash      bytea       NOT NULL CHECK (length(body_hash) = 32),
    recorded_at    timestamptz NOT NULL,
    recorded_at_ns smallint    NOT NULL CHECK (recorded_at_ns BETWEEN 0 AND 999),
    body           text        NOT NULL CHECK (body::json IS NOT NULL)
);

-- Retention: deleting everything recorded before a cutoff.
CREATE INDEX impressions_by_recorded_at ON impressions (recorded_at);
