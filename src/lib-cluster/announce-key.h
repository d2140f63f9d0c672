/* SPDX-License-Identifier: MIT */
/* The key that authenticates announcements: read from the configuration, and its HMAC-SHA256. */
#ifndef TANDEM_ANNOUNCE_KEY_H
#define TANDEM_ANNOUNCE_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ANNOUNCE_KEY_BYTES_MIN 32 /* 64 hex digits */
#define ANNOUNCE_KEY_BYTES_MAX 64 /* 128 hex digits */
#define ANNOUNCE_MAC_BYTES     32 /* HMAC-SHA256 */

/* A key of len bytes (0 = none). Plain data: copy it, compare it with announce_key_equal(),
   wipe it with announce_key_wipe() when done. */
struct announce_key {
	uint8_t bytes[ANNOUNCE_KEY_BYTES_MAX];
	size_t len;
};

/* Parses 64-128 hex digits (either case) into *key_r. Keys with fewer than 16 different byte
   values are refused as placeholders (a random 32-byte key has about 30). Returns 0, or -1
   with *error_r a static message that never quotes the key. */
int announce_key_parse_hex(const char *hex, struct announce_key *key_r, const char **error_r);
/* Reads a key file: the hex key, optionally surrounded by blanks and newlines, nothing else.
   The file must be a regular file that other users cannot read or write (mode o-rwx, like an
   ssh private key). Returns 0, or -1 with *error_r (valid until the next call on this
   thread) naming path and the problem. */
int announce_key_load_file(const char *path, struct announce_key *key_r, const char **error_r);

/* The configuration of both daemons: [cluster] announce_key (hex) and announce_key_file
   (path; relative to the directory of config_path, which may be NULL). At most one may be
   set; when required (announce is set) one must be. Returns 0 with *key_r filled (len 0 when
   neither is set), or -1 with *which_r the key to blame ("announce_key", "announce_key_file"
   or "announce") and *error_r a complete "[cluster] …" message (valid until the next call on
   this thread). */
int announce_key_configure(const char *hex, const char *file, const char *config_path,
                           bool required, struct announce_key *key_r, const char **which_r,
                           const char **error_r);

/* HMAC-SHA256 of data under key (key->len > 0). */
void announce_key_mac(const struct announce_key *key, const void *data, size_t len,
                      uint8_t mac_r[ANNOUNCE_MAC_BYTES]);
/* True if mac is data's MAC under key; compares in constant time. */
bool announce_key_verify(const struct announce_key *key, const void *data, size_t len,
                         const uint8_t mac[ANNOUNCE_MAC_BYTES]);
/* Same length and bytes (constant time in the bytes). */
bool announce_key_equal(const struct announce_key *a, const struct announce_key *b);
/* Zeroes the key (len 0). */
void announce_key_wipe(struct announce_key *key);

#endif
