#!/usr/bin/env bash
# Decodes the same GPP strings (10,000 by default) with `nexaguard gpp decode`
# (release build, standard input mode) and with the IAB reference library
# (@iabgpp/cmpapi) in node, in one run, checks that both print the same JSON
# for every string, and prints the time per string, the ratio and the peak
# RSS of each. A benchmark, not a test: CI does not run it.
#
#   bench/gpp-vs-reference/run.sh [COUNT] [SEED]      RUNS=10 by default
#
# Uses hyperfine when installed (apt-get install hyperfine), else its own
# timing loop; /usr/bin/time (apt-get install time) for peak RSS.
# SKIP_BUILD=1 uses the release binary as it is; NEXAGUARD_BIN times another
# binary (with SKIP_BUILD=1).
set -euo pipefail
cd "$(dirname "$0")/../.."

COUNT="${1:-10000}"
SEED="${2:-2026}"
RUNS="${RUNS:-10}"
HERE=bench/gpp-vs-reference
WORK=target/gpp-vs-reference
STRINGS="$WORK/strings-$COUNT-$SEED.txt"
BIN="${NEXAGUARD_BIN:-target/release/nexaguard}"
OURS_CMD="$BIN gpp decode < $STRINGS"
REF_CMD="node $HERE/ref-decode.mjs $STRINGS"
mkdir -p "$WORK"

if [ "${SKIP_BUILD:-}" != 1 ]; then
  echo "== building nexaguard (release)" >&2
  cargo build --release --locked --quiet -p nexaguard-cli
fi
if [ ! -d tests/reference-gpp/node_modules/@iabgpp/cmpapi ]; then
  echo "== installing the reference library" >&2
  npm ci --prefix tests/reference-gpp --no-audit --no-fund >&2
fi
if [ ! -s "$STRINGS" ]; then
  echo "== generating $COUNT strings (seed $SEED) with the reference encoder" >&2
  node "$HERE/gen.mjs" "$STRINGS" "$COUNT" "$SEED"
fi

# Both sides must do the same work: every line of their outputs must hold
# the same JSON value.
echo "== checking that both decoders print the same JSON" >&2
bash -c "$OURS_CMD" > "$WORK/nexaguard.jsonl"
bash -c "$REF_CMD" > "$WORK/reference.jsonl" 2> "$WORK/reference-inprocess.txt"
if ! node "$HERE/check.mjs" "$WORK/nexaguard.jsonl" "$WORK/reference.jsonl"; then
  echo "the two decoders disagree on $STRINGS: compare $WORK/nexaguard.jsonl and $WORK/reference.jsonl" >&2
  exit 1
fi

# shellcheck source=../lib/compare.sh
. bench/lib/compare.sh
compare_time_and_rss

echo
node "$HERE/report.mjs" "$TIMING" "$COUNT" "$RSS_OURS" "$RSS_REF" "$WORK/reference-inprocess.txt"
