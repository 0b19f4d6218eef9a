#!/usr/bin/env bash
# Load benchmark of Atrium against the real server (release build), on SQLite and PostgreSQL,
# with demo data scaled to 200 clients / 2,000 projects / 100,000 tasks.
#
#   bench/run.sh [sqlite|postgres|both] [duration-seconds]
#
# Needs: wrk (apt-get install wrk), a PostgreSQL at 127.0.0.1:5432 for the postgres run.
# Measures requests/s and latency (p50/p99) at 64 connections of:
#   - /static/app.css                 (baseline: a static page served by the same binary)
#   - /portal/projects/{id}           (the client's project page, HTML, session cookie)
#   - /api/v1/projects/{id}/tasks     (JSON, bearer token)
set -euo pipefail
cd "$(dirname "$0")/.."
which wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
MODE=${1:-both}
DUR=${2:-20}
PORT=18089
BASE="http://127.0.0.1:$PORT"
PG=${ATRIUM_BENCH_PG:-postgres://postgres@127.0.0.1:5432}
cargo build --release --bin atrium >/dev/null 2>&1
BIN=target/release/atrium

run_one() {
  local label=$1 url_args=$2 data=$3
  echo "== $label: seeding (bench scale)"
  local t0=$(date +%s)
  $BIN demo --scale bench --seed-only --data-dir "$data" $url_args >/dev/null
  echo "   seeded in $(( $(date +%s) - t0 )) s"
  $BIN serve --data-dir "$data" --bind 127.0.0.1:$PORT $url_args >/dev/null 2>&1 &
  local pid=$!
  trap "kill $pid 2>/dev/null || true" RETURN
  for _ in $(seq 100); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.1; done
  local login token pid_project
  login=$(curl -sf -c "$data/cookies" -H 'content-type: application/json' \
    -d '{"email":"'"$CLIENT_EMAIL"'","password":"'"$PASSWORD"'"}' "$BASE/api/v1/session")
  token=$(echo "$login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  pid_project=$(curl -sf -H "authorization: Bearer $token" "$BASE/api/v1/projects?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
  local ntasks=$(curl -sf -H "authorization: Bearer $token" "$BASE/api/v1/projects/$pid_project/tasks?limit=200" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')
  echo "   project $pid_project has $ntasks tasks"
  local cookie="atrium_session=$token"
  for target in "static|$BASE/static/app.css|" "project page (HTML)|$BASE/portal/projects/$pid_project|Cookie: $cookie" "tasks API (JSON)|$BASE/api/v1/projects/$pid_project/tasks|Authorization: Bearer $token"; do
    IFS='|' read -r name url header <<<"$target"
    # warm-up
    wrk -t2 -c64 -d3s ${header:+-H "$header"} "$url" >/dev/null
    out=$(wrk -t2 -c64 -d${DUR}s --latency ${header:+-H "$header"} "$url")
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    p50=$(echo "$out" | awk '$1=="50%" {print $2}')
    p99=$(echo "$out" | awk '$1=="99%" {print $2}')
    non2xx=$(echo "$out" | awk '/Non-2xx/ {print $5}')
    printf "| %s | %s | %s | %s | %s | %s |\n" "$label" "$name" "$rps" "$p50" "$p99" "${non2xx:-0}" | tee -a "$RESULTS"
  done
  kill $pid; wait $pid 2>/dev/null || true
}

CLIENT_EMAIL=$(grep -o 'CLIENT_EMAIL: &str = "[^"]*"' crates/atrium/src/demo.rs | cut -d'"' -f2)
PASSWORD=$(grep -o 'PASSWORD: &str = "[^"]*"' crates/atrium/src/demo.rs | cut -d'"' -f2)
RESULTS=$(mktemp)
echo "| database | endpoint | requests/s | p50 | p99 | non-2xx |" | tee "$RESULTS"
echo "|---|---|---|---|---|---|" | tee -a "$RESULTS"
if [[ $MODE == sqlite || $MODE == both ]]; then
  D=$(mktemp -d); run_one SQLite "" "$D"; rm -rf "$D"
fi
if [[ $MODE == postgres || $MODE == both ]]; then
  DB=atrium_bench_$$
  psql "$PG/postgres" -qc "CREATE DATABASE $DB" >/dev/null
  D=$(mktemp -d); run_one PostgreSQL "--database-url $PG/$DB" "$D"; rm -rf "$D"
  psql "$PG/postgres" -qc "DROP DATABASE $DB WITH (FORCE)" >/dev/null
fi
echo; echo "machine: $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB; wrk -t2 -c64 -d${DUR}s --latency"
