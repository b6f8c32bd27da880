#!/bin/bash
# make check-load: a 5 million row snapshot end to end through the full
# sync pipeline (the simulator, ozon-extract, etl-validate, etl-normalize,
# the spool, etl-load --mode full, etl-audit), each tool within its memory
# bound.  Minutes, not seconds: not part of make check.
. "$TOP/tests/lib.sh"
plan 11

ROWS=${LOAD_ROWS:-5000000}
export ETL_STATE_DIR=$T/state ETL_BIN=$BIN ETL_DASHBOARD_FILE=
unset ETL_MAPPING_FILE
export OZON_EXTRACT_FLAGS="--cache off"
SIM_WAIT=300 sim_start --rows "$ROWS" || exit 1
pg_start || { cat "$T/pg.log" >&2; exit 1; }
ETL_SQL_DIR=$TOP/sql etl-ctl migrate >/dev/null || exit 1

t0=$(date +%s)
"$TOP/pipelines/full-sync" 2>"$T/err"
RC=$?
secs=$(($(date +%s) - t0))
echo "# $ROWS rows: full sync in $secs s"
B=$(basename "$(ls -td "$ETL_STATE_DIR"/runs/*/ | head -n 1)")
LOG=$ETL_STATE_DIR/runs/$B/log
is "$RC" 0 "$ROWS rows: the full sync exits 0"
cat "$T/err" >&2
is "$(q "SELECT status || ' ' || records_extracted || ' ' || records_normalized FROM analytics_etl_log WHERE batch_id = '$B'")" \
    "completed $ROWS $ROWS" "every row extracted, validated and normalized"
INV=$(q "SELECT count(*) FROM inventory")
is "$(q "SELECT records_inserted FROM analytics_etl_log WHERE batch_id = '$B'")/$(q "SELECT count(*) FROM inventory_audit WHERE batch_id = '$B'")" \
    "$INV/$INV" "every inventory row inserted once, with its audit row ($INV)"
is "$(jq -r 'select(.event == "summary" and .tool == "etl-load") | .in - .rejected - .duplicates' "$LOG")" "$INV" \
    "etl-load: in, less rejected and duplicates, is what inventory holds"

# each tool's peak memory, from its summary, against its bound (KiB)
rss() { jq -r --arg t "$1" 'select(.event == "summary" and .tool == $t) | .max_rss_kb' "$LOG" | tail -n 1; }
for b in ozon-extract:32768 etl-validate:16384 etl-normalize:32768 etl-load:65536 etl-audit:32768; do
	tool=${b%%:*}
	lim=${b#*:}
	kb=$(rss "$tool")
	echo "# $tool: $kb KiB"
	ok '[ -n "$kb" ] && [ "$kb" -lt "$lim" ]' "$tool: peak $kb KiB, within $((lim / 1024)) MiB"
done

# and again: the same snapshot changes nothing, in the same memory
"$TOP/pipelines/full-sync" 2>"$T/err"
B2=$(basename "$(ls -td "$ETL_STATE_DIR"/runs/*/ | head -n 1)")
is "$(q "SELECT status || ' ' || records_inserted + records_updated + records_zeroed FROM analytics_etl_log WHERE batch_id = '$B2'")" \
    "completed 0" "the same $ROWS rows again: no change"
kb=$(jq -r 'select(.event == "summary" and .tool == "etl-load") | .max_rss_kb' "$ETL_STATE_DIR/runs/$B2/log")
ok '[ "$kb" -lt 65536 ]' "etl-load unchanged re-run: $kb KiB"
