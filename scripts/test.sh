#!/usr/bin/env bash
# The README's test command: install Huike with its test extras and run the whole suite.
# Uses the active virtual environment, or creates ./.venv when none is active.
# Set HUIKE_TEST_DATABASE_URL=postgresql://user@host/db to run the suite on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${VIRTUAL_ENV:-}" ]; then
  [ -x .venv/bin/python ] || python3 -m venv .venv
  # shellcheck disable=SC1091
  source .venv/bin/activate
fi
python -m pip install --quiet --disable-pip-version-check --upgrade pip "setuptools>=70" wheel
python -m pip install --quiet --disable-pip-version-check -e '.[test]'
exec python -m pytest "$@"
