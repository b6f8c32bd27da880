# ozon-etl: warehouse-stock ETL for Ozon sellers, as small Unix filters.
#
#   make            build everything into $(O)/
#   make check      install missing packages, build, run the tests
#   make demo       the pipeline on the Ozon simulator, with a report
#   make check-load a 5M-row full sync, memory bounds (minutes)
#   make lint       static analysis: cppcheck, clang-tidy, shellcheck
#   make fuzz       libFuzzer targets, FUZZ_SECONDS each
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

# A 5 million row full sync end to end, each tool within its memory bound
# (minutes: not part of check).  LOAD_ROWS= for another size.
check-load: deps
	$(MAKE) all
	BIN=$(abspath $(O)/bin) UNIT=$(abspath $(O)/tests) TOP=$(CURDIR) \
	    SANITIZE=$(SANITIZE) BUILD=$(abspath $(O)) \
	    prove -v tests/load/*.t

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
	rm -rf build build-san build-fuzz

.PHONY: all deps check check-load test demo bench install uninstall lint-man clean FORCE fuzz lint
.SECONDARY:

-include $(shell find $(O) -name '*.d' 2>/dev/null)

# ---- fuzzing (libFuzzer) ----
#   make fuzz         build each fuzz/fuzz-*.c with libFuzzer, ASan and UBSan
#                     into build-fuzz/ and run it FUZZ_SECONDS (60) over the
#                     seeds (build-fuzz/seeds/, from the test fixtures) and
#                     fuzz/regressions/<target>/; a crash fails the target,
#                     its input in build-fuzz/crashes/.  One CPU each:
#                     make -jN runs N at once; make fuzz-<target> runs one.
#   make fuzz-build   only build them (tests/0140 replays the regressions)
# Needs clang and its fuzzer runtime (Debian: clang libclang-rt-14-dev).
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_O        = build-fuzz
FUZZ_SAN      = -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS   = -g -O1 $(FUZZ_SAN) -std=c11 -D_GNU_SOURCE $(WARN) \
                -Iinclude -I$(PG_INC) -MMD -MP
FUZZ_RUN_OPTS = -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
                -rss_limit_mb=2048 -dict=fuzz/json.dict -print_final_stats=1
FUZZ_ENV      = ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
                UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
FUZZ_TARGETS  = $(patsubst fuzz/%.c,%,$(wildcard fuzz/fuzz-*.c))
FUZZ_BINS     = $(FUZZ_TARGETS:%=$(FUZZ_O)/%)
FUZZ_LIBOBJ   = $(LIBSRC:%.c=$(FUZZ_O)/%.o)
# seeds: every line of the NDJSON fixtures; the line reader also gets
# the whole files; the mapping gets the default mapping's lines and file
FUZZ_NDJSON   = $(wildcard tests/fixtures/*.ndjson tests/corpus/validate/*.in)
FUZZ_SEEDS_fuzz-record   = $(FUZZ_NDJSON)
FUZZ_SEEDS_fuzz-validate = $(FUZZ_NDJSON)
FUZZ_SEEDS_fuzz-ndjson   = $(FUZZ_NDJSON)
FUZZ_WHOLE_fuzz-ndjson   = -w
FUZZ_SEEDS_fuzz-mapping  = sql/warehouses.tsv
FUZZ_WHOLE_fuzz-mapping  = -w

fuzz: $(FUZZ_TARGETS)

fuzz-build: $(FUZZ_BINS)

# one run: new inputs kept in build-fuzz/corpus/<target>/ for the next
$(FUZZ_TARGETS): fuzz-%: $(FUZZ_O)/fuzz-% $(FUZZ_O)/seeds/fuzz-%.stamp
	@mkdir -p $(FUZZ_O)/corpus/$@ $(FUZZ_O)/crashes
	@echo "fuzz: $@ for $(FUZZ_SECONDS)s, log in $(FUZZ_O)/$@.log"
	@$(FUZZ_ENV) $(FUZZ_O)/$@ $(FUZZ_RUN_OPTS) \
	    -artifact_prefix=$(FUZZ_O)/crashes/$@- $(FUZZ_O)/corpus/$@ \
	    $(FUZZ_O)/seeds/$@ fuzz/regressions/$@ \
	    >$(FUZZ_O)/$@.log 2>&1 3>/dev/null || { \
	    tail -n 80 $(FUZZ_O)/$@.log >&2; \
	    echo "fuzz: $@ failed: input in $(FUZZ_O)/crashes/$@-*" >&2; \
	    exit 1; }
	@grep -E '^#[0-9]+[[:space:]]+DONE|^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' \
	    $(FUZZ_O)/$@.log | sed 's/^/$@: /'

$(FUZZ_O)/fuzz-%: $(FUZZ_O)/fuzz/fuzz-%.o $(FUZZ_O)/libozonetl.a
	$(FUZZ_CC) $(FUZZ_SAN) $(LDFLAGS) -o $@ $< $(FUZZ_O)/libozonetl.a \
	    -lyajl -lm

$(FUZZ_O)/libozonetl.a: $(FUZZ_LIBOBJ)
	rm -f $@
	$(AR) rcs $@ $(FUZZ_LIBOBJ)

$(FUZZ_O)/%.o: %.c
	@mkdir -p $(@D)
	@command -v $(FUZZ_CC) >/dev/null 2>&1 || { echo "fuzz: no" \
	    "$(FUZZ_CC): install clang and libclang-rt-14-dev" >&2; exit 1; }
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(CPPFLAGS) -c -o $@ $<

$(FUZZ_O)/seeds/%.stamp: fuzz/seeds.sh $$(FUZZ_SEEDS_$$*)
	sh fuzz/seeds.sh $(FUZZ_WHOLE_$*) $(FUZZ_O)/seeds/$* $(FUZZ_SEEDS_$*)
	@touch $@

clean-fuzz:
	rm -rf $(FUZZ_O)

.PHONY: fuzz-build clean-fuzz $(FUZZ_TARGETS)

-include $(shell find $(FUZZ_O) -name '*.d' 2>/dev/null)

# ---- static analysis ----
#   make lint       the security scan; any finding fails it: cppcheck and
#                   clang-tidy (the checks in .clang-tidy) over lib/ and
#                   cmd/, shellcheck over the pipelines and tools/*.sh,
#                   mandoc -Tlint over the man pages.  tools/lint.sh says
#                   what each runs; tools/lint.sh gcc-analyzer adds gcc
#                   -fanalyzer.  LINT_JOBS files at a time (default: CPUs).
# Needs (Debian): cppcheck clang-tidy shellcheck mandoc.
lint: lint-man
	JOBS=$(LINT_JOBS) PG_INC=$(PG_INC) DATADIR='$(DATADIR)' sh tools/lint.sh
