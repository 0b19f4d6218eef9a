#!/usr/bin/env bash
# Benchmark of the live-update stream GET /api/v1/events (Server-Sent Events) against the real
# server (release build), on SQLite and PostgreSQL, with the ordinary demo data.
#
#   bench/sse.sh [sqlite|postgres|both] [connections] [writes]
#
# Needs: node (20+), a PostgreSQL at 127.0.0.1:5432 for the postgres run (ATRIUM_BENCH_PG).
# For each backend: fresh data dir / fresh database, `atrium demo --seed-only`, `atrium serve`,
# then bench/sse.mjs holds N streams (default 1,000) open as the demo client user, reports the
# server's memory per connection and the latency from a staff PATCH of a task to the arrival of
# its `task.updated` event on every stream (M writes, default 50, one every 200 ms).
set -euo pipefail
cd "$(dirname "$0")/.."
which node >/dev/null || { echo "node (20+) is needed" >&2; exit 1; }
MODE=${1:-both}
CONNS=${2:-1000}
WRITES=${3:-50}
PORT=18090
BASE="http://127.0.0.1:$PORT"
PG=${ATRIUM_BENCH_PG:-postgres://postgres@127.0.0.1:5432}
# 1,000 streams = 1,000 sockets in the server and 1,000 in the client (both inherit this limit).
if [[ $(ulimit -n) != unlimited && $(ulimit -n) -lt 4096 ]]; then ulimit -n 4096; fi
cargo build --release --bin atrium --quiet || { echo "cargo build failed" >&2; exit 1; }
BIN=target/release/atrium

run_one() {
  local label=$1 url_args=$2 data=$3
  echo "== $label: seeding"
  $BIN demo --seed-only --data-dir "$data" $url_args >/dev/null
  # All streams belong to one user (one token), so the per-user cap (default 20, one per browser
  # tab) is raised to N; what is measured (memory, fan-out, policy check per event and stream)
  # does not depend on how many users hold the streams.
  $BIN serve --data-dir "$data" --bind 127.0.0.1:$PORT --max-streams-per-user $((CONNS + 10)) $url_args \
    >"$data/server.log" 2>&1 &
  local pid=$!
  trap "kill $pid 2>/dev/null || true" RETURN
  for _ in $(seq 100); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.1; done
  echo "   server pid $pid, open files limit $(ulimit -n)"
  local rc=0
  node bench/sse.mjs --base "$BASE" --pid "$pid" --connections "$CONNS" --writes "$WRITES" --label "$label" \
    | tee "$data/result" || rc=$?
  tail -1 "$data/result" >>"$RESULTS"
  if grep -qiE 'error|warn' "$data/server.log"; then
    echo "   server log (errors/warnings):"; grep -iE 'error|warn' "$data/server.log" | tail -20 | sed 's/^/   /'
  fi
  kill $pid; wait $pid 2>/dev/null || true
  [[ $rc == 0 ]] || echo "   !! $label: sse.mjs exited with $rc (missed deliveries or failed connections)"
}

RESULTS=$(mktemp)
if [[ $MODE == sqlite || $MODE == both ]]; then
  D=$(mktemp -d); run_one SQLite "" "$D"; rm -rf "$D"
fi
if [[ $MODE == postgres || $MODE == both ]]; then
  DB=atrium_sse_$$
  psql "$PG/postgres" -qc "CREATE DATABASE $DB" >/dev/null
  D=$(mktemp -d); run_one PostgreSQL "--database-url $PG/$DB" "$D"; rm -rf "$D"
  psql "$PG/postgres" -qc "DROP DATABASE $DB WITH (FORCE)" >/dev/null
fi
echo
echo "| database | connections | memory per connection | p50 | p90 | p99 | max | missed |"
echo "|---|---|---|---|---|---|---|---|"
cat "$RESULTS"; rm -f "$RESULTS"
echo; echo "machine: $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB; $CONNS streams, $WRITES writes every 200 ms; node $(node --version)"
