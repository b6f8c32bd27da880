/*
 * What the libFuzzer targets share: the entry points libFuzzer calls and
 * a check that stops the run with the input kept (abort() is a crash to
 * libFuzzer, which writes the input out as an artifact).
 */
#ifndef OZON_ETL_FUZZ_H
#define OZON_ETL_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,	\
		    __LINE__, #cond);					\
		abort();						\
	}								\
} while (0)

#endif
