#!/usr/bin/env bash
# Benchmark of scheduled messages (issue 9): 10,000 messages due within one minute, scheduled
# through the API (bearer token, 8 requests at a time) before they are due, sent by release
# builds of crm-worker to the fake Twilio answering at once. Prints how fast the API scheduled
# them, how late each reached the fake (received_at - send_at: p50, p99, max) and messages/s
# from the first send to the last. The aim (issue 9): p99 under 1 s, at least 1,000 messages/s.
#
#   scripts/bench-messages.sh                    # 10,000 due over 60 whole seconds
#   scripts/bench-messages.sh --burst            # 10,000 due in the same second (throughput)
#   scripts/bench-messages.sh --messages 2000 --workers 2
#
# WORKER_CONCURRENCY (64), WORKER_BATCH_SIZE and WORKER_POLL_MS are passed to the workers.
# Everything runs on 127.0.0.1 with its own database (crm_bench_<pid>) and queue, removed at
# the end. --no-build uses the release binaries as they are.
set -euo pipefail
cd "$(dirname "$0")/.."

messages=10000 spread=60 workers=1 build=1 lead=''
while (($#)); do
  case $1 in
    --messages) messages=$2; shift ;;
    --spread) spread=$2; shift ;;
    --burst) spread=1 ;;
    --workers) workers=$2; shift ;;
    --lead) lead=$2; shift ;;
    --no-build) build=0 ;;
    -h | --help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) printf 'unknown argument %s\n' "$1" >&2; exit 2 ;;
  esac
  shift
done
export WORKER_CONCURRENCY=${WORKER_CONCURRENCY:-64}

for tool in psql redis-cli curl jq python3; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is needed" >&2; exit 1; }
done
eval "$(scripts/services.sh)"
if ((build)); then cargo build -q --release -p crm-api -p crm-worker --bins --examples; fi
bin=${CARGO_TARGET_DIR:-target}/release

