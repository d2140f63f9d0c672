/* SPDX-License-Identifier: MIT */
/* Multicast announce: a strict, authenticated text datagram, the node's sender thread and a
   receiver. */
#include "announce.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "announce-replay.h"
#include "buf.h"
#include "clock.h"
#include "config.h"
#include "hostport.h"
#include "log.h"
#include "mem.h"
#include "strv.h"

/* ---------------------------------------------------------------- format */

enum field {
	F_CLUSTER,
	F_ROUTE,
	F_ADDRESS,
	F_STATE,
	F_LOAD,
	F_VERSION,
	F_STARTED,
	F_SEQ,
	F_TIME,
	F_COUNT,
};

/* Every message is static: the parser runs on untrusted input in any thread. */
static const struct {
	const char *key;
	const char *bad;
	const char *missing;
} fields[F_COUNT] = {
    {"cluster", "invalid cluster: 1-64 of A-Z a-z 0-9 - _", "missing key cluster"},
    {"route", "invalid route: 1-64 of A-Z a-z 0-9 - _", "missing key route"},
    {"address", "invalid address: host:port or [v6]:port, port 1-65535", "missing key address"},
    {"state", "invalid state: ready or draining", "missing key state"},
    {"load", "invalid load: a decimal number without leading zeros", "missing key load"},
    {"version", "invalid version: 1-32 of A-Z a-z 0-9 . + - _", "missing key version"},
    {"started", "invalid started: a decimal number without leading zeros", "missing key started"},
    {"seq", "invalid seq: a decimal number without leading zeros", "missing key seq"},
    {"time", "invalid time: a decimal number without leading zeros", "missing key time"},
};

/* The last line: "mac=", the HMAC-SHA256 of every byte before this line in lowercase hex,
   '\n'. */
#define MAC_PREFIX   "mac="
#define MAC_LINE_LEN (sizeof(MAC_PREFIX) - 1 + 2 * ANNOUNCE_MAC_BYTES + 1)

static const char *const drop_names[ANNOUNCE_DROP_COUNT] = {
    [ANNOUNCE_DROP_MALFORMED] = "malformed",
    [ANNOUNCE_DROP_VERSION] = "version",
    [ANNOUNCE_DROP_BAD_MAC] = "bad_mac",
    [ANNOUNCE_DROP_STALE] = "stale",
    [ANNOUNCE_DROP_REPLAY] = "replay",
    [ANNOUNCE_DROP_SENDERS] = "senders",
    [ANNOUNCE_DROP_OTHER_CLUSTER] = "other_cluster",
};

const char *announce_drop_name(enum announce_drop drop)
{
	return drop < ANNOUNCE_DROP_COUNT ? drop_names[drop] : "unknown";
}

const char *announce_state_name(enum announce_state state)
{
	return state == ANNOUNCE_DRAINING ? "draining" : "ready";
}

void announce_field_set(char *field, size_t field_size, const char *value)
{
	size_t len = value == NULL ? 0 : strlen(value);
	if (len >= field_size)
		len = 0;
	if (len > 0)
		memcpy(field, value, len);
	field[len] = '\0';
}

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Cluster names and routes: the characters tandemd's config allows for both. */
static bool name_valid(struct strv v)
{
	if (v.len == 0 || v.len > ANNOUNCE_NAME_MAX)
		return false;
	for (size_t i = 0; i < v.len; i++) {
		if (!is_alnum(v.ptr[i]) && v.ptr[i] != '-' && v.ptr[i] != '_')
			return false;
	}
	return true;
}

bool announce_name_valid(const char *name)
{
	return name != NULL && name_valid(strv_from_cstr(name));
}

static bool version_valid(struct strv v)
{
	if (v.len == 0 || v.len > ANNOUNCE_VERSION_MAX)
		return false;
	for (size_t i = 0; i < v.len; i++) {
		char c = v.ptr[i];
		if (!is_alnum(c) && c != '.' && c != '+' && c != '-' && c != '_')
			return false;
	}
	return true;
}

