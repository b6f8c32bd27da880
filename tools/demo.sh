#!/bin/sh
# shellcheck disable=SC2154,SC2012
# (SC2154: $p is the trap's own loop variable; SC2012: ls -t of run
# folders, whose names are UUIDs)
# make demo: the main job on the embedded default: the local Ozon
# simulator, a throwaway Redis and a throwaway PostgreSQL, no credentials.
#   etl-ctl migrate
#   pipelines/full-sync           (a complete snapshot, spooled, loaded)
#   the simulator's stock changes
#   pipelines/incremental-sync    (streamed straight through)
#   etl-ctl status, etl-ctl health
# The state folder (run folders, spool, rejects, metrics, alerts) stays in
# $O/demo; the servers stop at exit, also on Ctrl-C.
set -eu
O=${O:-build}
rows=${DEMO_ROWS:-20000}
top=$(pwd)
d=$top/$O/demo
rm -rf "$d"
mkdir -p "$d"
pids=""
stop_pg=""
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; eval "$stop_pg"' EXIT
trap 'exit 1' HUP INT PIPE TERM

# PostgreSQL: initdb refuses root, so the cluster belongs to postgres then
# (in /tmp, which the postgres user can reach wherever the tree is)
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
pg=$(mktemp -d "${TMPDIR:-/tmp}/ozon-etl-demo.XXXXXX")
as=""
if [ "$(id -u)" -eq 0 ]; then
	chmod 711 "$pg"
	chown postgres "$pg"
	as="runuser -u postgres --"
fi
$as "$pgbin/initdb" -D "$pg/data" -A trust -U postgres -E UTF8 \
    --locale=C.UTF-8 --no-sync >"$d/pg.log" 2>&1
$as "$pgbin/pg_ctl" -D "$pg/data" -w -l "$pg/server.log" \
    -o "-k $pg -c listen_addresses= -c fsync=off" start >>"$d/pg.log"
stop_pg="$as $pgbin/pg_ctl -D $pg/data -m fast stop >/dev/null; rm -rf $pg"

tests/ozon-sim --rows "$rows" --port-file "$d/sim.port" \
    --log "$d/sim-requests.ndjson" 2>"$d/sim.err" &
pids="$pids $!"
redis-server --port 0 --unixsocket "$d/redis.sock" --save '' \
    --appendonly no >"$d/redis.log" 2>&1 &
pids="$pids $!"
i=0
while { [ ! -s "$d/sim.port" ] || [ ! -S "$d/redis.sock" ]; } &&
    [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done

# what /etc/ozon-etl/env holds on a real system (pipelines/env.example)
port=$(cat "$d/sim.port")
export OZON_API_URL="http://127.0.0.1:$port" \
    OZON_CLIENT_ID=123456 OZON_API_KEY=sim-secret-key OZON_RATE_LIMIT=0 \
    REDIS_URL="unix://$d/redis.sock" ETL_STATE_DIR="$d/state" \
    ETL_DATABASE_URL="host=$pg user=postgres dbname=postgres" \
    ETL_SQL_DIR="$top/sql" ETL_BIN="$top/$O/bin" \
    ETL_METRICS_FILE="$d/state/ozon_etl.prom" \
    ETL_ALERT_CMD="cat >>'$d/alerts.ndjson'"
unset ETL_MAPPING_FILE ETL_BATCH_ID
PATH=$top/$O/bin:$PATH
mkdir -m 700 "$d/state"

sync() {
	t0=$(date +%s%N)
	if "$top/pipelines/$1"; then
		rc=0
	else
		rc=$?
	fi
	echo "$1: exit $rc in $((($(date +%s%N) - t0) / 1000000)) ms; run" \
	    "folder $(ls -td "$d"/state/runs/*/ | head -n 1)"
}

echo "== etl-ctl migrate"
etl-ctl migrate
echo "== full sync: ozon-extract | etl-validate | etl-normalize > spool; etl-load --mode full < spool | etl-audit"
sync full-sync
full=$(ls -td "$d"/state/runs/*/ | head -n 1)

# Ozon's stock moves on; the incremental run asks for fresh pages (the
# cache would serve the full sync's pages for --cache-ttl, 15 minutes)
curl -sS -o /dev/null -X POST --data '{"epoch": 1}' \
    "$OZON_API_URL/__sim/control"
echo "== incremental sync: ozon-extract | etl-validate | etl-normalize | etl-load | etl-audit"
OZON_EXTRACT_FLAGS="--cache off" sync incremental-sync
incr=$(ls -td "$d"/state/runs/*/ | head -n 1)

echo "== etl-ctl status"
etl-ctl status
echo "== etl-ctl health"
etl-ctl health | jq -c . || true
echo "== the database"
psql -XAt -h "$pg" -U postgres \
    -c "SELECT 'inventory rows: ' || count(*) || ', out of stock: ' || count(*) FILTER (WHERE available = 0) FROM inventory" \
    -c "SELECT 'audit rows: ' || string_agg(c || ' ' || n, ', ') FROM (SELECT change_type c, count(*) n FROM inventory_audit GROUP BY 1 ORDER BY 1) x" \
    -c "SELECT 'names waiting for review (etl-ctl mapping review): ' || count(*) FROM warehouse_normalization WHERE source_type = 'auto_detected' AND is_active"
echo "== top reject reasons of the full sync"
jq -r '.reason | sub(" \\(.*"; "")' "$full/rejects.ndjson" | sort |
    uniq -c | sort -rn | head -n 5 | grep . || echo "      (none)"
echo "== stock by cluster: available, reserved"
psql -XAt -F ' ' -h "$pg" -U postgres -c "SELECT lpad(sum(available)::text, 10),
    lpad(sum(reserved)::text, 8), coalesce(cluster_name, '(no cluster)')
    FROM inventory GROUP BY cluster_name ORDER BY 1 DESC LIMIT 8"
echo "== where things are"
echo "spool of the full sync:   ${full}spool.ndjson"
echo "rejects:                  ${full}rejects.ndjson, ${incr}rejects.ndjson"
echo "run logs:                 ${full}log, ${incr}log"
echo "Prometheus metrics:       $ETL_METRICS_FILE"
echo "alerts sent:              $d/alerts.ndjson ($(wc -l <"$d/alerts.ndjson" 2>/dev/null || echo 0) alerts)"
echo "dashboard:                $d/state/dashboard.html (open it in a browser)"
