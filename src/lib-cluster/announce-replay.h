/* SPDX-License-Identifier: MIT */
/* A receiver's defence against old and replayed announcements: a time window and the newest
   sequence number accepted per sender. */
#ifndef TANDEM_ANNOUNCE_REPLAY_H
#define TANDEM_ANNOUNCE_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "announce.h"

/* A datagram's time may differ from the receiver's clock by this much, either way. */
#define ANNOUNCE_WINDOW_MS 30000
/* A sender is forgotten this long after its last accepted datagram: by then every datagram
   it sent before is outside the window, so forgetting reopens nothing. */
#define ANNOUNCE_REPLAY_KEEP_MS (2 * ANNOUNCE_WINDOW_MS + 1000)
/* Senders remembered at once; only authenticated datagrams add one. */
#define ANNOUNCE_SENDERS_MAX 1024

struct announce_replay;

struct announce_replay *announce_replay_create(void);
/* Frees and sets *r = NULL; NULL is a no-op. */
void announce_replay_destroy(struct announce_replay **r);

/* Decides on an authenticated message received at wall-clock time now_wall_ms and monotonic
   time now_mono_ms. A sender is (route, started): one run of one node; its datagrams must
   come with strictly increasing seq. Returns 0 and remembers msg, or -1 with *drop_r
   ANNOUNCE_DROP_STALE (time more than ANNOUNCE_WINDOW_MS off now_wall_ms), _REPLAY (seq not
   above the last accepted of its sender) or _SENDERS (ANNOUNCE_SENDERS_MAX senders heard
   within ANNOUNCE_REPLAY_KEEP_MS) and *error_r a static message. */
int announce_replay_check(struct announce_replay *r, const struct announce_msg *msg,
                          uint64_t now_wall_ms, uint64_t now_mono_ms, enum announce_drop *drop_r,
                          const char **error_r);
/* Senders remembered now. */
size_t announce_replay_count(const struct announce_replay *r);

#endif
