#!/bin/sh
# Install the Debian packages ozon-etl needs for building, testing (the
# dashboard's tests open it in headless Chromium), static analysis and
# fuzzing (clang with libFuzzer) and the demo, when any is missing.  Root runs apt-get itself; others go through
# sudo; where neither works, say which packages to install.
set -eu

PKGS="build-essential pkg-config libyajl-dev libcurl4-openssl-dev libpq-dev
libhiredis-dev postgresql redis-server mandoc jq valgrind perl time
python3 curl chromium fonts-dejavu-core
clang libclang-rt-14-dev cppcheck clang-tidy shellcheck"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
	    grep -q ' installed$'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing" >&2
if [ "$(id -u)" -eq 0 ]; then
	sudo=""
elif command -v sudo >/dev/null 2>&1; then
	sudo="sudo"
else
	echo "deps: not root and no sudo: install these packages:$missing" >&2
	exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
	echo "deps: no apt-get: install these packages:$missing" >&2
	exit 1
fi
# shellcheck disable=SC2086
if ! $sudo apt-get update -q ||
    ! $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    --no-install-recommends $missing; then
	echo "deps: apt-get failed: install these packages:$missing" >&2
	exit 1
fi
