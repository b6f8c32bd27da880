#!/bin/sh
# Values survive both filters exactly: int64 extremes, escapes, emoji,
# Cyrillic, numbers in any form, nested unknown fields.
. "$TOP/tests/lib.sh"
plan 6

# Each input line is already in the filters' compact form, so the output
# must begin with the input, byte for byte, minus its closing brace.
cat >"$T/in" <<'ROWS'
{"sku":9223372036854775807,"warehouse_name":"ХОРУГВИНО_РФЦ","item_code":"Ё-1","item_name":"Ёлка «Зимняя» 😀🎄","free_to_sell_amount":2147483647,"promised_amount":0,"reserved_amount":0}
{"sku":1,"warehouse_name":"Пушкино_1_РФЦ","item_code":"q\"uote\\back\\slash","item_name":"tab\there\nnewline\r\u0001\u001f end","free_to_sell_amount":0,"promised_amount":0,"reserved_amount":0}
{"extra_big":-9223372036854775808,"beyond":123456789012345678901234567890,"float":1.25e-7,"neg0":-0,"sku":42,"warehouse_name":"ГРИВНО_РФЦ","item_code":"中文 العربية","item_name":"Ünïcödé ñ ß ǅ","free_to_sell_amount":1,"promised_amount":2,"reserved_amount":3,"nested":{"a":[1,"two",{"three":[null,true,false]}],"b":{}}}
ROWS
IN=$T/in
run etl-validate
is "$RC/$(wc -l <"$T/out")" 0/3 "validate: all three pass"
sed 's/}$/,/' "$T/in" >"$T/prefix"
# lines of file $1 that do not begin with the same line of $T/prefix
unprefixed() {
	n=0 bad=0
	while IFS= read -r p; do
		n=$((n + 1))
		line=$(sed -n "${n}p" "$1")
		case $line in "$p"*) ;; *) bad=$((bad + 1)) ;; esac
	done <"$T/prefix"
	echo "$bad"
}
is "$(unprefixed "$T/out")" 0 \
    "validate: every input byte comes out as it went in"

etl-validate <"$T/in" 2>/dev/null | etl-normalize >"$T/out2" 2>"$T/err"
is "$(wc -l <"$T/out2")" 3 "normalize: all three pass"
is "$(unprefixed "$T/out2")" 0 \
    "normalize: every input byte comes out as it went in"

# escapes written another way come out in the one compact form
printf '%s\n' '{ "sku" : 7 , "warehouse_name":"\u0425\u041e\u0420\u0423\u0413\u0412\u0418\u041d\u041e_\u0420\u0424\u0426", "item_code":"\/a\/", "item_name":"\ud83d\ude00 \u00e9", "free_to_sell_amount":1, "promised_amount":0, "reserved_amount":0 }' >"$T/in"
run etl-validate
is "$(cat "$T/out")" '{"sku":7,"warehouse_name":"ХОРУГВИНО_РФЦ","item_code":"/a/","item_name":"😀 é","free_to_sell_amount":1,"promised_amount":0,"reserved_amount":0,"data_quality_score":100,"quality_flags":[]}' \
    "\\u escapes and \\/ unescaped, then written compactly"
etl-normalize <"$T/out" 2>/dev/null | jq -r .normalization.match >"$T/m"
is "$(cat "$T/m")" exact "an escaped spelling is still the exact name"