/* One canonical spelling per number, so a value cannot be smuggled past a comparison. */
static bool number_parse(struct strv v, uint64_t *value_r)
{
	if (v.len == 0 || v.len > 20 || (v.len > 1 && v.ptr[0] == '0'))
		return false;
	return strv_to_u64(v, value_r) == 0;
}

/* host:port with a name or IPv4 host, or [v6]:port (zone ids allowed): the syntax of
   hostport.h in a narrower alphabet, since peers' addresses end up in logs and pages. */
static bool address_valid(struct strv v)
{
	struct hostport hp;
	const char *error;
	bool v6 = v.len > 0 && v.ptr[0] == '[';

	if (v.len == 0 || v.len > ANNOUNCE_ADDRESS_MAX ||
	    hostport_parse(v, 0, 0, &hp, &error) != HOSTPORT_OK || hp.port_text.ptr[0] == '0')
		return false; /* numbers on the wire have no leading zero */
	for (const char *c = hp.host; *c != '\0'; c++) {
		if (!is_alnum(*c) && *c != '.' && *c != '-' && *c != '_' &&
		    !(v6 && (*c == ':' || *c == '%')))
			return false;
	}
	return !v6 || strchr(hp.host, ':') != NULL;
}

static bool state_parse(struct strv v, enum announce_state *state_r)
{
	if (strv_eq_cstr(v, "ready"))
		*state_r = ANNOUNCE_READY;
	else if (strv_eq_cstr(v, "draining"))
		*state_r = ANNOUNCE_DRAINING;
	else
		return false;
	return true;
}

