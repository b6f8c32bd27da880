#!/bin/bash
# Fault injection, end to end: PostgreSQL stopped (immediate mode) during
# COPY, during the upsert and during COMMIT; Redis killed mid-run; SIGINT
# to a pipeline; the spool's disk full; network faults from the
# simulator.  After each: the database exactly as before the run or as
# after it, the audit trail matching the changes, the run row telling the
# truth (once the database is back), the right exit code and alert; and
# no secret in any output.
. "$TOP/tests/lib.sh"
plan 49

export ETL_STATE_DIR=$T/state ETL_BIN=$BIN ETL_ALERT_THROTTLE=0
unset ETL_MAPPING_FILE
P=$TOP/pipelines
FAST="--backoff-base 5 --backoff-cap 20"
export OZON_EXTRACT_FLAGS="$FAST --cache off"
sim_start --rows 2500 || exit 1
redis_start
pg_start || { cat "$T/pg.log" >&2; exit 1; }
# a password in the URL (trust auth ignores it): it must show nowhere
PW=pw-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
export ETL_DATABASE_URL="postgresql://postgres:$PW@/postgres?host=$T/pg"
ETL_SQL_DIR=$TOP/sql etl-ctl migrate >/dev/null || exit 1
sink_start || exit 1

last_dir() { ls -td "$ETL_STATE_DIR"/runs/*/ | head -n 1; }
last_batch() { basename "$(last_dir)"; }
# alerts of one run: their rules
alerts_of() { jq -r --arg b "$1" '.body | fromjson | select(.batch_id == $b) | .rule' "$T/sink.log" | sort | tr '\n' ' '; }
audit_count() { q "SELECT count(*) FROM inventory_audit"; }
# the audit trail of each batch matches what its run row says it changed
trail_ok() {
	[ "$(q "SELECT count(*) FROM analytics_etl_log l WHERE records_inserted + records_updated + records_zeroed <> (SELECT count(*) FROM inventory_audit a WHERE a.batch_id = l.batch_id)")" = 0 ]
}
# wait until etl-load's session does what $1 matches (a query, or the
# test triggers' pg_sleep)
wait_sql() {
	i=0
	until [ "$(q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'etl-load' AND state = 'active' AND ($1)" 2>/dev/null)" = 1 ]; do
		sleep 0.05
		i=$((i + 1))
		if [ $i -gt 400 ]; then
			q "SELECT application_name, state, wait_event, left(query, 40) FROM pg_stat_activity WHERE backend_type = 'client backend'" >&2
			return 1
		fi
	done
}
pipe() { "$P/$1" 2>"$T/err"; RC=$?; }

pipe full-sync
is "$RC" 0 "baseline full sync: exit 0"

# --- PostgreSQL stopped during COPY (a replay fed through a FIFO) ---
sim_control '{"epoch": 1}'
ozon-extract 2>/dev/null | etl-validate 2>/dev/null | etl-normalize >"$T/s1" 2>/dev/null
BEFORE=$(inv_snapshot)
AUDIT=$(audit_count)
mkfifo "$T/fifo"
{ head -n 1000 "$T/s1"; sleep 30; tail -n +1001 "$T/s1"; } >"$T/fifo" 2>/dev/null &
FEED=$!
etl-ctl replay "$T/fifo" >"$T/replay.out" 2>"$T/replay.err" &
REPLAY=$!
wait_sql "query LIKE 'COPY%'" || echo "# no COPY seen" >&2
pg_stop
wait "$REPLAY"
RC=$?
kill "$FEED" 2>/dev/null
wait "$FEED" 2>/dev/null
RB=$(jq -r .batch_id "$T/replay.out")
is "$RC" 69 "PostgreSQL stopped during COPY: exit 69"
is "$(jq -r '.status + " " + (.recorded | tostring)' "$T/replay.out")" "failed false" \
    "during COPY: judged failed; the row could not be written then"
is "$(alerts_of "$RB")" "run_failed " "during COPY: run_failed sent (throttle state in Redis)"
pg_restart
is "$(inv_snapshot)/$(audit_count)" "$BEFORE/$AUDIT" "during COPY: the database exactly as before"

# the next run finishes the dead run's row from its summary.json
pipe incremental-sync
is "$(q "SELECT status FROM analytics_etl_log WHERE batch_id = '$RB'")" failed \
    "during COPY: the next run records the run as failed"
ok 'q "SELECT error_message FROM analytics_etl_log WHERE batch_id = '"'$RB'"'" | grep -q "etl-load exited 69.*database was down"' \
    "during COPY: with etl-load's error, recorded late"
ok trail_ok "audit trail matches every run row"

# --- PostgreSQL stopped during the upsert (a slow statement trigger) ---
q "CREATE FUNCTION test_slow() RETURNS trigger LANGUAGE plpgsql AS
   \$\$ BEGIN PERFORM pg_sleep(30); RETURN NULL; END \$\$;
   CREATE TRIGGER test_slow BEFORE INSERT ON inventory
   FOR EACH STATEMENT EXECUTE FUNCTION test_slow()" >/dev/null
sim_control '{"epoch": 2}'
BEFORE=$(inv_snapshot)
AUDIT=$(audit_count)
"$P/full-sync" 2>"$T/err" &
PIPE=$!
wait_sql "wait_event = 'PgSleep'" || echo "# no upsert seen" >&2
pg_stop
wait "$PIPE"
RC=$?
B=$(last_batch)
is "$RC" 69 "PostgreSQL stopped during the upsert: exit 69"
ok 'grep -q "etl-load=69" "$T/err"' "during the upsert: the report names etl-load"
is "$(alerts_of "$B")" "run_failed " "during the upsert: run_failed sent"
pg_restart
q "DROP TRIGGER test_slow ON inventory" >/dev/null
is "$(inv_snapshot)/$(audit_count)" "$BEFORE/$AUDIT" "during the upsert: the database exactly as before"
ok '[ -s "$(last_dir)/spool.ndjson" ]' "during the upsert: the spool is kept for a replay"
SPOOL=$(last_dir)spool.ndjson

# --- PostgreSQL stopped during COMMIT (a deferred trigger sleeps in it) ---
q "CREATE FUNCTION test_slow_commit() RETURNS trigger LANGUAGE plpgsql AS
   \$\$ BEGIN
	IF current_setting('test.slept', true) IS DISTINCT FROM 'y' THEN
		PERFORM set_config('test.slept', 'y', true);
		PERFORM pg_sleep(30);
	END IF;
	RETURN NULL;
   END \$\$;
   CREATE CONSTRAINT TRIGGER test_slow_commit AFTER INSERT OR UPDATE ON inventory
   DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_slow_commit()" >/dev/null
BEFORE=$(inv_snapshot)
AUDIT=$(audit_count)
etl-ctl replay --full "$SPOOL" >"$T/replay.out" 2>/dev/null &
REPLAY=$!
wait_sql "wait_event = 'PgSleep'" || echo "# no COMMIT seen" >&2
pg_stop
wait "$REPLAY"
RC=$?
RB=$(jq -r .batch_id "$T/replay.out")
is "$RC" 69 "PostgreSQL stopped during COMMIT: exit 69"
pg_restart
q "DROP TRIGGER test_slow_commit ON inventory" >/dev/null
is "$(inv_snapshot)/$(audit_count)" "$BEFORE/$AUDIT" "during COMMIT: the database exactly as before"
is "$(alerts_of "$RB")" "run_failed " "during COMMIT: run_failed sent"

# the same spool again, with the database up: exactly as after
etl-ctl replay --full "$SPOOL" >"$T/replay.out" 2>/dev/null
RC=$?
RB=$(jq -r .batch_id "$T/replay.out")
is "$RC/$(jq -r .status "$T/replay.out")" "0/completed" "the replay after the faults: completed"
ok '[ "$(q "SELECT records_updated FROM analytics_etl_log WHERE batch_id = '"'$RB'"'")" -gt 0 ]' \
    "the replay after the faults: the changes the failed runs did not make"
is "$(q "SELECT status FROM analytics_etl_log WHERE status = 'running'")" "" \
    "no run row left running: each one tells how it ended"
ok trail_ok "audit trail matches every run row"

# --- Redis killed mid-run ---
sim_control '{"epoch": 3, "faults": ["1000:slow=2"]}'
"$P/incremental-sync" 2>"$T/err" &
PIPE=$!
i=0
until [ "$(jq -r 'select(.offset == 1000) | .offset' "$T/sim.log" 2>/dev/null | tail -n 1)" = 1000 ] || [ $i -gt 200 ]; do sleep 0.05; i=$((i + 1)); done
kill -9 "$REDIS_PID"
wait "$REDIS_PID" 2>/dev/null
wait "$PIPE"
RC=$?
B=$(last_batch)
sim_control '{"faults": []}'
is "$RC/$(q "SELECT status FROM analytics_etl_log WHERE batch_id = '$B'")" "0/completed" \
    "Redis killed mid-run: the run goes on without it and completes"
ok 'grep -q "redis.*going on without it" "$(last_dir)log"' "Redis killed: said in the log"
etl-load --dry-run < <(ozon-extract 2>/dev/null | etl-validate 2>/dev/null | etl-normalize 2>/dev/null) >"$T/changes" 2>/dev/null
ok '! grep -qv "\"change_type\":\"zero\"" "$T/changes"' "Redis killed: the data is the source's"
redis_start

# --- SIGINT to a full sync mid-extract ---
sim_control '{"faults": ["1000:hang=20"]}'
BEFORE=$(inv_snapshot)
# a job of its own: a background job of a script ignores SIGINT
set -m
"$P/full-sync" 2>"$T/err" &
PIPE=$!
set +m
N0=$(wc -l <"$T/sim.log")
i=0
until [ "$(tail -n +"$((N0 + 1))" "$T/sim.log" | jq -r 'select(.offset == 1000) | .offset' 2>/dev/null | wc -l)" -ge 1 ] || [ $i -gt 200 ]; do sleep 0.05; i=$((i + 1)); done
sleep 0.5
kill -INT "$PIPE"
wait "$PIPE"
RC=$?
B=$(last_batch)
sim_control '{"faults": []}'
is "$RC" 130 "SIGINT: exit 130"
is "$(q "SELECT status FROM analytics_etl_log WHERE batch_id = '$B'")" cancelled "SIGINT: recorded cancelled"
is "$(inv_snapshot)" "$BEFORE" "SIGINT: nothing loaded"
ok '[ ! -e "$(last_dir)spool.ndjson" ]' "SIGINT: the partial spool removed"
ok '! pgrep -f "ozon-extract --cache refresh $FAST" >/dev/null' "SIGINT: no stage left running"
is "$(alerts_of "$B")" "run_cancelled " "SIGINT: run_cancelled alert"

# --- the spool's disk full ---
sim_control '{"epoch": 4}'
BEFORE=$(inv_snapshot)
AUDIT=$(audit_count)
(ulimit -f 400; "$P/full-sync" 2>"$T/err")
RC=$?
B=$(last_batch)
is "$RC" 74 "spool past RLIMIT_FSIZE: exit 74"
ok 'grep -q "etl-normalize=74" "$T/err" && grep -q "etl-load=-" "$T/err"' "disk full: etl-normalize 74, etl-load not run"
is "$(inv_snapshot)/$(audit_count)" "$BEFORE/$AUDIT" "disk full: nothing loaded, nothing zeroed"
ok 'q "SELECT status = '"'failed'"' AND error_message LIKE '"'etl-normalize exited 74: stdout: File too large%'"' FROM analytics_etl_log WHERE batch_id = '"'$B'"'" | grep -qx t' \
    "disk full: recorded failed with the reason"
is "$(alerts_of "$B")" "run_failed " "disk full: run_failed alert"

# --- network faults from the simulator ---
# at offset 0, a fresh connection: libcurl retries by itself a request
# that a reused connection dropped, and nothing fails
for f in '0:reset' '0:truncate' '1000:hang=4'; do
	sim_control "{\"faults\": [\"$f\"], \"epoch\": 5}"
	OZON_EXTRACT_FLAGS="$FAST --cache off --timeout 2" pipe incremental-sync
	B=$(last_batch)
	is "$RC/$(q "SELECT status FROM analytics_etl_log WHERE batch_id = '$B'")" "0/completed" \
	    "network fault $f: retried, completed"
	ok '[ "$(q "SELECT api_requests_failed FROM analytics_etl_log WHERE batch_id = '"'$B'"'")" -ge 1 ]' \
	    "network fault $f: the failed request counted"
done
sim_control '{"faults": ["*:429:inf"], "epoch": 6}'
BEFORE=$(inv_snapshot)
OZON_EXTRACT_FLAGS="$FAST --cache refresh --retries 3" pipe full-sync
B=$(last_batch)
sim_control '{"faults": []}'
is "$RC" 75 "a 429 storm past the retry budget: exit 75"
is "$(inv_snapshot)" "$BEFORE" "429 storm: nothing loaded or zeroed"
is "$(q "SELECT status FROM analytics_etl_log WHERE batch_id = '$B'")" failed "429 storm: recorded failed"
ok 'echo "$(alerts_of "$B")" | grep -q run_failed' "429 storm: run_failed alert"
ok trail_ok "audit trail matches every run row, after every fault"

# --- secrets: nowhere in any output of the runs ---
etl-ctl dashboard -o "$T/dash.html" 2>/dev/null
pg_dump -a -t analytics_etl_log -t etl_alert -t inventory_audit >"$T/dump.sql" 2>/dev/null
ok '[ -s "$T/dump.sql" ] && [ -s "$T/dash.html" ]' "the outputs to search exist"
ok '! grep -rqF "$SIM_KEY" "$ETL_STATE_DIR" "$T/sink.log" "$T/dump.sql" "$T/dash.html" "$T/replay.err"' \
    "the Api-Key appears in no log, reject, spool, run row, alert or dashboard"
ok '! grep -rqF "$PW" "$ETL_STATE_DIR" "$T/sink.log" "$T/dump.sql" "$T/dash.html" "$T/replay.err"' \
    "the database password appears nowhere either"
ok '[ -z "$(find "$ETL_STATE_DIR/runs" -mindepth 1 -maxdepth 1 ! -perm 700)" ] && [ -z "$(find "$ETL_STATE_DIR/runs" -type f -perm /077)" ]' \
    "run folders 0700, their files private"
