/* SPDX-License-Identifier: MIT */
/* What every session store shares: destruction and the per-thread reason for the last failure. */
#include "session-store.h"

#include <stdarg.h>
#include <stdio.h>

static __thread char last_error[256];

const char *session_store_error(void)
{
	return last_error[0] != '\0' ? last_error : "session store error";
}

void session_store_set_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
}

void session_store_destroy(struct session_store **store)
{
	if (*store == NULL)
		return;
	(*store)->ops->destroy(*store);
	*store = NULL;
}