db=crm_bench_$$
database_url=${TEST_DATABASE_URL%/*}/$db
queue=crm:bench:$$
work=$(mktemp -d "${TMPDIR:-/tmp}/crm-bench.XXXXXX")
log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

pids=()
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  redis-cli -u "$REDIS_URL" --scan --pattern "$queue:*" | xargs -r redis-cli -u "$REDIS_URL" del >/dev/null || true
  psql "$TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" 2>/dev/null || true
  if ((status == 0)); then rm -rf "$work"; else echo "bench: logs kept in $work" >&2; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck source=scripts/harness-lib.sh
source scripts/harness-lib.sh

"$bin/examples/fake_twilio" >"$work/fake.out" 2>"$work/fake.log" &
pids+=($!)
wait_until 20 grep -q '^TWILIO_AUTH_TOKEN=' "$work/fake.out" || { echo "the fake Twilio did not start" >&2; exit 1; }
fake_url=$(sed -n 's/^listening on //p' "$work/fake.out")
mapfile -t twilio_env < <(grep '^TWILIO_' "$work/fake.out")

psql "$TEST_DATABASE_URL" -qc "CREATE DATABASE $db"
export DATABASE_URL=$database_url MESSAGE_QUEUE=$queue RUST_LOG=${RUST_LOG:-warn}
"$bin/crm-api" migrate >"$work/migrate.log" 2>&1
password="bench-$RANDOM-$RANDOM-$RANDOM"
printf '%s\n' "$password" | "$bin/crm-api" create-user --email bench@example.com --name Bench >/dev/null 2>&1
api_port=$(free_port)
api=http://127.0.0.1:$api_port/api/v1
BIND_ADDR=127.0.0.1:$api_port RECEIPTS_DIR=$work/receipts "$bin/crm-api" serve >"$work/api.log" 2>&1 &
pids+=($!)
wait_until 30 curl -fs -o /dev/null "http://127.0.0.1:$api_port/healthz" || { echo "the API did not start" >&2; exit 1; }
csrf=$(curl -fs -c "$work/jar" -X POST "$api/auth/login" -H 'Content-Type: application/json' \
  -d "$(jq -n --arg p "$password" '{email: "bench@example.com", password: $p}')" | jq -r .csrf_token)
token=$(curl -fs -b "$work/jar" -X POST "$api/tokens" -H "X-CSRF-Token: $csrf" \
  -H 'Content-Type: application/json' \
  -d "$(jq -n --arg p "$password" '{name: "bench", current_password: $p}')" | jq -r .token)

# The workers start first, so they are warm and polling when the first message falls due.
for ((w = 0; w < workers; w++)); do
  env "${twilio_env[@]}" MESSAGE_PROVIDER=twilio TWILIO_FROM=+15005550006 WORKER_NAME="bench-$w" \
    "$bin/crm-worker" >"$work/worker-$w.log" 2>&1 &
  pids+=($!)
done

# Due times are whole seconds, as people schedule (apalis rounds a job's time up to the second,
# so a fractional send_at would be up to 1 s "late" by construction): message i is due at
# start + floor(i * spread / N) s. The start leaves time to schedule them all at ~150/s.
lead=${lead:-$((20 + messages / 150))}
start=$(($(date +%s) + lead))
sql -v n="$messages" <<'SQL'
INSERT INTO customers (name, phone)
SELECT format('Bench customer %s', i), format('+1%s555%s', 415 + i / 10000, lpad((i % 10000)::text, 4, '0'))
FROM generate_series(0, :n - 1) AS i;
SQL
# One curl process, 8 requests at a time over kept-alive connections.
sql -v n="$messages" -v start="$start" -v spread="$spread" -v api="$api" -v auth="Authorization: Bearer $token" <<'SQL' >"$work/requests.curl"
SELECT string_agg(format(E'url = "%s/customers/%s/messages"\nheader = "%s"\nheader = "Content-Type: application/json"\ndata = %s\noutput = /dev/null\nwrite-out = "%%{http_code}\\n"',
                         :'api', id, :'auth',
                         to_json(json_build_object(
                           'channel', 'sms', 'body', format('Bench message to customer %s', id),
                           'send_at', to_char(to_timestamp(:start + floor(i * :spread::numeric / :n)) AT TIME ZONE 'UTC',
                                              'YYYY-MM-DD"T"HH24:MI:SS"Z"'))::text)),
                  E'\nnext\n' ORDER BY id)
FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS i FROM customers) AS numbered;
SQL
log "scheduling $messages messages through the API, due from $(date -u -d "@$start" +%T) UTC over ${spread}s"
t=$(date +%s%N)
curl -sS --no-progress-meter -Z --parallel-max 8 -K "$work/requests.curl" >"$work/codes.txt" 2>"$work/curl.log" || true
create_s=$(python3 -c "print(($(date +%s%N) - $t) / 1e9)")
created=$(grep -c '^201$' "$work/codes.txt" || true)
((created == messages)) || { echo "only $created of $messages scheduled: $(sort "$work/codes.txt" | uniq -c | tr '\n' ' ')" >&2; exit 1; }
if (($(date +%s) >= start)); then log "warning: scheduling ran past the first send time; raise --lead"; fi

# Wait for every message to be sent (or to have settled otherwise).
deadline=$((start + spread + 300))
while :; do
  left=$(sql -c "SELECT count(*) FROM messages WHERE status IN ('scheduled', 'sending')")
  [[ $left == 0 ]] && break
  (($(date +%s) < deadline)) || { log "still $left unsent after waiting"; break; }
  sleep 1
done

sql -c "\\copy (SELECT body, extract(epoch FROM send_at), status FROM messages) TO '$work/messages.tsv'"
curl -fs "$fake_url/__received" >"$work/received.json"
python3 - "$work" "$create_s" "$workers" <<'PY'
import json, os, subprocess, sys
from datetime import datetime

work, create_s, workers = sys.argv[1], float(sys.argv[2]), sys.argv[3]
rows = [line.rstrip("\n").split("\t") for line in open(f"{work}/messages.tsv")]
due = {body: float(send_at) for body, send_at, _ in rows}
sent = sum(1 for *_, status in rows if status == "sent")
received = [r for r in json.load(open(f"{work}/received.json")) if r.get("sid")]
at = lambda r: datetime.fromisoformat(r["received_at"].replace("Z", "+00:00")).timestamp()
late = sorted(at(r) - due[r["fields"]["Body"]] for r in received if r["fields"].get("Body") in due)
times = sorted(at(r) for r in received)
pick = lambda q: late[min(len(late) - 1, int(q * len(late)))] if late else float("nan")
rate = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else float("nan")
mem = int(next(l for l in open("/proc/meminfo") if l.startswith("MemTotal")).split()[1]) // 1024 // 1024
env = {k: os.environ.get(k, "default") for k in ("WORKER_CONCURRENCY", "WORKER_BATCH_SIZE", "WORKER_POLL_MS")}
print(f"machine: {os.cpu_count()} CPUs, {mem} GiB RAM; {workers} worker(s), "
      + ", ".join(f"{k}={v}" for k, v in env.items()))
print(f"| messages | scheduled via API | sent | lateness p50 | p99 | max | sends/s (first to last) |")
print(f"|---:|---:|---:|---:|---:|---:|---:|")
print(f"| {len(rows):,} | {len(rows) / create_s:,.0f}/s | {sent:,} | {pick(0.5):.3f} s | {pick(0.99):.3f} s "
      f"| {pick(1):.3f} s | {rate:,.0f} |")
duplicates = len(received) - len({r['fields'].get('Body') for r in received})
if duplicates or sent != len(rows) or len(late) != len(rows):
    print(f"WARNING: {sent} sent, {len(late)} received, {duplicates} received twice")
    sys.exit(1)
PY
