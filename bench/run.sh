#!/usr/bin/env bash
# The benchmarks from a fresh clone, in one command: install Huike with its test extras into
# ./.venv (or use the active virtual environment) and run `python -m bench` with the arguments.
#   bash bench/run.sh                       # the table: every scenario, SQLite, 10k/100k/1M
#   bash bench/run.sh loadtest              # 200 users × 2 minutes
#   bash bench/run.sh fuzz                  # the long schemathesis run
#   bash bench/run.sh --database postgresql://postgres@127.0.0.1:5432/test
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${VIRTUAL_ENV:-}" ]; then
  [ -x .venv/bin/python ] || python3 -m venv .venv
  # shellcheck disable=SC1091
  source .venv/bin/activate
fi
python -m pip install --quiet --disable-pip-version-check --upgrade pip "setuptools>=70" wheel
python -m pip install --quiet --disable-pip-version-check -e '.[test]'
exec python -m bench "$@"
