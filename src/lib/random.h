/* SPDX-License-Identifier: MIT */
/* CSPRNG (libsodium). */
#ifndef TANDEM_RANDOM_H
#define TANDEM_RANDOM_H

#include <stddef.h>
#include <stdint.h>

/* Must run once before any other call (calls sodium_init; aborts if it fails). Idempotent. */
void random_init(void);
void random_bytes(void *out, size_t len);
/* Writes 2*nbytes lowercase hex digits and a NUL into out (size >= 2*nbytes+1). */
void random_hex(char *out, size_t nbytes);
/* Uniform in [0, upper) without modulo bias; upper > 0. */
uint32_t random_uniform(uint32_t upper);

#endif
