#!/bin/bash
# Bad input through every stage: the validate corpus (tests/corpus/validate,
# one class per file) and generated giants (a 10 MB line, 100k-deep
# nesting) through etl-validate | etl-normalize | etl-load, and straight
# into etl-normalize and etl-load.  No crash, no hang, every bad line
# rejected with its reason, no good record lost beside a bad one.
. "$TOP/tests/lib.sh"

C=$TOP/tests/corpus/validate
classes=$(ls "$C"/*.in | wc -l | tr -d ' ')
plan $((classes * 3 + 13))
pg_start || { cat "$T/pg.log" >&2; exit 1; }
ETL_SQL_DIR=$TOP/sql etl-ctl migrate >/dev/null || exit 1

# sumof FILE KEY: a counter of the last summary in a log
sumof() { jq -r "select(.event == \"summary\") | .$2" "$1" | tail -n 1; }
# no crash, no hang: an exit status a tool documents
sane() { [ "$1" = 0 ] || [ "$1" = 65 ]; }

for in in "$C"/*.in; do
	c=$(basename "$in" .in)
	args=$(cat "$C/$c.args" 2>/dev/null)
	# shellcheck disable=SC2086
	timeout 60 etl-validate $args <"$in" 2>/dev/null 3>/dev/null |
	    timeout 60 etl-normalize 2>"$T/n.err" 3>"$T/n.rej" |
	    timeout 60 etl-load --dry-run >/dev/null 2>"$T/l.err" 3>"$T/l.rej"
	st=("${PIPESTATUS[@]}")
	good=$(wc -l <"$C/$c.out" | tr -d ' ')
	is "${st[1]}/${st[2]}/$(sumof "$T/l.err" in)/$(sumof "$T/l.err" rejected)" \
	    "0/0/$good/0" "$c: validated records all reach etl-load ($good)"
	timeout 60 etl-normalize <"$in" >/dev/null 2>/dev/null 3>/dev/null
	rc=$?
	ok 'sane "$rc"' "$c: straight into etl-normalize: exit $rc"
	timeout 60 etl-load --dry-run <"$in" >/dev/null 2>/dev/null 3>/dev/null
	rc=$?
	ok 'sane "$rc"' "$c: straight into etl-load: exit $rc"
done

# --- giants, between good records ---
good='{"sku":1001,"warehouse_name":"ХОРУГВИНО_РФЦ","item_code":"A","item_name":"a","free_to_sell_amount":5,"promised_amount":0,"reserved_amount":1}'
good2='{"sku":1002,"warehouse_name":"Казань_РФЦ","item_code":"B","item_name":"b","free_to_sell_amount":7,"promised_amount":0,"reserved_amount":0}'
{
	echo "$good"
	# a 10 MB line: a record with a huge item_name
	printf '{"sku":1003,"warehouse_name":"ТВЕРЬ_РФЦ","item_name":"'
	head -c 10485760 /dev/zero | tr '\0' 'x'
	echo '","free_to_sell_amount":1,"promised_amount":0,"reserved_amount":0}'
	# 100k-deep arrays in a field, and 100k-deep objects as the line
	printf '{"sku":1004,"x":'
	head -c 100000 /dev/zero | tr '\0' '['
	head -c 100000 /dev/zero | tr '\0' ']'
	echo '}'
	for _ in $(seq 1 10000); do printf '{"a":'; done
	printf '1'
	for _ in $(seq 1 10000); do printf '}'; done
	echo
	head -c 100000 /dev/zero | tr '\0' '['
	echo
	printf '%s' "$good2"	# the last line, without its newline
} >"$T/giants"
is "$(wc -l <"$T/giants" | tr -d ' ')" 5 "the giants file: 6 lines, the last without a newline"
for stage in etl-validate etl-normalize; do
	timeout 120 $stage <"$T/giants" >"$T/g.out" 2>"$T/g.err" 3>"$T/g.rej"
	is "$?/$(wc -l <"$T/g.out" | tr -d ' ')/$(wc -l <"$T/g.rej" | tr -d ' ')" "0/2/4" \
	    "$stage: giants rejected, both good records out"
	ok '[ "$(jq -r .reason "$T/g.rej" | grep -c "line longer than 1048576 bytes (10485")" = 1 ] && [ "$(jq -r .reason "$T/g.rej" | grep -ci "deep")" -ge 1 ]' \
	    "$stage: the reasons say too long and too deep"
	ok '[ "$(sumof "$T/g.err" max_rss_kb)" -lt 65536 ]' \
	    "$stage: memory stays bounded ($(sumof "$T/g.err" max_rss_kb) KiB)"
done
ok '[ "$(jq -r "select(.reason | startswith(\"line longer\")) | .raw | length" "$T/g.rej")" -lt 2000 ]' \
    "the reject of the 10 MB line keeps a prefix of it, not all of it"
timeout 120 etl-validate <"$T/giants" 2>/dev/null 3>/dev/null |
    timeout 120 etl-normalize 2>/dev/null 3>/dev/null |
    timeout 120 etl-load >/dev/null 2>"$T/l.err" 3>"$T/l.rej"
is "${PIPESTATUS[*]}" "0 0 0" "giants through the pipeline: every stage exits 0"
is "$(q "SELECT string_agg(sku::text, ',' ORDER BY sku) FROM inventory")" "1001,1002" \
    "giants through the pipeline: both good records loaded, none lost"
timeout 120 etl-load --dry-run <"$T/giants" >/dev/null 2>"$T/l.err" 3>"$T/l.rej"
is "$?/$(sumof "$T/l.err" rejected)" "0/4" "giants straight into etl-load: 4 rejected, exit 0"
ETL_MAX_LINE_BYTES=20000000 timeout 120 etl-load --dry-run <"$T/giants" >/dev/null 2>"$T/l.err" 3>"$T/l.rej"
ok '[ "$?" = 0 ] && [ "$(sumof "$T/l.err" rejected)" = 3 ] && ! grep -q "line longer" "$T/l.rej"' \
    "etl-load honours ETL_MAX_LINE_BYTES: with 20 MB the 10 MB line is taken"
printf '\357\273\277%s\r\n\r\n   \n%s\n' "$good" "$good2" |
    etl-load --dry-run >/dev/null 2>"$T/l.err" 3>"$T/l.rej"
is "$?/$(sumof "$T/l.err" in)/$(sumof "$T/l.err" rejected)/$(sumof "$T/l.err" blank)" "0/2/0/2" \
    "etl-load: a BOM, CRLF and blank lines, as the filters take them"
