#!/bin/sh
# ozon-extract against the Ozon simulator: pages, faults and retries,
# the rate limit, the circuit breaker, the Redis cache, secrets.
. "$TOP/tests/lib.sh"
plan 77

export ETL_STATE_DIR=$T/state
mkdir -p "$ETL_STATE_DIR"
# fast retries for the tests; the defaults are for Ozon
FAST="--backoff-base 5 --backoff-cap 20"
sim_start --rows 2500 || exit 1

requests() {
	wc -l <"$T/sim.log" | tr -d ' '
}
reset_sim() {
	sim_control "{\"faults\": [], \"epoch\": 0, \"reset_log\": true}"
	rm -f "$ETL_STATE_DIR"/circuit-*
}

# --- the happy path ---
run ozon-extract
is "$RC" 0 "complete run: exit 0"
is "$(wc -l <"$T/out" | tr -d ' ')" 2500 "all 2500 rows"
is "$(summary pages)/$(summary rows)/$(summary complete)" "3/2500/true" \
    "summary: 3 pages, 2500 rows, complete"
is "$(summary api_requests)/$(summary api_failures)/$(summary retries)" \
    "3/0/0" "summary: 3 requests, no failure, no retry"
is "$(summary connections)" 1 "one connection for the whole run"
is "$(jq -r .port "$T/sim.log" | sort -u | wc -l | tr -d ' ')" 1 \
    "the simulator saw one client port"
is "$(jq -c '[.offset, .limit]' "$T/sim.log" | tr '\n' ' ')" \
    "[0,1000] [1000,1000] [2000,1000] " "offsets 0, 1000, 2000 of 1000"
is "$(jq -r .body "$T/sim.log" | head -n 1)" \
    '{"limit":1000,"offset":0,"warehouse_type":"ALL"}' "the request body"
ok 'jq -r .accept_encoding "$T/sim.log" | grep -q gzip' \
    "compressed answers accepted"
# the rows are Ozon's, byte for byte in compact form
for o in 0 1000 2000; do
	curl -sS -H "Client-Id: $SIM_CLIENT" -H "Api-Key: $SIM_KEY" \
	    -H 'Content-Type: application/json' \
	    --data "{\"limit\":1000,\"offset\":$o,\"warehouse_type\":\"ALL\"}" \
	    "$SIM_URL/v2/analytics/stock_on_warehouses" | jq -c '.result.rows[]'
done >"$T/want"
check_same "$T/out" "$T/want" "rows exactly as Ozon sent them"
is "$(jq -r '[.sku, .warehouse_name] | @tsv' "$T/out" | sort -u | wc -l | tr -d ' ')" \
    2500 "no row twice"

reset_sim
run ozon-extract --limit 700 --warehouse-type NOT_EXPRESS_DARK_STORE
is "$RC/$(jq -r .body "$T/sim.log" | head -n 1)" \
    '0/{"limit":700,"offset":0,"warehouse_type":"NOT_EXPRESS_DARK_STORE"}' \
    "--limit and --warehouse-type go into the body"
ok '! grep -q ДАРКСТОР "$T/out"' "and the answer is the one asked for"
is "$(requests)/$(summary pages)" "$(summary pages)/$(summary pages)" \
    "the next page is asked for early, but never one too many"
# a page asked for early that fails is retried like any other
reset_sim
sim_control '{"faults": ["2000:500"]}'
run ozon-extract $FAST
is "$RC/$(wc -l <"$T/out" | tr -d ' ')/$(summary retries)" "0/2500/1" \
    "an early request that fails is retried"

# --- usage and configuration ---
run ozon-extract --limit 1001
is "$RC" 64 "--limit 1001: usage error"
run ozon-extract --warehouse-type EXPRESS
is "$RC" 64 "--warehouse-type EXPRESS: usage error"
run env -u OZON_API_KEY ozon-extract
is "$RC" 78 "no OZON_API_KEY: 78"
ok 'grep -q "OZON_API_KEY is not set" "$T/err"' "and the message names it"
run env -u OZON_CLIENT_ID ozon-extract
ok '[ "$RC" = 78 ] && grep -q "OZON_CLIENT_ID is not set" "$T/err"' \
    "no OZON_CLIENT_ID: 78, named"
OZON_API_URL=ftp://example run ozon-extract
is "$RC" 78 "OZON_API_URL not http(s): 78"
OZON_RATE_LIMIT=nan run ozon-extract
is "$RC" 78 "OZON_RATE_LIMIT=nan: 78"
run ozon-extract --cache sometimes
is "$RC" 64 "--cache sometimes: usage error"
run ozon-extract --rate fast
is "$RC" 64 "--rate fast: usage error"

# --- answers that end the run ---
reset_sim
OZON_API_KEY=wrong-key run ozon-extract $FAST
is "$RC/$(summary api_requests)" 77/1 "wrong key: 77 at once, no retry"
sim_control '{"faults": ["0:400"]}'
run ozon-extract $FAST
is "$RC/$(summary api_requests)" 70/1 "400: 70, no retry"
sim_control '{"faults": ["0:404"]}'
run ozon-extract $FAST
is "$RC" 78 "404: 78 (the URL is wrong)"

