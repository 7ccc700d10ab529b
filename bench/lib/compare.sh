# What the comparison benchmarks (bench/tcf-vs-reference, bench/gpp-vs-reference)
# share: timing both decoders the same way, and their peak memory.
#
# Source it, then call compare_time_and_rss with OURS_CMD, REF_CMD, RUNS and
# WORK set. It leaves the timings, in hyperfine's export shape, in
# $WORK/timing.json (TIMING), and the peak RSS in kB in RSS_OURS and RSS_REF
# ("-" without /usr/bin/time).

compare_time_and_rss() {
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
}
