#!/bin/sh
# Figures for etl-load against a throwaway PostgreSQL: a million gen-stock
# rows (after etl-validate and etl-normalize) into an empty database, the
# same rows again, and again with a tenth of them changed; set against
# the same work done by psql (\copy and etl-load's own upsert statement)
# and by one upsert statement per row.  A report, not a test: it exits 0
# when targets are missed and says MISS beside them.
#
#   make bench
#   BIN=build/bin BENCHBIN=build/bench sh bench/load.sh
#
# Environment: BIN, BENCHBIN (default: build/bin, build/bench of this
# tree), BENCH_SEED (20240601), BENCH_ROWS (gen-stock rows; 1000000),
# BENCH_SMALL_ROWS (lines of the RSS comparison load; 100000),
# BENCH_NAIVE_ROWS (lines sent one statement each; 50000), BENCH_RUNS
# (runs of (a) and of the reference, the best counts; 3),
# BENCH_LOAD_MODE (etl-load --mode; incremental), ETL_MAPPING_FILE
# (default: sql/warehouses.tsv of this tree).
#
# (a) and the reference run BENCH_RUNS times each, in turn, each on a new
# database; (b), (c), (s) and the naive client once each.
# Before each timed run the database is VACUUM ANALYZEd and
# CHECKPOINTed, untimed, so that no autovacuum or checkpoint left over
# from the previous step lands in it.  The server is a stock initdb with
# fsync=off, on a Unix socket in a temp dir, removed at exit.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$top/build/bin}
BENCHBIN=${BENCHBIN:-$top/build/bench}
seed=${BENCH_SEED:-20240601}
nrows=${BENCH_ROWS:-1000000}
small_rows=${BENCH_SMALL_ROWS:-100000}
naive_rows=${BENCH_NAIVE_ROWS:-50000}
mode=${BENCH_LOAD_MODE:-incremental}
runs=${BENCH_RUNS:-3}

# targets
min_vs_ref=0.8		# (a) rows/s against the psql reference
min_vs_naive=10		# (a) rows/s against one statement per row
max_rerun=0.6		# (b) wall time against (a)
max_rss_kb=32768	# etl-load's peak RSS at both sizes

LC_ALL=C.UTF-8
ETL_LOG_FORMAT=json
ETL_SQL_DIR=$top/sql
export LC_ALL ETL_LOG_FORMAT ETL_SQL_DIR
unset ETL_BATCH_ID ETL_LOG_LEVEL ETL_MAX_LINE_BYTES PGOPTIONS
if [ -z "${ETL_MAPPING_FILE:-}" ] && [ -r "$top/sql/warehouses.tsv" ]; then
	ETL_MAPPING_FILE=$top/sql/warehouses.tsv
	export ETL_MAPPING_FILE
fi

for f in "$BENCHBIN/gen-stock" "$BIN/etl-validate" "$BIN/etl-normalize" \
    "$BIN/etl-load" "$BIN/etl-ctl"; do
	if [ ! -x "$f" ]; then
		echo "bench: $f: not built (make $f)" >&2
		exit 69
	fi
done
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
for f in "$PGBIN/initdb" "$PGBIN/pg_ctl"; do
	if [ ! -x "$f" ]; then
		echo "bench: PostgreSQL server not installed (make deps)" >&2
		exit 69
	fi
