#!/usr/bin/env bash
# Install what the tests need into .venv, check style, run the whole suite.
# Integration tests use DATABASE_URL (PostgreSQL) and REDIS_URL when they are set.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install --quiet --upgrade pip
.venv/bin/pip install --quiet -e ".[test]"
command -v npm >/dev/null || { echo "npm is needed for the front-end packages" >&2; exit 1; }
npm ci --no-audit --no-fund           # htmx, signature_pad: pinned in package-lock.json
.venv/bin/python scripts/vendor_assets.py >/dev/null  # into webapp/static/vendor/
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/pytest -n "${PYTEST_WORKERS:-2}" -rs "$@"
