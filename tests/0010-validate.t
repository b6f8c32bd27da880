#!/bin/sh
# etl-validate: options, counters, exit codes, the reject stream, stdout.
. "$TOP/tests/lib.sh"
plan 47

good='{"sku":1,"warehouse_name":"ХОРУГВИНО_РФЦ","item_code":"A-1","item_name":"Футболка","free_to_sell_amount":5,"promised_amount":0,"reserved_amount":1}'
bad='{"sku":2,"warehouse_name":"ХОРУГВИНО_РФЦ","item_code":"A-2","item_name":"Футболка","free_to_sell_amount":-5,"promised_amount":0,"reserved_amount":1}'

IN=$FIX/stock.ndjson
run etl-validate
is "$RC" 0 "fixture: exit 0"
is "$(wc -l <"$T/out")" 14 "fixture: every row passes"
is "$(summary in)/$(summary out)/$(summary rejected)" 14/14/0 \
    "fixture: summary in/out/rejected"
is "$(summary flagged)" 5 "fixture: five rows flagged"
is "$(summary flag_amount_anomaly)" 1 "fixture: one anomaly counted"
ok '[ "$(summary elapsed_ms)" -ge 0 ] && [ "$(summary max_rss_kb)" -gt 0 ]' \
    "summary has elapsed_ms and max_rss_kb"
is "$(summary exit)" 0 "summary carries the exit status"
is "$(jq -r .data_quality_score "$T/out" | tr '\n' ' ')" \
    "100 100 100 100 100 90 90 85 70 90 100 100 100 100 " \
    "fixture: scores"
is "$(sed -n 9p "$T/out" | jq -c .quality_flags)" '["amount_anomaly"]' \
    "2 500 000 is an anomaly"
is "$(sed -n 14p "$T/out" | jq -c .cluster_hint)" \
    '{"id":7,"tags":["dv","far"]}' "unknown nested field passed through"
ok '[ ! -s "$T/rej" ]' "fixture: no rejects"

printf '%s\n%s\n%s\n' "$good" "$bad" "$good" >"$T/in"
IN=$T/in
run etl-validate
is "$RC" 0 "one reject: still exit 0"
is "$(wc -l <"$T/out")" 2 "both good rows pass"
is "$(cat "$T/rej")" "{\"stage\":\"etl-validate\",\"line\":2,\"reason\":\"free_to_sell_amount: negative (-5)\",\"field\":\"free_to_sell_amount\",\"record\":$bad}" \
    "reject line exact"

run etl-validate --strict
is "$RC" 65 "--strict: a reject means 65"
is "$(wc -l <"$T/out")" 2 "--strict: good rows still written"
run etl-validate --max-rejects 1
is "$RC" 0 "--max-rejects 1: one reject is within"
run etl-validate --max-rejects 0
is "$RC" 65 "--max-rejects 0: one is past"
grep -q '"level":"error".*1 of 3 records rejected' "$T/err"
is "$?" 0 "past the limit: an error line says how many"
run etl-validate -m 34%
is "$RC" 0 "--max-rejects 34%: 1 of 3 is within"
run etl-validate -m 33%
is "$RC" 65 "--max-rejects 33%: 1 of 3 is past"
is "$(wc -l <"$T/out")" 2 "past the limit: nothing good withheld"

run etl-validate --max-rejects x
is "$RC" 64 "bad --max-rejects: usage error"
grep -q '^usage: etl-validate' "$T/err"
is "$?" 0 "usage line printed"
run etl-validate extra-operand
is "$RC" 64 "operand: usage error"
run etl-validate --no-such-option
is "$RC" 64 "unknown option: usage error"
ETL_MAX_LINE_BYTES=12 run etl-validate
is "$RC" 78 "bad ETL_MAX_LINE_BYTES: configuration error"

# no fd 3: rejects go to stderr, one line each
etl-validate <"$T/in" >"$T/out" 2>"$T/err"
is "$(grep -c '"stage":"etl-validate"' "$T/err")" 1 \
    "without fd 3 the reject goes to stderr"
# fd 3 open read-only is not a reject stream either
etl-validate <"$T/in" >"$T/out" 2>"$T/err" 3</dev/null
is "$(grep -c '"stage":"etl-validate"' "$T/err")" 1 \
    "read-only fd 3: the reject goes to stderr"