done
for c in psql jq; do
	if ! command -v "$c" >/dev/null 2>&1; then
		echo "bench: $c: not installed (make deps)" >&2
		exit 69
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ozon-bench-load.XXXXXX")
as=""
pg_up=""
cleanup() {
	if [ -n "$pg_up" ]; then
		$as "$PGBIN/pg_ctl" -D "$tmp/pg/data" -m immediate -w stop \
		    >>"$tmp/pg.log" 2>&1 || :
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
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

say() {
	printf 'bench: %s\n' "$*" >&2
}

# --- the server (tests/lib.sh's pg_start, without TAP) ---

pg_start() {
	mkdir -p "$tmp/pg"
	if [ "$(id -u)" -eq 0 ]; then
		# initdb refuses root: the cluster belongs to postgres
		chmod 711 "$tmp"
		chown postgres "$tmp/pg"
		as="runuser -u postgres --"
	fi
	$as "$PGBIN/initdb" -D "$tmp/pg/data" -A trust -U postgres -E UTF8 \
	    --locale=C.UTF-8 --no-sync >"$tmp/pg.log" 2>&1 || return 1
	$as "$PGBIN/pg_ctl" -D "$tmp/pg/data" -w -l "$tmp/pg/server.log" \
	    -o "-k $tmp/pg -c listen_addresses= -c fsync=off" start \
	    >>"$tmp/pg.log" 2>&1 || return 1
	pg_up=1
	PGHOST=$tmp/pg PGUSER=postgres PGDATABASE=postgres
	export PGHOST PGUSER PGDATABASE
}

# sql DB STATEMENT: run one statement, print its tuples unaligned.
sql() {
	PGOPTIONS="-c client_min_messages=warning" \
	    psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$1" -c "$2"
}

# settle DB: statistics and a clean start for the next timed run.
settle() {
	sql "$1" "VACUUM ANALYZE" >/dev/null
	sql "$1" "CHECKPOINT" >/dev/null
}

# fresh_db DB: an empty, migrated database DB.
fresh_db() {
	sql postgres "DROP DATABASE IF EXISTS $1" >/dev/null
	sql postgres "CREATE DATABASE $1" >/dev/null
	ETL_DATABASE_URL="host=$PGHOST user=postgres dbname=$1" \
	    "$BIN/etl-ctl" migrate >/dev/null 2>"$tmp/migrate.err" || {
		say "etl-ctl migrate: $(tail -n 1 "$tmp/migrate.err")"
		return 1
	}
	settle "$1"
}

drop_db() {
	sql postgres "DROP DATABASE IF EXISTS $1" >/dev/null
}

# digest DB: what a load leaves behind, to compare two loads.
digest() {
	sql "$1" "SELECT count(*) || ' ' || md5(string_agg(row(sku,
	    warehouse_name, original_warehouse_name, normalized_warehouse_name,
	    cluster_name, warehouse_code, product_code, product_name,
	    available, reserved, promised_amount, data_quality_score,
	    quality_flags, data_source)::text, E'\n'
	    ORDER BY sku, warehouse_name)) FROM inventory"
	sql "$1" "SELECT count(*), change_type FROM inventory_audit
	    GROUP BY 2 ORDER BY 2"
}

# --- etl-load's SQL, taken from its source ---

# c_string NAME: the string constant NAME of cmd/etl-load.c, joined.
c_string() {
	# through the preprocessor, so that the shared SQL macros are in it
	${CC:-cc} -E -P -D_GNU_SOURCE -I"$top/include" \
	    -I"$(pg_config --includedir 2>/dev/null || echo /usr/include/postgresql)" \
	    "$top/cmd/etl-load.c" 2>/dev/null |
	    perl -0777 -ne 'if (/static const char '"$1"'\[\] =(.*?")\s*;/s) {
		my ($b, $s) = ($1, "");
		$s .= $1 while $b =~ /"((?:[^"\\]|\\.)*)"/g;
		$s =~ s/\\(.)/$1/g;
		print $s;
	    }'
}

# bind BATCH: etl-load's parameters as literals ($1 batch, $2 source,
# $3 who).
bind() {
	sed -e "s/\\\$1/'$1'/g" -e "s/\\\$2/'api_sync'/g" \
	    -e "s/\\\$3/'bench'/g"
}

stage_sql=$(c_string stage_sql)
src_sql=$(c_string src_sql)
upsert_sql=$(c_string upsert_sql)
have_sql=1
case $stage_sql in *"CREATE TEMP TABLE stage"*) ;; *) have_sql="" ;; esac
case $src_sql in *"DISTINCT ON"*) ;; *) have_sql="" ;; esac
case $upsert_sql in "WITH "*"ON CONFLICT"*inventory_audit*) ;;
*) have_sql="" ;; esac
[ -n "$have_sql" ] || say "cmd/etl-load.c: its staging and upsert SQL" \
    "not found: no reference or naive figures"

# --- the data (untimed) ---

