#!/bin/sh
# The bad-input corpus: one file per class of input, each holding a good
# record beside the bad one.  For each: the exact stdout, the exact fd 3
# lines, the summary counters and the exit status.
. "$TOP/tests/lib.sh"
C=$TOP/tests/corpus/validate
set -- "$C"/*.in
plan $(($# * 4))

for f; do
	n=$(basename "$f" .in)
	args=$(cat "$C/$n.args" 2>/dev/null || true)
	want_rc=$(cat "$C/$n.exit" 2>/dev/null || echo 0)
	IN=$f
	# shellcheck disable=SC2086
	run etl-validate $args
	is "$RC" "$want_rc" "$n: exit status"
	check_same "$T/out" "$C/$n.out" "$n: stdout"
	check_same "$T/rej" "$C/$n.rej" "$n: fd 3"
	got=$(summary in) got="in=$got out=$(summary out) rejected=$(summary rejected)"
	b=$(summary blank)
	[ "$b" = absent ] || got="$got blank=$b"
	is "$got" "$(cat "$C/$n.sum")" "$n: summary counters"
done
