/* SPDX-License-Identifier: MIT */
/* Multicast announce: the authenticated datagram format, a sender thread for nodes and a
   receiver socket. */
#ifndef TANDEM_ANNOUNCE_H
#define TANDEM_ANNOUNCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netinet/in.h>

#include "announce-key.h"

/* The format is specified in docs/internals/cluster.md, "Multicast announce". Version 1 had
   no MAC; its datagrams are dropped as ANNOUNCE_DROP_VERSION. */
#define ANNOUNCE_MAGIC         "TANDEM-ANNOUNCE/2"
#define ANNOUNCE_DATAGRAM_MAX  1024 /* bytes in one datagram, everything included */
#define ANNOUNCE_KEYS_MAX      24   /* key=value lines between the magic and the mac line */
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
	uint64_t time_ms;                       /* when sent, ms since the epoch (sender's clock) */
};

/* Why a receiver dropped a datagram; each has a counter (announce_receiver_get_stats()). */
enum announce_drop {
	ANNOUNCE_DROP_MALFORMED,     /* not a well-formed datagram of this version */
	ANNOUNCE_DROP_VERSION,       /* another format version, e.g. 1 (unauthenticated) */
	ANNOUNCE_DROP_BAD_MAC,       /* no mac line or a wrong MAC: not sent with our key */
	ANNOUNCE_DROP_STALE,         /* time outside the window (announce-replay.h) */
	ANNOUNCE_DROP_REPLAY,        /* a sequence number its sender already used */
	ANNOUNCE_DROP_SENDERS,       /* too many senders remembered */
	ANNOUNCE_DROP_OTHER_CLUSTER, /* authenticated, but of another cluster name */
	ANNOUNCE_DROP_COUNT,
};

/* "malformed", "version", "bad_mac", "stale", "replay", "senders", "other_cluster". */
const char *announce_drop_name(enum announce_drop drop);

/* "ready" | "draining". */
const char *announce_state_name(enum announce_state state);
/* Copies value (NULL = "") into a string field of struct announce_msg of field_size bytes.
   A value that does not fit leaves the field empty, so announce_format() refuses the message
   and names the field instead of sending a truncated value. */
void announce_field_set(char *field, size_t field_size, const char *value);
/* True if name is a valid cluster name or route (1-64 of A-Z a-z 0-9 - _); NULL is not. */
bool announce_name_valid(const char *name);

/* Writes msg as one datagram into out (out_size >= ANNOUNCE_DATAGRAM_MAX), its last line the
   MAC under key (key->len > 0) of everything before it, and sets *len_r (no NUL is counted or
   needed on the wire; out is NUL-terminated anyway). Fields are checked with the parser's
   rules, so whatever this writes, announce_parse() with the same key accepts. Returns 0, or -1
   with *error_r a static message naming the bad field. */
int announce_format(const struct announce_msg *msg, const struct announce_key *key, char *out,
                    size_t out_size, size_t *len_r, const char **error_r);
/* Checks one datagram's MAC under key, then parses it strictly. In this order: an empty
   datagram or one over ANNOUNCE_DATAGRAM_MAX bytes, bytes outside printable ASCII and '\n', a
   missing final '\n' (ANNOUNCE_DROP_MALFORMED); a first line other than ANNOUNCE_MAGIC
   (_VERSION if it is "TANDEM-ANNOUNCE/…", else _MALFORMED); a last line that is not "mac="
   and 64 lowercase hex digits, or a MAC that does not match (_BAD_MAC); then, on
   authenticated bytes only, empty or malformed lines, duplicate keys, a "mac" key elsewhere,
   missing required keys, values outside their character set or size, more than
   ANNOUNCE_KEYS_MAX lines (_MALFORMED). Well-formed keys this version does not know are
   skipped. Time and replays are the receiver's business (announce-replay.h). Returns 0 with
   *msg_r filled, or -1 with *drop_r (if not NULL) the reason and *error_r a static message
   (*msg_r is then unspecified). Never reads past data[len). */
int announce_parse(const void *data, size_t len, const struct announce_key *key,
                   struct announce_msg *msg_r, enum announce_drop *drop_r, const char **error_r);

/* Where to send or listen, and with which key. */
struct announce_settings {
	const char *group;     /* "239.255.67.80:6780": an IPv4 multicast group and a port > 0 */
	const char *interface; /* IPv4 address of the interface to send on / join on; NULL = the
	                          routing table's choice (sender) or INADDR_ANY (receiver) */
	uint64_t interval_ms;  /* sender only: between datagrams, >= 10 */
	const struct announce_key *key; /* signs (sender) or verifies (receiver); copied; a
	                                   sender or receiver without one is refused */
	bool log_drops; /* receiver only: log dropped datagrams (at most one line per 10 s) */
};

/* Checks group and interface without touching the network (for config checks; interval_ms and
   the key are the sender's and receiver's business). Returns 0, or -1 with *error_r a message
   valid until the next call on this thread. */
int announce_settings_check(const struct announce_settings *set, const char **error_r);

/* ---------------------------------------------------------------- sender */

/* Fills *msg with the node's current state; called on the sender's thread before every
   datagram, so it must be thread-safe with respect to the node. seq and time_ms are set by the
   sender. */
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
	uint64_t accepted;                     /* datagrams returned to the caller */
	uint64_t dropped[ANNOUNCE_DROP_COUNT]; /* ignored ones, by reason */
	const char *last_problem; /* why the last one other than _OTHER_CLUSTER was dropped (a
	                             static message), or NULL */
};

struct announce_receiver;

/* Opens a UDP socket bound to the group's address and port (SO_REUSEADDR, so several
   listeners can share a host) and joins the group on set->interface (or INADDR_ANY).
   set->interval_ms is ignored. Only datagrams authenticated with set->key, of cluster, within
   the time window and not replayed are returned (announce-replay.h). Returns 0, or -1 with
   *error_r (valid until the next call on this thread). A receiver belongs to one thread at a
   time; announce_receiver_get_stats() may be called from any. */
int announce_receiver_open(const struct announce_settings *set, const char *cluster,
                           struct announce_receiver **receiver_r, const char **error_r);
/* The socket (non-blocking), for callers that poll it in an event loop and then call
   announce_receiver_next() with timeout 0. */
int announce_receiver_fd(const struct announce_receiver *receiver);
/* Waits up to timeout_ms (0 = only what is already queued) for the next datagram of the
   cluster; every other datagram is counted by reason and skipped. Returns 1 with
   *msg_r filled and, when from_r is not NULL, the sender's address in *from_r; 0 when the
   time is up; -1 on a socket error with *error_r. */
int announce_receiver_next(struct announce_receiver *receiver, uint64_t timeout_ms,
                           struct announce_msg *msg_r, struct sockaddr_in *from_r,
                           const char **error_r);
/* Thread-safe. */
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
