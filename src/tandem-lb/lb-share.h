/* SPDX-License-Identifier: MIT */
/* The manager's state shared between peer balancers through Redis (docs/internals/
   lb-manager.md, "Sharing between balancers"): one thread per balancer publishes its changes
   and follows its peers'. */
#ifndef TANDEM_LB_SHARE_H
#define TANDEM_LB_SHARE_H

#include <stdint.h>

#include "redis-url.h"
#include "strv.h"

struct lb_state;
struct lb_share;

/* Called on the share's thread with a peer's state: text is the state file's JSON (valid
   during the call; lb_state_parse() accepted it). changes is how many of this balancer's own
   changes (lb_share_changed()) had been shared before text was read: a later one is still on
   its way, is newer, and supersedes text (manager_apply_shared() drops text then). */
typedef void lb_share_apply_fn(struct strv text, uint64_t changes, void *ctx);

struct lb_share_settings {
	const char *store; /* the Redis URL ([cluster] store), for logs */
	/* the store with its credentials and TLS settings (lb_config's store_url); NULL = parse
	   store (then without the store_* keys) */
	const struct redis_url *url;
	const char *cluster;      /* [cluster] name: the keys are tandem:<cluster>:v1:lb:… */
	const char *id;           /* this balancer in logs and in Redis; NULL = "<host>-<pid>" */
	unsigned poll_ms;         /* longest time between two version checks; 0 = 500 */
	unsigned timeout_ms;      /* per Redis command and connect attempt; 0 = 1000 */
	lb_share_apply_fn *apply; /* required */
	void *ctx;
};

/* A share that does not run yet. The settings (and *url) are copied. Returns NULL with a
   message (valid until the next call on this thread) when store is not a Redis URL. */
struct lb_share *lb_share_create(const struct lb_share_settings *set, const char **error_r);
/* At start, before s is used by anything else: one synchronous exchange with Redis.
   - Redis holds a shared state: s takes it (and writes its file), returns 1. The shared
     state wins over the local file, so a balancer that was down catches up at start.
   - Redis holds none: s is published as the first shared state, returns 0.
   - Redis does not answer, or holds a state this build cannot read: s stays, returns 0
     (logged); the thread keeps trying once started.
   Takes at most a few connect and command timeouts. */
int lb_share_load(struct lb_share *sh, struct lb_state *s);
/* Starts the thread. Returns 0, or -1 with a message. */
int lb_share_start(struct lb_share *sh, const char **error_r);
/* On the thread that owns s, after each change made on this balancer (the manager's
   on_change): queues s to be published. changes counts the changes made here so far
   (manager_changes()). Returns at once; only the share's thread talks to Redis. */
void lb_share_changed(struct lb_share *sh, const struct lb_state *s, uint64_t changes);
/* Stops the thread (a queued change gets one last attempt if Redis answered lately) and
   frees. NULL is a no-op; sets *sh to NULL. */
void lb_share_destroy(struct lb_share **sh);

#endif
