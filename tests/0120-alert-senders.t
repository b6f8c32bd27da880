#!/bin/bash
# pipelines/alert-{slack,telegram,webhook,email}: what arrives at a local
# HTTP sink (tests/http-sink) or a fake sendmail, injection, failures and
# exit codes, secrets kept out of stderr and of the process list.
# shellcheck disable=SC2016,SC2034 # ok's conditions are eval'ed by ok
. "$TOP/tests/lib.sh"
plan 99

P=$TOP/pipelines
unset SLACK_WEBHOOK_URL TELEGRAM_BOT_TOKEN TELEGRAM_CHAT_ID TELEGRAM_API_URL \
    ALERT_WEBHOOK_URL ALERT_WEBHOOK_AUTH ALERT_EMAIL_TO ALERT_EMAIL_FROM \
    SENDMAIL ALERT_TIMEOUT http_proxy HTTP_PROXY https_proxy HTTPS_PROXY \
    all_proxy ALL_PROXY

# ---- the sink, the fake sendmail, helpers
rm -f "$T/sink.port"
"$TOP/tests/http-sink" --port 0 --port-file "$T/sink.port" \
    --log "$T/sink.log" 2>>"$T/sink.err" &
_pids="$_pids $!"
wait_file "$T/sink.port" || { echo "Bail out! http-sink did not start"; exit 1; }
SINK=http://127.0.0.1:$(cat "$T/sink.port")
CLOSED=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

sink_control() {
	curl -sS -o /dev/null -d "$1" "$SINK/__sink/control"
}

cat >"$T/sendmail" <<EOF
#!/bin/sh
printf '%s\n' "\$@" >"$T/mail.argv"
cat >"$T/mail"
exit \$(cat "$T/sendmail.rc" 2>/dev/null || echo 0)
EOF
chmod +x "$T/sendmail"

SLACK_URL=$SINK/services/T0SECRET/B0SECRET/xoxsecretXYZ
TOKEN=123456789:AAsecretTOKEN_xyz-42
WH_URL="$SINK/hook?key=whurlsecret"
WH_AUTH="Bearer whsecret-123"
SECRETS="-e T0SECRET -e xoxsecretXYZ -e AAsecretTOKEN -e whurlsecret -e whsecret-123"
S_SLACK=("SLACK_WEBHOOK_URL=$SLACK_URL")
S_TG=("TELEGRAM_BOT_TOKEN=$TOKEN" TELEGRAM_CHAT_ID=-1001234567890
    "TELEGRAM_API_URL=$SINK")
S_WH=("ALERT_WEBHOOK_URL=$WH_URL" "ALERT_WEBHOOK_AUTH=$WH_AUTH")
S_MAIL=("ALERT_EMAIL_TO=ops@example.com,oncall@example.com"
    "SENDMAIL=$T/sendmail")

# vars SENDER: the working configuration of alert-SENDER in V.
vars() {
	case $1 in
	slack) V=("${S_SLACK[@]}") ;;
	telegram) V=("${S_TG[@]}") ;;
	webhook) V=("${S_WH[@]}") ;;
	email) V=("${S_MAIL[@]}") ;;
	esac
}

# send SENDER FILE [VAR=VALUE...]: run pipelines/SENDER with FILE on stdin
# and the variables exported; the sink log and the mail start empty.
# Sets RC, keeps $T/out and $T/err.
send() {
	_s=$1
	_f=$2
	shift 2
	: >"$T/sink.log"
	rm -f "$T/mail" "$T/mail.argv"
	(
		for _a; do export "${_a?}"; done
		exec "$P/$_s"
	) <"$_f" >"$T/out" 2>"$T/err"
	RC=$?
}

# sent JQ [JQ OPTIONS]: JQ applied to the body of the one logged request.
sent() {
	_q=$1
	shift
	jq -r "$@" ".body | fromjson | $_q" "$T/sink.log"
}

# header NAME: the value of a header of the one logged request.
header() {
	jq -r --arg h "$1" '.headers[$h] // "absent"' "$T/sink.log"
}

mail_headers() {
	sed '/^$/q' "$T/mail" | sed '$d'
}

