#!/bin/sh
# etl-ctl mapping against a real, throwaway PostgreSQL and Redis: list,
# add, confirm, import, export and review; names left for review by a
# real etl-normalize | etl-load run; the version bump that makes every
# etl-normalize drop its cached mapping at once; exit codes.
. "$TOP/tests/lib.sh"
plan 101

export ETL_SQL_DIR=$TOP/sql
tab=$(printf '\t')
q() {
	psql -XAtq -v ON_ERROR_STOP=1 -c "$1"
}
# a query with the name $1 as :'n'
qn() {
	printf '%s\n' "$2" | psql -XAtq -v ON_ERROR_STOP=1 -v n="$1"
}
# warehouse_normalization as text, to compare before and after
snapshot() {
	q "SELECT original_name, normalized_name, cluster_name, warehouse_code,
	    source_type, is_active, updated_at FROM warehouse_normalization
	    ORDER BY 1, 5" >"$1"
}
# etl-normalize with the mapping from the database (and Redis when set)
normalize_db() {
	env -u ETL_MAPPING_FILE etl-normalize <"$1" >"$T/out" 2>"$T/err"
}
mapping_source() {
	grep '"event":"mapping"' "$T/err" | jq -r .source
}
# in the table in $T/out: the text of the line starting with $2, from
# the character where header word $1 starts
column_at() {
	jq -Rrs --arg h "$1" --arg l "$2" 'split("\n") as $L |
	    ($L[0] | index($h)) as $p | $L[1:][] | select(startswith($l)) |
	    explode | .[$p:] | implode' "$T/out"
}
manual_rows() {
	q "SELECT count(*) FROM warehouse_normalization WHERE source_type = 'manual'"
}
seeds=$(grep -vc '^#' "$TOP/sql/warehouses.tsv")

# --- no database, no schema ---
ETL_DATABASE_URL="host=$T/nowhere user=postgres" run etl-ctl mapping list
is "$RC" 69 "no server: 69"
ok 'grep -q "mapping list: database:" "$T/err"' "with the reason"
pg_start || { cat "$T/pg.log" >&2; exit 1; }
run etl-ctl mapping review
is "$RC" 78 "no schema yet: 78"
ok 'grep -q "run etl-ctl migrate" "$T/err"' "and it says to run migrate"
run etl-ctl migrate
is "$RC" 0 "migrate"

# --- list ---
run etl-ctl mapping list
is "$RC" 0 "list: exit 0"
is "$(head -n 1 "$T/out" | tr -s ' ')" \
    "original normalized cluster code source confidence seen last_seen" \
    "list: a header line"
is "$(($(wc -l <"$T/out") - 1))" "$seeds" "list: one line per seeded mapping"
is "$(column_at normalized Хоругвино_РФЦ | tr -s ' ')" \
    "ХОРУГВИНО_РФЦ Москва, МО и Дальние регионы - seed 1.00 0 -" \
    "list: a seeded spelling, in aligned columns"
is "$(column_at source РОСТОВ-НА-ДОНУ_РФЦ | cut -d' ' -f1)" seed \
    "list: columns aligned by characters, not bytes"
run etl-ctl mapping list --json
is "$RC/$(jq -s length "$T/out")" "0/$seeds" "list --json: an object per line"
is "$(jq -c 'select(.original == "Хоругвино_РФЦ") | [.normalized, .cluster,
    .code, .source, .confidence == 1, .active, .seen_count, .last_seen_at]' "$T/out")" \
    '["ХОРУГВИНО_РФЦ","Москва, МО и Дальние регионы",null,"seed",true,true,0,null]' \
    "list --json: the fields of a seeded spelling"
jq -r '[.normalized, .original] | join("\t")' "$T/out" >"$T/order"
ok 'LC_ALL=C sort -c "$T/order"' "list: ordered by normalized name, then original"
run etl-ctl mapping list --source manual
is "$RC/$(wc -l <"$T/out")" 0/1 "list --source manual: none yet"

# --- add ---
name='Склад "Кавычки" \ №1'
run etl-ctl mapping add "$name" КАВЫЧКИ_1 Тест K1
is "$RC/$(cat "$T/out")" "0/added: $name -> КАВЫЧКИ_1 (cluster Тест, code K1)" \
    "add: added"