norm=$tmp/norm.ndjson
t0=$(now_ns)
"$BENCHBIN/gen-stock" -s "$seed" "$nrows" |
    "$BIN/etl-validate" 3>/dev/null 2>"$tmp/validate.err" |
    "$BIN/etl-normalize" 3>/dev/null 2>"$tmp/normalize.err" >"$norm"
lines=$(wc -l <"$norm" | tr -d ' ')
bytes=$(wc -c <"$norm" | tr -d ' ')
t1=$(now_ns)
say "gen-stock $nrows rows | etl-validate | etl-normalize: $lines lines," \
    "$(((t1 - t0) / 1000000)) ms"
if [ "$lines" -eq 0 ]; then
	say "no normalized rows: $(tail -n 1 "$tmp/validate.err")"
	exit 1
fi

# (c): every 10th line's free_to_sell_amount one more (one less at the
# top of its range)
awk 'NR % 10 == 0 && match($0, /"free_to_sell_amount":[0-9]+/) {
	v = substr($0, RSTART + 22, RLENGTH - 22) + 0
	v = v < 2147483647 ? v + 1 : v - 1
	$0 = substr($0, 1, RSTART - 1) "\"free_to_sell_amount\":" v \
	    substr($0, RSTART + RLENGTH)
}
{ print }' "$norm" >"$tmp/changed.ndjson"
head -n "$small_rows" "$norm" >"$tmp/small.ndjson"

# etl-load's staging columns from a normalized record, as etl-load fills
# them (stage_line in cmd/etl-load.c), except the line number
jq_stage='def s: if type == "string" then . else null end;
	[.sku, ((.normalized_warehouse_name | s) // .warehouse_name),
	 (.original_warehouse_name | s), (.normalized_warehouse_name | s),
	 (.cluster_name | s), (.warehouse_code | s), (.item_code | s),
	 (.item_name | s), .free_to_sell_amount, .reserved_amount,
	 .promised_amount, .data_quality_score,
	 (.quality_flags | if type == "array"
	  then "{" + (map(tojson) | join(",")) + "}" else null end),
	 (if (.normalization | type) == "object" and
	  .normalization.match == "auto" then "auto" else null end)]'

if [ -n "$have_sql" ]; then
	# the reference's COPY input: text format, the line number first,
	# NULL as \N (jq marks it \001 for the whole field, awk swaps it)
	t0=$(now_ns)
	jq -r "$jq_stage"' | map(if . == null then "\u0001" else . end)
	    | @tsv' "$norm" |
	    awk -F '\t' -v OFS='\t' '{
		for (i = 1; i <= NF; i++)
			if ($i == "\001")
				$i = "\\N"
		print NR, $0
	    }' >"$tmp/ref.copy"
	{
		printf '%s\n' "BEGIN;" "$stage_sql;" \
		    "\\copy stage FROM '$tmp/ref.copy'" "$src_sql;" \
		    "ANALYZE src;"
		printf '%s;\n' "$upsert_sql" | bind bench-ref
		printf '%s\n' "COMMIT;"
	} >"$tmp/ref.sql"

	# the naive client: etl-load's upsert, its audit CTE and its change
	# records, with a one-row "src" of literals, once per line, no
	# prepared statement, all in one transaction
	rest=$(printf '%s' "${upsert_sql#WITH }" | bind bench-naive)
	export rest
	head -n "$naive_rows" "$norm" >"$tmp/naive.ndjson"
	naive_lines=$(wc -l <"$tmp/naive.ndjson" | tr -d ' ')
	jq -r "$jq_stage"' | [
	    (.[0], .[1], .[2], .[3], .[4], .[5], .[6], .[7], .[8], .[9],
	     .[10], .[11], .[12])
	    | if . == null then "NULL"
	      else "'"'"'" + (tostring | gsub("'"'"'"; "'"''"'")) +
	       "'"'"'" end]
	    | "(" + .[0] + "::bigint, " + (.[1:8] | map(. + "::text")
	       | join(", ")) + ", " + (.[8:11] | map(. + "::integer")
	       | join(", ")) + ", " + .[11] + "::smallint, " + .[12] +
	       "::text[])"' "$tmp/naive.ndjson" |
	    awk '
	    BEGIN { print "BEGIN;" }
	    {
		print "WITH src (sku, warehouse_name, original_warehouse_name," \
		    " normalized_warehouse_name, cluster_name, warehouse_code," \
		    " product_code, product_name, available, reserved," \
		    " promised_amount, data_quality_score, quality_flags) AS" \
		    " (VALUES " $0 "), " ENVIRON["rest"] ";"
	    }
	    END { print "COMMIT;" }' >"$tmp/naive.sql"
	t1=$(now_ns)
	say "reference COPY input and naive SQL: $(((t1 - t0) / 1000000)) ms"
