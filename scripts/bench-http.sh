#!/usr/bin/env bash
# HTTP load benchmark (issue 12): seeds a fresh database with 100,000 customers, 200,000
# invoices and 1,000,000 activity events, serves it with a release crm-api on 127.0.0.1 and
# drives each kind of request with wrk (Debian's) at 32 and 256 connections. Prints req/s,
# p50/p99/p99.9, errors and peak RSS per kind, and writes them with the machine and the
# command into docs/PERFORMANCE.md (between the "bench-http" markers).
#
#   scripts/bench-http.sh [--duration 10] [--connections "32 256"] [--only REGEX]
#                         [--customers 100000] [--no-build] [--no-write]
#
# Everything runs on 127.0.0.1 with its own database (crm_bench_http_<pid>), removed at the end.
# CRM_BENCH_BIN_DIR=other/release (with --no-build) measures another build.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=10 connections="32 256" only='' customers=100000 build=1 write=1
args="$*"
while (($#)); do
  case $1 in
    --duration) duration=$2; shift ;;
    --connections) connections=$2; shift ;;
    --only) only=$2; shift ;;
    --customers) customers=$2; shift ;;
    --no-build) build=0 ;;
    --no-write) write=0 ;;
    -h | --help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) printf 'unknown argument %s\n' "$1" >&2; exit 2 ;;
  esac
  shift
done
invoices=$((customers * 2)) events=$((customers * 10))

if ! command -v wrk >/dev/null; then
  if [[ $(id -u) == 0 ]]; then
    apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
  else
    echo "bench: wrk is missing (sudo apt-get install wrk)" >&2; exit 1
  fi
fi
eval "$(scripts/services.sh)"
if ((build)); then cargo build -q --release -p crm-api --bins; fi
bin=${CRM_BENCH_BIN_DIR:-${CARGO_TARGET_DIR:-target}/release}

# shellcheck source=scripts/harness-lib.sh
source scripts/harness-lib.sh
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
bench_database http
export DATABASE_URL=$database_url RUST_LOG=${RUST_LOG:-warn}
start_api "$bin" "$work" || exit 1
auth=(-H "Authorization: Bearer $token")

# The first customer's events are the templates of the seeded activity.
first=$(curl -fs -X POST "$api/customers" "${auth[@]}" -H 'Content-Type: application/json' \
  -d '{"name":"Ada Lovelace","email":"ada@example.com","phone":"+442071234567"}' | jq -r .id)
curl -fs -o /dev/null -X PATCH "$api/customers/$first" "${auth[@]}" -H 'Content-Type: application/json' \
  -d '{"notes":"Prefers e-mail.","timezone":"Europe/London"}'
started=$SECONDS
sql -v customers="$customers" -v invoices="$invoices" -v events="$events" -f scripts/bench-seed.sql
seed_secs=$((SECONDS - started))
# Requests pick active customers (the seed archives the last ones).
read -r id_min id_max < <(sql -c "SELECT min(id), max(id) FROM customers WHERE archived_at IS NULL" | tr '\t' ' ')
printf 'seeded %s customers, %s invoices, %s activity events in %d s\n' \
  "$(sql -c 'SELECT count(*) FROM customers')" "$(sql -c 'SELECT count(*) FROM invoices')" \
  "$(sql -c 'SELECT count(*) FROM audit_events')" "$seed_secs"

# A receipt as a phone would take it: an A4 page at 150 dpi, JPEG (Pillow, as `make bench`
# installs it), in a multipart form with the invoice's fields.
if [[ ! -x .tools/venv/bin/python ]]; then
  python3 -m venv .tools/venv
  .tools/venv/bin/pip install -q pillow
fi
.tools/venv/bin/python scripts/bench-http-upload.py "$work/upload.body" >"$work/upload.type"

# Page 50 of the list (or the last, with fewer customers): follow up to 49 cursors.
cursor='' next=''
for _ in $(seq 49); do
  next=$(curl -fs -G "$api/customers" "${auth[@]}" --data-urlencode limit=50 \
    ${cursor:+--data-urlencode "cursor=$cursor"} | jq -r '.next_cursor // empty')
  [[ -n $next ]] || break
  cursor=$next
