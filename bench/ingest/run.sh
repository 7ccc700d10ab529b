#!/usr/bin/env bash
# Load benchmark of the consent server (not a test; CI does not run it).
#
# Posts distinct valid consent events to `nexaguard serve --demo` with wrk and
# fetches the demo site's config.json, over HTTPS and over plain HTTP
# (--plain-http-behind-proxy), and puts the same load in the same run on a
# bare axum server (bench/ingest/echo) to get ratios that do not depend on the
# machine's speed of the day. See bench/ingest/README.md.
#
# Settings (environment variables):
#   DURATION=10s     length of each measured wrk run
#   WARMUP=2s        length of the unmeasured wrk run before each one (0 = none)
#   THREADS=2        wrk threads
#   CONNECTIONS=32   wrk connections
#   PORT=18443       port of the consent server
#   ECHO_PORT=18444  port of the echo baseline
#   MODES="https http"  which transports to measure
#   SKIP_BUILD=1     use the binaries already built
#   KEEP=1           keep the temporary data directories and logs
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$(pwd)
HERE="$ROOT/bench/ingest"

DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
PORT=${PORT:-18443}
ECHO_PORT=${ECHO_PORT:-18444}
MODES=${MODES:-https http}
SKIP_BUILD=${SKIP_BUILD:-0}
KEEP=${KEEP:-0}

SERVER_BIN="$ROOT/target/release/nexaguard"
ECHO_TARGET="$ROOT/target/bench-echo"
ECHO_BIN="$ECHO_TARGET/release/nexaguard-bench-echo"
# The demo site accepts posts from https://localhost:PORT and
# https://127.0.0.1:PORT (crates/server/src/demo.rs), in both transports.
ORIGIN="https://localhost:$PORT"

for tool in wrk curl; do
    if ! command -v "$tool" >/dev/null; then
        echo "run.sh: $tool is missing (Debian/Ubuntu: apt-get install -y $tool)" >&2
        exit 1
    fi
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/nexaguard-bench-ingest.XXXXXX")
PIDS=()
cleanup() {
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
trap cleanup EXIT

if [ "$SKIP_BUILD" != 1 ]; then
    echo "== building (release)"
    cargo build --release -p nexaguard-cli
    (cd "$HERE/echo" && CARGO_TARGET_DIR="$ECHO_TARGET" cargo build --release --locked)
fi
for bin in "$SERVER_BIN" "$ECHO_BIN"; do
    [ -x "$bin" ] || { echo "run.sh: $bin is not built" >&2; exit 1; }
done

# One client timestamp for the whole run: the server refuses events more than
# 10 minutes ahead of its clock or more than 30 days old.
TIMESTAMP=$(date -u +%Y-%m-%dT%H:%M:%SZ)

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
    local pid=$1 rest=()
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    for p in "${PIDS[@]}"; do
        [ "$p" = "$pid" ] || rest+=("$p")
    done
    PIDS=("${rest[@]+"${rest[@]}"}")
}

