#!/usr/bin/env bash
# `schema.sh check`: fail when crates/db/src/schema.rs differs from what diesel generates from
# the migrations. `schema.sh write`: regenerate it. Uses a scratch database, dropped after.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-check}
admin=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
scratch="crm_schema_$$"
url="${admin%/*}/$scratch"
psql "$admin" -qc "CREATE DATABASE $scratch"
# `diesel migration run` rewrites schema.rs itself (diesel.toml): keep the committed one aside.
committed=$(mktemp)
cp crates/db/src/schema.rs "$committed"
trap 'cp "$committed" crates/db/src/schema.rs; psql "$admin" -qc "DROP DATABASE IF EXISTS $scratch WITH (FORCE)"' EXIT
diesel migration run --database-url "$url" >/dev/null
diesel migration redo --all --database-url "$url" >/dev/null   # every down.sql works
generated=$(mktemp)
diesel print-schema --database-url "$url" > "$generated"
if [[ $mode == write ]]; then
  cp "$generated" "$committed"
  echo "wrote crates/db/src/schema.rs"
elif ! diff -u "$committed" "$generated"; then
  echo "crates/db/src/schema.rs differs from the migrations: run 'make schema'" >&2
  exit 1
fi
