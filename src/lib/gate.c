/* SPDX-License-Identifier: MIT */
/* One mutex and one condition variable on CLOCK_MONOTONIC, so a wall-clock step neither
   cuts a wait short nor stretches it. */
#include "gate.h"

#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "mem.h"

struct gate {
	pthread_mutex_t lock;
	pthread_cond_t freed;
	unsigned slots, max_waiting, inside, waiting;
	uint64_t entered, timeouts, turned_away;
};

struct gate *gate_create(unsigned slots, unsigned max_waiting)
{
	struct gate *g = mem_calloc(1, sizeof(*g));
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&g->freed, &attr);
	pthread_condattr_destroy(&attr);
	pthread_mutex_init(&g->lock, NULL);
	g->slots = slots > 0 ? slots : 1;
	g->max_waiting = max_waiting;
	return g;
}

void gate_destroy(struct gate **gp)
{
	struct gate *g = *gp;
	if (g == NULL)
		return;
	pthread_cond_destroy(&g->freed);
	pthread_mutex_destroy(&g->lock);
	mem_free(gp);
}

bool gate_enter(struct gate *g, uint64_t timeout_ms)
{
	bool in = false;
	struct timespec end;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += (time_t)(timeout_ms / 1000);
	end.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&g->lock);
	if (g->inside < g->slots) {
		in = true;
	} else if (g->waiting >= g->max_waiting) {
		g->turned_away++;
	} else {
		int r = 0;
		g->waiting++;
		while (g->inside >= g->slots && r != ETIMEDOUT)
			r = pthread_cond_timedwait(&g->freed, &g->lock, &end);
		g->waiting--;
		in = g->inside < g->slots;
		if (!in)
			g->timeouts++;
	}
	if (in) {
		g->inside++;
		g->entered++;
	}
	pthread_mutex_unlock(&g->lock);
	return in;
}

void gate_leave(struct gate *g)
{
	pthread_mutex_lock(&g->lock);
	g->inside--;
	pthread_cond_signal(&g->freed);
	pthread_mutex_unlock(&g->lock);
}

void gate_get_stats(struct gate *g, struct gate_stats *stats_r)
{
	pthread_mutex_lock(&g->lock);
	stats_r->slots = g->slots;
	stats_r->inside = g->inside;
	stats_r->waiting = g->waiting;
	stats_r->entered = g->entered;
	stats_r->timeouts = g->timeouts;
	stats_r->turned_away = g->turned_away;
	pthread_mutex_unlock(&g->lock);
}
