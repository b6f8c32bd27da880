#!/bin/sh
# tests/ozon-sim, the Ozon API simulator the ozon-extract tests run against:
# data set, pagination, auth, validation, faults, control, keep-alive, gzip,
# the request log.
. "$TOP/tests/lib.sh"
plan 95

SIM=$TOP/tests/ozon-sim
STOCK=/v2/analytics/stock_on_warehouses
H1="Client-Id: 123456"
H2="Api-Key: sim-secret-key"
CT="Content-Type: application/json"
PIDS=""

cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# start NAME ARGS...: run the simulator in the background, wait for its
# port file (5 s at most); sets PORT and SIMPID, logs to $T/NAME.log.
start() {
	_name=$1
	shift
	"$SIM" --port-file "$T/$_name.port" --log "$T/$_name.log" "$@" \
	    2>"$T/$_name.err" &
	SIMPID=$!
	PIDS="$PIDS $SIMPID"
	_i=0
	while [ ! -s "$T/$_name.port" ] && [ "$_i" -lt 250 ]; do
		sleep 0.02
		_i=$((_i + 1))
	done
	PORT=$(cat "$T/$_name.port" 2>/dev/null)
}

# req PORT BODY [CURL ARGS...]: authorized POST to the stock endpoint.
# Body in $T/b, headers in $T/h, status in $CODE, curl's exit in $CRC.
req() {
	_p=$1
	_d=$2
	shift 2
	rm -f "$T/b" "$T/h"
	CODE=$(curl -sS -o "$T/b" -D "$T/h" -w '%{http_code}' \
	    -H "$H1" -H "$H2" -H "$CT" "$@" --data-binary "$_d" \
	    "http://127.0.0.1:$_p$STOCK" 2>"$T/cerr")
	CRC=$?
}

# raw PORT PATH [CURL ARGS...]: any request, no default headers.
raw() {
	_p=$1
	_path=$2
	shift 2
	rm -f "$T/b" "$T/h"
	CODE=$(curl -sS -o "$T/b" -D "$T/h" -w '%{http_code}' "$@" \
	    "http://127.0.0.1:$_p$_path" 2>"$T/cerr")
	CRC=$?
}

# ctl PORT JSON: the control endpoint; prints the status.
ctl() {
	curl -sS -o "$T/cb" -w '%{http_code}' -d "$2" \
	    "http://127.0.0.1:$1/__sim/control"
}

# dump PORT OUT [WAREHOUSE_TYPE]: paginate by 1000 until a short page;
# rows (compact JSON, one a line) in OUT, page sizes in $PAGES.
dump() {
	: >"$2"
	PAGES=""
	_off=0
	while [ "$_off" -lt 100000 ]; do
		req "$1" "{\"limit\":1000,\"offset\":$_off,\"warehouse_type\":\"${3:-ALL}\"}"
		[ "$CODE" = 200 ] || { PAGES="$PAGES error$CODE"; return; }
		_c=$(jq '.result.rows | length' "$T/b")
		PAGES="${PAGES:+$PAGES }$_c"
		jq -c '.result.rows[]' "$T/b" >>"$2"
		[ "$_c" -lt 1000 ] && return
		_off=$((_off + 1000))
	done
}

hdr() {
	tr -d '\r' <"$T/h" | sed -n "s/^$1: //Ip" | head -n 1
}

code() {
	jq -c '[.code, (.message | type), .details]' "$T/b" 2>/dev/null
}

# ---- startup, the data set, pagination
# timed NAME ARGS...: start, and add the milliseconds it took to $STARTS.
STARTS=""
timed() {
	_t0=$(date +%s%N)
	start "$@"
	_t1=$(date +%s%N)
	STARTS="${STARTS:+$STARTS }$(((_t1 - _t0) / 1000000))"
}
timed a
A=$PORT
APID=$SIMPID
ok '[ -n "$A" ] && grep -qx "listening on 127.0.0.1:$A" "$T/a.err"' \
    "writes its port file, says where it listens"

