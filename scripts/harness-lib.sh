# Shell helpers shared by scripts/fault-messages.sh and scripts/bench-messages.sh (sourced).

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
