#!/bin/sh
# Figures for etl-validate and etl-normalize against the ceiling (a bare
# yajl parse-and-reformat, bench/yajl-ceiling.c) and against jq, on
# gen-stock data.  A report, not a test: it exits 0 when targets are
# missed and says MISS beside them.
#
#   make bench
#   BIN=build/bin BENCHBIN=build/bench sh bench/run.sh
#
# Environment: BIN, BENCHBIN (default: build/bin, build/bench of this
# tree), BENCH_RUNS (runs per figure, the best counts; 3), BENCH_SEED
# (20240601), BENCH_SIZES (rows per data set; "1000000 100000"),
# ETL_MAPPING_FILE (default: sql/warehouses.tsv of this tree).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$top/build/bin}
BENCHBIN=${BENCHBIN:-$top/build/bench}
runs=${BENCH_RUNS:-3}
seed=${BENCH_SEED:-20240601}
sizes=${BENCH_SIZES:-1000000 100000}

# targets
min_vs_ceiling=0.7
min_vs_jq=4
max_rss_kb=16384
rss_slack=1.25		# "about the same": the largest within 25% of the
rss_slack_kb=1024	# smallest, or within 1 MiB of it

jq_filter='select((.sku|type) == "number" and .sku > 0
	and .free_to_sell_amount >= 0 and .reserved_amount >= 0
	and .promised_amount >= 0 and (.warehouse_name|length) > 0)
	| . + {data_quality_score: 100, quality_flags: []}'

ETL_LOG_FORMAT=json
export ETL_LOG_FORMAT
if [ -z "${ETL_MAPPING_FILE:-}" ] && [ -r "$top/sql/warehouses.tsv" ]; then
	ETL_MAPPING_FILE=$top/sql/warehouses.tsv
	export ETL_MAPPING_FILE
fi

for f in "$BENCHBIN/gen-stock" "$BENCHBIN/yajl-ceiling"; do
	if [ ! -x "$f" ]; then
		echo "bench: $f: not built (make $f)" >&2
		exit 69
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ozon-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

case $(date +%N 2>/dev/null) in
[0-9]*)
	now_ns() { date +%s%N; }
	;;
*)
	echo "bench: date +%N is not supported: timing to the second" >&2
	now_ns() { echo "$(date +%s)000000000"; }
	;;
esac

timer=
if [ -x /usr/bin/time ] && /usr/bin/time -f %M -o "$tmp/probe" true \
    2>/dev/null && grep -q '^[0-9][0-9]*$' "$tmp/probe"; then
	timer=/usr/bin/time
fi
have_jq=
command -v jq >/dev/null 2>&1 && have_jq=1

# The peak RSS in KiB from the last "summary" log line of file $1, or n/a.
summary_rss() {
	v=$(grep '"event":"summary"' "$1" 2>/dev/null | tail -n 1 |
	    sed -n 's/.*"max_rss_kb":\([0-9][0-9]*\).*/\1/p')
	echo "${v:-n/a}"
}

# run_one INPUT CMD...: one timed run, stdout and fd 3 to /dev/null,
# stderr to $tmp/err; sets ns, st and (with /usr/bin/time) time_rss.
run_one() {
	inp=$1
	shift
	st=0
	time_rss=n/a
	t0=$(now_ns)
	if [ -n "$timer" ]; then
		"$timer" -f %M -o "$tmp/rss" "$@" <"$inp" >/dev/null \
		    3>/dev/null 2>"$tmp/err" || st=$?
	else
		"$@" <"$inp" >/dev/null 3>/dev/null 2>"$tmp/err" || st=$?
	fi
	t1=$(now_ns)
	ns=$((t1 - t0))
	if [ -n "$timer" ]; then
		# GNU time puts "Command exited with ..." first, %M last
		time_rss=$(tail -n 1 "$tmp/rss" | sed -n '/^[0-9][0-9]*$/p')
		time_rss=${time_rss:-n/a}
	fi
}