# mail_names: the names of the header fields, on one line.
mail_names() {
	mail_headers | grep -v '^[[:space:]]' | cut -d: -f1 | paste -sd' '
}

mail_header() {
	mail_headers | sed -n "s/^$1: //p"
}

cat >"$T/normal.json" <<'EOF'
{"rule":"run_failed","severity":"critical","message":"full_sync failed: ozon-extract exited 69: Ozon unavailable after 5 attempts","batch_id":"2f1c6b9e-2a4d-4c51-9a0e-7d3b1f0c5e21","run_type":"full_sync","host":"etl1","ts":"2026-11-30T06:00:01Z","figures":{"records_extracted":1200,"records_failed":3}}
EOF
TITLE="[CRITICAL] ozon-etl run_failed on etl1: full_sync failed: ozon-extract exited 69: Ozon unavailable after 5 attempts"
cat >"$T/normal.txt" <<'EOF'
severity: critical
rule: run_failed
message: full_sync failed: ozon-extract exited 69: Ozon unavailable after 5 attempts
run type: full_sync
batch id: 2f1c6b9e-2a4d-4c51-9a0e-7d3b1f0c5e21
host: etl1
time: 2026-11-30T06:00:01Z
records_extracted: 1200
records_failed: 3
EOF
cat >"$T/health.json" <<'EOF'
{"rule":"stale_data","severity":"warning","message":"data is 3h12m old (SLA 3h)","batch_id":null,"run_type":null,"host":"etl1","ts":"2026-11-30T09:12:00Z","figures":{}}
EOF

MSG="quote \" backslash \\ subst \$(touch $T/pwned) tick \`touch $T/pwned3\` '; touch $T/pwned2; ' <script>alert(1)</script> & &lt; %s %n \\n
вторая строка: Склад ХОРУГВИНО_РФЦ недоступен 🚨📦
	tab first"
jq -n -c --arg m "$MSG" '{rule: "api_failure_share", severity: "warning",
    message: $m, batch_id: "b-1", run_type: "incremental", host: "etl1",
    ts: "2026-11-30T08:00:00Z", figures: {api_failures: 7, note: $m}}' \
    >"$T/inject.json"
pwned() {
	[ -e "$T/pwned" ] || [ -e "$T/pwned2" ] || [ -e "$T/pwned3" ]
}

# ---- Slack
send alert-slack "$T/normal.json" "${S_SLACK[@]}"
is "$RC/$(cat "$T/out" "$T/err")" "0/" "slack: sent, exit 0, silent"
is "$(jq -r '"\(.method) \(.path) \(.headers["content-type"])"' "$T/sink.log")" \
    "POST /services/T0SECRET/B0SECRET/xoxsecretXYZ application/json" \
    "slack: POST to the webhook URL, JSON"
is "$(sent 'keys | join(",")')" text "slack: the body is {\"text\": ...}"
{ printf '*%s*\n' "$TITLE"; cat "$T/normal.txt"; } >"$T/want"
sent '.text' >"$T/got"
check_same "$T/got" "$T/want" "slack: text is *title* and the fields, figures last"

