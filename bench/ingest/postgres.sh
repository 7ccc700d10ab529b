#!/usr/bin/env bash
# Load benchmark of two consent-server nodes on one PostgreSQL database (not a
# test; CI does not run it). See bench/ingest/README.md.
#
# Starts two `nexaguard serve --demo --database-url ...` nodes on a fresh
# database, posts distinct valid consent events to both at once (two wrk
# processes, one per node, half the connections each), and puts the same two
# wrk processes on the bare axum baseline (bench/ingest/echo) in the same run,
# alternating, ROUNDS times. Then it offers OVERLOAD times the connections for
# one run and reports each node's peak memory (VmHWM) before and after, the
# answers that were not 201 (503 with Retry-After is the expected refusal),
# and checks that every 201 is a row.
#
# Settings (environment variables), besides those of run.sh:
#   PG_URL=postgres://postgres@127.0.0.1:5432   the PostgreSQL server (a role
#                                               that may create databases)
#   CONNECTIONS=32   wrk connections in all (half per node)
#   OVERLOAD=10      connection multiplier of the overload run
#   PORT=18443       node A; node B listens on PORT+1
#   ECHO_PORT=18445  the baseline
#   SERVER_BIN=target/release/nexaguard   the server binary (with SKIP_BUILD=1,
#                    one built elsewhere, e.g. in another CARGO_TARGET_DIR)
#
# Each run also reports the CPU time the two nodes and their PostgreSQL
# server processes used meanwhile (nodes_cpu_ms, pg_cpu_ms; the latter
# counts the connections open when the run starts), and `commits`: how much pg_stat_database.xact_commit of
# the bench database grew meanwhile (every transaction, reads included).
# An idle server process reports its statistics up to 10 s late, so the
# results add each echo run's count (the nodes are idle then) to the
# consents run before it, and count the overload run's until the nodes
# have stopped.
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$(pwd)
HERE="$ROOT/bench/ingest"

DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-2s}
THREADS=1
CONNECTIONS=${CONNECTIONS:-32}
OVERLOAD=${OVERLOAD:-10}
PORT=${PORT:-18443}
PORT_B=$((PORT + 1))
ECHO_PORT=${ECHO_PORT:-18445}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
SKIP_BUILD=${SKIP_BUILD:-0}
KEEP=${KEEP:-0}

SERVER_BIN=${SERVER_BIN:-$ROOT/target/release/nexaguard}
ECHO_TARGET="$ROOT/target/bench-echo"
ECHO_BIN="$ECHO_TARGET/release/nexaguard-bench-echo"
ORIGIN="https://localhost:$PORT"
DB="nexaguard_bench_$$"

. "$HERE/lib.sh"
require_tools wrk curl python3 psql

WORK=$(mktemp -d "${TMPDIR:-/tmp}/nexaguard-bench-pg.XXXXXX")
PIDS=()
cleanup() {
    stop_all_and_clean
    psql -q "$PG_URL/postgres" -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
}
trap cleanup EXIT

if [ "$SKIP_BUILD" != 1 ]; then
    echo "== building (release)"
    cargo build --release -p nexaguard-cli
    (cd "$HERE/echo" && CARGO_TARGET_DIR="$ECHO_TARGET" cargo build --release --locked)
fi
for bin in "$SERVER_BIN" "$ECHO_BIN"; do
    [ -x "$bin" ] || { echo "postgres.sh: $bin is not built" >&2; exit 1; }
done

TIMESTAMP=$(date -u +%Y-%m-%dT%H:%M:%SZ)

# pair_run NAME CONNECTIONS URL_A URL_B: post.lua on both URLs at once, half
# the connections each; NAME.log gets one RESULT line for the pair (counts and
# rates summed, latencies the worse of the two).
pair_run() {
    local name=$1 conns=$2 url_a=$3 url_b=$4 half id_a commits_before commits_after
    local backends nodes_before nodes_after pg_before pg_after
    half=$((conns / 2))
    commits_before=$(xact_commits)
    backends=$(pg_backends)
    # shellcheck disable=SC2086 # one pid per word
    nodes_before=$(cpu_ticks ${node_a:-} ${node_b:-})
    # shellcheck disable=SC2086
    pg_before=$(cpu_ticks $backends)
    next_run_id; id_a=$RUN_ID
    next_run_id
    wrk -t1 -c"$half" -d"$DURATION" --latency -s "$HERE/post.lua" "$url_a" \
        -- "$WORK/events.txt" "$ORIGIN" "$id_a" >"$WORK/$name.a.log" 2>&1 &
    local a=$!
    wrk -t1 -c"$half" -d"$DURATION" --latency -s "$HERE/post.lua" "$url_b" \
        -- "$WORK/events.txt" "$ORIGIN" "$RUN_ID" >"$WORK/$name.b.log" 2>&1 &
    local b=$!
    wait "$a" "$b" || true
    commits_after=$(xact_commits)
    # shellcheck disable=SC2086
    nodes_after=$(cpu_ticks ${node_a:-} ${node_b:-})
    # shellcheck disable=SC2086
    pg_after=$(cpu_ticks $backends)
    for side in a b; do
        grep -q '^RESULT' "$WORK/$name.$side.log" || { cat "$WORK/$name.$side.log" >&2; exit 1; }
    done
    awk -v commits=$((commits_after - commits_before)) \
        -v nodes_ms=$(( (nodes_after - nodes_before) * 1000 / CLK_TCK )) \
        -v pg_ms=$(( (pg_after - pg_before) * 1000 / CLK_TCK )) '/^RESULT/ {
            for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
            ok += v["ok"]; others += v["others"]; errors += v["errors"]; rate += v["ok_per_s"]
            if (v["p50_ms"] > p50) p50 = v["p50_ms"]
            if (v["p99_ms"] > p99) p99 = v["p99_ms"]
            statuses = statuses " " v["statuses"]
         }
         END { printf "RESULT ok=%d others=%d errors=%d ok_per_s=%.1f p50_ms=%.3f p99_ms=%.3f commits=%d nodes_cpu_ms=%d pg_cpu_ms=%d statuses=%s\n",
               ok, others, errors, rate, p50, p99, commits, nodes_ms, pg_ms, statuses }' \
        "$WORK/$name.a.log" "$WORK/$name.b.log" >"$WORK/$name.log"
}

