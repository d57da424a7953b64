#!/usr/bin/env bash
# make load: two gunicorn servers on loopback sharing one throwaway PostgreSQL, 16 desks doing a
# front-desk morning while a biller exports the year (bench/load.py); appends its JSON line to
# bench/results.json and fails when a check-in is lost or doubled, or anything answers 5xx.
#   SIZE=small (default, --scale 0.1) | year     LOAD_WORKERS=2 workers per server
#   LOAD_PER_DESK=40 check-ins per desk           BENCH_PG_PORT / LOAD_PORT (first of three ports)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin
size=${SIZE:-small}
case "$size" in small) scale=(--scale 0.1) ;; year) scale=() ;; *) echo "SIZE must be small or year" >&2; exit 2 ;; esac
work=$(mktemp -d /tmp/roster-load.XXXXXX)
[ "$(id -u)" = 0 ] && chmod 755 "$work"
base=${LOAD_PORT:-$((57000 + (RANDOM % 300) * 3))}
pg_port=${BENCH_PG_PORT:-$base}
ports=($((base + 1)) $((base + 2)))
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  scripts/pgcluster.sh stop "$work/pg" || true
  rm -rf "$work"
}
trap cleanup EXIT

url=$(scripts/pgcluster.sh start "$work/pg" "$pg_port")
export DATABASE_URL=$url SECRET_KEY=load-test-secret ROSTER_INSECURE_COOKIES=1
echo "machine: $(nproc) cores, $(free -h | awk '/^Mem:/ {print $2}') memory; database $size on PostgreSQL"
$bin/flask --app app db upgrade >/dev/null 2>&1
$bin/flask --app app roster bench-data "${scale[@]}" | tail -n 1
conf=()
[ -f gunicorn.conf.py ] && conf=(-c gunicorn.conf.py)
for port in "${ports[@]}"; do
  $bin/gunicorn "${conf[@]}" --bind "127.0.0.1:$port" --workers "${LOAD_WORKERS:-2}" \
    --access-logfile /dev/null --error-logfile "$work/gunicorn-$port.log" 'app:app' &
  pids+=($!)
done
for port in "${ports[@]}"; do  # wait until both answer
  $bin/python - "$port" <<'PY'
import sys, time, urllib.request
for _ in range(240):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/healthz", timeout=2).read()
        break
    except OSError:
        time.sleep(0.5)
else:
    sys.exit(f"server on port {sys.argv[1]} did not start")
PY
done
$bin/python bench/load.py --servers "http://127.0.0.1:${ports[0]},http://127.0.0.1:${ports[1]}" \
  --database-url "$url" --per-desk "${LOAD_PER_DESK:-40}" --out bench/results.json \
  --cpu-of "gunicorn=$(IFS=,; echo "${pids[*]}")" --cpu-of "postgres=$(head -n 1 "$work/pg/data/postmaster.pid")"
