/* SPDX-License-Identifier: MIT */
/* Password hashing: argon2id strings from libsodium. */
#ifndef TANDEM_PASSWORD_H
#define TANDEM_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

/* Big enough for any crypto_pwhash_STRBYTES string. */
#define PASSWORD_HASH_MAX 128

/* Hashes password (argon2id, t=2, m=19 MiB, p=1: OWASP's minimum for argon2id) into out.
   Returns 0, or -1 when libsodium cannot allocate the memory it needs. */
int password_hash(const char *password, char out[PASSWORD_HASH_MAX]);
/* Constant-time check of password against an argon2id string. */
bool password_verify(const char *hash, const char *password);
/* True if s looks like an argon2id string this build can verify ("$argon2id$v=19$…"). */
bool password_hash_valid(const char *s);

#endif
