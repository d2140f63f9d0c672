/* SPDX-License-Identifier: MIT */
/* The announce key: strict parsing (hex, key files) and HMAC-SHA256 through libsodium. */
#include "announce-key.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "random.h"
#include "secret-file.h"
#include "strv.h"

#define KEY_FILE_MAX    1024         /* bytes in a key file; the messages say 1024 too */
#define DISTINCT_MIN    16           /* byte values a key must have, so placeholders are refused */
#define FILE_ERROR_MAX  (4096 + 160) /* a path and what is wrong with it */
#define GENERATE_ADVICE "`openssl rand -hex 32` makes one"

/* Parses hex[0..len) (no NUL needed). Messages never show the key: they end up in logs. */
static int parse_hex(const char *hex, size_t len, struct announce_key *key_r, const char **error_r)
{
	uint8_t seen[32] = {0};
	unsigned distinct = 0;

	random_init(); /* libsodium is initialised before any of its functions is used */
	memset(key_r, 0, sizeof(*key_r));
	for (size_t i = 0; i < len; i++) {
		if (strv_hex_digit(hex[i]) < 0) {
			*error_r = "not hexadecimal: only the digits 0-9 a-f A-F may appear";
			return -1;
		}
	}
	if (len % 2 != 0) {
		*error_r = "an odd number of hex digits";
		return -1;
	}
	if (len < 2 * ANNOUNCE_KEY_BYTES_MIN) {
		*error_r =
		    "too short: at least 64 hex digits (32 bytes) are needed; " GENERATE_ADVICE;
		return -1;
	}
	if (len > 2 * ANNOUNCE_KEY_BYTES_MAX) {
		*error_r = "too long: at most 128 hex digits (64 bytes)";
		return -1;
	}
	for (size_t i = 0; i < len / 2; i++) {
		uint8_t b =
		    (uint8_t)(strv_hex_digit(hex[2 * i]) << 4 | strv_hex_digit(hex[2 * i + 1]));
		key_r->bytes[i] = b;
		if ((seen[b / 8] & (1u << (b % 8))) == 0)
			distinct++;
		seen[b / 8] |= (uint8_t)(1u << (b % 8));
	}
	key_r->len = len / 2;
	if (distinct < DISTINCT_MIN) {
		announce_key_wipe(key_r);
		*error_r =
		    "not a random key (too few different bytes, a placeholder?); " GENERATE_ADVICE;
		return -1;
	}
	return 0;
}

int announce_key_parse_hex(const char *hex, struct announce_key *key_r, const char **error_r)
{
	return parse_hex(hex, strlen(hex), key_r, error_r);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int announce_key_load_file(const char *path, struct announce_key *key_r, const char **error_r)
{
	static __thread char msg[FILE_ERROR_MAX];
	char data[KEY_FILE_MAX + 1];
	size_t len = 0, start = 0;
	const char *why = NULL;

	memset(key_r, 0, sizeof(*key_r));
	ssize_t got = secret_file_read(path, data, sizeof(data), &why);
	if (got < 0)
		goto out;
	len = (size_t)got;
	while (start < len && is_blank(data[start]))
		start++;
	while (len > start && is_blank(data[len - 1]))
		len--;
	if (len == start)
		why = "empty; put the hex key in it (" GENERATE_ADVICE ")";
	else
		(void)parse_hex(data + start, len - start, key_r, &why);
out:
	sodium_memzero(data, sizeof(data));
	if (why == NULL)
		return 0;
	snprintf(msg, sizeof(msg), "%s: %s", path, why);
	*error_r = msg;
	return -1;
}

int announce_key_configure(const char *hex, const char *file, const char *config_path,
                           bool required, struct announce_key *key_r, const char **which_r,
                           const char **error_r)
{
	/* Not announce_key_load_file()'s buffer: its message is quoted here. */
	static __thread char msg[FILE_ERROR_MAX + 64];
	char path[4096];
	const char *perr;

	memset(key_r, 0, sizeof(*key_r));
	if (hex != NULL && file != NULL) {
		*which_r = "announce_key_file";
		*error_r = "[cluster] announce_key and announce_key_file are both set: give one";
		return -1;
	}
	if (hex != NULL) {
		*which_r = "announce_key";
		if (announce_key_parse_hex(hex, key_r, &perr) < 0) {
			snprintf(msg, sizeof(msg), "[cluster] announce_key: %s", perr);
			*error_r = msg;
			return -1;
		}
		return 0;
	}
	if (file != NULL) {
		*which_r = "announce_key_file";
		if (secret_file_path(config_path, file, path, sizeof(path)) < 0) {
			*error_r = "[cluster] announce_key_file is empty or too long";
			return -1;
		}
		if (announce_key_load_file(path, key_r, &perr) < 0) {
			snprintf(msg, sizeof(msg), "[cluster] announce_key_file: %s", perr);
			*error_r = msg;
			return -1;
		}
		return 0;
	}
	if (required) {
		*which_r = "announce";
		*error_r = "[cluster] announce needs announce_key or announce_key_file: "
		           "announcements are authenticated with a key shared by the nodes and "
		           "balancers (docs/cluster.md, \"Announce key\")";
		return -1;
	}
	return 0;
}

void announce_key_mac(const struct announce_key *key, const void *data, size_t len,
                      uint8_t mac_r[ANNOUNCE_MAC_BYTES])
{
	crypto_auth_hmacsha256_state st;

	random_init(); /* cheap once done; keys may have been filled in without parsing */
	crypto_auth_hmacsha256_init(&st, key->bytes, key->len);
	crypto_auth_hmacsha256_update(&st, data, len);
	crypto_auth_hmacsha256_final(&st, mac_r);
	sodium_memzero(&st, sizeof(st));
}

bool announce_key_verify(const struct announce_key *key, const void *data, size_t len,
                         const uint8_t mac[ANNOUNCE_MAC_BYTES])
{
	uint8_t want[ANNOUNCE_MAC_BYTES];

	announce_key_mac(key, data, len, want);
	return crypto_verify_32(want, mac) == 0;
}

bool announce_key_equal(const struct announce_key *a, const struct announce_key *b)
{
	return a->len == b->len && sodium_memcmp(a->bytes, b->bytes, a->len) == 0;
}

void announce_key_wipe(struct announce_key *key)
{
	sodium_memzero(key, sizeof(*key));
}
