#!/usr/bin/env bash
# Benchmark of a 1 GiB file upload and download against the real server (release build): the
# server's resident memory growth while the file goes through it, and the throughput beside `cp`
# of the same file on the same disk.
#
#   bench/files.sh [sqlite|postgres|both] [MiB]
#
# Needs: curl, jq, sha256sum, cmp; a PostgreSQL at 127.0.0.1:5432 for the postgres run
# (ATRIUM_BENCH_PG); ~3.5 GiB free under $TMPDIR (default /tmp) for 1 GiB (the file, its `cp`
# copy, the stored blob, the downloaded copy).
# Per backend: fresh data dir (under $TMPDIR, so the same filesystem as the file) / fresh
# database, `atrium demo --seed-only`, `atrium serve`, sign in once as staff, pick a project,
# warm up with a 1 MiB upload + download, then upload the big file (curl -F) and download it
# (curl -o) while sampling the server's VmRSS from /proc/<pid>/status every 50 ms. Growth =
# peak − RSS just before the transfer; VmHWM (reset through /proc/<pid>/clear_refs before each
# transfer) is a cross-check that catches peaks between samples.
set -euo pipefail
cd "$(dirname "$0")/.."
for t in curl jq sha256sum cmp; do which $t >/dev/null || { echo "$t is needed" >&2; exit 1; }; done
MODE=${1:-both}
MIB=${2:-1024}
PORT=18091
BASE="http://127.0.0.1:$PORT"
PG=${ATRIUM_BENCH_PG:-postgres://postgres@127.0.0.1:5432}
EMAIL=ana@northwind.test
PASSWORD=atrium-demo-2026
cargo build --release --bin atrium --quiet || { echo "cargo build failed" >&2; exit 1; }
BIN=$PWD/target/release/atrium

WORK=$(mktemp -d)
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT
echo "== scratch dir $WORK ($(df -h --output=avail "$WORK" | tail -1 | tr -d ' ') free)"
need=$(( MIB * 4 * 1024 )) # KiB
avail=$(df --output=avail -k "$WORK" | tail -1)
(( avail > need )) || { echo "need ~$((need / 1024)) MiB free under $WORK, have $((avail / 1024))" >&2; exit 1; }

F=$WORK/big.bin
echo "== generating $MIB MiB of random data"
head -c $((MIB * 1024 * 1024)) /dev/urandom >"$F"
sync
SHA=$(sha256sum "$F" | cut -d' ' -f1)
head -c $((1024 * 1024)) /dev/urandom >"$WORK/warm.bin"

now() { date +%s.%N; }
mibs() { awk -v m="$MIB" -v s="$1" 'BEGIN { printf "%.0f", m / s }'; }

# Baseline: cp of the same file on the same filesystem, then sync (the server fsyncs its blob).
t0=$(now); cp "$F" "$F.copy"; sync; t1=$(now)
CP_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
CP=$(mibs "$CP_S")
rm -f "$F.copy"; sync
echo "   cp + sync: ${CP_S} s, $CP MiB/s"

rss() { local k v _; while read -r k v _; do [[ $k == VmRSS: ]] && { echo "$v"; return; }; done <"/proc/$1/status"; }
hwm() { local k v _; while read -r k v _; do [[ $k == VmHWM: ]] && { echo "$v"; return; }; done <"/proc/$1/status"; }
# Samples VmRSS (KiB) every 50 ms into $2 until $3 exists.
sampler() { while [[ ! -e $3 ]] && [[ -e /proc/$1/status ]]; do rss "$1" >>"$2" 2>/dev/null || true; sleep 0.05; done; }
peak() { sort -n "$1" | tail -1; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# Runs command "$@" while sampling the server's RSS; sets PEAK_KIB, HWM_KIB, SECS, SAMPLES.
measure() {
  local pid=$1; shift
  local samples=$WORK/samples stop=$WORK/stop
  rm -f "$samples" "$stop"
  echo 5 >"/proc/$pid/clear_refs" 2>/dev/null || true # resets VmHWM to the current RSS
  sampler "$pid" "$samples" "$stop" &
  local spid=$!
  local t0 t1
  t0=$(now); "$@"; t1=$(now)
  touch "$stop"; wait $spid
  rss "$pid" >>"$samples"
  PEAK_KIB=$(peak "$samples"); HWM_KIB=$(hwm "$pid"); SAMPLES=$(wc -l <"$samples")
  SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
}

run_one() {
  local label=$1 url_args=$2 data=$3
  echo "== $label: seeding"
  $BIN demo --seed-only --data-dir "$data" $url_args >/dev/null 2>&1
  $BIN serve --data-dir "$data" --bind 127.0.0.1:$PORT $url_args >"$data/server.log" 2>&1 &
  local pid=$!
  trap "kill $pid 2>/dev/null || true" RETURN
  for _ in $(seq 100); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.1; done
  local rss_start; rss_start=$(rss $pid)
  local token pidj
  token=$(curl -sf -H 'Content-Type: application/json' \
    -d "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" "$BASE/api/v1/session" | jq -r .token)
  [[ -n $token && $token != null ]] || { echo "sign-in failed" >&2; return 1; }
  local auth="Authorization: Bearer $token"
  pidj=$(curl -sf -H "$auth" "$BASE/api/v1/projects" | jq -r '.items[0].id')
  echo "   server pid $pid, project $pidj"

  # Warm-up: one small upload and download (first multipart form, first blob, first fsync).
  local wid
  wid=$(curl -sf -H "$auth" -F "file=@$WORK/warm.bin;filename=warm.bin" "$BASE/api/v1/projects/$pidj/files" | jq -r .id)
  curl -sf -H "$auth" -o /dev/null "$BASE/api/v1/files/$wid/download"
  sleep 1

  # Upload.
  local before_up; before_up=$(rss $pid)
  measure $pid curl -s -H "$auth" -F "file=@$F;filename=big.bin" -o "$WORK/up.json" -w '%{http_code}' \
    "$BASE/api/v1/projects/$pidj/files" >"$WORK/up.code"
  local up_s=$SECS up_peak=$PEAK_KIB up_hwm=$HWM_KIB up_n=$SAMPLES
  local code; code=$(cat "$WORK/up.code")
  [[ $code == 201 ]] || { echo "upload answered $code: $(cat "$WORK/up.json")" >&2; return 1; }
  local fid got
  fid=$(jq -r .id "$WORK/up.json"); got=$(jq -r .sha256 "$WORK/up.json")
  local sha_ok=yes; [[ $got == "$SHA" ]] || sha_ok="NO ($got ≠ $SHA)"
  sleep 1
  local after_up; after_up=$(rss $pid)

  # Download.
  local before_down; before_down=$(rss $pid)
  measure $pid curl -sf -H "$auth" -o "$WORK/down.bin" "$BASE/api/v1/files/$fid/download"
  local down_s=$SECS down_peak=$PEAK_KIB down_hwm=$HWM_KIB down_n=$SAMPLES
  local cmp_ok=yes; cmp -s "$F" "$WORK/down.bin" || cmp_ok=NO
  rm -f "$WORK/down.bin"
  sleep 1
  local after_down; after_down=$(rss $pid)

  local up_g=$(( up_peak - before_up )) down_g=$(( down_peak - before_down ))
  local up_hg=$(( up_hwm - before_up )) down_hg=$(( down_hwm - before_down ))
  echo "   RSS at start $(mib $rss_start) MiB; before upload $(mib $before_up) MiB"
  echo "   upload:   ${up_s} s, $(mibs $up_s) MiB/s; peak RSS $(mib $up_peak) MiB ($up_n samples), growth $(mib $up_g) MiB (VmHWM growth $(mib $up_hg) MiB); sha256 matches: $sha_ok"
  echo "   RSS 1 s after upload $(mib $after_up) MiB"
  echo "   download: ${down_s} s, $(mibs $down_s) MiB/s; peak RSS $(mib $down_peak) MiB ($down_n samples), growth $(mib $down_g) MiB (VmHWM growth $(mib $down_hg) MiB); bytes identical: $cmp_ok"
  echo "   RSS 1 s after download $(mib $after_down) MiB"
  echo "   stored: $(du -sh "$data/files" 2>/dev/null | cut -f1) under $data/files"
  if grep -qiE 'error|warn' "$data/server.log"; then
    echo "   server log (errors/warnings):"; grep -iE 'error|warn' "$data/server.log" | tail -20 | sed 's/^/   /'
  fi
  local ok=yes; (( up_g < 65536 && down_g < 65536 && up_hg < 65536 && down_hg < 65536 )) || ok=NO
  echo "| $label | $(mib $up_g) MiB ($(mib $up_hg)) | $(mib $down_g) MiB ($(mib $down_hg)) | $(mibs $up_s) MiB/s | $(mibs $down_s) MiB/s | $CP MiB/s | $sha_ok / $cmp_ok | $ok |" >>"$RESULTS"
  kill $pid; wait $pid 2>/dev/null || true
}

RESULTS=$WORK/results
: >"$RESULTS"
if [[ $MODE == sqlite || $MODE == both ]]; then
  D=$(mktemp -d -p "$WORK"); run_one SQLite "" "$D"; rm -rf "$D"
fi
if [[ $MODE == postgres || $MODE == both ]]; then
  DB=atrium_files_$$
  psql "$PG/postgres" -qc "CREATE DATABASE $DB" >/dev/null
  D=$(mktemp -d -p "$WORK"); run_one PostgreSQL "--database-url $PG/$DB" "$D" || true; rm -rf "$D"
  psql "$PG/postgres" -qc "DROP DATABASE $DB WITH (FORCE)" >/dev/null
fi
echo
echo "| database | upload RSS growth (VmHWM) | download RSS growth (VmHWM) | upload | download | cp + sync | sha256 / cmp | < 64 MiB |"
echo "|---|---|---|---|---|---|---|---|"
cat "$RESULTS"
echo; echo "machine: $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB; $MIB MiB file under $WORK ($(df --output=source "$WORK" | tail -1)); curl $(curl --version | head -1 | cut -d' ' -f2)"
