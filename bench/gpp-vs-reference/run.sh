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

echo "== timing, $RUNS runs each" >&2
TIMING="$WORK/timing.json"
if command -v hyperfine > /dev/null 2>&1; then
  hyperfine --style basic --warmup 2 --runs "$RUNS" --export-json "$TIMING" \
    -n nexaguard "$OURS_CMD" -n reference "$REF_CMD" >&2
else
  # Same shape as hyperfine's export: {"results": [{"command", "times"}]}.
  time_runs() {
    local name="$1" cmd="$2" times=() start end
    bash -c "$cmd" > /dev/null 2>&1 # warm-up
    for _ in $(seq "$RUNS"); do
      start=$(date +%s%N)
      bash -c "$cmd" > /dev/null 2>&1
      end=$(date +%s%N)
      times+=("$(awk -v ns=$((end - start)) 'BEGIN { printf "%.6f", ns / 1e9 }')")
    done
    printf '{"command": "%s", "times": [%s]}' "$name" "$(IFS=,; echo "${times[*]}")"
  }
  printf '{"results": [%s, %s]}\n' "$(time_runs nexaguard "$OURS_CMD")" "$(time_runs reference "$REF_CMD")" > "$TIMING"
fi

RSS_OURS=-
RSS_REF=-
if [ -x /usr/bin/time ]; then
  RSS_OURS=$(/usr/bin/time -f %M bash -c "exec $OURS_CMD > /dev/null" 2>&1 | tail -n 1)
  RSS_REF=$(/usr/bin/time -f %M bash -c "exec $REF_CMD > /dev/null 2> /dev/null" 2>&1 | tail -n 1)
fi

echo
node "$HERE/report.mjs" "$TIMING" "$COUNT" "$RSS_OURS" "$RSS_REF" "$WORK/reference-inprocess.txt"
