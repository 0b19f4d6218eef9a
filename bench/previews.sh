#!/usr/bin/env bash
# Benchmark of thumbnails of hostile PDFs against the real server (release build, SQLite):
# the server's and the preview workers' peak resident memory, and how long a normal thumbnail
# takes while the hostile ones are being asked for.
#
#   bench/previews.sh
#
# Needs: curl, jq, python3 (it writes the hostile PDFs with zlib), and free port 18092.
# Fresh data dir, `atrium demo --seed-only`, `atrium serve`, sign in as staff, upload into the
# first project: the issue's PDFs (3,000,000 `0 0 m 1 1 l S` lines, Flate: ~131 KB; a page
# drawing one 30000 × 30000 image), a normal one-page PDF (the test fixture) and a 64 × 64 PNG.
# Then ask for all four thumbnails at once, twice over (the hostile two from 4 concurrent
# requests each), while sampling every 10 ms the server's VmRSS and each preview worker's VmHWM
# (a worker is a child of the server; short-lived ones may end between samples). The server's
# own VmHWM (reset through clear_refs just before) catches peaks between samples. A second
# round shows the stored outcomes: no worker starts.
set -euo pipefail
cd "$(dirname "$0")/.."
for t in curl jq python3; do which $t >/dev/null || { echo "$t is needed" >&2; exit 1; }; done
PORT=18092
BASE="http://127.0.0.1:$PORT"
EMAIL=ana@northwind.test
PASSWORD=atrium-demo-2026
cargo build --release --bin atrium --quiet || { echo "cargo build failed" >&2; exit 1; }
BIN=$PWD/target/release/atrium
WORK=$(mktemp -d)
SERVER=
cleanup() { [[ -n $SERVER ]] && kill "$SERVER" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

python3 - "$WORK" <<'PY'
import sys, zlib
work = sys.argv[1]
def pdf(content, resources, extra):
    packed = zlib.compress(content, 9)
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources %s /Contents %d 0 R >>"
            % (resources, 4 + len(extra))] + extra
    objs.append(b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(packed), packed))
    out, offs = bytearray(b"%PDF-1.7\n"), []
    for i, o in enumerate(objs):
        offs.append(len(out)); out += b"%d 0 obj\n%s\nendobj\n" % (i + 1, o)
    x = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offs)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, x)
    return bytes(out)
open(f"{work}/lines.pdf", "wb").write(pdf(b"0 0 m 1 1 l S\n" * 3_000_000, b"<< >>", []))
img = zlib.compress(bytes(3 * 64), 9)
image = (b"<< /Type /XObject /Subtype /Image /Width 30000 /Height 30000 /ColorSpace /DeviceRGB "
         b"/BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream" % (len(img), img))
open(f"{work}/huge.pdf", "wb").write(pdf(b"q 595 0 0 842 0 0 cm /Im0 Do Q\n", b"<< /XObject << /Im0 4 0 R >> >>", [image]))
# A 64 x 64 grey PNG.
import struct
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
raw = b"".join(b"\0" + b"\x80" * 64 * 3 for _ in range(64))
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 64, 64, 8, 2, 0, 0, 0)) \
    + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
open(f"{work}/small.png", "wb").write(png)
PY
cp crates/web/tests/fixtures/proposal.pdf "$WORK/normal.pdf"
echo "== files: $(cd "$WORK" && ls -l lines.pdf huge.pdf normal.pdf small.png | awk '{printf "%s %s B; ", $9, $5}')"

data=$WORK/data
$BIN demo --seed-only --data-dir "$data" >/dev/null 2>&1
$BIN serve --data-dir "$data" --bind 127.0.0.1:$PORT >"$data/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 100); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.1; done
token=$(curl -sf -H 'Content-Type: application/json' \
  -d "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" "$BASE/api/v1/session" | jq -r .token)
auth="Authorization: Bearer $token"
project=$(curl -sf -H "$auth" "$BASE/api/v1/projects" | jq -r '.items[0].id')
declare -A id
for f in lines.pdf huge.pdf normal.pdf small.png; do
  id[$f]=$(curl -sf -H "$auth" -F "file=@$WORK/$f;filename=$f" "$BASE/api/v1/projects/$project/files" | jq -r .id)
done

status() { local k v _; while read -r k v _; do [[ $k == "$2:" ]] && { echo "$v"; return; }; done <"/proc/$1/status"; }
# Samples the server's VmRSS and its children's VmHWM (KiB) until $1 exists.
sampler() {
  local stop=$1 server=0 worker=0 workers=" "
  while [[ ! -e $stop ]]; do
    server=$(( $(status $SERVER VmRSS 2>/dev/null || echo 0) > server ? $(status $SERVER VmRSS 2>/dev/null || echo 0) : server ))
    for c in $(cat /proc/$SERVER/task/*/children 2>/dev/null); do
      local h; h=$(status "$c" VmHWM 2>/dev/null || echo 0)
      (( h > worker )) && worker=$h
      [[ $workers == *" $c "* ]] || workers="$workers$c "
    done
    sleep 0.01
  done
  echo "$server $worker $(( $(wc -w <<<"$workers") ))" >"$stop.out"
}
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

round() {
  local label=$1 stop=$WORK/stop.$1
  echo 5 >"/proc/$SERVER/clear_refs" 2>/dev/null || true
  local before; before=$(status $SERVER VmRSS)
  sampler "$stop" & local spid=$!
  local t0; t0=$(date +%s.%N) reqs=()
  for f in lines.pdf huge.pdf; do
    for _ in 1 2 3 4; do
      curl -s -o /dev/null -w "%{http_code} $f %{time_total}s\n" -H "$auth" "$BASE/api/v1/files/${id[$f]}/thumbnail?size=large" >>"$WORK/$label.codes" &
      reqs+=($!)
    done
  done
  for f in normal.pdf small.png; do
    curl -s -o /dev/null -w "%{http_code} $f %{time_total}s\n" -H "$auth" "$BASE/api/v1/files/${id[$f]}/thumbnail" >>"$WORK/$label.codes" &
    reqs+=($!)
  done
  wait "${reqs[@]}"
  local t1; t1=$(date +%s.%N)
  touch "$stop"; wait $spid
  read -r server worker nworkers <"$stop.out"
  echo "== $label: all 10 requests in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s"
  sort -k2 "$WORK/$label.codes" | uniq -c | sed 's/^/   /'
  echo "   server RSS: $(mib "$before") MiB before, peak $(mib "$server") MiB sampled, VmHWM $(mib "$(status $SERVER VmHWM)") MiB"
  echo "   workers seen: $nworkers, largest VmHWM sampled: $(mib "$worker") MiB"
}
round first
round again
echo "== server log (no preview lines):"
grep -a "no preview" "$data/server.log" | sed 's/\x1b\[[0-9;]*m//g' | sed -E "s/.*(sha256=\"[0-9a-f]{8})[0-9a-f]*/\1…/" | sed 's/^/   /' | head -8
echo; echo "machine: $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB"
