#!/bin/sh
# etl-ctl migrate and etl-load against a real, throwaway PostgreSQL:
# the insert, update, zero and unchanged paths with their audit rows,
# replays, the full-sync guard, rejects, exact strings, the lock, and
# kills and a stopped server that leave the database as it was.
. "$TOP/tests/lib.sh"
plan 63

export ETL_SQL_DIR=$TOP/sql
q() {
	psql -XAtq -v ON_ERROR_STOP=1 -c "$1"
}
# inventory and audit, as text, to compare before and after
snapshot() {
	q "SELECT sku, warehouse_name, available, reserved, promised_amount,
	    product_name FROM inventory ORDER BY 1, 2" >"$1"
	q "SELECT count(*) FROM inventory_audit" >>"$1"
}

# --- migrations ---
ETL_DATABASE_URL="host=$T/nowhere user=postgres" run etl-ctl migrate
is "$RC" 69 "migrate: no server, 69"
pg_start || { cat "$T/pg.log" >&2; exit 1; }
run etl-ctl migrate
is "$RC" 0 "migrate: exit 0"
is "$(cat "$T/out")" "001_schema                       applied now
002_seed_warehouses              applied now
003_alerts                       applied now" "migrate: all applied, in order"
run etl-ctl migrate
is "$RC/$(cat "$T/out")" "0/up to date" "migrate again: nothing to do"
run etl-ctl migrate --status
ok '[ "$RC" = 0 ] && [ "$(grep -c " applied 20" "$T/out")" = 3 ]' \
    "migrate --status: all applied, with their time"
is "$(q 'SELECT count(*) FROM schema_migrations')" 3 "recorded in schema_migrations"
is "$(q "SELECT count(*) FROM warehouse_normalization WHERE source_type = 'seed'")" \
    "$(grep -vc '^#' "$TOP/sql/warehouses.tsv")" "the default mapping is seeded"
sh "$TOP/tools/gen-seed.sh" >"$T/seed.sql"
check_same "$T/seed.sql" "$TOP/sql/002_seed_warehouses.sql" \
    "the seed migration matches sql/warehouses.tsv"
ok '! q "INSERT INTO inventory (sku, warehouse_name, available) VALUES (1, '"'x'"', -1)" 2>/dev/null' \
    "schema: a negative amount is refused"
ok '! q "INSERT INTO analytics_etl_log (batch_id, run_type, status) VALUES ('"'b'"', '"'full_sync'"', '"'done'"')" 2>/dev/null' \
    "schema: an unknown run status is refused"

# --- etl-normalize takes its mapping from the database ---
mapping_source() {
	grep '"event":"mapping"' "$T/err" | jq -r '"\(.source) \(.entries)"'
}
printf '%s\n' '{"warehouse_name":"Склад №7"}' '{"warehouse_name":"Хоругвино_РФЦ"}' >"$T/names"
IN=$T/names
env -u ETL_MAPPING_FILE sh -c 'etl-normalize <"$1" >"$2" 2>"$3"' - "$T/names" "$T/out" "$T/err"
is "$(mapping_source)" "database $(grep -vc '^#' "$TOP/sql/warehouses.tsv")" \
    "with a database: the mapping is warehouse_normalization's"
q "INSERT INTO warehouse_normalization (original_name, normalized_name,
    cluster_name, source_type) VALUES ('Склад №7', 'МОЙ_СКЛАД_7', 'Мой', 'manual'),
    ('Хоругвино_РФЦ', 'ХОРУГВИНО_ДРУГОЙ', NULL, 'manual')"
env -u ETL_MAPPING_FILE sh -c 'etl-normalize <"$1" >"$2" 2>"$3"' - "$T/names" "$T/out" "$T/err"
is "$(jq -c '[.normalized_warehouse_name, .normalization.match]' "$T/out" | tr '\n' ' ')" \
    '["МОЙ_СКЛАД_7","exact"] ["ХОРУГВИНО_ДРУГОЙ","exact"] ' \
    "an operator's mapping is used, and wins over the seed"
redis_start
env -u ETL_MAPPING_FILE sh -c 'etl-normalize <"$1" >"$2" 2>"$3"' - "$T/names" "$T/out" "$T/err"
is "$(mapping_source | cut -d' ' -f1)" database "with Redis: first from the database"
env -u ETL_MAPPING_FILE sh -c 'etl-normalize <"$1" >"$2" 2>"$3"' - "$T/names" "$T/out" "$T/err"
is "$(mapping_source | cut -d' ' -f1)/$(jq -r .normalized_warehouse_name "$T/out" | head -n 1)" \
    "redis/МОЙ_СКЛАД_7" "then from the cache, the same mapping"
