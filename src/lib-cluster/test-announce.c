/* SPDX-License-Identifier: MIT */
/* Announce datagrams: exact format and MAC, round trips, every rejection, truncation; sender and
   receiver with forged, old and replayed datagrams. */
#include <arpa/inet.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "announce.h"
#include "buf.h"
#include "clock.h"
#include "mem.h"
#include "test.h"

#define GOLDEN_BODY                                                                                \
	"TANDEM-ANNOUNCE/2\n"                                                                      \
	"cluster=alpha\n"                                                                          \
	"route=OX-1\n"                                                                             \
	"address=127.0.0.1:8009\n"                                                                 \
	"state=ready\n"                                                                            \
	"load=3\n"                                                                                 \
	"version=0.1.0\n"                                                                          \
	"started=1763780960123\n"                                                                  \
	"seq=42\n"                                                                                 \
	"time=1763780990456\n"

static const char golden_body[] = GOLDEN_BODY;
/* The MAC computed independently: Python's hmac.new(bytes(range(32)), body, sha256). */
static const char golden[] =
    GOLDEN_BODY "mac=d0239b5fff3c51f796dd7d4204c5c42358799fc2b7b0f4e64bce87564ae5b64e\n";
/* What a version 1 sender (without a MAC) sent. */
static const char version1[] = "TANDEM-ANNOUNCE/1\n"
                               "cluster=alpha\n"
                               "route=OX-1\n"
                               "address=127.0.0.1:8009\n"
                               "state=ready\n"
                               "load=3\n"
                               "version=0.1.0\n"
                               "started=1763780960123\n"
                               "seq=42\n";

static struct announce_key key, other_key;

static void keys_init(void)
{
	for (int i = 0; i < 32; i++) {
		key.bytes[i] = (uint8_t)i;
		other_key.bytes[i] = (uint8_t)(i + 1);
	}
	key.len = other_key.len = 32;
}

static void sample(struct announce_msg *m)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->cluster, sizeof(m->cluster), "alpha");
	snprintf(m->route, sizeof(m->route), "OX-1");
	snprintf(m->address, sizeof(m->address), "127.0.0.1:8009");
	m->state = ANNOUNCE_READY;
	m->load = 3;
	snprintf(m->version, sizeof(m->version), "0.1.0");
	m->started_ms = 1763780960123ull;
	m->seq = 42;
	m->time_ms = 1763780990456ull;
}

static bool msg_eq(const struct announce_msg *a, const struct announce_msg *b)
{
	return strcmp(a->cluster, b->cluster) == 0 && strcmp(a->route, b->route) == 0 &&
	       strcmp(a->address, b->address) == 0 && a->state == b->state && a->load == b->load &&
	       strcmp(a->version, b->version) == 0 && a->started_ms == b->started_ms &&
	       a->seq == b->seq && a->time_ms == b->time_ms;
}

static int parse_str(const char *s, enum announce_drop *drop_r, const char **error_r)
{
	struct announce_msg m;
	return announce_parse(s, strlen(s), &key, &m, drop_r, error_r);
}

/* body followed by its mac line under k, in a static buffer. */
static const char *sign_with(const struct announce_key *k, const char *body)
{
	static char out[4096];
	uint8_t mac[ANNOUNCE_MAC_BYTES];
	struct buf b;

	announce_key_mac(k, body, strlen(body), mac);
	buf_init_fixed(&b, out, sizeof(out));
	buf_append_str(&b, body);
	buf_append_lit(&b, "mac=");
	for (size_t i = 0; i < sizeof(mac); i++)
		buf_printf(&b, "%02x", mac[i]);
	buf_append_char(&b, '\n');
	return out;
}

static const char *sign(const char *body)
{
	return sign_with(&key, body);
}

static void test_format_exact(void)
{
	struct announce_msg m, back;
	char out[ANNOUNCE_DATAGRAM_MAX];
	size_t len = 0;
	const char *error = NULL;

	sample(&m);
	test_assert_int_eq(announce_format(&m, &key, out, sizeof(out), &len, &error), 0);
	test_assert_int_eq(len, strlen(golden));
	test_assert_str_eq(out, golden);
	test_assert_str_eq(sign(golden_body), golden);
	test_assert_int_eq(announce_parse(out, len, &key, &back, NULL, &error), 0);
	test_assert(msg_eq(&m, &back));
	test_assert_str_eq(announce_state_name(ANNOUNCE_READY), "ready");
	test_assert_str_eq(announce_state_name(ANNOUNCE_DRAINING), "draining");
}

