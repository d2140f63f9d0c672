/* SPDX-License-Identifier: MIT */
/* CSPRNG wrapper over libsodium, used for session ids, tokens and request ids. */
#include "random.h"

#include <assert.h>
#include <sodium.h>
#include <stdlib.h>
#include <unistd.h>

void random_init(void)
{
	static const char msg[] = "tandem: sodium_init failed, no secure random source\n";

	/* sodium_init is itself idempotent and thread-safe; without it there is no safe way to
	   make tokens, so refusing to run is the only option. */
	if (sodium_init() < 0) {
		if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
			/* aborting anyway */
		}
		abort();
	}
}

void random_bytes(void *out, size_t len)
{
	randombytes_buf(out, len);
}

void random_hex(char *out, size_t nbytes)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char chunk[32];

	/* Encode from a small chunk so callers need no scratch space. */
	while (nbytes > 0) {
		size_t n = nbytes < sizeof(chunk) ? nbytes : sizeof(chunk);

		randombytes_buf(chunk, n);
		for (size_t i = 0; i < n; i++) {
			*out++ = hex[chunk[i] >> 4];
			*out++ = hex[chunk[i] & 0xf];
		}
		nbytes -= n;
	}
	*out = '\0';
	sodium_memzero(chunk, sizeof(chunk));
}

uint32_t random_uniform(uint32_t upper)
{
	assert(upper > 0);
	return randombytes_uniform(upper);
}