# --coerce
printf '%s\n' '{"sku":"00123","warehouse_name":"X","item_code":"a","item_name":"Кружка","free_to_sell_amount":"7","promised_amount":0,"reserved_amount":0}' >"$T/in"
run etl-validate
is "$(jq -r .reason "$T/rej")" \
    'sku: not an integer ("00123", a string: see --coerce)' \
    "a digit string is rejected without --coerce"
run etl-validate --coerce
is "$(cat "$T/out")" '{"sku":123,"warehouse_name":"X","item_code":"a","item_name":"Кружка","free_to_sell_amount":7,"promised_amount":0,"reserved_amount":0,"data_quality_score":95,"quality_flags":["coerced"]}' \
    "--coerce rewrites digit strings as numbers and flags them"

# thresholds
printf '%s\n' "$good" >"$T/in"
run etl-validate --anomaly-threshold 4
is "$(jq -c .quality_flags "$T/out")" '["amount_anomaly"]' \
    "--anomaly-threshold 4 flags 5"
run etl-validate --min-name-length 20
is "$(jq -c .quality_flags "$T/out")" '["short_item_name"]' \
    "--min-name-length 20 flags an 8-letter name"

# validated twice: the added fields are replaced, not repeated
etl-validate <"$T/in" 2>/dev/null | etl-validate >"$T/out" 2>/dev/null
is "$(jq -c 'keys|length' "$T/out")/$(grep -o data_quality_score "$T/out" | wc -l)" \
    "9/1" "idempotent: one score field after two passes"

# stdout closed by its reader: quiet, 0
i=0; while [ $i -lt 2000 ]; do echo "$good"; i=$((i + 1)); done >"$T/many"
etl-validate <"$T/many" 2>"$T/err" | head -n 1 >/dev/null
rc=$(cd "$T" && { etl-validate <many 2>err; echo $? >rc; } | head -n 1 >/dev/null; cat rc)
is "$rc" 0 "EPIPE: exit 0"
ok '! grep -q "\"level\":\"error\"" "$T/err"' "EPIPE: no error logged"
# any other write error is 74
etl-validate <"$T/many" >/dev/full 2>"$T/err"
is "$?" 74 "stdout on a full disk: 74"
grep -q '"msg":"stdout: No space left on device"' "$T/err"
is "$?" 0 "and says why"

# text logs for a terminal user
ETL_LOG_FORMAT=text etl-validate <"$T/in" >/dev/null 2>"$T/err"
ok 'grep -q "^etl-validate: summary: in=1 out=1 rejected=0" "$T/err"' \
    "ETL_LOG_FORMAT=text: human summary"
ETL_BATCH_ID=run-42 etl-validate <"$T/in" >/dev/null 2>"$T/err"
is "$(jq -r .batch_id "$T/err")" run-42 "ETL_BATCH_ID is in every log line"

# a reject that cannot be written stops the stream: 74
printf '%s\n%s\n%s\n' "$bad" "$good" "$bad" >"$T/in"
etl-validate <"$T/in" >"$T/out" 2>"$T/err" 3>/dev/full
is "$?" 74 "reject stream on a full disk: 74"
ok 'grep -q "reject stream: write failed" "$T/err"' "and says so"
# stdout closed: 0 even when the limit was passed before
{ cat "$T/many"; i=0; while [ $i -lt 50 ]; do echo "$bad"; i=$((i + 1)); done
  cat "$T/many"; } >"$T/mixed"
rc=$(cd "$T" && { etl-validate --strict <mixed 2>err 3>/dev/null; echo $? >rc; } |
    head -n 1 >/dev/null; cat rc)
is "$rc" 0 "EPIPE after rejects with --strict: still a quiet 0"
# the summary is written whatever the log level
ETL_LOG_LEVEL=error etl-validate <"$T/in" >/dev/null 2>"$T/err" 3>/dev/null
is "$(grep -c '"event":"summary"' "$T/err")" 1 \
    "ETL_LOG_LEVEL=error: the summary is still written"
ETL_LOG_LEVEL=loud etl-validate <"$T/in" >/dev/null 2>"$T/err" 3>/dev/null
ok 'grep -q "ETL_LOG_LEVEL=loud: not debug, info, warning or error" "$T/err"' \
    "an unknown log level is named"
run etl-validate --max-rejects 0x10
is "$RC" 64 "--max-rejects takes no hex"
etl-validate --bogus </dev/null 2>"$T/err"
ok 'grep -q "^etl-validate: unrecognized option" "$T/err"' \
    "getopt's message names the tool"
