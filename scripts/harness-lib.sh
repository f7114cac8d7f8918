# Shell helpers shared by the fault and benchmark scripts (sourced).

# A free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# psql on the run's database ($database_url), tab-separated, stopping at the first error.
sql() { psql "$database_url" -X -v ON_ERROR_STOP=1 -qAt -F $'\t' "$@"; }

# wait_until SECONDS COMMAND...: true once COMMAND succeeds, false after SECONDS.
wait_until() {
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do ((SECONDS < deadline)) || return 1; sleep 0.2; done
}

# postgres_server stop|start|restart: the PostgreSQL on 127.0.0.1:5432 — the project-local one
# of scripts/services.sh when it runs, else the system's newest cluster (Debian's
# pg_ctlcluster). With PRIVATE_PGDATA set, the server of that data folder instead (a private
# one started by private_postgres). Waits until it answers after start and restart. Stopping
# or restarting a shared server drops every client's connections, other programs' too.
postgres_server() {
  local action=$1 run_as=() pg_ctl
  pg_ctl=$(ls /usr/lib/postgresql/*/bin/pg_ctl | sort -V | tail -n 1)
  [[ $(id -u) == 0 ]] && run_as=(runuser -u postgres --)
  if [[ -n ${PRIVATE_PGDATA:-} ]]; then
    "${run_as[@]}" "$pg_ctl" -D "$PRIVATE_PGDATA" -l "$PRIVATE_PGDATA.log" -w "$action" -m fast >/dev/null
  elif [[ -f .data/postgres/postmaster.pid ]]; then
    "${run_as[@]}" "$pg_ctl" -D .data/postgres -w "$action" -m fast >/dev/null
  else
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main "$action"
  fi
  [[ $action == stop ]] || wait_until 60 pg_isready -q -h "${PGHOST_FOR_WAIT:-127.0.0.1}" -p "${PGPORT_FOR_WAIT:-5432}"
}

# private_postgres DIR PORT: initialises and starts a throw-away PostgreSQL (trust, 127.0.0.1)
# with its data in DIR; sets PRIVATE_PGDATA so that postgres_server acts on it.
private_postgres() {
  local dir=$1 port=$2 run_as=() bin
  bin=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)")
  mkdir -p "$dir"
  if [[ $(id -u) == 0 ]]; then run_as=(runuser -u postgres --); chown postgres "$dir"; fi
  "${run_as[@]}" "$bin/initdb" -D "$dir" -U postgres --auth=trust >/dev/null
  printf "listen_addresses = '127.0.0.1'\nport = %s\nunix_socket_directories = ''\nfsync = off\n" "$port" >>"$dir/postgresql.conf"
  PRIVATE_PGDATA=$dir PGPORT_FOR_WAIT=$port
  touch "$dir.log"; [[ $(id -u) == 0 ]] && chown postgres "$dir.log"
  postgres_server start
}

# redis_server stop|start PORT: shuts Redis on 127.0.0.1:PORT down without saving, or starts
# one there with the flags of .ci/run (no persistence).
redis_server() {
  case $1 in
    stop) redis-cli -h 127.0.0.1 -p "$2" shutdown nosave >/dev/null 2>&1 || true
          wait_until 20 redis_silent "$2" ;;
    start) redis-server --daemonize yes --bind 127.0.0.1 --port "$2" --save "" --appendonly no >/dev/null
           wait_until 20 redis_answers "$2" ;;
  esac
}
redis_answers() { redis-cli -h 127.0.0.1 -p "$1" ping >/dev/null 2>&1; }
redis_silent() { ! redis_answers "$1"; }

# start_api BIN WORK: migrates $DATABASE_URL, creates the user fault@example.com with a random
# password, serves BIN/crm-api on a free port (receipts in WORK/receipts, log in WORK/api.log)
# and makes an API token as the README's walk-through does (sign in, POST /tokens). Sets
# api_port, api (the /api/v1 URL), api_pid and token.
start_api() {
  local bin=$1 work=$2 password csrf
  "$bin/crm-api" migrate >"$work/migrate.log" 2>&1
  password="harness-$RANDOM-$RANDOM-$RANDOM"
  printf '%s\n' "$password" |
    "$bin/crm-api" create-user --email fault@example.com --name 'Fault Test' >"$work/create-user.log" 2>&1
  api_port=$(free_port)
  api=http://127.0.0.1:$api_port/api/v1
  BIND_ADDR=127.0.0.1:$api_port RECEIPTS_DIR=$work/receipts "$bin/crm-api" serve >"$work/api.log" 2>&1 &
  api_pid=$!
  wait_until 60 curl -fs -o /dev/null "http://127.0.0.1:$api_port/healthz" || { echo "the API did not start" >&2; return 1; }
  csrf=$(curl -fs -c "$work/jar" -X POST "$api/auth/login" -H 'Content-Type: application/json' \
    -d "$(jq -n --arg p "$password" '{email: "fault@example.com", password: $p}')" | jq -r .csrf_token)
  # Making a token asks for the current password again.
  token=$(curl -fs -b "$work/jar" -X POST "$api/tokens" -H "X-CSRF-Token: $csrf" \
    -H 'Content-Type: application/json' \
    -d "$(jq -nc --arg p "$password" '{name: "fault test", current_password: $p}')" | jq -r .token)
  [[ -n $token && $token != null ]] || { echo "no API token" >&2; return 1; }
}

# bench_database NAME: the benchmarks' own database on the test server (crm_bench_NAME_<pid>) and
# a work folder; sets db, database_url, work and api_pid, and on exit stops the API, drops the
# database and removes the folder (kept, and named, when the run failed).
bench_database() {
  db=crm_bench_$1_$$
  database_url=${TEST_DATABASE_URL%/*}/$db
  work=$(mktemp -d "${TMPDIR:-/tmp}/crm-bench-$1.XXXXXX")
  api_pid=''
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
  psql "$TEST_DATABASE_URL" -qc "CREATE DATABASE $db"
}
bench_cleanup() {
  local status=$?
  trap - EXIT INT TERM
  [[ -n $api_pid ]] && { kill -TERM "$api_pid" 2>/dev/null || true; wait "$api_pid" 2>/dev/null || true; }
  psql "$TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" 2>/dev/null || true
  if ((status == 0)); then rm -rf "$work"; else echo "bench: logs kept in $work" >&2; fi
  exit "$status"
}
