#!/usr/bin/env bash
# Property-based tests of the whole API against its OpenAPI document (openapi/openapi.json)
# with schemathesis: generated valid and invalid requests to every operation, signed in with an
# admin's API token. A run passes only with no server error (5xx), no answer that breaks its
# documented schema, status code or content type.
#
#   scripts/schemathesis.sh          # 50 examples per operation (make schemathesis, make test)
#   LONG=1 scripts/schemathesis.sh   # 500 examples per operation
#   EXAMPLES=N scripts/schemathesis.sh
#
# Runs on 127.0.0.1: a debug crm-api built first (--no-build takes it as it is) on its own
# database (crm_schemathesis_<pid>, dropped at the end) and message queue. schemathesis comes
# from PyPI, pinned below, into a virtual environment under
# ${CRM_TOOLS_DIR:-~/.cache/customer-manager}/schemathesis-venv (made again when the pin
# changes). Needs python3 (3.11 or newer) with venv, psql, curl, jq and redis-cli.
#
# Two passes, so that the run cannot lock itself out: the first covers every operation except
# those that could end the run's own credential (sign-out, own password change, revoking a
# token, editing an account: disabling or demoting the admin); the second covers only those,
# last. GET /events (an endless event stream) is left out: it answers nothing to check.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; }
build=1
while (($#)); do
  case $1 in
    --no-build) build=0 ;;
    -h | --help) usage; exit 0 ;;
    *) printf 'unknown argument %s\n' "$1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

schemathesis_version=4.32.5
examples=${EXAMPLES:-50}
[[ ${LONG:-0} == 1 ]] && examples=${EXAMPLES:-500}
checks=not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance
# Operations that could end the credential of the run: the second pass only.
destructive=(logout change_password revoke_token update_user)

for tool in psql curl jq python3; do
  command -v "$tool" >/dev/null || { echo "schemathesis: $tool is needed" >&2; exit 1; }
done
eval "$(scripts/services.sh)"

# --- schemathesis, in its own virtual environment ---------------------------------------------
tools=${CRM_TOOLS_DIR:-$HOME/.cache/customer-manager}
venv=$tools/schemathesis-venv
mkdir -p "$tools"
exec 9>"$tools/schemathesis-venv.lock"
command -v flock >/dev/null && flock 9
if [[ $("$venv/bin/schemathesis" --version 2>/dev/null) != *" $schemathesis_version" ]]; then
  echo "schemathesis: installing schemathesis $schemathesis_version into $venv ..." >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    "schemathesis==$schemathesis_version" >"$tools/schemathesis-pip.log" 2>&1 || {
    cat "$tools/schemathesis-pip.log" >&2
    rm -rf "$venv"
    exit 1
  }
fi
exec 9>&-

# --- the API on a fresh database ---------------------------------------------------------------
if ((build)); then
  cargo build -q -p crm-api --bin crm-api
fi
bin=${CARGO_TARGET_DIR:-target}/debug/crm-api
[[ -x $bin ]] || { echo "schemathesis: $bin is missing (build it first)" >&2; exit 1; }