# measure NAME SCRIPT URL ARGS...: a warm-up then a measured wrk run; keeps
# the RESULT line of the measured run in $WORK/NAME.result. post.lua gets a
# fresh RUN_ID as its last argument in each run: the warm-up's event ids
# replayed by the measured run would be answered 201 without storing anything.
measure() {
    local name=$1 script=$2 url=$3
    shift 3
    local extra=()
    if [ "$(basename "$script")" = post.lua ]; then
        next_run_id
        extra=("$RUN_ID")
    fi
    if [ "$WARMUP" != 0 ] && [ "$WARMUP" != 0s ]; then
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" -s "$script" "$url" -- "$@" "${extra[@]+"${extra[@]}"}" \
            >"$WORK/$name.warmup.log" 2>&1 || true
        if [ ${#extra[@]} -gt 0 ]; then
            next_run_id
            extra=("$RUN_ID")
        fi
    fi
    echo "-- $name: wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency -s $(basename "$script") $url -- $* ${extra[*]+"${extra[*]}"}"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$script" "$url" -- "$@" "${extra[@]+"${extra[@]}"}" \
        2>&1 | tee "$WORK/$name.log" | grep -E '^(RESULT|post.lua|get.lua|  [0-9]+% )' || true
    grep '^RESULT' "$WORK/$name.log" >"$WORK/$name.result" || {
        echo "run.sh: wrk gave no result for $name (see $WORK/$name.log)" >&2
        exit 1
    }
}

# field NAME KEY: a value from a RESULT line.
field() {
    sed -n "s/.* $2=\([^ ]*\).*/\1/p" "$WORK/$1.result"
}

# metric_mean METRICS_FILE NAME LABEL: mean of a Prometheus histogram, in ms.
metric_mean() {
    local file=$1 name=$2 label=$3 sum count
    sum=$(grep -E "^${name}_sum\{.*${label}" "$file" | awk '{s += $NF} END {print s + 0}')
    count=$(grep -E "^${name}_count\{.*${label}" "$file" | awk '{s += $NF} END {print s + 0}')
    awk -v s="$sum" -v c="$count" 'BEGIN { if (c > 0) printf "%.3f", 1000 * s / c; else print "n/a" }'
}

echo "== $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); wrk $THREADS threads, $CONNECTIONS connections, $DURATION per run"

for mode in $MODES; do
    case $mode in
        https) scheme=https; proxy_flag=() ;;
        http) scheme=http; proxy_flag=(--plain-http-behind-proxy) ;;
        *) echo "run.sh: unknown mode $mode (https or http)" >&2; exit 1 ;;
    esac
    data="$WORK/data-$mode"
    base="$scheme://127.0.0.1:$PORT"
    echo
    echo "== $mode: nexaguard serve --demo ${proxy_flag[*]}"
    "$SERVER_BIN" serve --demo --data-dir "$data" --listen "127.0.0.1:$PORT" \
        --rate-limit-per-minute 100000000 --rate-limit-burst 100000000 "${proxy_flag[@]}" \
        >"$WORK/server-$mode.log" 2>&1 &
    server=$!
    PIDS+=("$server")
    wait_for "$base/healthz" "$server"

    # The demo page embeds the demo site's production key (ngp_ + 32 hex).
    site_key=$(curl -sk "$base/demo/" | grep -o 'ngp_[0-9a-f]\{32\}' | head -n1 || true)
    if [ -z "$site_key" ]; then
        echo "run.sh: no production site key (ngp_...) on $base/demo/" >&2
        exit 1
    fi
    # The uncompressed config.json, which the echo baseline serves as its GET body.
    curl -skf "$base/v1/sites/$site_key/config.json" -o "$WORK/config-$mode.json"
    echo "site key $site_key, config.json $(wc -c <"$WORK/config-$mode.json") bytes"

    measure "$mode-consents" "$HERE/post.lua" "$base" "$site_key" "$ORIGIN" "$TIMESTAMP"
    curl -sk "$base/metrics" >"$WORK/metrics-$mode.txt"
    measure "$mode-config" "$HERE/get.lua" "$base" "$site_key"
    stop "$server"

    # Every 201 must be a row: count them when the table is where we expect it.
    rows=n/a
    if command -v sqlite3 >/dev/null; then
        rows=$(sqlite3 "$data/nexaguard.db" 'SELECT count(*) FROM consents' 2>/dev/null || echo n/a)
    fi
    echo "$rows" >"$WORK/$mode-rows"
    warm=$(sed -n 's/^RESULT ok=\([0-9]*\).*/\1/p' "$WORK/$mode-consents.warmup.log" 2>/dev/null || true)
    echo $(( ${warm:-0} + $(field "$mode-consents" ok) )) >"$WORK/$mode-created"
    metric_mean "$WORK/metrics-$mode.txt" nexaguard_store_operation_duration_seconds 'operation="record_consent"' \
        >"$WORK/$mode-store-ms"
    metric_mean "$WORK/metrics-$mode.txt" nexaguard_http_request_duration_seconds 'route="/v1/consents".*status="201"' \
        >"$WORK/$mode-request-ms"

    echo
    echo "== $mode: echo baseline"
    if [ "$mode" = https ]; then
        tls_args=(--tls-cert "$data/tls/cert.pem" --tls-key "$data/tls/key.pem")
    else
        tls_args=()
    fi
    echo_base="$scheme://127.0.0.1:$ECHO_PORT"
    "$ECHO_BIN" --listen "127.0.0.1:$ECHO_PORT" --get-body "$WORK/config-$mode.json" "${tls_args[@]}" \
        >"$WORK/echo-$mode.log" 2>&1 &
    echo_pid=$!
    PIDS+=("$echo_pid")
    wait_for "$echo_base/healthz" "$echo_pid"
    measure "$mode-echo-post" "$HERE/post.lua" "$echo_base" "$site_key" "$ORIGIN" "$TIMESTAMP"
    measure "$mode-echo-get" "$HERE/get.lua" "$echo_base" "$site_key"
    stop "$echo_pid"
done

ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'
}
verdict() {
    awk -v r="$1" -v t="$2" 'BEGIN { if (r == "n/a") print "n/a"; else if (r + 0 >= t) print "met"; else print "NOT MET" }'
}

echo
echo "== results (ok/s counts only 201 for POST, 200 for GET)"
printf '%-6s %-26s %10s %9s %9s %9s\n' mode run ok/s p50_ms p99_ms non-ok
for mode in $MODES; do
    for run in consents echo-post config echo-get; do
        name="$mode-$run"
        printf '%-6s %-26s %10s %9s %9s %9s\n' "$mode" "$run" "$(field "$name" ok_per_s)" \
            "$(field "$name" p50_ms)" "$(field "$name" p99_ms)" \
            "$(( $(field "$name" others) + $(field "$name" errors) ))"
    done
done
echo
for mode in $MODES; do
    consents=$(ratio "$(field "$mode-consents" ok_per_s)" "$(field "$mode-echo-post" ok_per_s)")
    config=$(ratio "$(field "$mode-config" ok_per_s)" "$(field "$mode-echo-get" ok_per_s)")
    echo "$mode: durable consents/s = $(field "$mode-consents" ok_per_s)" \
        "(p50 $(field "$mode-consents" p50_ms) ms, p99 $(field "$mode-consents" p99_ms) ms)"
    echo "$mode:   consents/s / echo POST = $consents (target >= 0.5: $(verdict "$consents" 0.5))"
    echo "$mode:   config.json / echo GET = $config (target >= 0.8: $(verdict "$config" 0.8))"
    created=$(cat "$WORK/$mode-created")
    rows=$(cat "$WORK/$mode-rows")
    if [ "$rows" = n/a ]; then
        check="not checked (needs sqlite3)"
    elif [ "$rows" -ge "$created" ]; then
        check="ok: every 201 is a row (extra rows: requests in flight when wrk stopped)"
    else
        check="MISSING $((created - rows)) acknowledged events"
    fi
    echo "$mode:   201s (warm-up and measured run) $created, consent rows after shutdown $rows: $check"
    echo "$mode:   server-side mean of a 201 POST $(cat "$WORK/$mode-request-ms") ms, of which store record_consent $(cat "$WORK/$mode-store-ms") ms (incl. warm-up)"
done