is "$(qn "$name" "SELECT normalized_name || '|' || cluster_name || '|' ||
    warehouse_code || '|' || confidence || '|' || is_active
    FROM warehouse_normalization WHERE original_name = :'n'
    AND source_type = 'manual'")" "КАВЫЧКИ_1|Тест|K1|1.00|true" \
    "add: a manual row, active, exactly as given"
run etl-ctl mapping list --json --source manual
is "$(jq -r .original "$T/out")" "$name" \
    "list --json: quotes and backslash escaped right"
run etl-ctl mapping list
ok 'grep -qF "$name" "$T/out" && grep -F "$name" "$T/out" | grep -q " manual "' \
    "list: the manual mapping is shown"
snapshot "$T/before"
run etl-ctl mapping add "$name" КАВЫЧКИ_1 Тест K1
snapshot "$T/after"
is "$RC/$(cat "$T/out")" "0/unchanged: $name -> КАВЫЧКИ_1 (cluster Тест, code K1)" \
    "add the same again: unchanged"
check_same "$T/after" "$T/before" "unchanged: the row is not rewritten"
run etl-ctl mapping add "$name" КАВЫЧКИ_1 '' K2
is "$RC/$(cat "$T/out")" "0/updated: $name -> КАВЫЧКИ_1 (code K2)" \
    "add with another code: updated"
is "$(qn "$name" "SELECT coalesce(cluster_name, 'NULL') || '|' || warehouse_code
    FROM warehouse_normalization WHERE original_name = :'n'")" "NULL|K2" \
    "an empty cluster is NULL"
run etl-ctl mapping add -- -Склад ТИРЕ
is "$RC/$(cat "$T/out")" "0/added: -Склад -> ТИРЕ" \
    "add -- NAME: a name that begins with a dash"

q "INSERT INTO warehouse_normalization (original_name, normalized_name,
    source_type, confidence, seen_count, first_seen_at, last_seen_at)
    VALUES ('Склад Ручной', 'РУЧНОЙ', 'auto_detected', 0.7, 5, now(), now())"
run etl-ctl mapping add 'Склад Ручной' РУЧНОЙ_1 Юг
is "$RC/$(cat "$T/out")" "0/added: Склад Ручной -> РУЧНОЙ_1 (cluster Юг)
reviewed: Склад Ручной (its auto_detected row is no longer active)" \
    "add over an auto_detected name: added, and the name reviewed"
is "$(q "SELECT source_type || ':' || is_active FROM warehouse_normalization
    WHERE original_name = 'Склад Ручной' ORDER BY 1" | tr '\n' ' ')" \
    "auto_detected:false manual:true " \
    "the auto_detected row is inactive, the manual one active"
run etl-ctl mapping list --source auto_detected
is "$(wc -l <"$T/out")" 1 "list: an inactive row is not shown"
run etl-ctl mapping list --all --source auto_detected
is "$(head -n 1 "$T/out" | tr -s ' ')" \
    "original normalized cluster code source confidence seen last_seen active" \
    "list --all: an active column"
ok 'tail -n 1 "$T/out" | grep -q "^Склад Ручной  *РУЧНОЙ  *-  *-  *auto_detected  *0.70  *5  *20[0-9-]* [0-9:]*  *no$"' \
    "list --all: the inactive row, with its seen count and time"

# --- bad arguments ---
rcs=""
for args in "" "frob" "add one" "add a b c d e" "add -X Y" "list --source bogus" \
    "list --bogus" "list extra" "review extra" "confirm" "confirm a b" \
    "import" "import a b" "export x" "list --source"; do
	# shellcheck disable=SC2086
	run etl-ctl mapping $args
	rcs="$rcs$RC "
done
is "$rcs" "64 64 64 64 64 64 64 64 64 64 64 64 64 64 64 " \
    "no command, an unknown one, operands or options wrong: 64 each"
run etl-ctl mapping add one
is "$(cat "$T/err")" "usage: etl-ctl mapping add ORIGINAL NORMALIZED [CLUSTER [CODE]]" \
    "with the usage line of that command"
run etl-ctl mapping list --source bogus
ok 'grep -q "^etl-ctl mapping list: --source: want seed, manual or auto_detected" "$T/err"' \
    "a bad --source says why"
run etl-ctl mapping
ok '[ "$(grep -c "etl-ctl mapping " "$T/err")" = 6 ]' \
    "no command: the usage of all six"

