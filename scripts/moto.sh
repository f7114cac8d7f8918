#!/usr/bin/env bash
# Installs moto's S3-compatible server (PyPI, pinned) into .tools/moto when it is missing, and
# prints its path. The S3 storage tests start one per test on a free port on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
version=5.2.5
venv=.tools/moto
bin=$venv/bin/moto_server
if [[ ! -x $bin ]] || ! "$venv/bin/python" -c "import moto, sys; sys.exit(moto.__version__ != '$version')" 2>/dev/null; then
  echo "Installing moto[server]==$version into $venv ..." >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$version" >&2
fi
echo "$PWD/$bin"
