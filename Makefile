# ozon-etl: warehouse-stock ETL for Ozon sellers, as small Unix filters.
#
#   make            build everything into $(O)/
#   make check      install missing packages, build, run the tests
#   make demo       the pipeline on the Ozon simulator, with a report
#   make bench      figures: the filters against yajl and jq, ozon-extract
#                   against curl, etl-load against psql and per-row SQL
#   make SANITIZE=1 ASan+UBSan build (into build-san/)
#   make install    PREFIX=/usr/local DESTDIR=

PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
MANDIR    ?= $(PREFIX)/share/man
DATADIR   ?= $(PREFIX)/share/ozon-etl
LIBEXECDIR ?= $(PREFIX)/libexec/ozon-etl
WERROR    ?= 1
CC        ?= cc
CFLAGS    ?= -O2 -g

ifeq ($(SANITIZE),1)
O         ?= build-san
SAN_FLAGS  = -fsanitize=address,undefined -fno-omit-frame-pointer \
             -fno-sanitize-recover=undefined
else
O         ?= build
endif

WARN      = -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wwrite-strings
ifeq ($(WERROR),1)
WARN     += -Werror
endif
HARDEN    = -fstack-protector-strong
ifneq ($(SANITIZE),1)
HARDEN   += -D_FORTIFY_SOURCE=2
endif
PG_INC   := $(shell pg_config --includedir 2>/dev/null || \
              echo /usr/include/postgresql)
ETL_CFLAGS  = -std=c11 -D_GNU_SOURCE $(WARN) $(HARDEN) $(SAN_FLAGS) \
              -Iinclude -I$(PG_INC) -DDATADIR='"$(DATADIR)"' -MMD -MP
ETL_LDFLAGS = $(SAN_FLAGS)