static void test_round_trips(void)
{
	struct announce_msg m, back;
	char out[ANNOUNCE_DATAGRAM_MAX];
	size_t len;
	const char *error = NULL;

	/* draining, IPv6, zeros */
	sample(&m);
	m.state = ANNOUNCE_DRAINING;
	snprintf(m.address, sizeof(m.address), "[fe80::1%%eth0]:1");
	m.load = 0;
	m.seq = 0;
	m.started_ms = 0;
	test_assert_int_eq(announce_format(&m, &key, out, sizeof(out), &len, &error), 0);
	test_assert_int_eq(announce_parse(out, len, &key, &back, NULL, &error), 0);
	test_assert(msg_eq(&m, &back));
	test_assert(strstr(out, "\nstate=draining\n") != NULL);

	/* every field at its largest */
	memset(m.cluster, 'c', ANNOUNCE_NAME_MAX);
	m.cluster[ANNOUNCE_NAME_MAX] = '\0';
	memset(m.route, 'r', ANNOUNCE_NAME_MAX);
	m.route[ANNOUNCE_NAME_MAX] = '\0';
	memset(m.address, 'h', ANNOUNCE_ADDRESS_MAX);
	memcpy(m.address + ANNOUNCE_ADDRESS_MAX - 6, ":65535", 6);
	m.address[ANNOUNCE_ADDRESS_MAX] = '\0';
	memset(m.version, 'v', ANNOUNCE_VERSION_MAX);
	m.version[ANNOUNCE_VERSION_MAX] = '\0';
	m.load = m.started_ms = m.seq = m.time_ms = UINT64_MAX;
	test_assert_int_eq(announce_format(&m, &key, out, sizeof(out), &len, &error), 0);
	test_assert(len < 500);
	test_assert_int_eq(announce_parse(out, len, &key, &back, NULL, &error), 0);
	test_assert(msg_eq(&m, &back));

	/* keys in another order and keys this version does not know are fine */
	const char *reordered = "TANDEM-ANNOUNCE/2\n"
	                        "seq=7\n"
	                        "time=0\n"
	                        "future_key=a=b,c;d\n"
	                        "route=b_2\n"
	                        "cluster=alpha\n"
	                        "state=ready\n"
	                        "x=1\n"
	                        "version=1.2.3-rc1+git\n"
	                        "started=1\n"
	                        "address=node-1.example:80\n"
	                        "load=18446744073709551615\n";
	reordered = sign(reordered);
	test_assert_int_eq(announce_parse(reordered, strlen(reordered), &key, &back, NULL, &error),
	                   0);
	test_assert_str_eq(back.route, "b_2");
	test_assert_str_eq(back.address, "node-1.example:80");
	test_assert_str_eq(back.version, "1.2.3-rc1+git");
	test_assert(back.load == UINT64_MAX);
	test_assert_int_eq(back.seq, 7);
	test_assert_int_eq(back.time_ms, 0);
}

static void test_format_rejects(void)
{
	struct announce_msg m;
	char out[ANNOUNCE_DATAGRAM_MAX];
	size_t len;
	const char *error = NULL;

	sample(&m);
	m.cluster[0] = '\0';
	test_assert_int_eq(announce_format(&m, &key, out, sizeof(out), &len, &error), -1);
	test_assert(strstr(error, "cluster") != NULL);
	sample(&m);
	snprintf(m.route, sizeof(m.route), "OX.1");
	test_assert_int_eq(announce_format(&m, &key, out, sizeof(out), &len, &error), -1);
	test_assert(strstr(error, "route") != NULL);
	sample(&m);
	snprintf(m.address, sizeof(m.address), "127.0.0.1");
	test_assert_int_eq(announce_format(&m, &key, out, sizeof(out), &len, &error), -1);
	test_assert(strstr(error, "address") != NULL);
	sample(&m);
	m.state = (enum announce_state)7;
	test_assert_int_eq(announce_format(&m, &key, out, sizeof(out), &len, &error), -1);
	test_assert(strstr(error, "state") != NULL);
	sample(&m);
	snprintf(m.version, sizeof(m.version), "1.0 beta");
	test_assert_int_eq(announce_format(&m, &key, out, sizeof(out), &len, &error), -1);
	test_assert(strstr(error, "version") != NULL);
	/* announce_field_set: a value that does not fit empties the field, so format refuses it */
	sample(&m);
	char long_route[ANNOUNCE_NAME_MAX + 2];
	memset(long_route, 'r', sizeof(long_route) - 1);
	long_route[sizeof(long_route) - 1] = '\0';
	announce_field_set(m.route, sizeof(m.route), long_route);
	test_assert_str_eq(m.route, "");
	test_assert_int_eq(announce_format(&m, &key, out, sizeof(out), &len, &error), -1);
	test_assert(strstr(error, "route") != NULL);
	long_route[ANNOUNCE_NAME_MAX] = '\0';
	announce_field_set(m.route, sizeof(m.route), long_route);
	test_assert_int_eq(strlen(m.route), ANNOUNCE_NAME_MAX);
	test_assert_int_eq(announce_format(&m, &key, out, sizeof(out), &len, &error), 0);
	announce_field_set(m.version, sizeof(m.version), NULL);
	test_assert_str_eq(m.version, "");
	test_assert(announce_name_valid("OX-1_b"));
	test_assert(!announce_name_valid(""));
	test_assert(!announce_name_valid(NULL));
	test_assert(!announce_name_valid("a.b"));
	test_assert(announce_name_valid(long_route)); /* 64 */
	long_route[ANNOUNCE_NAME_MAX] = 'r';
	test_assert(!announce_name_valid(long_route)); /* 65 */
	/* a field filled to the brim without a NUL is measured within its array, and too long */
	sample(&m);
	memset(m.route, 'r', sizeof(m.route));
	test_assert_int_eq(announce_format(&m, &key, out, sizeof(out), &len, &error), -1);
	test_assert(strstr(error, "route") != NULL);
}

