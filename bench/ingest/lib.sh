# Shell functions the bench/ingest scripts share (run.sh, postgres.sh).
# Sourced, not run. The functions use WORK, PIDS, THREADS, CONNECTIONS and
# ROUNDS, which the scripts set.

# require_tools NAME...: exits with a message if one is not installed.
require_tools() {
    local tool
    for tool in "$@"; do
        if ! command -v "$tool" >/dev/null; then
            echo "$(basename "$0"): $tool is missing (Debian/Ubuntu: apt-get install -y $tool)" >&2
            exit 1
        fi
    done
}

# stop_all_and_clean: stops every process in PIDS (SIGTERM), then removes
# WORK unless KEEP=1.
stop_all_and_clean() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [ "$KEEP" = 1 ]; then
        echo "kept $WORK"
    else
        rm -rf "$WORK"
    fi
}

# 8 hex digits for post.lua's event ids; a counter keeps them distinct
# within this run, the random part across runs on the same data directory.
# (Sets RUN_ID rather than printing it: a command substitution would run in a
# subshell and lose the counter.)
RUN_SEQ=0
RUN_ID=
next_run_id() {
    RUN_SEQ=$((RUN_SEQ + 1))
    RUN_ID=$(printf '%02x%06x' "$RUN_SEQ" $(( (RANDOM << 9 ^ RANDOM) & 0xffffff )))
}

# wait_for URL PID: until URL answers 2xx, or fail if PID died or 30 s passed.
wait_for() {
    local url=$1 pid=$2 i
    for i in $(seq 1 300); do
        if curl -skf -o /dev/null "$url"; then
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "run.sh: the process serving $url exited" >&2
            return 1
        fi
        sleep 0.1
    done
    echo "run.sh: $url did not answer within 30 s" >&2
    return 1
}

# stop PID: SIGTERM (graceful shutdown) and wait.
stop() {
    local pid=$1 rest=() p
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    for p in "${PIDS[@]}"; do
        [ "$p" = "$pid" ] || rest+=("$p")
    done
    PIDS=("${rest[@]+"${rest[@]}"}")
}

# wrk_run NAME DURATION SCRIPT URL ARGS...: one wrk run; its output in
# $WORK/NAME.log. post.lua gets a fresh RUN_ID as its last argument in every
# run: event ids of an earlier run, replayed, would be answered 201 without
# storing anything.
wrk_run() {
    local name=$1 duration=$2 script=$3 url=$4
    shift 4
    local extra=()
    if [ "$(basename "$script")" = post.lua ]; then
        next_run_id
        extra=("$RUN_ID")
    fi
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$duration" --latency -s "$script" "$url" \
        -- "$@" "${extra[@]+"${extra[@]}"}" >"$WORK/$name.log" 2>&1 || true
    if ! grep -q '^RESULT' "$WORK/$name.log"; then
        echo "run.sh: wrk gave no result for $name:" >&2
        cat "$WORK/$name.log" >&2
        exit 1
    fi
}

# measure NAME ROUND SCRIPT URL ARGS...: a warm-up in round 1, then the
# measured run; prints its RESULT line.
measure() {
    local name=$1 round=$2 script=$3 url=$4
    shift 4
    if [ "$round" = 1 ] && [ "$WARMUP" != 0 ] && [ "$WARMUP" != 0s ]; then
        wrk_run "$name.warmup" "$WARMUP" "$script" "$url" "$@"
    fi
    wrk_run "$name.r$round" "$DURATION" "$script" "$url" "$@"
    printf '  %-16s round %d  %s\n' "$name" "$round" "$(grep '^RESULT' "$WORK/$name.r$round.log" | cut -d' ' -f2-)"
    grep '^post.lua' "$WORK/$name.r$round.log" | head -n1 || true
}

# field FILE KEY: a value from the RESULT line of a wrk log.
field() {
    sed -n "s/^RESULT.* $2=\([^ ]*\).*/\1/p" "$1"
}

# median VALUES...: the median (the lower middle for an even count).
median() {
    printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}

# med NAME KEY: the median of KEY over the rounds of NAME.
med() {
    local name=$1 key=$2 values=() r
    for r in $(seq 1 "$ROUNDS"); do
        values+=("$(field "$WORK/$name.r$r.log" "$key")")
    done
    median "${values[@]}"
}

# ratios NAME BASELINE: the median over rounds of NAME's ok/s divided by the
# baseline's ok/s in the same round.
ratios() {
    local name=$1 baseline=$2 values=() r a b
    for r in $(seq 1 "$ROUNDS"); do
        a=$(field "$WORK/$name.r$r.log" ok_per_s)
        b=$(field "$WORK/$baseline.r$r.log" ok_per_s)
        values+=("$(awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print 0 }')")
    done
    median "${values[@]}"
}

# metric_mean METRICS_FILE NAME LABEL: mean of a Prometheus histogram, in ms.
metric_mean() {
    local file=$1 name=$2 label=$3 sum count
    sum=$(grep -E "^${name}_sum\{.*${label}" "$file" | awk '{s += $NF} END {print s + 0}')
    count=$(grep -E "^${name}_count\{.*${label}" "$file" | awk '{s += $NF} END {print s + 0}')
    awk -v s="$sum" -v c="$count" 'BEGIN { if (c > 0) printf "%.3f", 1000 * s / c; else print "n/a" }'
}