# measure SET TOOL INPUT RSS-FROM CMD...: the best of $runs runs, appended
# to $tmp/results as "set tool input rows bytes ns rss status".  RSS-FROM
# is "summary" (the tool's own log line) or "time" (/usr/bin/time).
measure() {
	set_=$1 tool=$2 input=$3 from=$4
	shift 4
	best='' peak=n/a last_st=0
	i=0
	while [ "$i" -lt "$runs" ]; do
		i=$((i + 1))
		run_one "$input" "$@"
		[ "$st" -ne 0 ] && last_st=$st
		if [ -z "$best" ] || [ "$ns" -lt "$best" ]; then
			best=$ns
		fi
		if [ "$from" = summary ]; then
			r=$(summary_rss "$tmp/err")
		else
			r=$time_rss
		fi
		case $r in
		n/a) ;;
		*) if [ "$peak" = n/a ] || [ "$r" -gt "$peak" ]; then
			peak=$r
		   fi ;;
		esac
	done
	if [ "$last_st" -ne 0 ]; then
		echo "bench: $tool <$(basename "$input"): exit $last_st:" \
		    "$(tail -n 1 "$tmp/err" | cut -c1-160)" >&2
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$set_" "$tool" \
	    "$(basename "$input")" "$(wc -l <"$input" | tr -d ' ')" \
	    "$(wc -c <"$input" | tr -d ' ')" "$best" "$peak" "$last_st" \
	    >>"$tmp/results"
}

# skip SET TOOL INPUT WHY: a row of n/a for a tool that cannot run.
skip() {
	echo "bench: $2: $4" >&2
	printf '%s\t%s\t%s\t%s\t%s\t-\tn/a\tskipped\n' "$1" "$2" \
	    "$(basename "$3")" "$(wc -l <"$3" | tr -d ' ')" \
	    "$(wc -c <"$3" | tr -d ' ')" >>"$tmp/results"
}

# bench_tool SET TOOL INPUT: an etl tool of $BIN on INPUT.
bench_tool() {
	if [ -x "$BIN/$2" ]; then
		measure "$1" "$2" "$3" summary "$BIN/$2"
	else
		skip "$1" "$2" "$3" "$BIN/$2: not built"
	fi
}

# bench_refs SET INPUT: the ceiling and jq on INPUT.
bench_refs() {
	measure "$1" yajl-ceiling "$2" time "$BENCHBIN/yajl-ceiling"
	if [ -n "$have_jq" ]; then
		measure "$1" "jq -c" "$2" time jq -c "$jq_filter"
	else
		skip "$1" "jq -c" "$2" "jq: not installed"
	fi
}

: >"$tmp/results"
for n in $sizes; do
	raw=$tmp/stock-$n.ndjson
	valid=$tmp/valid-$n.ndjson
	t0=$(now_ns)
	"$BENCHBIN/gen-stock" -s "$seed" "$n" >"$raw"
	t1=$(now_ns)
	echo "bench: gen-stock $n rows: $(((t1 - t0) / 1000000)) ms" >&2

	# etl-normalize's real input is etl-validate's output
	: >"$valid"
	if [ -x "$BIN/etl-validate" ]; then
		"$BIN/etl-validate" <"$raw" >"$valid" 3>/dev/null \
		    2>/dev/null || :
	fi

	bench_tool "$n" etl-validate "$raw"
	bench_refs "$n" "$raw"
	bench_tool "$n" etl-normalize "$valid"
	bench_refs "$n" "$valid"
done

awk -F '\t' -v runs="$runs" -v seed="$seed" -v timer="${timer:-none}" \
    -v min_c="$min_vs_ceiling" -v min_j="$min_vs_jq" \
    -v max_rss="$max_rss_kb" -v slack="$rss_slack" \
    -v slack_kb="$rss_slack_kb" '