/* The golden datagram with line `from` (e.g. "load=3\n") replaced by `to`, signed again: the
   body's rules are checked behind a valid MAC. */
static const char *variant(const char *from, const char *to)
{
	static char out[4096];
	struct buf b;
	const char *at = strstr(golden_body, from);
	test_assert(at != NULL);
	if (at == NULL)
		return golden;
	buf_init_fixed(&b, out, sizeof(out));
	buf_append(&b, golden_body, (size_t)(at - golden_body));
	buf_append_str(&b, to);
	buf_append_str(&b, at + strlen(from));
	return sign(out);
}

struct reject {
	const char *from, *to; /* a variant of the golden datagram */
	const char *error;     /* a substring of the expected message */
};

static void test_rejects(void)
{
	static const struct reject cases[] = {
	    /* magic and version */
	    {"TANDEM-ANNOUNCE/2\n", "TANDEM-ANNOUNCE/1\n", "unsupported announce version"},
	    {"TANDEM-ANNOUNCE/2\n", "TANDEM-ANNOUNCE/3\n", "unsupported announce version"},
	    {"TANDEM-ANNOUNCE/2\n", "TANDEM-ANNOUNCE/10\n", "unsupported announce version"},
	    {"TANDEM-ANNOUNCE/2\n", "TANDEM-ANNOUNCE/\n", "unsupported announce version"},
	    {"TANDEM-ANNOUNCE/2\n", "TANDEM-ANNOUNCE/2 \n", "unsupported announce version"},
	    {"TANDEM-ANNOUNCE/2\n", "tandem-announce/2\n", "not a Tandem announce"},
	    {"TANDEM-ANNOUNCE/2\n", "HTTP/1.1 200 OK\n", "not a Tandem announce"},
	    {"TANDEM-ANNOUNCE/2\n", "\n", "not a Tandem announce"},
	    {"TANDEM-ANNOUNCE/2\n", "cluster=alpha\n", "not a Tandem announce"},
	    /* bytes */
	    {"load=3\n", "load=3\r\n", "control"},
	    {"load=3\n", "load=\t3\n", "control"},
	    {"route=OX-1\n", "route=OX\x7f\n", "control"},
	    {"route=OX-1\n", "route=OX\xc3\xa9\n", "non-ASCII"},
	    /* lines */
	    {"load=3\n", "load=3\n\n", "empty line"},
	    {"load=3\n", "load 3\n", "without '='"},
	    {"load=3\n", "=3\n", "invalid key"},
	    {"load=3\n", "Load=3\n", "invalid key"},
	    {"load=3\n", "load =3\n", "invalid key"},
	    {"load=3\n", "load=3\n1x=y\n", "invalid key"},
	    {"load=3\n", "load=3\nabcdefghijklmnopq=y\n", "invalid key"},
	    {"load=3\n", "load=3\nx-y=z\n", "invalid key"},
	    {"load=3\n", "load=3\nload=4\n", "duplicate key"},
	    {"load=3\n", "load=3\nroute=OX-1\n", "duplicate key"},
	    {"load=3\n", "load=3\nnew=1\nnew=1\n", "duplicate key"},
	    {"load=3\n", "load=3\nnew=\n", "invalid value"},
	    {"load=3\n", "load=3\nnew=a b\n", "invalid value"},
	    /* missing keys */
	    {"cluster=alpha\n", "", "missing key cluster"},
	    {"route=OX-1\n", "", "missing key route"},
	    {"address=127.0.0.1:8009\n", "", "missing key address"},
	    {"state=ready\n", "", "missing key state"},
	    {"load=3\n", "", "missing key load"},
	    {"version=0.1.0\n", "", "missing key version"},
	    {"started=1763780960123\n", "", "missing key started"},
	    {"seq=42\n", "", "missing key seq"},
	    {"time=1763780990456\n", "", "missing key time"},
	    {"cluster=alpha\n", "new=1\n", "missing key cluster"},
	    /* values */
	    {"cluster=alpha\n", "cluster=\n", "invalid cluster"},
	    {"cluster=alpha\n", "cluster=al.pha\n", "invalid cluster"},
	    {"cluster=alpha\n", "cluster=al pha\n", "invalid cluster"},
	    {"cluster=alpha\n",
	     "cluster=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	     "invalid cluster"},
	    {"route=OX-1\n", "route=\n", "invalid route"},
	    {"route=OX-1\n", "route=OX=1\n", "invalid route"},
	    {"route=OX-1\n", "route=OX/1\n", "invalid route"},
	    {"address=127.0.0.1:8009\n", "address=\n", "invalid address"},
	    {"address=127.0.0.1:8009\n", "address=127.0.0.1\n", "invalid address"},
	    {"address=127.0.0.1:8009\n", "address=127.0.0.1:\n", "invalid address"},
	    {"address=127.0.0.1:8009\n", "address=:8009\n", "invalid address"},
	    {"address=127.0.0.1:8009\n", "address=127.0.0.1:0\n", "invalid address"},
	    {"address=127.0.0.1:8009\n", "address=127.0.0.1:65536\n", "invalid address"},
	    {"address=127.0.0.1:8009\n", "address=127.0.0.1:08009\n", "invalid address"},
	    {"address=127.0.0.1:8009\n", "address=127.0.0.1:+80\n", "invalid address"},
	    {"address=127.0.0.1:8009\n", "address=::1:8009\n", "invalid address"},
	    {"address=127.0.0.1:8009\n", "address=[::1]8009\n", "invalid address"},
	    {"address=127.0.0.1:8009\n", "address=[::1]:\n", "invalid address"},
	    {"address=127.0.0.1:8009\n", "address=[]:8009\n", "invalid address"},
	    {"address=127.0.0.1:8009\n", "address=[1]:8009\n", "invalid address"},
	    {"address=127.0.0.1:8009\n", "address=[::1:8009\n", "invalid address"},
	    {"address=127.0.0.1:8009\n", "address=[::1/64]:8009\n", "invalid address"},
	    {"address=127.0.0.1:8009\n", "address=host/x:80\n", "invalid address"},
	    {"address=127.0.0.1:8009\n",
	     "address=hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh:"
	     "8009\n",
	     "invalid address"},
	    {"state=ready\n", "state=\n", "invalid state"},
	    {"state=ready\n", "state=READY\n", "invalid state"},
	    {"state=ready\n", "state=starting\n", "invalid state"},
	    {"state=ready\n", "state=ready,\n", "invalid state"},
	    {"load=3\n", "load=\n", "invalid load"},
	    {"load=3\n", "load=03\n", "invalid load"},
	    {"load=3\n", "load=-1\n", "invalid load"},
	    {"load=3\n", "load=+1\n", "invalid load"},
	    {"load=3\n", "load=0x10\n", "invalid load"},
	    {"load=3\n", "load=1.5\n", "invalid load"},
	    {"load=3\n", "load=18446744073709551616\n", "invalid load"},
	    {"load=3\n", "load=100000000000000000000\n", "invalid load"},
	    {"version=0.1.0\n", "version=\n", "invalid version"},
	    {"version=0.1.0\n", "version=0.1.0/x\n", "invalid version"},
	    {"version=0.1.0\n", "version=012345678901234567890123456789012\n", "invalid version"},
	    {"started=1763780960123\n", "started=01763780960123\n", "invalid started"},
	    {"started=1763780960123\n", "started=now\n", "invalid started"},
	    {"seq=42\n", "seq=042\n", "invalid seq"},
	    {"seq=42\n", "seq=\n", "invalid seq"},
	    {"seq=42\n", "seq=4 2\n", "invalid seq"},
	    {"time=1763780990456\n", "time=\n", "invalid time"},
	    {"time=1763780990456\n", "time=-1\n", "invalid time"},
	    {"time=1763780990456\n", "time=01763780990456\n", "invalid time"},
	    {"time=1763780990456\n", "time=1763780990456.5\n", "invalid time"},
	    /* a mac line anywhere but last */
	    {"load=3\n", "load=3\nmac=00\n", "mac is not the last line"},
	};
	const char *error;
	enum announce_drop drop;
	char context[200];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *d = variant(cases[i].from, cases[i].to);
		snprintf(context, sizeof(context), "case %zu: %s -> %s", i, cases[i].from,
		         cases[i].to);
		test_set_context(context);
		error = "";
		test_assert_int_eq(parse_str(d, &drop, &error), -1);
		test_assert(strstr(error, cases[i].error) != NULL);
		test_assert_int_eq(drop, strstr(error, "unsupported") != NULL
		                             ? ANNOUNCE_DROP_VERSION
		                             : ANNOUNCE_DROP_MALFORMED);
	}
	test_set_context(NULL);

	/* a NUL anywhere, caught before it could end a string early */
	struct announce_msg m;
	char copy[sizeof(golden)];
	memcpy(copy, golden, sizeof(golden));
	copy[25] = '\0';
	test_assert_int_eq(announce_parse(copy, sizeof(golden) - 1, &key, &m, &drop, &error), -1);
	test_assert(strstr(error, "control") != NULL);
	test_assert_int_eq(drop, ANNOUNCE_DROP_MALFORMED);

	test_assert_int_eq(announce_parse("", 0, &key, &m, &drop, &error), -1);
	test_assert(strstr(error, "empty datagram") != NULL);
	test_assert_int_eq(parse_str(sign("TANDEM-ANNOUNCE/2\n"), &drop, &error), -1);
	test_assert(strstr(error, "missing key cluster") != NULL);
	test_assert_int_eq(drop, ANNOUNCE_DROP_MALFORMED);
}

