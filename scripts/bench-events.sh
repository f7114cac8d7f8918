#!/usr/bin/env bash
# Live-event load figure (issue 10): 1,000 event streams on one release crm-api, one event to
# all of them, memory per stream and after they close (scripts/bench-events.py prints the row).
#
#   scripts/bench-events.sh [--streams 1000] [--rounds 3] [--no-build]
#
# Everything runs on 127.0.0.1 with its own database (crm_bench_events_<pid>), removed at the end.
# CRM_BENCH_BIN_DIR=target/debug (with --no-build) measures another build.
set -euo pipefail
cd "$(dirname "$0")/.."

streams=1000 rounds=3 build=1
while (($#)); do
  case $1 in
    --streams) streams=$2; shift ;;
    --rounds) rounds=$2; shift ;;
    --no-build) build=0 ;;
    -h | --help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) printf 'unknown argument %s\n' "$1" >&2; exit 2 ;;
  esac
  shift
done
eval "$(scripts/services.sh)"
if ((build)); then cargo build -q --release -p crm-api --bins; fi
bin=${CRM_BENCH_BIN_DIR:-${CARGO_TARGET_DIR:-target}/release}

# shellcheck source=scripts/harness-lib.sh
source scripts/harness-lib.sh
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
bench_database events
export DATABASE_URL=$database_url RUST_LOG=${RUST_LOG:-warn,crm_api::routes::events=debug}
start_api "$bin" "$work" || exit 1
url=http://127.0.0.1:$api_port
customer=$(curl -fs -X POST "$url/api/v1/customers" -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' -d '{"name":"Bench customer"}' | jq -r .id)
echo "machine: $(nproc) CPUs; one crm-api from $bin"
python3 scripts/bench-events.py --url "$url" --token "$token" --pid "$api_pid" --customer "$customer" --streams "$streams" --rounds "$rounds"
closed=$(grep -c 'live stream closed' "$work/api.log" || true)
left=$(sed 's/\x1b\[[0-9;]*m//g' "$work/api.log" | awk '/live stream closed/ { n = $0 } END { sub(/.*open=/, "", n); print n }')
echo "streams closed by the server after the clients left: $closed; still open: ${left:-?}"