# cpu_ticks PID...: the user and system CPU time of the processes so far,
# in clock ticks (gone processes count 0).
CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() {
    local total=0 pid
    for pid in "$@"; do
        if [ -r "/proc/$pid/stat" ]; then
            total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
        fi
    done
    echo "$total"
}

# pg_backends: the server processes of the nodes' connections.
pg_backends() {
    psql -tA "$PG_URL/postgres" -c \
        "SELECT pid FROM pg_stat_activity WHERE datname = '$DB' AND application_name = 'nexaguard'"
}

# xact_commits: transactions committed in the bench database so far.
xact_commits() {
    psql -tA "$PG_URL/postgres" -c "SELECT xact_commit FROM pg_stat_database WHERE datname = '$DB'"
}

# pair_measure NAME ROUND URL_A URL_B: warm-up in round 1, then the measured run.
pair_measure() {
    local name=$1 round=$2
    if [ "$round" = 1 ] && [ "$WARMUP" != 0 ] && [ "$WARMUP" != 0s ]; then
        DURATION=$WARMUP pair_run "$name.warmup" "$CONNECTIONS" "$3" "$4"
    fi
    pair_run "$name.r$round" "$CONNECTIONS" "$3" "$4"
    printf '  %-12s round %d  %s\n' "$name" "$round" "$(cut -d' ' -f2- "$WORK/$name.r$round.log")"
}

# kib PID FIELD: a memory figure of /proc/PID/status in KiB.
kib() {
    awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"
}

echo "== $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "== PostgreSQL $(psql -tA "$PG_URL/postgres" -c 'SHOW server_version'), database $DB"
echo "== two wrk -t1 -c$((CONNECTIONS / 2)) -d$DURATION --latency, $ROUNDS rounds, warm-up $WARMUP"
psql -q "$PG_URL/postgres" -c "CREATE DATABASE $DB" >/dev/null
url="$PG_URL/$DB"
data="$WORK/data"
limits=(--rate-limit-per-minute 100000000 --rate-limit-burst 100000000)
"$SERVER_BIN" serve --demo --data-dir "$data" --listen "127.0.0.1:$PORT" --database-url "$url" \
    "${limits[@]}" >"$WORK/node-a.log" 2>&1 &
node_a=$!
PIDS+=("$node_a")
wait_for "https://127.0.0.1:$PORT/healthz" "$node_a"
"$SERVER_BIN" serve --demo --data-dir "$data" --listen "127.0.0.1:$PORT_B" --database-url "$url" \
    "${limits[@]}" >"$WORK/node-b.log" 2>&1 &
node_b=$!
PIDS+=("$node_b")
wait_for "https://127.0.0.1:$PORT_B/healthz" "$node_b"

site_key=$(curl -sk "https://127.0.0.1:$PORT/demo/" | grep -o 'ngp_[0-9a-f]\{32\}' | head -n1 || true)
[ -n "$site_key" ] || { echo "postgres.sh: no site key on /demo/" >&2; exit 1; }
curl -skf "https://127.0.0.1:$PORT/v1/sites/$site_key/config.json" -o "$WORK/config.json"
curl -skf "https://127.0.0.1:$PORT/v1/gvl/vendor-list.json" -o "$WORK/vendor-list.json"
python3 "$HERE/events.py" "$WORK/config.json" "$WORK/vendor-list.json" "$TIMESTAMP" \
    "$SERVER_BIN" "$WORK/events.txt"
"$ECHO_BIN" --listen "127.0.0.1:$ECHO_PORT" --get-body "$WORK/config.json" \
    --tls-cert "$data/tls/cert.pem" --tls-key "$data/tls/key.pem" >"$WORK/echo.log" 2>&1 &