/* Only the MAC under our key makes a datagram count; nothing else about it is trusted first. */
static void test_mac(void)
{
	struct announce_msg m;
	enum announce_drop drop = ANNOUNCE_DROP_COUNT;
	const char *error = NULL;
	char copy[sizeof(golden)];

	test_assert_int_eq(parse_str(golden, &drop, &error), 0);
	test_assert_int_eq(announce_parse(golden, strlen(golden), &other_key, &m, &drop, &error),
	                   -1);
	test_assert_int_eq(drop, ANNOUNCE_DROP_BAD_MAC);
	test_assert(strstr(error, "wrong mac") != NULL);
	/* signed with another key */
	test_assert_int_eq(parse_str(sign_with(&other_key, golden_body), &drop, &error), -1);
	test_assert_int_eq(drop, ANNOUNCE_DROP_BAD_MAC);
	/* no mac line: today's format without a MAC, or version 1 */
	test_assert_int_eq(parse_str(golden_body, &drop, &error), -1);
	test_assert_int_eq(drop, ANNOUNCE_DROP_BAD_MAC);
	test_assert(strstr(error, "no mac line") != NULL);
	test_assert_int_eq(parse_str(version1, &drop, &error), -1);
	test_assert_int_eq(drop, ANNOUNCE_DROP_VERSION);
	/* the mac line's own form: lowercase, 64 digits, last */
	static const struct {
		const char *mac_line;
	} bad_lines[] = {
	    {"mac=D0239B5FFF3C51F796DD7D4204C5C42358799FC2B7B0F4E64BCE87564AE5B64E\n"},
	    {"mac=d0239b5fff3c51f796dd7d4204c5c42358799fc2b7b0f4e64bce87564ae5b64\n"},
	    {"mac=d0239b5fff3c51f796dd7d4204c5c42358799fc2b7b0f4e64bce87564ae5b64e0\n"},
	    {"mac=d0239b5fff3c51f796dd7d4204c5c42358799fc2b7b0f4e64bce87564ae5b64g\n"},
	    {"mac= d0239b5fff3c51f796dd7d4204c5c42358799fc2b7b0f4e64bce87564ae5b64e\n"},
	    {"MAC=d0239b5fff3c51f796dd7d4204c5c42358799fc2b7b0f4e64bce87564ae5b64e\n"},
	    {"mac=d0239b5fff3c51f796dd7d4204c5c42358799fc2b7b0f4e64bce87564ae5b64e\nx=1\n"},
	    {"mac=\n"},
	};
	for (size_t i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++) {
		char d[1024];
		snprintf(d, sizeof(d), "%s%s", golden_body, bad_lines[i].mac_line);
		test_set_context(bad_lines[i].mac_line);
		test_assert_int_eq(parse_str(d, &drop, &error), -1);
		test_assert_int_eq(drop, ANNOUNCE_DROP_BAD_MAC);
	}
	test_set_context(NULL);
	/* any printable byte of the body or the MAC changed: never accepted */
	for (size_t i = 0; i + 1 < sizeof(golden); i++) {
		if (golden[i] == '\n')
			continue;
		memcpy(copy, golden, sizeof(golden));
		copy[i] = copy[i] == 'a' ? 'b' : 'a';
		test_assert_int_eq(
		    announce_parse(copy, sizeof(golden) - 1, &key, &m, &drop, &error), -1);
		test_assert(drop == ANNOUNCE_DROP_BAD_MAC || drop == ANNOUNCE_DROP_VERSION ||
		            drop == ANNOUNCE_DROP_MALFORMED);
	}
	test_assert_str_eq(announce_drop_name(ANNOUNCE_DROP_BAD_MAC), "bad_mac");
	test_assert_str_eq(announce_drop_name(ANNOUNCE_DROP_OTHER_CLUSTER), "other_cluster");
	test_assert_str_eq(announce_drop_name(ANNOUNCE_DROP_COUNT), "unknown");
}

