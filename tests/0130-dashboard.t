#!/bin/bash
# etl-ctl dashboard: a page rendered from a seeded database (runs ok and
# failed, rejects, unknown warehouses, hostile names), opened in headless
# Chromium: no console message, the numbers in the DOM are the database's,
# the charts are there, text is escaped; an empty database; thousands of
# runs; the pipelines rewrite it.
. "$TOP/tests/lib.sh"
plan 37

export ETL_STATE_DIR=$T/state ETL_BIN=$BIN
unset ETL_MAPPING_FILE
P=$TOP/pipelines
FAST="--backoff-base 5 --backoff-cap 20"
ART=${KEEP_ARTIFACTS:+$BUILD/artifacts}
[ -n "$ART" ] && mkdir -p "$ART"
sim_start --rows 2500 || exit 1
pg_start || { cat "$T/pg.log" >&2; exit 1; }
ETL_SQL_DIR=$TOP/sql etl-ctl migrate >/dev/null || exit 1

q() { psql -XAt -v ON_ERROR_STOP=1 -c "$1"; }
# browse NAME FILE: the DOM after loading, the browser's log, a screenshot
browse() {
	timeout 120 chromium --headless --no-sandbox --disable-gpu \
	    --user-data-dir="$T/chrome" --enable-logging=stderr --log-level=0 \
	    --dump-dom "file://$2" >"$T/$1.dom" 2>"$T/$1.log"
	timeout 120 chromium --headless --no-sandbox --disable-gpu \
	    --user-data-dir="$T/chrome" --hide-scrollbars \
	    --window-size=1280,2600 --screenshot="$T/$1.png" "file://$2" \
	    >/dev/null 2>&1
	if [ -n "$ART" ] && [ -f "$T/$1.png" ]; then
		cp "$T/$1.png" "$ART/dashboard-$1.png"
	fi
}
# what the page said on the console (messages, errors, CSP refusals)
console() { grep 'CONSOLE' "$T/$1.log"; }
# the data-value of the element with that id in a DOM dump
value() { sed -n "s/.*id=\"$2\" data-value=\"\([^\"]*\)\".*/\1/p" "$T/$1.dom" | head -n 1; }
attr() { sed -n "s/.*id=\"$2\" $3=\"\([^\"]*\)\".*/\1/p" "$T/$1.dom" | head -n 1; }

# --- the browser check itself can fail ---
printf '<!DOCTYPE html><p>x</p><script>console.error("boom")</script>\n' >"$T/bad.html"
browse control "$T/bad.html"
ok 'console control | grep -q boom' "the console check sees a page's console error"

# --- a fresh install: no runs, no stock ---
etl-ctl dashboard -o "$T/empty.html" 2>"$T/err"
is "$?" 0 "empty database: exit 0"
browse empty "$T/empty.html"
is "$(console empty | wc -l | tr -d ' ')" 0 "empty database: no console message"
ok 'grep -q "never run" "$T/empty.dom" && grep -q "No finished runs in this period" "$T/empty.dom" && grep -q "No stock loaded yet" "$T/empty.dom"' \
    "empty database: says there is nothing yet"
is "$(attr empty health data-level)/$(value empty inventory-rows)/$(value empty run-count)" \
    "unhealthy/0/0" "empty database: unhealthy, 0 rows, 0 runs"

# --- a seeded database: runs ok, partial and failed ---
OZON_EXTRACT_FLAGS="$FAST" "$P/full-sync" 2>/dev/null
ok '[ -f "$ETL_STATE_DIR/dashboard.html" ] && [ "$(stat -c %a "$ETL_STATE_DIR/dashboard.html")" = 644 ]' \
    "the pipeline wrote the dashboard, mode 0644"
touch -d '1 minute ago' "$ETL_STATE_DIR/dashboard.html"
sim_control '{"faults": ["*:malformed:inf"], "epoch": 1}'
OZON_EXTRACT_FLAGS="$FAST --cache off" "$P/incremental-sync" 2>/dev/null
ok '[ "$(find "$ETL_STATE_DIR/dashboard.html" -newermt "-30 seconds")" ]' \
    "the next run rewrote it"
sim_control '{"faults": ["1000:500:inf"]}'
OZON_EXTRACT_FLAGS="$FAST --retries 1" "$P/full-sync" 2>/dev/null
sim_control '{"faults": []}'
# hostile text where the page shows database text
q "INSERT INTO inventory (sku, warehouse_name, available, cluster_name)
   VALUES (1, '<script>alert(1)</script>', 1000000000, '<b>x</b>')" >/dev/null
q "UPDATE analytics_etl_log SET error_message = error_message || ' <script>alert(2)</script> \"q'' &amp;' WHERE status = 'failed'" >/dev/null
q "INSERT INTO warehouse_normalization (original_name, normalized_name, source_type, seen_count)
   VALUES ('<img src=x onerror=alert(3)>', 'X', 'auto_detected', 5)" >/dev/null

etl-ctl dashboard -o "$T/d.html" 2>"$T/err"
is "$?" 0 "dashboard -o: exit 0"
is "$(stat -c %a "$T/d.html")" 644 "written mode 0644, for a web server"
ok '[ ! -e "$T/d.html.tmp" ]' "written through a temp file, none left"
ok '! grep -Eiq "<script|<link|<[^>]* (src|href)=|url\(|@import" "$T/d.html"' \
    "self-contained: no script, no link, no external resource"
ok 'grep -q "Content-Security-Policy\" content=\"default-src '"'none'"'" "$T/d.html" && grep -q "http-equiv=\"refresh\"" "$T/d.html"' \
    "a CSP that allows nothing external, and a refresh"

