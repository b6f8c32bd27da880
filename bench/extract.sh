#!/bin/sh
# Figures for ozon-extract against the curl command line: the same 1000
# requests (1000 pages of 1000 rows) to the local Ozon simulator, rate
# limit off, over one connection each.  A report, not a test.
#
#   BIN=build/bin sh bench/extract.sh
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$top/build/bin}
pages=${BENCH_PAGES:-1000}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ozon-etl-bench.XXXXXX")
sim=""
trap '[ -n "$sim" ] && kill "$sim" 2>/dev/null; rm -rf "$tmp"' EXIT

"$top/tests/ozon-sim" --rows $((pages * 1000 - 1)) --port-file "$tmp/port" \
    --api-key bench-key --client-id 1 2>"$tmp/sim.err" &
sim=$!
i=0
while [ ! -s "$tmp/port" ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
url=http://127.0.0.1:$(cat "$tmp/port")
export OZON_API_URL=$url OZON_CLIENT_ID=1 OZON_API_KEY=bench-key \
    OZON_RATE_LIMIT=0 ETL_LOG_FORMAT=json ETL_STATE_DIR=$tmp
unset REDIS_URL

# curl: one invocation, one connection, one request per page
: >"$tmp/curl.cfg"
p=0
while [ $p -lt "$pages" ]; do
	[ $p -gt 0 ] && echo next >>"$tmp/curl.cfg"
	cat >>"$tmp/curl.cfg" <<CFG
url = "$url/v2/analytics/stock_on_warehouses"
header = "Client-Id: 1"
header = "Api-Key: bench-key"
header = "Content-Type: application/json"
compressed
data = "{\"limit\":1000,\"offset\":$((p * 1000)),\"warehouse_type\":\"ALL\"}"
output = "/dev/null"
CFG
	p=$((p + 1))
done

timed() {	# timed NAME CMD...: wall s, cpu s and peak RSS into $tmp/NAME
	_name=$1
	shift
	/usr/bin/time -f "%e %U %S %M" -o "$tmp/$_name.time" "$@" \
	    >"$tmp/$_name.out" 2>"$tmp/$_name.err"
}

# warm the simulator's page cache, then best of 3 each
timed warm "$BIN/ozon-extract"
best_curl=999999 best_oe=999999
for r in 1 2 3; do
	timed curl curl -sS --config "$tmp/curl.cfg"
	w=$(cut -d' ' -f1 "$tmp/curl.time")
	best_curl=$(echo "$w $best_curl" | awk '{ print ($1 < $2) ? $1 : $2 }')
	# like curl's, the rows go to /dev/null
	/usr/bin/time -f "%e %U %S %M" -o "$tmp/oe.time" "$BIN/ozon-extract" \
	    >/dev/null 2>"$tmp/oe.err"
	w=$(cut -d' ' -f1 "$tmp/oe.time")
	if [ "$(echo "$w $best_oe" | awk '{ print ($1 < $2) }')" = 1 ]; then
		best_oe=$w
		cp "$tmp/oe.time" "$tmp/oe.best"
	fi
done
timed oe "$BIN/ozon-extract"
rows=$(wc -l <"$tmp/oe.out" | tr -d ' ')
reqs=$(grep '"event":"summary"' "$tmp/oe.err" | sed 's/.*"api_requests":\([0-9]*\).*/\1/')
cpu=$(awk '{ print $2 + $3 }' "$tmp/oe.best")
rss=$(awk '{ print $4 }' "$tmp/oe.best")

# memory against page count: the same run at a tenth of the pages
timed small "$BIN/ozon-extract" --max-pages $((pages / 10)) || true
rss_small=$(tail -n 1 "$tmp/small.time" | awk "{ print \$4 }")

# etl-validate's CPU per row on these rows, for the CPU target
timed val "$BIN/etl-validate" <"$tmp/oe.out"
vcpu=$(awk '{ print $2 + $3 }' "$tmp/val.time")

echo "ozon-extract bench: $pages pages of 1000 rows from the simulator, rate limit off, best of 3"
echo "requests: curl $pages, ozon-extract $reqs (it asks for the next page while it parses one)"
awk -v rows="$rows" -v pages="$pages" -v oe="$best_oe" -v cu="$best_curl" \
    -v cpu="$cpu" -v vcpu="$vcpu" -v rss="$rss" -v rss_small="$rss_small" 'BEGIN {
	printf "%-14s %8s %10s %9s %8s\n", "", "wall s", "rows/s", "pages/s", "cpu s"
	printf "%-14s %8.2f %10.0f %9.0f %8.2f\n", "ozon-extract", oe, rows / oe, pages / oe, cpu
	printf "%-14s %8.2f %10.0f %9.0f\n", "curl", cu, rows / cu, pages / cu
	r = oe / cu
	printf "wall vs curl: %.2fx (target <= 1.2x) %s\n", r, r <= 1.2 ? "ok" : "MISS"
	printf "cpu per row: ozon-extract %.2f us, etl-validate %.2f us (target: not more) %s\n",
	    cpu / rows * 1e6, vcpu / rows * 1e6, cpu <= vcpu ? "ok" : "MISS"
	printf "peak RSS: %d KiB at %d pages, %d KiB at %d pages %s\n", rss_small,
	    pages / 10, rss, pages, (rss <= rss_small * 1.25 + 1024) ? "ok" : "MISS"
}'