send alert-slack "$T/inject.json" "${S_SLACK[@]}"
is "$RC" 0 "slack: injection alert sent"
esc=$(printf '%s' "$MSG" | sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g')
ok 'sent "(.text | index(\$m) != null)" --arg m "message: $esc" | grep -qx true' \
    "slack: the message arrives whole, & < > escaped"
is "$(sent '.text | [test("[<>]"), test("&(?!(amp|lt|gt);)")]' | jq -c .)" \
    "[false,false]" "slack: no bare < > & left"
ok '! pwned' "slack: nothing in the message was run"

# ---- Telegram
send alert-telegram "$T/normal.json" "${S_TG[@]}"
is "$RC/$(cat "$T/out" "$T/err")" "0/" "telegram: sent, exit 0, silent"
is "$(jq -r '"\(.method) \(.path) \(.headers["content-type"])"' "$T/sink.log")" \
    "POST /bot$TOKEN/sendMessage application/json" \
    "telegram: POST /bot<token>/sendMessage, JSON"
is "$(sent '[.chat_id, .disable_web_page_preview, has("parse_mode"), length]' | jq -c .)" \
    "[-1001234567890,true,false,3]" \
    "telegram: chat_id a number, no link preview, no parse_mode"
{ printf '%s\n\n' "$TITLE"; cat "$T/normal.txt"; } >"$T/want"
sent '.text' >"$T/got"
check_same "$T/got" "$T/want" "telegram: text is the title and the fields"

send alert-telegram "$T/health.json" "${S_TG[@]}" TELEGRAM_CHAT_ID=@ozon_alerts
printf '%s\n\n%s\n' "[WARNING] ozon-etl stale_data on etl1: data is 3h12m old (SLA 3h)" \
    "severity: warning
rule: stale_data
message: data is 3h12m old (SLA 3h)
host: etl1
time: 2026-11-30T09:12:00Z" >"$T/want"
sent '.text' >"$T/got"
check_same "$T/got" "$T/want" "telegram: null batch id and run type, no figures: no lines"
is "$RC/$(sent .chat_id)" "0/@ozon_alerts" "telegram: an @channel chat_id stays a string"

send alert-telegram "$T/inject.json" "${S_TG[@]}"
is "$RC" 0 "telegram: injection alert sent"
ok 'sent "(.text | index(\$m) != null)" --arg m "message: $MSG" | grep -qx true' \
    "telegram: the message arrives byte for byte"
ok '! pwned' "telegram: nothing in the message was run"

jq -n -c '{rule: "long", severity: "info", message: ("🚨" * 1500 + "Ж" * 3000)}' >"$T/long.json"
send alert-telegram "$T/long.json" "${S_TG[@]}"
sent '.text' | python3 -c 'import sys; s = sys.stdin.read()[:-1]; print(len(s.encode("utf-16-le")) // 2, "\ufffd" in s, s.startswith("[INFO] ozon-etl long: 🚨🚨"), s.endswith("Ж\n…[truncated]"))' >"$T/got"
read -r units bad start end <"$T/got"
ok '[ "$RC" -eq 0 ] && [ "$units" -le 4096 ] && [ "$units" -gt 4050 ]' \
    "telegram: a long text cut to 4096 UTF-16 units or fewer ($units)"
is "$bad/$start/$end" "False/True/True" \
    "telegram: cut between characters, marked [truncated]"

# ---- generic webhook
send alert-webhook "$T/normal.json" "${S_WH[@]}"
is "$RC/$(cat "$T/out" "$T/err")" "0/" "webhook: sent, exit 0, silent"
is "$(jq -r '"\(.method) \(.path) \(.headers["content-type"])"' "$T/sink.log")" \
    "POST /hook?key=whurlsecret application/json" "webhook: POST to the URL, JSON"
is "$(header authorization)" "$WH_AUTH" "webhook: Authorization from ALERT_WEBHOOK_AUTH"
ok 'jq -S . "$T/normal.json" >"$T/want" && jq -r .body "$T/sink.log" | jq -S . | cmp -s - "$T/want"' \
    "webhook: the body is the alert"
jq -j .body "$T/sink.log" >"$T/got"
jq -cj . "$T/normal.json" >"$T/want"
check_same "$T/got" "$T/want" "webhook: compact, no newline at the end"
send alert-webhook "$T/health.json" "ALERT_WEBHOOK_URL=$WH_URL"
is "$RC/$(header authorization)" "0/absent" "webhook: no ALERT_WEBHOOK_AUTH, no Authorization"
ok 'jq -S . "$T/health.json" >"$T/want" && jq -r .body "$T/sink.log" | jq -S . | cmp -s - "$T/want"' \
    "webhook: nulls and an empty figures object kept"
send alert-webhook "$T/inject.json" "${S_WH[@]}"
ok '[ "$RC" -eq 0 ] && jq -S . "$T/inject.json" >"$T/want" && jq -r .body "$T/sink.log" | jq -S . | cmp -s - "$T/want"' \
    "webhook: injection alert arrives byte for byte"
ok '! pwned' "webhook: nothing in the message was run"

# Secrets never on a command line: look at every process while the sink
# holds the request (3 s).
sink_control '{"delay":3}'
: >"$T/sink.log"
(
	export ALERT_WEBHOOK_URL="$WH_URL" ALERT_WEBHOOK_AUTH="$WH_AUTH"
	exec "$P/alert-webhook" <"$T/normal.json" >/dev/null 2>"$T/bg.err"
) &
bg=$!
wait_file "$T/sink.log"
python3 -c 'import glob
for f in glob.glob("/proc/[0-9]*/cmdline"):
    try:
        print(open(f, "rb").read().replace(b"\0", b" ").decode(errors="replace"))
    except OSError:
        pass' >"$T/ps"
wait "$bg"
bgrc=$?
sink_control '{"delay":0}'
ok 'grep -q "^curl -K - " "$T/ps"' "process list: curl seen while sending"
ok '! grep -q $SECRETS "$T/ps"' "process list: no URL secret, no Authorization value"
is "$bgrc" 0 "process list: and the alert was sent"

# ---- failures: HTTP 500, a closed port, a timeout
sink_control '{"status":500}'
for s in slack telegram webhook; do
	vars "$s"
	send "alert-$s" "$T/normal.json" "${V[@]}"
	is "$RC/$(wc -l <"$T/err")/$(grep -c "^alert-$s: .*HTTP 500" "$T/err")" "69/1/1" \
	    "$s: HTTP 500: exit 69, one line on stderr"
	ok '! grep -q $SECRETS "$T/err"' "$s: HTTP 500: no secret on stderr"
done
sink_control '{"status":200}'
for s in slack telegram webhook; do
	vars "$s"
	case $s in
	slack) V+=("SLACK_WEBHOOK_URL=${SLACK_URL/$SINK/http://127.0.0.1:$CLOSED}") ;;
	telegram) V+=("TELEGRAM_API_URL=http://127.0.0.1:$CLOSED") ;;
	webhook) V+=("ALERT_WEBHOOK_URL=${WH_URL/$SINK/http://127.0.0.1:$CLOSED}") ;;
	esac
	send "alert-$s" "$T/normal.json" "${V[@]}"
	is "$RC/$(grep -c "^alert-$s: " "$T/err")" "69/1" "$s: closed port: exit 69"
	ok '! grep -q $SECRETS "$T/err"' "$s: closed port: no secret on stderr"