q "UPDATE warehouse_normalization SET normalized_name = 'МОЙ_СКЛАД_8' WHERE original_name = 'Склад №7'"
redis-cli -s "$T/redis.sock" INCR ozon-etl:mapping:version >/dev/null
env -u ETL_MAPPING_FILE sh -c 'etl-normalize <"$1" >"$2" 2>"$3"' - "$T/names" "$T/out" "$T/err"
is "$(mapping_source | cut -d' ' -f1)/$(jq -r .normalized_warehouse_name "$T/out" | head -n 1)" \
    "database/МОЙ_СКЛАД_8" "a bumped version: the new mapping from the database"
q "DELETE FROM warehouse_normalization WHERE source_type = 'manual'"
kill "$REDIS_PID"
unset REDIS_URL
run etl-normalize -m "$TOP/sql/warehouses.tsv"
is "$(mapping_source | cut -d' ' -f1)" file "-m FILE still wins"

# --- the first load: inserts ---
etl-validate <"$FIX/stock.ndjson" 2>/dev/null | etl-normalize >"$T/norm" 2>/dev/null
IN=$T/norm
ETL_BATCH_ID=b1 run etl-load --mode full
is "$RC" 0 "first load: exit 0"
is "$(summary inserted)/$(summary updated)/$(summary zeroed)/$(summary unchanged)/$(summary duplicates)" \
    "13/0/0/0/1" "first load: 13 inserted, two spellings of one key collapsed"
is "$(q 'SELECT count(*) FROM inventory')" 13 "13 inventory rows"
is "$(q "SELECT count(*) FROM inventory_audit WHERE change_type = 'insert' AND batch_id = 'b1' AND change_source = 'api_sync' AND old_values IS NULL")" \
    13 "13 insert audit rows, same batch"
is "$(jq -r .change_type "$T/out" | sort | uniq -c | tr -s ' ')" " 13 insert" \
    "13 change records"
is "$(q "SELECT available FROM inventory WHERE sku = 987654321")" 9 \
    "duplicate key: the last line wins"
is "$(q "SELECT original_name || '=' || normalized_name FROM warehouse_normalization WHERE source_type = 'auto_detected'")" \
    "Склад Новый Уренгой=НОВЫЙ_УРЕНГОЙ" "an unknown name is recorded for review"

# --- replay: nothing ---
snapshot "$T/before"
ETL_BATCH_ID=b2 run etl-load --mode full
snapshot "$T/after"
is "$RC/$(summary unchanged)/$(wc -c <"$T/out" | tr -d ' ')" "0/13/0" \
    "replay: 13 unchanged, no change record"
check_same "$T/after" "$T/before" "replay: no row and no audit row written"
is "$(q "SELECT count(*) FROM inventory WHERE batch_id = 'b2'")" 0 \
    "replay: no row rewritten"

# --- an update ---
sed 's/"free_to_sell_amount":120/"free_to_sell_amount":121/' "$T/norm" >"$T/upd"
IN=$T/upd
ETL_BATCH_ID=b3 run etl-load
is "$(summary updated)/$(summary unchanged)" 1/12 "one amount changed: one update"
is "$(q "SELECT old_available || '>' || new_available || ' ' || old_reserved || '>' || new_reserved FROM inventory_audit WHERE batch_id = 'b3'")" \
    "120>121 7>7" "its audit row has old and new values"
is "$(jq -c '[.change_type, .sku, .old.available, .new.available, .batch_id]' "$T/out")" \
    '["update",1480265613,120,121,"b3"]' "and its change record"

# --- incremental zeroes nothing; full zeroes what is gone ---
head -n 11 "$T/upd" >"$T/part"
IN=$T/part
run etl-load --mode incremental
is "$RC/$(summary zeroed)" 0/0 "incremental: rows missing from the input stay"
ETL_BATCH_ID=b4 run etl-load --mode full
is "$RC/$(summary zeroed)" 0/3 "full: the three rows gone are zeroed"
is "$(q "SELECT count(*) FROM inventory_audit WHERE batch_id = 'b4' AND change_type = 'zero' AND new_available = 0")" \
    3 "with their zero audit rows"

