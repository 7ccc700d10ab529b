#!/usr/bin/env bash
# Load benchmark of the consent server (not a test; CI does not run it).
#
# Posts distinct valid consent events to `nexaguard serve --demo` with wrk and
# fetches the demo site's config.json, over HTTPS and over plain HTTP
# (--plain-http-behind-proxy), and puts the same load in the same run on a
# bare axum server (bench/ingest/echo) to get ratios that do not depend on the
# machine's speed of the day. The server and the baseline run side by side
# and are measured in alternation, ROUNDS times, so that a change in the
# machine's background load hits both sides of a ratio alike; the figures
# printed are medians over the rounds. See bench/ingest/README.md.
#
# Settings (environment variables):
#   DURATION=10s     length of each measured wrk run
#   ROUNDS=3         measurements of each kind, alternating server and baseline
#   WARMUP=2s        unmeasured wrk run before the first round of each kind (0 = none)
#   THREADS=2        wrk threads
#   CONNECTIONS="32 256"  wrk connection counts, each measured in turn
#   PORT=18443       port of the consent server
#   ECHO_PORT=18444  port of the echo baseline
#   METRICS_PORT=19464  port of the server's metrics listener (plain HTTP)
#   MODES="https http"  which transports to measure
#   SKIP_BUILD=1     use the binaries already built
#   KEEP=1           keep the temporary data directories and logs
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$(pwd)
HERE="$ROOT/bench/ingest"

DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-2s}
THREADS=${THREADS:-2}
CONNECTION_COUNTS=${CONNECTIONS:-32 256}
PORT=${PORT:-18443}
ECHO_PORT=${ECHO_PORT:-18444}
METRICS_PORT=${METRICS_PORT:-19464}
MODES=${MODES:-https http}
SKIP_BUILD=${SKIP_BUILD:-0}
KEEP=${KEEP:-0}

SERVER_BIN="$ROOT/target/release/nexaguard"
ECHO_TARGET="$ROOT/target/bench-echo"
ECHO_BIN="$ECHO_TARGET/release/nexaguard-bench-echo"
# The demo site accepts posts from https://localhost:PORT and
# https://127.0.0.1:PORT (crates/server/src/demo.rs), in both transports.
ORIGIN="https://localhost:$PORT"

. "$HERE/lib.sh"
require_tools wrk curl python3

WORK=$(mktemp -d "${TMPDIR:-/tmp}/nexaguard-bench-ingest.XXXXXX")
PIDS=()
cleanup() {
    stop_all_and_clean
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

echo "== $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "== wrk -t$THREADS -c{${CONNECTION_COUNTS// /,}} -d$DURATION --latency, $ROUNDS rounds, warm-up $WARMUP"

for mode in $MODES; do
    case $mode in
        https) scheme=https; proxy_flag=() ;;
        http) scheme=http; proxy_flag=(--plain-http-behind-proxy) ;;
        *) echo "run.sh: unknown mode $mode (https or http)" >&2; exit 1 ;;
    esac
    data="$WORK/data-$mode"
    base="$scheme://127.0.0.1:$PORT"
    echo_base="$scheme://127.0.0.1:$ECHO_PORT"
    echo
    echo "== $mode: nexaguard serve --demo --data-dir $data --listen 127.0.0.1:$PORT" \
        "--metrics-listen 127.0.0.1:$METRICS_PORT" \
        "--rate-limit-per-minute 100000000 --rate-limit-burst 100000000 ${proxy_flag[*]}"
    "$SERVER_BIN" serve --demo --data-dir "$data" --listen "127.0.0.1:$PORT" \
        --metrics-listen "127.0.0.1:$METRICS_PORT" \
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
    # Valid events for the published configuration (TC strings included for a
    # TCF site), checked against the server's own vendor list.
    curl -skf "$base/v1/gvl/vendor-list.json" -o "$WORK/vendor-list-$mode.json"
    python3 "$HERE/events.py" "$WORK/config-$mode.json" "$WORK/vendor-list-$mode.json" \
        "$TIMESTAMP" "$SERVER_BIN" "$WORK/events-$mode.txt"

    # The baseline, over the same transport: HTTPS with the server's own
    # generated certificate and key, or plain HTTP.
    if [ "$mode" = https ]; then
        tls_args=(--tls-cert "$data/tls/cert.pem" --tls-key "$data/tls/key.pem")
    else
        tls_args=()
    fi
    "$ECHO_BIN" --listen "127.0.0.1:$ECHO_PORT" --get-body "$WORK/config-$mode.json" "${tls_args[@]}" \
        >"$WORK/echo-$mode.log" 2>&1 &
    echo_pid=$!
    PIDS+=("$echo_pid")
    wait_for "$echo_base/healthz" "$echo_pid"

    for CONNECTIONS in $CONNECTION_COUNTS; do
        c=$CONNECTIONS
        for round in $(seq 1 "$ROUNDS"); do
            measure "$mode-c$c-consents" "$round" "$HERE/post.lua" "$base" "$WORK/events-$mode.txt" "$ORIGIN"
            measure "$mode-c$c-echo-post" "$round" "$HERE/post.lua" "$echo_base" "$WORK/events-$mode.txt" "$ORIGIN"
            measure "$mode-c$c-config" "$round" "$HERE/get.lua" "$base" "$site_key"
            measure "$mode-c$c-echo-get" "$round" "$HERE/get.lua" "$echo_base" "$site_key"
        done
    done

    # Metrics are on the operator's listener, never on the public one.
    curl -s "http://127.0.0.1:$METRICS_PORT/metrics" >"$WORK/metrics-$mode.txt"
    stop "$echo_pid"
    stop "$server"

    # Every 201 must be a row (the server is stopped: everything is committed).
    rows=n/a
    if command -v sqlite3 >/dev/null; then
        rows=$(sqlite3 "$data/nexaguard.db" 'SELECT count(*) FROM consents' 2>/dev/null || echo n/a)
    fi
    created=0
    for log in "$WORK/$mode"-c*-consents.*.log; do
        created=$((created + $(field "$log" ok)))
    done
    echo "$rows" >"$WORK/$mode-rows"
    echo "$created" >"$WORK/$mode-created"
    metric_mean "$WORK/metrics-$mode.txt" nexaguard_store_operation_duration_seconds 'operation="record_consent"' \
        >"$WORK/$mode-store-ms"
    metric_mean "$WORK/metrics-$mode.txt" nexaguard_http_request_duration_seconds 'route="/v1/consents".*status="201"' \
        >"$WORK/$mode-request-ms"
