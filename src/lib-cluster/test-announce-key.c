/* SPDX-License-Identifier: MIT */
/* The announce key: hex and key-file rules, the configuration's choices, HMAC known answers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "announce-key.h"
#include "test.h"

/* 32 random bytes (openssl rand -hex 32). */
#define KEY_HEX "9f3c0d6be2a14f87c53d1e0b7a6f2c48d9e1b3a5c7f0e2d4b6a8c0e2f4a6b8d0"

static char dir[] = "/tmp/test-announce-key-XXXXXX";

static const char *write_file(const char *name, const char *content, mode_t mode)
{
	static char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	test_assert(f != NULL);
	if (f == NULL)
		return path;
	fputs(content, f);
	fclose(f);
	test_assert_int_eq(chmod(path, mode), 0);
	return path;
}

static void test_hex(void)
{
	struct announce_key k, again;
	const char *error = NULL;
	char buf[300];

	test_assert_int_eq(announce_key_parse_hex(KEY_HEX, &k, &error), 0);
	test_assert_int_eq(k.len, 32);
	test_assert_int_eq(k.bytes[0], 0x9f);
	test_assert_int_eq(k.bytes[31], 0xd0);
	/* either case, the same key */
	snprintf(buf, sizeof(buf), "%s", KEY_HEX);
	for (char *p = buf; *p != '\0'; p++)
		*p = (char)(*p >= 'a' && *p <= 'f' ? *p - 'a' + 'A' : *p);
	test_assert_int_eq(announce_key_parse_hex(buf, &again, &error), 0);
	test_assert(announce_key_equal(&k, &again));
	/* 64 bytes */
	snprintf(buf, sizeof(buf), "%s%s", KEY_HEX, KEY_HEX);
	test_assert_int_eq(announce_key_parse_hex(buf, &again, &error), 0);
	test_assert_int_eq(again.len, 64);
	test_assert(!announce_key_equal(&k, &again));

	static const struct {
		const char *hex, *error;
	} bad[] = {
	    {"", "too short"},
	    {KEY_HEX "0", "odd number"},
	    {KEY_HEX "0g", "not hexadecimal"},
	    {"0x" KEY_HEX, "not hexadecimal"},
	    {KEY_HEX " ", "not hexadecimal"},
	    {" " KEY_HEX, "not hexadecimal"},
	    {"9f3c0d6be2a14f87c53d1e0b7a6f2c48d9e1b3a5c7f0e2d4b6a8c0e2f4a6b8", "too short"},
	    {KEY_HEX KEY_HEX "00", "too long"},
	    {"0000000000000000000000000000000000000000000000000000000000000000", "not a random"},
	    {"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "not a random"},
	    {"changeme", "not hexadecimal"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		test_set_context(bad[i].hex);
		error = "";
		test_assert_int_eq(announce_key_parse_hex(bad[i].hex, &k, &error), -1);
		test_assert(strstr(error, bad[i].error) != NULL);
		test_assert_int_eq(k.len, 0);
		/* the message never quotes the key */
		test_assert(strstr(error, "9f3c") == NULL && strstr(error, "0123") == NULL);
	}
	test_set_context(NULL);
	announce_key_wipe(&again);
	test_assert_int_eq(again.len, 0);
	test_assert_int_eq(again.bytes[0], 0);
}

/* RFC 4231, test cases 1 and 2: the MAC is HMAC-SHA256, whatever the key length. */
static void test_mac_known_answers(void)
{
	static const uint8_t want1[ANNOUNCE_MAC_BYTES] = {
	    0xb0, 0x34, 0x4c, 0x61, 0xd8, 0xdb, 0x38, 0x53, 0x5c, 0xa8, 0xaf,
	    0xce, 0xaf, 0x0b, 0xf1, 0x2b, 0x88, 0x1d, 0xc2, 0x00, 0xc9, 0x83,
	    0x3d, 0xa7, 0x26, 0xe9, 0x37, 0x6c, 0x2e, 0x32, 0xcf, 0xf7};
	static const uint8_t want2[ANNOUNCE_MAC_BYTES] = {
	    0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24,
	    0x26, 0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27,
	    0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43};
	struct announce_key k = {.len = 20};
	uint8_t mac[ANNOUNCE_MAC_BYTES];

	memset(k.bytes, 0x0b, 20);
	announce_key_mac(&k, "Hi There", 8, mac);
	test_assert(memcmp(mac, want1, sizeof(mac)) == 0);
	test_assert(announce_key_verify(&k, "Hi There", 8, want1));
	test_assert(!announce_key_verify(&k, "Hi there", 8, want1));
	mac[31] ^= 1;
	test_assert(!announce_key_verify(&k, "Hi There", 8, mac));
	k.bytes[19] ^= 1;
	test_assert(!announce_key_verify(&k, "Hi There", 8, want1));

	memset(&k, 0, sizeof(k));
	memcpy(k.bytes, "Jefe", 4);
	k.len = 4;
	static const char data2[] = "what do ya want for nothing?";
	announce_key_mac(&k, data2, strlen(data2), mac);
	test_assert(memcmp(mac, want2, sizeof(mac)) == 0);
}

static void test_file(void)
{
	struct announce_key k, from_hex;
	const char *error = NULL, *path;

	test_assert_int_eq(announce_key_parse_hex(KEY_HEX, &from_hex, &error), 0);
	/* blanks and newlines around the key are fine; group may read */
	path = write_file("good", "\n  " KEY_HEX "\r\n\n", 0640);
	test_assert_int_eq(announce_key_load_file(path, &k, &error), 0);
	test_assert(announce_key_equal(&k, &from_hex));
	path = write_file("plain", KEY_HEX, 0400);
	test_assert_int_eq(announce_key_load_file(path, &k, &error), 0);

	static const struct {
		const char *name, *content;
		mode_t mode;
		const char *error;
	} bad[] = {
	    {"world-readable", KEY_HEX "\n", 0644, "other users may read or write it (mode 0644)"},
	    {"world-writable", KEY_HEX "\n", 0602, "chmod o-rwx"},
	    {"empty", "\n\n", 0600, "empty"},
	    {"short", "9f3c0d6be2a14f87\n", 0600, "too short"},
	    {"two-keys", KEY_HEX "\n" KEY_HEX "\n", 0600, "not hexadecimal"},
	    {"key-line", "announce_key = " KEY_HEX "\n", 0600, "not hexadecimal"},
	    {"placeholder",
	     "00000000000000000000000000000000000000000000000000000000000000000"
	     "0\n",
	     0600, "not a random key"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		test_set_context(bad[i].name);
		path = write_file(bad[i].name, bad[i].content, bad[i].mode);
		error = "";
		test_assert_int_eq(announce_key_load_file(path, &k, &error), -1);
		test_assert(strstr(error, bad[i].error) != NULL);
		test_assert(strstr(error, path) != NULL);
		test_assert_int_eq(k.len, 0);
		test_assert(strstr(error, "9f3c") == NULL);
	}
	test_set_context(NULL);

	char big[2048];
	memset(big, '0', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	path = write_file("big", big, 0600);
	test_assert_int_eq(announce_key_load_file(path, &k, &error), -1);
	test_assert(strstr(error, "larger than 1024 bytes") != NULL);
	test_assert_int_eq(announce_key_load_file("/nonexistent/key", &k, &error), -1);
	test_assert(strstr(error, "/nonexistent/key: No such file or directory") != NULL);
	test_assert_int_eq(announce_key_load_file(dir, &k, &error), -1);
	test_assert(strstr(error, "not a regular file") != NULL);
}

static void test_configure(void)
{
	struct announce_key k, from_hex;
	const char *which = NULL, *error = NULL;
	char config_path[300];

	test_assert_int_eq(announce_key_parse_hex(KEY_HEX, &from_hex, &error), 0);
	snprintf(config_path, sizeof(config_path), "%s/tandemd.ini", dir);
	write_file("announce.key", KEY_HEX "\n", 0600);

	/* neither: fine unless announce is set */
	test_assert_int_eq(
	    announce_key_configure(NULL, NULL, config_path, false, &k, &which, &error), 0);
	test_assert_int_eq(k.len, 0);
	test_assert_int_eq(
	    announce_key_configure(NULL, NULL, config_path, true, &k, &which, &error), -1);
	test_assert_str_eq(which, "announce");
	test_assert(strstr(error, "[cluster] announce needs announce_key or announce_key_file") !=
	            NULL);
	/* inline */
	test_assert_int_eq(
	    announce_key_configure(KEY_HEX, NULL, config_path, true, &k, &which, &error), 0);
	test_assert(announce_key_equal(&k, &from_hex));
	test_assert_int_eq(
	    announce_key_configure("abc", NULL, config_path, true, &k, &which, &error), -1);
	test_assert_str_eq(which, "announce_key");
	test_assert(strstr(error, "[cluster] announce_key: an odd number") != NULL);
	/* a file, relative to the configuration's directory, or absolute */
	test_assert_int_eq(
	    announce_key_configure(NULL, "announce.key", config_path, true, &k, &which, &error), 0);
	test_assert(announce_key_equal(&k, &from_hex));
	char abs[300];
	snprintf(abs, sizeof(abs), "%s/announce.key", dir);
	test_assert_int_eq(
	    announce_key_configure(NULL, abs, "tandemd.ini", true, &k, &which, &error), 0);
	test_assert_int_eq(
	    announce_key_configure(NULL, "missing.key", config_path, true, &k, &which, &error), -1);
	test_assert_str_eq(which, "announce_key_file");
	test_assert(strstr(error, "[cluster] announce_key_file: ") != NULL);
	test_assert(strstr(error, "/missing.key: No such file") != NULL);
	test_assert_int_eq(announce_key_configure(NULL, "", config_path, true, &k, &which, &error),
	                   -1);
	test_assert(strstr(error, "empty") != NULL);
	/* both */
	test_assert_int_eq(
	    announce_key_configure(KEY_HEX, "announce.key", config_path, true, &k, &which, &error),
	    -1);
	test_assert_str_eq(which, "announce_key_file");
	test_assert(strstr(error, "both set") != NULL);
	test_assert_int_eq(k.len, 0);
}

static void cleanup(void)
{
	static const char *const names[] = {
	    "good",        "plain", "world-readable", "world-writable",
	    "empty",       "short", "two-keys",       "key-line",
	    "placeholder", "big",   "announce.key",
	};
	char path[300];
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"hex", test_hex},   {"mac known answers", test_mac_known_answers},
	    {"file", test_file}, {"configure", test_configure},
	    {NULL, NULL},
	};
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	int ret = test_run(cases);
	cleanup();
	return ret;
}