dump "$A" "$T/all0"
is "$PAGES" "1000 1000 500" "limit 1000 by offset: pages 1000, 1000, 500"
is "$(wc -l <"$T/all0")" 2500 "2500 rows"
is "$(jq -r '"\(.sku)\t\(.warehouse_name)"' "$T/all0" | sort -u | wc -l)" 2500 \
    "(sku, warehouse_name) unique"
ok '[ "$(jq -r .sku "$T/all0" | sort -u | wc -l)" -lt 2000 ]' \
    "one SKU in several warehouses"
is "$(jq -c '(.sku | type) == "number" and .sku > 0 and (.warehouse_name | type) == "string" and (.warehouse_name | length) > 0 and (.item_code | test("^АРТ-[0-9]+$")) and (.item_name | type) == "string" and (.item_name | length) > 0 and ([.free_to_sell_amount, .promised_amount, .reserved_amount] | all(type == "number" and . >= 0 and floor == .)) and (keys | length) == 7' "$T/all0" | sort -u)" true \
    "every row has the seven fields, well typed"
ok '[ "$(jq -c keys_unsorted "$T/all0" | sort -u | wc -l)" -ge 2 ]' \
    "key order varies"
ok 'grep -q "\"warehouse_name\":\"ХОРУГВИНО_РФЦ\"" "$T/all0" && grep -q "\"warehouse_name\":\"Хоругвино_РФЦ\"" "$T/all0"' \
    "several spellings of one warehouse (ХОРУГВИНО_РФЦ, Хоругвино_РФЦ)"
grep -v '^#' "$TOP/sql/warehouses.tsv" | cut -f1 | sort -u >"$T/known"
jq -r .warehouse_name "$T/all0" | sort -u >"$T/names"
comm -23 "$T/names" "$T/known" | grep -v -e ДАРКСТОР -e Даркстор -e '_EXPRESS$' >"$T/unknown"
unk=$(jq -r .warehouse_name "$T/all0" | grep -c -F -x -f "$T/unknown")
echo "# unknown warehouses: $(paste -sd, "$T/unknown"), $unk rows"
ok '[ -s "$T/unknown" ] && [ "$unk" -gt 0 ] && [ "$unk" -lt 100 ]' \
    "a few rows in warehouses unknown to the mapping ($unk)"
req "$A" '{"limit":3,"offset":1}'
ok '[ "$(cat "$T/b")" = "{\"result\":{\"rows\":[$(sed -n 2,4p "$T/all0" | paste -sd,)]}}" ]' \
    "a page is exactly the compact JSON of its rows (offset 1, limit 3)"
is "$(hdr content-type)" application/json "Content-Type: application/json"
req "$A" '{"limit":1000,"offset":2500}'
is "$CODE/$(cat "$T/b")" '200/{"result":{"rows":[]}}' "past the end: an empty page"
req "$A" '{"limit":1000}'
sed -n 1,1000p "$T/all0" >"$T/p1"
ok 'jq -c ".result.rows[]" "$T/b" | cmp -s - "$T/p1"' "offset defaults to 0"

dump "$A" "$T/exp" EXPRESS_DARK_STORE
dump "$A" "$T/nexp" NOT_EXPRESS_DARK_STORE
ok '[ -s "$T/exp" ] && [ "$(jq -r .warehouse_name "$T/exp" | grep -v -e ДАРКСТОР -e Даркстор -e "_EXPRESS$" | wc -l)" -eq 0 ]' \
    "EXPRESS_DARK_STORE: only dark stores"
is "$(($(wc -l <"$T/exp") + $(wc -l <"$T/nexp")))" 2500 \
    "EXPRESS_DARK_STORE + NOT_EXPRESS_DARK_STORE = ALL"
ok '[ "$(jq -r .warehouse_name "$T/nexp" | grep -c -e ДАРКСТОР -e Даркстор -e "_EXPRESS$")" -eq 0 ]' \
    "NOT_EXPRESS_DARK_STORE: no dark store"

# ---- same seed, same bytes; another seed, other data; gzip; faults on
# the command line
timed b --seed 1 --gzip --fault 1000:503:2
B=$PORT
timed c --seed 2 --rows 2500
C=$PORT
CPID=$SIMPID
# The startup time is a figure, not a pass mark: a busy machine varies.
ms=$(echo "$STARTS" | tr ' ' '\n' | sort -n | head -n 1)
echo "# startup: $STARTS ms"
ok '[ -n "$B" ] && [ -n "$C" ]' \
    "starts (port file written): best $ms ms"
