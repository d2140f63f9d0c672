/* SPDX-License-Identifier: MIT */
/* The answer to IMAP THREAD (RFC 5256), which libetpan does not parse: "* THREAD (2)(3 6 (4
   23)(44 7 96))" into a flat list of messages with their thread and depth
   (docs/internals/mail.md "Search and threads"). */
#ifndef TANDEM_IMAP_THREAD_H
#define TANDEM_IMAP_THREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pool;

/* One message of a thread: its UID, the thread's first message (the root, or the first
   child of a missing root) and how deep it sits (the root 0). */
struct imap_thread_item {
	uint32_t uid, root, depth;
};

/* Threads parsed so far; zero it and set pool before the first parse. */
struct imap_thread_list {
	struct pool *pool; /* items grow in it */
	struct imap_thread_item *items;
	size_t count, size;
	/* parser state */
	uint32_t root;
	int nesting;
};

/* Appends the threads of one response's text after "* THREAD" (thread lists separated by
   nothing or spaces, up to the end or CRLF): each thread's messages parents first, as the
   server gave them. False when the text breaks RFC 5256's grammar (what was appended
   before the error stays) or nests deeper than 1000. */
bool imap_thread_parse(struct imap_thread_list *list, const char *text);

#endif