# --- faults that are retried ---
for f in 429 429ra=0 500 502 503 truncate badjson reset; do
	reset_sim
	# at offset 0, on a fresh connection: libcurl itself retries once a
	# request that a reused connection dropped
	sim_control "{\"faults\": [\"0:$f:2\"]}"
	run ozon-extract $FAST
	is "$RC/$(wc -l <"$T/out" | tr -d ' ')/$(summary retries)/$(summary complete)" \
	    "0/2500/2/true" "$f twice: retried, all rows once"
done
reset_sim
sim_control '{"faults": ["1000:hang=5"]}'
run ozon-extract $FAST --timeout 1
is "$RC/$(wc -l <"$T/out" | tr -d ' ')/$(summary retries)" "0/2500/1" \
    "a hanging answer times out and is retried"
reset_sim
sim_control '{"faults": ["1000:slow=5"]}'
run ozon-extract $FAST --low-speed-time 1
is "$RC/$(wc -l <"$T/out" | tr -d ' ')/$(summary retries)" "0/2500/1" \
    "a stalled answer fails the low-speed check and is retried"

# Retry-After is obeyed, in seconds and as a date
reset_sim
sim_control '{"faults": ["1000:429ra=1"]}'
run ozon-extract $FAST
gap=$(jq -s '(.[2].t - .[1].t) * 1000 | floor' "$T/sim.log")
ok '[ "$RC" = 0 ] && [ "$gap" -ge 950 ]' \
    "Retry-After: 1 waits a second (gap ${gap} ms)"
reset_sim
sim_control '{"faults": ["1000:429date=2"]}'
run ozon-extract $FAST
gap=$(jq -s '(.[2].t - .[1].t) * 1000 | floor' "$T/sim.log")
ok '[ "$RC" = 0 ] && [ "$gap" -ge 900 ]' \
    "Retry-After as an HTTP date is obeyed (gap ${gap} ms)"
reset_sim
sim_control '{"faults": ["0:429ra=600"]}'
run ozon-extract $FAST --retry-after-max 5
is "$RC/$(summary api_requests)" 75/1 \
    "Retry-After past --retry-after-max: 75 without waiting"

# a 429 without Retry-After backs off (full jitter up to 1 s, three times)
reset_sim
sim_control '{"faults": ["0:429:3"]}'
run ozon-extract --backoff-base 1000 --backoff-cap 1000
gap=$(jq -s '(.[3].t - .[0].t) * 1000 | floor' "$T/sim.log")
ok '[ "$RC" = 0 ] && [ "$gap" -ge 50 ]' "429 without Retry-After: backoff ($gap ms)"

# past the retry budget
reset_sim
sim_control '{"faults": ["*:429:inf"]}'
run ozon-extract $FAST --retries 2
is "$RC/$(summary api_requests)/$(summary complete)" "75/3/false" \
    "a 429 storm past the budget: 75 after 3 tries"
reset_sim
sim_control '{"faults": ["1000:500:inf"]}'
run ozon-extract $FAST --retries 2
is "$RC/$(wc -l <"$T/out" | tr -d ' ')/$(summary complete)" "69/1000/false" \
    "5xx past the budget: 69, only the whole first page out"
ok 'grep -q "giving up, attempts: 3" "$T/err"' "and it says why"

# malformed rows pass through; a row that is not an object is rejected
reset_sim
sim_control '{"faults": ["0:malformed"]}'
run ozon-extract $FAST
n_out=$(wc -l <"$T/out" | tr -d ' ')
n_rej=$(wc -l <"$T/rej" | tr -d ' ')
is "$RC/$((n_out + n_rej))/$(summary rejected)" "0/2500/$n_rej" \
    "malformed page: every row out or rejected, counted"
ok '[ "$n_rej" -ge 1 ] && jq -e ".stage == \"ozon-extract\" and (.reason | test(\"not an object\"))" "$T/rej" >/dev/null' \
    "a row that is not an object goes to fd 3 with its reason"
is "$(jq -c '[.line, .raw]' "$T/rej")" '[751,"12345"]' \
    "its line is its place in the extract"

# --- the circuit breaker ---
reset_sim
sim_control '{"faults": ["1000:circle"]}'
run ozon-extract $FAST --breaker-cooldown 2
is "$RC/$(summary api_requests)" 69/2 "Circle is open: 69 at once"
ok '[ -s "$ETL_STATE_DIR/circuit-$SIM_CLIENT" ]' "circuit state kept in ETL_STATE_DIR"
before=$(requests)
run ozon-extract $FAST --breaker-cooldown 2
is "$RC/$(requests)" "69/$before" "while open: 69 without calling Ozon"
ok 'grep -q "circuit open for" "$T/err"' "and it says so"
sleep 2.1
run ozon-extract $FAST --breaker-cooldown 2
is "$RC/$(summary complete)" 0/true "after the cool-down a probe succeeds"
run ozon-extract $FAST
is "$RC" 0 "and the circuit is closed again"

