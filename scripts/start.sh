#!/usr/bin/env bash
# The README's start command: install Huike into ./.venv, create an install in ./huike-data on the
# embedded default (SQLite + SqliteHuey) if there is none, optionally load demo data, and serve on
# http://127.0.0.1:8800 with the job worker in the same process.
#   bash scripts/start.sh [--demo] [--port 8800] [--data-dir DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
DEMO=0; PORT=8800; DATA_DIR="${HUIKE_DATA_DIR:-./huike-data}"
while [ $# -gt 0 ]; do
  case "$1" in
    --demo) DEMO=1 ;;
    --port) PORT="$2"; shift ;;
    --data-dir) DATA_DIR="$2"; shift ;;
    -h|--help) sed -n 2,6p "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip "setuptools>=70" wheel
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e .
HUIKE=.venv/bin/huike
if [ ! -f "$DATA_DIR/huike.toml" ]; then
  umask 077
  PASSWORD_FILE="$DATA_DIR.admin-password"
  mkdir -p "$(dirname "$PASSWORD_FILE")"
  .venv/bin/python -c "import secrets; print('Hk-' + secrets.token_urlsafe(12))" > "$PASSWORD_FILE"
  "$HUIKE" init --data-dir "$DATA_DIR" --admin-password-file "$PASSWORD_FILE"
  echo "管理员 admin 的初始密码在 / initial admin password is in: $PASSWORD_FILE"
else
  "$HUIKE" migrate --data-dir "$DATA_DIR"
fi
if [ "$DEMO" = 1 ]; then
  "$HUIKE" demo --data-dir "$DATA_DIR"
fi
exec "$HUIKE" serve --data-dir "$DATA_DIR" --port "$PORT" --with-worker