/* Appends an unknown key line "<key>=vvv…\n" with a value of n bytes. */
static void unknown_line(struct buf *b, const char *name, size_t n)
{
	buf_printf(b, "%s=", name);
	for (size_t i = 0; i < n; i++)
		buf_append_char(b, 'v');
	buf_append_char(b, '\n');
}

static void test_size_caps(void)
{
	char big[ANNOUNCE_DATAGRAM_MAX + 64];
	const size_t mac_line = 4 + 64 + 1;
	struct announce_msg m;
	const char *error, *d;
	struct buf b;

	/* padded with unknown keys to exactly the cap with the mac line: accepted; one byte more:
	   refused */
	buf_init_fixed(&b, big, sizeof(big));
	buf_append_str(&b, golden_body);
	for (int k = 0; b.len < ANNOUNCE_DATAGRAM_MAX - mac_line; k++) {
		size_t rem = ANNOUNCE_DATAGRAM_MAX - mac_line - b.len;
		size_t take = rem < 4 + ANNOUNCE_VALUE_MAX ? rem : 4 + ANNOUNCE_VALUE_MAX;
		if (rem - take > 0 && rem - take < 5)
			take -= 5; /* leave room for a last line with a 1-byte value */
		char name[16];
		snprintf(name, sizeof(name), "p%d", k);
		unknown_line(&b, name, take - 4);
	}
	d = sign(b.data);
	test_assert_int_eq(strlen(d), ANNOUNCE_DATAGRAM_MAX);
	test_assert_int_eq(parse_str(d, NULL, &error), 0);
	big[b.len - 1] = 'v';
	big[b.len] = '\n';
	big[b.len + 1] = '\0';
	d = sign(big);
	test_assert_int_eq(parse_str(d, NULL, &error), -1);
	test_assert(strstr(error, "too large") != NULL);

	/* an unknown value of 128 bytes is fine, 129 is not */
	buf_init_fixed(&b, big, sizeof(big));
	buf_append_str(&b, golden_body);
	unknown_line(&b, "new", ANNOUNCE_VALUE_MAX);
	test_assert_int_eq(parse_str(sign(b.data), NULL, &error), 0);
	buf_init_fixed(&b, big, sizeof(big));
	buf_append_str(&b, golden_body);
	unknown_line(&b, "new", ANNOUNCE_VALUE_MAX + 1);
	test_assert_int_eq(parse_str(sign(b.data), NULL, &error), -1);
	test_assert(strstr(error, "invalid value") != NULL);

	/* ANNOUNCE_KEYS_MAX lines between magic and mac: 9 known plus 15 unknown pass, one more
	   does not */
	buf_init_fixed(&b, big, sizeof(big));
	buf_append_str(&b, golden_body);
	for (int i = 0; i < ANNOUNCE_KEYS_MAX - 9; i++)
		buf_printf(&b, "k%d=1\n", i);
	test_assert_int_eq(parse_str(sign(b.data), NULL, &error), 0);
	buf_append_lit(&b, "last=1\n");
	test_assert_int_eq(parse_str(sign(b.data), NULL, &error), -1);
	test_assert(strstr(error, "too many lines") != NULL);
	(void)m;
}

