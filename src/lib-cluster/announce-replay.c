/* SPDX-License-Identifier: MIT */
/* Time window and per-sender sequence numbers, so a captured announcement cannot be sent again. */
#include "announce-replay.h"

#include <stdbool.h>
#include <string.h>

#include "array.h"
#include "mem.h"

struct sender {
	char route[ANNOUNCE_NAME_MAX + 1];
	uint64_t started_ms;
	uint64_t seq;          /* the highest accepted */
	uint64_t last_mono_ms; /* when that was */
};

struct announce_replay {
	struct array senders; /* struct sender, in no order */
};

struct announce_replay *announce_replay_create(void)
{
	struct announce_replay *r = mem_calloc(1, sizeof(*r));
	array_init(&r->senders, sizeof(struct sender));
	return r;
}

void announce_replay_destroy(struct announce_replay **rp)
{
	struct announce_replay *r = *rp;
	if (r == NULL)
		return;
	array_free(&r->senders);
	mem_free(rp);
}

size_t announce_replay_count(const struct announce_replay *r)
{
	return r->senders.count;
}

static void forget_old(struct announce_replay *r, uint64_t now_mono_ms)
{
	for (size_t i = r->senders.count; i > 0; i--) {
		struct sender *s = array_idx(&r->senders, i - 1);
		if (now_mono_ms >= s->last_mono_ms + ANNOUNCE_REPLAY_KEEP_MS)
			array_delete(&r->senders, i - 1);
	}
}

int announce_replay_check(struct announce_replay *r, const struct announce_msg *msg,
                          uint64_t now_wall_ms, uint64_t now_mono_ms, enum announce_drop *drop_r,
                          const char **error_r)
{
	struct sender *s = NULL;

	/* The window keeps the table small and makes forgetting safe: a datagram older than
	   the window is refused here whether or not its sender is still remembered. */
	bool past = msg->time_ms < now_wall_ms;
	if ((past ? now_wall_ms - msg->time_ms : msg->time_ms - now_wall_ms) > ANNOUNCE_WINDOW_MS) {
		*drop_r = ANNOUNCE_DROP_STALE;
		*error_r = past ? "sent more than 30 s ago by this host's clock (a replay, or "
		                  "clocks not synchronised)"
		                : "sent more than 30 s in the future by this host's clock (clocks "
		                  "not synchronised)";
		return -1;
	}
	for (size_t i = 0; i < r->senders.count; i++) {
		struct sender *e = array_idx(&r->senders, i);
		if (e->started_ms == msg->started_ms && strcmp(e->route, msg->route) == 0) {
			s = e;
			break;
		}
	}
	if (s != NULL && msg->seq <= s->seq) {
		*drop_r = ANNOUNCE_DROP_REPLAY;
		*error_r = "a sequence number already seen from this sender (a replay)";
		return -1;
	}
	if (s == NULL) {
		forget_old(r, now_mono_ms);
		if (r->senders.count >= ANNOUNCE_SENDERS_MAX) {
			*drop_r = ANNOUNCE_DROP_SENDERS;
			*error_r = "too many senders within two minutes";
			return -1;
		}
		s = array_push(&r->senders);
		memset(s, 0, sizeof(*s));
		announce_field_set(s->route, sizeof(s->route), msg->route);
		s->started_ms = msg->started_ms;
	}
	s->seq = msg->seq;
	s->last_mono_ms = now_mono_ms;
	return 0;
}
