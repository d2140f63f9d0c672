/* SPDX-License-Identifier: MIT */
/* The thread that turns the nodes' multicast announcements into members (discovery.c). */
#ifndef TANDEM_LB_DISCOVERY_LISTENER_H
#define TANDEM_LB_DISCOVERY_LISTENER_H

#include "announce.h"
#include "discovery.h"

struct discovery_listener;

/* Joins the group of announce (interval_ms ignored; key required) and starts a thread that
   feeds every authenticated datagram of set->cluster into a discovery over b and expires
   silent members. Returns 0,
   or -1 with *error_r (valid until the next call on this thread) and nothing started. */
int discovery_listener_start(struct balancer *b, const struct announce_settings *announce,
                             const struct discovery_settings *set, struct discovery_listener **dl_r,
                             const char **error_r);
/* Stops the thread (within 250 ms), removes the learned members, frees, sets *dl = NULL.
   NULL is a no-op. */
void discovery_listener_stop(struct discovery_listener **dl);
/* Members learned now (thread-safe). */
size_t discovery_listener_count(struct discovery_listener *dl);
/* Datagrams accepted and dropped by reason (thread-safe, for /metrics). */
void discovery_listener_get_stats(struct discovery_listener *dl,
                                  struct announce_receiver_stats *stats_r);

#endif