/* Every proper prefix of a valid datagram is refused, so a cut datagram never half-applies. */
static void test_truncations(void)
{
	struct announce_msg m;
	const char *error;
	size_t len = strlen(golden);

	for (size_t n = 0; n < len; n++) {
		char context[40];
		snprintf(context, sizeof(context), "prefix of %zu bytes", n);
		test_set_context(context);
		/* a heap copy of exactly n bytes, so ASan sees any read past the end */
		char *copy = mem_alloc(n > 0 ? n : 1);
		memcpy(copy, golden, n);
		test_assert_int_eq(announce_parse(copy, n, &key, &m, NULL, &error), -1);
		mem_free(&copy);
	}
	test_set_context(NULL);
	test_assert_int_eq(announce_parse(golden, len, &key, &m, NULL, &error), 0);
}

/* Any single byte replaced by a control byte is refused. */
static void test_byte_flips(void)
{
	struct announce_msg m;
	const char *error;
	char copy[sizeof(golden)];
	static const char bad[] = {'\0', '\r', '\t', '\x1b', '\x7f', '\x80', '\xff'};

	for (size_t i = 0; i + 1 < sizeof(golden); i++) {
		for (size_t j = 0; j < sizeof(bad); j++) {
			memcpy(copy, golden, sizeof(golden));
			copy[i] = bad[j];
			test_assert_int_eq(
			    announce_parse(copy, sizeof(golden) - 1, &key, &m, NULL, &error), -1);
		}
	}
}

static void test_settings(void)
{
	struct announce_settings set = {ANNOUNCE_DEFAULT_GROUP, NULL, 1000, NULL, false};
	const char *error = NULL;

	test_assert_int_eq(announce_settings_check(&set, &error), 0);
	set.interface = "127.0.0.1";
	test_assert_int_eq(announce_settings_check(&set, &error), 0);
	set.interface = "eth0";
	test_assert_int_eq(announce_settings_check(&set, &error), -1);
	test_assert(strstr(error, "announce interface eth0: not an IPv4 address") != NULL);
	set.interface = "::1";
	test_assert_int_eq(announce_settings_check(&set, &error), -1);
	set.interface = NULL;
	static const char *const bad_groups[] = {
	    "127.0.0.1:6780", "240.0.0.1:6780", "239.255.67.80:0", "239.255.67.80",
	    "[ff02::1]:6780", "multicast:6780", "239.255.67:6780",
	};
	for (size_t i = 0; i < sizeof(bad_groups) / sizeof(bad_groups[0]); i++) {
		test_set_context(bad_groups[i]);
		set.group = bad_groups[i];
		test_assert_int_eq(announce_settings_check(&set, &error), -1);
		test_assert(strstr(error, "announce group") != NULL);
	}
	test_set_context(NULL);
	set.group = NULL;
	test_assert_int_eq(announce_settings_check(&set, &error), -1);
	set.group = "224.0.0.251:5353";
	test_assert_int_eq(announce_settings_check(&set, &error), 0);
}

static void test_effective_address(void)
{
	struct announce_msg m;
	struct sockaddr_in from = {.sin_family = AF_INET};
	char out[ANNOUNCE_ADDRESS_MAX + 1];

	inet_pton(AF_INET, "10.1.2.3", &from.sin_addr);
	sample(&m);
	announce_effective_address(&m, &from, out, sizeof(out));
	test_assert_str_eq(out, "127.0.0.1:8009");
	snprintf(m.address, sizeof(m.address), "0.0.0.0:8009");
	announce_effective_address(&m, &from, out, sizeof(out));
	test_assert_str_eq(out, "10.1.2.3:8009");
	snprintf(m.address, sizeof(m.address), "[::]:80");
	announce_effective_address(&m, &from, out, sizeof(out));
	test_assert_str_eq(out, "10.1.2.3:80");
	announce_effective_address(&m, NULL, out, sizeof(out));
	test_assert_str_eq(out, "[::]:80");
}

