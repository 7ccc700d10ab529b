#!/usr/bin/env bash
# Checks every lockfile of the repository (the workspace, fuzz/ and the
# bench's echo server) against the RustSec advisory database, offline: the
# snapshot in ../shared/advisory-db (NEXAGUARD_ADVISORY_DB elsewhere),
# whose date is printed so a reader knows how current the scan is. Then
# proves the check finds vulnerabilities: tests/advisories/vulnerable pins
# a crate version with a known one, and its scan must fail naming it.
#
# Where no snapshot is found the check is skipped with a notice, as the
# tests that use ../shared/gvl are. Operators run the same check against
# the live database with `cargo deny check advisories` (SECURITY.md).
set -euo pipefail
cd "$(dirname "$0")/.."

snapshot="${NEXAGUARD_ADVISORY_DB:-../shared/advisory-db}"
if [ ! -f "$snapshot/SNAPSHOT.md" ] || [ ! -d "$snapshot/crates" ]; then
  echo "NOTICE: no RustSec advisory snapshot at $snapshot (SNAPSHOT.md and crates/); advisory scan skipped"
  exit 0
fi
date=$(sed -n 's/^- commit date: *//p' "$snapshot/SNAPSHOT.md")
commit=$(sed -n 's/^- upstream commit: *//p' "$snapshot/SNAPSHOT.md")
if [ -z "$date" ]; then
  echo "error: $snapshot/SNAPSHOT.md names no commit date" >&2
  exit 1
fi
echo "RustSec advisory database: snapshot of $date (upstream commit ${commit:-unknown}), offline"

# cargo-deny reads a database from a git clone under its db-path, in a
# directory named after the database's URL (this name is the one for the
# RustSec URL in deny.toml), and dates it by its HEAD commit: the snapshot
# becomes a one-commit repository dated as the snapshot.
work="$PWD/target/advisories"
db="$work/advisory-db-3157b0e258782691"
rm -rf "$work"
mkdir -p "$db"
cp -R "$snapshot"/. "$db"/
git -C "$db" init -q
git -C "$db" add -A
GIT_AUTHOR_DATE="${date}T00:00:00Z" GIT_COMMITTER_DATE="${date}T00:00:00Z" \
  git -C "$db" -c user.name=snapshot -c user.email=snapshot@localhost commit -q -m "RustSec snapshot ${commit:-}"
{ cat deny.toml; printf 'db-path = "%s"\n' "$work"; } > "$work/deny.toml"

scan() {
  # The crates are fetched online (cargo metadata needs them); the advisory
  # database is never fetched (--offline).
  cargo fetch --locked --manifest-path "$1" >/dev/null
  cargo deny --manifest-path "$1" --config "$work/deny.toml" --offline --log-level error check advisories
}

for manifest in Cargo.toml fuzz/Cargo.toml bench/ingest/echo/Cargo.toml; do
  echo "-- $manifest"
  scan "$manifest"
done

echo "-- tests/advisories/vulnerable (must fail with RUSTSEC-2021-0003)"
if out=$(scan tests/advisories/vulnerable/Cargo.toml 2>&1); then
  echo "$out"
  echo "error: the scan passed a lockfile with smallvec 1.6.0 (RUSTSEC-2021-0003): the advisory check finds nothing" >&2
  exit 1
fi
if ! grep -q "RUSTSEC-2021-0003" <<<"$out"; then
  echo "$out"
  echo "error: the scan of the vulnerable fixture failed without naming RUSTSEC-2021-0003" >&2
  exit 1
fi
echo "the vulnerable fixture fails the scan with RUSTSEC-2021-0003, as it must"
