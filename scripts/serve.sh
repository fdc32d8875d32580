#!/usr/bin/env bash
# Fresh machine to running product: install into .venv, migrate SQLite, load the demo, serve.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install --quiet --upgrade pip
.venv/bin/pip install --quiet -e .
command -v npm >/dev/null || { echo "npm is needed for the front-end packages" >&2; exit 1; }
npm ci --no-audit --no-fund           # htmx, signature_pad: pinned in package-lock.json
.venv/bin/python scripts/vendor_assets.py >/dev/null  # into webapp/static/vendor/
.venv/bin/csm db upgrade
.venv/bin/csm demo
# demo mode: the session key is generated once into instance/ (elsewhere set CSM_SECRET_KEY)
export CSM_DEMO=1
exec .venv/bin/csm serve --host "${HOST:-127.0.0.1}" --port "${PORT:-5000}"
