#!/usr/bin/env bash
# The whole suite: on SQLite (with the browser tests) and on a throwaway PostgreSQL 15 cluster.
# A missing PostgreSQL or Chromium fails the run; nothing is skipped.
# The two runs go side by side (each pytest is one process: on two cores the pair takes about as long as the
# longer one); their lines are prefixed [sqlite] / [postgresql]. ROSTER_TEST_SERIAL=1 runs them one after the other.
set -uo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
pgdir=$(mktemp -d /tmp/roster-pg.XXXXXX)
port=${ROSTER_TEST_PG_PORT:-$((55000 + RANDOM % 5000))}
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  scripts/pgcluster.sh stop "$pgdir" || true
}
trap cleanup EXIT

if ! url=$(scripts/pgcluster.sh start "$pgdir" "$port"); then
  echo "Could not start PostgreSQL." >&2
  exit 1
fi

sqlite_run() {
  $py -m pytest "$@"
}
postgresql_run() {
  # The cluster's folder and port let tests/core/test_database_away.py stop and restart it mid-run.
  # (pytest's cache is the SQLite run's: two runs writing it at once could spoil it.)
  TEST_DATABASE_URL="$url" ROSTER_TEST_PG_DIR="$pgdir" ROSTER_TEST_PG_PORT="$port" \
    $py -m pytest -p no:cacheprovider --ignore=tests/unit "$@"
}

started=$SECONDS
if [ "${ROSTER_TEST_SERIAL:-0}" = 1 ]; then
  echo "== 1/2: SQLite (unit, integration, scenarios, browser)"
  sqlite_run "$@"; sqlite_rc=$?
  echo "== 2/2: PostgreSQL (integration, scenarios, concurrency, browser)"
  postgresql_run "$@"; pg_rc=$?
else
  echo "== SQLite (unit, integration, scenarios, browser) and PostgreSQL (integration, scenarios, concurrency, browser), side by side"
  sqlite_run "$@" > >(sed -u 's/^/[sqlite] /') 2>&1 &
  pids+=($!)
  postgresql_run "$@" > >(sed -u 's/^/[postgresql] /') 2>&1 &
  pids+=($!)
  wait "${pids[0]}"; sqlite_rc=$?
  wait "${pids[1]}"; pg_rc=$?
  pids=()
  sleep 0.2  # the prefixing filters print their last lines
fi
echo "Both runs took $((SECONDS - started)) s."

if [ $sqlite_rc -ne 0 ] || [ $pg_rc -ne 0 ]; then
  echo "FAILED: sqlite=$sqlite_rc postgresql=$pg_rc" >&2
  exit 1
fi
echo "All tests passed on SQLite and PostgreSQL."
