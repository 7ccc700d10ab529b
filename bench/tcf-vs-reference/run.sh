#!/usr/bin/env bash
# Decodes the same TC strings (10,000 by default) with `nexaguard tcf decode`
# (release build, standard input mode) and with the IAB reference library
# (@iabtechlabtcf/core) in node, in one run, and prints the time per string,
# the ratio and the peak RSS of each. A benchmark, not a test: CI does not
# run it.
#
#   bench/tcf-vs-reference/run.sh [COUNT] [SEED]      RUNS=10 by default
#
# Uses hyperfine when installed (apt-get install hyperfine), else its own
# timing loop; /usr/bin/time (apt-get install time) for peak RSS.
set -euo pipefail
cd "$(dirname "$0")/../.."

COUNT="${1:-10000}"
SEED="${2:-2026}"
RUNS="${RUNS:-10}"
HERE=bench/tcf-vs-reference
WORK=target/tcf-vs-reference
STRINGS="$WORK/strings-$COUNT-$SEED.txt"
BIN=target/release/nexaguard
OURS_CMD="$BIN tcf decode < $STRINGS"
REF_CMD="node $HERE/ref-decode.mjs $STRINGS"
mkdir -p "$WORK"

echo "== building nexaguard (release)" >&2
cargo build --release --locked --quiet -p nexaguard-cli
if [ ! -d tests/reference/node_modules/@iabtechlabtcf/core ]; then
  echo "== installing the reference library" >&2
  npm ci --prefix tests/reference --no-audit --no-fund >&2
fi
if [ ! -s "$STRINGS" ]; then
  echo "== generating $COUNT strings (seed $SEED) with the reference encoder" >&2
  node "$HERE/gen.mjs" "$STRINGS" "$COUNT" "$SEED"
fi

# Both sides must do the same work: their outputs are compared byte for byte.
echo "== checking that both decoders print the same JSON" >&2
bash -c "$OURS_CMD" > "$WORK/nexaguard.jsonl"
bash -c "$REF_CMD" > "$WORK/reference.jsonl" 2> "$WORK/reference-inprocess.txt"
if ! cmp -s "$WORK/nexaguard.jsonl" "$WORK/reference.jsonl"; then
  echo "the two decoders disagree on $STRINGS: compare $WORK/nexaguard.jsonl and $WORK/reference.jsonl" >&2
  exit 1
fi

# shellcheck source=../lib/compare.sh
. bench/lib/compare.sh
compare_time_and_rss

echo
node "$HERE/report.mjs" "$TIMING" "$COUNT" "$RSS_OURS" "$RSS_REF" "$WORK/reference-inprocess.txt"