req "$A" '{"limit":1000,"offset":1000}'
cp "$T/b" "$T/a1000"
req "$B" '{"limit":1000,"offset":1000}'
is "$CODE" 503 "--fault 1000:503:2: first request 503"
req "$B" '{"limit":1000,"offset":1000}'
is "$CODE" 503 "--fault 1000:503:2: second request 503"
req "$B" '{"limit":1000,"offset":1000}'
is "$CODE" 200 "--fault 1000:503:2: third request 200"
check_same "$T/b" "$T/a1000" "same seed: same bytes"
req "$C" '{"limit":1000,"offset":1000}'
ok '! cmp -s "$T/b" "$T/a1000"' "another seed: other data"
req "$B" '{"limit":1000,"offset":1000}' --compressed
is "$(hdr content-encoding)" gzip "--gzip and --compressed: Content-Encoding: gzip"
check_same "$T/b" "$T/a1000" "--gzip: decodes to the same page"
req "$B" '{"limit":1000,"offset":1000}' -H "Accept-Encoding: gzip"
ok 'gzip -dc <"$T/b" | cmp -s - "$T/a1000"' "--gzip: the body is gzip"
ok '[ "$(wc -c <"$T/b")" -lt "$(wc -c <"$T/a1000")" ]' "--gzip: and smaller"
req "$B" '{"limit":1000,"offset":1000}'
ok '[ -z "$(hdr content-encoding)" ]' "--gzip: plain without Accept-Encoding"
req "$A" '{"limit":10,"offset":0}' --compressed
ok '[ -z "$(hdr content-encoding)" ]' "no --gzip: never gzip"

# ---- auth, validation, routing
ctl "$A" '{"reset_log":true}' >/dev/null
raw "$A" "$STOCK" -H "$H1" -H "Api-Key: wrong-key-XYZZY" -H "$CT" -d '{"limit":1}'
is "$CODE/$(cat "$T/b")" '403/{"code":7,"message":"Invalid Api-Key, please contact support","details":[]}' \
    "bad Api-Key: 403"
raw "$A" "$STOCK" -H "Client-Id: 999" -H "$H2" -H "$CT" -d '{"limit":1}'
is "$CODE/$(code)" '403/[7,"string",[]]' "bad Client-Id: 403"
raw "$A" "$STOCK" -H "$H1" -H "$CT" -d '{"limit":1}'
is "$CODE/$(cat "$T/b")" '401/{"code":16,"message":"Client-Id and Api-Key headers are required","details":[]}' \
    "no Api-Key: 401"
raw "$A" "$STOCK" -H "$H2" -H "$CT" -d '{"limit":1}'
is "$CODE/$(code)" '401/[16,"string",[]]' "no Client-Id: 401"
ok '! grep -q -e XYZZY -e sim-secret-key "$T/a.log" "$T/a.err"' \
    "no Api-Key in the log or on stderr"
is "$(jq -r .client_id "$T/a.log" | paste -sd' ')" "123456 999 123456 null" \
    "the log keeps the Client-Id"

for b in '{"limit":0}' '{"limit":1001}' '{"limit":10,"warehouse_type":"X"}' \
    'not json' '{"offset":0}' '{"limit":10,"offset":-1}' \
    '{"limit":10,"page":2}' '[1]' '{"limit":"10"}' '{"limit":true}'; do
	req "$A" "$b"
	is "$CODE/$(code)" '400/[3,"string",[]]' "bad body $b: 400"
done
raw "$A" "$STOCK" -H "$H1" -H "$H2" -H "Content-Type: text/plain" -d '{"limit":1}'
is "$CODE/$(code)" '400/[3,"string",[]]' "Content-Type text/plain: 400"
raw "$A" /v1/analytics/stocks -H "$H1" -H "$H2" -H "$CT" -d '{"limit":1}'
is "$CODE/$(cat "$T/b")" '404/{"code":5,"message":"Not Found","details":[]}' "unknown path: 404"
raw "$A" "$STOCK" -H "$H1" -H "$H2"
is "$CODE/$(code)" '405/[12,"string",[]]' "GET: 405"

