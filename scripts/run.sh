#!/usr/bin/env bash
# `make run`: the API (serving the web app) and the message worker in one terminal. Ctrl-C (or
# SIGTERM) stops both; the worker finishes the sends it has in flight first. The worker exits
# when Redis loses its registration (a Redis restart without persistence): like a supervisor,
# this starts it again after a second. If the API stops, everything stops.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${CARGO_TARGET_DIR:-target}/release

supervise_worker() {
  local worker=
  trap '[[ -n $worker ]] && kill -TERM "$worker" 2>/dev/null; wait; exit 0' TERM INT
  while true; do
    "$bin/crm-worker" &
    worker=$!
    wait "$worker" || true
    echo "crm-worker stopped by itself; starting it again" >&2
    sleep 1
  done
}
supervise_worker &
supervisor=$!
"$bin/crm-api" serve &
api=$!
stop() {
  trap - INT TERM EXIT
  kill -TERM "$supervisor" "$api" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT
wait "$api"
