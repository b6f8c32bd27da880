#!/bin/sh
# make install and uninstall honour PREFIX and DESTDIR.
. "$TOP/tests/lib.sh"
plan 9

D=$T/dest
make -s -C "$TOP" O="$BUILD" PREFIX=/opt/oe DESTDIR="$D" install \
    >"$T/log" 2>&1
is "$?" 0 "install: exit 0"
ok '[ -x "$D/opt/oe/bin/etl-validate" ] && [ -x "$D/opt/oe/bin/etl-normalize" ]' \
    "install: binaries under DESTDIR/PREFIX/bin"
ok '[ -f "$D/opt/oe/share/man/man1/etl-validate.1" ] && [ -f "$D/opt/oe/share/man/man1/etl-normalize.1" ] && [ -f "$D/opt/oe/share/man/man7/ozon-etl.7" ]' \
    "install: man pages"
ok 'cmp -s "$D/opt/oe/share/ozon-etl/warehouses.tsv" "$TOP/sql/warehouses.tsv"' \
    "install: the default mapping"
ok '[ -x "$D/opt/oe/libexec/ozon-etl/full-sync" ] && [ -x "$D/opt/oe/libexec/ozon-etl/incremental-sync" ] && [ -x "$D/opt/oe/libexec/ozon-etl/alert-slack" ] && [ -f "$D/opt/oe/libexec/ozon-etl/run-common.sh" ]' \
    "install: the pipelines and alert senders, with what they source"
ok '[ -f "$D/opt/oe/share/ozon-etl/crontab" ] && [ -f "$D/opt/oe/share/ozon-etl/env.example" ] && [ -f "$D/opt/oe/share/ozon-etl/grafana-dashboard.json" ] && [ -x "$D/opt/oe/bin/etl-audit" ]' \
    "install: crontab, env.example, the Grafana dashboard, etl-audit"
ok '[ ! -e "$D/opt/oe/libexec/ozon-etl/grafana-dashboard.json" ] && [ ! -e "$D/opt/oe/libexec/ozon-etl/README.md" ]' \
    "install: only programs in libexec"
make -s -C "$TOP" O="$BUILD" PREFIX=/opt/oe DESTDIR="$D" uninstall \
    >"$T/log" 2>&1
is "$?" 0 "uninstall: exit 0"
is "$(find "$D" -type f | wc -l)" 0 "uninstall: no file left"