browse seeded "$T/d.html"
is "$(console seeded | wc -l | tr -d ' ')" 0 "Chromium: no console message"
console seeded | head -n 5 >&2
ok '[ "$(head -c 4 "$T/seeded.png" | od -An -c | tr -d " ")" = "211PNG" ] && [ "$(stat -c %s "$T/seeded.png")" -gt 20000 ]' \
    "Chromium: a screenshot of the page"

# --- the numbers in the DOM are the database's ---
is "$(value seeded inventory-rows)" "$(q "SELECT count(*) FROM inventory")" "inventory rows"
is "$(value seeded skus)" "$(q "SELECT count(DISTINCT sku) FROM inventory")" "SKUs"
is "$(value seeded available)" "$(q "SELECT sum(available) FROM inventory")" "available"
is "$(value seeded reserved)/$(value seeded promised)" \
    "$(q "SELECT sum(reserved) || '/' || sum(promised_amount) FROM inventory")" "reserved and promised"
is "$(value seeded skus-out)" "$(q "SELECT count(*) FROM (SELECT sku FROM inventory GROUP BY sku HAVING sum(available) = 0) o")" \
    "SKUs out of stock everywhere"
is "$(value seeded run-count)" "$(q "SELECT count(*) FROM analytics_etl_log WHERE status <> 'running'")" \
    "runs in the charts"
is "$(value seeded alert-count)" "$(q "SELECT count(*) FROM etl_alert WHERE delivery <> 'throttled'")" \
    "alerts of the last 24 hours"
is "$(attr seeded last-full_sync data-status)/$(attr seeded last-incremental_sync data-status)" \
    "$(q "SELECT (SELECT status FROM analytics_etl_log WHERE run_type = 'full_sync' ORDER BY started_at DESC LIMIT 1) || '/' || (SELECT status FROM analytics_etl_log WHERE run_type = 'incremental_sync' ORDER BY started_at DESC LIMIT 1)")" \
    "the last full and incremental runs' status"
is "$(attr seeded health data-level)" "$(etl-ctl health 2>/dev/null | jq -r .status)" \
    "health as etl-ctl health sees it"

# --- charts, errors, data ---
for c in duration rows rejects api changes; do
	printf '%s ' "$(grep -c "id=\"chart-$c\"" "$T/seeded.dom")"
done >"$T/charts"
is "$(cat "$T/charts")" "1 1 1 1 1 " "five charts"
is "$(tr '\n' ' ' <"$T/seeded.dom" | sed 's/<figure/\n<figure/g' | grep 'id="chart-duration"' | grep -o '<rect' | wc -l | tr -d ' ')" \
    "$(value seeded run-count)" "the duration chart: one bar per run"
ok 'grep -q "ozon-extract exited 69" "$T/seeded.dom"' "failed runs: the error message"
ok 'grep -q "row N of the page at offset N: not an object" "$T/seeded.dom"' \
    "top reject reasons, grouped"
ok 'grep -q "ЧИТА_МРФЦ\|Сургут_РФЦ\|Склад Мурманск\|ВЛАДИВОСТОК_РФЦ_НОВЫЙ" "$T/seeded.dom"' \
    "warehouse names awaiting review"
is "$(tr '\n' ' ' <"$T/seeded.dom" | grep -o '<table id="by-cluster">.*</table>' | sed 's/<\/table>.*//' | grep -o '<tr>' | wc -l | tr -d ' ')" \
    "$(( $(q "SELECT count(DISTINCT coalesce(cluster_name, ''))  FROM inventory") + 1 ))" \
    "stock by cluster: one row per cluster"

# --- escaping ---
ok '! grep -qi "<script" "$T/seeded.dom" && ! grep -q "<img" "$T/seeded.dom" && ! grep -q "<b>x</b>" "$T/seeded.dom"' \
    "no markup from the database reaches the DOM"
ok 'grep -q "&lt;script&gt;alert(1)&lt;/script&gt;" "$T/seeded.dom" && grep -q "&lt;script&gt;alert(2)&lt;/script&gt;" "$T/seeded.dom" && grep -q "&lt;img src=x onerror=alert(3)&gt;" "$T/seeded.dom"' \
    "hostile names and messages show as text"

# --- thousands of runs ---
q "INSERT INTO analytics_etl_log (batch_id, run_type, status, started_at, finished_at, execution_time_ms, records_extracted)
   SELECT 'bulk-' || i, CASE WHEN i % 7 = 0 THEN 'full_sync' ELSE 'incremental_sync' END,
          CASE WHEN i % 11 = 0 THEN 'failed' ELSE 'completed' END,
          now() - i * interval '15 minutes', now() - i * interval '15 minutes' + interval '40 seconds',
          40000, 20000 + i FROM generate_series(10, 6000) i" >/dev/null
etl-ctl dashboard -o "$T/many.html" 2>/dev/null
is "$?" 0 "6000 runs: exit 0"
browse many "$T/many.html"
is "$(value many run-count)" 2000 "6000 runs: the charts keep the newest 2000"
ok '[ "$(stat -c %s "$T/many.html")" -lt 2000000 ]' "6000 runs: the page stays small ($(stat -c %s "$T/many.html") bytes)"
is "$(console many | wc -l | tr -d ' ')" 0 "6000 runs: no console message"

# --- the database down: the page is not replaced ---
cp "$T/d.html" "$T/before.html"
pg_stop
etl-ctl dashboard -o "$T/d.html" 2>/dev/null
is "$?" 69 "database down: exit 69"
ok 'cmp -s "$T/d.html" "$T/before.html"' "database down: the last page stays"
