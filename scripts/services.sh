#!/usr/bin/env bash
# Makes sure PostgreSQL and Redis are reachable, and prints the settings to use as shell
# assignments (eval "$(scripts/services.sh)"). Messages go to stderr.
#
#  - DATABASE_URL / REDIS_URL, when set, are used as they are;
#  - otherwise the local servers on their default ports;
#  - when those are not running and the server programs are installed, project-local ones are
#    started with their data under .data/ (ignored by git);
#  - otherwise it says what to install, or to run `docker compose up -d postgres redis`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
data="$root/.data"

# Settings in .env count as if they were in the environment (the API reads .env too).
if [[ -f .env ]]; then set -a; . ./.env; set +a; fi

say() { printf '%s\n' "$*" >&2; }

# host and port of a URL such as postgres://user@host:5432/db
host_of() { local rest=${1#*://}; rest=${rest#*@}; rest=${rest%%/*}; echo "${rest%%:*}"; }
port_of() { local rest=${1#*://}; rest=${rest#*@}; rest=${rest%%/*}; [[ $rest == *:* ]] && echo "${rest##*:}" || echo "$2"; }
reachable() { timeout 2 bash -c ">/dev/tcp/$1/$2" 2>/dev/null; }

find_pg_bin() {
  local name=$1
  command -v "$name" 2>/dev/null && return
  ls /usr/lib/postgresql/*/bin/"$name" 2>/dev/null | sort -V | tail -n 1
}

start_local_postgres() {
  local initdb pg_ctl run=()
  initdb=$(find_pg_bin initdb) pg_ctl=$(find_pg_bin pg_ctl)
  if [[ -z $initdb || -z $pg_ctl ]]; then return 1; fi
  mkdir -p "$data"
  if [[ $(id -u) == 0 ]]; then
    # PostgreSQL refuses to run as root; use its own account when there is one.
    id postgres >/dev/null 2>&1 || return 1
    run=(runuser -u postgres --)
    mkdir -p "$data/postgres"; chown postgres "$data" "$data/postgres"
  fi
  if [[ ! -f $data/postgres/PG_VERSION ]]; then
    say "Creating a project-local PostgreSQL in .data/postgres"
    "${run[@]}" "$initdb" -D "$data/postgres" -U postgres --auth=trust >/dev/null
  fi
  say "Starting the project-local PostgreSQL on 127.0.0.1:5432"
  "${run[@]}" "$pg_ctl" -D "$data/postgres" -l "$data/postgres.log" -w \
    -o "-h 127.0.0.1 -p 5432 -k $data" start >/dev/null
}

start_local_redis() {
  command -v redis-server >/dev/null || return 1
  mkdir -p "$data/redis"
  say "Starting a project-local Redis on 127.0.0.1:6379"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --dir "$data/redis" \
    --save "" --appendonly no --logfile "$data/redis.log"
}

wait_for() { for _ in $(seq 1 30); do reachable "$1" "$2" && return 0; sleep 0.5; done; return 1; }

database_url=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/customer_manager}
redis_url=${REDIS_URL:-redis://127.0.0.1:6379}
pg_host=$(host_of "$database_url"); pg_port=$(port_of "$database_url" 5432)
redis_host=$(host_of "$redis_url"); redis_port=$(port_of "$redis_url" 6379)

missing=()
if ! reachable "$pg_host" "$pg_port"; then
  if [[ -z ${DATABASE_URL:-} ]] && start_local_postgres && wait_for "$pg_host" "$pg_port"; then :; else
    missing+=("PostgreSQL at $pg_host:$pg_port")
  fi
fi
if ! reachable "$redis_host" "$redis_port"; then
  if [[ -z ${REDIS_URL:-} ]] && start_local_redis && wait_for "$redis_host" "$redis_port"; then :; else
    missing+=("Redis at $redis_host:$redis_port")
  fi
fi
if (( ${#missing[@]} )); then
  say "Cannot reach: ${missing[*]}."
  say "Either install the servers (Debian/Ubuntu: sudo apt-get install postgresql redis-server),"
  say "or start them with Docker: docker compose up -d postgres redis,"
  say "or point DATABASE_URL and REDIS_URL at running ones."
  exit 1
fi

# The tests create their databases on the same server, through its maintenance database.
test_database_url=${TEST_DATABASE_URL:-${database_url%/*}/postgres}
printf 'export DATABASE_URL=%q REDIS_URL=%q TEST_DATABASE_URL=%q TEST_REDIS_URL=%q\n' \
  "$database_url" "$redis_url" "$test_database_url" "${TEST_REDIS_URL:-$redis_url}"