/* Keys: a lower-case letter, then lower-case letters, digits and '_'. */
static bool key_valid(struct strv k)
{
	if (k.len == 0 || k.len > ANNOUNCE_KEY_MAX || k.ptr[0] < 'a' || k.ptr[0] > 'z')
		return false;
	for (size_t i = 1; i < k.len; i++) {
		char c = k.ptr[i];
		if (!(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9') && c != '_')
			return false;
	}
	return true;
}

/* Values of keys a later revision of version 2 may add: printable, no spaces. */
static bool unknown_value_valid(struct strv v)
{
	if (v.len == 0 || v.len > ANNOUNCE_VALUE_MAX)
		return false;
	for (size_t i = 0; i < v.len; i++) {
		if (v.ptr[i] < 0x21 || v.ptr[i] > 0x7e)
			return false;
	}
	return true;
}

static void copy_value(char *dst, struct strv v)
{
	memcpy(dst, v.ptr, v.len);
	dst[v.len] = '\0';
}

/* Stores v in the message field f; false if v is not valid for f. */
static bool field_set(enum field f, struct strv v, struct announce_msg *msg)
{
	switch (f) {
	case F_CLUSTER:
		if (!name_valid(v))
			return false;
		copy_value(msg->cluster, v);
		return true;
	case F_ROUTE:
		if (!name_valid(v))
			return false;
		copy_value(msg->route, v);
		return true;
	case F_ADDRESS:
		if (!address_valid(v))
			return false;
		copy_value(msg->address, v);
		return true;
	case F_STATE:
		return state_parse(v, &msg->state);
	case F_LOAD:
		return number_parse(v, &msg->load);
	case F_VERSION:
		if (!version_valid(v))
			return false;
		copy_value(msg->version, v);
		return true;
	case F_STARTED:
		return number_parse(v, &msg->started_ms);
	case F_SEQ:
		return number_parse(v, &msg->seq);
	case F_TIME:
		return number_parse(v, &msg->time_ms);
	case F_COUNT:
		break;
	}
	return false;
}

int announce_format(const struct announce_msg *msg, const struct announce_key *key, char *out,
                    size_t out_size, size_t *len_r, const char **error_r)
{
	/* Same checks as the parser, so nothing we send is dropped by a receiver. The fixed
	   arrays may lack a NUL if a caller filled them carelessly: measure within bounds. */
	struct strv cluster = strv_make(msg->cluster, strnlen(msg->cluster, sizeof(msg->cluster)));
	struct strv route = strv_make(msg->route, strnlen(msg->route, sizeof(msg->route)));
	struct strv address = strv_make(msg->address, strnlen(msg->address, sizeof(msg->address)));
	struct strv version = strv_make(msg->version, strnlen(msg->version, sizeof(msg->version)));
	uint8_t mac[ANNOUNCE_MAC_BYTES];
	char mac_hex[2 * ANNOUNCE_MAC_BYTES + 1];
	struct buf b;

	assert(out_size >= ANNOUNCE_DATAGRAM_MAX);
	assert(key != NULL && key->len > 0);
	if (!name_valid(cluster)) {
		*error_r = fields[F_CLUSTER].bad;
		return -1;
	}
	if (!name_valid(route)) {
		*error_r = fields[F_ROUTE].bad;
		return -1;
	}
	if (!address_valid(address)) {
		*error_r = fields[F_ADDRESS].bad;
		return -1;
	}
	if (msg->state != ANNOUNCE_READY && msg->state != ANNOUNCE_DRAINING) {
		*error_r = fields[F_STATE].bad;
		return -1;
	}
	if (!version_valid(version)) {
		*error_r = fields[F_VERSION].bad;
		return -1;
	}
	buf_init_fixed(&b, out, ANNOUNCE_DATAGRAM_MAX);
	buf_append_lit(&b, ANNOUNCE_MAGIC "\ncluster=");
	buf_append_strv(&b, cluster);
	buf_append_lit(&b, "\nroute=");
	buf_append_strv(&b, route);
	buf_append_lit(&b, "\naddress=");
	buf_append_strv(&b, address);
	buf_append_lit(&b, "\nstate=");
	buf_append_str(&b, announce_state_name(msg->state));
	buf_append_lit(&b, "\nload=");
	buf_append_u64(&b, msg->load);
	buf_append_lit(&b, "\nversion=");
	buf_append_strv(&b, version);
	buf_append_lit(&b, "\nstarted=");
	buf_append_u64(&b, msg->started_ms);
	buf_append_lit(&b, "\nseq=");
	buf_append_u64(&b, msg->seq);
	buf_append_lit(&b, "\ntime=");
	buf_append_u64(&b, msg->time_ms);
	buf_append_char(&b, '\n');
	announce_key_mac(key, b.data, b.len, mac);
	sodium_bin2hex(mac_hex, sizeof(mac_hex), mac, sizeof(mac));
	buf_append_lit(&b, MAC_PREFIX);
	buf_append(&b, mac_hex, 2 * ANNOUNCE_MAC_BYTES);
	buf_append_char(&b, '\n');
	/* Cannot happen with the caps above (under 500 bytes); kept as a guard for new keys. */
	if (buf_overflowed(&b)) {
		*error_r = "announce datagram too large";
		return -1;
	}
	*len_r = b.len;
	return 0;
}

static int drop(enum announce_drop why, const char *message, enum announce_drop *drop_r,
                const char **error_r)
{
	if (drop_r != NULL)
		*drop_r = why;
	*error_r = message;
	return -1;
}

static int lower_hex_value(char c)
{
	return c >= 'A' && c <= 'F' ? -1 : strv_hex_digit(c);
}

/* The mac line that ends p[0..len) (which ends in '\n'): the MAC into mac_r and where the line
   starts into *start_r, or false if the last line is not one. */
static bool mac_line(const char *p, size_t len, uint8_t mac_r[ANNOUNCE_MAC_BYTES], size_t *start_r)
{
	if (len <= MAC_LINE_LEN)
		return false;
	size_t start = len - MAC_LINE_LEN;
	const char *hex = p + start + sizeof(MAC_PREFIX) - 1;
	if (p[start - 1] != '\n' || memcmp(p + start, MAC_PREFIX, sizeof(MAC_PREFIX) - 1) != 0)
		return false;
	for (size_t i = 0; i < ANNOUNCE_MAC_BYTES; i++) {
		int hi = lower_hex_value(hex[2 * i]), lo = lower_hex_value(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		mac_r[i] = (uint8_t)(hi << 4 | lo);
	}
	*start_r = start;
	return true;
}

int announce_parse(const void *data, size_t len, const struct announce_key *key,
                   struct announce_msg *msg_r, enum announce_drop *drop_r, const char **error_r)
{
	const char *p = data;
	struct strv keys[ANNOUNCE_KEYS_MAX];
	size_t key_count = 0, body_end;
	unsigned seen = 0;
	struct strv rest, line;
	uint8_t mac[ANNOUNCE_MAC_BYTES];

	assert(key != NULL && key->len > 0);
	if (len == 0)
		return drop(ANNOUNCE_DROP_MALFORMED, "empty datagram", drop_r, error_r);
	if (len > ANNOUNCE_DATAGRAM_MAX)
		return drop(ANNOUNCE_DROP_MALFORMED, "datagram too large", drop_r, error_r);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c != '\n' && (c < 0x20 || c > 0x7e))
			return drop(ANNOUNCE_DROP_MALFORMED, "control or non-ASCII byte", drop_r,
			            error_r);
	}
	/* Every line ends in '\n', the last one too: a datagram cut short anywhere is either
	   missing it or its mac line. */
	if (p[len - 1] != '\n')
		return drop(ANNOUNCE_DROP_MALFORMED, "truncated: no final newline", drop_r,
		            error_r);
	rest = strv_make(p, len);
	strv_split(rest, '\n', &line, &rest);
	if (!strv_eq_cstr(line, ANNOUNCE_MAGIC)) {
		if (strv_starts_with(line, STRV_LIT("TANDEM-ANNOUNCE/")))
			return drop(ANNOUNCE_DROP_VERSION,
			            "unsupported announce version (version 1 is unauthenticated: "
			            "upgrade the sender)",
			            drop_r, error_r);
		return drop(ANNOUNCE_DROP_MALFORMED, "not a Tandem announce datagram", drop_r,
		            error_r);
	}
	/* Nothing of the body is looked at before its MAC is checked. */
	if (!mac_line(p, len, mac, &body_end) || body_end < line.len + 1)
		return drop(ANNOUNCE_DROP_BAD_MAC,
		            "no mac line at the end (mac= and 64 lowercase hex digits)", drop_r,
		            error_r);
	if (!announce_key_verify(key, p, body_end, mac))
		return drop(ANNOUNCE_DROP_BAD_MAC, "wrong mac: not sent with this announce key",
		            drop_r, error_r);
	rest = strv_make(p + line.len + 1, body_end - line.len - 1);
	memset(msg_r, 0, sizeof(*msg_r));
	while (rest.len > 0) {
		struct strv name, value;
		int f;

		strv_split(rest, '\n', &line, &rest);
		if (line.len == 0)
			return drop(ANNOUNCE_DROP_MALFORMED, "empty line", drop_r, error_r);
		if (key_count == ANNOUNCE_KEYS_MAX)
			return drop(ANNOUNCE_DROP_MALFORMED, "too many lines", drop_r, error_r);
		if (!strv_split(line, '=', &name, &value))
			return drop(ANNOUNCE_DROP_MALFORMED, "line without '='", drop_r, error_r);
		if (!key_valid(name))
			return drop(ANNOUNCE_DROP_MALFORMED,
			            "invalid key: 1-16 of a-z 0-9 _, starting with a letter",
			            drop_r, error_r);
		if (strv_eq_cstr(name, "mac"))
			return drop(ANNOUNCE_DROP_MALFORMED, "mac is not the last line", drop_r,
			            error_r);
		for (size_t i = 0; i < key_count; i++) {
			if (strv_eq(keys[i], name))
				return drop(ANNOUNCE_DROP_MALFORMED, "duplicate key", drop_r,
				            error_r);
		}
		keys[key_count++] = name;
		for (f = 0; f < F_COUNT && !strv_eq_cstr(name, fields[f].key); f++)
			;
		if (f == F_COUNT) {
			/* Newer senders of version 2 may add keys; old receivers skip them. */
			if (!unknown_value_valid(value))
				return drop(
				    ANNOUNCE_DROP_MALFORMED,
				    "invalid value: 1-128 printable characters without spaces",
				    drop_r, error_r);
			continue;
		}
		if (!field_set((enum field)f, value, msg_r))
			return drop(ANNOUNCE_DROP_MALFORMED, fields[f].bad, drop_r, error_r);
		seen |= 1u << f;
	}
	for (int f = 0; f < F_COUNT; f++) {
		if ((seen & (1u << f)) == 0)
			return drop(ANNOUNCE_DROP_MALFORMED, fields[f].missing, drop_r, error_r);
	}
	return 0;
}

/* ---------------------------------------------------------------- settings */

static __thread char err_buf[320];

static const char *set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *set_error(const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	vsnprintf(err_buf, sizeof(err_buf), fmt, args);
	va_end(args);
	return err_buf;
}

/* Parses set->group and set->interface. */
static int resolve(const struct announce_settings *set, struct sockaddr_in *group_r,
                   struct in_addr *iface_r, const char **error_r)
{
	char host[128];
	uint16_t port;
	const char *perr;

	if (set->group == NULL) {
		*error_r = "no announce group given";
		return -1;
	}
	if (config_parse_address(set->group, host, sizeof(host), &port, &perr) < 0) {
		*error_r = set_error("announce group %s: %s", set->group, perr);
		return -1;
	}
	memset(group_r, 0, sizeof(*group_r));
	group_r->sin_family = AF_INET;
	group_r->sin_port = htons(port);
	if (inet_pton(AF_INET, host, &group_r->sin_addr) != 1 ||
	    !IN_MULTICAST(ntohl(group_r->sin_addr.s_addr))) {
		*error_r = set_error("announce group %s: not an IPv4 multicast address "
		                     "(224.0.0.0-239.255.255.255)",
		                     set->group);
		return -1;
	}
	if (port == 0) {
		*error_r = set_error("announce group %s: port must not be 0", set->group);
		return -1;
	}
	iface_r->s_addr = htonl(INADDR_ANY);
	if (set->interface != NULL && set->interface[0] != '\0' &&
	    inet_pton(AF_INET, set->interface, iface_r) != 1) {
		*error_r = set_error("announce interface %s: not an IPv4 address", set->interface);
		return -1;
	}
	return 0;
}

int announce_settings_check(const struct announce_settings *set, const char **error_r)
{
	struct sockaddr_in group;
	struct in_addr iface;
	return resolve(set, &group, &iface, error_r);
}

/* ---------------------------------------------------------------- sender */

struct announce_sender {
	int fd;
	struct sockaddr_in group;
	char group_text[64];
	uint64_t interval_ms;
	announce_fill_fn *fill;
	void *ctx;
	struct announce_key key;
	uint64_t seq; /* sender thread only */
	bool failing; /* sender thread only: a failure was logged, success not yet */
	_Atomic uint64_t sent;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* on CLOCK_MONOTONIC, so wall clock jumps do not stall us */
	bool stop;           /* under lock */
};

static void send_one(struct announce_sender *s)
{
	struct announce_msg msg;
	char out[ANNOUNCE_DATAGRAM_MAX];
	size_t len;
	const char *error;

	memset(&msg, 0, sizeof(msg));
	s->fill(&msg, s->ctx);
	msg.seq = ++s->seq;
	msg.time_ms = clock_wall_ms();
	if (announce_format(&msg, &s->key, out, sizeof(out), &len, &error) < 0) {
		if (!s->failing)
			log_error("announce", "not sending: %s", error);
		s->failing = true;
		return;
	}
	if (sendto(s->fd, out, len, 0, (struct sockaddr *)&s->group, sizeof(s->group)) < 0) {
		if (!s->failing)
			log_warn("announce", "sending to %s: %s (further failures not logged)",
			         s->group_text, strerror(errno));
		s->failing = true;
		return;
	}
	if (s->failing)
		log_info("announce", "sending to %s again", s->group_text);
	s->failing = false;
	atomic_fetch_add(&s->sent, 1);
}

static void timespec_add_ms(struct timespec *ts, uint64_t ms)
{
	ts->tv_sec += (time_t)(ms / 1000);
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static bool timespec_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static void *sender_main(void *arg)
{
	struct announce_sender *s = arg;
	struct timespec next, now;

	clock_gettime(CLOCK_MONOTONIC, &next);
	pthread_mutex_lock(&s->lock);
	while (!s->stop) {
		pthread_mutex_unlock(&s->lock);
		send_one(s);
		/* A steady rate; after a stall (suspend, overload) start over instead of sending
		   the missed datagrams in a burst. */
		timespec_add_ms(&next, s->interval_ms);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (timespec_before(&next, &now)) {
			next = now;
			timespec_add_ms(&next, s->interval_ms);
		}
		pthread_mutex_lock(&s->lock);
		while (!s->stop && pthread_cond_timedwait(&s->cond, &s->lock, &next) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

int announce_sender_start(const struct announce_settings *set, announce_fill_fn *fill, void *ctx,
                          struct announce_sender **sender_r, const char **error_r)
{
	struct sockaddr_in group;
	struct in_addr iface;
	struct announce_msg probe;
	char out[ANNOUNCE_DATAGRAM_MAX];
	size_t len;
	const char *ferr;
	unsigned char ttl = 1, loop = 1;
	pthread_condattr_t cattr;

	if (resolve(set, &group, &iface, error_r) < 0)
		return -1;
	if (set->key == NULL || set->key->len < ANNOUNCE_KEY_BYTES_MIN) {
		*error_r = "announce: no key (announcements are authenticated)";
		return -1;
	}
	if (set->interval_ms < 10) {
		*error_r = "announce interval must be at least 10ms";
		return -1;
	}
	/* A field the format cannot carry (a route too long, say) is a configuration problem:
	   report it now rather than log it every interval. */
	memset(&probe, 0, sizeof(probe));
	fill(&probe, ctx);
	if (announce_format(&probe, set->key, out, sizeof(out), &len, &ferr) < 0) {
		*error_r = set_error("announce: %s", ferr);
		return -1;
	}

	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*error_r = set_error("announce socket: %s", strerror(errno));
		return -1;
	}
	if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof(loop)) < 0) {
		*error_r = set_error("announce socket options: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (iface.s_addr != htonl(INADDR_ANY) &&
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &iface, sizeof(iface)) < 0) {
		*error_r = set_error("announce interface %s: %s", set->interface,
		                     errno == EADDRNOTAVAIL ? "no local interface has this address"
		                                            : strerror(errno));
		close(fd);
		return -1;
	}

	struct announce_sender *s = mem_calloc(1, sizeof(*s));
	s->fd = fd;
	s->group = group;
	snprintf(s->group_text, sizeof(s->group_text), "%s", set->group);
	s->interval_ms = set->interval_ms;
	s->fill = fill;
	s->ctx = ctx;
	s->key = *set->key;
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&cattr);
	pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cond, &cattr);
	pthread_condattr_destroy(&cattr);
	int rc = pthread_create(&s->thread, NULL, sender_main, s);
	if (rc != 0) {
		*error_r = set_error("announce thread: %s", strerror(rc));
		pthread_cond_destroy(&s->cond);
		pthread_mutex_destroy(&s->lock);
		close(fd);
		announce_key_wipe(&s->key);
		mem_free(&s);
		return -1;
	}
	pthread_setname_np(s->thread, "announce");
	*sender_r = s;
	return 0;
}

