#!/usr/bin/env bash
# Benchmarks: receipt conversion (criterion) next to a plain copy of the same bytes, then the
# original app's Pillow conversion on the same files. Pillow goes into .tools/venv (from PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench -p crm-receipts --bench convert
if [[ ! -x .tools/venv/bin/python ]]; then
  python3 -m venv .tools/venv
  .tools/venv/bin/pip install -q pillow
fi
echo "== Pillow (the Django app's converter) on the same files"
.tools/venv/bin/python crates/receipts/benches/pillow_convert.py
