/* Allocators that die on failure: the one place the library exits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ozon-etl.h"

static void
oom(size_t n)
{
	char msg[128];
	int len;

	len = snprintf(msg, sizeof msg, "%s: out of memory (%zu bytes)\n",
	    log_tool(), n);
	if (write(2, msg, (size_t)len) < 0)
		_exit(EX_OSERR);
	_exit(EX_OSERR);
}

void *
xmalloc(size_t n)
{
	void *p;

	if ((p = malloc(n ? n : 1)) == NULL)
		oom(n);
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n ? n : 1)) == NULL)
		oom(n);
	return p;
}

char *
xmemdup(const char *s, size_t n)
{
	char *p;

	p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
xstrdup(const char *s)
{
	return xmemdup(s, strlen(s));
}