uint64_t announce_sender_sent(struct announce_sender *sender)
{
	return atomic_load(&sender->sent);
}

void announce_sender_stop(struct announce_sender **senderp)
{
	struct announce_sender *s = senderp == NULL ? NULL : *senderp;
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	close(s->fd);
	announce_key_wipe(&s->key);
	mem_free(senderp);
}

/* ---------------------------------------------------------------- receiver */

#define DROP_LOG_INTERVAL_MS 10000

struct announce_receiver {
	int fd;
	struct ip_mreq mreq;
	char cluster[ANNOUNCE_NAME_MAX + 1];
	struct announce_key key;
	struct announce_replay *replay;
	bool log_drops;
	uint64_t next_log_ms; /* receiving thread only: no drop is logged before */
	uint64_t unlogged;    /* receiving thread only: drops not logged since the last line */
	/* Read by other threads (announce_receiver_get_stats()). */
	_Atomic uint64_t accepted;
	_Atomic uint64_t dropped[ANNOUNCE_DROP_COUNT];
	_Atomic(const char *) last_problem;
};

int announce_receiver_open(const struct announce_settings *set, const char *cluster,
                           struct announce_receiver **receiver_r, const char **error_r)
{
	struct announce_receiver *r = NULL;
	struct sockaddr_in group;
	struct in_addr iface;
	int one = 1, zero = 0;