TOOLS   = ozon-extract etl-validate etl-normalize etl-load etl-audit etl-ctl
LIBSRC  = $(wildcard lib/*.c)
LIBOBJ  = $(LIBSRC:%.c=$(O)/%.o)
UNITS   = $(patsubst tests/unit/%.c,$(O)/tests/%,$(wildcard tests/unit/*.c))
BINS    = $(TOOLS:%=$(O)/bin/%)
BENCH   = $(O)/bench/gen-stock $(O)/bench/yajl-ceiling
MAN1    = $(wildcard man/man1/*.1)
MAN7    = $(wildcard man/man7/*.7)
# the pipelines and the alert senders, and the parts they source
PIPES   = $(filter-out %.md %.example %.sh %.json pipelines/crontab,\
              $(wildcard pipelines/*))
PIPES_SH = $(wildcard pipelines/*.sh)

LIBS_ozon-extract  = -lcurl -lhiredis -lyajl
LIBS_etl-validate  = -lyajl
LIBS_etl-normalize = -lpq -lhiredis -lyajl
LIBS_etl-ctl       = -lpq -lhiredis -lyajl
LIBS_etl-audit     = -lpq -lhiredis -lyajl
# a tool built from more than one file: cmd/<tool>.c plus these
OBJS_etl-ctl       = $(patsubst %.c,$(O)/%.o,$(wildcard cmd/ctl-*.c))
LIBS_etl-load      = -lpq -lyajl

all: $(BINS) $(UNITS)

$(O)/%.o: %.c $(O)/datadir.stamp
	@mkdir -p $(@D)
	$(CC) $(ETL_CFLAGS) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# DATADIR is compiled in: a build for another PREFIX compiles again
$(O)/datadir.stamp: FORCE
	@mkdir -p $(@D)
	@echo '$(DATADIR)' | cmp -s - $@ 2>/dev/null || echo '$(DATADIR)' >$@

$(O)/libozonetl.a: $(LIBOBJ)
	rm -f $@
	$(AR) rcs $@ $(LIBOBJ)

.SECONDEXPANSION:
$(O)/bin/%: $(O)/cmd/%.o $$(OBJS_$$*) $(O)/libozonetl.a
	@mkdir -p $(@D)
	$(CC) $(ETL_LDFLAGS) $(LDFLAGS) -o $@ $< $(OBJS_$*) $(O)/libozonetl.a \
	    $(LIBS_$*) -lm

$(O)/tests/%: $(O)/tests/unit/%.o $(O)/libozonetl.a
	@mkdir -p $(@D)
	$(CC) $(ETL_LDFLAGS) $(LDFLAGS) -o $@ $< $(O)/libozonetl.a -lyajl -lm

$(O)/bench/%: $(O)/bench/%.o $(O)/libozonetl.a
	@mkdir -p $(@D)
	$(CC) $(ETL_LDFLAGS) $(LDFLAGS) -o $@ $< $(O)/libozonetl.a -lyajl -lm

# System packages the build, the tests and the demo need (Debian names).
deps:
	@sh tools/deps.sh

check: deps
	$(MAKE) all
	$(MAKE) test

test: all
	BIN=$(abspath $(O)/bin) UNIT=$(abspath $(O)/tests) TOP=$(CURDIR) \
	    SANITIZE=$(SANITIZE) BUILD=$(abspath $(O)) \
	    prove -f tests/*.t

demo: deps
	$(MAKE) all
	O=$(O) sh tools/demo.sh

bench: deps
	$(MAKE) all $(BENCH)
	BIN=$(abspath $(O)/bin) BENCHBIN=$(abspath $(O)/bench) \
	    sh bench/run.sh
	BIN=$(abspath $(O)/bin) sh bench/extract.sh
	BIN=$(abspath $(O)/bin) BENCHBIN=$(abspath $(O)/bench) sh bench/load.sh

install: $(BINS)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(DATADIR)
	install -m 755 $(BINS) $(DESTDIR)$(BINDIR)
	install -m 644 $(MAN1) $(DESTDIR)$(MANDIR)/man1
	install -m 644 $(MAN7) $(DESTDIR)$(MANDIR)/man7
	install -d $(DESTDIR)$(DATADIR)/sql
	install -m 644 sql/warehouses.tsv $(DESTDIR)$(DATADIR)
	install -m 644 sql/[0-9]*.sql $(DESTDIR)$(DATADIR)/sql
	install -d $(DESTDIR)$(LIBEXECDIR)
	install -m 755 $(PIPES) $(DESTDIR)$(LIBEXECDIR)
	install -m 644 $(PIPES_SH) $(DESTDIR)$(LIBEXECDIR)
	install -m 644 pipelines/crontab pipelines/env.example \
	    pipelines/grafana-dashboard.json $(DESTDIR)$(DATADIR)

uninstall:
	rm -f $(TOOLS:%=$(DESTDIR)$(BINDIR)/%)
	rm -f $(MAN1:man/man1/%=$(DESTDIR)$(MANDIR)/man1/%)
	rm -f $(MAN7:man/man7/%=$(DESTDIR)$(MANDIR)/man7/%)
	rm -f $(DESTDIR)$(DATADIR)/warehouses.tsv $(DESTDIR)$(DATADIR)/sql/*.sql
	rm -f $(DESTDIR)$(DATADIR)/crontab $(DESTDIR)$(DATADIR)/env.example \
	    $(DESTDIR)$(DATADIR)/grafana-dashboard.json
	rm -f $(PIPES:pipelines/%=$(DESTDIR)$(LIBEXECDIR)/%) \
	    $(PIPES_SH:pipelines/%=$(DESTDIR)$(LIBEXECDIR)/%)
	-rmdir $(DESTDIR)$(DATADIR)/sql $(DESTDIR)$(DATADIR) $(DESTDIR)$(LIBEXECDIR)

lint-man:
	mandoc -Tlint -Wwarning $(MAN1) $(MAN7)

clean:
	rm -rf build build-san

.PHONY: all deps check test demo bench install uninstall lint-man clean FORCE
.SECONDARY:

-include $(shell find $(O) -name '*.d' 2>/dev/null)