# shellcheck source=scripts/harness-lib.sh
source scripts/harness-lib.sh
db=crm_schemathesis_$$
database_url=${TEST_DATABASE_URL%/*}/$db
queue=crm:schemathesis:$$
work=$(mktemp -d "${TMPDIR:-/tmp}/crm-schemathesis.XXXXXX")
api_pid='' passed=0
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  [[ -n $api_pid ]] && { kill -TERM "$api_pid" 2>/dev/null; wait "$api_pid" 2>/dev/null || true; }
  redis-cli -u "$REDIS_URL" --scan --pattern "$queue:*" 2>/dev/null |
    xargs -r redis-cli -u "$REDIS_URL" del >/dev/null 2>&1 || true
  psql "$TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" 2>/dev/null || true
  if ((passed)) && [[ -z ${KEEP:-} ]]; then rm -rf "$work"; else echo "schemathesis: logs kept in $work" >&2; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

psql "$TEST_DATABASE_URL" -qc "CREATE DATABASE $db"
export DATABASE_URL=$database_url MESSAGE_QUEUE=$queue RUST_LOG=${RUST_LOG:-info,crm_api=warn}
"$bin" migrate >"$work/migrate.log" 2>&1 || { head -n 1 "$work/migrate.log" >&2; exit 1; }
port=$(free_port)
api=http://127.0.0.1:$port
BIND_ADDR=127.0.0.1:$port RECEIPTS_DIR=$work/receipts "$bin" serve >"$work/api.log" 2>&1 &
api_pid=$!
wait_until 30 curl -fs -o /dev/null "$api/healthz" || { echo "schemathesis: the API did not start" >&2; exit 1; }

# The first admin (setup signs her in), and her API token for every request of the run.
password="schemathesis-$RANDOM-$RANDOM-$RANDOM"
csrf=$(curl -fs -c "$work/jar" -X POST "$api/api/v1/setup" -H 'Content-Type: application/json' \
  -d "$(jq -n --arg p "$password" '{name: "Schemathesis", email: "schemathesis@example.com", password: $p}')" |
  jq -r .csrf_token)
new_token() {
  curl -s -b "$work/jar" -X POST "$api/api/v1/tokens" -H "X-CSRF-Token: $csrf" \
    -H 'Content-Type: application/json' -d "$1" | jq -r '.token // empty'
}
# Making a token asks for the current password again.
token=$(new_token "$(jq -n --arg p "$password" '{name: "schemathesis", current_password: $p}')")
[[ $token == crm_* ]] || { echo "schemathesis: no API token" >&2; exit 1; }

# A few records, so that operations on one record reach it instead of answering 404: each
# `{id}` is one of these (customers, invoices, messages, reminders, users) 3 times in 4.
auth=(-H "Authorization: Bearer $token")
post_json() { curl -s -X POST "$api/api/v1/$1" "${auth[@]}" -H 'Content-Type: application/json' -d "$2" | jq -r .id; }
later=$(date -u -d '+30 days' +%Y-%m-%dT09:30)
customers=() invoices=() messages=() reminders=()
for i in 1 2 3; do
  cid=$(post_json customers "{\"name\":\"Customer $i\",\"phone\":\"+1415555010$i\",\"email\":\"c$i@example.com\"}")
  customers+=("$cid")
  invoices+=("$(curl -s -X POST "$api/api/v1/customers/$cid/invoices" "${auth[@]}" \
    -F amount=12.50 -F currency=EUR -F "receipt=@crates/receipts/tests/fixtures/baseline.jpg" | jq -r .id)")
  messages+=("$(post_json "customers/$cid/messages" \
    "{\"channel\":\"sms\",\"body\":\"Your order is ready.\",\"send_at\":\"$later\",\"timezone\":\"Europe/London\"}")")
  reminders+=("$(post_json reminders "{\"customer_id\":$cid,\"remind_at\":\"$later\",\"note\":\"Call back\"}")")
done
users=("$(curl -fs "$api/api/v1/auth/me" "${auth[@]}" | jq -r .id)")
users+=("$(post_json users '{"name":"Staff One","email":"staff@example.com","password":"a long passphrase"}')")
for id in "${customers[@]}" "${invoices[@]}" "${messages[@]}" "${reminders[@]}" "${users[@]}"; do
  [[ $id =~ ^[0-9]+$ ]] || { echo "schemathesis: seeding records failed (ids: ${customers[*]} / ${invoices[*]} / ${messages[*]} / ${reminders[*]} / ${users[*]})" >&2; exit 1; }
done
list() { local IFS=,; echo "$*"; }
cat >"$work/schemathesis.toml" <<TOML
[dictionaries]
customers = { values = [$(list "${customers[@]}")] }
invoices = { values = [$(list "${invoices[@]}")] }
messages = { values = [$(list "${messages[@]}")] }
reminders = { values = [$(list "${reminders[@]}")] }
users = { values = [$(list "${users[@]}")] }
TOML
for kind in customers invoices messages reminders users; do
  cat >>"$work/schemathesis.toml" <<TOML

[[operations]]
include-path-regex = "^/api/v1/$kind/\\\\{id\\\\}"
parameters = { "path.id" = { dictionary = "$kind", probability = 0.75 } }
TOML
done

operations=$(jq '[.paths[] | to_entries[] | select(.key | test("^(get|put|post|patch|delete)$"))] | length' openapi/openapi.json)
run() {
  local name=$1; shift
  "$venv/bin/schemathesis" --config-file "$work/schemathesis.toml" run openapi/openapi.json --url "$api" \
    -H "Authorization: Bearer $token" --checks "$checks" --max-examples "$examples" \
    --workers 2 --seed "${SEED:-$RANDOM}" --request-timeout 30 --no-color \
    --report junit --report-dir "$work/$name" --suppress-health-check all \
    --exclude-operation-id live_events "$@" >"$work/$name.log" 2>&1
}
excluded=()
for id in "${destructive[@]}"; do excluded+=(--exclude-operation-id "$id"); done
included=()
for id in "${destructive[@]}"; do included+=(--include-operation-id "$id"); done

log() { printf '[%s] %s\n' "$(date +%T)" "$*"; }
log "schemathesis $schemathesis_version: $operations operations, $examples examples each, against $api"
start=$SECONDS
failed=0 total=0
for pass in main destructive; do
  if [[ $pass == main ]]; then run main "${excluded[@]}" || failed=1; else run destructive "${included[@]}" || failed=1; fi
  cases=$(grep -Eo '[0-9]+ generated' "$work/$pass.log" | tail -n 1 | cut -d' ' -f1 || true)
  failures=$(grep -Eo '[0-9]+ failed' "$work/$pass.log" | tail -n 1 | cut -d' ' -f1 || true)
  took=$(grep -Eo 'in [0-9.]+s =' "$work/$pass.log" | tail -n 1 | tr -d ' =' || true)
  log "$pass pass: ${cases:-?} test cases, ${failures:-0} failed (${took#in})"
  total=$((total + ${cases:-0}))
done
elapsed=$((SECONDS - start))
if ((failed)); then
  for pass in main destructive; do
    echo "---- $pass pass ----"
    sed -n '/FAILURES/,$p' "$work/$pass.log" | head -n 200
  done
  log "schemathesis FAILED: $total test cases in ${elapsed}s (full output in $work)"
  exit 1
fi
passed=1
log "schemathesis passed: $operations operations, $total test cases in ${elapsed}s, 0 failures"