	if (resolve(set, &group, &iface, error_r) < 0)
		return -1;
	if (!announce_name_valid(cluster)) {
		*error_r = "cluster name must be 1-64 of A-Z a-z 0-9 - _";
		return -1;
	}
	if (set->key == NULL || set->key->len < ANNOUNCE_KEY_BYTES_MIN) {
		*error_r = "announce: no key (announcements are authenticated)";
		return -1;
	}
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		*error_r = set_error("announce socket: %s", strerror(errno));
		return -1;
	}
	/* Bound to the group address, not INADDR_ANY: unicast datagrams to the port are not
	   ours. IP_MULTICAST_ALL off: without it Linux also delivers groups that other sockets
	   of this host joined on the same port. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) {
		*error_r = set_error("announce socket options: %s", strerror(errno));
		goto fail;
	}
#ifdef IP_MULTICAST_ALL
	(void)setsockopt(fd, IPPROTO_IP, IP_MULTICAST_ALL, &zero, sizeof(zero));
#endif
	if (bind(fd, (struct sockaddr *)&group, sizeof(group)) < 0) {
		*error_r = set_error("bind %s: %s", set->group, strerror(errno));
		goto fail;
	}
	r = mem_calloc(1, sizeof(*r));
	r->fd = fd;
	r->mreq.imr_multiaddr = group.sin_addr;
	r->mreq.imr_interface = iface;
	if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &r->mreq, sizeof(r->mreq)) < 0) {
		*error_r = set_error(
		    "joining %s on %s: %s", set->group,
		    iface.s_addr != htonl(INADDR_ANY) ? set->interface : "the default interface",
		    errno == ENODEV ? "no such interface (or no multicast route)"
		                    : strerror(errno));
		mem_free(&r);
		goto fail;
	}
	snprintf(r->cluster, sizeof(r->cluster), "%s", cluster);
	r->key = *set->key;
	r->replay = announce_replay_create();
	r->log_drops = set->log_drops;
	*receiver_r = r;
	return 0;
fail:
	close(fd);
	return -1;
}

int announce_receiver_fd(const struct announce_receiver *receiver)
{
	return receiver->fd;
}

/* Counts a dropped datagram and logs it, at most one line per DROP_LOG_INTERVAL_MS: a flood of
   forgeries must not flood the log as well. route is the sender's once it is authenticated,
   else NULL. */