done
page50="/api/v1/customers?limit=50&cursor=$(jq -rn --arg c "$cursor" '$c|@uri')"
# Parts of names a user would type, and five digits out of real phone numbers.
# Surname parts (common ones match ~0.2 % of customers, the others ~0.05 %), and first names,
# which match 1-2 % each: the broad search a user makes before typing more.
names=ckenz,ernand,owalsk,amamot,itzger,Stanmer,Kelhurst,Quinrid,Talvik,Wesdorf,Bransha,Zelquis
first_names=Oliv,Emma,Noah,Ravi,Hudso,Violet
phones=$(sql -c "SELECT string_agg(substr(phone, 6, 5), ',') FROM (SELECT phone FROM customers
  WHERE phone IS NOT NULL ORDER BY hashtext(phone) LIMIT 50) p")

# name|method|path|terms|body|content type
scenarios=(
  "GET /healthz (ceiling)|GET|/healthz|||"
  "list, first page of 50|GET|/api/v1/customers?limit=50|||"
  "list, page 50 (cursor)|GET|$page50|||"
  "search, part of a surname|GET|/api/v1/customers?limit=50&q={term}|$names||"
  "search, a first name (1-2 % match)|GET|/api/v1/customers?limit=50&q={term}|$first_names||"
  "search, part of a phone|GET|/api/v1/customers?limit=50&q={term}|$phones||"
  "one customer|GET|/api/v1/customers/{id}|||"
  "a customer's invoices|GET|/api/v1/customers/{id}/invoices|||"
  "a customer's activity|GET|/api/v1/customers/{id}/activity|||"
  "create customer|POST|/api/v1/customers||customer|"
  "receipt upload (JPEG, new invoice)|POST|/api/v1/customers/{id}/invoices||$work/upload.body|$(cat "$work/upload.type")"
)

