#!/bin/sh
# make lint: static analysis, the project's security scan.  Any finding
# fails it: fix the code, or silence a false positive on its own line with
# the reason (// cppcheck-suppress id, // NOLINT(check): why), never here.
#   tools/lint.sh                 cppcheck, clang-tidy, shellcheck
#   tools/lint.sh STEP ...        those steps only; gcc-analyzer is one
#                                 too, not run by default (see below)
# The man pages are make lint-man's (mandoc -Tlint), which make lint runs.
# Environment: JOBS (files analysed side by side, default: the CPUs),
# PG_INC and DATADIR (as the Makefile has them), CLANG_TIDY, CC.
# Debian packages: cppcheck clang-tidy shellcheck (and mandoc).
set -eu
cd "$(dirname "$0")/.."

JOBS=${JOBS:-$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)}
PG_INC=${PG_INC:-$(pg_config --includedir 2>/dev/null ||
    echo /usr/include/postgresql)}
DATADIR=${DATADIR:-/usr/local/share/ozon-etl}
CLANG_TIDY=${CLANG_TIDY:-$(command -v clang-tidy ||
    command -v clang-tidy-14 || echo clang-tidy)}
CC=${CC:-cc}
export JOBS PG_INC DATADIR CLANG_TIDY CC

# ---- waivers ----
# Findings reported to the owners of files that are being edited elsewhere
# and so not yet fixed (or silenced) in place.  Each line goes when its
# file is fixed; keep this list short and dated.
# Output: extra flags for the tool ($1) on the file ($2).
waiver()
{
	case $1:$2 in
	# none open
	esac
}

need()
{
	if ! command -v "$1" >/dev/null 2>&1; then
		echo "lint: $1 not found: install the Debian package $2" >&2
		exit 1
	fi
}

sources()
{
	ls -S lib/*.c cmd/*.c	# the biggest first: the longest to analyse
}

# cppcheck: the configuration the build compiles (-D_GNU_SOURCE, C11);
# the system headers (libpq, hiredis, yajl, curl) are not read.
step_cppcheck()
{
	need cppcheck cppcheck
	cppcheck -q --std=c11 --enable=warning,performance,portability \
	    --inconclusive --error-exitcode=1 --inline-suppr \
	    --suppress=missingIncludeSystem --template=gcc -j "$JOBS" \
	    -I include -D_GNU_SOURCE "-DDATADIR=\"$DATADIR\"" lib cmd
}

# clang-tidy: the checks in .clang-tidy, JOBS processes of one file each
# (clang-tidy 14 given several files carries analyzer state from one to
# the next: lib/log.c after lib/buf.c gets a false valist finding).
step_clang_tidy()
{
	need "$CLANG_TIDY" clang-tidy
	sources | xargs -n 1 -P "$JOBS" sh tools/lint.sh clang-tidy-file
}

clang_tidy_file()
{
	# shellcheck disable=SC2046	# the waiver's words, or none
	if out=$("$CLANG_TIDY" -quiet $(waiver clang-tidy "$1") "$1" -- \
	    -std=c11 -D_GNU_SOURCE -Iinclude -I"$PG_INC" \
	    "-DDATADIR=\"$DATADIR\"" 2>&1); then
		rc=0
	else
		rc=$?
	fi
	# "N warnings generated." counts the ones not shown (system
	# headers, NOLINT): noise
	printf '%s\n' "$out" | grep -v -e '^[0-9]* warnings\{0,1\} generated' \
	    -e '^$' >&2 || :
	return "$rc"
}

# The shell scripts: the pipelines (their scripts and the parts they
# source) and tools/*.sh, by shellcheck.
step_shellcheck()
{
	if ! command -v shellcheck >/dev/null 2>&1; then
		echo "lint: shellcheck not found (Debian: shellcheck):" \
		    "shell scripts not checked" >&2
		return 0
	fi
	rc=0
	for f in pipelines/* tools/*.sh; do
		case $f in
		*.sh) ;;
		*) head -n 1 "$f" | grep -q '^#!.*sh' || continue ;;
		esac
		# shellcheck disable=SC2046	# the waiver's words, or none
		shellcheck -x -e SC1091 $(waiver shellcheck "$f") "$f" || rc=1
	done
	return "$rc"
}

# gcc -fanalyzer: not in make lint, as it stands gcc 12 gives 13 false
# positives: 9 in include/ozon-etl.h (buf_add: a NULL p with room, as it
# does not follow cap - len), 3 in cmd/ctl-mapping.c (slurp: fopen might
# give stdin; m_import: lines NULL though m.n == n == 0 then).  Run it
# with tools/lint.sh gcc-analyzer.
step_gcc_analyzer()
{
	sources | xargs -n 1 -P "$JOBS" sh tools/lint.sh gcc-analyzer-file
}

gcc_analyzer_file()
{
	"$CC" -std=c11 -D_GNU_SOURCE -Iinclude -I"$PG_INC" \
	    "-DDATADIR=\"$DATADIR\"" -O0 -fanalyzer -Werror -c -o /dev/null "$1"
}

# one file, as xargs runs it
case ${1-} in
clang-tidy-file) clang_tidy_file "$2"; exit ;;
gcc-analyzer-file) gcc_analyzer_file "$2"; exit ;;
esac

[ $# -gt 0 ] || set -- cppcheck clang-tidy shellcheck
failed=""
for step; do
	start=$(date +%s)
	case $step in
	cppcheck) step_cppcheck || failed="$failed $step" ;;
	clang-tidy) step_clang_tidy || failed="$failed $step" ;;
	shellcheck) step_shellcheck || failed="$failed $step" ;;
	gcc-analyzer) step_gcc_analyzer || failed="$failed $step" ;;
	*) echo "usage: tools/lint.sh [cppcheck | clang-tidy | shellcheck |" \
	    "gcc-analyzer] ..." >&2; exit 64 ;;
	esac
	echo "lint: $step: $(($(date +%s) - start))s" >&2
done
if [ -n "$failed" ]; then
	echo "lint: findings from:$failed" >&2
	exit 1
fi