static void dropped(struct announce_receiver *r, enum announce_drop why, const char *problem,
                    const struct sockaddr_in *from, const char *route)
{
	char ip[INET_ADDRSTRLEN], more[96] = "";

	atomic_fetch_add(&r->dropped[why], 1);
	if (why == ANNOUNCE_DROP_OTHER_CLUSTER)
		return; /* several clusters may share a group: nothing wrong */
	atomic_store(&r->last_problem, problem);
	if (!r->log_drops)
		return;
	uint64_t now = clock_mono_ms();
	if (now < r->next_log_ms) {
		r->unlogged++;
		return;
	}
	if (inet_ntop(AF_INET, &from->sin_addr, ip, sizeof(ip)) == NULL)
		snprintf(ip, sizeof(ip), "?");
	if (r->unlogged > 0)
		snprintf(more, sizeof(more), "; %llu more dropped since the last such line",
		         (unsigned long long)r->unlogged);
	log_warn("announce",
	         "dropped an announcement from %s%s%s%s: %s: %s%s (at most one such line per "
	         "10 s; every drop is counted)",
	         ip, route != NULL ? " (route " : "", route != NULL ? route : "",
	         route != NULL ? ")" : "", announce_drop_name(why), problem, more);
	r->next_log_ms = now + DROP_LOG_INTERVAL_MS;
	r->unlogged = 0;
}

