# tests/lib.sh: TAP helpers for the shell tests.  Source it first; it
# makes $T, a private temp dir removed on exit, and sets LC_ALL.
#
#   plan N              say how many tests follow
#   ok COND NAME        pass when the command COND succeeds
#   is GOT WANT NAME    pass when the two strings are equal
#   check_same F1 F2 NAME   pass when the files are equal (diff shown)
#   run CMD...          run with stdin from $IN (or /dev/null); keeps
#                       $T/out, $T/err, $T/rej (fd 3) and $RC
#   summary KEY         a counter of the last "summary" event in $T/err

set -u
export LC_ALL=C.UTF-8
export ETL_LOG_FORMAT=json
unset ETL_BATCH_ID ETL_MAX_LINE_BYTES ETL_LOG_LEVEL
: "${BIN:?run the tests through make check}"
: "${TOP:?run the tests through make check}"
export ETL_MAPPING_FILE="$TOP/sql/warehouses.tsv"
PATH="$BIN:$PATH"
FIX="$TOP/tests/fixtures"

T=$(mktemp -d "${TMPDIR:-/tmp}/ozon-etl-test.XXXXXX")
trap 'rm -rf "$T"' EXIT INT TERM
IN=/dev/null
_n=0
_failed=0

plan() {
	echo "1..$1"
}

_result() {
	_n=$((_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $_n - $2"
	else
		echo "not ok $_n - $2"
		_failed=$((_failed + 1))
	fi
}

ok() {
	_cond=$1
	shift
	if eval "$_cond" >/dev/null 2>&1; then _result 0 "$*"; else
		_result 1 "$*"
		echo "#   failed: $_cond" >&2
	fi
}

is() {
	if [ "$1" = "$2" ]; then _result 0 "$3"; else
		_result 1 "$3"
		printf '#   got:  %s\n#   want: %s\n' "$1" "$2" >&2
	fi
}

check_same() {
	if cmp -s "$1" "$2"; then _result 0 "$3"; else
		_result 1 "$3"
		diff -u "$2" "$1" | head -n 30 | sed 's/^/#   /' >&2
	fi
}

run() {
	"$@" <"$IN" >"$T/out" 2>"$T/err" 3>"$T/rej"
	RC=$?
}

summary() {
	grep '"event":"summary"' "$T/err" | tail -n 1 |
	    jq -r --arg k "$1" '.[$k] // "absent"'
}
