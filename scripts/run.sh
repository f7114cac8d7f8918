#!/usr/bin/env bash
# `make run`: the API (serving the web app) and the message worker in one terminal. Ctrl-C (or
# SIGTERM) stops both; the worker finishes the sends it has in flight first. If either stops by
# itself, the other is stopped too.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${CARGO_TARGET_DIR:-target}/release
"$bin/crm-worker" &
worker=$!
"$bin/crm-api" serve &
api=$!
stop() {
  trap - INT TERM EXIT
  kill -TERM "$api" "$worker" 2>/dev/null || true
  wait "$api" "$worker" 2>/dev/null || true
}
trap stop INT TERM EXIT
# Returns when either process ends; then the trap stops the other.
wait -n "$api" "$worker"