# ---- faults, one kind at a time, through the control endpoint
is "$(ctl "$A" '{"faults":["0:429"]}')/$(cat "$T/cb")" '200/{}' "control: set faults"
req "$A" '{"limit":8,"offset":0}'
is "$CODE/$(hdr retry-after)/$(cat "$T/b")" '429//{"code":8,"message":"You have reached request rate limit per second","details":[]}' \
    "429: no Retry-After"
req "$A" '{"limit":8,"offset":0}'
is "$CODE" 200 "429: once (COUNT defaults to 1)"
ctl "$A" '{"faults":["0:429ra=2"]}' >/dev/null
req "$A" '{"limit":8,"offset":0}'
is "$CODE/$(hdr retry-after)/$(code)" '429/2/[8,"string",[]]' "429ra=2: Retry-After: 2"
ctl "$A" '{"faults":["0:429date=30"]}' >/dev/null
req "$A" '{"limit":8,"offset":0}'
ra=$(hdr retry-after)
ok '[ "$CODE" = 429 ] && d=$(($(date -d "$ra" +%s) - $(date +%s))) && [ "$d" -ge 25 ] && [ "$d" -le 31 ] && echo "$ra" | grep -q "GMT$"' \
    "429date=30: Retry-After is an HTTP-date 30 s ahead ($ra)"
for k in 500 502 503; do
	ctl "$A" "{\"faults\":[\"0:$k\"]}" >/dev/null
	req "$A" '{"limit":8,"offset":0}'
	is "$CODE/$(cat "$T/b")" "$k/{\"code\":13,\"message\":\"Internal error\",\"details\":[]}" "fault $k"
done
ctl "$A" '{"faults":["0:circle"]}' >/dev/null
req "$A" '{"limit":8,"offset":0}'
is "$CODE/$(cat "$T/b")" '500/{"code":14,"message":"Circle is open","details":[]}' "circle: 500 Circle is open"
ctl "$A" '{"faults":["0:400","0:404"]}' >/dev/null
req "$A" '{"limit":8,"offset":0}'
is "$CODE/$(code)" '400/[3,"string",[]]' "fault 400"
req "$A" '{"limit":8,"offset":0}'
is "$CODE/$(code)" '404/[5,"string",[]]' "fault 404 (faults apply in order)"
ctl "$A" '{"faults":["0:badjson"]}' >/dev/null
req "$A" '{"limit":8,"offset":0}'
ok '[ "$CODE" = 200 ] && ! jq . "$T/b" >/dev/null 2>&1 && [ "$(hdr content-length)" = "$(wc -c <"$T/b")" ]' \
    "badjson: 200, not JSON, right Content-Length"
ctl "$A" '{"faults":["0:malformed"]}' >/dev/null
req "$A" '{"limit":8,"offset":0}'
is "$CODE/$(jq '.result.rows | length' "$T/b")" 200/8 "malformed: 200, row count kept"
is "$(jq -c '[.result.rows[] | if type != "object" then "number" elif .free_to_sell_amount < 0 then "negative" elif (.sku | type) == "string" then "sku-string" elif .warehouse_name == "" then "empty-name" else "ok" end] | map(select(. != "ok"))' "$T/b")" \
    '["negative","sku-string","empty-name","number"]' "malformed: four bad rows"