fi

# --- the runs ---

timer=
if [ -x /usr/bin/time ] && /usr/bin/time -f '%U %S' -o "$tmp/probe" true \
    2>/dev/null && grep -q '^[0-9.]* [0-9.]*$' "$tmp/probe"; then
	timer=/usr/bin/time
fi

# timed NAME CMD...: run CMD with stdout and fd 3 to /dev/null, stderr to
# $tmp/NAME.err; sets ns (wall, exec to exit), cpu (user + sys seconds of
# the process, or n/a) and st.
timed() {
	_name=$1
	shift
	st=0
	cpu=n/a
	t0=$(now_ns)
	if [ -n "$timer" ]; then
		"$timer" -f '%U %S' -o "$tmp/$_name.time" "$@" >/dev/null \
		    3>/dev/null 2>"$tmp/$_name.err" || st=$?
	else
		"$@" >/dev/null 3>/dev/null 2>"$tmp/$_name.err" || st=$?
	fi
	t1=$(now_ns)
	ns=$((t1 - t0))
	if [ -n "$timer" ]; then
		# GNU time puts "Command exited with ..." first
		cpu=$(tail -n 1 "$tmp/$_name.time" |
		    awk 'NF == 2 { printf "%.2f", $1 + $2 }')
		cpu=${cpu:-n/a}
	fi
}

# summary FILE KEY: a counter of the last summary line in FILE, or n/a.
summary() {
	v=$(grep '"event":"summary"' "$1" 2>/dev/null | tail -n 1 |
	    sed -n "s/.*\"$2\":\\([0-9][0-9]*\\).*/\\1/p")
	echo "${v:-n/a}"
}

# load NAME DB INPUT: one etl-load of INPUT into DB, appended to
# $tmp/results as "name lines ns cpu rss inserted updated zeroed
# unchanged db_ms status".  Timed: the etl-load process alone, from exec
# to exit; its stdout (the change records) goes to /dev/null.
load() {
	timed "$1" env "ETL_DATABASE_URL=host=$PGHOST user=postgres dbname=$2" \
	    "$BIN/etl-load" --mode "$mode" <"$3"
	e=$tmp/$1.err
	if [ "$st" -ne 0 ]; then
		say "etl-load <$(basename "$3"): exit $st:" \
		    "$(grep -v '"event":"summary"' "$e" | tail -n 1 |
		    cut -c1-200)"
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" \
	    "$(wc -l <"$3" | tr -d ' ')" "$ns" "$cpu" \
	    "$(summary "$e" max_rss_kb)" "$(summary "$e" inserted)" \
	    "$(summary "$e" updated)" "$(summary "$e" zeroed)" \
	    "$(summary "$e" unchanged)" "$(summary "$e" db_ms)" "$st" \
	    >>"$tmp/results"
}

# session NAME DB FILE LINES: one psql session running the script FILE,
# appended to $tmp/results.  Timed: the psql process alone, from exec to
# exit (connect, every statement of FILE, COMMIT); its output (the change
# records) goes to /dev/null.
session() {
	timed "$1" psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$2" -f "$3"
	if [ "$st" -ne 0 ]; then
		say "psql -f $(basename "$3"): exit $st:" \
		    "$(tail -n 1 "$tmp/$1.err" | cut -c1-200)"
	fi
	printf '%s\t%s\t%s\t%s\tn/a\tn/a\tn/a\tn/a\tn/a\tn/a\t%s\n' "$1" \
	    "$4" "$ns" "$cpu" "$st" >>"$tmp/results"
}

pg_start || {
	say "PostgreSQL did not start:"
	tail -n 5 "$tmp/pg.log" "$tmp/pg/server.log" 2>/dev/null >&2
	exit 1
}
pgver=$(sql postgres "SHOW server_version" | cut -d' ' -f1)
: >"$tmp/results"