echo_pid=$!
PIDS+=("$echo_pid")
wait_for "https://127.0.0.1:$ECHO_PORT/healthz" "$echo_pid"
echo_url="https://127.0.0.1:$ECHO_PORT"

for round in $(seq 1 "$ROUNDS"); do
    pair_measure consents "$round" "https://127.0.0.1:$PORT" "https://127.0.0.1:$PORT_B"
    pair_measure echo-post "$round" "$echo_url" "$echo_url"
done

overload_from=$(xact_commits)
before_a=$(kib "$node_a" VmHWM)
before_b=$(kib "$node_b" VmHWM)
over=$((CONNECTIONS * OVERLOAD))
echo "== overload: $over connections (${OVERLOAD}x)"
pair_run overload "$over" "https://127.0.0.1:$PORT" "https://127.0.0.1:$PORT_B"
echo "  overload  $(cut -d' ' -f2- "$WORK/overload.log")"
after_a=$(kib "$node_a" VmHWM)
after_b=$(kib "$node_b" VmHWM)
rss_a=$(kib "$node_a" VmRSS)
rss_b=$(kib "$node_b" VmRSS)
stop "$echo_pid"
stop "$node_a"
stop "$node_b"
overload_commits=$(( $(xact_commits) - overload_from ))

created=0
for log in "$WORK"/consents.*.log "$WORK"/overload.log; do
    case $log in *.a.log|*.b.log) continue ;; esac
    created=$((created + $(field "$log" ok)))
done
rows=$(psql -tA "$url" -c 'SELECT count(*) FROM consents')

echo
echo "== results: medians over $ROUNDS rounds (ok/s counts only 201)"
printf '%-10s %10s %9s %9s\n' run ok/s p50_ms p99_ms
for name in consents echo-post; do
    printf '%-10s %10s %9s %9s\n' "$name" "$(med "$name" ok_per_s)" "$(med "$name" p50_ms)" "$(med "$name" p99_ms)"
done
echo "two nodes: consents/s / echo POST = $(ratios consents echo-post)"
seconds=${DURATION%s}
per_round=()
for r in $(seq 1 "$ROUNDS"); do
    per_round+=("$(( $(field "$WORK/consents.r$r.log" commits) + $(field "$WORK/echo-post.r$r.log" commits) ))")
done
commits=$(median "${per_round[@]}")
echo "two nodes: $(awk -v c="$commits" -v s="$seconds" 'BEGIN { printf "%.0f", c / s }') transactions committed/s" \
    "(median round: $commits; $(awk -v c="$commits" -v n="$(med consents ok)" 'BEGIN { if (c > 0) printf "%.1f", n / c; else print "n/a" }') 201s per transaction)"
echo "two nodes: CPU per 201, median round: nodes $(awk -v c="$(med consents nodes_cpu_ms)" -v n="$(med consents ok)" 'BEGIN { if (n > 0) printf "%.0f", 1000 * c / n; else print "n/a" }') us," \
    "PostgreSQL server processes $(awk -v c="$(med consents pg_cpu_ms)" -v n="$(med consents ok)" 'BEGIN { if (n > 0) printf "%.0f", 1000 * c / n; else print "n/a" }') us"
echo "overload ${OVERLOAD}x: $overload_commits transactions committed" \
    "($(awk -v c="$overload_commits" -v n="$(field "$WORK/overload.log" ok)" 'BEGIN { if (c > 0) printf "%.1f", n / c; else print "n/a" }') 201s per transaction;" \
    "CPU per 201: nodes $(awk -v c="$(field "$WORK/overload.log" nodes_cpu_ms)" -v n="$(field "$WORK/overload.log" ok)" 'BEGIN { if (n > 0) printf "%.0f", 1000 * c / n; else print "n/a" }') us," \
    "PostgreSQL $(awk -v c="$(field "$WORK/overload.log" pg_cpu_ms)" -v n="$(field "$WORK/overload.log" ok)" 'BEGIN { if (n > 0) printf "%.0f", 1000 * c / n; else print "n/a" }') us)"
echo "overload ${OVERLOAD}x: $(field "$WORK/overload.log" ok_per_s) consents/s," \
    "p99 $(field "$WORK/overload.log" p99_ms) ms, statuses$(sed -n 's/.*statuses=//p' "$WORK/overload.log")," \
    "transport errors $(field "$WORK/overload.log" errors)"
echo "peak memory (VmHWM) node A: $((before_a / 1024)) MiB before overload, $((after_a / 1024)) MiB after (RSS now $((rss_a / 1024)) MiB)"
echo "peak memory (VmHWM) node B: $((before_b / 1024)) MiB before overload, $((after_b / 1024)) MiB after (RSS now $((rss_b / 1024)) MiB)"
if [ "$rows" -ge "$created" ]; then
    echo "201s (warm-up included) $created, consent rows $rows: ok, every 201 is a row"
else
    echo "201s $created, consent rows $rows: MISSING $((created - rows)) acknowledged events"
fi
