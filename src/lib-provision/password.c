/* SPDX-License-Identifier: MIT */
/* argon2id via libsodium's crypto_pwhash_str family. */
#include "password.h"

#include <sodium.h>
#include <string.h>

#define OPSLIMIT 2
#define MEMLIMIT (19u * 1024 * 1024)

int password_hash(const char *password, char out[PASSWORD_HASH_MAX])
{
	_Static_assert(crypto_pwhash_STRBYTES <= PASSWORD_HASH_MAX, "hash buffer too small");
	return crypto_pwhash_str_alg(out, password, strlen(password), OPSLIMIT, MEMLIMIT,
	                             crypto_pwhash_ALG_ARGON2ID13) == 0
	           ? 0
	           : -1;
}

bool password_verify(const char *hash, const char *password)
{
	if (!password_hash_valid(hash))
		return false;
	return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

bool password_hash_valid(const char *s)
{
	size_t len = strlen(s);
	return len > 30 && len < PASSWORD_HASH_MAX && strncmp(s, "$argon2id$v=19$", 15) == 0;
}
