#!/bin/sh
# make demo: the pipeline as far as it goes today, on the embedded
# default: the local Ozon simulator, a throwaway Redis and a throwaway
# PostgreSQL, no credentials.
#   etl-ctl migrate
#   ozon-extract | etl-validate | etl-normalize | etl-load --mode full
# then a changed data set, loaded again.  The files stay in $O/demo.
set -eu
O=${O:-build}
d=$O/demo
rows=${DEMO_ROWS:-20000}
d=$(cd "$(dirname "$d")" && pwd)/$(basename "$d")
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

export OZON_API_URL=http://127.0.0.1:$(cat "$d/sim.port") \
    OZON_CLIENT_ID=123456 OZON_API_KEY=sim-secret-key \
    REDIS_URL=unix://$d/redis.sock ETL_STATE_DIR=$d \
    ETL_DATABASE_URL="host=$pg user=postgres dbname=postgres" \
    ETL_SQL_DIR=sql ETL_LOG_FORMAT=json
: >"$d/log.ndjson"
: >"$d/rejects.ndjson"
"$O/bin/etl-ctl" migrate

# one run: every stage appends (O_APPEND) to one log and one reject file
run() {
	export ETL_BATCH_ID=demo-$1
	"$O/bin/ozon-extract" ${2:-} 2>>"$d/log.ndjson" 3>>"$d/rejects.ndjson" |
	    "$O/bin/etl-validate" 2>>"$d/log.ndjson" 3>>"$d/rejects.ndjson" |
	    "$O/bin/etl-normalize" 2>>"$d/log.ndjson" 3>>"$d/rejects.ndjson" |
	    tee "$d/normalized-$1.ndjson" |
	    "$O/bin/etl-load" --mode full >"$d/changes-$1.ndjson" \
	    2>>"$d/log.ndjson" 3>>"$d/rejects.ndjson"
}
run 1
# Ozon's stock moves on: a changed data set, and the same job again
curl -sS -o /dev/null -X POST --data '{"epoch": 1}' \
    "$OZON_API_URL/__sim/control"
run 2 "--cache refresh"	# a new snapshot, not the cached pages

echo "== summaries (from $d/log.ndjson)"
jq -r 'select(.event == "summary") | "\(.batch_id) \(.tool): in=\(.in) out=\(.out) rejected=\(.rejected)" +
    (if .pages then " pages=\(.pages) api_requests=\(.api_requests) complete=\(.complete)" else "" end) +
    (if .tool == "etl-load" then " inserted=\(.inserted) updated=\(.updated) zeroed=\(.zeroed) unchanged=\(.unchanged)" else "" end) +
    " \(.elapsed_ms) ms, \(.max_rss_kb) KiB"' "$d/log.ndjson"
echo "== the database"
psql -XAt -h "$pg" -U postgres -c "SELECT 'inventory rows: ' || count(*) FROM inventory" \
    -c "SELECT 'audit rows by batch and change: ' || string_agg(b || ' ' || c || ' ' || n, ', ') FROM (SELECT batch_id b, change_type c, count(*) n FROM inventory_audit GROUP BY 1, 2 ORDER BY 1, 2) x" \
    -c "SELECT 'names waiting for review: ' || count(*) FROM warehouse_normalization WHERE source_type = 'auto_detected'"
echo "== rejects by reason ($d/rejects.ndjson)"
jq -r '.reason | sub(" \\(.*"; "")' "$d/rejects.ndjson" | sort | uniq -c |
    sort -rn
echo "== unknown warehouse names, for the mapping"
jq -r 'select(.event == "unknown_warehouse") | "\(.name) -> \(.normalized)"' \
    "$d/log.ndjson"
echo "== stock by cluster now: available, reserved (from inventory)"
psql -XAt -F ' ' -h "$pg" -U postgres -c "SELECT lpad(sum(available)::text, 10),
    lpad(sum(reserved)::text, 8), coalesce(cluster_name, '(no cluster)')
    FROM inventory GROUP BY cluster_name ORDER BY 1 DESC"