reset_sim
sim_control '{"faults": ["0:500:inf"]}'
run ozon-extract $FAST --breaker-failures 3 --breaker-cooldown 1 --retries 10
is "$RC/$(summary api_requests)" 69/3 "3 failures in a row open the circuit"
sim_control '{"faults": []}'
sleep 1.1
run ozon-extract $FAST --breaker-failures 3 --breaker-cooldown 1
is "$RC" 0 "the probe after the cool-down closes it"
reset_sim
sim_control '{"faults": ["0:500:inf"]}'
run ozon-extract $FAST --breaker-failures 2 --breaker-cooldown 1 --retries 10
sleep 1.1
before=$(requests)
run ozon-extract $FAST --breaker-failures 2 --breaker-cooldown 1 --retries 10
is "$RC/$(($(requests) - before))" 69/1 "a failed probe reopens it: one request"

# --- sampling, closed stdout ---
reset_sim
run ozon-extract --max-pages 1
is "$RC/$(wc -l <"$T/out" | tr -d ' ')/$(summary complete)" "65/1000/false" \
    "--max-pages 1: one page, not complete, 65"
rc=$( { ozon-extract 2>"$T/err"; echo $? >"$T/rc"; } | head -n 1 >/dev/null
    cat "$T/rc")
is "$rc" 0 "stdout closed by head: quiet 0"

# --- the rate limit ---
reset_sim
OZON_RATE_LIMIT=5 run ozon-extract --limit 250
span=$(jq -s '(.[-1].t - .[0].t) * 1000 | floor' "$T/sim.log")
is "$RC/$(requests)" 0/11 "rate 5/s: 10 full pages and an empty one"
ok '[ "$span" -ge 1900 ]' "11 requests at 5/s span at least 2 s ($span ms)"

ok 'grep -q "REDIS_URL is not set" "$T/err"' "no REDIS_URL: a warning"

# --- the Redis cache, and a resumed run ---
redis_start
reset_sim
sim_control '{"faults": ["2000:500:inf"]}'
run ozon-extract $FAST --retries 1
is "$RC/$(summary cache_misses)" 69/3 "with Redis: a run fails at offset 2000"
sim_control '{"faults": [], "reset_log": true}'
run ozon-extract $FAST
is "$RC/$(wc -l <"$T/out" | tr -d ' ')/$(summary complete)" "0/2500/true" \
    "the re-run is complete"
is "$(summary cache_hits)/$(summary cache_misses)/$(jq -c .offset "$T/sim.log" | tr '\n' ' ')" \
    "2/1/2000 " "and fetches only the page it lacked"
check_same "$T/out" "$T/want" "cached pages give the same rows"
sim_control '{"reset_log": true}'
run ozon-extract --cache refresh
is "$(requests)/$(summary cache_hits)" 3/0 "--cache refresh fetches everything"
sim_control '{"reset_log": true}'
run ozon-extract --cache off
is "$(requests)/$(summary cache_hits)/$(summary cache_misses)" 3/0/0 \
    "--cache off neither reads nor counts"
ok '! redis-cli -s "$T/redis.sock" --scan | grep -q -- "$SIM_KEY"' \
    "no cache key holds the Api-Key"

# two processes of one Client-Id share the limit through Redis
reset_sim
OZON_RATE_LIMIT=4 ozon-extract --limit 500 --cache off >/dev/null 2>"$T/e1" &
p1=$!
OZON_RATE_LIMIT=4 ozon-extract --limit 500 --cache off >/dev/null 2>"$T/e2" &
p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
span=$(jq -s '(.[-1].t - .[0].t) * 1000 | floor' "$T/sim.log")
is "$r1/$r2/$(requests)" 0/0/12 "two runs at once: 12 requests"
ok '[ "$span" -ge 2500 ]' "together they keep 4/s: 12 requests span $span ms (>= 2750 less tolerance)"

# Redis down: a warning, and the run still works
kill "$REDIS_PID"
wait "$REDIS_PID" 2>/dev/null
reset_sim
run ozon-extract
is "$RC/$(summary complete)" 0/true "Redis gone: the run still succeeds"
ok 'grep -q "redis:" "$T/err"' "with a warning"
REDIS_URL=redis://127.0.0.1:1/0 run ozon-extract
is "$RC" 0 "Redis unreachable from the start: still 0"

# --- a data set that changed between runs ---
reset_sim
run ozon-extract --cache off
cp "$T/out" "$T/epoch0"
sim_control '{"epoch": 1}'
run ozon-extract --cache off
ok '[ "$RC" = 0 ] && ! cmp -s "$T/out" "$T/epoch0"' \
    "a changed data set gives changed rows"

# --- secrets ---
reset_sim
run ozon-extract -v
ok 'grep -q "\"api_key\":\"\[redacted\]\"" "$T/err"' \
    "--verbose logs each request with the key redacted"
is "$(grep -c '"event":"request"' "$T/err")" 3 "one request event per request"
ok '! grep -rq -- "$SIM_KEY" "$T"' \
    "the Api-Key is in no output, log or file of this test"