ctl "$A" '{"faults":["0:truncate"]}' >/dev/null
req "$A" '{"limit":8,"offset":0}'
is "$CRC/$CODE" 18/200 "truncate: curl sees a short body (exit 18)"
ctl "$A" '{"faults":["0:reset"]}' >/dev/null
req "$A" '{"limit":8,"offset":0}'
is "$CRC" 56 "reset: curl sees a connection reset (exit 56)"
ctl "$A" '{"faults":["0:hang=3","0:hang=0.3"]}' >/dev/null
req "$A" '{"limit":8,"offset":0}' --max-time 0.5
is "$CRC" 28 "hang=3: curl --max-time 0.5 times out (exit 28)"
req "$A" '{"limit":8,"offset":0}' --max-time 3
is "$CRC" 52 "hang=0.3: then the connection closes, no answer (exit 52)"
ctl "$A" '{"faults":["0:slow=3","0:slow=0.3"]}' >/dev/null
req "$A" '{"limit":8,"offset":0}' --max-time 0.5
ok '[ "$CRC" = 28 ] && [ -s "$T/b" ] && [ "$(wc -c <"$T/b")" -lt "$(hdr content-length)" ]' \
    "slow=3: half a body, then curl --max-time 0.5 times out"
req "$A" '{"limit":8,"offset":0}' --max-time 3
is "$CRC/$CODE/$(jq '.result.rows | length' "$T/b")" 0/200/8 "slow=0.3: the whole page in the end"
req "$A" '{"limit":8,"offset":0}'
is "$CODE" 200 "faults used up: 200"
is "$(jq -r 'select(.fault != null) | "\(.fault):\(.status)"' "$T/a.log" | paste -sd' ')" \
    "429:429 429ra=2:429 429date=30:429 500:500 502:502 503:503 circle:500 400:400 404:404 badjson:200 malformed:200 truncate:200 reset:0 hang=3:0 hang=0.3:0 slow=3:200 slow=0.3:200" \
    "the log names each fault and its status"

# COUNT, '*', order, inf
ctl "$A" '{"faults":["0:500:2"]}' >/dev/null
s=""
for i in 1 2 3; do req "$A" '{"limit":8,"offset":0}'; s="$s$CODE "; done
is "$s" "500 500 200 " "0:500:2: 500, 500, then 200"
ctl "$A" '{"faults":["0:500","*:502"]}' >/dev/null
s=""
for o in 1000 0 0 2000; do req "$A" "{\"limit\":8,\"offset\":$o}"; s="$s$CODE "; done
is "$s" "502 500 200 200 " "faults in order; * matches any offset, once"
ctl "$A" '{"faults":["*:429:inf"]}' >/dev/null
s=""
for o in 0 1000 7 0; do req "$A" "{\"limit\":8,\"offset\":$o}"; s="$s$CODE "; done
is "$s" "429 429 429 429 " "*:429:inf: always"
ctl "$A" '{"faults":[]}' >/dev/null
req "$A" '{"limit":8,"offset":0}'
is "$CODE" 200 "control: faults cleared"
is "$(ctl "$A" '{"faults":["0:boom"]}')" 400 "control: a bad fault spec is refused"
req "$A" '{"limit":8,"offset":0}'
is "$CODE" 200 "control: the refused spec changed nothing"

# ---- epochs
is "$(ctl "$A" '{"epoch":1}')" 200 "control: epoch 1"
dump "$A" "$T/all1"
amounts='"\(.sku)|\(.warehouse_name)\t\(.free_to_sell_amount),\(.promised_amount),\(.reserved_amount)"'
jq -r "$amounts" "$T/all0" | sort >"$T/k0"
jq -r "$amounts" "$T/all1" | sort >"$T/k1"
cut -f1 "$T/k0" >"$T/kk0"
cut -f1 "$T/k1" >"$T/kk1"
removed=$(comm -23 "$T/kk0" "$T/kk1" | wc -l)
added=$(comm -13 "$T/kk0" "$T/kk1" | wc -l)
changed=$(sort "$T/k0" "$T/k1" | uniq -u | cut -f1 | sort | uniq -d | wc -l)
echo "# epoch 1: $removed removed, $added added, $changed changed"
ok '[ "$changed" -ge 50 ] && [ "$changed" -le 250 ]' "epoch 1: about 5% of rows change amounts ($changed)"
ok '[ "$removed" -ge 5 ] && [ "$removed" -le 60 ]' "epoch 1: about 1% of rows gone ($removed)"
ok '[ "$added" -ge 5 ] && [ "$added" -le 60 ]' "epoch 1: about 1% new rows ($added)"
is "$(jq -r '"\(.sku)\t\(.warehouse_name)"' "$T/all1" | sort | uniq -d | wc -l)" 0 \
    "epoch 1: (sku, warehouse_name) still unique"