# (a) and the reference, $runs times each, one after the other so that
# both see the same machine; the best of each counts.  The reference
# (only where etl-load's SQL was found) is timed as the psql session of
# $tmp/ref.sql: BEGIN, CREATE TEMP TABLE stage, \copy stage from the
# COPY text made above, CREATE TEMP TABLE src AS SELECT DISTINCT ON (the
# dedupe), ANALYZE src, the upsert with its audit CTE returning the change
# records (to /dev/null), COMMIT.  Not timed: making the COPY text from
# norm.ndjson (jq and awk, above).  It leaves out two statements etl-load
# runs, SELECT count(*) FROM src and the auto-detected names insert (a
# few hundred ms together).
same=n/a
i=0
while [ "$i" -lt "$runs" ]; do
	i=$((i + 1))
	fresh_db bench_load
	say "(a) etl-load, $lines lines into an empty database ($i/$runs)"
	load a bench_load "$norm"
	[ "$i" -eq 1 ] && digest bench_load >"$tmp/a.digest"
	settle bench_load
	[ -n "$have_sql" ] || continue
	fresh_db bench_ref
	say "reference: psql \\copy and etl-load's upsert ($i/$runs)"
	session ref bench_ref "$tmp/ref.sql" "$lines"
	if [ "$i" -eq 1 ]; then
		digest bench_ref >"$tmp/ref.digest"
		if cmp -s "$tmp/a.digest" "$tmp/ref.digest"; then
			same=yes
		else
			same=no
			say "reference and (a) differ:"
			diff "$tmp/a.digest" "$tmp/ref.digest" >&2 || :
		fi
	fi
	drop_db bench_ref
done

# (b) and (c) on the database of the last (a)
say "(b) etl-load, the same lines again"
load b bench_load "$norm"
settle bench_load
say "(c) etl-load, every 10th line changed"
load c bench_load "$tmp/changed.ndjson"
drop_db bench_load

# The naive client, one statement per line in one transaction.  With
# the default plan_cache_mode the foreign-key check of inventory_audit
# keeps the plan it got when inventory had one row (a sequential scan)
# for the whole session, and each statement gets slower as the table
# grows; forcing custom plans measures the steady per-row cost that the
# linear scaling below assumes, which is the naive client's best case.
if [ -n "$have_sql" ]; then
	fresh_db bench_naive
	say "naive: $naive_lines upsert statements, one per line"
	PGOPTIONS="-c plan_cache_mode=force_custom_plan"
	export PGOPTIONS
	session naive bench_naive "$tmp/naive.sql" "$naive_lines"
	unset PGOPTIONS
	drop_db bench_naive
fi

# the small load, for peak RSS against row count
fresh_db bench_small
say "(s) etl-load, $small_rows lines into an empty database"
load s bench_small "$tmp/small.ndjson"
drop_db bench_small

awk -F '\t' -v seed="$seed" -v nrows="$nrows" -v lines="$lines" \
    -v mb="$bytes" -v mode="$mode" -v pgver="$pgver" -v same="$same" \
    -v runs="$runs" -v timer="${timer:-none}" \
    -v min_ref="$min_vs_ref" -v min_naive="$min_vs_naive" \
    -v max_rerun="$max_rerun" -v max_rss="$max_rss_kb" '
