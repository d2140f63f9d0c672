/* SPDX-License-Identifier: MIT */
/* libFuzzer target: announce datagrams parse strictly, and what parses formats back identically. */
#include <stdint.h>
#include <string.h>

#include "announce.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same(const struct announce_msg *a, const struct announce_msg *b)
{
	return strcmp(a->cluster, b->cluster) == 0 && strcmp(a->route, b->route) == 0 &&
	       strcmp(a->address, b->address) == 0 && a->state == b->state && a->load == b->load &&
	       strcmp(a->version, b->version) == 0 && a->started_ms == b->started_ms &&
	       a->seq == b->seq;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct announce_msg msg, again;
	char out[ANNOUNCE_DATAGRAM_MAX];
	size_t len;
	const char *error = NULL;

	if (announce_parse(data, size, &msg, &error) < 0) {
		if (error == NULL || error[0] == '\0')
			__builtin_trap();
		return 0;
	}
	/* Every parsed field is one the formatter accepts, and the round trip is exact. */
	if (announce_format(&msg, out, sizeof(out), &len, &error) < 0)
		__builtin_trap();
	/* Numbers have one spelling, so the canonical form is the input minus unknown keys,
	   reordered: never longer. */
	if (len > size)
		__builtin_trap();
	if (announce_parse(out, len, &again, &error) < 0 || !same(&msg, &again))
		__builtin_trap();
	return 0;
}