ctl "$B" '{"epoch":1}' >/dev/null
dump "$B" "$T/ball1"
check_same "$T/ball1" "$T/all1" "epoch 1 is the same in another process"
ctl "$A" '{"epoch":0}' >/dev/null
dump "$A" "$T/all0b"
check_same "$T/all0b" "$T/all0" "control: back to epoch 0"

# ---- keep-alive and the request log
ctl "$A" '{"reset_log":true}' >/dev/null
is "$(wc -c <"$T/a.log")" 0 "control: reset_log empties the log"
curl -sS -o /dev/null -o /dev/null -H "$H1" -H "$H2" -H "$CT" \
    -d '{"limit":5,"offset":0}' "http://127.0.0.1:$A$STOCK" \
    "http://127.0.0.1:$A$STOCK" 2>"$T/cerr"
curl -sS -o /dev/null -H "$H1" -H "$H2" -H "$CT" \
    -d '{"limit":5,"offset":0}' "http://127.0.0.1:$A$STOCK" --next \
    -o /dev/null -H "$H1" -H "$H2" -H "$CT" \
    -d '{"limit":7,"offset":5}' "http://127.0.0.1:$A$STOCK" 2>>"$T/cerr"
ctl "$A" '{"faults":["0:503"]}' >/dev/null
req "$A" '{"limit":9,"offset":0}' --compressed
raw "$A" /nowhere
is "$(jq -r .n "$T/a.log" | paste -sd' ')" "1 2 3 4 5 6" \
    "the log: one line per request, n from 1, /__sim/ not logged"
is "$(jq -r .port "$T/a.log" | sed -n 1,2p | sort -u | wc -l)" 1 \
    "keep-alive: two URLs, one connection"
is "$(jq -r .port "$T/a.log" | sed -n 3,4p | sort -u | wc -l)" 1 \
    "keep-alive: --next, one connection"
ok '[ "$(jq -r .port "$T/a.log" | sed -n 1p)" != "$(jq -r .port "$T/a.log" | sed -n 3p)" ]' \
    "another curl, another connection"
is "$(jq -c '[.offset, .limit, .status, .fault, .rows, .path]' "$T/a.log" | paste -sd' ')" \
    '[0,5,200,null,5,"/v2/analytics/stock_on_warehouses"] [0,5,200,null,5,"/v2/analytics/stock_on_warehouses"] [0,5,200,null,5,"/v2/analytics/stock_on_warehouses"] [5,7,200,null,7,"/v2/analytics/stock_on_warehouses"] [0,9,503,"503",null,"/v2/analytics/stock_on_warehouses"] [null,null,404,null,null,"/nowhere"]' \
    "the log: offset, limit, status, fault, rows, path"
is "$(jq -c 'keys_unsorted' "$T/a.log" | sort -u)" \
    '["n","t","port","path","body","offset","limit","status","fault","rows","accept_encoding","client_id"]' \
    "the log: every field on every line"
is "$(sed -n 4p "$T/a.log" | jq -r .body)" '{"limit":7,"offset":5}' "the log: the request body"
ok 'sed -n 5p "$T/a.log" | jq -e ".accept_encoding | test(\"gzip\")" && sed -n 1p "$T/a.log" | jq -e ".accept_encoding == null"' \
    "the log: Accept-Encoding"
ok 'jq -s -e "map(.t) | . == sort and all(type == \"number\" and . > 1e9)" "$T/a.log"' \
    "the log: t is a non-decreasing unix time"

# ---- the command line, signals
"$SIM" --fault 'x:boom' --port-file "$T/bad.port" 2>"$T/bad.err"
rc=$?
ok '[ "$rc" -eq 2 ] && [ ! -e "$T/bad.port" ] && grep -q boom "$T/bad.err"' \
    "a bad --fault is refused (exit 2)"
kill -TERM "$APID"
wait "$APID"
is "$?" 0 "SIGTERM: exit 0"
kill -INT "$CPID"
wait "$CPID"
is "$?" 0 "SIGINT: exit 0"
