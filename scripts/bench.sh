#!/usr/bin/env bash
# make bench: bench/run.py on SQLite and on a throwaway PostgreSQL 15 cluster, one JSON line per
# measurement into bench/results.json (replaced each run).
#   SIZE=small (default: a tenth of a year, --scale 0.1) | year (52 weeks x 250 classes) | all
#   BENCH_RUNS=5  runs per measurement    BENCH_PG_PORT=port of the throwaway cluster
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
size=${SIZE:-small}
case "$size" in small|year) sizes=("$size") ;; all) sizes=(small year) ;;
  *) echo "SIZE must be small, year or all" >&2; exit 2 ;; esac
runs=${BENCH_RUNS:-5}
out=bench/results.json
work=$(mktemp -d /tmp/roster-bench.XXXXXX)
[ "$(id -u)" = 0 ] && chmod 755 "$work"
port=${BENCH_PG_PORT:-$((56100 + RANDOM % 900))}
cleanup() { scripts/pgcluster.sh stop "$work/pg" || true; rm -rf "$work"; }
trap cleanup EXIT

: > "$out"
echo "machine: $(nproc) cores, $(free -h | awk '/^Mem:/ {print $2}') memory, $(uname -sr)"
pg=$(scripts/pgcluster.sh start "$work/pg" "$port")
for s in "${sizes[@]}"; do
  echo "== SQLite, $s"
  $py bench/run.py --database-url "sqlite:///$work/bench-$s.sqlite3" --size "$s" --runs "$runs" --out "$out"
  echo "== PostgreSQL, $s"
  $py - "$pg" "bench_$s" <<'PY'
import sys, sqlalchemy as sa
eng = sa.create_engine(sys.argv[1], isolation_level="AUTOCOMMIT")
with eng.connect() as c:
    c.exec_driver_sql(f"DROP DATABASE IF EXISTS {sys.argv[2]}")
    c.exec_driver_sql(f"CREATE DATABASE {sys.argv[2]}")
PY
  $py bench/run.py --database-url "${pg%/*}/bench_$s" --size "$s" --runs "$runs" --out "$out"
done
echo "Wrote $(wc -l < "$out") measurements to $out"
