#!/usr/bin/env bash
# Where a durable consent's CPU goes (not a test; CI does not run it).
#
# Starts `nexaguard serve --demo` over HTTPS, posts distinct valid consent
# events with wrk (post.lua, as run.sh does) and, during the measured run,
# counts the server's CPU time per thread with `perf stat --per-thread`
# and samples it with `perf record`. Prints:
#   - CPU per durable consent (task-clock of the server / 201 answers),
#     split into the Tokio workers and the SQLite writer thread;
#   - the share of samples per step of the request path (TLS, HTTP, JSON,
#     TC string, hashing, metrics, SQLite, kernel...), from the symbols of
#     the samples (bench/ingest/steps.awk), and that share turned into
#     microseconds per consent.
# The same is done for the echo baseline, so the per-consent figures can be
# read against a bare axum POST in the same run.
#
# Settings (environment variables):
#   DURATION=10s  CONNECTIONS=256  THREADS=2  PORT=18443  ECHO_PORT=18444
#   SERVER_BIN=target/release/nexaguard
#   SKIP_BUILD=1  use the binaries already built
#   SKIP_ECHO=1   profile the consent server only
#   KEEP=1        keep the temporary directory (perf.data, logs)
# Needs perf (apt-get install linux-perf, or linux-tools-$(uname -r)) and
# permission to profile (root, or kernel.perf_event_paranoid <= 1).
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$(pwd)
HERE="$ROOT/bench/ingest"

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-256}
THREADS=${THREADS:-2}
ROUNDS=1
PORT=${PORT:-18443}
ECHO_PORT=${ECHO_PORT:-18444}
SKIP_BUILD=${SKIP_BUILD:-0}
KEEP=${KEEP:-0}
SERVER_BIN=${SERVER_BIN:-$ROOT/target/release/nexaguard}
ECHO_BIN="$ROOT/target/bench-echo/release/nexaguard-bench-echo"
ORIGIN="https://localhost:$PORT"

. "$HERE/lib.sh"
require_tools wrk curl python3 perf

WORK=$(mktemp -d "${TMPDIR:-/tmp}/nexaguard-bench-profile.XXXXXX")
PIDS=()
trap stop_all_and_clean EXIT

if [ "$SKIP_BUILD" != 1 ]; then
    cargo build --release -p nexaguard-cli
    (cd "$HERE/echo" && CARGO_TARGET_DIR="$ROOT/target/bench-echo" cargo build --release --locked)
fi

data="$WORK/data"
base="https://127.0.0.1:$PORT"
"$SERVER_BIN" serve --demo --data-dir "$data" --listen "127.0.0.1:$PORT" \
    --rate-limit-per-minute 100000000 --rate-limit-burst 100000000 \
    >"$WORK/server.log" 2>&1 &
server=$!
PIDS+=("$server")
wait_for "$base/healthz" "$server"
site_key=$(curl -sk "$base/demo/" | grep -o 'ngp_[0-9a-f]\{32\}' | head -n1)
curl -skf "$base/v1/sites/$site_key/config.json" -o "$WORK/config.json"
curl -skf "$base/v1/gvl/vendor-list.json" -o "$WORK/vendor-list.json"
python3 "$HERE/events.py" "$WORK/config.json" "$WORK/vendor-list.json" \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$SERVER_BIN" "$WORK/events.txt"
"$ECHO_BIN" --listen "127.0.0.1:$ECHO_PORT" --get-body "$WORK/config.json" \
    --tls-cert "$data/tls/cert.pem" --tls-key "$data/tls/key.pem" >"$WORK/echo.log" 2>&1 &
echo_pid=$!
PIDS+=("$echo_pid")
wait_for "https://127.0.0.1:$ECHO_PORT/healthz" "$echo_pid"

echo "== $(nproc) CPUs, wrk -t$THREADS -c$CONNECTIONS -d$DURATION"

# profile NAME PID URL: a warm-up, then the measured run under perf.
profile() {
    local name=$1 pid=$2 url=$3 seconds
    seconds=${DURATION%s}
    wrk_run "$name.warmup" 2s "$HERE/post.lua" "$url" "$WORK/events.txt" "$ORIGIN"
    perf stat --per-thread -e task-clock -p "$pid" -o "$WORK/$name.stat" -- sleep "$seconds" &
    local stat=$!
    perf record -F 999 -g -p "$pid" -o "$WORK/$name.perf" -- sleep "$seconds" \
        >/dev/null 2>&1 &
    local record=$!
    wrk_run "$name" "$DURATION" "$HERE/post.lua" "$url" "$WORK/events.txt" "$ORIGIN"
    wait "$stat" "$record" || true
    local ok
    ok=$(($(field "$WORK/$name.log" ok) + $(field "$WORK/$name.log" others)))
    # task-clock is in ms per thread; the writer thread is named.
    awk -v ok="$ok" -v name="$name" '
        $2 ~ /task-clock|msec/ || $3 ~ /msec/ {
            ms = $2; gsub(",", "", ms); ms += 0
            if ($1 ~ /nexaguard-sqlit/) writer += ms; else rest += ms
        }
        END {
            total = writer + rest
            printf "%s: %d answers, server CPU %.0f ms: %.1f us per answer (workers %.1f, writer thread %.1f)\n",
                name, ok, total, 1000 * total / ok, 1000 * rest / ok, 1000 * writer / ok
            print 1000 * total / ok > "'"$WORK/$name.us"'"
        }' "$WORK/$name.stat"
    perf report -i "$WORK/$name.perf" --no-children --sort comm,dso,sym --stdio -g none 2>/dev/null \
        | awk -v us="$(cat "$WORK/$name.us")" -f "$HERE/steps.awk"
}

profile consents "$server" "$base"
[ "${SKIP_ECHO:-0}" = 1 ] && exit 0
echo
profile echo-post "$echo_pid" "https://127.0.0.1:$ECHO_PORT"
