#!/bin/bash
# The pipelines end to end, with real PostgreSQL, Redis, the Ozon
# simulator and alerts through alert-webhook to a local HTTP receiver:
# full and incremental syncs, a failed extract, the lock, rejects, alert
# throttling, health (stale, stuck), replay, cancel, retention, metrics.
. "$TOP/tests/lib.sh"
plan 80

export ETL_STATE_DIR=$T/state ETL_BIN=$BIN
unset ETL_MAPPING_FILE		# the database's mapping, as installed
P=$TOP/pipelines
FAST="--backoff-base 5 --backoff-cap 20"
export OZON_EXTRACT_FLAGS="$FAST"
sim_start --rows 2500 || exit 1
redis_start
pg_start || { cat "$T/pg.log" >&2; exit 1; }
ETL_SQL_DIR=$TOP/sql etl-ctl migrate >/dev/null || exit 1

sink_start || exit 1

last_dir() { ls -td "$ETL_STATE_DIR"/runs/*/ | head -n 1; }
last_batch() { basename "$(last_dir)"; }
count_alerts() { sink_alerts | grep -cx "$1"; }
pipe() { "$P/$1" 2>"$T/err"; RC=$?; }

# --- a full sync ---
pipe full-sync
is "$RC" 0 "full sync: exit 0"
is "$(cat "$T/err")" "" "full sync: silent on success"
B1=$(last_batch)
D1=$(last_dir)
is "$(q "SELECT run_type, status, records_extracted, records_validated, records_normalized, records_failed, api_requests_made, finished_at IS NOT NULL FROM analytics_etl_log WHERE batch_id = '$B1'")" \
    "full_sync|completed|2500|2500|2500|0|3|t" "full sync: the run row's counters and status"
INV=$(q "SELECT count(*) FROM inventory")
is "$(q "SELECT records_inserted FROM analytics_etl_log WHERE batch_id = '$B1'")" "$INV" \
    "full sync: records_inserted is the rows in inventory"
is "$(q "SELECT count(*) FROM inventory_audit WHERE batch_id = '$B1' AND change_type = 'insert'")" "$INV" \
    "full sync: one insert audit row per inventory row"
ok '[ "$INV" -gt 2000 ] && [ "$INV" -le 2500 ]' "full sync: inventory holds the snapshot ($INV rows)"
is "$(wc -l <"$D1/spool.ndjson" | tr -d ' ')" 2500 "full sync: the spool holds the snapshot"
is "$(stat -c %a "$D1")/$(stat -c %a "$D1/spool.ndjson")/$(stat -c %a "$D1/log")" "700/600/600" \
    "run folder 0700, spool and log 0600"
ok 'q "SELECT execution_time_ms > 0 AND peak_memory_kb > 1000 AND api_time_ms >= 0 FROM analytics_etl_log WHERE batch_id = '"'$B1'"'" | grep -qx t' \
    "full sync: time and peak memory recorded"
is "$(q "SELECT details->'stages'->'etl-load'->>'exit' FROM analytics_etl_log WHERE batch_id = '$B1'")" 0 \
    "details keep each stage's summary"
ok 'grep -q "^ozon_etl_last_success_timestamp_seconds{run_type=\"full_sync\"} [0-9]" "$ETL_STATE_DIR/ozon_etl.prom"' \
    "metrics: last success of the full sync written"
ok '[ ! -e "$ETL_STATE_DIR/ozon_etl.prom.tmp" ]' "metrics: no temp file left"
is "$(stat -c %a "$ETL_STATE_DIR/ozon_etl.prom")" 644 "metrics: readable by node_exporter (0644)"
is "$(wc -l <"$T/sink.log" | tr -d ' ')" 0 "a good run alerts nobody"

# --- an incremental sync after the stock changed ---
sim_control '{"epoch": 1}'
OZON_EXTRACT_FLAGS="$FAST --cache off" pipe incremental-sync
B2=$(last_batch)
is "$RC/$(cat "$T/err")" "0/" "incremental sync: exit 0, silent"
is "$(q "SELECT run_type, status FROM analytics_etl_log WHERE batch_id = '$B2'")" \
    "incremental_sync|completed" "incremental sync: recorded completed"
U=$(q "SELECT records_updated FROM analytics_etl_log WHERE batch_id = '$B2'")
ok '[ "$U" -gt 0 ]' "incremental sync: rows updated ($U)"
is "$(q "SELECT count(*) FROM inventory_audit WHERE batch_id = '$B2' AND change_type = 'update'")" "$U" \
    "incremental sync: one audit row per update"
is "$(q "SELECT records_zeroed, (SELECT count(*) FROM inventory_audit WHERE batch_id = '$B2' AND change_type = 'zero') FROM analytics_etl_log WHERE batch_id = '$B2'")" \
    "0|0" "incremental sync: zeroes nothing"
ok '[ ! -e "$(last_dir)/spool.ndjson" ]' "incremental sync: streams, no spool"
# what the database holds is what the simulator serves now
ozon-extract --cache off 2>/dev/null | etl-validate 2>/dev/null |
    etl-normalize 2>/dev/null | etl-load --dry-run >"$T/changes" 2>/dev/null
ok '[ ! -s "$T/changes" ] || ! grep -qv "\"change_type\":\"zero\"" "$T/changes"' \
    "incremental sync: inventory matches the source (a dry run finds nothing to insert or update)"

# --- a full sync whose extract fails half-way ---
BEFORE=$(inv_snapshot)
AUDIT=$(q "SELECT count(*) FROM inventory_audit")
sim_control '{"faults": ["1000:500:inf"], "epoch": 2}'
OZON_EXTRACT_FLAGS="$FAST --retries 1 --breaker-failures 100" pipe full-sync
B3=$(last_batch)
is "$RC" 69 "failed extract: exit 69"
is "$(inv_snapshot)/$(q "SELECT count(*) FROM inventory_audit")" "$BEFORE/$AUDIT" \
    "failed extract: inventory and audit untouched, nothing zeroed"
is "$(q "SELECT status, error_message LIKE 'ozon-extract exited 69%', records_inserted + records_updated + records_zeroed FROM analytics_etl_log WHERE batch_id = '$B3'")" \
    "failed|t|0" "failed extract: recorded failed, with the extract's error"
ok 'grep -q "failed: ozon-extract exited 69" "$T/err" && grep -q "ozon-extract=69" "$T/err" && grep -q "etl-load=-" "$T/err"' \
    "failed extract: a short report on stderr, etl-load not run"
ok '[ ! -e "$(last_dir)/spool.ndjson" ]' "failed extract: the partial spool is removed"
is "$(count_alerts run_failed)" 1 "failed extract: a run_failed alert reached the receiver"
is "$(jq -r 'select(.path == "/hook") | .body | fromjson | .batch_id' "$T/sink.log" | head -n 1)" "$B3" \
    "the alert names the run"
is "$(q "SELECT delivery FROM etl_alert WHERE batch_id = '$B3' AND rule = 'run_failed'")" sent \
    "the alert is recorded as sent"

# --- throttling: the same failure again ---
OZON_EXTRACT_FLAGS="$FAST --retries 1 --breaker-failures 100" pipe full-sync
B4=$(last_batch)
is "$RC" 69 "second failure: exit 69"
is "$(count_alerts run_failed)" 1 "throttled: run_failed not sent twice within the window"
is "$(q "SELECT delivery FROM etl_alert WHERE batch_id = '$B4' AND rule = 'run_failed'")" throttled \
    "throttled: recorded as throttled"
ETL_ALERT_THROTTLE=0 OZON_EXTRACT_FLAGS="$FAST --retries 1 --breaker-failures 100" pipe full-sync
is "$(count_alerts run_failed)" 2 "with no window, the next failure is sent"
is "$(count_alerts consecutive_failures)" 1 "three failures in a row: consecutive_failures alert"
ok '[ "$(count_alerts api_failure_share)" -ge 1 ]' "failed requests past the share: api_failure_share alert"
ok 'etl-ctl health >"$T/health"; [ $? = 2 ] && jq -e ".consecutive_failures == 3" "$T/health" >/dev/null' \
    "health: unhealthy after three failures in a row"

# --- the lock ---
sim_control '{"faults": [], "epoch": 2}'
RUNS=$(q "SELECT count(*) FROM analytics_etl_log")
NALERTS=$(wc -l <"$T/sink.log")
(exec 9>>"$ETL_STATE_DIR/run.lock"; flock 9; exec sleep 30) &
HOLDER=$!
i=0
while flock -n "$ETL_STATE_DIR/run.lock" true && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
pipe incremental-sync
is "$RC" 75 "lock held: exit 75"
ok 'grep -q "holds .*run.lock" "$T/err"' "lock held: said on stderr"
is "$(q "SELECT count(*) FROM analytics_etl_log")/$(wc -l <"$T/sink.log")" "$RUNS/$NALERTS" \
    "lock held: no run row, no alert"
ok 'grep -q "\"event\":\"skipped\"" "$ETL_STATE_DIR/pipelines.log"' "lock held: logged in pipelines.log"
etl-ctl replay "$D1/spool.ndjson" >/dev/null 2>"$T/err"
is "$?" 75 "lock held: etl-ctl replay exits 75 too"
kill "$HOLDER"
wait "$HOLDER" 2>/dev/null

# --- rejects above the threshold ---
sim_control '{"faults": ["*:malformed:inf"]}'
ETL_ALERT_REJECT_SHARE=0.1% OZON_EXTRACT_FLAGS="$FAST --cache off" pipe incremental-sync
B5=$(last_batch)
is "$RC" 0 "rejects within the stages' limits: exit 0"
is "$(q "SELECT status, records_failed > 0 FROM analytics_etl_log WHERE batch_id = '$B5'")" \
    "partial_success|t" "rejects: recorded partial_success with the failed count"
is "$(q "SELECT records_failed FROM analytics_etl_log WHERE batch_id = '$B5'")" \
    "$(wc -l <"$(last_dir)/rejects.ndjson" | tr -d ' ')" "rejects: the count is the reject stream's"
is "$(count_alerts reject_share)" 1 "rejects above the share: reject_share alert"
ok 'q "SELECT details->'"'reject_reasons'"' FROM analytics_etl_log WHERE batch_id = '"'$B5'"'" | jq -e "length > 0 and (.[0].count > 0)" >/dev/null' \
    "rejects: top reasons with counts in details"
is "$(q "SELECT details->'reject_reasons' FROM analytics_etl_log WHERE batch_id = '$B5'" | jq -r '.[] | select(.reason == "row N of the page at offset N: not an object") | .count')" 3 \
    "rejects: reasons grouped without their figures (one bad row per page)"
sim_control '{"faults": []}'

# --- a stale last success ---
q "UPDATE analytics_etl_log SET started_at = started_at - interval '20 hours', finished_at = finished_at - interval '20 hours'" >/dev/null
etl-ctl health >"$T/health"
RC=$?
is "$RC" 2 "stale data: health exits 2"
ok 'jq -e "(.status == \"unhealthy\") and ([.findings[].check] | index(\"freshness\"))" "$T/health" >/dev/null' \
    "stale data: the freshness finding"
etl-ctl health --alert >/dev/null 2>&1
is "$(count_alerts stale_data)" 1 "health --alert: stale_data alert sent"

# --- a killed run stays "running" and is found stuck ---
sim_control '{"faults": ["*:hang=20:inf"]}'
# in a subshell of its own, whose shell reports the kill to /dev/null
(OZON_EXTRACT_FLAGS="$FAST --cache off" setsid "$P/incremental-sync" &
    echo $! >"$T/killed.pid"; wait) 2>/dev/null &
SUB=$!
wait_file "$T/killed.pid"
KILLED=$(cat "$T/killed.pid")
i=0
while [ "$(q "SELECT count(*) FROM analytics_etl_log WHERE status = 'running'")" = 0 ] && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
sleep 0.5
pkill -9 -s "$KILLED"
wait "$SUB" 2>/dev/null
sim_control '{"faults": []}'
is "$(q "SELECT count(*) FROM analytics_etl_log WHERE status = 'running'")" 1 \
    "kill -9: the run's row stays running"
KB=$(q "SELECT batch_id FROM analytics_etl_log WHERE status = 'running'")
sleep 1.1
ETL_STUCK_AFTER=1s etl-ctl health >"$T/health"
RC=$?
ok '[ "$RC" -ge 1 ] && jq -e ".stuck_runs == 1" "$T/health" >/dev/null' "stuck run found by health"
ETL_STUCK_AFTER=1s etl-ctl health --alert >/dev/null 2>&1
is "$(count_alerts stuck_runs)" 1 "stuck run: stuck_runs alert sent"

# --- SIGTERM mid-run: cancelled ---
sim_control '{"faults": ["*:hang=20:inf"]}'
OZON_EXTRACT_FLAGS="$FAST --cache off" "$P/incremental-sync" 2>"$T/err" &
PID=$!
i=0
while [ "$(q "SELECT count(*) FROM analytics_etl_log WHERE status = 'running' AND run_type = 'incremental_sync' AND started_at > now() - interval '1 minute'")" = 0 ] && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
sleep 0.5
kill -TERM "$PID"
wait "$PID"
RC=$?
sim_control '{"faults": []}'
B6=$(last_batch)
is "$RC" 143 "SIGTERM: exit 143"
is "$(q "SELECT status FROM analytics_etl_log WHERE batch_id = '$B6'")" cancelled \
    "SIGTERM: recorded cancelled"
ok '! pgrep -f "ozon-extract --cache use $FAST --cache off" >/dev/null' \
    "SIGTERM: the stages are gone"
is "$(count_alerts run_cancelled)" 1 "SIGTERM: run_cancelled alert"
is "$(q "SELECT status || ': ' || (error_message LIKE 'the run ended without finishing its record (killed?)%') FROM analytics_etl_log WHERE batch_id = '$KB'")" \
    "failed: true" "the next run finished the killed run's row as failed"

# --- replay: the second time changes nothing ---
etl-ctl replay "$D1/spool.ndjson" >"$T/replay1" 2>"$T/err"
RC=$?
R1=$(jq -r .batch_id "$T/replay1")
is "$RC/$(jq -r .status "$T/replay1")" "0/completed" "replay: exit 0, completed"
is "$(q "SELECT run_type FROM analytics_etl_log WHERE batch_id = '$R1'")" replay "replay: a replay run"
ok 'q "SELECT count(*) > 0 AND bool_and(change_source = '"'replay'"') FROM inventory_audit WHERE batch_id = '"'$R1'"'" | grep -qx t' \
    "replay: the changes it made are audited as replay"
AUDIT=$(q "SELECT count(*) FROM inventory_audit")
etl-ctl replay "$D1/spool.ndjson" >"$T/replay2" 2>/dev/null
R2=$(jq -r .batch_id "$T/replay2")
is "$(q "SELECT records_inserted + records_updated + records_zeroed FROM analytics_etl_log WHERE batch_id = '$R2'")/$(q "SELECT count(*) FROM inventory_audit")" \
    "0/$AUDIT" "replay again: no change, no audit row"

# --- metrics and retention ---
etl-ctl metrics >"$T/metrics"
is "$(grep -c '^ozon_etl_last_run_status{run_type="incremental_sync",status="cancelled"} 1$' "$T/metrics")" 1 \
    "metrics: the last incremental run's status"
ok 'grep -q "^ozon_etl_database_up 1$" "$T/metrics" && grep -q "^ozon_etl_last_run_rows{run_type=\"full_sync\",stage=\"extracted\"} " "$T/metrics"' \
    "metrics: database up, rows by stage"
touch -d '30 days ago' "$D1"
q "UPDATE inventory_audit SET changed_at = now() - interval '100 days' WHERE batch_id = '$B1'" >/dev/null
N1=$(q "SELECT count(*) FROM inventory_audit WHERE batch_id = '$B1'")
ETL_RETAIN_RUN_DIRS=7d etl-ctl cleanup >"$T/out"
is "$(cat "$T/out")" "removed: $N1 audit rows, 0 runs, 0 alerts, 1 run folders" "cleanup: what it removed"
ok '[ ! -e "$D1" ] && [ -d "$(last_dir)" ]' "cleanup: the old run folder only"
is "$(q "SELECT count(*) FROM inventory_audit WHERE batch_id = '$B1'")" 0 "cleanup: old audit rows gone"

# --- the database down: the run fails, the alert still goes out ---
pg_stop
pipe incremental-sync
is "$RC" 69 "database down: exit 69"
is "$(count_alerts run_failed)" 3 "database down: run_failed still sent (throttled through Redis)"
pipe incremental-sync
is "$(count_alerts run_failed)" 3 "database down: the Redis window holds the repeat"
etl-ctl health >"$T/health" 2>/dev/null
RC=$?
ok '[ "$RC" = 2 ] && jq -e ".database == false" "$T/health" >/dev/null' \
    "database down: health exits 2"
# no database and no Redis: the window is a file in the state folder
REDIS_URL= etl-ctl health --alert >/dev/null 2>&1
REDIS_URL= etl-ctl health --alert >/dev/null 2>&1
is "$(count_alerts database_down)" 1 "no database, no Redis: database_down sent once"
ok '[ -f "$ETL_STATE_DIR/alert-database_down-any" ]' "no database, no Redis: throttled by a state file"
pg_restart

# --- a full sync far smaller than the last one, and too slow ---
q "UPDATE analytics_etl_log SET records_extracted = 100000, details = details || '{\"warehouses\": 5000}' WHERE batch_id = '$B1'" >/dev/null
ETL_ALERT_MAX_DURATION=0 pipe full-sync
is "$RC" 0 "drops: the full sync itself succeeds"
is "$(count_alerts row_count_drop)/$(count_alerts warehouse_count_drop)/$(count_alerts slow_run)" "1/1/1" \
    "row_count_drop, warehouse_count_drop and slow_run alerts"
ok 'q "SELECT (details->>'"'warehouses'"')::int > 0 FROM analytics_etl_log WHERE batch_id = '"'$(last_batch)'"'" | grep -qx t' \
    "a full sync records its warehouses with stock"

# --- a stage that died without its summary ---
grep -v '"tool":"etl-normalize".*"event":"summary"' "$ETL_STATE_DIR/runs/$B2/log" >"$T/cut.log"
ETL_BATCH_ID=$B2 etl-audit -t incremental_sync -l "$T/cut.log" --no-cleanup \
    </dev/null >"$T/a.out" 2>/dev/null
is "$(jq -r '.status + ": " + .error' "$T/a.out")" "failed: etl-normalize: no summary (killed, or not run)" \
    "a stage without a summary: failed, never completed"
is "$(q "SELECT status FROM analytics_etl_log WHERE batch_id = '$B2'")" failed \
    "a stage without a summary: the row says failed"

# --- secrets ---
ok '! grep -rqF "$SIM_KEY" "$ETL_STATE_DIR" "$T/sink.log"' "the Api-Key appears in no log, reject, spool or alert"
ok '! q "SELECT details::text || coalesce(error_message, '"''"') FROM analytics_etl_log" | grep -qF "$SIM_KEY"' \
    "the Api-Key appears in no run row"
