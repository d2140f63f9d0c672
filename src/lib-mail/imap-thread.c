/* SPDX-License-Identifier: MIT */
/* RFC 5256 thread-list parsing: a parenthesised run of numbers is a chain (each a reply to the
   one before), nested lists after it are children of its last number. */
#include "imap-thread.h"

#include <string.h>

#include "pool.h"

static void thread_emit(struct imap_thread_list *tp, uint32_t uid, uint32_t depth)
{
	if (tp->count == tp->size) {
		size_t size = tp->size > 0 ? tp->size * 2 : 256;
		struct imap_thread_item *items = pool_alloc(tp->pool, size * sizeof(*items));
		if (tp->count > 0)
			memcpy(items, tp->items, tp->count * sizeof(*items));
		tp->items = items;
		tp->size = size;
	}
	if (tp->root == 0)
		tp->root = uid;
	tp->items[tp->count++] = (struct imap_thread_item){uid, tp->root, depth};
}

/* One thread-list at *p (just past its "("): numbers are a chain, each a level deeper; nested
   lists after them are the last one's children (or, with no number, a missing parent's at
   depth). */
static bool thread_list(struct imap_thread_list *tp, const char **p, uint32_t depth)
{
	if (++tp->nesting > 1000)
		return false;
	bool any = false;
	for (;;) {
		while (**p == ' ')
			(*p)++;
		if (**p >= '0' && **p <= '9') {
			uint64_t n = 0;
			while (**p >= '0' && **p <= '9' && n <= UINT32_MAX)
				n = n * 10 + (uint64_t)(*(*p)++ - '0');
			if (n == 0 || n > UINT32_MAX)
				return false;
			thread_emit(tp, (uint32_t)n, any ? ++depth : depth);
			any = true;
		} else if (**p == '(') {
			(*p)++;
			if (!thread_list(tp, p, any ? depth + 1 : depth))
				return false;
		} else if (**p == ')') {
			(*p)++;
			tp->nesting--;
			return true;
		} else {
			return false;
		}
	}
}

bool imap_thread_parse(struct imap_thread_list *tp, const char *p)
{
	for (;;) {
		while (*p == ' ')
			p++;
		if (*p == '\0' || *p == '\r' || *p == '\n')
			return true;
		if (*p++ != '(')
			return false;
		tp->root = 0;
		tp->nesting = 0;
		if (!thread_list(tp, &p, 0))
			return false;
	}
}
