/* SPDX-License-Identifier: MIT */
/* A fixed-size table of failure counters hashed by key, one mutex. */
#include "throttle.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "mem.h"

struct slot {
	char key[160];
	unsigned count;
	time_t window_start;
};

struct throttle {
	pthread_mutex_t lock;
	unsigned limit, window_s, nslots;
	struct slot *slots;
};

struct throttle *throttle_create(unsigned limit, unsigned window_s, unsigned slots)
{
	struct throttle *t = mem_calloc(1, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
	t->limit = limit;
	t->window_s = window_s;
	t->nslots = slots;
	t->slots = mem_calloc(slots, sizeof(*t->slots));
	return t;
}

void throttle_destroy(struct throttle **tp)
{
	struct throttle *t = *tp;
	if (t == NULL)
		return;
	pthread_mutex_destroy(&t->lock);
	mem_free(&t->slots);
	mem_free(tp);
}

static struct slot *slot_for(struct throttle *t, const char *key)
{
	unsigned h = 2166136261u;
	for (const char *p = key; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return &t->slots[h % t->nslots];
}

time_t throttle_check(struct throttle *t, const char *key, time_t now)
{
	time_t wait = 0;
	pthread_mutex_lock(&t->lock);
	struct slot *s = slot_for(t, key);
	if (strncmp(s->key, key, sizeof(s->key) - 1) == 0 && s->count >= t->limit) {
		time_t end = s->window_start + (time_t)t->window_s;
		if (now < end)
			wait = end - now;
	}
	pthread_mutex_unlock(&t->lock);
	return wait;
}

void throttle_fail(struct throttle *t, const char *key, time_t now)
{
	pthread_mutex_lock(&t->lock);
	struct slot *s = slot_for(t, key);
	if (strncmp(s->key, key, sizeof(s->key) - 1) != 0 ||
	    now >= s->window_start + (time_t)t->window_s) {
		snprintf(s->key, sizeof(s->key), "%s", key);
		s->count = 0;
		s->window_start = now;
	}
	s->count++;
	pthread_mutex_unlock(&t->lock);
}
