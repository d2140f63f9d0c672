/* SPDX-License-Identifier: MIT */
/* libFuzzer target for imap_thread_parse: any bytes, no crash, every item has a UID and a
   root, and the root of a thread is one of its messages. */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "imap-thread.h"
#include "mem.h"
#include "pool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = mem_alloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	struct pool *pool = pool_create(4096);
	struct imap_thread_list list = {.pool = pool};
	(void)imap_thread_parse(&list, text);
	for (size_t i = 0; i < list.count; i++) {
		assert(list.items[i].uid != 0 && list.items[i].root != 0);
		assert(i == 0 || list.items[i].root == list.items[i - 1].root ||
		       list.items[i].root == list.items[i].uid);
	}
	pool_destroy(&pool);
	mem_free(&text);
	return 0;
}
