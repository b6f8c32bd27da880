# shellcheck shell=bash disable=SC2094
# (SC2094: etl-audit reads the run log given with -l only once its stdin
# ends, while the stages append to that log before)
# Shared by the pipelines (full-sync, incremental-sync, health-check):
# sourced, not run.
#
# A run: a batch id, a private run folder, a lock against overlapping runs,
# the run's row recorded by etl-audit from start to end, every stage's exit
# status collected, silence on success and a short report on failure.

set -u
set -o pipefail

prog=${0##*/}

# The environment file (cron: ETL_ENV_FILE=/etc/ozon-etl/env); what it
# sets is exported to the tools.
if [ -n "${ETL_ENV_FILE:-}" ]; then
	set -a
	# shellcheck disable=SC1090
	. "$ETL_ENV_FILE" || { echo "$prog: $ETL_ENV_FILE: cannot read" >&2; exit 78; }
	set +a
fi
: "${ETL_STATE_DIR:=/var/lib/ozon-etl}"
# set but empty: no metrics file, no dashboard
: "${ETL_METRICS_FILE=$ETL_STATE_DIR/ozon_etl.prom}"
: "${ETL_DASHBOARD_FILE=$ETL_STATE_DIR/dashboard.html}"
: "${ETL_LOCK_WAIT:=0}"
[ -n "${ETL_BIN:-}" ] && PATH=$ETL_BIN:$PATH
# shellcheck disable=SC2034  # the pipelines pass it to ozon-extract
read -r -a extract_flags <<<"${OZON_EXTRACT_FLAGS:-}"
ETL_LOG_FORMAT=json		# the run log is read back by etl-audit
export ETL_STATE_DIR ETL_METRICS_FILE ETL_DASHBOARD_FILE ETL_LOG_FORMAT PATH

# Say one thing on stderr, as the tools do.
say() { echo "$prog: $*" >&2; }

# Keep a log that only grows to 10 MiB and one old copy.
rotate() {
	[ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -gt 10485760 ] &&
	    mv -f "$1" "$1.1"
	return 0
}

# One line per run event in the state folder's pipelines.log.
journal() {
	printf '{"ts":"%s","tool":"%s","batch_id":"%s","event":"%s"%s}\n' \
	    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$prog" "${ETL_BATCH_ID:-}" \
	    "$1" "${2:+,$2}" >>"$ETL_STATE_DIR/pipelines.log" 2>/dev/null
}

# run_begin TYPE: lock, batch id, run folder, the "running" row.
run_begin() {
	run_type=$1
	umask 077		# run folders and spools hold the seller's data
	mkdir -p "$ETL_STATE_DIR/runs" || { say "$ETL_STATE_DIR: cannot create"; exit 73; }
	exec 9>>"$ETL_STATE_DIR/run.lock" || { say "$ETL_STATE_DIR/run.lock: cannot open"; exit 73; }
	rotate "$ETL_STATE_DIR/pipelines.log"
	if ! flock -w "$ETL_LOCK_WAIT" 9; then
		# an overlap is routine: logged and reported, not alerted
		journal skipped '"reason":"another run holds the lock"'
		say "another run holds $ETL_STATE_DIR/run.lock; skipped (75)"
		exit 75
	fi
	ETL_BATCH_ID=$(cat /proc/sys/kernel/random/uuid) || exit 71
	export ETL_BATCH_ID
	run_dir=$ETL_STATE_DIR/runs/$ETL_BATCH_ID
	mkdir -m 700 "$run_dir" || { say "$run_dir: cannot create"; exit 73; }
	log=$run_dir/log
	rejects=$run_dir/rejects.ndjson
	: >"$log" && : >"$rejects" || exit 74
	journal started "\"run_type\":\"$run_type\""
	# the row exists from the start: a run that dies stays visible
	etl-audit --begin -t "$run_type" >/dev/null 2>>"$log" ||
	    say "warning: the run could not be recorded as started (see $log)"
	trap 'run_signal INT 130' INT
	trap 'run_signal TERM 143' TERM
	trap 'run_signal HUP 129' HUP
	job=
}

# run_job CMD: run a pipeline (a shell function) as a job of its own, so
# that a signal to the run reaches every stage; its stages' statuses are
# left in $run_dir/status.
run_job() {
	set -m
	"$@" &
	job=$!
	set +m
	wait "$job"
	job=
}

# The stages of a pipeline record their statuses with this.
save_status() { echo "$*" >"$run_dir/status"; }

# The status page, rewritten (atomically) after every run.
dashboard() {
	[ -z "$ETL_DASHBOARD_FILE" ] && return 0
	etl-ctl dashboard -o "$ETL_DASHBOARD_FILE" 2>>"${log:-/dev/null}" ||
	    say "warning: $ETL_DASHBOARD_FILE not rewritten"
}

run_signal() {
	trap '' INT TERM HUP
	[ -n "$job" ] && kill -TERM -- "-$job" 2>/dev/null && wait "$job" 2>/dev/null
	[ -n "${spool:-}" ] && rm -f "$spool"
	etl-audit -t "$run_type" -l "$log" -r "$rejects" --cancelled \
	    --no-cleanup </dev/null >"$run_dir/summary.json" 2>>"$log"
	journal cancelled "\"signal\":\"$1\""
	dashboard
	say "run $ETL_BATCH_ID cancelled by SIG$1; run folder: $run_dir"
	exit "$2"
}

# run_end NAMES... : report and exit with the first failing stage's status,
# reading the statuses from $run_dir/status (one per name, "-" not run).
run_end() {
	local names=("$@") codes=() i code=0 report=
	read -r -a codes <"$run_dir/status" || codes=()
	for i in "${!names[@]}"; do
		report="$report ${names[$i]}=${codes[$i]:--}"
		case ${codes[$i]:--} in
		0|-) ;;
		*) [ "$code" = 0 ] && code=${codes[$i]} ;;
		esac
	done
	journal finished "\"exit\":$code"
	dashboard
	if [ "$code" != 0 ]; then
		say "run $ETL_BATCH_ID failed:$(jq -r '" " + (.error // .status)' "$run_dir/summary.json" 2>/dev/null)"
		say "stages:$report"
		say "run folder: $run_dir (log, rejects.ndjson, summary.json)"
	fi
	exit "$code"
}
