#!/bin/sh
# The shared library's unit tests (tests/unit/test-lib.c).
: "${UNIT:?run the tests through make check}"
exec "$UNIT/test-lib"
