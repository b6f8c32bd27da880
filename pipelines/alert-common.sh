# shellcheck shell=bash
# pipelines/alert-common.sh: the code the alert senders share.  Sourced by
# alert-slack, alert-telegram, alert-email and alert-webhook after they set
# USAGE, before they call alert_start "$@"; not run on its own.
#
# Reads ALERT_TIMEOUT (seconds for one HTTP request, default 20).
# Exit codes (sysexits): 0 sent, 64 usage, 65 bad alert on stdin,
# 69 sending failed, 78 configuration missing or bad.
#
# The alert is one JSON object on stdin with string "rule" and "message";
# "severity", "run_type", "batch_id", "host", "ts" and the object "figures"
# are shown when present.  Bodies are built by jq alone, from the alert file
# and --arg values, never by pasting strings into JSON or shell code.
# Secrets (webhook URLs, tokens, auth headers) reach curl through a config
# on its stdin, never its argv, and are cut out of every error message.

PROG=${0##*/}
ALERT_MAX_BYTES=1048576
ALERT_SECRETS=()

die() {
	local rc=$1
	shift
	printf '%s: %s\n' "$PROG" "$(redact "$*")" >&2
	exit "$rc"
}

# alert_start "$@": --help prints USAGE and exits 0, any other argument
# is 64; checks ALERT_TIMEOUT, makes the temporary directory.
alert_start() {
	if [ $# -eq 1 ] && [ "$1" = --help ]; then
		printf '%s\n' "$USAGE"
		exit 0
	elif [ $# -ne 0 ]; then
		printf '%s: unknown argument: %s\n%s\n' "$PROG" "$1" \
		    "${USAGE%%$'\n'*}" >&2
		exit 64
	fi
	ALERT_TIMEOUT=${ALERT_TIMEOUT:-20}
	[[ $ALERT_TIMEOUT =~ ^[0-9]+(\.[0-9]+)?$ && $ALERT_TIMEOUT =~ [1-9] ]] ||
	    die 78 "ALERT_TIMEOUT: not a positive number of seconds"
	ALERT_TMP=$(mktemp -d "${TMPDIR:-/tmp}/ozon-etl-alert.XXXXXX") ||
	    die 69 "cannot make a temporary directory"
	trap 'rm -rf "$ALERT_TMP"' EXIT
	trap 'exit 69' HUP INT PIPE TERM
}

# secret VALUE...: never show these in a message; longer ones first.
secret() {
	local s
	for s; do
		[ -n "$s" ] && ALERT_SECRETS+=("$s")
	done
	return 0
}

redact() {
	local msg=$1 s
	for s in "${ALERT_SECRETS[@]}"; do
		msg=${msg//"$s"/[redacted]}
	done
	printf '%s' "$msg"
}

# need NAME: the variable NAME must be set and non-empty, else 78.
need() {
	[ -n "${!1:-}" ] || die 78 "$1 is not set"
}

# no_ctl NAME: the variable NAME must not hold control characters, else 78.
no_ctl() {
	case ${!1} in
	*[[:cntrl:]]*) die 78 "$1 contains control characters" ;;
	esac
}

# check_url NAME: the variable NAME holds an http(s) URL; its whole value
# and its path (when 8 characters or more) are secrets.
check_url() {
	local path
	need "$1"
	secret "${!1}"
	no_ctl "$1"
	case ${!1} in
	http://?*/?* | https://?*/?*)
		path=${!1#*://*/}
		[ ${#path} -lt 8 ] || secret "$path"
		;;
	http://?* | https://?*) ;;
	*) die 78 "$1 is not an http:// or https:// URL" ;;
	esac
}

# alert_read: the alert from stdin, checked, compact, in $ALERT_FILE.
alert_read() {
	local err
	head -c $((ALERT_MAX_BYTES + 1)) >"$ALERT_TMP/in" ||
	    die 65 "stdin: read error"
	[ "$(wc -c <"$ALERT_TMP/in")" -le $ALERT_MAX_BYTES ] ||
	    die 65 "stdin: alert larger than 1 MiB"
	if ! err=$(jq -s -r 'if length != 1 then
		"expected one JSON object, got \(length) values"
	    elif (.[0] | type) != "object" then
		"expected a JSON object, got \(.[0] | type)"
	    elif (.[0].rule | type) != "string" then
		"rule: missing or not a string"
	    elif (.[0].message | type) != "string" then
		"message: missing or not a string"
	    else empty end' "$ALERT_TMP/in" 2>&1); then
		die 65 "stdin: not JSON: ${err%%$'\n'*}"
	fi
	[ -z "$err" ] || die 65 "stdin: $err"
	ALERT_FILE=$ALERT_TMP/alert.json
	jq -cj . "$ALERT_TMP/in" >"$ALERT_FILE" || die 65 "stdin: not JSON"
}

# jq definitions for the senders' programs: title (one line of at most 150
# characters; control characters and runs of spaces made one space) and
# text (severity, rule, message, run type, batch id, host, time, then each
# figure as "key: value"; CR dropped, other control characters but tab and
# newline made spaces).
# shellcheck disable=SC2016,SC2034
ALERT_JQ='
def oneline: .[:600] | explode
    | map(if . < 32 or (. >= 127 and . < 160) then 32 else . end)
    | reduce .[] as $c ([]; if $c == 32 and .[-1] == 32 then . else . + [$c] end)
    | implode | if endswith(" ") then .[:-1] else . end;
def tidy: explode | map(select(. != 13)
    | if (. < 32 and . != 9 and . != 10) or . == 127 then 32 else . end)
    | implode;
def title: ((.severity | if type == "string" then ascii_upcase
	else "ALERT" end) as $s
    | "[\($s)] ozon-etl \(.rule)"
    + (if .host != null then " on \(.host)" else "" end)
    + ": \(.message)")
    | oneline | if length > 150 then .[:149] + "…" else . end;
def text: [
	(if .severity != null then "severity: \(.severity)" else empty end),
	"rule: \(.rule)",
	"message: \(.message)",
	(if .run_type != null then "run type: \(.run_type)" else empty end),
	(if .batch_id != null then "batch id: \(.batch_id)" else empty end),
	(if .host != null then "host: \(.host)" else empty end),
	(if .ts != null then "time: \(.ts)" else empty end),
	(if (.figures | type) == "object"
	    then .figures | to_entries[] | "\(.key): \(.value)"
	    else empty end)
    ] | map(tidy) | join("\n");
'

# curl_quote VALUE: VALUE as a double-quoted curl config string.
curl_quote() {
	local v=${1//\\/\\\\}
	printf '"%s"' "${v//\"/\\\"}"
}

# post_json URL BODY_FILE [AUTH]: POST the JSON in BODY_FILE; AUTH is the
# value of an Authorization header.  Returns on a 2xx answer, else dies 69.
post_json() {
	local code rc=0 msg
	code=$({
		printf 'url = %s\n' "$(curl_quote "$1")"
		if [ -n "${3:-}" ]; then
			printf 'header = %s\n' "$(curl_quote "Authorization: $3")"
		fi
	} | curl -K - -sS --proto =http,https --max-time "$ALERT_TIMEOUT" \
	    -A ozon-etl-alert -H 'Content-Type: application/json' \
	    --data-binary "@$2" -o "$ALERT_TMP/resp" -w '%{http_code}' \
	    2>"$ALERT_TMP/curl.err") || rc=$?
	if [ "$rc" -ne 0 ]; then
		msg=$(head -n 1 "$ALERT_TMP/curl.err" | tr -d '\r')
		die 69 "${msg:-curl exited $rc}"
	fi
	case $code in
	2??) return 0 ;;
	esac
	msg=$(head -c 300 "$ALERT_TMP/resp" | tr -s '[:cntrl:]' ' ')
	die 69 "server answered HTTP $code${msg:+: $msg}"
}

