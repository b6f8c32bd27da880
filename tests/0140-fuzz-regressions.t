#!/bin/sh
# The fuzz regressions (fuzz/regressions/<target>/): every input a fuzz
# target ever failed on, and the nasty cases kept beside them.  Replayed
# through the fuzz targets when make fuzz-build has built them (else
# skipped), and always through etl-validate and etl-normalize, which must
# judge each one, exit 0 or 65, within 10 seconds: no crash, no signal,
# no hang.  A mapping regression is also etl-normalize's mapping file,
# which it loads or refuses (78).
. "$TOP/tests/lib.sh"
R=$TOP/fuzz/regressions
FUZZ=${FUZZ_BUILD:-$TOP/build-fuzz}
LIMIT=10

targets=$(cd "$R" && ls)
set -- "$R"/*/*
nmap=$(ls "$R"/fuzz-mapping | wc -l)
plan $(($(echo $targets | wc -w) + 2 * $# + nmap))

skip() {
	_result 0 "# SKIP $*"
}

# a status a filter may end with on any input: it judged it
judged() {
	[ "$RC" -eq 0 ] || [ "$RC" -eq 65 ]
}

for t in $targets; do
	n=$(ls "$R/$t" | wc -l)
	if [ ! -x "$FUZZ/$t" ]; then
		skip "$t: no $FUZZ/$t (make fuzz-build)"
		continue
	fi
	# run-once mode: each file once; a crash or failed check is not 0
	timeout -k 5 300 "$FUZZ/$t" -timeout=$LIMIT -rss_limit_mb=2048 \
	    "$R/$t"/* >"$T/fuzz.out" 2>"$T/fuzz.err" 3>/dev/null
	RC=$?
	got=$(grep -c '^Executed ' "$T/fuzz.err")
	ok '[ "$RC" -eq 0 ] && [ "$got" -eq "$n" ]' \
	    "$t: the $n regressions replayed through the fuzz target" \
	    "(exit $RC, $got run)"
	[ "$RC" -eq 0 ] || tail -n 20 "$T/fuzz.err" | sed 's/^/#   /' >&2
done

for f; do
	name=${f#"$R"/}
	IN=$f
	run timeout -k 5 $LIMIT etl-validate
	ok judged "$name: etl-validate judges it (exit $RC)"
	run timeout -k 5 $LIMIT etl-normalize
	ok judged "$name: etl-normalize judges it (exit $RC)"
done

IN=$FIX/stock.ndjson
for f in "$R"/fuzz-mapping/*; do
	run timeout -k 5 $LIMIT etl-normalize -m "$f"
	ok '[ "$RC" -eq 0 ] || [ "$RC" -eq 65 ] || [ "$RC" -eq 78 ]' \
	    "${f#"$R"/} as the mapping: etl-normalize loads or refuses it" \
	    "(exit $RC)"
done
