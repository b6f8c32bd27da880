#!/bin/sh
# make demo: the pipeline as far as it goes today, on the embedded
# default: the local Ozon simulator and a throwaway Redis, no credentials.
#   ozon-extract | etl-validate | etl-normalize
# The files stay in $O/demo for a look afterwards.
set -eu
O=${O:-build}
d=$O/demo
rows=${DEMO_ROWS:-20000}
mkdir -p "$d"
rm -f "$d"/*.ndjson "$d/sim.port"
pids=""
trap 'for p in $pids; do kill "$p" 2>/dev/null; done' EXIT INT TERM

tests/ozon-sim --rows "$rows" --port-file "$d/sim.port" \
    --log "$d/sim-requests.ndjson" 2>"$d/sim.err" &
pids="$pids $!"
redis-server --port 0 --unixsocket "$PWD/$d/redis.sock" --save '' \
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
    REDIS_URL=unix://$PWD/$d/redis.sock ETL_STATE_DIR=$d \
    ETL_MAPPING_FILE=sql/warehouses.tsv ETL_LOG_FORMAT=json \
    ETL_BATCH_ID=demo-$(date +%Y%m%dT%H%M%S)
: >"$d/log.ndjson"
: >"$d/rejects.ndjson"
# every stage appends (O_APPEND) to one log and one reject file
"$O/bin/ozon-extract" 2>>"$d/log.ndjson" 3>>"$d/rejects.ndjson" |
    "$O/bin/etl-validate" 2>>"$d/log.ndjson" 3>>"$d/rejects.ndjson" |
    "$O/bin/etl-normalize" >"$d/normalized.ndjson" 2>>"$d/log.ndjson" \
    3>>"$d/rejects.ndjson"

echo "== summaries (from $d/log.ndjson)"
jq -r 'select(.event == "summary") | "\(.tool): in=\(.in) out=\(.out) rejected=\(.rejected)" +
    (if .pages then " pages=\(.pages) api_requests=\(.api_requests) complete=\(.complete)" else "" end) +
    " \(.elapsed_ms) ms, \(.max_rss_kb) KiB"' "$d/log.ndjson"
echo "== rejects by reason ($d/rejects.ndjson)"
jq -r '.reason | sub(" \\(.*"; "")' "$d/rejects.ndjson" | sort | uniq -c |
    sort -rn
echo "== unknown warehouse names, for the mapping"
jq -r 'select(.event == "unknown_warehouse") | "\(.name) -> \(.normalized)"' \
    "$d/log.ndjson"
echo "== stock by cluster: available, reserved ($d/normalized.ndjson)"
jq -r '[.cluster_name // "(no cluster)", .free_to_sell_amount,
    .reserved_amount] | @tsv' "$d/normalized.ndjson" |
    awk -F'\t' '{ a[$1] += $2; r[$1] += $3 }
        END { for (c in a) printf "%10d %8d  %s\n", a[c], r[c], c }' |
    sort -rn
