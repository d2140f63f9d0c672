/* SPDX-License-Identifier: MIT */
/* Multicast announce: a strict text datagram, the node's sender thread and a receiver. */
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

#include "buf.h"
#include "clock.h"
#include "config.h"
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
};

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

static bool port_valid(struct strv v)
{
	uint64_t port;
	return v.len <= 5 && number_parse(v, &port) && port >= 1 && port <= 65535;
}

/* host:port with a name or IPv4 host, or [v6]:port (zone ids allowed). */
static bool address_valid(struct strv v)
{
	struct strv host, port;
	size_t i;

	if (v.len == 0 || v.len > ANNOUNCE_ADDRESS_MAX)
		return false;
	if (v.ptr[0] == '[') {
		ptrdiff_t end = strv_find_char(v, ']');
		if (end < 2 || (size_t)end + 1 >= v.len || v.ptr[end + 1] != ':')
			return false;
		host = strv_make(v.ptr + 1, (size_t)end - 1);
		port = strv_make(v.ptr + end + 2, v.len - (size_t)end - 2);
		for (i = 0; i < host.len; i++) {
			char c = host.ptr[i];
			if (!is_alnum(c) && c != ':' && c != '.' && c != '%' && c != '-' &&
			    c != '_')
				return false;
		}
		if (strv_find_char(host, ':') < 0)
			return false;
	} else {
		if (!strv_split(v, ':', &host, &port) || host.len == 0)
			return false;
		for (i = 0; i < host.len; i++) {
			char c = host.ptr[i];
			if (!is_alnum(c) && c != '.' && c != '-' && c != '_')
				return false;
		}
	}
	return port_valid(port);
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

/* Values of keys a later revision of version 1 may add: printable, no spaces. */
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
	case F_COUNT:
		break;
	}
	return false;
}

int announce_format(const struct announce_msg *msg, char *out, size_t out_size, size_t *len_r,
                    const char **error_r)
{
	/* Same checks as the parser, so nothing we send is dropped by a receiver. The fixed
	   arrays may lack a NUL if a caller filled them carelessly: measure within bounds. */
	struct strv cluster = strv_make(msg->cluster, strnlen(msg->cluster, sizeof(msg->cluster)));
	struct strv route = strv_make(msg->route, strnlen(msg->route, sizeof(msg->route)));
	struct strv address = strv_make(msg->address, strnlen(msg->address, sizeof(msg->address)));
	struct strv version = strv_make(msg->version, strnlen(msg->version, sizeof(msg->version)));
	struct buf b;

	assert(out_size >= ANNOUNCE_DATAGRAM_MAX);
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
	buf_append_char(&b, '\n');
	/* Cannot happen with the caps above (under 400 bytes); kept as a guard for new keys. */
	if (buf_overflowed(&b)) {
		*error_r = "announce datagram too large";
		return -1;
	}
	*len_r = b.len;
	return 0;
}

