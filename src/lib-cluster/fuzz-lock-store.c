/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the lock record decoder reads what Redis holds; whatever it accepts is a
   lock with a valid token, a normalised path and bounded owner. Input: token, a NUL, the
   record. */
#include <stdint.h>
#include <string.h>

#include "lock-store-redis.h"
#include "pool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	const char *nul = memchr(in, '\0', size);
	if (nul == NULL)
		return 0;
	size_t token_len = (size_t)(nul - in);
	struct pool *pool = pool_create(0);
	struct lock l;
	const char *error = NULL;
	if (lock_store_redis_unpack(in, token_len, nul + 1, size - token_len - 1, 1000, pool, &l,
	                            &error) < 0) {
		if (error == NULL || error[0] == '\0')
			__builtin_trap();
	} else if (strlen(l.token) != LOCK_TOKEN_SIZE - 1 || !lock_store_path_valid(l.path) ||
	           l.owner_len > LOCK_OWNER_MAX || (l.owner_len > 0) != (l.owner != NULL) ||
	           l.timeout_s == 0 || l.timeout_s > LOCK_TIMEOUT_MAX || l.remaining_s == 0) {
		__builtin_trap();
	}
	pool_destroy(&pool);
	return 0;
}
