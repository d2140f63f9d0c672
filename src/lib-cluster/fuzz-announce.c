/* SPDX-License-Identifier: MIT */
/* libFuzzer target: announce datagrams are authenticated and parsed strictly, and what parses
   formats back identically. Each input is tried as received and, so that the fuzzer reaches
   the parser behind the MAC, as a body signed with the target's key. */
#include <stdint.h>
#include <string.h>

#include "announce.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* bytes 0x00-0x1f: the key of fuzz/seeds/fuzz-announce/signed-*.txt */
static struct announce_key key = {
    {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
     16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31},
    32,
};

static int same(const struct announce_msg *a, const struct announce_msg *b)
{
	return strcmp(a->cluster, b->cluster) == 0 && strcmp(a->route, b->route) == 0 &&
	       strcmp(a->address, b->address) == 0 && a->state == b->state && a->load == b->load &&
	       strcmp(a->version, b->version) == 0 && a->started_ms == b->started_ms &&
	       a->seq == b->seq && a->time_ms == b->time_ms;
}

static void check(const void *data, size_t size)
{
	struct announce_msg msg, again;
	char out[ANNOUNCE_DATAGRAM_MAX];
	size_t len;
	const char *error = NULL;
	enum announce_drop drop = ANNOUNCE_DROP_COUNT;

	if (announce_parse(data, size, &key, &msg, &drop, &error) < 0) {
		if (error == NULL || error[0] == '\0')
			__builtin_trap();
		/* the parser only knows the datagram; time and replays are the receiver's */
		if (drop != ANNOUNCE_DROP_MALFORMED && drop != ANNOUNCE_DROP_VERSION &&
		    drop != ANNOUNCE_DROP_BAD_MAC)
			__builtin_trap();
		return;
	}
	/* Every parsed field is one the formatter accepts, and the round trip is exact. */
	if (announce_format(&msg, &key, out, sizeof(out), &len, &error) < 0)
		__builtin_trap();
	/* Numbers have one spelling, so the canonical form is the input minus unknown keys,
	   reordered: never longer. */
	if (len > size)
		__builtin_trap();
	if (announce_parse(out, len, &key, &again, NULL, &error) < 0 || !same(&msg, &again))
		__builtin_trap();
	/* Signed with another key, the same bytes are refused. */
	key.bytes[0] ^= 1;
	int forged = announce_parse(out, len, &key, &again, &drop, &error);
	key.bytes[0] ^= 1;
	if (forged == 0 || drop != ANNOUNCE_DROP_BAD_MAC)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char signed_input[ANNOUNCE_DATAGRAM_MAX + 128];
	uint8_t mac[ANNOUNCE_MAC_BYTES];
	static const char hex[] = "0123456789abcdef";

	check(data, size);
	if (size + 4 + 2 * ANNOUNCE_MAC_BYTES + 1 > sizeof(signed_input))
		return 0;
	memcpy(signed_input, data, size);
	announce_key_mac(&key, data, size, mac);
	size_t n = size;
	memcpy(signed_input + n, "mac=", 4);
	n += 4;
	for (size_t i = 0; i < ANNOUNCE_MAC_BYTES; i++) {
		signed_input[n++] = hex[mac[i] >> 4];
		signed_input[n++] = hex[mac[i] & 15];
	}
	signed_input[n++] = '\n';
	check(signed_input, n);
	return 0;
}