done

verdict() {
    awk -v r="$1" -v t="$2" 'BEGIN { if (r + 0 >= t) print "met"; else print "NOT MET" }'
}

echo
echo "== results: medians over $ROUNDS rounds (ok/s counts only 201 for POST, 200 for GET)"
printf '%-6s %5s %-12s %10s %9s %9s %9s\n' mode conns run ok/s p50_ms p99_ms non-ok
for mode in $MODES; do
    for c in $CONNECTION_COUNTS; do
        for run in consents echo-post config echo-get; do
            name="$mode-c$c-$run"
            non_ok=0
            for r in $(seq 1 "$ROUNDS"); do
                log="$WORK/$name.r$r.log"
                non_ok=$((non_ok + $(field "$log" others) + $(field "$log" errors)))
            done
            printf '%-6s %5s %-12s %10s %9s %9s %9s\n' "$mode" "$c" "$run" "$(med "$name" ok_per_s)" \
                "$(med "$name" p50_ms)" "$(med "$name" p99_ms)" "$non_ok"
        done
    done
done
echo
# Targets (issue 16): durable consents at least 0.25 of the echo POST at 32
# connections and 0.4 at 256; config.json at least 0.9 of the echo GET.
consents_target() {
    if [ "$1" -ge 256 ]; then echo 0.4; else echo 0.25; fi
}
for mode in $MODES; do
    for c in $CONNECTION_COUNTS; do
        consents=$(ratios "$mode-c$c-consents" "$mode-c$c-echo-post")
        config=$(ratios "$mode-c$c-config" "$mode-c$c-echo-get")
        target=$(consents_target "$c")
        echo "$mode c=$c: durable consents/s = $(med "$mode-c$c-consents" ok_per_s)" \
            "(p50 $(med "$mode-c$c-consents" p50_ms) ms, p99 $(med "$mode-c$c-consents" p99_ms) ms)"
        echo "$mode c=$c:   consents/s / echo POST = $consents (target >= $target: $(verdict "$consents" "$target"))"
        echo "$mode c=$c:   config.json / echo GET = $config (target >= 0.9: $(verdict "$config" 0.9))"
    done
    created=$(cat "$WORK/$mode-created")
    rows=$(cat "$WORK/$mode-rows")
    if [ "$rows" = n/a ]; then
        check="not checked (needs sqlite3)"
    elif [ "$rows" -ge "$created" ]; then
        check="ok: every 201 is a row (extra rows: requests in flight when wrk stopped)"
    else
        check="MISSING $((created - rows)) acknowledged events"
    fi
    echo "$mode:   201s (warm-up included) $created, consent rows after shutdown $rows: $check"
    echo "$mode:   server-side mean of a 201 POST $(cat "$WORK/$mode-request-ms") ms," \
        "of which store record_consent $(cat "$WORK/$mode-store-ms") ms"
done