static _Atomic int fills;

static void fill_sample(struct announce_msg *m, void *ctx)
{
	sample(m);
	snprintf(m->route, sizeof(m->route), "%s", (const char *)ctx);
	m->state = atomic_fetch_add(&fills, 1) >= 1 ? ANNOUNCE_DRAINING : ANNOUNCE_READY;
}

static void fill_bad(struct announce_msg *m, void *ctx)
{
	sample(m);
	snprintf(m->route, sizeof(m->route), "no spaces please");
}

static void test_sender_errors(void)
{
	struct announce_settings set = {ANNOUNCE_DEFAULT_GROUP, NULL, 1000, NULL, false};
	struct announce_sender *s = NULL;
	struct announce_key short_key = key;
	const char *error = NULL;

	test_assert_int_eq(announce_sender_start(&set, fill_sample, "OX-1", &s, &error), -1);
	test_assert(strstr(error, "no key") != NULL);
	short_key.len = ANNOUNCE_KEY_BYTES_MIN - 1;
	set.key = &short_key;
	test_assert_int_eq(announce_sender_start(&set, fill_sample, "OX-1", &s, &error), -1);
	test_assert(strstr(error, "no key") != NULL);
	set.key = &key;
	test_assert_int_eq(announce_sender_start(&set, fill_bad, NULL, &s, &error), -1);
	test_assert(strstr(error, "invalid route") != NULL);
	test_assert(s == NULL);
	set.interval_ms = 5;
	test_assert_int_eq(announce_sender_start(&set, fill_sample, "OX-1", &s, &error), -1);
	test_assert(strstr(error, "interval") != NULL);
	set.interval_ms = 1000;
	/* TEST-NET-1: valid, but no interface of this host has it */
	set.interface = "192.0.2.1";
	test_assert_int_eq(announce_sender_start(&set, fill_sample, "OX-1", &s, &error), -1);
	test_assert(strstr(error, "192.0.2.1") != NULL);
	set.interface = "lo";
	test_assert_int_eq(announce_sender_start(&set, fill_sample, "OX-1", &s, &error), -1);
	test_assert(s == NULL);
	announce_sender_stop(&s); /* NULL is fine */
}

/* Stop must not wait for the interval to run out. */
static void test_sender_stop_is_prompt(void)
{
	struct announce_settings set = {ANNOUNCE_DEFAULT_GROUP, "127.0.0.1", 60000, &key, false};
	struct announce_sender *s = NULL;
	const char *error = NULL;

	atomic_store(&fills, 0);
	test_assert_int_eq(announce_sender_start(&set, fill_sample, "OX-1", &s, &error), 0);
	if (s == NULL)
		return;
	/* the first datagram goes out at once (fill ran once for the start-up check) */
	uint64_t until = clock_mono_ms() + 2000;
	while (atomic_load(&fills) < 2 && clock_mono_ms() < until)
		;
	test_assert_int_eq(atomic_load(&fills), 2);
	uint64_t t0 = clock_mono_ms();
	announce_sender_stop(&s);
	test_assert(clock_mono_ms() - t0 < 500);
	test_assert(s == NULL);
}

/* Sender to receiver over loopback, when this host routes multicast there (the integration
   tests build a network namespace that does). */
