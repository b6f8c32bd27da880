#!/bin/sh
# etl-normalize: the shipped mapping, the canonical form, unknown names,
# mapping files and their errors.
. "$TOP/tests/lib.sh"
plan 33
M=$TOP/sql/warehouses.tsv

# every spelling in the shipped mapping reaches its name and cluster
grep -v '^#' "$M" | awk -F'\t' '{ printf "%s\t%s\t%s\n", $1, $2, $3 }' \
    >"$T/map"
jq -R -c 'split("\t") | {sku: 1, warehouse_name: .[0]}' "$T/map" >"$T/in"
IN=$T/in
run etl-normalize
is "$RC" 0 "shipped mapping: exit 0"
is "$(wc -l <"$T/out")" "$(wc -l <"$T/map")" "shipped mapping: every row out"
jq -r '[.warehouse_name, .normalized_warehouse_name, .cluster_name // ""] |
    join("\t")' "$T/out" >"$T/got"
check_same "$T/got" "$T/map" "every spelling: its canonical name and cluster"
is "$(jq -r .normalization.match "$T/out" | sort -u)" exact \
    "every spelling matches exactly"
is "$(summary exact)" "$(wc -l <"$T/map")" "summary: exact counted"

# the same names in lower case with spaces reach them by rule
cut -f2 "$T/map" | sort -u >"$T/names"
sed 'y/АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ/абвгдеёжзийклмнопрстуфхцчшщъыьэюя/
    s/_/ /g' "$T/names" | jq -R -c '{warehouse_name: .}' >"$T/in"
run etl-normalize
jq -r .normalized_warehouse_name "$T/out" >"$T/got"
check_same "$T/got" "$T/names" "lower case, spaces: same canonical names"
is "$(jq -r .normalization.match "$T/out" | sort -u)" rule \
    "lower-case spellings match by rule"
is "$(jq -r .normalization.confidence "$T/out" | sort -u)" 0.9 \
    "rule confidence 0.9"

# word orders and long forms
printf '%s\n' 'Склад Хоругвино' 'РФЦ Хоругвино' ' хоругвино — рфц ' \
    'Самара региональный фулфилмент центр' \
    'Калининград мультирегиональный фулфилмент центр' \
    'СКЛАД РОСТОВ-НА-ДОНУ' | jq -R -c '{warehouse_name: .}' >"$T/in"
run etl-normalize
is "$(jq -r .normalized_warehouse_name "$T/out" | tr '\n' ' ')" \
    "ХОРУГВИНО_РФЦ ХОРУГВИНО_РФЦ ХОРУГВИНО_РФЦ САМАРА_РФЦ КАЛИНИНГРАД_МРФЦ РОСТОВ_НА_ДОНУ_РФЦ " \
    "Склад X, РФЦ X, long forms: the canonical warehouse"
is "$(jq -r .cluster_name "$T/out" | sort -u | tr '\n' '|')" \
    "Калининград|Москва, МО и Дальние регионы|Ростов|Самара|" \
    "and its cluster"
# "Склад Воронеж" could be three warehouses: no guess
printf '%s\n' '{"warehouse_name":"Склад Воронеж"}' >"$T/in"
run etl-normalize
is "$(jq -c '[.normalized_warehouse_name, .normalization.match]' "$T/out")" \
    '["ВОРОНЕЖ","auto"]' "an ambiguous place is not guessed"

# unknown names: auto, flagged, logged once per distinct name
printf '%s\n' \
    '{"sku":1,"warehouse_name":"Склад Новый Уренгой","quality_flags":[]}' \
    '{"sku":2,"warehouse_name":"Склад Новый Уренгой","quality_flags":["x"]}' \
    '{"sku":3,"warehouse_name":"склад   новый-уренгой"}' >"$T/in"
run etl-normalize
is "$RC" 0 "unknown names: exit 0"
is "$(sed -n 1p "$T/out" | jq -c '[.normalized_warehouse_name, .cluster_name, .warehouse_code, .normalization]')" \
    '["НОВЫЙ_УРЕНГОЙ",null,null,{"match":"auto","confidence":0.7}]' \
    "unknown: canonical form, null cluster and code, auto 0.7"
is "$(jq -c .quality_flags "$T/out" | tr '\n' ' ')" \
    '["unknown_warehouse"] ["x","unknown_warehouse"] ["unknown_warehouse"] ' \
    "unknown_warehouse added to quality_flags, made when absent"
is "$(grep -c '"event":"unknown_warehouse"' "$T/err")" 2 \
    "logged once per distinct name (two spellings)"
