#!/bin/sh
# Memory: both filters over every corpus class, a 2 MiB line and the
# fixture, ozon-extract through faults from the simulator, etl-load into
# PostgreSQL, etl-audit finishing a run with alerts and metrics, and
# etl-ctl status, health, metrics, dashboard and mapping import, under
# valgrind memcheck (no errors, no definite leaks), or, in a SANITIZE=1
# build, under ASan, UBSan and LeakSanitizer.
. "$TOP/tests/lib.sh"
plan 15

{
	cat "$TOP"/tests/corpus/validate/*.in
	echo
	head -c 2097152 /dev/zero | tr '\0' 'x'
	echo
	cat "$FIX/stock.ndjson"
} >"$T/in"

if [ "${SANITIZE:-0}" = 1 ]; then
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=99
	check() { "$@"; }
	how="ASan+UBSan"
else
	check() {
		valgrind -q --error-exitcode=99 --leak-check=full \
		    --errors-for-leak-kinds=definite "$@"
	}
	how="valgrind"
fi

check etl-validate <"$T/in" >"$T/v.out" 2>"$T/v.err" 3>/dev/null
rc=$?
is "$rc" 0 "etl-validate under $how: exit 0"
ok '! grep -E "ERROR: |runtime error|definitely lost|Invalid (read|write)" "$T/v.err"' \
    "etl-validate under $how: clean"
check etl-normalize <"$T/v.out" >/dev/null 2>"$T/n.err" 3>/dev/null
rc=$?
is "$rc" 0 "etl-normalize under $how: exit 0"
ok '! grep -E "ERROR: |runtime error|definitely lost|Invalid (read|write)" "$T/n.err"' \
    "etl-normalize under $how: clean"

# a retried truncated answer, a malformed page, a page asked for early
sim_start --fault 1000:truncate --fault 0:malformed || exit 1
ETL_STATE_DIR=$T check ozon-extract --backoff-base 5 >/dev/null \
    2>"$T/x.err" 3>/dev/null
rc=$?
is "$rc" 0 "ozon-extract under $how: exit 0"
ok '! grep -E "ERROR: |runtime error|definitely lost|Invalid (read|write)" "$T/x.err"' \
    "ozon-extract under $how: clean"

# etl-load: rejects, an update and a full sync's zeroes, in PostgreSQL
pg_start || exit 1
ETL_SQL_DIR=$TOP/sql etl-ctl migrate >/dev/null 2>&1
etl-load --mode full <"$T/v.out" >/dev/null 2>/dev/null 3>/dev/null
head -n 20 "$T/v.out" | sed 's/"free_to_sell_amount":[0-9]*/"free_to_sell_amount":7/' |
    check etl-load --mode full --force >/dev/null 2>"$T/l.err" 3>/dev/null
rc=$?
is "$rc" 0 "etl-load under $how: exit 0"
ok '! grep -E "ERROR: |runtime error|definitely lost|Invalid (read|write)" "$T/l.err"' \
    "etl-load under $how: clean"

# etl-audit: change records, a run log, rejects; an alert and metrics
export ETL_BATCH_ID=memory-test-run
{ head -n 30 "$T/v.out"; echo 'not json'; } |
    sed 's/"free_to_sell_amount":[0-9]*/"free_to_sell_amount":3/' |
    etl-load >"$T/changes" 2>"$T/run.log" 3>"$T/rej"
ETL_ALERT_REJECT_SHARE=0 ETL_ALERT_CMD='cat >/dev/null' \
    ETL_METRICS_FILE=$T/m.prom ETL_STATE_DIR=$T \
    check etl-audit -t replay -l "$T/run.log" -r "$T/rej" <"$T/changes" \
    >"$T/a.out" 2>"$T/a.err"
rc=$?
is "$rc/$(jq -r '.status + " " + (.alerts | map(.rule) | join(","))' "$T/a.out")" \
    "0/partial_success reject_share,stale_data" \
    "etl-audit under $how: exit 0, the run judged"
ok '! grep -E "ERROR: |runtime error|definitely lost|Invalid (read|write)" "$T/a.err"' \
    "etl-audit under $how: clean"
unset ETL_BATCH_ID
ETL_STATE_DIR=$T check etl-ctl health >/dev/null 2>"$T/h.err"
rc=$?
ok '[ "$rc" -le 2 ] && ! grep -E "ERROR: |runtime error|definitely lost|Invalid (read|write)" "$T/h.err"' \
    "etl-ctl health under $how: clean (exit $rc)"
check etl-ctl status --json >"$T/s.out" 2>"$T/s.err"
rc=$?
ok '[ "$rc" = 0 ] && jq -e "length == 1" "$T/s.out" >/dev/null && ! grep -E "ERROR: |runtime error|definitely lost|Invalid (read|write)" "$T/s.err"' \
    "etl-ctl status under $how: clean"
check etl-ctl metrics >"$T/m.out" 2>"$T/m.err"
rc=$?
ok '[ "$rc" = 0 ] && grep -q "^ozon_etl_database_up 1" "$T/m.out" && ! grep -E "ERROR: |runtime error|definitely lost|Invalid (read|write)" "$T/m.err"' \
    "etl-ctl metrics under $how: clean"
check etl-ctl dashboard >"$T/d.out" 2>"$T/d.err"
rc=$?
ok '[ "$rc" = 0 ] && grep -q "id=\"chart-duration\"" "$T/d.out" && ! grep -E "ERROR: |runtime error|definitely lost|Invalid (read|write)" "$T/d.err"' \
    "etl-ctl dashboard under $how: clean"
printf 'A\tB\n' >"$T/map.tsv"
check etl-ctl mapping import "$T/map.tsv" >/dev/null 2>"$T/p.err"
rc=$?
ok '[ "$rc" = 0 ] && ! grep -E "ERROR: |runtime error|definitely lost|Invalid (read|write)" "$T/p.err"' \
    "etl-ctl mapping import under $how: clean"
if [ "$_failed" -ne 0 ]; then
	grep -hv '"event"' "$T/v.err" "$T/n.err" "$T/x.err" "$T/l.err" \
	    "$T/a.err" "$T/h.err" "$T/s.err" "$T/m.err" "$T/p.err" "$T/d.err" |
	    head -n 40 >&2
fi
