#!/usr/bin/env python3
"""What each index of the SQLite `consents` table costs a durable consent.

    bench/ingest/index_cost.py [PRELOAD] [MEASURED] [BATCH]

Not a test; CI does not run it. Builds the server's SQLite schema from
crates/store/migrations/ in a temporary directory, preloads PRELOAD consents
(default 200,000: the indexes then span thousands of pages, as in a
database in use), then commits MEASURED more (default 20,000) in
transactions of BATCH (default 32, as at 32 connections) with WAL on and
checkpoints off, and counts the WAL frames they wrote. A frame is one
4 KiB page plus its 24-byte header, written with two pwrite calls; every
frame is also fsynced at its commit and copied back at the next
checkpoint, so frames per consent are what the writer thread's kernel time
grows with (docs/benchmarks.md, "Where a consent's CPU goes").

It does this for the schema as it is, then without one index at a time,
then with the token index keyed by the token hash alone (the hash is
unique to a site environment: the token is an HMAC over the site key),
then for the bare table (no primary key, no index). Event ids and token
hashes are random, as in production (the SDK makes a UUIDv4 per event; a
new consent's token is an HMAC). Bodies are ~650 bytes of JSON, as the
bench's events.
"""

import json
import os
import random
import sqlite3
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS = ROOT / "crates" / "store" / "migrations"
SITE = "00000000-0000-4000-8000-000000000001"
TENANT = "00000000-0000-4000-8000-000000000002"
PAGE = 4096
FRAME = PAGE + 24
WAL_HEADER = 32

SECONDARY = ["consents_by_token", "consents_by_recorded_at", "consents_by_site_time"]


def body(event_id):
    """A consent body of the bench's size."""
    return json.dumps({
        "eventId": event_id, "schemaVersion": 2, "siteKey": "ngp_" + "0" * 32,
        "environment": "production", "configVersion": 1,
        "timestamp": "2026-12-07T10:00:00Z", "recordedAt": "2026-12-07T10:00:00.123Z",
        "action": "custom", "source": "banner",
        "tcString": "CQ" + "A" * 90, "consentMode": {"ad_storage": "denied", "analytics_storage": "granted"},
        "purposes": [1, 2, 7, 8, 9, 10], "customPurposes": [], "vendors": list(range(1, 40, 3)),
        "customVendors": [], "language": "en", "sdkVersion": "1.0.0",
        "context": {"country": "DE", "browser": "chrome"}, "policyWarnings": [],
    })


def open_db(path, variant):
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.execute("PRAGMA wal_autocheckpoint = 0")
    for migration in sorted(MIGRATIONS.glob("*.sql")):
        db.executescript(migration.read_text())
    db.execute("INSERT INTO tenants (id, name, created_at) VALUES (?, 't', ?)",
               (TENANT, "2026-12-07T10:00:00.000000000Z"))
    db.execute("INSERT INTO sites (id, tenant_id, name, origins, created_at) VALUES (?, ?, 's', '[]', ?)",
               (SITE, TENANT, "2026-12-07T10:00:00.000000000Z"))
    table = "consents"
    if variant == "bare table":
        # The same columns with no primary key, no index, no check.
        db.execute("CREATE TABLE bare (event_id TEXT, site_id TEXT, environment TEXT, "
                   "token_hash BLOB, body_hash BLOB, recorded_at TEXT, body TEXT) STRICT")
        table = "bare"
    elif variant.startswith("without "):
        db.execute(f"DROP INDEX {variant.removeprefix('without ')}")
    elif variant == "token index on (token_hash, recorded_at)":
        db.execute("DROP INDEX consents_by_token")
        db.execute("CREATE INDEX consents_by_token ON consents (token_hash, recorded_at)")
    return db, table


def insert(db, table, count, batch, clock):
    sql = (f"INSERT INTO {table} (event_id, site_id, environment, token_hash, body_hash, "
           "recorded_at, body) VALUES (?, ?, 'production', ?, ?, ?, ?)")
    done = 0
    while done < count:
        db.execute("BEGIN IMMEDIATE")
        for _ in range(min(batch, count - done)):
            event_id = str(uuid.UUID(int=random.getrandbits(128), version=4))
            clock[0] += 1
            recorded_at = "2026-12-07T10:%02d:%02d.%09dZ" % (
                clock[0] // 60_000_000 % 60, clock[0] // 1_000_000 % 60, clock[0] % 1_000_000 * 1000)
            db.execute(sql, (event_id, SITE, os.urandom(32), os.urandom(32), recorded_at, body(event_id)))
            done += 1
        db.execute("COMMIT")


def measure(variant, preload, measured, batch):
    random.seed(2026)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "nexaguard.db")
        db, table = open_db(path, variant)
        clock = [0]
        insert(db, table, preload, 256, clock)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        insert(db, table, measured, batch, clock)
        wal = os.path.getsize(path + "-wal")
        frames = (wal - WAL_HEADER) / FRAME if wal else 0
        db.close()
    return frames / measured


def main():
    preload = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    measured = int(sys.argv[2]) if len(sys.argv) > 2 else 20_000
    batch = int(sys.argv[3]) if len(sys.argv) > 3 else 32
    print(f"SQLite {sqlite3.sqlite_version}, {preload:,} consents preloaded, "
          f"{measured:,} measured in transactions of {batch}")
    print(f"{'schema':<42} {'WAL frames/consent':>18} {'KiB/consent':>12}")
    full = None
    variants = ["as migrated"] + [f"without {i}" for i in SECONDARY]
    variants += ["token index on (token_hash, recorded_at)", "bare table"]
    for variant in variants:
        per = measure(variant, preload, measured, batch)
        if full is None:
            full = per
        note = "" if variant == "as migrated" else f"  (saves {full - per:.2f})"
        print(f"{variant:<42} {per:>18.2f} {per * FRAME / 1024:>12.1f}{note}")


if __name__ == "__main__":
    main()