# CPU time (ticks of 1/100 s) the processes of the /proc/<pid>/stat files given have used.
ticks_of() { cat "$@" 2>/dev/null | awk '{ ticks += $14 + $15 } END { print ticks }'; }
cpu_ticks() { ticks_of "/proc/$api_pid/stat"; }
# Waits (up to 60 s) until the API has finished what the previous row left queued (wrk stops
# sending, the server still answers): under 5 % of a CPU over half a second.
settle() {
  local deadline=$((SECONDS + 60)) before
  while ((SECONDS < deadline)); do
    before=$(cpu_ticks); sleep 0.5
    (($(cpu_ticks) - before <= 2)) && return
  done
}
# CPU time (ticks of 1/100 s) the API and every PostgreSQL process have used: a row's cost per
# request, which CPU time stolen by other machines' work changes far less than its req/s.
server_ticks() {
  # shellcheck disable=SC2046 # one /proc path per process
  ticks_of "/proc/$api_pid/stat" $(pgrep -x postgres | sed 's|.*|/proc/&/stat|')
}
mib() { awk '/^'"$1"':/ { print int($2 / 1024) }' "/proc/$api_pid/status"; }
ms() { awk -v us="$1" 'BEGIN { printf "%.1f", us / 1000 }'; }
rows=()
printf '\n%-36s %5s %8s %8s %8s %9s %9s %7s %9s %9s %9s\n' request conns 'req/s' 'p50 ms' 'p99 ms' 'p99.9 ms' 'max ms' errors 'CPU ms' 'peak MiB' 'after MiB'
for conns in $connections; do
  for scenario in "${scenarios[@]}"; do
    IFS='|' read -r name method path terms body type <<<"$scenario"
    [[ -z $only || $name =~ $only ]] || continue
    settle
    echo 5 >"/proc/$api_pid/clear_refs" 2>/dev/null || true # resets the peak RSS
    ticks=$(server_ticks)
    result=$(BENCH_METHOD=$method BENCH_PATH=$path BENCH_TERMS=$terms BENCH_BODY=$body \
      BENCH_CONTENT_TYPE=$type BENCH_TOKEN=$token BENCH_ID_MIN=$id_min BENCH_ID_MAX=$id_max \
      wrk -t2 -c"$conns" -d"${duration}s" --timeout 10s -s scripts/bench-http.lua \
      "http://127.0.0.1:$api_port" | tail -n 1)
    read -r rps p50 p99 p999 max errors < <(jq -r \
      '[.rps, .p50_us, .p99_us, .p999_us, .max_us, .non_2xx + .socket_errors + .timeouts] | @tsv' <<<"$result")
    # Server CPU per request, in ms: ticks of 10 ms over the requests answered.
    cpu=$(awk -v t="$(($(server_ticks) - ticks))" -v n="$rps" -v d="$duration" \
      'BEGIN { printf "%.2f", (n > 0 ? t * 10 / (n * d) : 0) }')
    peak=$(mib VmHWM)
    settle
    after=$(mib VmRSS)
    row=$(printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |' "$name" "$conns" "$rps" \
      "$(ms "$p50")" "$(ms "$p99")" "$(ms "$p999")" "$(ms "$max")" "$errors" "$cpu" "$peak" "$after")
    rows+=("$row")
    printf '%-36s %5s %8s %8s %8s %9s %9s %7s %9s %9s %9s\n' "$name" "$conns" "$rps" "$(ms "$p50")" \
      "$(ms "$p99")" "$(ms "$p999")" "$(ms "$max")" "$errors" "$cpu" "$peak" "$after"
  done
done
# Memory once the load is over: right after, and when idle threads have ended (tokio ends an
# idle blocking thread after 10 s).
settle
rss_at_end=$(mib VmRSS)
sleep 15
rss_after=$(mib VmRSS)
echo "crm-api RSS after the run: $rss_at_end MiB at once, $rss_after MiB 15 s later"

((write)) || exit 0
out=docs/PERFORMANCE.md
block=$(
  echo '<!-- bench-http:start (written by scripts/bench-http.sh; edits here are overwritten) -->'
  echo "Run $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) CPUs ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), $(($(awk '/MemTotal/ { print $2 }' /proc/meminfo) / 1048576)) GiB;"
  echo "PostgreSQL $(sql -c 'SHOW server_version' | cut -d' ' -f1), wrk $(wrk -v 2>&1 | awk 'NR==1 { print $2 }') (2 threads, ${duration} s per row, keep-alive, bearer token), release crm-api from \`$bin\`,"
  echo "$((customers / 1000))k customers, $((invoices / 1000))k invoices, $((events / 1000))k activity events (seeded in ${seed_secs} s)."
  echo "Command: \`scripts/bench-http.sh${args:+ $args}\` (part of \`make bench\`). Errors: non-2xx answers, connection errors and timeouts (10 s)."
  echo "CPU: what the API and PostgreSQL used per request (ms of CPU time). Peak: the API's peak RSS during that row (VmHWM, reset before each row); after: its RSS once it is idle again. RSS after the run: ${rss_at_end} MiB at once, **${rss_after} MiB** 15 s later."
  echo
  echo '| request | connections | req/s | p50 ms | p99 ms | p99.9 ms | max ms | errors | CPU ms/req | peak RSS MiB | RSS after MiB |'
  echo '|---|---|---|---|---|---|---|---|---|---|---|'
  printf '%s\n' "${rows[@]}"
  echo '<!-- bench-http:end -->'
)
mkdir -p docs
[[ -f $out ]] || printf '# Performance\n\n<!-- bench-http:start -->\n<!-- bench-http:end -->\n' >"$out"
BLOCK=$block python3 - "$out" <<'EOF'
import os, re, sys
path = sys.argv[1]
text = open(path, encoding="utf-8").read()
block = os.environ["BLOCK"]
pattern = re.compile(r"<!-- bench-http:start.*?<!-- bench-http:end -->", re.S)
text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
open(path, "w", encoding="utf-8").write(text)
EOF
echo "written to $out"