# --- the guard ---
snapshot "$T/before"
head -n 3 "$T/upd" >"$T/tiny"
IN=$T/tiny
run etl-load --mode full
snapshot "$T/after"
is "$RC" 65 "full sync zeroing most rows: refused with 65"
check_same "$T/after" "$T/before" "refused: nothing changed"
ok 'grep -q "full sync would zero" "$T/err"' "refused: it says why"
run etl-load --mode full --dry-run --force
snapshot "$T/after"
# three lines: one of them is the other spelling of a key, with its
# own amounts; the rows not zeroed yet go to zero
is "$RC/$(summary zeroed)/$(jq -r .change_type "$T/out" | sort -u | tr '\n' ' ')" \
    "0/7/update zero " "--dry-run --force: prints what would change"
check_same "$T/after" "$T/before" "--dry-run: nothing changed"

# --- rejects and exact strings ---
cat >"$T/odd" <<'ROWS'
{"sku":777,"warehouse_name":"W1","normalized_warehouse_name":"ТЕСТ_1","item_code":"q\"uote","item_name":"tab\there\nnew\\line 'single' \"double\" 😀 Ёлка","free_to_sell_amount":1,"promised_amount":0,"reserved_amount":0}
{"sku":"778","warehouse_name":"W1","free_to_sell_amount":1,"promised_amount":0,"reserved_amount":0}
{"sku":779,"warehouse_name":"W1","free_to_sell_amount":-1,"promised_amount":0,"reserved_amount":0}
not json
{"sku":780,"free_to_sell_amount":1,"promised_amount":0,"reserved_amount":0}
ROWS
IN=$T/odd
run etl-load
is "$RC/$(summary inserted)/$(summary rejected)" 0/1/4 \
    "bad rows rejected, the good one loaded"
is "$(jq -r '"\(.line) \(.reason)"' "$T/rej" | tr '\n' '|')" \
    "2 sku: not an integer from 1 to 9223372036854775807|3 free_to_sell_amount: not an integer from 0 to 2147483647|4 invalid JSON: lexical error: invalid string in json text|5 warehouse_name: missing, empty or longer than 255 characters|" \
    "each reject with its line and reason"
q "SELECT json_build_object('c', product_code, 'n', product_name) FROM inventory WHERE sku = 777" |
    jq -c . >"$T/got"
jq -c '{c: .item_code, n: .item_name}' "$T/odd" 2>/dev/null | head -n 1 >"$T/want"
check_same "$T/got" "$T/want" "quotes, backslash, tab, newline, emoji, Cyrillic: exact"

# rows the database itself refuses: found, rejected with its reason, and
# the rest loaded
q "ALTER TABLE inventory ADD CONSTRAINT test_no_13 CHECK (sku NOT IN (13, 17))"
awk 'BEGIN { for (i = 10; i <= 20; i++)
    printf "{\"sku\":%d,\"warehouse_name\":\"R\",\"free_to_sell_amount\":1,\"promised_amount\":0,\"reserved_amount\":0}\n", i }' >"$T/refused"
IN=$T/refused
run etl-load
is "$RC/$(summary inserted)/$(summary refused)/$(summary rejected)" 0/9/2/2 \
    "two rows refused by the database: the nine others loaded"
is "$(jq -c '[.line, .record.sku, .reason]' "$T/rej" | tr '\n' ' ')" \
    '[4,13,"new row for relation \"inventory\" violates check constraint \"test_no_13\""] [8,17,"new row for relation \"inventory\" violates check constraint \"test_no_13\""] ' \
    "each with its line and the server's reason"
is "$(q "SELECT count(*) FROM inventory_audit a JOIN inventory i ON i.id = a.inventory_id WHERE i.warehouse_name = 'R'")/$(jq -s length "$T/out")" \
    9/9 "nine audit rows, nine change records"
q "ALTER TABLE inventory DROP CONSTRAINT test_no_13"

# --- one load at a time ---
q "SELECT 1" >/dev/null
(psql -XAtq -c "BEGIN" -c "SELECT pg_advisory_xact_lock(7310283340917731329)" \
    -c "SELECT pg_sleep(4)" -c "COMMIT" >/dev/null 2>&1) &
locker=$!
i=0
while [ $i -lt 200 ] && [ "$(q "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")" = 0 ]; do
	sleep 0.05
	i=$((i + 1))
