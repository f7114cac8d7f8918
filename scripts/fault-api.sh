#!/usr/bin/env bash
# Fault run of the API (issue 11): under a steady load of mixed reads and writes
# (scripts/fault-api-load.py: list, search and get customers, create customers with an
# Idempotency-Key, create invoices with a receipt), PostgreSQL is stopped and started again,
# then Redis is shut down (nosave) and started again. It checks, and fails on a breach: while a
# dependency is down the API answers 503 with Retry-After (no 500s, no request longer than
# DATABASE_TIMEOUT_SECS + 5 s); after it is back, failures stop within 10 s; every id answered
# with 201 is in the database afterwards. It prints requests, errors by status, the slowest
# request, each fault's recovery time and the lost writes.
#
#   scripts/fault-api.sh               # 120 s of load: PostgreSQL restarted, then stopped for 10 s,
#                                      # then Redis shut down for 10 s (make fault-api)
#   scripts/fault-api.sh --short       # 36 s of load, PostgreSQL stopped 8 s, Redis 5 s (CI)
#   scripts/fault-api.sh --private     # its own PostgreSQL and Redis on free ports: disturbs no one
#
# Without --private it stops the PostgreSQL and Redis on 127.0.0.1:5432 and :6379, which every
# other client of those servers notices; they are started again even when the run is cut short.
# The API runs on its own database (crm_faultapi_<pid>, dropped at the end) and receipts folder.
# crm-api is built first in PROFILE (debug unless PROFILE=release); --no-build takes it as it is.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; }

# The faults: kind:at:seconds down (a restart is down for as long as it takes).
seconds=120 faults=(postgres-restart:15:0 postgres-stop-start:40:10 redis-shutdown-start:80:10)
build=1 private=0
while (($#)); do
  case $1 in
    --short) seconds=36 faults=(postgres-stop-start:6:8 redis-shutdown-start:24:5) ;;
    --private) private=1 ;;
    --no-build) build=0 ;;
    -h | --help) usage; exit 0 ;;
    *) printf 'unknown argument %s\n' "$1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
profile=${PROFILE:-debug}
timeout_secs=${DATABASE_TIMEOUT_SECS:-5}
hang_limit=$((timeout_secs + 5)) recovery_limit=10

for tool in psql pg_isready redis-cli redis-server curl jq python3; do
  command -v "$tool" >/dev/null || { echo "API fault run: $tool is needed" >&2; exit 1; }
done
# shellcheck source=scripts/harness-lib.sh
source scripts/harness-lib.sh
work=$(mktemp -d "${TMPDIR:-/tmp}/crm-fault-api.XXXXXX")
chmod 755 "$work"
log() { printf '[%s] %s\n' "$(date +%T)" "$*"; }
now() { date +%s.%N; }

if ((private)); then
  pg_port=$(free_port) redis_port=$(free_port)
  private_postgres "$work/pg" "$pg_port"
  redis_server start "$redis_port"
  admin_url=postgres://postgres@127.0.0.1:$pg_port/postgres
  REDIS_URL=redis://127.0.0.1:$redis_port
else
  eval "$(scripts/services.sh)"
  admin_url=$TEST_DATABASE_URL
  # The servers it stops and starts are the local ones these URLs name.
  redis_port=${REDIS_URL##*:} redis_port=${redis_port%%/*}
  [[ $REDIS_URL == redis://127.0.0.1:* && $TEST_DATABASE_URL == *@127.0.0.1:5432/* ]] ||
    { echo "API fault run: it stops the local PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1); point DATABASE_URL and REDIS_URL at them, or use --private" >&2; exit 1; }
fi

if ((build)); then
  release=()
  [[ $profile == release ]] && release=(--release)
  cargo build -q "${release[@]}" -p crm-api --bins
fi
bin=${CARGO_TARGET_DIR:-target}/$profile
[[ -x $bin/crm-api ]] || { echo "API fault run: $bin/crm-api is missing (build it first)" >&2; exit 1; }

db=crm_faultapi_$$
database_url=${admin_url%/*}/$db
api_pid='' load_pid='' passed=0 redis_down_now=0 pg_down_now=0
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  # A run cut short during a fault brings the server back first: others depend on it.
  if ((pg_down_now)); then postgres_server start || true; fi
  if ((redis_down_now)); then redis_server start "$redis_port" || true; fi
  for pid in "$load_pid" "$api_pid"; do [[ -n $pid ]] && kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "$load_pid" "$api_pid"; do [[ -n $pid ]] && wait "$pid" 2>/dev/null || true; done
  if ((private)); then
    postgres_server stop 2>/dev/null || true
    redis_server stop "$redis_port"
  else
    psql "$admin_url" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" 2>/dev/null || true
  fi
  if ((passed)); then rm -rf "$work"; else echo "API fault run: logs kept in $work" >&2; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the database and the API ----------------------------------------------------------------
psql "$admin_url" -qc "CREATE DATABASE $db"
export DATABASE_URL=$database_url REDIS_URL MESSAGE_QUEUE=crm:faultapi:$$ RUST_LOG=${RUST_LOG:-info}
export DATABASE_TIMEOUT_SECS=$timeout_secs
start_api "$bin" "$work" || exit 1

# --- load, and the faults on a timetable ---------------------------------------------------
where=shared; ((private)) && where="private (PostgreSQL :$pg_port, Redis :$redis_port)"
log "load for ${seconds}s on $api; faults (kind:at:down) ${faults[*]}; servers: $where"
python3 scripts/fault-api-load.py run --api "$api" --token "$token" --seconds "$seconds" \
  --out "$work" --timeout $((hang_limit + 15)) &
load_pid=$!
started=$(now)
sleep_until() { local wait; wait=$(python3 -c "print(max(0, $started + $1 - $(now)))"); sleep "$wait"; }
: >"$work/faults.tsv"
for fault in "${faults[@]}"; do
  IFS=: read -r kind at down_for <<<"$fault"
  sleep_until "$at"
  down=$(now)
  case $kind in
    postgres-restart) postgres_server restart ;;
    postgres-stop-start)
      pg_down_now=1
      postgres_server stop
      sleep "$down_for"
      postgres_server start
      pg_down_now=0 ;;
    redis-shutdown-start)
      redis_down_now=1
      redis_server stop "$redis_port"
      sleep "$down_for"
      redis_server start "$redis_port"
      redis_down_now=0 ;;
  esac
  printf '%s\t%s\t%s\n' "$kind" "$down" "$(now)" >>"$work/faults.tsv"
  log "fault: $kind done"
done

wait "$load_pid"
load_pid=''
log "load finished; checking"

# --- the verdict -----------------------------------------------------------------------------
psql "$database_url" -XAtc "SELECT id FROM customers" >"$work/customers-in-db.txt"
psql "$database_url" -XAtc "SELECT id FROM invoices" >"$work/invoices-in-db.txt"
server_errors=$(grep -c 'request failed' "$work/api.log" || true)
echo "API log: $server_errors internal errors logged"
if python3 scripts/fault-api-load.py report --out "$work" --hang-limit "$hang_limit" \
  --recovery-limit "$recovery_limit"; then
  passed=1
fi
((passed)) || exit 1
