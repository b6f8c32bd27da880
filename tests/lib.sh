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
#   wait_file F [S]     wait up to S (5) seconds for file F to appear
#   sim_start ARGS      start tests/ozon-sim on a free port; exports the
#                       OZON_* variables for it; its log is $T/sim.log
#   sim_control JSON    change its faults or data set
#   redis_start         a throwaway redis-server; exports REDIS_URL
#   pg_start            a throwaway PostgreSQL cluster on a socket in $T;
#                       exports PG* and ETL_DATABASE_URL; pg_stop stops it
#                       (immediate mode), pg_restart starts it again
#   q SQL               run SQL with psql, unaligned, stop on error
#   inv_snapshot        a digest of inventory's stock, to compare
#   sink_start          tests/http-sink on a free port, log $T/sink.log;
#                       ETL_ALERT_CMD sends alerts to it (alert-webhook)
#   sink_alerts         the rules of the alerts it got, one per line

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
_pids=""
_stops=""
_cleanup() {
	for _p in $_pids; do kill "$_p" 2>/dev/null; done
	for _p in $_pids; do wait "$_p" 2>/dev/null; done
	[ -n "$_stops" ] && eval "$_stops" >/dev/null 2>&1
	rm -rf "$T"
}
trap _cleanup EXIT
trap 'exit 1' HUP INT PIPE TERM
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
	    jq -r --arg k "$1" 'if has($k) then .[$k] else "absent" end'
}

wait_file() {
	_i=0
	while [ ! -s "$1" ] && [ $_i -lt $((${2:-5} * 20)) ]; do
		sleep 0.05
		_i=$((_i + 1))
	done
	[ -s "$1" ]
}

sim_start() {
	rm -f "$T/sim.port"
	"$TOP/tests/ozon-sim" --port-file "$T/sim.port" --log "$T/sim.log" \
	    --api-key "$SIM_KEY" --client-id "$SIM_CLIENT" "$@" \
	    2>>"$T/sim.err" &
	_pids="$_pids $!"
	# a big data set takes a while: SIM_WAIT seconds
	wait_file "$T/sim.port" "${SIM_WAIT:-5}" ||
	    { echo "# simulator did not start" >&2; return 1; }
	SIM_URL=http://127.0.0.1:$(cat "$T/sim.port")
	export OZON_API_URL=$SIM_URL OZON_CLIENT_ID=$SIM_CLIENT \
	    OZON_API_KEY=$SIM_KEY OZON_RATE_LIMIT=0
}

sim_control() {
	curl -sS -o /dev/null -X POST -H 'Content-Type: application/json' \
	    --data "$1" "$SIM_URL/__sim/control"
}

redis_start() {
	redis-server --port 0 --unixsocket "$T/redis.sock" --save '' \
	    --appendonly no --daemonize no >"$T/redis.log" 2>&1 &
	_pids="$_pids $!"
	REDIS_PID=$!
	_i=0
	while [ ! -S "$T/redis.sock" ] && [ $_i -lt 100 ]; do
		sleep 0.05
		_i=$((_i + 1))
	done
	export REDIS_URL=unix://$T/redis.sock
}

# a key that must never show up anywhere
SIM_KEY=sk-test-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
SIM_CLIENT=424242

pg_start() {
	PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	mkdir -p "$T/pg"
	_as=""
	if [ "$(id -u)" -eq 0 ]; then
		# initdb refuses root: the cluster belongs to postgres
		chmod 711 "$T"
		chown postgres "$T/pg"
		_as="runuser -u postgres --"
	fi
	$_as "$PGBIN/initdb" -D "$T/pg/data" -A trust -U postgres -E UTF8 \
	    --locale=C.UTF-8 --no-sync >"$T/pg.log" 2>&1 || return 1
	pg_restart || return 1
	_stops="$_stops $_as $PGBIN/pg_ctl -D $T/pg/data -m immediate stop;"
	export PGHOST="$T/pg" PGUSER=postgres PGDATABASE=postgres
	export ETL_DATABASE_URL="host=$T/pg user=postgres dbname=postgres"
}

pg_restart() {
	$_as "$PGBIN/pg_ctl" -D "$T/pg/data" -w -l "$T/pg/server.log" \
	    -o "-k $T/pg -c listen_addresses= -c fsync=off" start \
	    >>"$T/pg.log" 2>&1
}

pg_stop() {
	$_as "$PGBIN/pg_ctl" -D "$T/pg/data" -m immediate -w stop \
	    >>"$T/pg.log" 2>&1
}

q() {
	psql -XAt -v ON_ERROR_STOP=1 -c "$1"
}

inv_snapshot() {
	q "SELECT md5(string_agg(concat_ws('|', sku, warehouse_name, available, reserved, promised_amount), ',' ORDER BY sku, warehouse_name)) FROM inventory"
}

sink_start() {
	"$TOP/tests/http-sink" --port 0 --port-file "$T/sink.port" \
	    --log "$T/sink.log" 2>"$T/sink.err" &
	_pids="$_pids $!"
	wait_file "$T/sink.port" || { echo "# http-sink did not start" >&2; return 1; }
	: >"$T/sink.log"
	export ETL_ALERT_CMD=$TOP/pipelines/alert-webhook
	export ALERT_WEBHOOK_URL=http://127.0.0.1:$(cat "$T/sink.port")/hook
}

sink_alerts() {
	jq -r '.body | fromjson | .rule' "$T/sink.log"
}