int announce_parse(const void *data, size_t len, struct announce_msg *msg_r, const char **error_r)
{
	const char *p = data;
	struct strv keys[ANNOUNCE_KEYS_MAX];
	size_t key_count = 0;
	unsigned seen = 0;
	struct strv rest, line;

	if (len == 0) {
		*error_r = "empty datagram";
		return -1;
	}
	if (len > ANNOUNCE_DATAGRAM_MAX) {
		*error_r = "datagram too large";
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c != '\n' && (c < 0x20 || c > 0x7e)) {
			*error_r = "control or non-ASCII byte";
			return -1;
		}
	}
	/* Every line ends in '\n', the last one too: a datagram cut short anywhere is either
	   missing it or missing keys. */
	if (p[len - 1] != '\n') {
		*error_r = "truncated: no final newline";
		return -1;
	}
	rest = strv_make(p, len);
	strv_split(rest, '\n', &line, &rest);
	if (!strv_eq_cstr(line, ANNOUNCE_MAGIC)) {
		*error_r = strv_starts_with(line, STRV_LIT("TANDEM-ANNOUNCE/"))
		               ? "unsupported announce version"
		               : "not a Tandem announce datagram";
		return -1;
	}
	memset(msg_r, 0, sizeof(*msg_r));
	while (rest.len > 0) {
		struct strv key, value;
		int f;

		strv_split(rest, '\n', &line, &rest);
		if (line.len == 0) {
			*error_r = "empty line";
			return -1;
		}
		if (key_count == ANNOUNCE_KEYS_MAX) {
			*error_r = "too many lines";
			return -1;
		}
		if (!strv_split(line, '=', &key, &value)) {
			*error_r = "line without '='";
			return -1;
		}
		if (!key_valid(key)) {
			*error_r = "invalid key: 1-16 of a-z 0-9 _, starting with a letter";
			return -1;
		}
		for (size_t i = 0; i < key_count; i++) {
			if (strv_eq(keys[i], key)) {
				*error_r = "duplicate key";
				return -1;
			}
		}
		keys[key_count++] = key;
		for (f = 0; f < F_COUNT && !strv_eq_cstr(key, fields[f].key); f++)
			;
		if (f == F_COUNT) {
			/* Newer senders of version 1 may add keys; old receivers skip them. */
			if (!unknown_value_valid(value)) {
				*error_r =
				    "invalid value: 1-128 printable characters without spaces";
				return -1;
			}
			continue;
		}
		if (!field_set((enum field)f, value, msg_r)) {
			*error_r = fields[f].bad;
			return -1;
		}
		seen |= 1u << f;
	}
	for (int f = 0; f < F_COUNT; f++) {
		if ((seen & (1u << f)) == 0) {
			*error_r = fields[f].missing;
			return -1;
		}
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
	if (announce_format(&msg, out, sizeof(out), &len, &error) < 0) {
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
	if (set->interval_ms < 10) {
		*error_r = "announce interval must be at least 10ms";
		return -1;
	}
	/* A field the format cannot carry (a route too long, say) is a configuration problem:
	   report it now rather than log it every interval. */
	memset(&probe, 0, sizeof(probe));
	fill(&probe, ctx);
	if (announce_format(&probe, out, sizeof(out), &len, &ferr) < 0) {
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
	mem_free(senderp);
}

/* ---------------------------------------------------------------- receiver */

struct announce_receiver {
	int fd;
	struct ip_mreq mreq;
	char cluster[ANNOUNCE_NAME_MAX + 1];
	struct announce_receiver_stats stats;
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

int announce_receiver_next(struct announce_receiver *r, uint64_t timeout_ms,
                           struct announce_msg *msg_r, struct sockaddr_in *from_r,
                           const char **error_r)
{
	uint64_t deadline = clock_mono_ms() + timeout_ms;
	/* One byte more than the cap, and MSG_TRUNC for the real size: an oversized datagram is
	   recognised as such, not parsed in part. */
	char data[ANNOUNCE_DATAGRAM_MAX + 1];
	const char *perr;

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
			r->stats.invalid++;
			r->stats.last_invalid = "datagram too large";
			continue;
		}
		if (announce_parse(data, (size_t)n, msg_r, &perr) < 0) {
			r->stats.invalid++;
			r->stats.last_invalid = perr;
			continue;
		}
		if (strcmp(msg_r->cluster, r->cluster) != 0) {
			r->stats.other_cluster++;
			continue;
		}
		r->stats.accepted++;
		if (from_r != NULL)
			*from_r = from;
		return 1;
	}
}

void announce_receiver_get_stats(const struct announce_receiver *receiver,
                                 struct announce_receiver_stats *stats_r)
{
	*stats_r = receiver->stats;
}

void announce_receiver_close(struct announce_receiver **receiverp)
{
	struct announce_receiver *r = receiverp == NULL ? NULL : *receiverp;
	if (r == NULL)
		return;
	(void)setsockopt(r->fd, IPPROTO_IP, IP_DROP_MEMBERSHIP, &r->mreq, sizeof(r->mreq));
	close(r->fd);
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