int announce_receiver_next(struct announce_receiver *r, uint64_t timeout_ms,
                           struct announce_msg *msg_r, struct sockaddr_in *from_r,
                           const char **error_r)
{
	uint64_t deadline = clock_mono_ms() + timeout_ms;
	/* One byte more than the cap, and MSG_TRUNC for the real size: an oversized datagram is
	   recognised as such, not parsed in part. */
	char data[ANNOUNCE_DATAGRAM_MAX + 1];
	const char *perr;
	enum announce_drop why;

	for (;;) {
		struct sockaddr_in from;
		socklen_t from_len = sizeof(from);
		ssize_t n = recvfrom(r->fd, data, sizeof(data), MSG_TRUNC, (struct sockaddr *)&from,
		                     &from_len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				*error_r =
				    set_error("receiving announcements: %s", strerror(errno));
				return -1;
			}
			uint64_t now = clock_mono_ms();
			if (now >= deadline)
				return 0;
			uint64_t wait = deadline - now;
			struct pollfd pfd = {.fd = r->fd, .events = POLLIN};
			if (poll(&pfd, 1, wait > INT_MAX ? INT_MAX : (int)wait) < 0 &&
			    errno != EINTR) {
				*error_r =
				    set_error("waiting for announcements: %s", strerror(errno));
				return -1;
			}
			continue;
		}
		if ((size_t)n > ANNOUNCE_DATAGRAM_MAX) {
			dropped(r, ANNOUNCE_DROP_MALFORMED, "datagram too large", &from, NULL);
			continue;
		}
		if (announce_parse(data, (size_t)n, &r->key, msg_r, &why, &perr) < 0) {
			dropped(r, why, perr, &from, NULL);
			continue;
		}
		if (strcmp(msg_r->cluster, r->cluster) != 0) {
			dropped(r, ANNOUNCE_DROP_OTHER_CLUSTER, "another cluster", &from, NULL);
			continue;
		}
		if (announce_replay_check(r->replay, msg_r, clock_wall_ms(), clock_mono_ms(), &why,
		                          &perr) < 0) {
			dropped(r, why, perr, &from, msg_r->route);
			continue;
		}
		atomic_fetch_add(&r->accepted, 1);
		if (from_r != NULL)
			*from_r = from;
		return 1;
	}
}

