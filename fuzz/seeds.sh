#!/bin/sh
# fuzz/seeds.sh [-w] DIR FILE...: a seed corpus in DIR (emptied first):
# one file per line of each FILE, without its newline, and with -w each
# whole FILE as well.  Names are FILE's name and the line number.
set -eu
whole=0
if [ "${1:-}" = -w ]; then
	whole=1
	shift
fi
dir=$1
shift
rm -rf "$dir"
mkdir -p "$dir"
for f; do
	b=$(basename "$f")
	[ $whole = 1 ] && cp "$f" "$dir/$b"
	# split keeps each line's newline: cut it off
	split -l 1 -d -a 5 "$f" "$dir/$b."
	for s in "$dir/$b".[0-9]*; do
		[ -e "$s" ] || continue
		if [ "$(tail -c 1 "$s" | od -An -c | tr -d ' ')" = '\n' ]; then
			truncate -s -1 "$s"
		fi
	done
done
