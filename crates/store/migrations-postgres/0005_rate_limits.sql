-- Rate-limit counters shared by every node on this database: hits per
-- client network (a /24 or /64, never an address) and per one-minute
-- window. Rows older than two minutes are deleted as new windows start,
-- so the table holds only the last few minutes.
CREATE TABLE rate_limit_hits (
    bucket       text        NOT NULL,
    window_start timestamptz NOT NULL,
    hits         bigint      NOT NULL,
    PRIMARY KEY (bucket, window_start)
);