void announce_receiver_get_stats(const struct announce_receiver *receiver,
                                 struct announce_receiver_stats *stats_r)
{
	stats_r->accepted = atomic_load(&receiver->accepted);
	for (int i = 0; i < ANNOUNCE_DROP_COUNT; i++)
		stats_r->dropped[i] = atomic_load(&receiver->dropped[i]);
	stats_r->last_problem = atomic_load(&receiver->last_problem);
}

void announce_receiver_close(struct announce_receiver **receiverp)
{
	struct announce_receiver *r = receiverp == NULL ? NULL : *receiverp;
	if (r == NULL)
		return;
	(void)setsockopt(r->fd, IPPROTO_IP, IP_DROP_MEMBERSHIP, &r->mreq, sizeof(r->mreq));
	close(r->fd);
	announce_key_wipe(&r->key);
	announce_replay_destroy(&r->replay);
	mem_free(receiverp);
}

void announce_effective_address(const struct announce_msg *msg, const struct sockaddr_in *from,
                                char *out, size_t out_size)
{
	struct strv addr = strv_from_cstr(msg->address), port = STRV_NULL;
	char ip[INET_ADDRSTRLEN];

	if (strv_starts_with(addr, STRV_LIT("0.0.0.0:")))
		port = strv_make(addr.ptr + 8, addr.len - 8);
	else if (strv_starts_with(addr, STRV_LIT("[::]:")))
		port = strv_make(addr.ptr + 5, addr.len - 5);
	if (port.ptr != NULL && from != NULL &&
	    inet_ntop(AF_INET, &from->sin_addr, ip, sizeof(ip)) != NULL) {
		snprintf(out, out_size, "%s:%.*s", ip, STRV_FMT(port));
		return;
	}
	snprintf(out, out_size, "%s", msg->address);
}
