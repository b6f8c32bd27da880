#!/bin/bash
# Five runs at once for one data source: five full syncs started together
# take turns on the pipelines' lock; five etl-loads started together take
# turns on the database's advisory lock.  Nothing overlaps, nothing is
# lost, every change has its audit row.
. "$TOP/tests/lib.sh"
plan 10

export ETL_STATE_DIR=$T/state ETL_BIN=$BIN ETL_LOCK_WAIT=300
unset ETL_MAPPING_FILE
export OZON_EXTRACT_FLAGS="--cache off"
sim_start --rows 3000 || exit 1
pg_start || { cat "$T/pg.log" >&2; exit 1; }
ETL_SQL_DIR=$TOP/sql etl-ctl migrate >/dev/null || exit 1

# --- five full syncs at once ---
for i in 1 2 3 4 5; do
	"$TOP/pipelines/full-sync" 2>"$T/err.$i" &
	pids="${pids:-} $!"
done
codes=
for p in $pids; do
	wait "$p"
	codes="$codes$? "
done
is "$codes" "0 0 0 0 0 " "five full syncs at once: all exit 0"
is "$(q "SELECT count(*) FROM analytics_etl_log WHERE run_type = 'full_sync' AND status = 'completed'")" 5 \
    "five completed runs recorded"
is "$(q "SELECT count(*) FROM analytics_etl_log a JOIN analytics_etl_log b ON a.id < b.id AND a.started_at < b.finished_at AND b.started_at < a.finished_at")" 0 \
    "no two runs overlapped: they took turns"
is "$(q "SELECT sum(records_inserted) FROM analytics_etl_log")/$(q "SELECT count(*) FROM inventory")" \
    "$(q "SELECT count(*) FROM inventory")/$(q "SELECT count(*) FROM inventory_audit WHERE change_type = 'insert'")" \
    "the first inserted every row once; the others changed nothing"
is "$(q "SELECT sum(records_updated + records_zeroed) FROM analytics_etl_log")" 0 \
    "the same snapshot five times: no update, no zero"

# --- five etl-loads at once, each a different snapshot ---
for e in 1 2 3 4 5; do
	sim_control "{\"epoch\": $e}"
	ozon-extract 2>/dev/null | etl-validate 2>/dev/null |
	    etl-normalize >"$T/snap.$e" 2>/dev/null
done
AUDIT0=$(q "SELECT count(*) FROM inventory_audit")
pids=
for e in 1 2 3 4 5; do
	ETL_BATCH_ID=load-$e etl-load --wait --mode full <"$T/snap.$e" \
	    >"$T/changes.$e" 2>"$T/load.$e" &
	pids="$pids $!"
done
codes=
for p in $pids; do
	wait "$p"
	codes="$codes$? "
done
is "$codes" "0 0 0 0 0 " "five etl-load --wait at once: all exit 0"
CHANGES=$(cat "$T"/changes.* | wc -l | tr -d ' ')
is "$(( $(q "SELECT count(*) FROM inventory_audit") - AUDIT0 ))" "$CHANGES" \
    "one audit row per change record, across the five"
for e in 1 2 3 4 5; do
	printf '%s ' "$(jq -r 'select(.event == "summary") | .inserted + .updated + .zeroed' "$T/load.$e")"
done >"$T/counts"
is "$(tr ' ' '\n' <"$T/counts" | awk '{s += $1} END {print s}')" "$CHANGES" \
    "the summaries' counts add up to the change records"
# whichever ran last, the database is its snapshot: a dry run of that
# snapshot again finds nothing to change
LAST=$(q "SELECT batch_id FROM inventory_audit WHERE batch_id LIKE 'load-%' ORDER BY id DESC LIMIT 1")
etl-load --dry-run --mode full <"$T/snap.${LAST#load-}" >"$T/again" 2>/dev/null
is "$(wc -l <"$T/again" | tr -d ' ')" 0 "the database is exactly the last load's snapshot"
ok '[ "$(q "SELECT count(DISTINCT batch_id) FROM inventory_audit WHERE batch_id LIKE '"'load-%'"'")" -ge 4 ]' \
    "each load's changes were its own (audited under its batch)"