function rate(x, s) { return s > 0 ? x / s : 0 }
function num(v, fmt) { return v == "" || v == 0 ? "n/a" : sprintf(fmt, v) }
function ratio(a, b, min,    r) {
	if (a == 0 || b == 0)
		return "n/a"
	r = a / b
	return sprintf("%.2fx %s", r, r >= min ? "ok" : "MISS")
}
function short(f) { sub(/\.ndjson$/, "", f); return f }
function why(st, rss, etl) {
	if (st == "skipped")
		return "not run"
	if (st != 0)
		return "exit " st
	if (etl && rss == "n/a")
		return "no summary log line: a stub? figures may mean nothing"
	return ""
}
{
	set = $1; tool = $2; input = $3
	k = set SUBSEP tool SUBSEP input
	rows[k] = $4; bytes[k] = $5; rss[k] = $7; st[k] = $8
	secs[k] = $6 == "-" ? 0 : $6 / 1e9
	rps[k] = $4 > 0 ? rate($4, secs[k]) : 0
	order[++nrec] = k
	if (!(set in seen)) { seen[set] = 1; sets[++nsets] = set }
}
END {
	printf "ozon-etl bench: gen-stock seed %s, best of %s runs, " \
	    "peak RSS of jq and yajl-ceiling by %s\n", seed, runs, timer
	printf "targets: rows/s >= %sx yajl-ceiling and >= %sx jq on the " \
	    "same input; peak RSS <= %d KiB, about the same for all sizes\n",
	    min_c, min_j, max_rss
	for (s = 1; s <= nsets; s++) {
		set = sets[s]
		printf "\n%s rows\n", set
		printf "%-18s %-13s %8s %7s %7s %9s %7s %8s  %-11s %-11s %s\n",
		    "tool", "input", "rows", "MB", "s", "rows/s", "MB/s",
		    "RSS KiB", "vs ceiling", "vs jq", "RSS"
		printf "%-18s %-13s %8s %7s %7s %9s %7s %8s  %-11s %-11s %s\n",
		    "", "", "", "", "", "", "", "", ">= " min_c "x",
		    ">= " min_j "x", "<= " max_rss
		notes = ""
		for (i = 1; i <= nrec; i++) {
			k = order[i]
			split(k, p, SUBSEP)
			if (p[1] != set)
				continue
			vc = vj = rs = ""
			if (p[2] ~ /^etl-/) {
				c = set SUBSEP "yajl-ceiling" SUBSEP p[3]
				j = set SUBSEP "jq -c" SUBSEP p[3]
				vc = ratio(rps[k], rps[c], min_c)
				vj = ratio(rps[k], rps[j], min_j)
				rs = rss[k] == "n/a" ? "n/a" : \
				    rss[k] + 0 <= max_rss ? "ok" : "MISS"
				peak[p[2], set] = rss[k]
				if (!(p[2] in known)) {
					known[p[2]] = 1
					tools[++ntools] = p[2]
				}
			}
			name = p[2]
			w = why(st[k], rss[k], p[2] ~ /^etl-/)
			if (w != "") {
				name = name "*"
				notes = notes "\n* " p[2] " <" p[3] ": " w
			}
			out = sprintf("%-18s %-13s %8d %7.1f %7s %9s %7s %8s" \
			    "  %-11s %-11s %s", name, short(p[3]), rows[k],
			    bytes[k] / 1e6, num(secs[k], "%.3f"),
			    num(rps[k], "%.0f"),
			    num(rate(bytes[k] / 1e6, secs[k]), "%.1f"),
			    rss[k], vc, vj, rs)
			sub(/ +$/, "", out)
			print out
		}
		if (notes != "")
			print substr(notes, 2)
	}
	if (nsets < 2)
		exit
	printf "\npeak RSS KiB across sizes (target: about the same, the " \
	    "largest <= %.2fx or <= %d KiB above the smallest)\n", slack,
	    slack_kb
	for (ti = 1; ti <= ntools; ti++) {
		t = tools[ti]
		lo = hi = ""; line = ""; na = 0
		for (s = 1; s <= nsets; s++) {
			v = peak[t, sets[s]]
			line = line sprintf(" %s:%s", sets[s], v)
			if (v == "n/a" || v == "") { na = 1; continue }
			if (lo == "" || v + 0 < lo) lo = v + 0
			if (hi == "" || v + 0 > hi) hi = v + 0
		}
		verdict = na ? "n/a" : \
		    hi <= lo * slack || hi - lo <= slack_kb ? "ok" : "MISS"
		printf "%-18s%s  %s\n", t, line, verdict
	}
}' "$tmp/results"
