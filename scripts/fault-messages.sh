#!/usr/bin/env bash
# Fault test of scheduled messages (issue 9): N messages fall due over D seconds while workers
# are killed with SIGKILL, the queue's Redis data is wiped and PostgreSQL restarts. Afterwards
# every message must be `sent` and received by the fake Twilio exactly once, or `unknown` with
# a reason (received once or not at all); none received twice, none failed or lost, and no
# request may break Twilio's contract.
#
#   scripts/fault-messages.sh            # 1,000 messages over 60 s, 3 kills (make fault-test)
#   scripts/fault-messages.sh --short    # 200 messages over 20 s, 2 kills (CI)
#
# Everything runs on 127.0.0.1: its own database (crm_fault_<pid>, dropped at the end), its own
# queue in Redis (its keys are deleted at the end), the fake Twilio, the API and the workers,
# all stopped on exit. The binaries are built first in PROFILE (debug unless PROFILE=release);
# --no-build takes them as they are. The fake answers after FAULT_ANSWER_MS (1000) ms, so that
# kills cut sends off. Restarting PostgreSQL drops every client's connections, other programs'
# too: FAULT_RESTART_POSTGRES=0 leaves that fault out on a shared server.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; }

messages=1000 spread=60 kills=3 workers=2 build=1
while (($#)); do
  case $1 in
    --short) messages=200 spread=20 kills=2 ;;
    --messages) messages=$2; shift ;;
    --spread) spread=$2; shift ;;
    --kills) kills=$2; shift ;;
    --workers) workers=$2; shift ;;
    --no-build) build=0 ;;
    -h | --help) usage; exit 0 ;;
    *) printf 'unknown argument %s\n' "$1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
profile=${PROFILE:-debug}
restart_postgres=${FAULT_RESTART_POSTGRES:-1}

for tool in psql pg_isready redis-cli curl jq python3; do
  command -v "$tool" >/dev/null || { echo "fault test: $tool is needed" >&2; exit 1; }
done
eval "$(scripts/services.sh)"

if ((build)); then
  release=()
  [[ $profile == release ]] && release=(--release)
  cargo build -q "${release[@]}" -p crm-api -p crm-worker --bins --examples
fi
bin=${CARGO_TARGET_DIR:-target}/$profile
for program in crm-api crm-worker examples/fake_twilio; do
  [[ -x $bin/$program ]] || { echo "fault test: $bin/$program is missing (build it first)" >&2; exit 1; }
done