done
IN=$T/norm
run etl-load
is "$RC" 75 "another load running: 75 at once"
ok 'grep -q "another load of the api source is running" "$T/err"' "and it says so"
ETL_LOCK_TIMEOUT=200ms run etl-load --wait
is "$RC" 75 "--wait past lock_timeout: 75"
wait $locker
run etl-load --wait
is "$RC" 0 "--wait once the other is done: 0"

# --- killed mid-run: as before ---
snapshot "$T/before"
mkfifo "$T/fifo"
( head -n 6 "$T/upd"; sleep 5 ) >"$T/fifo" &
feeder=$!
etl-load --mode full --force <"$T/fifo" >/dev/null 2>&1 3>&1 &
loader=$!
sleep 1
kill -9 $loader
wait $loader 2>/dev/null
kill $feeder 2>/dev/null
snapshot "$T/after"
check_same "$T/after" "$T/before" "kill -9 during COPY: the database as before"
is "$(q "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")" 0 \
    "and its lock is gone with it"

# killed during the upsert: a large load, killed once the upsert runs
awk 'BEGIN { for (i = 1; i <= 300000; i++)
    printf "{\"sku\":%d,\"warehouse_name\":\"W%d\",\"free_to_sell_amount\":%d,\"promised_amount\":0,\"reserved_amount\":0}\n",
    i, i % 50, i % 97 }' >"$T/big"
etl-load <"$T/big" >/dev/null 2>&1 3>/dev/null &
loader=$!
i=0
while [ $i -lt 300 ] && [ "$(q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'etl-load' AND query LIKE '%INSERT INTO inventory AS i%'")" = 0 ]; do
	sleep 0.05
	i=$((i + 1))
done
is "$(q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'etl-load' AND query LIKE '%INSERT INTO inventory AS i%' AND state = 'active'")" \
    1 "the upsert is running"
kill -9 $loader
wait $loader 2>/dev/null
# its backend finds the client gone and rolls back
i=0
while [ $i -lt 600 ] && [ "$(q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'etl-load'")" != 0 ]; do
	sleep 0.05
	i=$((i + 1))
done
snapshot "$T/after"
check_same "$T/after" "$T/before" "kill -9 during the upsert: the database as before"

# the server stops while etl-load reads: 69, and nothing half done
( head -n 6 "$T/upd"; sleep 3 ) >"$T/fifo" &
feeder=$!
etl-load --mode full --force <"$T/fifo" >"$T/out" 2>"$T/err" 3>/dev/null &
loader=$!
sleep 1
pg_stop
wait $loader
rc=$?
kill $feeder 2>/dev/null
is "$rc" 69 "server stopped mid-run: 69"
ok '[ ! -s "$T/out" ]' "and no change record"
pg_restart
snapshot "$T/after"
check_same "$T/after" "$T/before" "after restart: the database as before"
ETL_DATABASE_URL="host=$T/nowhere user=postgres" run etl-load
is "$RC" 69 "no server: 69"
ok 'grep -q "database:" "$T/err"' "with the reason"
run etl-load --mode sometimes
is "$RC" 64 "bad --mode: usage error"
ETL_DATABASE_URL='postgresql://u:sec%zzret@localhost/db' run etl-load
is "$RC" 78 "a malformed ETL_DATABASE_URL: 78"
ok '! grep -q "sec%zzret" "$T/err"' "and its password is not shown"
ETL_LOCK_TIMEOUT=soon run etl-load
is "$RC" 78 "a bad ETL_LOCK_TIMEOUT: 78"

# output that cannot be written
snapshot "$T/before"
IN=$T/odd
# a change and four rejects
sed '1s/"free_to_sell_amount":1/"free_to_sell_amount":5/' "$T/odd" |
    etl-load >/dev/null 2>"$T/err" 3>/dev/full
rc=$?
snapshot "$T/after"
is "$rc" 74 "reject stream on a full disk: 74"
check_same "$T/after" "$T/before" "and nothing loaded"
sed 's/"free_to_sell_amount":121/"free_to_sell_amount":122/' "$T/upd" |
    etl-load >/dev/full 2>"$T/err"
rc=$?
is "$rc/$(grep '"event":"summary"' "$T/err" | jq -c .committed)" 74/true \
    "stdout on a full disk after COMMIT: 74, and the summary says committed"