done
sink_control '{"delay":5}'
t0=$(date +%s%N)
send alert-webhook "$T/normal.json" "${S_WH[@]}" ALERT_TIMEOUT=1
ms=$((($(date +%s%N) - t0) / 1000000))
sink_control '{"delay":0}'
ok '[ "$RC" -eq 69 ] && [ "$ms" -lt 4000 ]' \
    "ALERT_TIMEOUT=1, an answer after 5 s: gives up, exit 69 ($ms ms)"
ok '! grep -q $SECRETS "$T/err"' "timeout: no secret on stderr"

# ---- configuration: 78, nothing sent
# cfg NAME SENDER VARS...: exit 78, a line naming the variable, no request.
cfg() {
	_name=$1
	_s=$2
	_var=$3
	shift 3
	send "$_s" "$T/normal.json" "$@"
	is "$RC/$(grep -c "^$_s: $_var" "$T/err")/$(wc -c <"$T/sink.log")$([ -e "$T/mail" ] && echo mailed)" \
	    "78/1/0" "$_name: exit 78, says $_var, sends nothing"
}
cfg "slack: no URL" alert-slack SLACK_WEBHOOK_URL
cfg "slack: not http(s)" alert-slack SLACK_WEBHOOK_URL SLACK_WEBHOOK_URL=file:///etc/passwd
cfg "slack: newline in the URL" alert-slack SLACK_WEBHOOK_URL "SLACK_WEBHOOK_URL=$SLACK_URL
output = $T/pwned"
cfg "telegram: no token" alert-telegram TELEGRAM_BOT_TOKEN TELEGRAM_CHAT_ID=1 "TELEGRAM_API_URL=$SINK"
cfg "telegram: a token with a path" alert-telegram TELEGRAM_BOT_TOKEN "TELEGRAM_BOT_TOKEN=1:a/../x" TELEGRAM_CHAT_ID=1 "TELEGRAM_API_URL=$SINK"
cfg "telegram: no chat" alert-telegram TELEGRAM_CHAT_ID "TELEGRAM_BOT_TOKEN=$TOKEN" "TELEGRAM_API_URL=$SINK"
cfg "webhook: no URL" alert-webhook ALERT_WEBHOOK_URL "ALERT_WEBHOOK_AUTH=$WH_AUTH"
cfg "webhook: newline in the auth" alert-webhook ALERT_WEBHOOK_AUTH "ALERT_WEBHOOK_URL=$WH_URL" "ALERT_WEBHOOK_AUTH=x
X-Evil: 1"
cfg "ALERT_TIMEOUT=abc" alert-webhook ALERT_TIMEOUT "ALERT_WEBHOOK_URL=$WH_URL" ALERT_TIMEOUT=abc
ok '! grep -q $SECRETS "$T/err" && ! pwned' "configuration errors: no secret, no file written"
M=("SENDMAIL=$T/sendmail")
cfg "email: no To" alert-email ALERT_EMAIL_TO "${M[@]}"
cfg "email: LF in To" alert-email ALERT_EMAIL_TO "${M[@]}" "ALERT_EMAIL_TO=ops@example.com
Bcc: evil@example.com"
cfg "email: CR in To" alert-email ALERT_EMAIL_TO "${M[@]}" "ALERT_EMAIL_TO=ops@example.com$(printf '\r')"
cfg "email: only commas in To" alert-email ALERT_EMAIL_TO "${M[@]}" "ALERT_EMAIL_TO= , ,"
cfg "email: CR in From" alert-email ALERT_EMAIL_FROM "${M[@]}" ALERT_EMAIL_TO=ops@example.com "ALERT_EMAIL_FROM=a@b$(printf '\r')"
cfg "email: no sendmail" alert-email SENDMAIL ALERT_EMAIL_TO=ops@example.com "SENDMAIL=$T/nonexistent"

