#!/bin/sh
# make demo: the pipeline as far as it goes today (etl-validate and
# etl-normalize) on generated Ozon-like stock data.  The files stay in
# $O/demo for a look afterwards.
set -eu
O=${O:-build}
d=$O/demo
rows=${DEMO_ROWS:-50000}
mkdir -p "$d"
rm -f "$d"/*.ndjson
: >"$d/log.ndjson"
: >"$d/rejects.ndjson"

export ETL_MAPPING_FILE=sql/warehouses.tsv ETL_LOG_FORMAT=json
"$O/bench/gen-stock" -s 7 "$rows" >"$d/stock.ndjson"
# both stages append (O_APPEND) to one log and one reject file
"$O/bin/etl-validate" <"$d/stock.ndjson" 2>>"$d/log.ndjson" \
    3>>"$d/rejects.ndjson" |
    "$O/bin/etl-normalize" >"$d/normalized.ndjson" 2>>"$d/log.ndjson" \
    3>>"$d/rejects.ndjson"

echo "== summaries (from $d/log.ndjson)"
jq -r 'select(.event == "summary") | "\(.tool): in=\(.in) out=\(.out) rejected=\(.rejected) \(.elapsed_ms) ms, \(.max_rss_kb) KiB"' \
    "$d/log.ndjson"
echo "== rejects by reason ($d/rejects.ndjson)"
jq -r '.reason | sub(" \\(.*"; "")' "$d/rejects.ndjson" | sort | uniq -c |
    sort -rn
echo "== unknown warehouse names, for the mapping"
jq -r 'select(.event == "unknown_warehouse") | "\(.name) -> \(.normalized)"' \
    "$d/log.ndjson"
echo "== stock by cluster: available / reserved ($d/normalized.ndjson)"
jq -r '[.cluster_name // "(no cluster)", .free_to_sell_amount,
    .reserved_amount] | @tsv' "$d/normalized.ndjson" |
    awk -F'\t' '{ a[$1] += $2; r[$1] += $3 }
        END { for (c in a) printf "%10d %8d  %s\n", a[c], r[c], c }' |
    sort -rn