run=fault-$$
db=crm_fault_$$
database_url=${TEST_DATABASE_URL%/*}/$db
queue=crm:fault:$$
work=$(mktemp -d "${TMPDIR:-/tmp}/crm-fault.XXXXXX")
log() { printf '[%s] %s\n' "$(date +%T)" "$*"; }

fake_pid='' api_pid=''
worker_pids=()
passed=0
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  local pids=("${worker_pids[@]}" "$api_pid" "$fake_pid")
  for pid in "${pids[@]}"; do [[ -n $pid ]] && kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do [[ -n $pid ]] && wait "$pid" 2>/dev/null || true; done
  redis-cli -u "$REDIS_URL" --scan --pattern "$queue:*" | xargs -r redis-cli -u "$REDIS_URL" del >/dev/null || true
  psql "$TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" 2>/dev/null || true
  if ((passed)); then
    rm -rf "$work"
  else
    echo "fault test: logs kept in $work" >&2
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck source=scripts/harness-lib.sh
source scripts/harness-lib.sh

# --- the fake Twilio, the database, the API --------------------------------------------------
"$bin/examples/fake_twilio" >"$work/fake.out" 2>"$work/fake.log" &
fake_pid=$!
wait_until 20 grep -q '^TWILIO_AUTH_TOKEN=' "$work/fake.out" || { echo "the fake Twilio did not start" >&2; exit 1; }
fake_url=$(sed -n 's/^listening on //p' "$work/fake.out")
mapfile -t twilio_env < <(grep '^TWILIO_' "$work/fake.out")
# A short pause before each answer keeps a few sends in flight, so that kills cut some off.
curl -fs -o /dev/null -X POST "$fake_url/__behaviour" \
  -d "{\"answer\":\"accept_after\",\"delay_ms\":${FAULT_ANSWER_MS:-1000}}"

psql "$TEST_DATABASE_URL" -qc "CREATE DATABASE $db"
export DATABASE_URL=$database_url MESSAGE_QUEUE=$queue RUST_LOG=${RUST_LOG:-info}
start_api "$bin" "$work" || exit 1

# --- the messages ----------------------------------------------------------------------------
# Message i (0-based) falls due at t0 + i*D/N, to its own customer and number. Every tenth is
# scheduled through the API (which pushes its job at send_at); the rest are written as the API
# writes them (scheduled, version 1, no job), so the reconciler has to queue them.
lead=$((messages / 50 + 8))
t0_ms=$(($(date +%s%3N) + lead * 1000))
sql -v n="$messages" <<'SQL'
INSERT INTO customers (name, phone)
SELECT format('Fault customer %s', i), format('+1%s555%s', 415 + i / 10000, lpad((i % 10000)::text, 4, '0'))
FROM generate_series(0, :n - 1) AS i;
SQL
sql -v n="$messages" -v t0="$t0_ms" -v d="$spread" -v run="$run" >"$work/all-due.tsv" <<'SQL'
SELECT c.id, to_char(to_timestamp((:t0 + (row_number() OVER (ORDER BY c.id) - 1) * :d * 1000.0 / :n) / 1000.0)
                 AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
       format('Fault %s, via the API, customer %s', :'run', c.id)
FROM customers c ORDER BY c.id;
SQL
awk -F'\t' 'NR % 10 == 1' "$work/all-due.tsv" >"$work/api-part.tsv"

log "scheduling $messages messages due over ${spread}s from $(date -u -d "@$((t0_ms / 1000))" +%T) UTC ($(wc -l <"$work/api-part.tsv") through the API)"
while IFS=$'\t' read -r cid send_at body; do
  payload=$(jq -nc --arg s "$send_at" --arg b "$body" '{channel: "sms", body: $b, send_at: $s}')
  code=$(curl -s -o "$work/last-create.json" -w '%{http_code}' -X POST "$api/customers/$cid/messages" \
    -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d "$payload" || true)
  if [[ $code != 201 ]]; then
    echo "scheduling through the API answered ${code:-nothing}: $(cat "$work/last-create.json" 2>/dev/null)" >&2
    exit 1
  fi
done <"$work/api-part.tsv"
sql -v n="$messages" -v t0="$t0_ms" -v d="$spread" -v run="$run" <<'SQL'
INSERT INTO messages (id, customer_id, channel, recipient, body, send_at) OVERRIDING SYSTEM VALUE
SELECT id, customer_id, 'sms', phone, format('Fault %s, message %s', :'run', id), send_at
FROM (SELECT nextval(pg_get_serial_sequence('messages', 'id')) AS id, customer_id, phone, send_at
      FROM (SELECT c.id AS customer_id, c.phone, row_number() OVER (ORDER BY c.id) - 1 AS i,
                   to_timestamp((:t0 + (row_number() OVER (ORDER BY c.id) - 1) * :d * 1000.0 / :n) / 1000.0) AS send_at
            FROM customers c) AS numbered
      WHERE i % 10 <> 0 ORDER BY send_at) AS s;
SQL
[[ $(sql -c "SELECT count(*) FROM messages") == "$messages" ]] || { echo "not every message was scheduled" >&2; exit 1; }
if (($(date +%s%3N) >= t0_ms)); then log "warning: scheduling ran past the first send time"; fi

# --- the workers -----------------------------------------------------------------------------
start_worker() {
  env "${twilio_env[@]}" MESSAGE_PROVIDER=twilio TWILIO_FROM=+15005550006 RECONCILE_SECS=2 \
    WORKER_POLL_MS=200 SEND_TIMEOUT_SECS=2 SEND_ATTEMPTS=2 WORKER_NAME="fault-$1" \
    "$bin/crm-worker" >>"$work/worker-$1.log" 2>&1 &
  worker_pids[$1]=$!
}
for ((w = 0; w < workers; w++)); do start_worker "$w"; done

# A worker that stops by itself (it exits when it loses its queue) is started again, as a
# supervisor (Docker's restart policy, systemd) would; how often is reported.
self_exits=0
supervise() {
  local w status
  for w in "${!worker_pids[@]}"; do
    kill -0 "${worker_pids[$w]}" 2>/dev/null && continue
    status=0
    wait "${worker_pids[$w]}" 2>/dev/null || status=$?
    self_exits=$((self_exits + 1))
    log "worker $w exited by itself (status $status); restarted"
    start_worker "$w"
  done
}
sleep_until_ms() { # epoch milliseconds, watching the workers meanwhile
  while (($(date +%s%3N) < $1)); do supervise; sleep 0.2; done
}

# --- the faults, spread evenly over the sending window ---------------------------------------
faults=()
for ((k = 0; k < kills; k++)); do
  faults+=(kill)
  if ((k == 0)); then faults+=(flush-redis); fi
  if ((k == 1 && restart_postgres)); then faults+=(restart-postgres); fi
done
if ((kills < 1)); then faults+=(flush-redis); fi
if ((kills < 2 && restart_postgres)); then faults+=(restart-postgres); fi

kills_done=0
for i in "${!faults[@]}"; do
  at_ms=$((t0_ms + spread * 1000 * (i + 1) / (${#faults[@]} + 1)))
  sleep_until_ms "$at_ms"
  case ${faults[$i]} in
    kill)
      w=$((kills_done % workers)) kills_done=$((kills_done + 1))
      supervise
      in_flight=$(sql -c "SELECT count(*) FROM messages WHERE status = 'sending'" 2>/dev/null || echo '?')
      kill -KILL "${worker_pids[$w]}"
      wait "${worker_pids[$w]}" 2>/dev/null || true
      start_worker "$w"
      log "fault: kill -9 worker $w ($in_flight sends in flight across workers), restarted"
      ;;
    flush-redis)
      # Stands for a Redis FLUSHALL, limited to this test's queue so that other users of the
      # same Redis keep their data. Harsher than FLUSHALL: keys a push writes between the scan
      # and the delete survive without the rest of their job (a status without a place in the
      # queue), as a partial loss would leave them.
      deleted=$(redis-cli -u "$REDIS_URL" --scan --pattern "$queue:*" | xargs -r redis-cli -u "$REDIS_URL" del | awk '{s += $1} END {print s + 0}')
      log "fault: Redis data of the queue deleted ($deleted keys)"
      ;;
    restart-postgres)
      postgres_server restart
      log "fault: PostgreSQL restarted"
      ;;
  esac
done

# --- wait for every message to settle --------------------------------------------------------
# A send cut off by a kill stays `sending` until its lease (2 attempts x 2 s + 30 s) runs out.
settle=$((spread + 120))
pending() { sql -c "SELECT count(*) FROM messages WHERE status IN ('scheduled', 'sending')" 2>/dev/null || echo '?'; }
deadline=$((SECONDS + settle))
while left=$(pending); [[ $left != 0 ]]; do
  if ((SECONDS >= deadline)); then log "still $left scheduled or sending after waiting ${settle}s"; break; fi
  sleep_until_ms $(($(date +%s%3N) + 1000))
done
log "settled; checking"

# --- the verdict -----------------------------------------------------------------------------
sql -c "\\copy (SELECT id, status, coalesce(status_reason, ''), body FROM messages ORDER BY id) TO '$work/messages.tsv'"
curl -fs "$fake_url/__delivered" >"$work/delivered.json"
curl -fs "$fake_url/__violations" >"$work/violations.json"
echo "workers that exited by themselves and were restarted: $self_exits"
if python3 - "$work" <<'PY'; then passed=1; fi
import collections, json, sys

work = sys.argv[1]
delivered = json.load(open(f"{work}/delivered.json"))["by_body"]
violations = json.load(open(f"{work}/violations.json"))
rows = [line.rstrip("\n").split("\t", 3) for line in open(f"{work}/messages.tsv")]

status = collections.Counter(row[1] for row in rows)
bodies = {row[3] for row in rows}
twice = [row for row in rows if delivered.get(row[3], 0) > 1]
sent = [row for row in rows if row[1] in ("sent", "delivered")]
sent_not_received = [row for row in sent if delivered.get(row[3], 0) == 0]
unknown = [row for row in rows if row[1] == "unknown"]
unknown_received = sum(1 for row in unknown if delivered.get(row[3], 0) >= 1)
unknown_without_reason = [row for row in unknown if not row[2]]
pending = [row for row in rows if row[1] in ("scheduled", "sending")]
failed = [row for row in rows if row[1] not in ("sent", "delivered", "unknown", "scheduled", "sending")]
strangers = [body for body in delivered if body not in bodies]
lost = len(pending) + len(sent_not_received)

print(f"{'messages':<34}{len(rows):>7}")
print(f"{'sent (received once)':<34}{len(sent) - len(sent_not_received):>7}")
print(f"{'unknown (with a reason)':<34}{len(unknown):>7}   received by the fake: {unknown_received}")
print(f"{'received twice or more':<34}{len(twice):>7}   must be 0")
print(f"{'lost':<34}{lost:>7}   must be 0 (still scheduled/sending: {len(pending)}, sent but never received: {len(sent_not_received)})")
print(f"{'failed, canceled or other':<34}{len(failed):>7}   must be 0")
print(f"{'contract violations at the fake':<34}{len(violations):>7}   must be 0")
print(f"statuses: {dict(sorted(status.items()))}")

breaches = []
if twice: breaches.append(f"received twice: {[(r[0], delivered[r[3]]) for r in twice[:10]]}")
if pending: breaches.append(f"not settled: {[(r[0], r[1]) for r in pending[:10]]}")
if sent_not_received: breaches.append(f"sent but never received: {[r[0] for r in sent_not_received[:10]]}")
if failed: breaches.append(f"failed or other: {[(r[0], r[1], r[2]) for r in failed[:10]]}")
if unknown_without_reason: breaches.append(f"unknown without a reason: {[r[0] for r in unknown_without_reason[:10]]}")
if strangers: breaches.append(f"the fake received bodies no message has: {strangers[:5]}")
if violations: breaches.append(f"contract violations: {json.dumps(violations[:3])}")
if len(rows) == 0: breaches.append("no messages")
for breach in breaches:
    print(f"BREACH: {breach}")
print("fault test: " + ("FAILED" if breaches else "passed"))
sys.exit(1 if breaches else 0)
PY
((passed)) || exit 1
