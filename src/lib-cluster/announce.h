/* SPDX-License-Identifier: MIT */
/* Multicast announce: the datagram format, a sender thread for nodes and a receiver socket. */
#ifndef TANDEM_ANNOUNCE_H
#define TANDEM_ANNOUNCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netinet/in.h>

/* The format is specified in docs/internals/cluster.md, "Multicast announce". */
#define ANNOUNCE_MAGIC         "TANDEM-ANNOUNCE/1"
#define ANNOUNCE_DATAGRAM_MAX  1024 /* bytes in one datagram, everything included */
#define ANNOUNCE_KEYS_MAX      24   /* key=value lines after the magic line */
#define ANNOUNCE_KEY_MAX       16
#define ANNOUNCE_VALUE_MAX     128 /* for keys this version does not know */
#define ANNOUNCE_NAME_MAX      64  /* cluster and route */
#define ANNOUNCE_ADDRESS_MAX   80
#define ANNOUNCE_VERSION_MAX   32
#define ANNOUNCE_DEFAULT_GROUP "239.255.67.80:6780"

enum announce_state {
	ANNOUNCE_READY,
	ANNOUNCE_DRAINING,
};

/* One node's announcement. Strings are NUL-terminated in place, so a message can be copied
   and kept without owning anything. */
struct announce_msg {
	char cluster[ANNOUNCE_NAME_MAX + 1];    /* 1-64 of A-Z a-z 0-9 - _ */
	char route[ANNOUNCE_NAME_MAX + 1];      /* same characters */
	char address[ANNOUNCE_ADDRESS_MAX + 1]; /* host:port or [v6]:port, port 1-65535 */
	enum announce_state state;
	uint64_t load;                          /* open HTTP connections (tandemd) */
	char version[ANNOUNCE_VERSION_MAX + 1]; /* 1-32 of A-Z a-z 0-9 . + - _ */
	uint64_t started_ms;                    /* node start, ms since the epoch */
	uint64_t seq;                           /* 1, 2, … per sender; restarts with started_ms */
};

/* "ready" | "draining". */
const char *announce_state_name(enum announce_state state);
/* Copies value (NULL = "") into a string field of struct announce_msg of field_size bytes.
   A value that does not fit leaves the field empty, so announce_format() refuses the message
   and names the field instead of sending a truncated value. */
void announce_field_set(char *field, size_t field_size, const char *value);
/* True if name is a valid cluster name or route (1-64 of A-Z a-z 0-9 - _); NULL is not. */
bool announce_name_valid(const char *name);

/* Writes msg as one datagram into out (out_size >= ANNOUNCE_DATAGRAM_MAX) and sets *len_r (no
   NUL is counted or needed on the wire; out is NUL-terminated anyway). Fields are checked with
   the parser's rules, so whatever this writes, announce_parse() accepts. Returns 0, or -1 with
   *error_r a static message naming the bad field. */
int announce_format(const struct announce_msg *msg, char *out, size_t out_size, size_t *len_r,
                    const char **error_r);
/* Parses one datagram strictly: wrong magic or version, bytes outside printable ASCII and
   '\n', a missing final '\n', empty or malformed lines, duplicate keys, missing required keys,
   values outside their character set or size, more than ANNOUNCE_KEYS_MAX lines or
   ANNOUNCE_DATAGRAM_MAX bytes are all errors. Well-formed keys this version does not know are
   skipped. Returns 0 with *msg_r filled, or -1 with *error_r a static message (*msg_r is then
   unspecified). Never reads past data[len). */
int announce_parse(const void *data, size_t len, struct announce_msg *msg_r, const char **error_r);

/* Where to send or listen. */
struct announce_settings {
	const char *group;     /* "239.255.67.80:6780": an IPv4 multicast group and a port > 0 */
	const char *interface; /* IPv4 address of the interface to send on / join on; NULL = the
	                          routing table's choice (sender) or INADDR_ANY (receiver) */
	uint64_t interval_ms;  /* sender only: between datagrams, >= 10 */
};

/* Checks group and interface without touching the network (for config checks; interval_ms is
   the sender's business). Returns 0, or -1 with *error_r a message valid until the next call
   on this thread. */
int announce_settings_check(const struct announce_settings *set, const char **error_r);

/* ---------------------------------------------------------------- sender */

/* Fills *msg with the node's current state; called on the sender's thread before every
   datagram, so it must be thread-safe with respect to the node. seq is set by the sender. */
typedef void announce_fill_fn(struct announce_msg *msg, void *ctx);

struct announce_sender;

/* Opens the socket (IP_MULTICAST_IF from set->interface, TTL 1, loopback on), checks that
   fill's message formats, and starts a thread that sends one datagram at once and then one
   every interval. Send failures are logged once per run of failures, not per datagram.
   Returns 0, or -1 with *error_r (valid until the next call on this thread) and nothing
   started. */
int announce_sender_start(const struct announce_settings *set, announce_fill_fn *fill, void *ctx,
                          struct announce_sender **sender_r, const char **error_r);
/* Datagrams sent so far (thread-safe). */
uint64_t announce_sender_sent(struct announce_sender *sender);
/* Wakes the thread at once, joins it, closes the socket, frees and sets *sender = NULL.
   NULL or *sender == NULL is a no-op. fill is never called after this returns. */
void announce_sender_stop(struct announce_sender **sender);

/* ---------------------------------------------------------------- receiver */

struct announce_receiver_stats {
	uint64_t accepted;        /* datagrams of our cluster returned to the caller */
	uint64_t other_cluster;   /* well-formed datagrams of other clusters, ignored */
	uint64_t invalid;         /* datagrams announce_parse() rejected, ignored */
	const char *last_invalid; /* the parser's message for the last of those, or NULL */
};

struct announce_receiver;

/* Opens a UDP socket bound to the group's address and port (SO_REUSEADDR, so several
   listeners can share a host) and joins the group on set->interface (or INADDR_ANY).
   set->interval_ms is ignored. Only datagrams whose cluster equals cluster are returned.
   Returns 0, or -1 with *error_r (valid until the next call on this thread). A receiver
   belongs to one thread at a time. */
int announce_receiver_open(const struct announce_settings *set, const char *cluster,
                           struct announce_receiver **receiver_r, const char **error_r);
/* The socket (non-blocking), for callers that poll it in an event loop and then call
   announce_receiver_next() with timeout 0. */
int announce_receiver_fd(const struct announce_receiver *receiver);
/* Waits up to timeout_ms (0 = only what is already queued) for the next datagram of the
   cluster; invalid datagrams and other clusters are counted and skipped. Returns 1 with
   *msg_r filled and, when from_r is not NULL, the sender's address in *from_r; 0 when the
   time is up; -1 on a socket error with *error_r. */
int announce_receiver_next(struct announce_receiver *receiver, uint64_t timeout_ms,
                           struct announce_msg *msg_r, struct sockaddr_in *from_r,
                           const char **error_r);
void announce_receiver_get_stats(const struct announce_receiver *receiver,
                                 struct announce_receiver_stats *stats_r);
/* Leaves the group, closes, frees and sets *receiver = NULL; NULL is a no-op. */
void announce_receiver_close(struct announce_receiver **receiver);

/* The HTTP address to use for msg: msg->address, except that an unspecified host (0.0.0.0 or
   [::], a node listening on every interface) is replaced by from's IPv4 address. Writes a
   NUL-terminated string into out (out_size >= ANNOUNCE_ADDRESS_MAX + 1). */
void announce_effective_address(const struct announce_msg *msg, const struct sockaddr_in *from,
                                char *out, size_t out_size);

#endif