is "$(grep '"event":"unknown_warehouse"' "$T/err" | head -n 1 | jq -r .level)" \
    warning "as a warning"
is "$(summary auto)/$(summary unknown_names)" 3/2 "summary: auto, unknown_names"
etl-normalize <"$T/out" 2>/dev/null >"$T/twice"
is "$(jq -c .quality_flags "$T/twice" | tr '\n' ' ')" \
    '["unknown_warehouse"] ["x","unknown_warehouse"] ["unknown_warehouse"] ' \
    "normalized twice: the flag once"

# fields the row had stay; original_warehouse_name is what Ozon sent
printf '%s\n' '{"z":[1,{"a":null}],"warehouse_name":"Хоругвино_РФЦ","sku":9223372036854775807}' >"$T/in"
run etl-normalize
is "$(cat "$T/out")" '{"z":[1,{"a":null}],"warehouse_name":"Хоругвино_РФЦ","sku":9223372036854775807,"original_warehouse_name":"Хоругвино_РФЦ","normalized_warehouse_name":"ХОРУГВИНО_РФЦ","cluster_name":"Москва, МО и Дальние регионы","warehouse_code":null,"normalization":{"match":"exact","confidence":1.0}}' \
    "fields kept in order, normalization added"

# rejects
printf '%s\n' '{"sku":1}' '{"warehouse_name":7}' '{"warehouse_name":"-- _"}' \
    'not json' '{"warehouse_name":"ОМСК_РФЦ"}' >"$T/in"
run etl-normalize
is "$RC" 0 "rejects: exit 0"
is "$(jq -r '"\(.line) \(.stage) \(.reason)"' "$T/rej" | tr '\n' '|')" \
    "1 etl-normalize warehouse_name: missing|2 etl-normalize warehouse_name: not a string|3 etl-normalize warehouse_name: nothing left after normalization|4 etl-normalize invalid JSON: lexical error: invalid string in json text|" \
    "rejects with line and reason"
is "$(jq -r .normalized_warehouse_name "$T/out")" ОМСК_РФЦ \
    "the good row beside them passes"
run etl-normalize --max-rejects 3
is "$RC" 65 "--max-rejects 3: four is past"
run etl-normalize -s
is "$RC" 65 "--strict: 65"

# a mapping of one's own, with codes
printf '# mine\n\nСклад №1\tMY_WH_1\tМой кластер\tWH1\nМой склад 2\tMY_WH_2\t\t\n' \
    >"$T/mine.tsv"
printf '%s\n' '{"warehouse_name":"Склад №1"}' '{"warehouse_name":"мой склад 2"}' \
    '{"warehouse_name":"ХОРУГВИНО_РФЦ"}' >"$T/in"
run etl-normalize -m "$T/mine.tsv"
is "$(jq -c '[.normalized_warehouse_name, .cluster_name, .warehouse_code, .normalization.match]' "$T/out" | tr '\n' ' ')" \
    '["MY_WH_1","Мой кластер","WH1","exact"] ["MY_WH_2",null,null,"rule"] ["ХОРУГВИНО_РФЦ",null,null,"auto"] ' \
    "-m FILE: its names, clusters and codes, nothing else"

# mapping errors are configuration errors
run etl-normalize -m "$T/none.tsv"
is "$RC" 78 "missing mapping file: 78"
ok 'grep -q "none.tsv: No such file or directory" "$T/err"' "and it says so"
printf 'only-one-column\n' >"$T/bad.tsv"
run etl-normalize -m "$T/bad.tsv"
is "$RC" 78 "malformed mapping: 78"
ok 'grep -q "bad.tsv: line 1: want original, normalized" "$T/err"' \
    "with the line number"
printf 'A\tX\nA\tY\n' >"$T/dup.tsv"
run etl-normalize -m "$T/dup.tsv"
is "$RC" 78 "one spelling, two warehouses: 78"
printf 'A-B\tX\nA B\tY\n' >"$T/amb.tsv"
printf '%s\n' '{"warehouse_name":"a_b"}' >"$T/in"
run etl-normalize -m "$T/amb.tsv"
is "$(jq -r .normalization.match "$T/out")/$(grep -c 'stand for two warehouses' "$T/err")" \
    "auto/1" "a canonical form of two warehouses: warned, never guessed"
env -u ETL_MAPPING_FILE etl-normalize </dev/null >/dev/null 2>"$T/err"
rc=$?
is "$rc" 78 "no mapping installed: 78"
ok 'grep -q "share/ozon-etl/warehouses.tsv" "$T/err"' \
    "the default mapping is the installed one"