# ---- bad alerts on stdin: 65; usage: 64
printf 'not json' >"$T/bad1"
printf '[1]' >"$T/bad2"
printf '{"rule":"x"}' >"$T/bad3"
printf '{"rule":1,"message":"m"}' >"$T/bad4"
printf '{"rule":"a","message":"m"} {"rule":"b","message":"m"}' >"$T/bad5"
: >"$T/bad6"
jq -n -c '{rule: "big", message: ("x" * 1100000)}' >"$T/bad7"
for b in 1 2 3 4 5 6 7; do
	rcs=""
	for s in slack telegram webhook email; do
		vars "$s"
		send "alert-$s" "$T/bad$b" "${V[@]}"
		rcs="$rcs $RC:$(grep -c "^alert-$s: stdin: " "$T/err")"
		if [ -s "$T/sink.log" ] || [ -e "$T/mail" ]; then
			rcs="$rcs sent!"
		fi
	done
	is "$rcs" " 65:1 65:1 65:1 65:1" "bad alert $b ($(head -c 30 "$T/bad$b")): exit 65, stdin: on stderr, nothing sent"
done
for s in slack telegram webhook email; do
	"$P/alert-$s" --bogus </dev/null >"$T/out" 2>"$T/err"
	is "$?/$(grep -c "^alert-$s: unknown argument: --bogus" "$T/err")/$(grep -c "^usage: alert-$s " "$T/err")" \
	    "64/1/1" "$s: unknown argument: exit 64, usage on stderr"
	"$P/alert-$s" --help </dev/null >"$T/out" 2>"$T/err"
	is "$?/$(grep -c "^usage: alert-$s " "$T/out")/$(wc -c <"$T/err")" "0/1/0" \
	    "$s: --help: usage on stdout, exit 0"
done

# ---- email
send alert-email "$T/normal.json" "${S_MAIL[@]}"
is "$RC/$(cat "$T/out" "$T/err")" "0/" "email: sent, exit 0, silent"
is "$(paste -sd' ' "$T/mail.argv")" "-t -oi" "email: sendmail -t -oi"
is "$(mail_names)" \
    "From To Subject Date MIME-Version Content-Type Content-Transfer-Encoding" \
    "email: the headers, in order"
