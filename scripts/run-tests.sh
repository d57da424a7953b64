#!/usr/bin/env bash
# The whole suite: on SQLite (with the browser tests), then on a throwaway PostgreSQL 15 cluster.
# A missing PostgreSQL or Chromium fails the run; nothing is skipped.
set -uo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
pgdir=$(mktemp -d /tmp/roster-pg.XXXXXX)
port=${ROSTER_TEST_PG_PORT:-$((55000 + RANDOM % 5000))}
cleanup() { scripts/pgcluster.sh stop "$pgdir" || true; }
trap cleanup EXIT

echo "== 1/2: SQLite (unit, integration, scenarios, browser)"
$py -m pytest "$@"
sqlite_rc=$?

echo "== 2/2: PostgreSQL (integration, scenarios, concurrency, browser)"
if ! url=$(scripts/pgcluster.sh start "$pgdir" "$port"); then
  echo "Could not start PostgreSQL." >&2
  exit 1
fi
# The cluster's folder and port let tests/core/test_database_away.py stop and restart it mid-run.
TEST_DATABASE_URL="$url" ROSTER_TEST_PG_DIR="$pgdir" ROSTER_TEST_PG_PORT="$port" \
  $py -m pytest --ignore=tests/unit "$@"
pg_rc=$?

if [ $sqlite_rc -ne 0 ] || [ $pg_rc -ne 0 ]; then
  echo "FAILED: sqlite=$sqlite_rc postgresql=$pg_rc" >&2
  exit 1
fi
echo "All tests passed on SQLite and PostgreSQL."
