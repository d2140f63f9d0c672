/* SPDX-License-Identifier: MIT */
/* The IMAP connection pool: a mutex over a small idle list. Connects and logouts happen
   outside the lock, so one slow server does not stall the other workers' gets. */
#include "imap-pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "mem.h"

#define USER_MAX 320

struct idle {
	struct idle *next;
	char user[USER_MAX];
	struct imap_client *client;
	uint64_t since_ms;
};

struct imap_pool {
	struct imap_pool_settings set;
	char *master_user, *master_password;
	pthread_mutex_t lock;
	pthread_cond_t freed;
	struct idle *idle; /* most recently used first */
	unsigned open;
	uint64_t down_until_ms;
	struct mail_error down;
};

struct imap_pool *imap_pool_create(const struct imap_pool_settings *settings)
{
	struct imap_pool *p = mem_calloc(1, sizeof(*p));
	p->set = *settings;
	p->master_user = mem_strdup(settings->master_user != NULL ? settings->master_user : "");
	p->master_password =
	    mem_strdup(settings->master_password != NULL ? settings->master_password : "");
	p->set.master_user = p->master_user[0] != '\0' ? p->master_user : NULL;
	p->set.master_password = p->master_password;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->freed, NULL);
	return p;
}

void imap_pool_destroy(struct imap_pool **pool)
{
	struct imap_pool *p = *pool;
	if (p == NULL)
		return;
	while (p->idle != NULL) {
		struct idle *i = p->idle;
		p->idle = i->next;
		imap_client_destroy(&i->client);
		mem_free(&i);
	}
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->freed);
	explicit_bzero(p->master_password, strlen(p->master_password));
	mem_free(&p->master_password);
	mem_free(&p->master_user);
	mem_free(&p);
	*pool = NULL;
}

/* Unlinks and returns the idle entry after *link's chain matching user (NULL = any: the
   oldest); NULL when none. Under the lock. */
static struct idle *take_idle(struct imap_pool *p, const char *user)
{
	struct idle **link = &p->idle, **found = NULL;
	for (; *link != NULL; link = &(*link)->next)
		if (user == NULL || strcmp((*link)->user, user) == 0) {
			found = link;
			if (user != NULL)
				break;
		}
	if (found == NULL)
		return NULL;
	struct idle *i = *found;
	*found = i->next;
	return i;
}

/* Closes a connection that held a slot and frees the slot. Not under the lock. */
static void close_client(struct imap_pool *p, struct imap_client **client)
{
	imap_client_destroy(client);
	pthread_mutex_lock(&p->lock);
	p->open--;
	pthread_cond_signal(&p->freed);
	pthread_mutex_unlock(&p->lock);
}

/* Takes a slot for a new connection (closing another user's idle one if the cap is reached,
   or waiting for one). Under the lock; 0 or -1 with err (MAIL_BUSY). *evict_r: an idle entry
   to close after unlocking. */
static int reserve(struct imap_pool *p, struct idle **evict_r, struct mail_error *err)
{
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += (time_t)(p->set.wait_ms / 1000);
	deadline.tv_nsec += (long)(p->set.wait_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	*evict_r = NULL;
	while (p->open >= p->set.max_connections) {
		struct idle *victim = take_idle(p, NULL);
		if (victim != NULL) {
			/* its slot passes to us: open stays */
			*evict_r = victim;
			return 0;
		}
		if (pthread_cond_timedwait(&p->freed, &p->lock, &deadline) == ETIMEDOUT &&
		    p->open >= p->set.max_connections) {
			err->kind = MAIL_BUSY;
			snprintf(err->message, sizeof(err->message),
			         "all %u IMAP connections of this node are in use",
			         p->set.max_connections);
			return -1;
		}
	}
	p->open++;
	return 0;
}

int imap_pool_get(struct imap_pool *p, const char *user, struct imap_client **client_r,
                  bool *reused_r, struct mail_error *err)
{
	struct idle *mine = NULL, *evict = NULL;
	uint64_t now = clock_mono_ms();
	*reused_r = false;
	/* idle connections too old to trust (anyone's: the server may have logged them out) */
	pthread_mutex_lock(&p->lock);
	struct idle *expired = NULL, **link = &p->idle;
	while (*link != NULL) {
		struct idle *i = *link;
		if (now - i->since_ms > p->set.idle_ms) {
			*link = i->next;
			i->next = expired;
			expired = i;
		} else {
			link = &i->next;
		}
	}
	pthread_mutex_unlock(&p->lock);
	while (expired != NULL) {
		struct idle *i = expired;
		expired = i->next;
		close_client(p, &i->client);
		mem_free(&i);
	}
	pthread_mutex_lock(&p->lock);
	mine = take_idle(p, user);
	if (mine != NULL) {
		pthread_mutex_unlock(&p->lock);
		*client_r = mine->client;
		*reused_r = true;
		mem_free(&mine);
		return 0;
	}
	if (now < p->down_until_ms) {
		*err = p->down;
		pthread_mutex_unlock(&p->lock);
		return -1;
	}
	int r = reserve(p, &evict, err);
	pthread_mutex_unlock(&p->lock);
	if (r < 0)
		return -1;
	if (evict != NULL) {
		imap_client_destroy(&evict->client);
		mem_free(&evict);
	}
	struct imap_client *c = NULL;
	if (imap_client_connect(&p->set.url, p->set.timeout_ms, &c, err) < 0 ||
	    imap_client_login(c, user, p->set.master_user, p->set.master_password, err) < 0) {
		imap_client_destroy(&c);
		pthread_mutex_lock(&p->lock);
		p->open--;
		if (err->kind == MAIL_UNAVAILABLE) {
			p->down = *err;
			p->down_until_ms = clock_mono_ms() + p->set.down_backoff_ms;
		}
		pthread_cond_signal(&p->freed);
		pthread_mutex_unlock(&p->lock);
		return -1;
	}
	*client_r = c;
	return 0;
}

void imap_pool_put(struct imap_pool *p, const char *user, struct imap_client **client)
{
	struct imap_client *c = *client;
	*client = NULL;
	if (c == NULL)
		return;
	if (!imap_client_broken(c) && strlen(user) < USER_MAX) {
		unsigned mine = 0;
		pthread_mutex_lock(&p->lock);
		for (struct idle *i = p->idle; i != NULL; i = i->next)
			mine += strcmp(i->user, user) == 0;
		if (mine < p->set.max_idle_per_user) {
			struct idle *i = mem_calloc(1, sizeof(*i));
			snprintf(i->user, sizeof(i->user), "%s", user);
			i->client = c;
			i->since_ms = clock_mono_ms();
			i->next = p->idle;
			p->idle = i;
			pthread_cond_signal(&p->freed);
			pthread_mutex_unlock(&p->lock);
			return;
		}
		pthread_mutex_unlock(&p->lock);
	}
	close_client(p, &c);
}

unsigned imap_pool_open(struct imap_pool *p)
{
	pthread_mutex_lock(&p->lock);
	unsigned n = p->open;
	pthread_mutex_unlock(&p->lock);
	return n;
}