is "$(mail_header From)|$(mail_header To)" \
    "ozon-etl@$(uname -n)|ops@example.com,oncall@example.com" \
    "email: From ozon-etl@<host>, To ALERT_EMAIL_TO"
is "$(mail_header Subject)" "$TITLE" "email: Subject is the title, plain ASCII"
d=$(mail_header Date)
ok 'dt=$(date -d "$d" +%s) && [ $(($(date +%s) - dt)) -lt 60 ] && [ $(($(date +%s) - dt)) -ge -1 ]' \
    "email: Date is an RFC 5322 date, now ($d)"
is "$(mail_header MIME-Version)|$(mail_header Content-Type)|$(mail_header Content-Transfer-Encoding)" \
    "1.0|text/plain; charset=UTF-8|8bit" "email: MIME-Version, Content-Type, 8bit"
sed '1,/^$/d' "$T/mail" >"$T/got"
check_same "$T/got" "$T/normal.txt" "email: the body is the fields"
send alert-email "$T/normal.json" "${S_MAIL[@]}" "ALERT_EMAIL_FROM=ETL <etl@example.com>"
is "$RC/$(mail_header From)" "0/ETL <etl@example.com>" "email: ALERT_EMAIL_FROM"

for nl in '\n' '\r\n' '\r'; do
	jq -c --argjson m "\"x${nl}Bcc: evil@example.com\"" '.message = $m' \
	    "$T/normal.json" >"$T/bcc.json"
	send alert-email "$T/bcc.json" "${S_MAIL[@]}"
	is "$RC/$(mail_headers | grep -ci '^bcc')/$(mail_names)" \
	    "0/0/From To Subject Date MIME-Version Content-Type Content-Transfer-Encoding" \
	    "email: $nl in the subject: no Bcc header"
	is "$(mail_header Subject)" "[CRITICAL] ozon-etl run_failed on etl1: x Bcc: evil@example.com" \
	    "email: $nl in the subject: a space"
done

cyr="Склад ХОРУГВИНО_РФЦ не отвечает уже три часа, остатки по 1200 SKU устарели 🚨"
jq -c --arg m "$cyr" '.message = $m' "$T/normal.json" >"$T/cyr.json"
send alert-email "$T/cyr.json" "${S_MAIL[@]}"
subj=$(sed -n '/^Subject:/,/^[^ ]/p' "$T/mail" | sed '$d')
is "$RC/$(printf '%s\n' "$subj" | sed 's/^Subject: //; s/^ //' | grep -cvE '^=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=$')" \
    "0/0" "email: a Cyrillic Subject is RFC 2047 UTF-8 base64 words"
ok '[ "$(printf "%s\n" "$subj" | wc -l)" -gt 1 ] && ! printf "%s\n" "$subj" | grep -q ".\{79\}"' \
    "email: folded into lines of 78 characters or fewer"
is "$(python3 -c 'import email.header, sys; print(str(email.header.make_header(email.header.decode_header(sys.argv[1]))))' "$(printf '%s' "$subj" | sed 's/^Subject: //' | tr -d '\n')")" \
    "[CRITICAL] ozon-etl run_failed on etl1: $cyr" "email: the Subject decodes back to the title"
ok 'sed "1,/^\$/d" "$T/mail" | grep -qxF "message: $cyr"' "email: Cyrillic body as 8bit UTF-8"

send alert-email "$T/inject.json" "${S_MAIL[@]}"
ok '[ "$RC" -eq 0 ] && sed "1,/^\$/d" "$T/mail" | jq -Rse --arg m "message: $MSG" "index(\$m) != null"' \
    "email: injection alert: the message arrives byte for byte"
is "$(mail_names)" \
    "From To Subject Date MIME-Version Content-Type Content-Transfer-Encoding" \
    "email: injection alert: no extra header"
ok '! pwned' "email: nothing in the message was run"

echo 75 >"$T/sendmail.rc"
send alert-email "$T/normal.json" "${S_MAIL[@]}"
is "$RC/$(grep -c "^alert-email: .*exited 75" "$T/err")" "69/1" "email: sendmail exits 75: exit 69"
rm -f "$T/sendmail.rc"