function verdict(good) { return good ? "ok" : "MISS" }
function na(v) { return v == "" ? "n/a" : v }
{
	k = $1
	n[k]++
	all[k] = all[k] sprintf(" %.2f", $3 / 1e9) ($11 == 0 ? "" : "(exit " $11 ")")
	# the best run of a name counts; a failed run only when all failed
	if (k in have && (st[k] == 0 && ($11 != 0 || $3 / 1e9 >= secs[k])))
		next
	if (k in have && $11 != 0)
		next
	rows[k] = $2; secs[k] = $3 / 1e9; cpu[k] = $4; rss[k] = $5
	ins[k] = $6; upd[k] = $7; zer[k] = $8; unch[k] = $9
	dbs[k] = $10 == "n/a" ? "n/a" : sprintf("%.2f", $10 / 1000)
	st[k] = $11
	rps[k] = secs[k] > 0 && $11 == 0 ? rows[k] / secs[k] : 0
	have[k] = 1
}
function line(k, name) {
	if (!(k in have))
		return
	if (n[k] > 1)
		name = name " (best of " n[k] ")"
	out = sprintf("%-36s %7d %7.2f %7s %8s %7s %8s %8s %7s %7s %9s%s",
	    name, rows[k], secs[k], cpu[k],
	    rps[k] ? sprintf("%.0f", rps[k]) : "n/a", dbs[k], rss[k], ins[k],
	    upd[k], zer[k], unch[k], st[k] == 0 ? "" : "  exit " st[k])
	sub(/ +$/, "", out)
	print out
}
END {
	printf "ozon-etl load bench: gen-stock seed %s, %d rows -> %d " \
	    "normalized lines (%.0f MB); etl-load --mode %s\n", seed, nrows,
	    lines, mb / 1e6, mode
	printf "PostgreSQL %s, stock settings but fsync=off; wall: the " \
	    "etl-load or psql process, exec to exit; cpu: its user+sys " \
	    "(%s); db s: etl-load'"'"'s db_ms (BEGIN to COMMIT)\n", pgver,
	    timer
	printf "targets: (a) rows/s >= %sx reference and >= %sx naive; " \
	    "(b) wall <= %sx (a); peak RSS <= %d KiB at both sizes\n\n",
	    min_ref, min_naive, max_rerun, max_rss
	printf "%-36s %7s %7s %7s %8s %7s %8s %8s %7s %7s %9s\n", "run",
	    "lines", "wall s", "cpu s", "rows/s", "db s", "RSS KiB",
	    "inserted", "updated", "zeroed", "unchanged"
	line("a", "(a) etl-load, empty db")
	line("b", "(b) etl-load, same again")
	line("c", "(c) etl-load, 10% changed")
	line("s", "(s) etl-load, small, empty db")
	line("ref", "ref: psql \\copy + upsert")
	line("naive", "naive: upsert+audit per line")
	if ("naive" in have && rows["naive"] > 0 && rps["naive"]) {
		f = rows["a"] / rows["naive"]
		out = sprintf("%-36s %7d %7.2f %7s %8.0f", sprintf("naive " \
		    "scaled to (a), x%.2f", f), rows["a"], secs["naive"] * f,
		    "", rps["naive"])
		print out
	}
	if (n["a"] > 1 || n["ref"] > 1)
		printf "every run, wall s: (a)%s; ref%s\n", all["a"], all["ref"]
	print ""
	if (rps["a"] && rps["ref"]) {
		r = rps["a"] / rps["ref"]
		printf "(a) rows/s vs reference:      %6.2fx  (>= %sx)  %s\n",
		    r, min_ref, verdict(r >= min_ref)
	} else
		printf "(a) rows/s vs reference:         n/a\n"
	if (rps["a"] && rps["naive"]) {
		r = rps["a"] / rps["naive"]
		printf "(a) rows/s vs naive (scaled): %6.2fx  (>= %sx)  %s\n",
		    r, min_naive, verdict(r >= min_naive)
	} else
		printf "(a) rows/s vs naive (scaled):    n/a\n"
	if (st["a"] == 0 && st["b"] == 0 && secs["a"] > 0) {
		r = secs["b"] / secs["a"]
		printf "(b) wall vs (a):              %6.2fx  (<= %sx)  %s\n",
		    r, max_rerun, verdict(r <= max_rerun)
	} else
		printf "(b) wall vs (a):                 n/a\n"
	printf "(b) inserted/updated:         %s/%s  (0/0)  %s\n",
	    na(ins["b"]), na(upd["b"]),
	    verdict(ins["b"] == "0" && upd["b"] == "0")
	printf "peak RSS: %s KiB at %s lines, %s KiB at %s lines  " \
	    "(<= %d both)  %s\n", na(rss["s"]), na(rows["s"]), na(rss["a"]),
	    na(rows["a"]), max_rss, verdict(rss["s"] != "n/a" && \
	    rss["a"] != "n/a" && rss["s"] + 0 <= max_rss && \
	    rss["a"] + 0 <= max_rss)
	printf "reference leaves the same inventory and audit as (a): %s\n",
	    same
}' "$tmp/results"