long255=$(printf 'Ж%.0s' $(seq 255))
long256=${long255}Ж
before=$(manual_rows)
rcs=""
for pair in "|X" "X|" "a${tab}b|X" "X|a
b" "X|$(printf 'a\001b')" "$(printf 'a\377b')|X" "$long256|X" "X|$long256" \
    "#x|X" "X|Y|$(printf '\r')"; do
	run etl-ctl mapping add "${pair%%|*}" "$(echo "${pair#*|}" | cut -d'|' -f1)" \
	    "$(echo "${pair#*|}" | cut -s -d'|' -f2)"
	rcs="$rcs$RC "
done
is "$rcs" "65 65 65 65 65 65 65 65 65 65 " \
    "empty, tab, line break, control, not UTF-8, 256 characters, '#': 65 each"
is "$(manual_rows)" "$before" "and nothing written"
run etl-ctl mapping add "a${tab}b" X
ok 'grep -q "mapping add: original name: holds a tab" "$T/err"' \
    "a bad argument: what is wrong with which"
run etl-ctl mapping add X "$long256"
ok 'grep -q "mapping add: normalized name: longer than 255 characters" "$T/err"' \
    "a name too long: says so"
run etl-ctl mapping add "$long255" ДЛИННЫЙ
is "$RC/$(qn "$long255" "SELECT length(original_name) FROM warehouse_normalization
    WHERE original_name = :'n'")" 0/255 \
    "255 characters (510 bytes) are fine"

# --- review, with names left by a real etl-normalize | etl-load ---
printf '%s\n' \
    '{"sku":1,"warehouse_name":"Склад Тестовый Новый","free_to_sell_amount":1,"promised_amount":0,"reserved_amount":0}' \
    '{"sku":2,"warehouse_name":"Склад Другой","free_to_sell_amount":1,"promised_amount":0,"reserved_amount":0}' \
    >"$T/new"
tail -n 1 "$T/new" >"$T/other"
env -u ETL_MAPPING_FILE etl-normalize <"$T/new" 2>/dev/null | etl-load >/dev/null 2>&1
env -u ETL_MAPPING_FILE etl-normalize <"$T/other" 2>/dev/null | etl-load >/dev/null 2>&1
is "$(q "SELECT original_name || '=' || seen_count FROM warehouse_normalization
    WHERE source_type = 'auto_detected' AND is_active ORDER BY 1" | tr '\n' ' ')" \
    "Склад Другой=2 Склад Тестовый Новый=1 " \
    "etl-load recorded the two unknown names for review"
run etl-ctl mapping review
is "$RC" 0 "review: exit 0"
is "$(head -n 3 "$T/out" | sed 's/  .*//' | tr '\n' '|')" \
    "original|Склад Другой|Склад Тестовый Новый|" \
    "review: a header, then the names, most seen first"
is "$(column_at suggested 'Склад Тестовый' | cut -d' ' -f1-3)" "ТЕСТОВЫЙ_НОВЫЙ  1" \
    "review: the suggested name and the seen count"
ok 'grep -q "etl-ctl mapping confirm ORIGINAL" "$T/out" && grep -q "etl-ctl mapping add ORIGINAL NORMALIZED" "$T/out"' \
    "review: a hint how to confirm or add"
run etl-ctl mapping review --json
is "$RC/$(jq -c '[.original, .suggested, .seen_count, (.first_seen_at | test("^20..-..-..T..:..:..Z$"))]' "$T/out" | tr '\n' ' ')" \
    '0/["Склад Другой","ДРУГОЙ",2,true] ["Склад Тестовый Новый","ТЕСТОВЫЙ_НОВЫЙ",1,true] ' \
    "review --json: an object per name"

# --- confirm ---
run etl-ctl mapping confirm 'Склад Тестовый Новый'
is "$RC/$(cat "$T/out")" "0/added: Склад Тестовый Новый -> ТЕСТОВЫЙ_НОВЫЙ
reviewed: Склад Тестовый Новый (its auto_detected row is no longer active)" \
    "confirm: the suggestion made a manual mapping"
is "$(q "SELECT source_type || ':' || normalized_name || ':' || is_active
    FROM warehouse_normalization WHERE original_name = 'Склад Тестовый Новый'
    ORDER BY 1" | tr '\n' ' ')" \
    "auto_detected:ТЕСТОВЫЙ_НОВЫЙ:false manual:ТЕСТОВЫЙ_НОВЫЙ:true " \
    "confirm: manual and active, the auto_detected row inactive"
normalize_db "$T/new"
is "$(jq -c '[.normalized_warehouse_name, .normalization.match]' "$T/out" | tr '\n' ' ')" \
    '["ТЕСТОВЫЙ_НОВЫЙ","exact"] ["ДРУГОЙ","auto"] ' \
    "etl-normalize now knows the confirmed name exactly"
run etl-ctl mapping confirm 'Склад Тестовый Новый'
is "$RC/$(wc -c <"$T/out")" 65/0 "confirm again: 65"
ok 'grep -q "Склад Тестовый Новый: reviewed already" "$T/err"' "and it says so"
run etl-ctl mapping confirm 'Склад Нет Такого'
is "$RC" 65 "confirm a name nobody saw: 65"
ok 'grep -q "Склад Нет Такого: no such auto_detected name" "$T/err"' "and it says so"
run etl-ctl mapping review
is "$(sed -n 2p "$T/out" | sed 's/  .*//')/$(grep -c Склад "$T/out")" "Склад Другой/1" \
    "review: the confirmed name is gone, the other is left"
run etl-ctl mapping confirm 'Склад Другой'
run etl-ctl mapping review
is "$RC/$(cat "$T/out")" "0/nothing to review" "review, none left: nothing to review"
run etl-ctl mapping review --json
is "$RC/$(wc -c <"$T/out")" 0/0 "review --json, none left: no output"

# --- export ---
run etl-ctl mapping add Хоругвино_РФЦ ХОРУГВИНО_ТЕСТ
run etl-ctl mapping export
cp "$T/out" "$T/export.tsv"
is "$RC" 0 "export: exit 0"
ok 'head -n 1 "$T/export.tsv" | grep -q "^# ozon-etl warehouse mapping"' \
    "export: a comment header"
is "$(grep -vc '^#' "$T/export.tsv")" \
    "$(q "SELECT count(DISTINCT original_name) FROM warehouse_normalization
    WHERE is_active AND source_type <> 'auto_detected'")" \
    "export: one line per active spelling"
is "$(grep "^Хоругвино_РФЦ$tab" "$T/export.tsv")" \
    "Хоругвино_РФЦ${tab}ХОРУГВИНО_ТЕСТ$tab$tab" \
    "export: manual wins over seed, four columns"
ok '! grep -v "^#" "$T/export.tsv" | grep -qv "^[^$tab]*$tab[^$tab]*$tab[^$tab]*$tab[^$tab]*\$"' \
    "export: every line has four columns"
printf '%s\n' '{"warehouse_name":"РОСТОВ-НА-ДОНУ_РФЦ"}' \
    '{"warehouse_name":"Склад \"Кавычки\" \\ №1"}' \
    '{"warehouse_name":"Хоругвино_РФЦ"}' >"$T/names"
IN=$T/names
run etl-normalize -m "$T/export.tsv"
is "$RC/$(jq -c '[.normalized_warehouse_name, .cluster_name, .normalization.match]' "$T/out" | tr '\n' ' ')" \
    '0/["РОСТОВ_НА_ДОНУ_РФЦ","Ростов","exact"] ["КАВЫЧКИ_1",null,"exact"] ["ХОРУГВИНО_ТЕСТ",null,"exact"] ' \
    "etl-normalize -m the export: seeded and manual spellings"
# every spelling, through the export and through the database: the same
grep -v '^#' "$T/export.tsv" | cut -f1 |
    jq -Rc '{warehouse_name: .}' >"$T/all"
etl-normalize -m "$T/export.tsv" <"$T/all" >"$T/via-file" 2>/dev/null
normalize_db "$T/all"
check_same "$T/out" "$T/via-file" \
    "the export normalizes every spelling as the database mapping does"
IN=/dev/null

# --- import ---
q "INSERT INTO warehouse_normalization (original_name, normalized_name,
    source_type, confidence) VALUES ('Ёлки-Палки', 'ЁЛКИ', 'auto_detected', 0.7)"
cat >"$T/imp.tsv" <<EOF
# an operator's mappings

Склад "Импорт" \\ 1${tab}ИМПОРТ_1${tab}Юг${tab}I1
Ёлки-Палки${tab}ЁЛКИ_ПАЛКИ
Тест_Back\\slash${tab}ТЕСТ_BACKSLASH${tab}Север
Ёлки-Палки${tab}ЁЛКИ_ПАЛКИ${tab}${tab}
EOF
cat >"$T/want" <<EOF
Склад "Импорт" \\ 1${tab}ИМПОРТ_1${tab}Юг${tab}I1
Тест_Back\\slash${tab}ТЕСТ_BACKSLASH${tab}Север${tab}
Ёлки-Палки${tab}ЁЛКИ_ПАЛКИ${tab}${tab}
EOF
imported() {
	psql -XAtq -F "$tab" -c "SELECT original_name, normalized_name,
	    coalesce(cluster_name, ''), coalesce(warehouse_code, '')
	    FROM warehouse_normalization WHERE source_type = 'manual'
	    AND is_active AND normalized_name IN ('ИМПОРТ_1', 'ЁЛКИ_ПАЛКИ',
	    'ТЕСТ_BACKSLASH')" | LC_ALL=C sort
}
run etl-ctl mapping import "$T/imp.tsv"
is "$RC/$(cat "$T/out")" "0/added 3, updated 0, unchanged 0, reviewed 1" \
    "import: three added, the same line twice once, an auto_detected name reviewed"
LC_ALL=C sort "$T/want" >"$T/want.sorted"
imported >"$T/got"
check_same "$T/got" "$T/want.sorted" "import: quotes, backslash, Cyrillic: exact"
is "$(q "SELECT is_active FROM warehouse_normalization
    WHERE original_name = 'Ёлки-Палки' AND source_type = 'auto_detected'")" f \
    "import: the auto_detected row is inactive"
run etl-ctl mapping import "$T/imp.tsv"
is "$RC/$(cat "$T/out")" "0/added 0, updated 0, unchanged 3, reviewed 0" \
    "import again: all unchanged"
sed 's/Север/Запад/' "$T/imp.tsv" >"$T/imp2.tsv"
IN=$T/imp2.tsv
run etl-ctl mapping import -
is "$RC/$(cat "$T/out")" "0/added 0, updated 1, unchanged 2, reviewed 0" \
    "import - (stdin): one updated"
IN=/dev/null

snapshot "$T/before"
bad_import() {
	printf "$1" >"$T/bad.tsv"
	run etl-ctl mapping import "$T/bad.tsv"
	snapshot "$T/after"
	is "$RC/$(cmp -s "$T/after" "$T/before" && echo same)" 65/same "$2: 65, nothing changed"
	where=$3
	ok 'grep -q "$where" "$T/err"' "$2: says where"
}
bad_import 'Новый_1\tНОВЫЙ_1\nНовый_2\tНОВЫЙ_2\nТолько_одна_колонка\n' \
    "a line with too few columns" "bad.tsv: line 3: want original, normalized"
bad_import 'Новый_1\tНОВЫЙ_1\tА\tB\tлишняя\n' \
    "a line with too many columns" "bad.tsv: line 1: want original"
bad_import '# x\nНовый_1\tНОВЫЙ_1\nНовый\001X\tНОВЫЙ_2\n' \
    "a control character" "bad.tsv: line 3: original name: holds a control character"
bad_import 'Новый_1\tНОВЫЙ_1\nНовый_2\tНОВЫЙ_2\nНовый_1\tНОВЫЙ_3\n' \
    "one spelling mapped twice" "bad.tsv: line 3: original name given on line 1 already"
bad_import 'Новый_1\tНОВЫЙ_1\tЮг\nНовый_1\tНОВЫЙ_1\tСевер\n' \
    "one spelling in two clusters" "bad.tsv: line 2: original name given on line 1"
bad_import 'Новый_1\tНОВЫЙ_1\n\nНовый_2\t\377\n' \
    "not UTF-8" "bad.tsv: line 3: not UTF-8"
bad_import "Новый_1\t$long256\n" \
    "a name of 256 characters" "bad.tsv: line 1: normalized name: longer than 255"
bad_import '\357\273\277Новый_1\tНОВЫЙ_1\n' \
    "a byte order mark" "bad.tsv: line 1: original name: holds a byte order mark"
printf 'Склад CRLF\tCRLF_1\tЮг\r\n# note\r\n\r\nСклад CRLF 2\tCRLF_2\r\n' >"$T/crlf.tsv"
run etl-ctl mapping import "$T/crlf.tsv"
is "$RC/$(cat "$T/out")/$(q "SELECT string_agg(normalized_name || ':' ||
    coalesce(cluster_name, '-'), ' ' ORDER BY 1) FROM warehouse_normalization
    WHERE original_name LIKE 'Склад CRLF%'")" \
    "0/added 2, updated 0, unchanged 0, reviewed 0/CRLF_1:Юг CRLF_2:-" \
    "import of a file with CRLF line ends"
run etl-ctl mapping import "$T/nowhere.tsv"
is "$RC" 66 "import of a file that is not there: 66"
# a full import, as the operator would do it: the export, edited
run etl-ctl mapping import "$T/export.tsv"
is "$RC/$(manual_rows)" \
    "0/$(q "SELECT count(DISTINCT original_name) FROM warehouse_normalization
    WHERE source_type <> 'auto_detected'")" \
    "import of an export: every active spelling manual now"

# --- the version in Redis ---
redis_start
rv() {
	redis-cli -s "$T/redis.sock" GET ozon-etl:mapping:version
}
printf '%s\n' '{"warehouse_name":"Склад Кеш"}' >"$T/kesh"
run etl-ctl mapping add 'Склад Кеш' КЕШ_СТАРЫЙ
is "$RC/$(rv)" 0/1 "add with Redis: the version bumped from none to 1"
normalize_db "$T/kesh"
is "$(mapping_source)/$(jq -r .normalized_warehouse_name "$T/out")" \
    "database/КЕШ_СТАРЫЙ" "etl-normalize: the mapping from the database"
normalize_db "$T/kesh"
is "$(mapping_source)/$(jq -r .normalized_warehouse_name "$T/out")" \
    "redis/КЕШ_СТАРЫЙ" "then from the Redis cache"
run etl-ctl mapping add 'Склад Кеш' КЕШ_НОВЫЙ
is "$RC/$(rv)" 0/2 "add: the version bumped"
normalize_db "$T/kesh"
is "$(mapping_source)/$(jq -r .normalized_warehouse_name "$T/out")" \
    "database/КЕШ_НОВЫЙ" "the next etl-normalize has the new mapping at once"
# a mapping cached under the next version long ago (the counter lost)
redis-cli -s "$T/redis.sock" SET ozon-etl:mapping:3 "Склад Кеш${tab}КЕШ_МУСОР${tab}${tab}" >/dev/null
printf 'Склад Кеш\tКЕШ_ИМПОРТ\n' >"$T/kesh.tsv"
run etl-ctl mapping import "$T/kesh.tsv"
is "$RC/$(rv)" 0/3 "import: the version bumped"
normalize_db "$T/kesh"
is "$(mapping_source)/$(jq -r .normalized_warehouse_name "$T/out")" \
    "database/КЕШ_ИМПОРТ" "a stale cache under the new version is not used"
q "INSERT INTO warehouse_normalization (original_name, normalized_name,
    source_type) VALUES ('Склад Авто', 'АВТО', 'auto_detected')"