static void test_loopback(void)
{
	/* a port of this process's own, so parallel runs do not hear each other */
	unsigned port = 20000 + (unsigned)getpid() % 20000;
	char group[40];
	snprintf(group, sizeof(group), "239.255.67.81:%u", port);
	struct announce_settings set = {group, "127.0.0.1", 20, &key, false};
	struct announce_receiver *r = NULL, *other = NULL;
	struct announce_sender *s = NULL;
	struct announce_msg m;
	struct announce_receiver_stats st;
	struct sockaddr_in from;
	const char *error = NULL;

	set.key = NULL;
	test_assert_int_eq(announce_receiver_open(&set, "alpha", &r, &error), -1);
	test_assert(strstr(error, "no key") != NULL);
	set.key = &key;
	if (announce_receiver_open(&set, "alpha", &r, &error) < 0) {
		printf("  (loopback multicast not available here: %s; skipped)\n", error);
		return;
	}
	test_assert_int_eq(announce_receiver_open(&set, "beta", &other, &error), 0);
	test_assert_int_eq(announce_receiver_open(&set, "bad name", &other, &error), -1);
	atomic_store(&fills, 0);
	test_assert_int_eq(announce_sender_start(&set, fill_sample, "OX-7", &s, &error), 0);
	int got = announce_receiver_next(r, 3000, &m, &from, &error);
	if (got != 1) {
		printf("  (no datagram over loopback multicast; skipped)\n");
		goto out;
	}
	test_assert_str_eq(m.cluster, "alpha");
	test_assert_str_eq(m.route, "OX-7");
	test_assert_int_eq(m.seq, 1);
	char ip[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &from.sin_addr, ip, sizeof(ip));
	test_assert_str_eq(ip, "127.0.0.1");
	/* the next ones carry the state fill reports now, with the next sequence numbers */
	test_assert_int_eq(announce_receiver_next(r, 3000, &m, NULL, &error), 1);
	test_assert_int_eq(m.seq, 2);
	test_assert_int_eq(m.state, ANNOUNCE_DRAINING);
	test_assert(announce_sender_sent(s) >= 1); /* the second may still be in sendto() */
	announce_sender_stop(&s);
	/* the other cluster's receiver hears the same datagrams and skips them all */
	test_assert_int_eq(announce_receiver_next(other, 100, &m, NULL, &error), 0);
	announce_receiver_get_stats(other, &st);
	test_assert(st.dropped[ANNOUNCE_DROP_OTHER_CLUSTER] >= 2);
	test_assert_int_eq(st.accepted, 0);
	for (int i = 0; i < ANNOUNCE_DROP_OTHER_CLUSTER; i++)
		test_assert_int_eq(st.dropped[i], 0);
	test_assert(st.last_problem == NULL);
	/* garbage, forgeries, old and replayed datagrams on the group are counted, not
	   returned */
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, "239.255.67.81", &to.sin_addr);
	struct in_addr lo;
	inet_pton(AF_INET, "127.0.0.1", &lo);
	setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &lo, sizeof(lo));
	while (announce_receiver_next(r, 0, &m, NULL, &error) == 1)
		;
	struct announce_receiver_stats before;
	announce_receiver_get_stats(r, &before);
	sendto(fd, "TANDEM-ANNOUNCE/2\n", 18, 0, (struct sockaddr *)&to, sizeof(to));
	sendto(fd, version1, strlen(version1), 0, (struct sockaddr *)&to, sizeof(to));
	const char *forged = sign_with(&other_key, golden_body);
	sendto(fd, forged, strlen(forged), 0, (struct sockaddr *)&to, sizeof(to));
	/* genuine and fresh: accepted once, then a replay; and one 60 s old */
	char body[512], genuine[ANNOUNCE_DATAGRAM_MAX];
	snprintf(body, sizeof(body),
	         "TANDEM-ANNOUNCE/2\ncluster=alpha\nroute=OX-8\naddress=127.0.0.1:1\n"
	         "state=ready\nload=0\nversion=1\nstarted=1\nseq=5\ntime=%llu\n",
	         (unsigned long long)clock_wall_ms());
	snprintf(genuine, sizeof(genuine), "%s", sign(body));
	sendto(fd, genuine, strlen(genuine), 0, (struct sockaddr *)&to, sizeof(to));
	test_assert_int_eq(announce_receiver_next(r, 3000, &m, NULL, &error), 1);
	test_assert_str_eq(m.route, "OX-8");
	sendto(fd, genuine, strlen(genuine), 0, (struct sockaddr *)&to, sizeof(to));
	snprintf(body, sizeof(body),
	         "TANDEM-ANNOUNCE/2\ncluster=alpha\nroute=OX-8\naddress=127.0.0.1:1\n"
	         "state=draining\nload=0\nversion=1\nstarted=1\nseq=6\ntime=%llu\n",
	         (unsigned long long)(clock_wall_ms() - 60000));
	const char *stale = sign(body);
	sendto(fd, stale, strlen(stale), 0, (struct sockaddr *)&to, sizeof(to));
	char huge[ANNOUNCE_DATAGRAM_MAX + 100];
	memset(huge, 'x', sizeof(huge));
	sendto(fd, huge, sizeof(huge), 0, (struct sockaddr *)&to, sizeof(to));
	test_assert_int_eq(announce_receiver_next(r, 300, &m, NULL, &error), 0);
	announce_receiver_get_stats(r, &st);
	test_assert_int_eq(st.accepted - before.accepted, 1);
	test_assert_int_eq(st.dropped[ANNOUNCE_DROP_BAD_MAC], 2);
	test_assert_int_eq(st.dropped[ANNOUNCE_DROP_VERSION], 1);
	test_assert_int_eq(st.dropped[ANNOUNCE_DROP_REPLAY], 1);
	test_assert_int_eq(st.dropped[ANNOUNCE_DROP_STALE], 1);
	test_assert_int_eq(st.dropped[ANNOUNCE_DROP_MALFORMED], 1);
	test_assert_str_eq(st.last_problem, "datagram too large");
	close(fd);
out:
	announce_sender_stop(&s);
	announce_receiver_close(&r);
	announce_receiver_close(&other);
	test_assert(r == NULL);
}

int main(void)
{
	keys_init();
	static const struct test_case cases[] = {
	    {"format exact", test_format_exact},
	    {"round trips", test_round_trips},
	    {"format rejects", test_format_rejects},
	    {"rejects", test_rejects},
	    {"mac", test_mac},
	    {"size caps", test_size_caps},
	    {"truncations", test_truncations},
	    {"byte flips", test_byte_flips},
	    {"settings", test_settings},
	    {"effective address", test_effective_address},
	    {"sender errors", test_sender_errors},
	    {"sender stop is prompt", test_sender_stop_is_prompt},
	    {"loopback", test_loopback},
	    {NULL, NULL},
	};
	return test_run(cases);
}