run etl-ctl mapping confirm 'Склад Авто'
is "$RC/$(rv)" 0/4 "confirm: the version bumped"
run etl-ctl mapping add 'Склад Кеш' КЕШ_ИМПОРТ
is "$RC/$(head -c 10 "$T/out")/$(rv)" 0/unchanged:/5 \
    "add, unchanged: bumped all the same (a retry after Redis was down)"
run etl-ctl mapping add 'Склад Авто' АВТО 'bad
cluster'
is "$RC/$(rv)" 65/5 "a refused add: no bump"
kill "$REDIS_PID"
wait "$REDIS_PID" 2>/dev/null
run etl-ctl mapping add 'Склад Кеш' КЕШ_БЕЗ_REDIS
is "$RC/$(qn 'Склад Кеш' "SELECT normalized_name FROM warehouse_normalization
    WHERE original_name = :'n' AND source_type = 'manual'")" 0/КЕШ_БЕЗ_REDIS \
    "Redis down: add still works, exit 0"
ok 'grep -q "mapping version was not bumped" "$T/err"' \
    "with a warning that caches may be stale"
unset REDIS_URL

# --- output and database failures ---
etl-ctl mapping list >/dev/full 2>"$T/err"
is "$?" 74 "stdout on a full disk: 74"
ok 'grep -q "stdout:" "$T/err"' "and it says so"
pg_stop
run etl-ctl mapping add 'Склад Х' Х
is "$RC" 69 "add, server down: 69"
run etl-ctl mapping export
is "$RC/$(wc -c <"$T/out")" 69/0 "export, server down: 69 and no output"
pg_restart
run etl-ctl mapping list --source seed
is "$RC" 0 "server back: list works"
